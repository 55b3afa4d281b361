"""parse: source -> SSA IR. Compared as printed IR text."""

import math
import math as m
from math import exp, sin

from symback import ir
from symback.parse import parse

SCALE = 0.5
POWER = 3


def body_lines(fn) -> list[str]:
    """The IR statements, without the trailing line comments."""
    return [line.split("#")[0].strip() for line in str(parse(fn)).splitlines()[1:]]


def reassigns(x, y):
    x = x * y
    x += 1.0
    x_1 = x * 2
    return x_1 + x


def test_reassignment_makes_ssa_versions_that_avoid_user_names():
    assert body_lines(reassigns) == [
        "x_2 = x*y",       # x_1 is the user's own variable, so x's versions skip it
        "x_3 = x_2 + 1",  # 1.0 is the exact 1 in SymPy's view; the forward pass prints 1.0
        "x_1 = 2*x_3",
        "out = x_1 + x_3",
        "return out",
    ]


def swaps(a, b):
    a, b = b * 2, a
    return a - b


def test_tuple_unpacking_reads_the_old_values():
    assert body_lines(swaps) == ["a_1 = 2*b", "b_1 = a", "out = a_1 - b_1", "return out"]


def imports_and_constants(x):
    y = sin(x) + m.cos(x) + exp(SCALE * x) + x ** POWER + math.pi
    return y


def test_names_resolve_to_math_functions_and_inlined_constants():
    assert body_lines(imports_and_constants) == [
        "y = x**3 + exp(0.5*x) + sin(x) + cos(x) + pi", "return y"]


def returns_a_parameter(x, y):
    z = x * y  # noqa: F841 (dead code is still parsed)
    return x


def test_return_of_a_name_adds_no_statement():
    function = parse(returns_a_parameter)
    assert function.result == function.params[0].value
    assert [str(s.target) for s in function.body] == ["z"]


def test_statements_share_one_shape_per_form():
    def same_form(a, b, c):
        x = a * b + c
        y = b * c + a
        z = x * y + 0.3
        return z
    body = parse(same_form).body
    assert body[0].shape is body[1].shape is body[2].shape  # 0.3 is an operand, not part of the shape
    assert body[2].args == (body[0].target, body[1].target, ir.Const(0.3))


def test_float_literals_that_are_exact_small_numbers_stay_in_the_shape():
    """Issue 13: 1.0, and 0.5 as a factor, are part of the shape, read exactly
    by SymPy (1.0 as 1, 0.5 as 1/2), so that their partials have the textbook
    form; the tree keeps the float, so the forward pass prints 1.0 as written.
    0.5 in a sum stays an operand (SymPy would pull the 1/2 out of it)."""
    def sigmoid(z):
        a = 1.0 / (1.0 + math.exp(-z))
        return 0.5 * a * a
    first, second = parse(sigmoid).body
    assert first.shape.tree == ("bin", "/", ("num", 1.0), ("bin", "+", ("num", 1.0), ("call", "exp", ("neg", ("arg", 0)))))
    assert str(first.shape.expr) == "1/(1 + exp(-__a0))"
    assert first.args == (first.args[0],) and second.args == (first.target,)
    assert str(second.shape.expr) == "__a0**2/2"

    def in_a_sum(x):
        return x / (1.5 + math.cos(x))
    only, = parse(in_a_sum).body
    assert only.args[1:] == (ir.Const(1.5),)


def test_exponent_constants_stay_in_the_shape():
    def powers(x):
        return x ** 0.5 + x ** 2.5
    (stmt,) = parse(powers).body
    assert [str(arg) for arg in stmt.args] == ["x"]  # no constant operands
    assert str(stmt) == "out = x**0.5 + x**2.5"


def test_statement_locations_are_absolute_lines():
    import inspect
    lines, start = inspect.getsourcelines(reassigns)
    function = parse(reassigns)
    assert function.line == start
    assert [s.loc.line for s in function.body[:3]] == [start + 1, start + 2, start + 3]
    assert function.body[0].loc.text.strip() == "x = x * y"


def test_verify_rejects_use_before_definition():
    function = parse(reassigns)
    broken = ir.Function(function.name, function.file, function.line, function.params,
                         tuple(reversed(function.body)), function.result)
    try:
        broken.verify()
    except AssertionError as err:
        assert "used before it is defined" in str(err)
    else:
        raise AssertionError("verify accepted statements out of order")
