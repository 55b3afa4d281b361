"""Structural tests on generated code: standalone, deterministic, readable, reusing forward values."""

import ast
import io
import math
from math import sin as _sin
import subprocess
import sys
import textwrap
import traceback

import pytest

from symback import grad, value_and_grad


def sigmoid_cost(w, b, a0, y):
    z = w * a0 + b
    a = 1 / (1 + math.exp(-z))
    return (a - y) ** 2


def exp_chain(x):
    y = math.exp(x)
    return y * y


def collider(x, x_bar, x_1, _t1, out, math_):
    """Parameters named like the names symback generates."""
    x = x * x_bar
    x_bar = math.sin(x) + x_1
    _t1 = _t1 * math.exp(x_bar) + out
    out = _t1 * math_
    return out + x


def backward_lines(source: str) -> list[str]:
    """The lines of the reverse sweep: from the first adjoint on."""
    body = source.splitlines()
    first = next(i for i, line in enumerate(body) if "_bar" in line.split("=")[0] and "=" in line)
    return body[first:]


def test_exp_partial_reuses_the_forward_value():
    source = grad(exp_chain).source
    sweep = "\n".join(backward_lines(source))
    assert "exp" not in sweep, source
    assert grad(exp_chain)(0.3) == pytest.approx(2 * math.exp(0.6))


def test_sigmoid_partial_is_a_times_one_minus_a():
    source = grad(sigmoid_cost).source
    sweep = backward_lines(source)
    assert not any("exp" in line for line in sweep), source
    assert "z_bar = a*(1 - a)*a_bar" in [line.strip() for line in sweep]
    assert "y_bar = -a_bar" in [line.strip() for line in sweep]  # d/dy = -d/da: not computed twice


def test_generated_code_parses_and_is_flake_clean():
    pyflakes_api = pytest.importorskip("pyflakes.api")
    from pyflakes.reporter import Reporter
    for fn in (sigmoid_cost, exp_chain, collider):
        for make in (grad, value_and_grad):
            source = make(fn).source
            ast.parse(source)
            out = io.StringIO()
            assert pyflakes_api.check(source, "generated", Reporter(out, out)) == 0, out.getvalue() + source


def test_same_function_gives_same_bytes_in_another_process():
    here = grad(sigmoid_cost).source
    assert grad(sigmoid_cost).source == here
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(__file__.rsplit('/', 1)[0])!r})
        import test_emit
        from symback import grad
        sys.stdout.write(grad(test_emit.sigmoid_cost).source)
    """)
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "PATH": "", "SYMBACK_NO_CACHE": "1"}).stdout
    assert other == here


def test_generated_code_runs_without_symback_or_sympy():
    source = grad(sigmoid_cost).source
    script = ("import sys\n"
              "sys.modules['sympy'] = None\nsys.modules['symback'] = None\n"
              + source +
              "\nprint(repr(grad_sigmoid_cost(0.5, 0.1, 1.0, 0.0)))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert eval(out) == grad(sigmoid_cost)(0.5, 0.1, 1.0, 0.0)


def test_imports_only_math_and_only_when_used():
    tree = ast.parse(grad(sigmoid_cost).source)
    imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [alias.name for node in imports for alias in node.names] == ["math"]

    def poly(x, y):
        return x * x * y + 3 * y
    assert "import" not in grad(poly).source


def test_generated_names_never_collide_with_user_names():
    g = grad(collider)
    args = (0.3, 0.7, 1.1, 0.4, 0.9, 1.3)
    tree = ast.parse(g.source)
    params = [a.arg for a in tree.body[-1].args.args]
    assert params == ["x", "x_bar", "x_1", "_t1", "out", "math_"]
    # every assigned name is assigned from one statement only or is an accumulation
    assigned = [node.targets[0].id for node in ast.walk(tree) if isinstance(node, ast.Assign)]
    assert len(assigned) == len(set(assigned)), g.source
    assert not set(assigned) & set(params), g.source
    # and the result is right: compare with central differences
    h = 1e-6
    for i, got in enumerate(g(*args)):
        up, down = list(args), list(args)
        up[i] += h
        down[i] -= h
        assert got == pytest.approx((collider(*up) - collider(*down)) / (2 * h), rel=1e-5, abs=1e-7)


def local_named_math(x):
    math = x * 2.0
    return math * _sin(math)


def test_a_local_named_math_does_not_hide_the_math_module():
    g = grad(local_named_math)
    assert "import math as math2" in g.source
    x, h = 0.4, 1e-6
    want = (local_named_math(x + h) - local_named_math(x - h)) / (2 * h)
    assert g(x) == pytest.approx(want, rel=1e-6)


def test_traceback_shows_the_generated_line():
    def blows_up(x):
        y = math.sqrt(x)   # forward fine at 0, the partial 1/(2*y) is not
        return y

    g = grad(blows_up)
    with pytest.raises(ZeroDivisionError) as info:
        g(0.0)
    text = "".join(traceback.format_exception(info.value))
    assert "grad_blows_up" in text
    assert "x_bar = 1/(2*y)" in text  # the failing generated line itself is shown


def test_forward_without_value_computes_only_what_the_sweep_reads():
    def tail(x, y):
        s = x * y
        t = s + 1.0
        return t * t

    source = grad(tail).source
    # dt/ds and ds/dx need t, x, y; the final product itself is never computed
    assert "out =" not in source
    vsource = value_and_grad(tail).source
    assert "out = t * t" in vsource  # the user's own expression


def test_printer_parenthesizes_python_operators_and_divisions():
    # regression: `-0.5*z_bar/_t2*_t4` once divided by _t2 and multiplied by _t4,
    # found by tests/test_random_programs.py
    import sympy as sp
    from symback import mathlib
    from symback.templates import Printer
    a, b, c, bar = sp.symbols("a b c bar", real=True)
    printer = Printer()
    assert printer.product(a / (b * c), bar) == "a*bar/(b*c)"
    assert printer.product(1 / (b + c), bar) == "bar/(b + c)"
    assert printer.product(-a / b ** 2, bar) == "-a*bar/(b*b)"
    assert printer.product(a ** 2 / (b * c), bar) == "a*a*bar/(b*c)"
    assert printer.expression(mathlib.FloorDiv(a * b, b * c)) == "(a*b // (b*c))"
    assert printer.expression(mathlib.Mod(a, b + c)) == "(a % (b + c))"
    assert printer.expression(mathlib.FloorDiv(a, b) ** 2) == "(a // b)**2"
    assert printer.expression(c ** (a ** 2)) == "c**(a*a)"
    assert printer.expression(sp.Pow(a ** 2, c, evaluate=False)) == "(a*a)**c"
    assert printer.expression(sp.exp(-a ** 2)) == "math.exp(-(a*a))"
    assert printer.expression(1 - a ** 2) == "1 - (a*a)"
    # and the printed text means the same as the expression
    values = {a: 0.7, b: -1.3, c: 2.1}
    for expr in (a / (b * c), mathlib.Mod(a, b + c), sp.Pow(a ** 2, c, evaluate=False), c ** (a ** 2), mathlib.FloorDiv(a * b, b * c)):
        text = printer.expression(expr)
        got = eval(text, {"math": math}, {str(k): v for k, v in values.items()})
        want = float(expr.xreplace({k: sp.Float(v) for k, v in values.items()}).evalf())
        assert got == pytest.approx(want), text


def scaled_loss(a, y):
    return 2.2 * (a - y) ** 2 + 0.1 * 3 * a  # 2.2 and 0.1 are operands of the shape (2.5 would be 5/2 in it)


def test_constants_fold_into_the_partials_numbers():
    source = grad(scaled_loss).source
    assert "2*2.2" not in source and "4.4*a - 4.4*y + 0.30000000000000004" in source, source
    assert "y_bar = 4.4*(-a + y)" in source, source
    got = grad(scaled_loss)(0.7, 0.2)
    assert got == pytest.approx((4.4 * 0.5 + 0.1 * 3, -4.4 * 0.5), rel=1e-15)


def shared_calls(x, y):
    a = math.sin(x) * y
    b = math.sin(x) + a
    return b * math.cos(x)


def test_a_call_held_in_a_temp_is_not_computed_again():
    source = grad(shared_calls).source
    assert source.count("math.sin(x)") == 1 and source.count("math.cos(x)") == 1, source
    want = (math.cos(0.4) * (1.3 + 1) * math.cos(0.4) - (math.sin(0.4) * 1.3 + math.sin(0.4)) * math.sin(0.4),
            math.sin(0.4) * math.cos(0.4))
    assert grad(shared_calls)(0.4, 1.3) == pytest.approx(want, rel=1e-12)
