"""if/elif/else and early return: the gradient of the path taken, kept structured."""

import ast
import io
import math

import pytest

from reference import assert_grads_close, central_differences
from symback import grad, value_and_grad


def absval(x):
    if x > 0:
        return x
    return -x


def elif_chain(x, y):
    z = x * y
    if z > 1.0:
        w = math.sin(z)
        s = w * x
    elif z < -1.0:
        s = z * z
    else:
        s = y
    return s * x + z


def nested_early_return(x, y):
    a = x * y
    if a > 0:
        if y > 1:
            return a * a
        b = a + y
    else:
        b = math.exp(a)
    return b * x


def assigned_on_one_side(x, y):
    t = x
    if y > 0:
        t = t * y
    return t * t


def constant_branch(x, y):
    if x < y and not x < -5:
        k = 2.0
    else:
        k = 0.5
    return k * x * y


def leaky(z):
    if z >= 0:
        a = z
    else:
        a = 0.01 * z
    return a


def reset_in_branch(x, y):
    """The returned y is x*y only when the branch is not taken: its adjoint is 1
    on that path alone (a fold of that 1 out of the branch once gave dy = x always)."""
    y = x * y
    if x > 0:
        y = 0.5
    return y


def helper_with_branch(x, y):
    return leaky(x - y) * leaky(y * 2.0) + absval(x)


def newton_step_cost(x, target):
    """A typical piecewise loss: quadratic near the target, linear outside."""
    r = x - target
    if abs(r) <= 1.0:
        loss = 0.5 * r * r
    else:
        loss = abs(r) - 0.5
    return loss


POINTS = [
    (absval, (0.7,)), (absval, (-0.4,)),
    (elif_chain, (0.7, 2.0)), (elif_chain, (0.7, -2.0)), (elif_chain, (0.3, 0.4)),
    (nested_early_return, (0.5, 2.0)), (nested_early_return, (0.5, 0.5)), (nested_early_return, (-0.5, 0.5)),
    (assigned_on_one_side, (0.5, 2.0)), (assigned_on_one_side, (0.5, -1.0)),
    (constant_branch, (0.3, 1.2)), (constant_branch, (1.3, 1.2)),
    (helper_with_branch, (0.8, 0.3)), (helper_with_branch, (-0.8, -0.3)),
    (newton_step_cost, (0.4, 0.1)), (newton_step_cost, (3.0, 0.1)), (newton_step_cost, (-3.0, 0.1)),
    (reset_in_branch, (0.3, 0.7)), (reset_in_branch, (-0.3, 0.7)),
]


@pytest.mark.parametrize("fn, args", POINTS, ids=[f"{fn.__name__}{args}" for fn, args in POINTS])
def test_gradient_of_the_path_taken(fn, args):
    assert_grads_close(grad(fn)(*args), central_differences(fn, args), fn, args)
    value, grads = value_and_grad(fn)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    assert_grads_close(grads, central_differences(fn, args), fn, args)


@pytest.mark.parametrize("fn", sorted({fn for fn, _ in POINTS}, key=lambda f: f.__name__),
                         ids=lambda f: f.__name__)
def test_branches_stay_branches_and_code_is_clean(fn):
    pyflakes_api = pytest.importorskip("pyflakes.api")
    from pyflakes.reporter import Reporter
    for make in (grad, value_and_grad):
        source = make(fn).source
        tree = ast.parse(source)
        ifs = [node for node in ast.walk(tree) if isinstance(node, ast.If)]
        assert ifs, source  # no flattening into arithmetic
        out = io.StringIO()
        assert pyflakes_api.check(source, "generated", Reporter(out, out)) == 0, out.getvalue() + source


def test_the_sweep_branches_on_the_recorded_condition():
    source = grad(elif_chain).source
    lines = [line.strip() for line in source.splitlines()]
    assert "_cond_1 = z > 1.0" in lines
    # the forward pass and the reverse sweep test the same recorded flag
    assert lines.count("if _cond_1:") == 2


def test_a_value_made_for_a_merge_takes_the_merged_name():
    import re
    source = grad(elif_chain).source
    # s = w * x in a branch is written straight into the merged variable: no `s_4 = s_1` copies
    assert re.search(r"^\s+s_\d+ = w \* x$", source, re.MULTILINE), source
    assert not re.search(r"^\s+s_\d+ = s_\d+$", source, re.MULTILINE), source
    assert not re.search(r"^\s+s_\d+_bar = s_\d+_bar$", source, re.MULTILINE), source
