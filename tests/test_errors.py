"""Every refusal is a SymbackError naming the function, file, absolute line and construct."""

import inspect
import math
import os

import pytest

import symback
from symback import (NoSource, NotDifferentiable, SymbackError, UnsupportedCall, UnsupportedSyntax,
                     UsageError, grad, value_and_grad)

HERE = os.path.basename(__file__)
NAMES = ["thing"]


def line_of(fn, snippet: str) -> int:
    """Absolute line in this file of the first source line of fn containing snippet."""
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if snippet in line)


def helper(x):
    return x * 2


def if_without_else_return(x):
    if x > 0:
        return x
    y = x * 2  # noqa: F841


def has_for(x, xs):
    s = 0.0
    for v in sorted(xs):
        s += x * v
    return s


def has_while(x):
    global NAMES
    while x > 1:
        x = x / 2
    return x


def has_comprehension(xs, w):
    ys = {w * x for x in xs}
    return sum(ys)


def recursive(x):
    return recursive(x - 1.0) * x


def calls_unknown_math(x):
    return math.factorial(x)


def calls_print(x):
    y = x * 2
    print(y)
    return y


def uses_undefined(x):
    return x * not_defined_anywhere  # noqa: F821


def uses_a_list_global(x):
    return x * NAMES


def indexes(xs):
    xs.append(2.0)
    return sum(xs) * 2


def returns_tuple(x, y):
    return x * y, x + y


def returns_nothing(x):
    y = x * 2  # noqa: F841


def uses_before_assign(x):
    y = z * x  # noqa: F821
    z = 2.0
    return y + z


def attribute_store(p, x):
    p.value = x
    return x


def star_args(*xs):
    return xs


def keyword_call(x):
    return math.log(x, base=2)  # noqa


def divides_by_zero(x):
    return x / 0


def try_block(x):
    try:
        y = x * 2
    except ValueError:
        y = 0.0
    return y


def string_const(x):
    return x * "2"


def early_return(x):
    return x
    y = x * 2  # noqa
    return y


CASES = [
    (if_without_else_return, UnsupportedSyntax, r"not every path through this if returns a value", "if x > 0"),
    (has_for, UnsupportedSyntax, r"loops over anything but range\(\.\.\.\) or a list", "for v in sorted"),
    (has_while, UnsupportedSyntax, r"global declarations are not supported.*parameter", "global NAMES"),
    (has_comprehension, UnsupportedSyntax, r"set comprehensions are not supported", "ys = {w * x"),
    (recursive, UnsupportedCall, r"recursive\(\) calls itself.*recursion", "return recursive(x - 1.0)"),
    (calls_unknown_math, UnsupportedCall, r"math\.factorial", "math.factorial"),
    (calls_print, UnsupportedSyntax, r"expression statements", "print(y)"),
    (uses_undefined, UnsupportedSyntax, r"name 'not_defined_anywhere' is not defined", "not_defined_anywhere"),
    (uses_a_list_global, UnsupportedSyntax, r"NAMES is a list, not a number", "x * NAMES"),
    (indexes, UnsupportedSyntax, r"changes a list the caller passed in", "xs.append(2.0)"),
    (returns_tuple, UnsupportedSyntax, r"returning several values.*one scalar output", "return x * y, x + y"),
    (returns_nothing, UnsupportedSyntax, r"must end with a return statement", "y = x * 2"),
    (uses_before_assign, UnsupportedSyntax, r"'z' is used before it is assigned", "y = z * x"),
    (attribute_store, UnsupportedSyntax, r"assignment to an attribute", "p.value = x"),
    (star_args, UnsupportedSyntax, r"\*args and \*\*kwargs", "def star_args"),
    (keyword_call, UnsupportedCall, r"keyword arguments to math\.log", "math.log(x, base=2)"),
    (divides_by_zero, NotDifferentiable, r"derivative of `x / 0` is not a finite number: it divides by zero", "x / 0"),
    (try_block, UnsupportedSyntax, r"try statements are not supported", "try:"),
    (string_const, UnsupportedSyntax, r"the constant '2' \(str\)", 'x * "2"'),
    (early_return, UnsupportedSyntax, r"code after return is never run", "y = x * 2"),
]


@pytest.mark.parametrize("fn, cls, pattern, snippet", CASES, ids=[case[0].__name__ for case in CASES])
def test_refusal_names_function_file_line_and_construct(fn, cls, pattern, snippet):
    with pytest.raises(cls, match=pattern) as info:
        grad(fn)
    message = str(info.value)
    line = line_of(fn, snippet)
    assert message.startswith(f"symback: cannot differentiate {fn.__name__}() at "), message
    assert f"{HERE}:{line}" in message, message
    assert "^" in message  # the construct is underlined in the quoted source line
    assert isinstance(info.value, SymbackError)
    assert info.value.loc.line == line


def test_the_excerpt_underlines_the_construct():
    with pytest.raises(UnsupportedSyntax) as info:
        grad(has_comprehension)
    lines = str(info.value).splitlines()
    assert lines[1].strip() == "ys = {w * x for x in xs}"
    start = lines[2].index("^")
    assert lines[1][start:start + len("{w * x for x in xs}")] == "{w * x for x in xs}"
    assert lines[2].count("^") == len("{w * x for x in xs}")


def test_not_callable_is_a_usage_error():
    with pytest.raises(UsageError, match=r"expected a Python function, got int"):
        grad(3)


def test_builtin_has_no_source():
    with pytest.raises(NoSource, match=r"not a Python function"):
        grad(math.sin)


def test_exec_made_function_has_no_source():
    namespace = {}
    exec("def made(x):\n    return x * x\n", namespace)
    with pytest.raises(NoSource, match=r"no source code is available.*exec"):
        grad(namespace["made"])


def test_lambda_is_refused_with_advice():
    with pytest.raises(UnsupportedSyntax, match=r"lambda functions are not supported.*def"):
        grad(lambda x: x * x)


def test_wrt_must_name_a_parameter():
    def f(w, b):
        return w * b
    with pytest.raises(UsageError, match=r"wrt names 'c', which is not a parameter of f.*w, b"):
        grad(f, wrt="c")
    with pytest.raises(UsageError, match=r"wrt index 2 is out of range"):
        value_and_grad(f, wrt=2)
    with pytest.raises(UsageError, match=r"wrt entries must be parameter names or indices"):
        grad(f, wrt=1.5)
    with pytest.raises(UsageError, match=r"wrt is empty"):
        grad(f, wrt=())


def test_error_tree():
    for cls in (UsageError, NoSource, UnsupportedSyntax, UnsupportedCall, NotDifferentiable,
                symback.InternalError):
        assert issubclass(cls, SymbackError)
    assert not issubclass(SymbackError, SyntaxError)


def test_closure_variable_without_a_value_yet():
    def outer():
        def inner(x):
            return x * late
        with pytest.raises(UnsupportedSyntax, match=r"variable 'late' has no value yet"):
            grad(inner)
        late = 2.0
        return grad(inner)(1.0)
    assert outer() == 2.0


def test_a_bug_of_ours_is_an_internal_error_not_a_bare_exception(monkeypatch):
    import symback.api

    def broken_emit(gradient, name):
        raise KeyError("boom")
    monkeypatch.setattr(symback.api, "emit_parts", broken_emit)

    def fine(x):
        return x * x
    with pytest.raises(symback.InternalError, match=r"KeyError in the emit stage.*please report") as info:
        grad(fine)
    assert "out = x**2" in str(info.value)  # the IR is shown


def sorts_a_list(xs):
    ys = [2.0 * x for x in xs]
    ys.sort()
    return ys[0]


def test_changing_a_built_list_in_place_says_what_to_write_instead():
    with pytest.raises(symback.SymbackError) as info:
        grad(sorts_a_list)
    message = str(info.value)
    assert "ys.sort(...) changes a list in place" in message and "append" in message, message
    assert f":{sorts_a_list.__code__.co_firstlineno + 2}" in message


def circular_conditions(x, w):
    """Found by the property test: SymPy's Piecewise simplification recurses
    forever on this derivative. A clear refusal, not a RecursionError."""
    t = x
    b = -1.25 / (2.0 + math.cos(t * t / (1.5 + math.sin(1.5))))
    return ((t / (1.5 + math.sin(b))) - w) if ((t / (1.5 + math.sin(b))) - w) > ((-0.75 / (1.0 + w ** 2)) - x) \
        else 0.5 * ((-0.75 / (1.0 + w ** 2)) - x)


def test_an_expression_sympy_cannot_differentiate_is_refused_clearly():
    try:
        g = grad(circular_conditions)
    except NotDifferentiable as err:
        assert "write the conditional expression as an if/else statement" in str(err)
        assert f":{circular_conditions.__code__.co_firstlineno + 5}" in str(err)
    else:  # a SymPy that no longer recurses: then the gradient must be right
        from reference import central_differences
        assert g(0.3, 0.2) == pytest.approx(central_differences(circular_conditions, (0.3, 0.2)), rel=1e-6)
