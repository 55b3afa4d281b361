"""More functions with control flow, helpers and lists, checked against central differences."""

import math

import pytest

from test_sequences import assert_close, numeric_gradient
from symback import grad, value_and_grad


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def layered_network(ws, bs, a0, y):
    """The 4-layer single-neuron network as a loop over lists of weights and biases."""
    a = a0
    for w, b in zip(ws, bs):
        a = sigmoid(w * a + b)
    return (a - y) ** 2


def relu(x):
    return x if x > 0 else 0.0


def mlp_1d(ws, x):
    h = x
    for i in range(len(ws)):
        h = relu(ws[i] * h + 0.1)
    return h * h


def softplus_sum(xs):
    s = 0.0
    for x in xs:
        if x > 20:
            s += x
        else:
            s += math.log1p(math.exp(x))
    return s


def logsumexp(xs):
    m = xs[0]
    for x in xs:
        m = max(m, x)
    s = 0.0
    for x in xs:
        s += math.exp(x - m)
    return m + math.log(s)


def running_product(xs):
    p = 1.0
    for i, x in enumerate(xs):
        p *= 1.0 + x / (i + 1)
    return p


def clipped_sum(xs, lo, hi):
    s = 0.0
    for x in xs:
        s += min(max(x, lo), hi)
    return s


def bisection_like(a, b):
    lo, hi = a, b
    for _ in range(6):  # few enough that a small nudge of a or b takes the same path
        mid = 0.5 * (lo + hi)
        if mid * mid > 2.0:
            hi = mid
        else:
            lo = mid
    return lo * hi + a * b


def damped_oscillator(k, c, x0, steps):
    x, v = x0, 0.0
    for _ in range(steps):
        a = -k * x - c * v
        v += 0.01 * a
        x += 0.01 * v
    return x


def polynomial_eval(cs, x):
    total = 0.0
    power = 1.0
    for c in cs:
        total += c * power
        power *= x
    return total


def early_exit_helper(x):
    if x < 0:
        return -x * 2.0
    return math.sqrt(x + 1.0)


def uses_early_exit(x, y):
    return early_exit_helper(x) * early_exit_helper(y - 1.0)


def nested_loops_matrix(ws, xs):
    """sum_i sum_j ws[i] * xs[j] ** (i + 1)"""
    total = 0.0
    for i in range(len(ws)):
        for j in range(len(xs)):
            total += ws[i] * xs[j] ** (i + 1)
    return total


def while_decay(x, rate):
    steps = 0
    while x > 0.1 and steps < 50:
        x = x * rate
        steps += 1
    return x + steps * 0.0


def piecewise_loss(preds, targets):
    loss = 0.0
    for p, t in zip(preds, targets):
        r = p - t
        if abs(r) < 1.0:
            loss += 0.5 * r * r
        elif r > 0:
            loss += r - 0.5
        else:
            loss += -r - 0.5
    return loss / len(preds)


def swap_loop(a, b):
    for _ in range(4):
        a, b = b, a * 0.9 + math.sin(b)
    return a * b


CASES = [
    (layered_network, ([0.5, -0.4, 0.8, 0.3], [0.1, 0.2, -0.1, 0.05], 1.2, 0.3)),
    (mlp_1d, ([0.9, 1.1, -0.7, 1.3], 0.8)),
    (mlp_1d, ([0.9, 1.1, 0.7, 1.3], 0.8)),
    (softplus_sum, ([0.3, -1.2, 25.0, 2.0],)),
    (logsumexp, ([0.3, -1.2, 2.5, 2.0],)),
    (running_product, ([0.3, -0.2, 0.5],)),
    (clipped_sum, ([0.3, -1.2, 2.5, 0.9], -1.0, 1.0)),
    (bisection_like, (1.0, 2.0)),
    (damped_oscillator, (2.0, 0.3, 1.0, 100)),
    (polynomial_eval, ([1.0, -2.0, 0.5, 3.0], 0.7)),
    (uses_early_exit, (0.5, 3.0)),
    (uses_early_exit, (-0.5, -3.0)),
    (nested_loops_matrix, ([0.5, -1.0, 2.0], [0.3, 0.7])),
    (while_decay, (5.0, 0.7)),
    (piecewise_loss, ([0.3, 2.5, -3.0], [0.0, 0.2, 0.5])),
    (swap_loop, (0.4, 0.9)),
]


@pytest.mark.parametrize("fn, args", CASES, ids=[f"{fn.__name__}{i}" for i, (fn, _) in enumerate(CASES)])
def test_gradient(fn, args):
    floats = [k for k, a in enumerate(args) if not isinstance(a, int) or isinstance(a, bool)]
    wrt = tuple(floats)
    got = grad(fn, wrt=wrt)(*args)
    want = [w for k, w in enumerate(numeric_gradient(fn, args)) if k in floats]
    assert_close(got if len(wrt) > 1 else (got,), want, tol=1e-5)
    value, _ = value_and_grad(fn, wrt=wrt)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
