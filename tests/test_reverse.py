"""reverse: activity analysis, fan-out, and which forward statements are kept."""

import math

import pytest

from symback import grad
from symback.api import gradient_ir


def fan_out(x):
    a = x * x
    b = a + x
    c = a * b
    return c + x


def reversed_only(f):
    """reverse's own output, before optimize folds the constant start x_bar = 1.0 in."""
    from symback.api import check_wrt
    from symback.derive import derive
    from symback.parse import parse
    from symback.reverse import reverse
    function = derive(parse(f))
    return reverse(function, check_wrt(function, None), False)


def test_fan_out_is_summed():
    g = reversed_only(fan_out)
    x_contribs = [acc for acc in g.backward if acc.operand.ident == "x"]
    assert len(x_contribs) == 3                # from the return, b, and a = x*x (one edge)
    assert [acc.first for acc in x_contribs] == [True, False, False]
    h, x = 1e-6, 0.7
    assert grad(fan_out)(x) == pytest.approx((fan_out(x + h) - fan_out(x - h)) / (2 * h), rel=1e-7)


def partly_active(x, n):
    k = n * 2.0
    unused = math.exp(x)  # noqa: F841 (never reaches the result)
    return x * k


def test_values_not_differentiated_get_no_adjoint():
    g = gradient_ir(partly_active, wrt="x")
    assert {acc.operand.ident for acc in g.backward} == {"x"}
    assert "unused" not in grad(partly_active, wrt="x").source
    assert grad(partly_active, wrt="x")(1.0, 3.0) == 6.0


def test_parameter_that_does_not_reach_the_output_has_zero_gradient():
    def ignores(x, y):
        return x * 3.0
    assert grad(ignores)(1.0, 2.0) == (3.0, 0.0)


def test_zero_partials_produce_no_code():
    def floors(x, y):
        q = x // y
        return q * y
    g = grad(floors)
    assert "x_bar" not in g.source         # d(x//y)/dx = 0: x gets no adjoint, its gradient is 0.0
    assert g(7.5, 2.0) == (0.0, 3.0)


def test_result_that_is_a_parameter():
    def identity(x, y):
        return x
    assert grad(identity)(1.0, 2.0) == (1.0, 0.0)


def test_the_forward_pass_keeps_only_what_the_sweep_reads():
    def linear_then_square(x, y):
        s = x * y
        t = s + 1.0
        u = t * t
        return u
    g = gradient_ir(linear_then_square, with_value=False)
    assert [s.target.ident for s in g.forward] == ["s", "t"]   # u itself is never read
    g = gradient_ir(linear_then_square, with_value=True)
    assert [s.target.ident for s in g.forward] == ["s", "t", "u"]
