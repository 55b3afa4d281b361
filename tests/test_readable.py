"""Issue 13: generated code a student reads, and float literals in partials.

Each test asserts something about the generated source text (what a reader
sees) and checks the same function's gradient against central differences,
and its value against f's own, bit for bit.
"""

import math
import re

import pytest

from reference import assert_grads_close, central_differences
from symback import explain, grad, value_and_grad


def check(f, *args):
    """value_and_grad(f) gives f's value exactly and a gradient that matches central
    differences (list arguments are compared element by element); grad(f) gives the same."""
    value, grads = value_and_grad(f)(*args)
    assert value == f(*args)
    assert grad(f)(*args) == grads
    grads = grads if isinstance(grads, tuple) else (grads,)
    flat_args = [a for arg in args for a in (arg if isinstance(arg, list) else [arg])]
    flat_grads = [g for part in grads for g in (part if isinstance(part, list) else [part])]

    def flat(*values):  # f of the flattened arguments
        it = iter(values)
        return f(*[[next(it) for _ in arg] if isinstance(arg, list) else next(it) for arg in args])
    assert len(flat_grads) == len(flat_args)
    assert_grads_close(tuple(flat_grads), central_differences(flat, flat_args), flat, flat_args,
                       params=[f"p{k}" for k in range(len(flat_args))])


def lines(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines()]


# --- float literals that are small integers do not change a partial's form ---


def sigmoid_int(w, b, a0, y):
    z = w * a0 + b
    a = 1 / (1 + math.exp(-z))
    return (a - y) ** 2


def sigmoid_float(w, b, a0, y):
    z = w * a0 + b
    a = 1.0 / (1.0 + math.exp(-z))
    return (a - y) ** 2


def half_square(w, b, a0, y):
    z = w * a0 + b
    a = 1.0 / (1.0 + math.exp(-z))
    return 0.5 * (a - y) ** 2


def test_one_point_zero_gives_the_textbook_sigmoid_partial_as_one_does():
    for f in (sigmoid_int, sigmoid_float):
        source = grad(f).source
        assert "z_bar = a*(1 - a)*a_bar" in lines(source), source
        check(f, 0.5, 0.1, 1.0, 0.0)
        check(f, -1.3, 0.4, 0.7, 1.0)
    # the forward pass still computes what f wrote, 1.0 and all
    assert "a = 1.0 / (1.0 + math.exp(-z))" in lines(value_and_grad(sigmoid_float).source)


def test_one_half_times_a_square_differentiates_to_the_difference():
    source = grad(half_square).source
    assert "a_bar = a - y" in lines(source), source
    assert "1.0*" not in source, source
    assert "z_bar = a*(1 - a)*a_bar" in lines(source), source
    check(half_square, 0.5, 0.1, 1.0, 0.0)


def test_explain_shows_the_same_partials_for_one_point_zero_and_one():
    def table(f):  # each edge and its local partial, the output's own name taken out
        text = str(explain(f)).replace(f.__name__, "C")
        return [re.search(r"(∂\S+/∂\S+)\s+(.*)$", line).groups() for line in text.splitlines()
                if re.search(r"\s∂\S+/∂\S+\s", line) and " · " not in line]
    assert len(table(sigmoid_int)) == 6
    assert table(sigmoid_int) == table(sigmoid_float)
    half = str(explain(half_square))
    assert "1.0*(a - y)" not in half and "a - y" in half


def rk2(x, dt):
    k1 = -x
    k2 = -(x + dt / 2 * k1)
    return x + dt / 6 * (k1 + 2 * k2)


def test_constants_print_as_written():
    source = value_and_grad(rk2).source
    assert "0.16666" not in source and "0.3333" not in source and "(1/6)" not in source, source
    assert "k1_bar = dt/6" in lines(source), source
    assert "dt/6.0" not in source
    check(rk2, 0.7, 0.1)
    check(rk2, -2.0, 0.25)


def scaled(n, x):
    return x * n * 2.0


def test_a_float_literal_keeps_the_gradient_a_float():
    source = grad(scaled).source
    assert "n_bar = 2.0*x" in lines(source) and "x_bar = 2.0*n" in lines(source), source
    got = grad(scaled)(3, 2)  # ints in: f computes a float, and so does its gradient
    assert got == (4.0, 6.0) and all(type(g) is float for g in got)
    check(scaled, 3.0, 2.0)


def divides(x, y):
    return 1.0 / (x - 1.0) + y / 0.0 if y > 0 else 1.0 / (x - 1.0)


def test_a_literal_read_exactly_still_fails_where_f_fails():
    for g in (grad(divides), value_and_grad(divides)):
        with pytest.raises(ZeroDivisionError):
            g(1.0, -1.0)  # 1.0 / (x - 1.0) at x = 1.0
        with pytest.raises(ZeroDivisionError):
            g(2.0, 1.0)  # y / 0.0
    check(divides, 2.5, -1.0)


def powers(x, y):
    return x ** 2.0 + 2.0 ** y + x ** 0.5


def test_float_powers_keep_python_semantics():
    got = value_and_grad(powers)(4.0, 3.0)
    assert got[0] == powers(4.0, 3.0)
    check(powers, 4.0, 3.0)
    check(powers, 0.3, -1.2)


# --- adjoint names match forward names ---


def drag_steps(vx, vy, drag, dt):
    for _ in range(3):
        s = math.sqrt(vx * vx + vy * vy)
        d = drag * s
        vx = vx * (1 - dt * d)
        vy = vy * (1 - dt * d) - 9.81 * dt
    return vx * vy


def max_and_squares(ys, w):
    m = 0.0
    s = 0.0
    for i in range(len(ys)):
        if ys[i] * w > m:
            m = ys[i] * w
        s += ys[i] * ys[i]
    return m + s


def chained(x, y):
    x = x * y
    x = x + 1.0
    x = math.sin(x) + y
    return x


def forward_names(source: str) -> set[str]:
    """Every name the forward pass (and the signature) assigns, before the first adjoint."""
    head, _, _ = source.partition("_bar")
    names = set(re.findall(r"^\s*(?:for )?([A-Za-z_][A-Za-z0-9_]*)(?:, [A-Za-z_][A-Za-z0-9_]*)* (?:=|in)", head, re.M))
    signature = re.search(r"def \w+\((.*)\):", source).group(1)
    names |= {part.split("=")[0].split(":")[0].strip() for part in signature.split(",")}
    return names


@pytest.mark.parametrize("f, args", [(drag_steps, (1.0, 2.0, 0.1, 0.05)), (max_and_squares, ([0.5, -1.0, 2.0], 0.7)),
                                     (chained, (0.3, 1.2)), (sigmoid_float, (0.5, 0.1, 1.0, 0.0))],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_every_adjoint_is_named_after_a_value_the_forward_pass_prints(f, args):
    source = value_and_grad(f).source
    adjoints = set(re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)_bar\b", source))
    assert adjoints <= forward_names(source), (adjoints - forward_names(source), source)
    check(f, *args)


def test_an_update_written_in_place_has_its_adjoint_updated_in_place():
    source = grad(drag_steps).source
    assert "vx_1 = vx_1 * (1 - dt * d)" in lines(source), source
    assert "vx_2" not in source, source  # neither the value nor an adjoint named after it
    assert "vx_1_bar = _t3*vx_1_bar" in lines(source) or \
        any(re.fullmatch(r"vx_1_bar = .*\*vx_1_bar", line) for line in lines(source)), source
    # in a branch too: m's adjoint is m_1_bar, not the merge's m_3_bar
    source = grad(max_and_squares).source
    assert re.findall(r"\bm_\d+_bar\b", source) and set(re.findall(r"\bm_\d+_bar\b", source)) == {"m_1_bar"}, source


def test_an_update_printed_as_its_own_value_keeps_its_own_adjoint():
    def taped(vx, vy, dt, n):
        for i in range(n):
            vx = vx - 0.1 * vx * dt
            vy = vy + vx * dt - 9.8 * dt
        return vx * vy
    source = value_and_grad(taped).source
    assert "vx_2 = vx_1 - 0.1 * vx_1 * dt" in lines(source) and "vx_2_bar = vx_1_bar" in lines(source), source
    value, grads = value_and_grad(taped)(1.5, 0.5, 0.1, 4)
    assert value == taped(1.5, 0.5, 0.1, 4)
    assert_grads_close(grads[:3], central_differences(lambda a, b, c: taped(a, b, c, 4), (1.5, 0.5, 0.1)),
                       taped, (1.5, 0.5, 0.1), params=("vx", "vy", "dt"))


def user_names(x, x_bar, vx_1, _t1):
    """Variables named like the names symback generates."""
    vx = x * x_bar
    for i in range(3):
        vx = vx * (1.0 - 0.1 * vx_1) + _t1
    vx_1_bar = vx * 2.0
    _t2 = math.sin(vx_1_bar)
    return _t2 * math.sin(vx_1_bar) + vx


def test_names_users_picked_never_collide():
    source = value_and_grad(user_names).source
    compile(source, "<generated>", "exec")
    returned = source.strip().splitlines()[-1]
    assert "x_bar2" in returned and "x_bar_bar" in returned, source  # d/dx, d/dx_bar: two names of their own
    check(user_names, 0.3, 0.7, 0.2, 0.1)
    check(user_names, -1.1, 0.4, 1.5, -0.3)


# --- a list element is read once per iteration ---


def squares_of_residuals(ys, w):
    s = 0.0
    for i in range(len(ys)):
        s += (w * ys[i] - ys[i]) ** 2
    return s


def two_lists(xs, ys, w):
    s = 0.0
    for i in range(len(xs)):
        a = xs[i] * w
        b = xs[i] + ys[i]
        s += a * b + ys[i]
    return s


def built_then_read(xs, w):
    out = []
    for i in range(len(xs)):
        out.append(xs[i] * w)
    t = 0.0
    for i in range(len(out)):
        t += out[i] * out[i] + out[-1]
    return t


def enumerated(xs, ys, w):
    s = 0.0
    for i, x in enumerate(xs):
        s += x * w * xs[i] + ys[i]
    return s


@pytest.mark.parametrize("f, args, reads", [
    (squares_of_residuals, ([0.5, -1.0, 2.0], 0.7), {"ys[i]": 2}),
    (max_and_squares, ([0.5, -1.0, 2.0], 0.7), {"ys[i]": 2}),
    (two_lists, ([0.5, -1.0, 2.0], [1.5, 0.25, -0.5], 0.7), {"xs[i]": 2, "ys[i]": 2}),
    (built_then_read, ([0.5, -1.0, 2.0], 0.7), {"out[i_2]": 1}),
    (enumerated, ([0.5, -1.0, 2.0], [1.5, 0.25, -0.5], 0.7), {"xs[i]": 2}),  # x is xs[i]
], ids=lambda v: getattr(v, "__name__", ""))
def test_a_list_element_is_read_once_per_iteration(f, args, reads):
    source = value_and_grad(f).source
    for text, count in reads.items():  # once in the forward loop, once in the reverse one if it needs it
        assert source.count(f"= {text}") == count, source
    assert not re.search(r"\b\w+_i2\b|\bout_i_22\b", source), source
    check(f, *args)


def test_an_element_of_a_list_that_grows_is_read_again_after_an_append():
    def running(xs, w):
        out = [w]
        total = 0.0
        for i in range(len(xs)):
            total += out[-1] * xs[i]
            out.append(out[-1] * 0.5 + xs[i])
            total += out[-1]
        return total
    source = value_and_grad(running).source
    assert source.count("= out[-1]") >= 2, source  # before and after the append: two elements
    check(running, [0.5, -1.0, 2.0], 0.3)


# --- an unused parameter's gradient ---


def ignores(x, y: float, n: int, zs: list[float], dt=0.1, k=3):
    return x * 2.0


def test_an_unused_parameter_of_known_kind_gets_a_plain_zero():
    source = grad(ignores).source
    assert "isinstance" not in source, source
    assert source.strip().splitlines()[-1].strip() == "return x_bar, 0.0, 0.0, [0.0] * len(zs), 0.0, 0.0", source
    assert grad(ignores)(1.5, 2.0, 3, [1.0, 2.0]) == (2.0, 0.0, 0.0, [0.0, 0.0], 0.0, 0.0)


def test_an_unused_parameter_of_unknown_kind_gets_zeros_of_its_kind():
    def unknown(x, y):
        return x * 2.0
    assert grad(unknown)(1.5, [1.0, 2.0]) == (2.0, [0.0, 0.0])
    assert grad(unknown)(1.5, 4.0) == (2.0, 0.0)


def squares_of_a_branch_value(x, y):
    s = 0.0
    for i in range(3):
        t = i * x if i > 0 else 1.0 / (1.0 + y * y)
        s = s + t * t
    return s


def test_a_loop_stores_a_name_once_on_its_tape():
    """The branch's value and the merge after it print as one name, t: the tape
    held (t, t) and the sweep restored `t, t = _tape_1.pop()`."""
    source = grad(squares_of_a_branch_value).source
    assert re.search(r"_tape_1\.append\(t\)", source) and re.search(r"\bt = _tape_1\.pop\(\)", source), source
    check(squares_of_a_branch_value, 0.7, -0.4)
