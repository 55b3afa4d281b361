"""Train the 4-layer, one-neuron-per-layer network of 3Blue1Brown by gradient descent.

Run it: python examples/train_neuron4.py

The network maps a0 -> a1 -> a2 -> a3 -> a4 with a sigmoid at every layer;
the cost of one example is C0 = (a4 - y)**2. `value_and_grad` gives the cost
and all ten partials from one forward and one backward pass.
"""

import math

from symback import value_and_grad


def cost(w1, b1, w2, b2, w3, b3, w4, b4, a0, y):
    z1 = w1 * a0 + b1
    a1 = 1 / (1 + math.exp(-z1))
    z2 = w2 * a1 + b2
    a2 = 1 / (1 + math.exp(-z2))
    z3 = w3 * a2 + b3
    a3 = 1 / (1 + math.exp(-z3))
    z4 = w4 * a3 + b4
    a4 = 1 / (1 + math.exp(-z4))
    return (a4 - y) ** 2


def train(steps: int = 1000, rate: float = 5.0) -> tuple[float, float]:
    """Fit the network to map 0.0 -> 0.9 and 1.0 -> 0.1; return (first, last) mean cost."""
    step = value_and_grad(cost, wrt=tuple(range(8)))  # the weights and biases, not a0 or y
    params = [1.0, 0.0, -1.5, 0.5, 1.5, -0.5, -1.5, 0.5]  # w1, b1, ..., w4, b4
    examples = [(0.0, 0.9), (1.0, 0.1)]
    first = None
    for _ in range(steps):
        total, grads = 0.0, [0.0] * 8
        for a0, y in examples:
            c, g = step(*params, a0, y)
            total += c
            grads = [acc + gi for acc, gi in zip(grads, g)]
        mean = total / len(examples)
        first = mean if first is None else first
        params = [p - rate * g / len(examples) for p, g in zip(params, grads)]
    return first, mean


if __name__ == "__main__":
    first, last = train()
    print(f"mean cost: {first:.4f} before training, {last:.2e} after")
    print(value_and_grad(cost, wrt=tuple(range(8))).source)
