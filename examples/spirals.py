"""Train a small neural network to tell two interleaved spirals apart.

Run it: python examples/spirals.py

The data set is made here: 200 points in the plane on two spiral arms that
wind around each other, labelled 0 and 1 by arm (seeded, so every run is the
same). No straight line separates them; a network with two tanh hidden
layers of 16 neurons (2-16-16-2) does. It is written in plain NumPy, the way
you would write it without symback, and trained by gradient descent with
momentum: `value_and_grad` gives the loss and the gradient with respect to
all six weight matrices and bias vectors from one forward and one backward
pass. The script prints the loss as it falls, the training accuracy, and
the generated gradient function. With matplotlib installed it also saves the
learned decision boundary as spirals.png in the current directory.
"""

import importlib.util
import time

import numpy as np

from symback import value_and_grad

PARAMETERS = ("W1", "b1", "W2", "b2", "W3", "b3")  # what training changes; not X or Y


def spirals(n: int = 200, turns: float = 1.75, noise: float = 0.1, seed: int = 0):
    """n points on two spiral arms, half on each; return (X, labels) with X of shape (n, 2)."""
    rng = np.random.default_rng(seed)
    per_arm = n // 2
    t = rng.uniform(0.1, 1.0, per_arm)  # how far along its arm a point is: radius and angle grow with it
    angle = turns * 2 * np.pi * t
    arms = []
    for arm in range(2):
        turned = angle + arm * np.pi  # the second arm is the first one rotated by half a turn
        points = 2 * t[:, None] * np.stack([np.cos(turned), np.sin(turned)], axis=1)
        arms.append(points + noise * rng.normal(size=points.shape))
    X = np.concatenate(arms)
    labels = np.repeat([0, 1], per_arm)
    return X, labels


def scores(W1, b1, W2, b2, W3, b3, X):
    """The network: one row of two class scores (logits) per row of X."""
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    return h2 @ W3 + b3


def loss(W1, b1, W2, b2, W3, b3, X, Y):
    """Mean softmax cross-entropy of the scores against the one-hot labels Y."""
    z = scores(W1, b1, W2, b2, W3, b3, X)
    # Subtracting each row's max changes no probability but keeps exp from overflowing.
    z = z - np.max(z, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * log_p) / X.shape[0]


def initial_parameters(widths=(2, 16, 16, 2), seed: int = 1) -> list:
    """W1, b1, W2, b2, W3, b3 for layers of these widths. The weights are random,
    scaled by 1/sqrt(fan-in) so that every weighted sum starts out of order 1 and
    tanh is not saturated (flat, with no gradient) from the first step; biases 0."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(widths, widths[1:]):
        params += [rng.normal(size=(n_in, n_out)) / np.sqrt(n_in), np.zeros(n_out)]
    return params


def accuracy(params, X, labels) -> float:
    """The fraction of points whose larger score is their own class."""
    return float(np.mean(np.argmax(scores(*params, X), axis=1) == labels))


def train(steps: int = 3000, rate: float = 0.1, momentum: float = 0.9, print_every: int = 0):
    """Fit the network to the spirals; return (first loss, last loss, training accuracy, parameters)."""
    X, labels = spirals()
    Y = np.eye(2)[labels]  # one-hot: row i is (1, 0) for arm 0, (0, 1) for arm 1
    step = value_and_grad(loss, wrt=PARAMETERS)
    params = initial_parameters()
    # Momentum: each update adds in `momentum` (0.9) times the previous one, so
    # the steps grow where the gradient keeps pointing the same way (along shallow
    # valleys) and cancel where it flips from side to side.
    velocity = [np.zeros_like(p) for p in params]
    first = None
    for i in range(steps):
        value, grads = step(*params, X, Y)
        first = float(value) if first is None else first
        if print_every and i % print_every == 0:
            print(f"step {i:5d}  loss {value:.4f}")
        velocity = [momentum * v - rate * g for v, g in zip(velocity, grads)]
        params = [p + v for p, v in zip(params, velocity)]
    last = float(loss(*params, X, Y))
    return first, last, accuracy(params, X, labels), params


def save_picture(params, path: str = "spirals.png") -> str:
    """Draw the classes the network assigns over the plane, with the data on top; return the path."""
    import matplotlib
    matplotlib.use("Agg")  # a file, no window
    import matplotlib.pyplot as plt

    X, labels = spirals()
    grid = np.linspace(-3, 3, 300)
    gx, gy = np.meshgrid(grid, grid)
    z = scores(*params, np.stack([gx.ravel(), gy.ravel()], axis=1))
    arm1 = (np.argmax(z, axis=1) == 1).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(gx, gy, arm1, levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#fdd0a2"])
    ax.scatter(*X[labels == 0].T, s=14, c="#08519c", label="arm 0")
    ax.scatter(*X[labels == 1].T, s=14, c="#d94801", label="arm 1")
    ax.set_aspect("equal")
    ax.set_title("Two spirals: decision boundary of a 2-16-16-2 tanh network")
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def main() -> None:
    start = time.perf_counter()
    first, last, acc, params = train(print_every=300)
    seconds = time.perf_counter() - start
    print(f"loss {first:.4f} before training, {last:.4f} after; "
          f"training accuracy {acc:.1%} (chance is 50%); {seconds:.1f} s")
    # Points the network never saw, from the same two spirals: did it learn
    # the spirals, or only the 200 training points?
    X_new, labels_new = spirals(seed=1)
    print(f"accuracy on 200 new points from the same spirals: {accuracy(params, X_new, labels_new):.1%}")
    if importlib.util.find_spec("matplotlib") is None:  # the picture is optional; the training is not
        print("matplotlib is not installed: no picture (pip install matplotlib to get spirals.png)")
    else:
        print(f"decision boundary saved to {save_picture(params)} in the current directory")
    # The gradient that did the training: the forward pass as written in
    # loss (scores inlined), then the chain rule backwards, one line per edge.
    source = value_and_grad(loss, wrt=PARAMETERS).source
    print()
    print("def value_and_grad_loss" + source.split("def value_and_grad_loss", 1)[1], end="")


if __name__ == "__main__":
    main()
