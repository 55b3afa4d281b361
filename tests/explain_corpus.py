"""Functions and points for the explain tests: the seed network, a loop over
examples, Huber's two sides, helpers, while and nested loops, list parameters,
and the points the other test files check gradients at (each a (function,
args) pair at which f runs without raising)."""

import math

import programs
import test_branches
import test_conditionals
import test_control_corpus
import test_helpers
import test_list_values
import test_loops
import test_nested_functions
import test_sequences


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def cost(w, b, a0, y):
    """The single neuron of 3Blue1Brown's video (examples/neuron.py)."""
    z = w * a0 + b
    a = 1 / (1 + math.exp(-z))
    return (a - y) ** 2


def cost_float_literals(w, b, a0, y):
    z = w * a0 + b
    a = 1.0 / (1.0 + math.exp(-z))
    return (a - y) ** 2


def loss(w, b, xs, ys):
    """The per-example loss over a data set: a loop over zip(xs, ys)."""
    total = 0.0
    for x, y in zip(xs, ys):
        r = w * x + b - y
        total += r * r
    return total / len(xs)


def huber(r, d):
    if abs(r) <= d:
        out = 0.5 * r ** 2
    else:
        out = d * (abs(r) - 0.5 * d)
    return out


def neuron(w, b, x):
    """A helper: sigmoid(z) is inlined; its rows say so."""
    a = sigmoid(w * x + b)
    return a * a


def relu_loss(x, w):
    h = max(0.0, w * x)
    return h * 1.5 + abs(x)


def decay(x, rate):
    steps = 0
    while x > 0.1 and steps < 50:
        x = x * rate
        steps += 1
    return x


SEED = [
    (cost, (0.5, 0.1, 1.0, 0.0)),
    (cost_float_literals, (0.5, 0.1, 1.0, 0.0)),
    (programs.neuron4, (0.5, 0.1, -0.4, 0.2, 0.8, -0.3, 0.6, 0.05, 1.2, 0.3)),
    (loss, (0.5, 0.1, [1.0, 2.0, 3.0], [0.5, 1.0, 2.0])),
    (huber, (0.3, 1.0)), (huber, (-2.0, 1.0)),
    (neuron, (0.5, 0.1, 1.0)),
    (relu_loss, (0.7, 0.4)), (relu_loss, (-0.7, 0.4)),
    (decay, (5.0, 0.7)),
]

# every (function, args) the gradient tests use, where the arguments are numbers or lists of numbers
POINTS = SEED + [case[:2] for case in test_control_corpus.CASES] + \
    [(fn, args) for fn, args, _ in test_loops.POINTS] + list(test_branches.POINTS) + \
    list(test_conditionals.POINTS) + list(test_helpers.CASES) + list(test_list_values.CASES) + \
    list(test_nested_functions.POINTS) + list(test_sequences.CASES)

# functions explain accepts, for the LaTeX that must compile: the scalar corpus and those above
FUNCTIONS = list(dict.fromkeys([fn for fn, _ in POINTS] + list(programs.SCALAR)))


_explained: dict = {}


def explained(fn, args=None):
    """explain(fn), or explain(fn).at(args by position), made once per test run (the tests share them)."""
    from symback import explain
    key = (fn, repr(args))
    if key not in _explained:
        if args is None:
            _explained[key] = explain(fn)
        else:
            names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
            _explained[key] = explained(fn).at(**dict(zip(names, args)))
    return _explained[key]
