"""optimize: each pass on IR built by hand, then gradients end to end.

The reference for every gradient is f itself (its value, bit for bit) and
central differences, never symback's own output.
"""

import math
import sys
from pathlib import Path

import pytest

from faithful import check_faithful, flatten_grads, numeric_gradient
from reference import assert_grads_close, central_differences
from symback import grad, ir, value_and_grad
from symback.derive import rule_for
from symback.errors import Loc
from symback.optimize import optimize
from symback.optimize import exprs
from symback.optimize.copies import copies
from symback.optimize.dead import dead_code
from symback.optimize.fold import fold
from symback.optimize.shared import shared
from symback.parse import shape_of
from symback.reverse import reverse

HERE = Loc("hand.py", 1)
A, B, C = ("arg", 0), ("arg", 1), ("arg", 2)


def v(name: str) -> ir.Value:
    return ir.Value(name.split("_")[0], name)


def assign(target: str, tree: tuple, *args) -> ir.Assign:
    shape = shape_of(tree)
    return ir.Assign(v(target), shape, tuple(v(a) if isinstance(a, str) else ir.Const(a) for a in args),
                     HERE, rule=rule_for(shape))


def function(params: str, body: tuple, result: str, sequences: str = "") -> ir.Function:
    fn = ir.Function("f", "hand.py", 1, tuple(ir.Param(v(p), "positional", None) for p in params.split()),
                     body, v(result), sequences=frozenset(v(s) for s in sequences.split()))
    fn.verify()
    return fn


def swept(fn: ir.Function, with_value: bool = False) -> ir.Gradient:
    """reverse's output: the IR each pass starts from."""
    return reverse(fn, tuple(p.value for p in fn.params if p.value not in fn.sequences), with_value)


def lines(gradient: ir.Gradient) -> list[str]:
    return [line.strip() for line in str(gradient).splitlines()]


# --- dead code -----------------------------------------------------------------

def mean_squares() -> ir.Function:
    """n = len(xs); for i in range(n): total += (w*xs[i])**2; return total / n"""
    i = v("i")
    loop = ir.Loop(i, (v("n"),), (ir.Carry(v("total_1"), v("total"), v("total_2")),), (
        ir.Item(v("x"), v("xs"), i, HERE),
        assign("p", ("bin", "*", A, B), "w", "x"),
        assign("total_2", ("bin", "+", A, ("bin", "*", B, B)), "total_1", "p"),
    ), HERE)
    return function("w xs", (ir.Length(v("n"), v("xs"), HERE), assign("total", ("num", 0.0)), loop,
                             assign("out", ("bin", "/", A, B), "total_1", "n")), "out", sequences="xs")


def test_a_loop_the_sweep_does_not_read_is_dropped_and_the_division_kept_as_a_guard():
    g = dead_code(swept(mean_squares()))
    assert not any(isinstance(stmt, ir.Loop) for stmt in g.forward)
    guard, = [stmt for stmt in g.forward if isinstance(stmt, ir.Guard)]
    assert guard.divisors == (v("n"),)  # total / n raises where n is 0, whatever total is
    assert v("n") in {stmt.target for stmt in g.forward}


def test_with_the_value_the_loop_runs():
    g = dead_code(swept(mean_squares(), with_value=True))
    assert any(isinstance(stmt, ir.Loop) for stmt in g.forward)
    assert not any(isinstance(stmt, ir.Guard) for stmt in g.forward)


def test_an_index_that_may_be_out_of_range_keeps_its_loop():
    fn = mean_squares()
    loop = fn.body[2]
    unsafe = ir.Loop(loop.index, (v("k"),), loop.carried, loop.body, HERE)  # range(k), k a parameter
    fn = function("w xs k", fn.body[:2] + (unsafe, fn.body[3]), "out", sequences="xs")
    g = dead_code(swept(fn))
    assert any(isinstance(stmt, ir.Loop) for stmt in g.forward)


def test_a_statement_that_may_raise_otherwise_stays_whole():
    # log(total) / n: the log's domain depends on total, so total must be computed
    fn = mean_squares()
    last = assign("out", ("bin", "/", ("call", "log", A), B), "total_1", "n")
    fn = function("w xs", fn.body[:3] + (last,), "out", sequences="xs")
    g = dead_code(swept(fn))
    assert any(isinstance(stmt, ir.Loop) for stmt in g.forward)
    assert last in g.forward and last.target in g.unused


def test_unread_statements_that_cannot_raise_are_dropped():
    fn = function("x y", (assign("a", ("bin", "*", A, B), "x", "y"),
                          assign("b", ("call", "exp", A), "x"),    # may overflow: kept
                          assign("c", ("bin", "+", A, B), "x", "y"),  # nothing reads it: dropped
                          assign("out", ("bin", "*", A, A), "a")), "out")
    g = dead_code(swept(fn))
    assert [str(s.target) for s in g.forward] == ["a", "b"]


def test_model_loss_gradient_runs_no_forward_loop_and_fails_where_f_fails():
    sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))
    import model
    g = grad(model.loss)
    head, sweep = g.source.split("xs_bar =", 1)
    assert "for " not in head  # the forward loop is gone
    args = (0.7, -0.2, [0.5, 1.5, -1.0], [1.0, 2.0, 0.5])
    check_faithful(model.loss, *args)
    numeric, _ = numeric_gradient(model.loss, args)
    assert flatten_grads(g(*args), model.loss) == pytest.approx(numeric, rel=1e-6, abs=1e-8)
    with pytest.raises(ZeroDivisionError):
        model.loss(0.7, -0.2, [], [])
    with pytest.raises(ZeroDivisionError):
        g(0.7, -0.2, [], [])


# --- copies --------------------------------------------------------------------

def two_sums() -> ir.Function:
    """x1 = x + a; x2 = x1 + b; out = x2 * x2"""
    return function("x a b", (assign("x_1", ("bin", "+", A, B), "x", "a"),
                              assign("x_2", ("bin", "+", A, B), "x_1", "b"),
                              assign("out", ("bin", "*", A, A), "x_2")), "out")


def test_an_adjoint_copy_is_forwarded_into_one_variable():
    before = swept(two_sums())
    assert "x_1_bar = (1) * x_2_bar" in lines(before)
    after = copies(before)
    assert "x_1_bar = (1) * x_2_bar" not in lines(after)
    assert (v("x_1"), v("x_2")) in after.same_adjoint
    source = _emitted(after)
    assert "x_1_bar" not in source and "x_bar = x_2_bar" in source  # a parameter's copy keeps its name


def test_a_copy_is_kept_where_the_operand_is_read_twice():
    fn = function("x", (assign("x_1", ("bin", "+", A, ("num", 1.0)), "x"),
                        assign("y", ("bin", "+", A, B), "x_1", "x_1"),   # y = x_1 + x_1
                        assign("out", ("bin", "*", A, A), "y")), "out")
    after = copies(swept(fn))
    assert not any(pair[0] == v("x_1") for pair in after.same_adjoint)


def test_two_operands_of_one_sum_keep_two_adjoint_variables():
    # s = a + b gives a_bar = s_bar and b_bar = s_bar; as one variable, c = a*b's
    # contributions to a and to b would both land in it (a silently wrong gradient)
    def f(x, y):
        a = x * 2.0
        b = y * 3.0
        c = a * b
        s = a + b
        return s * s + c

    args = (0.3, 0.7)
    assert_grads_close(grad(f)(*args), central_differences(f, args), f, args)
    source = grad(f).source
    assert source.count("_bar = s_bar") == 1, source


def test_a_copy_on_both_sides_of_a_branch_is_kept():
    # found by the long property run: x_2_bar = a_bar on one side of the sweep's
    # branch, x_2_bar = a_2_bar on the other; forwarded, x_2_bar read a_2_bar unassigned
    def f(x):
        x += -math.sin(x)
        x = (1.0 / x if x != 0 else 0.5) ** 2 + ((x + 0.5) + (1.0 / x if x != 0 else x))
        if (x + 0.5) <= x:
            a = x
            x, a = a, x
            return x
        else:
            a = x
            x, a = a, x
        return x

    for args in ((3.1e-08,), (0.9,), (-1.3,)):
        value, grads = value_and_grad(f)(*args)
        assert value == f(*args)
    args = (0.9,)
    assert_grads_close(grad(f)(*args), central_differences(f, args), f, args)


# --- shared subexpressions -------------------------------------------------------

def test_keys_equate_only_exact_rewrites():
    dt, d = ("v", v("dt")), ("v", v("d"))
    one = ("num", "1")
    assert exprs.key(("bin", "+", ("bin", "*", ("un", "-", dt), d), one)) == \
        exprs.key(("bin", "-", one, ("bin", "*", dt, d)))          # -dt*d + 1 is 1 - dt*d
    a, b, c = ("v", v("a")), ("v", v("b")), ("v", v("c"))
    assert exprs.key(("bin", "*", a, ("bin", "*", b, c))) != exprs.key(("bin", "*", ("bin", "*", a, b), c))
    assert exprs.key(("bin", "/", a, b)) != exprs.key(("bin", "/", b, a))
    assert exprs.key(("bin", "*", ("num", "2"), a)) != exprs.key(("bin", "*", ("num", "2.0"), a))
    assert exprs.key(("bin", "+", a, b)) != exprs.key(("bin", "-", a, b))


def physics_step() -> ir.Function:
    """s = sqrt(vx*vx + vy*vy); d = drag*s; vx1 = vx*(1 - dt*d); vy1 = vy*(1 - dt*d) - 9.81*dt"""
    damp = ("bin", "-", ("num", 1), ("bin", "*", A, B))
    return function("vx vy drag dt", (
        assign("s", ("call", "sqrt", ("bin", "+", ("bin", "*", A, A), ("bin", "*", B, B))), "vx", "vy"),
        assign("d", ("bin", "*", A, B), "drag", "s"),
        assign("vx_1", ("bin", "*", C, ("bin", "-", ("num", 1), ("bin", "*", A, B))), "dt", "d", "vx"),
        assign("vy_1", ("bin", "-", ("bin", "*", C, ("bin", "-", ("num", 1), ("bin", "*", A, B))),
                        ("bin", "*", ("num", 9.81), A)), "dt", "d", "vy"),
        assign("out", ("bin", "+", ("bin", "*", A, A), ("bin", "*", B, B)), "vx_1", "vy_1")), "out") \
        if damp else None


def test_a_partial_two_statements_share_is_computed_once():
    g = shared(swept(physics_step()))
    text = lines(g)
    lets = [line for line in text if line.startswith("_s")]
    assert any(line.endswith("= -dt*d + 1") for line in lets), text
    assert sum("dt*d + 1" in line for line in text) == 1


def test_a_division_a_statements_partials_share_is_computed_once():
    g = shared(swept(physics_step()))
    text = "\n".join(lines(g))
    assert "= s_bar/s" in text
    assert "/s\n" not in text.replace("s_bar/s\n", "")


def test_a_side_of_a_conditional_expression_is_never_hoisted():
    # d|x - y| / dx prints as a conditional: its sides run only sometimes
    tree = ("if", ("cmp", (">",), ("v", v("a")), ("num", "0")), ("bin", "/", ("num", "1"), ("v", v("a"))),
            ("num", "0.0"))
    from symback.optimize.shared import _always, _shareable
    assert not _shareable(tree)
    assert _always(tree) == (tree[1],)


def test_forward_temps_serve_the_sweep_and_are_not_computed_twice():
    fn = function("x a b", (assign("u", ("bin", "*", ("call", "sin", A), B), "x", "a"),
                            assign("w", ("bin", "*", ("call", "sin", A), ("call", "cos", A)), "x"),
                            assign("out", ("bin", "+", A, B), "u", "w")), "out")
    g = optimize(swept(fn))
    assert g.same_temp  # the second sin(x) is the first's temp
    source = _emitted(g)
    assert source.count("math.sin(x)") == 1, source


def test_nothing_a_reversed_loop_restores_is_shared_across_it():
    # the same partial outside and inside a loop means different values: check numbers
    def f(x, y):
        a = x * (1 - y * x)
        b = y * (1 - y * x)
        for _ in range(3):
            x = x * (1 - y * x)
            y = y * (1 - y * x) + 0.1
        return a + b + x * y

    args = (0.3, 0.7)
    assert_grads_close(grad(f)(*args), central_differences(f, args), f, args)


# --- constant folding ------------------------------------------------------------

def test_a_constant_start_folds_into_the_next_addition_bit_for_bit():
    def f(z0, z1):
        m = max(z0, z1)
        s = math.exp(z0 - m) + math.exp(z1 - m)
        return m + math.log(s) - z0

    from symback.api import check_wrt
    from symback.derive import derive
    from symback.parse import parse
    fn = derive(parse(f))
    unfolded = shared(copies(dead_code(reverse(fn, check_wrt(fn, None), False))))
    folded = fold(unfolded)
    assert sum(1 for _ in ir.walk_adjoints(folded.backward)) < sum(1 for _ in ir.walk_adjoints(unfolded.backward))
    args = (0.3, -0.4)
    assert _run(folded, args) == _run(unfolded, args)  # the same floats


# --- end to end --------------------------------------------------------------------

@pytest.mark.parametrize("fn", ["physics", "softmax", "chain"])
def test_optimized_gradients_match_differences_and_values_are_fs_own(fn):
    f = {"physics": _physics, "softmax": _softmax, "chain": _chain}[fn]
    args = (0.4, 1.1, 0.8, 0.3)
    value, grads = value_and_grad(f)(*args)
    assert value == f(*args)
    assert_grads_close(grads, central_differences(f, args), f, args)
    assert_grads_close(grad(f)(*args), central_differences(f, args), f, args)


def _physics(vx, vy, drag, dt):
    for _ in range(2):
        s = math.sqrt(vx * vx + vy * vy)
        d = drag * s
        vx = vx * (1 - dt * d)
        vy = vy * (1 - dt * d) - 9.81 * dt
    s2 = math.sqrt(vx * vx + vy * vy)
    d2 = drag * s2
    return vx * (1 - dt * d2) + vy * (1 - dt * d2)


def _softmax(a, b, c, d):
    m = max(a, b, c, d)
    s = math.exp(a - m) + math.exp(b - m) + math.exp(c - m) + math.exp(d - m)
    return m + math.log(s) - b


def _chain(x, y, w, b):
    u = math.sin(x) * y
    t = math.sin(x) + math.cos(w)
    r = u / (1.5 + math.cos(w))
    if r > 0:
        q = r * (1 - x * w) + t * (1 - x * w)
    else:
        q = r * (1 - w * x) - t
    return q + b * math.sin(x)


def _emitted(gradient: ir.Gradient) -> str:
    from symback.emit import emit
    return emit(gradient)


def _run(gradient: ir.Gradient, args):
    from symback.emit import emit
    namespace: dict = {}
    exec(compile(emit(gradient, "g"), "<test>", "exec"), namespace)
    return namespace["g"](*args)
