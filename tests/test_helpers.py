"""Calls to Python helper functions are followed: their bodies are inlined."""

import inspect
import math

import pytest

from reference import assert_grads_close, central_differences
from symback import NoSource, UnsupportedCall, UnsupportedSyntax, grad, value_and_grad

SCALE = 2.0


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def dense(w, a, b=0.0):
    """One neuron: weighted input, then the activation."""
    z = w * a + b
    return sigmoid(z)


def two_layers(w1, b1, w2, b2, x, y):
    a1 = dense(w1, x, b1)
    a2 = dense(w2, a1, b=b2)
    return (a2 - y) ** 2


def uses_helper_twice_in_one_expression(x, y):
    return sigmoid(x) * sigmoid(y * SCALE) + sigmoid(x + y)


def local_names_collide(z, a):
    """The helper's own z and a must not clobber these."""
    w = dense(a, z, b=z * a)
    return w + z * a


def helper_with_default_from_module(x):
    return scaled(x)


def scaled(x, k=SCALE):
    t = x * k
    t += 1.0
    return t * t


def helper_returning_a_parameter(x, y):
    return first(x * y, y) + y


def first(a, b):
    return a


def outer_closure(x):
    return inner_closure(x)


def make_inner():
    factor = 3.0

    def inner(u):
        return factor * math.sin(u)
    return inner


inner_closure = make_inner()


def polar(r, theta):
    return r * math.cos(theta), r * math.sin(theta)


def sorted_pair(a, b):
    if a < b:
        return a, b
    return b, a


def uses_tuple_helpers(r, theta, c):
    x, y = polar(r, theta)
    lo, hi = sorted_pair(x * c, y)
    return hi * hi - lo + x * y


CASES = [
    (uses_tuple_helpers, (1.3, 0.4, 2.0)),
    (uses_tuple_helpers, (1.3, 2.9, -0.5)),
    (two_layers, (0.5, 0.1, -0.4, 0.2, 1.2, 0.3)),
    (uses_helper_twice_in_one_expression, (0.3, -0.7)),
    (local_names_collide, (0.4, 1.3)),
    (helper_with_default_from_module, (0.6,)),
    (helper_returning_a_parameter, (0.6, 1.4)),
    (outer_closure, (0.9,)),
]


@pytest.mark.parametrize("fn, args", CASES, ids=[fn.__name__ for fn, _ in CASES])
def test_gradient_through_helpers(fn, args):
    assert_grads_close(grad(fn)(*args), central_differences(fn, args), fn, args)
    value, _ = value_and_grad(fn)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)


def test_inlined_helper_reads_like_the_source():
    source = grad(two_layers).source
    # `a1 = dense(...)` names the helper's result a1, with no extra copy
    assert "a1 = 1 / (1 + math.exp(-z))" in source
    assert "a2 = 1 / (1 + math.exp(-z_1))" in source
    assert "z_1 = w2 * a1 + b2" in source
    assert "math.exp" not in source.split("_bar", 1)[1]  # sigmoid' is a*(1 - a) in the sweep


def test_error_inside_a_helper_points_into_the_helper():
    with pytest.raises(UnsupportedSyntax) as info:
        grad(calls_branching)
    lines, start = inspect.getsourcelines(branching)
    assert info.value.function == "branching"
    assert info.value.loc.line == start + 1
    assert "try statements are not supported" in str(info.value)
    call_line = inspect.getsourcelines(calls_branching)[1] + 1
    assert f"(called from calls_branching() at {__file__}:{call_line}: return branching(x) * 2.0)" \
        in str(info.value)


def branching(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    return y


def calls_branching(x):
    return branching(x) * 2.0


def test_mutual_recursion_is_refused():
    with pytest.raises(UnsupportedCall, match=r"ping\(\) calls itself, directly or through other functions"):
        grad(ping)


def ping(x):
    return pong(x * 0.5)


def pong(x):
    return ping(x) + 1.0


def test_helper_without_source():
    namespace = {}
    exec("def made(x):\n    return x * x\n", namespace)
    made = namespace["made"]

    def calls_made(x):
        return made(x)
    with pytest.raises(NoSource, match=r"cannot follow the call to made: no source code"):
        grad(calls_made)


def test_bad_call_to_helper():
    def calls_wrongly(x):
        return sigmoid(x, x)
    with pytest.raises(UnsupportedCall, match=r"the call to sigmoid does not match its parameters"):
        grad(calls_wrongly)


def test_a_helper_returning_several_values_must_be_unpacked():
    def scalar_use(r, t):
        return polar(r, t) * 2.0
    with pytest.raises(UnsupportedSyntax, match=r"polar\(\) returns several values here; unpack them"):
        grad(scalar_use)

    def wrong_count(r, t):
        a, b, c = polar(r, t)
        return a + b + c
    with pytest.raises(UnsupportedSyntax, match=r"cannot unpack 2 values into 3 names"):
        grad(wrong_count)
