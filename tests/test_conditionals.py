"""Conditional expressions: `a if cond else b` with comparisons, and/or/not."""

import math

import pytest

from reference import assert_grads_close, central_differences
from symback import grad, value_and_grad


def relu_like(x, y):
    return x * y if x > 0 else 0.1 * x


def chained_and_boolean(x, y):
    z = math.log(x) if 0.5 < x < 3 and not y < -3 else 2.0 * y
    return z * z + (x if x >= y or y == 7 else y * y)


def nested(x):
    return x ** 3 if x > 1 else (math.sin(x) if x > -1 else -x)


def huber(r, delta=1.0):
    a = abs(r)
    return 0.5 * r * r if a <= delta else delta * (a - 0.5 * delta)


POINTS = [
    (relu_like, (0.7, 1.3)), (relu_like, (-0.7, 1.3)),
    (chained_and_boolean, (0.7, 1.3)), (chained_and_boolean, (4.0, 1.3)), (chained_and_boolean, (0.7, -4.0)),
    (nested, (1.5,)), (nested, (0.3,)), (nested, (-2.0,)),
    (huber, (0.4,)), (huber, (-2.5,)), (huber, (3.0,)),
]


@pytest.mark.parametrize("fn, args", POINTS, ids=[f"{fn.__name__}{args}" for fn, args in POINTS])
def test_gradient_of_the_branch_taken(fn, args):
    assert_grads_close(grad(fn, wrt=0 if fn is huber else None)(*args), central_differences(fn, args),
                       fn, args, params=["r"] if fn is huber else None)
    value, _ = value_and_grad(fn)(*args)
    assert value == fn(*args) or value == pytest.approx(fn(*args), rel=1e-12)


def guarded_log(x):
    return math.log(x) if x > 0 else 0.0


def test_only_the_branch_taken_is_evaluated():
    # the forward pass and the partial must not compute log(x) or 1/x when x <= 0
    g = grad(guarded_log)
    assert g(-1.0) == 0.0 and type(g(-1.0)) is float
    assert g(2.0) == 0.5
    # a conditional expression is a branch: only the side taken runs, in the forward pass and the sweep
    assert "_cond_1 = x > 0" in g.source and g.source.count("if _cond_1:") == 2


def test_the_gradient_is_a_float_where_a_branch_is_constant():
    got = grad(relu_like)(-1.0, 2.0)
    assert got == (0.1, 0.0) and all(type(v) is float for v in got)
