"""for loops over range: reversed into reversed loops, recording only what the sweep reads."""

import ast
import io
import math

import pytest

from reference import assert_grads_close, central_differences
from symback import grad, value_and_grad


def power_series(x, n):
    s = 0.0
    p = 1.0
    for i in range(n):
        s += p * (i + 1)
        p *= x
    return s


def horner(x, a, b, c):
    acc = a
    for k in range(3):
        acc = acc * x + b * math.sin(c * k)
    return acc


def recurrence(x, y):
    a, b = x, y
    for i in range(5):
        a, b = b, a * 0.5 + b * math.tanh(a)
    return b


def nested_with_branch(x, n):
    total = 0.0
    for i in range(n):
        t = x * i
        for j in range(1, 3):
            t = math.sin(t) * x + j
        if t > 0:
            total += t * t
        else:
            total -= t
    return total


def network(w1, b1, w2, b2, x, y):
    """The 4-layer single-neuron network, written as a loop over layers (2 weights, reused)."""
    a = x
    for layer in range(4):
        w = w1 if layer % 2 == 0 else w2
        b = b1 if layer % 2 == 0 else b2
        z = w * a + b
        a = 1 / (1 + math.exp(-z))
    return (a - y) ** 2


def physics(v0, drag, dt, steps):
    """Explicit Euler for a falling body with quadratic drag; returns the height."""
    h, v = 0.0, v0
    for _ in range(steps):
        a = -9.81 - drag * v * abs(v)
        h += v * dt
        v += a * dt
    return h


def stepped_range(x):
    s = x
    for i in range(10, 2, -3):
        s = s * x + i
    return s


def sqrt_newton(a):
    """Newton's iteration for sqrt(a), run until converged: a while loop."""
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


def halve_until_small(x, y):
    n = 0.0
    while x > 1.0 and n < 100:
        x = x / 2.0 + 0.1 * y
        n += 1.0
    return x * y + n


POINTS = [
    (sqrt_newton, (2.0,), None), (sqrt_newton, (30.0,), None),
    (halve_until_small, (13.0, 0.7), None), (halve_until_small, (0.5, 0.7), None),
    (power_series, (0.7, 5), (0,)), (power_series, (0.7, 0), (0,)),
    (horner, (0.6, 1.1, -0.4, 0.9), None),
    (recurrence, (0.3, 0.8), None),
    (nested_with_branch, (0.45, 4), (0,)), (nested_with_branch, (-0.8, 3), (0,)),
    (network, (0.5, 0.1, -0.4, 0.2, 1.2, 0.3), None),
    (physics, (12.0, 0.05, 0.01, 50), (0, 1, 2)),
    (stepped_range, (0.9,), None),
]


@pytest.mark.parametrize("fn, args, wrt", POINTS, ids=[f"{fn.__name__}{args}" for fn, args, _ in POINTS])
def test_gradient_through_loops(fn, args, wrt):
    if wrt is None:
        got, want, params = grad(fn)(*args), central_differences(fn, args), None
    else:
        rest = args[len(wrt):]
        got = grad(fn, wrt=wrt)(*args)
        want = central_differences(lambda *head: fn(*head, *rest), args[:len(wrt)])
        params = [name for name in fn.__code__.co_varnames[:len(wrt)]]
    assert_grads_close(got, want, fn, args, params=params)
    value, _ = value_and_grad(fn, wrt=wrt)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12, abs=1e-15)


def test_a_runtime_bounded_loop_stays_a_loop():
    source = grad(power_series, wrt="x").source
    tree = ast.parse(source)
    loops = [node for node in ast.walk(tree) if isinstance(node, ast.For)]
    assert len(loops) == 2, source                # the forward loop and the reversed one
    assert "reversed(range(n))" in source
    assert source.count("p_1 * x") == 1           # the body is written once, not unrolled


def test_the_tape_records_only_what_the_sweep_reads():
    source = grad(power_series, wrt="x").source
    # per iteration s and p are computed, but only p is needed in reverse (ds/dp = i + 1, dp/dx = p)
    assert "_tape_1.append(p_1)" in source, source
    assert "_tape_1.pop()" in source


def test_cheap_values_are_recomputed_in_the_sweep_not_taped():
    source = value_and_grad(physics, wrt=(0, 1, 2)).source
    forward, sweep = source.split("reversed(range(steps))")
    # a and |v| are a few operations on v: the sweep redoes them from v alone
    assert "_tape_1.append(v_1)" in forward, source
    assert "v_1 = _tape_1.pop()" in sweep, source
    assert sweep.count("abs(v_1)") == 1 and "a = -9.81 - drag * v_1 *" in sweep, source
    # v is pushed before its update, so the update overwrites it in place
    assert "v_1 = v_1 + a * dt" in forward, source


def test_the_returned_sum_needs_no_adjoint_variable():
    # s += p*(i + 1) returned: s_bar is 1.0 in every iteration, so ds/dp is just i + 1
    source = grad(power_series, wrt="x").source
    assert "s_1_bar" not in source, source
    assert "p_1_bar += i + 1" in source, source


@pytest.mark.parametrize("fn", [power_series, horner, recurrence, nested_with_branch, network, physics,
                                sqrt_newton, halve_until_small],
                         ids=lambda f: f.__name__)
def test_loop_code_is_flake_clean(fn):
    pyflakes_api = pytest.importorskip("pyflakes.api")
    from pyflakes.reporter import Reporter
    source = value_and_grad(fn).source
    out = io.StringIO()
    assert pyflakes_api.check(source, "generated", Reporter(out, out)) == 0, out.getvalue() + source


def first_big(x, y):
    s = 0.0
    for k in range(10):
        if s > 3.0:
            break
        s += x * k + y
    return s


def skip_some(x, n):
    s = 0.0
    for i in range(n):
        if i % 3 == 0:
            continue
        s += math.sin(x * i)
    return s


def newton_break(a):
    x = a
    for _ in range(50):
        x_new = 0.5 * (x + a / x)
        if abs(x_new - x) < 1e-13:
            break
        x = x_new
    return x


@pytest.mark.parametrize("fn, args, wrt", [
    (first_big, (0.7, 0.2), None), (first_big, (0.01, 0.0), None),
    (skip_some, (0.7, 8), (0,)), (newton_break, (3.0,), None),
], ids=["first_big", "first_big_no_break", "skip_some", "newton_break"])
def test_break_and_continue(fn, args, wrt):
    rest = args[len(wrt):] if wrt else ()
    head = args[:len(wrt)] if wrt else args
    want = central_differences(lambda *h: fn(*h, *rest), head)
    assert_grads_close(grad(fn, wrt=wrt)(*args), want, fn, args,
                       params=list(fn.__code__.co_varnames[:len(head)]))
    source = grad(fn, wrt=wrt).source
    # a break stays a break in the forward loop; continue becomes the else of a branch
    assert ("break" in source) == (fn is not skip_some)


def test_a_while_loop_reverses_into_as_many_iterations():
    source = grad(sqrt_newton).source
    assert "while " in source and "_count_1 += 1" in source
    assert "for _k in range(_count_1):" in source
    assert grad(sqrt_newton)(2.0) == pytest.approx(0.5 / math.sqrt(2.0), rel=1e-9)


def find_first(x, xs):
    for i, v in enumerate(xs):
        if v * x > 1.0:
            return v * x * i
    return x * 0.5


def nested_return(x, n):
    s = x
    for i in range(n):
        for j in range(n):
            s = s * 0.9 + math.sin(x * j)
            if s > 2.0:
                return s * x
    return s


@pytest.mark.parametrize("fn, args", [
    (find_first, (0.7, [1.0, 2.0, 3.0])), (find_first, (0.1, [1.0, 2.0, 3.0])),
    (nested_return, (1.5, 4)), (nested_return, (0.2, 3)),
], ids=["found", "not_found", "nested_returns", "nested_runs_out"])
def test_return_inside_a_loop(fn, args):
    want = central_differences(lambda x: fn(x, *args[1:]), args[:1])
    assert_grads_close(grad(fn, wrt=0)(*args), want, fn, args, params=["x"])
    value, _ = value_and_grad(fn, wrt=0)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
