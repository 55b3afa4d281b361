"""The single-neuron-per-layer network of 3Blue1Brown's backpropagation video.

Run it: python examples/neuron.py   (prints the generated gradient)
"""

import math

from symback import grad


def cost(w, b, a0, y):
    """Cost of one training example for the last layer: C0 = (a(L) - y)**2."""
    z = w * a0 + b
    a = 1 / (1 + math.exp(-z))
    return (a - y) ** 2


if __name__ == "__main__":
    dcost = grad(cost)
    print(dcost.source)
    print("gradient at w=0.5, b=0.1, a0=1.0, y=0.0:", dcost(0.5, 0.1, 1.0, 0.0))
