"""Regressions for issue 9, sections 5 and 6: never differentiate another function
than the one given; refusals say what the user wrote, never SymPy's internals.

Functions under test live at module level here, or in generated files under
tmp_path (big programs, a module edited after import).
"""

import functools
import inspect
import math
import os
import re
import time

import pytest

from faithful import FORBIDDEN_IN_MESSAGES, assert_clean_message, check_faithful, deadline, load_module
from symback import InternalError, SymbackError, grad, value_and_grad

HERE = os.path.basename(__file__)


def first_line(fn, snippet: str) -> int:
    """Absolute line in its file of fn's first source line containing snippet."""
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if snippet in line)


# ---------------------------------------------------------------------------
# Section 5: wrappers and gradients of gradients
# ---------------------------------------------------------------------------

def double(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2 * fn(x)
    return wrapper


@double
def sq(x):
    return x * x


def test_user_decorator_is_not_stripped():
    """issue 9, section 5: inspect.unwrap stripped `@double` (built with functools.wraps)
    and differentiated sq itself. Right: the gradient of 2*x**2 (4x), or a clear refusal."""
    assert sq(3.0) == 18.0  # what the decorated function computes
    try:
        g, vg = grad(sq), value_and_grad(sq)
    except SymbackError as err:
        assert not isinstance(err, InternalError), str(err)
        return
    assert g(3.0) == pytest.approx(12.0, rel=1e-12)  # d/dx 2x**2 = 4x = 12 at 3 (sq alone: 6)
    value, slope = vg(3.0)
    assert value == sq(3.0)
    assert slope == g(3.0)


def quartic(x):
    return x ** 4


def test_grad_of_grad_is_the_second_derivative_or_refused():
    """issue 9, section 5: grad(grad(f)) followed __wrapped__ back to f and returned the
    first derivative: 32 for 48 at x**4, x = 2. Higher derivatives may be refused."""
    assert grad(quartic)(2.0) == pytest.approx(32.0)  # d/dx x**4 = 4x**3 = 32 at 2
    try:
        result = grad(grad(quartic))(2.0)
    except SymbackError as err:
        assert not isinstance(err, InternalError), str(err)
        return
    assert result == pytest.approx(48.0, rel=1e-9)  # d2/dx2 x**4 = 12x**2 = 48 at 2, never 32


dquartic = grad(quartic)


def slope_of_quartic(x):
    return dquartic(x)


def slope_of_quartic_made_inside(x):
    dq = grad(quartic)
    return dq(x)


@pytest.mark.parametrize("fn", [slope_of_quartic, slope_of_quartic_made_inside],
                         ids=lambda f: f.__name__)
def test_a_function_calling_a_gradient(fn):
    """issue 9, section 5: a function calling `dq = grad(quartic)` was differentiated as
    if it called quartic (32 for 48). Right: 48, or a clear refusal."""
    assert fn(2.0) == pytest.approx(32.0)
    try:
        g = grad(fn)
        result = g(2.0)
    except SymbackError as err:
        assert not isinstance(err, InternalError), str(err)
        return
    assert result == pytest.approx(48.0, rel=1e-9)  # d/dx 4x**3 = 12x**2 = 48 at 2


def test_module_edited_after_import(tmp_path, monkeypatch):
    """issue 9, section 5: a module file edited after import was differentiated as the
    new text while the function still runs the old code. Right: the gradient of the code
    that runs (x*x: 6 at 3), or a clear refusal; never the new text (x*x*x: 27)."""
    module = load_module(tmp_path, monkeypatch, "edited_after_import",
                         "def f(x):\n    return x * x\n")
    (tmp_path / "edited_after_import.py").write_text(
        "def f(x):\n    return x * x * x\n")
    assert module.f(3.0) == 9.0  # the function still runs the old code
    try:
        g, vg = grad(module.f), value_and_grad(module.f)
    except SymbackError as err:
        assert not isinstance(err, InternalError), str(err)
        assert "edited_after_import.py" in str(err), str(err)
        return
    assert g(3.0) == pytest.approx(6.0, rel=1e-12)  # d/dx x*x = 2x = 6 at 3 (new text: 27)
    assert vg(3.0) == (module.f(3.0), g(3.0))


def test_module_edited_after_import_with_lines_moved(tmp_path, monkeypatch):
    """issue 9, section 5: the same, where the edit moves the function down two lines."""
    module = load_module(tmp_path, monkeypatch, "moved_after_import",
                         "import math\n\n\ndef f(x):\n    return math.sin(x)\n")
    (tmp_path / "moved_after_import.py").write_text(
        "import math\n\n\ndef g(x):\n    return x\n\n\ndef f(x):\n    return math.cos(x)\n")
    try:
        g = grad(module.f)
    except SymbackError as err:
        assert not isinstance(err, InternalError), str(err)
        return
    assert g(0.5) == pytest.approx(math.cos(0.5), rel=1e-12)  # d/dx sin x = cos x


# ---------------------------------------------------------------------------
# Section 6: misleading messages
# ---------------------------------------------------------------------------

def refusal_or_none(fn):
    """The SymbackError grad or value_and_grad raises for fn, or None if both compile."""
    try:
        grad(fn)
        value_and_grad(fn)
    except SymbackError as err:
        return err
    return None


def explanation(err) -> str:
    """What the message says is wrong and what to do, without the quoted source line."""
    return f"{err.what}\n{err.hint}"


def or_as_number(x, y):
    return (x or y) * 2.0


def and_as_number(x, y):
    return (x and y) * 2.0


@pytest.mark.parametrize("fn, word", [(or_as_number, "or"), (and_as_number, "and")],
                         ids=["or", "and"])
def test_or_used_as_a_number(fn, word):
    """issue 9, section 6: `x or y` was called "a comparison used as a number". It is
    valid Python (x unless x is 0, else y): work like Python, or say what it is."""
    err = refusal_or_none(fn)
    if err is not None:
        assert not isinstance(err, InternalError), str(err)
        assert_clean_message(err, HERE, first_line(fn, "return"))
        assert "comparison used as a number" not in str(err), str(err)
        assert re.search(rf"\b{word}\b", explanation(err)), str(err)
        return
    check_faithful(fn, 2.0, 3.0)
    check_faithful(fn, 0.0, 3.0, smooth=False)  # x = 0 is where `or`/`and` switches operand
    check_faithful(fn, 2.0, 0.0, smooth=False)


# A variable assigned in a branch or a loop and read after it: valid Python. Where
# Python runs it, the gradient must work; where Python raises UnboundLocalError at
# run time, the gradient raises it too (the brief's reading of issue 9; a compile-
# time refusal would make these fail even with a clear message).

def assigned_in_one_branch(x):
    if x > 0:
        y = x * 2.0
    return y


def assigned_in_both_branches(x):
    if x > 0:
        y = x * 2.0
    else:
        y = -x
    return y


def assigned_in_a_loop(x):
    for i in range(3):
        y = x * i
    return y


def assigned_in_a_runtime_loop(x, n):
    for i in range(n):
        y = x * i
    return y


def assigned_in_a_while(x):
    while x < 10.0:
        y = x
        x = x * 2.0
    return y


def assigned_in_a_list_loop(x, xs):
    for v in xs:
        y = v * x
    return y


@pytest.mark.parametrize("fn, args, wrt, want", [
    (assigned_in_one_branch, (1.0,), None, 2.0),       # d/dx 2x = 2
    (assigned_in_one_branch, (-1.0,), None, UnboundLocalError),
    (assigned_in_both_branches, (1.0,), None, 2.0),
    (assigned_in_both_branches, (-1.0,), None, -1.0),  # d/dx -x = -1
    (assigned_in_a_loop, (1.5,), None, 2.0),           # y = x * 2 after the loop
    (assigned_in_a_runtime_loop, (1.5, 3), "x", 2.0),
    (assigned_in_a_runtime_loop, (1.5, 0), "x", UnboundLocalError),
    (assigned_in_a_while, (1.0,), None, 8.0),          # y = 8x (x: 1, 2, 4, 8 -> 16)
    (assigned_in_a_while, (20.0,), None, UnboundLocalError),
    (assigned_in_a_list_loop, (2.0, [1.0, 3.0]), None, (3.0, [0.0, 2.0])),  # y = xs[-1] * x
    (assigned_in_a_list_loop, (2.0, []), None, UnboundLocalError),
], ids=["one_branch_taken", "one_branch_not_taken", "both_branches_then", "both_branches_else",
        "range_loop", "runtime_loop", "runtime_loop_zero", "while", "while_zero",
        "list_loop", "list_loop_empty"])
def test_variable_assigned_in_a_branch_or_loop(fn, args, wrt, want):
    """issue 9, section 6: a variable assigned in a branch or loop and read after was
    "used before it is assigned" though it was assigned."""
    if isinstance(want, type):
        with pytest.raises(want):
            fn(*args)
    grads = check_faithful(fn, *args, wrt=wrt)
    if not isinstance(want, type):
        assert grads == want


def starred_unpack(x):
    a, *b = x, x * 2.0, x * 3.0
    return a * b[0] + b[1]


def test_starred_unpacking():
    """issue 9, section 6: `a, *b = x, x, x` said "cannot unpack 3 values into 2 names".
    Work like Python, or say that starred assignment is not supported."""
    err = refusal_or_none(starred_unpack)
    if err is not None:
        assert not isinstance(err, InternalError), str(err)
        assert_clean_message(err, HERE, first_line(starred_unpack, "a, *b"))
        assert "cannot unpack 3 values into 2 names" not in str(err), str(err)
        assert re.search(r"\*|star", explanation(err)), str(err)
        return
    grads = check_faithful(starred_unpack, 2.0)
    assert grads == 11.0  # 2x**2 + 3x: d/dx = 4x + 3 = 11 at 2


def sum_with_start(xs):
    return sum(xs, 10.0) * 2.0


def test_sum_with_a_start_value():
    """issue 9, section 6: `sum(xs, 10.0)` said "is not a list parameter". It is valid
    Python: work, or say that the start value is what is not supported."""
    err = refusal_or_none(sum_with_start)
    if err is not None:
        assert not isinstance(err, InternalError), str(err)
        assert_clean_message(err, HERE, first_line(sum_with_start, "sum(xs, 10.0)"))
        assert "not a list parameter" not in str(err), str(err)
        assert re.search(r"start|second|initial|10\.0", explanation(err)), str(err)
        return
    grads = check_faithful(sum_with_start, [1.0, 2.0, 3.0])
    assert grads == [2.0, 2.0, 2.0]  # d/dx_j 2*(sum + 10) = 2


def divides_by_zero(x):
    return x / 0


def test_division_by_zero_message_has_no_sympy_internals():
    """issue 9, section 6: `x / 0` mentioned SymPy's `zoo*__a0`. Either the gradient
    raises ZeroDivisionError like f, or the refusal speaks of the division by zero."""
    with pytest.raises(ZeroDivisionError):
        divides_by_zero(1.0)
    err = refusal_or_none(divides_by_zero)
    if err is not None:
        assert not isinstance(err, InternalError), str(err)
        assert_clean_message(err, HERE, first_line(divides_by_zero, "x / 0"))
        assert re.search(r"zero|/ 0", explanation(err)), str(err)
        return
    check_faithful(divides_by_zero, 1.0)


# Big programs, written to tmp files. The time limits guard against exponential
# blow-up only (today: 96 s for the elif chain, over 60 s for the return blocks);
# a linear compiler does each in well under a second.
COMPILE_LIMIT = 20.0


def nested_polynomial_source(levels: int = 100) -> str:
    """Horner form nested `levels` deep: (c0 + x * (c1 + x * (... + x * 0.5)))."""
    expr = "0.5"
    for k in range(levels):
        expr = f"({0.25 + 0.01 * (k % 7)!r} + x * {expr})"
    return f"def nested_poly(x):\n    return {expr}\n"


def long_sum_source(terms: int = 400) -> str:
    """One return of a 400-term sum, four kinds of term in turn."""
    parts = []
    for k in range(terms):
        c = repr(0.001 * (k + 1))
        parts.append([f"{c} * x * y", f"math.sin({c} * x)", f"{c} * x * x",
                      f"math.exp(-{c} * y) * x"][k % 4])
    return "import math\n\n\ndef long_sum(x, y):\n    return " + " + ".join(parts) + "\n"


def elif_chain_source(n: int = 100) -> str:
    """if x < 0 ... elif x < 0.1 ... (n elifs) ... else, then one return."""
    lines = ["def elif_chain(x):", "    if x < 0.0:", "        y = x * 0.5"]
    for k in range(1, n + 1):
        lines += [f"    elif x < {k * 0.1!r}:", f"        y = x * {1.0 + k * 0.01!r} + {k * 0.001!r}"]
    lines += ["    else:", "        y = x * x", "    return y * x", ""]
    return "\n".join(lines)


def return_blocks_source(n: int = 12) -> str:
    """n blocks of `if ...: if ...: return ...` followed by more code: the rest of the
    function must not be copied into both sides of every block (2**n copies)."""
    lines = ["def return_blocks(x):", "    y = x"]
    for k in range(n):
        lines += [f"    if y > {100.0 + k!r}:", f"        if y > {200.0 + k!r}:",
                  f"            return y * {k + 1.0!r}", "        y = y * 0.5",
                  "    y = y * 1.5 + 0.25"]
    lines += ["    return y", ""]
    return "\n".join(lines)


def flat_return_blocks_source(n: int = 12) -> str:
    """n plain `if y > c: return ...` blocks, with a statement between them."""
    lines = ["def flat_return_blocks(x):", "    y = x"]
    for k in range(n):
        lines += [f"    if y > {100.0 + k!r}:", f"        return y * {k + 1.0!r}",
                  "    y = y * 1.5 + 0.25"]
    lines += ["    return y", ""]
    return "\n".join(lines)


def compile_in_time(fn, tmp_path):
    """value_and_grad(fn) within COMPILE_LIMIT seconds, or the clean refusal it raised."""
    start = time.perf_counter()
    with deadline(COMPILE_LIMIT, f"compiling {fn.__name__}"):
        try:
            both = value_and_grad(fn)
        except SymbackError as err:
            assert not isinstance(err, InternalError), str(err)
            return None, err
    assert time.perf_counter() - start < COMPILE_LIMIT  # exponential blow-up guard only
    return both, None


@pytest.mark.parametrize("make, name, points", [
    (nested_polynomial_source, "nested_poly", [(0.5,), (-0.9,)]),
    (long_sum_source, "long_sum", [(0.3, 0.7)]),
], ids=["nested_100", "terms_400"])
def test_deep_or_long_expression_compiles_or_is_refused_cleanly(tmp_path, monkeypatch, make, name, points):
    """issue 9, section 6: a 100-level nested polynomial said "conditional expressions
    simplify in circles"; a 400-term expression was a RecursionError (InternalError).
    Either compiles (and is right) or is refused cleanly, fast."""
    module = load_module(tmp_path, monkeypatch, f"big_{name}", make())
    fn = getattr(module, name)
    both, err = compile_in_time(fn, tmp_path)
    if err is not None:
        message = str(err)
        assert f"big_{name}.py:" in message, message
        for word in FORBIDDEN_IN_MESSAGES:
            assert word not in message, f"{word!r} in the message:\n{message[:2000]}"
        return
    for args in points:
        check_faithful(fn, *args)


@pytest.mark.parametrize("make, name, points", [
    (elif_chain_source, "elif_chain", [(-1.0,), (3.05,), (20.0,)]),
    (return_blocks_source, "return_blocks", [(1.0,), (150.0,), (250.0,), (60.0,)]),
    (flat_return_blocks_source, "flat_return_blocks", [(1.0,), (60.0,), (150.0,)]),
], ids=["elif_100", "return_blocks_12", "flat_return_blocks_12"])
def test_long_branch_chains_compile_in_seconds(tmp_path, monkeypatch, make, name, points):
    """issue 9, section 6: a chain of 100 elifs took 96 s, 12 sequential `if ... return`
    blocks over 60 s (the rest of the function copied into each branch). Time limit:
    a guard against exponential blow-up only."""
    module = load_module(tmp_path, monkeypatch, f"chain_{name}", make())
    fn = getattr(module, name)
    both, err = compile_in_time(fn, tmp_path)
    assert err is None, str(err)  # plain if/elif/return: supported, must compile
    for args in points:
        check_faithful(fn, *args)
