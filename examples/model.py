"""A model written as plain functions: no symback import, nothing runs at import.

examples/generated_workflow.py turns it into a gradient module with

    symback generate model.py:loss model.py:huber -o model_grad.py

symback reads this file without running it: `DELTA` is a number it can
compute, `predict` a top-level def, so both are resolved statically.
"""

DELTA = 1.0  # where the Huber loss turns from quadratic to linear


def predict(w, b, x):
    """The line w*x + b."""
    return w * x + b


def loss(w, b, xs, ys):
    """Mean squared error of the line on the points (xs[i], ys[i])."""
    total = 0.0
    for x, y in zip(xs, ys):
        r = predict(w, b, x) - y
        total += r * r
    return total / len(xs)


def huber(r):
    """Quadratic near 0, linear beyond DELTA: a loss that forgives outliers."""
    if abs(r) <= DELTA:
        return 0.5 * r * r
    return DELTA * (abs(r) - 0.5 * DELTA)
