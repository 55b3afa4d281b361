"""Property test: symback's gradient of random straight-line programs.

Hypothesis writes a random function of 3-4 floats: 1-12 statements, each
(re)assigning a variable (or two, by tuple unpacking, or several inside an
if/else on a comparison or a for loop over range) to an expression tree
of depth <= 3 over earlier variables, parameters and small constants, then
a `return`. Operations are defined everywhere (divisors are bounded away
from 0, exp only sees bounded arguments); those with kinks or jumps (max,
min, abs, //, %, atan2) are checked only at points where finite differences
with two step sizes agree, i.e. away from the kinks. The source goes to a real .py file so that inspect.getsource works.
"""

import importlib.util
import itertools
import math
import sys

from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from reference import assert_grads_close, central_differences
from symback import NotDifferentiable, grad

PARAMS = ("x", "y", "z", "w")
# Fresh local names, some shaped like the names symback generates itself.
LOCALS = ("a", "b", "t", "acc", "x_bar", "t_1", "_t1", "out")
CONSTANTS = (0.5, 1.5, 2.0, 3.0, 0.1, -0.75, -1.25)

UNARY = (
    "(-{0})",
    "math.sin({0})",
    "math.cos({0})",
    "math.tanh({0})",
    "math.atan({0})",
    "math.exp(math.sin({0}))",
    "math.exp(math.tanh({0}))",
    "math.sqrt(1.0 + ({0}) ** 2)",
    "math.log(1.0 + ({0}) ** 2)",
)
# Denominators: each is >= 0.25 in absolute value whatever {0} is.
DENOMINATORS = (
    "(1.5 + math.sin({0}))",
    "(2.0 + math.cos({0}))",
    "(1.25 + math.tanh({0}))",
    "(1.0 + ({0}) ** 2)",
)

# Forms of two operands with kinks or jumps (max, min, abs, //, %, atan2's
# branch cut, conditional expressions); points near one are skipped by the
# consistency checks below.
BINARY = (
    "max({0}, {1})",
    "min({0}, {1}, 0.25)",
    "abs({0} - {1})",
    "({0} % 1.5)",
    "(({0}) // 0.75 * {1})",
    "math.hypot({0}, {1})",
    "math.atan2({0}, {1})",
    "({0}) ** 3",
    "math.pow(1.5 + math.sin({0}), {1})",
    "({0} if {0} > {1} else 0.5 * {1})",
    "(math.sin({0}) if -1.0 < {1} <= 1.0 and not {0} == 0.5 else {0} * {1})",
)

MAX_VALUE = 1e6


@st.composite
def expressions(draw, names, depth=3):
    """Python source of a random expression over `names`, nesting at most `depth`."""
    kinds = ["leaf", "binary", "unary", "divide", "function"] if depth > 0 else ["leaf"]
    kind = draw(st.sampled_from(kinds))
    if kind == "leaf":
        if draw(st.booleans()):
            return draw(st.sampled_from(names))
        return f"({draw(st.sampled_from(CONSTANTS))!r})"
    left = draw(expressions(names, depth - 1))
    if kind == "unary":
        return draw(st.sampled_from(UNARY)).format(left)
    if kind == "function":
        return draw(st.sampled_from(BINARY)).format(left, draw(expressions(names, depth - 1)))
    if kind == "divide":
        return f"({left} / {draw(st.sampled_from(DENOMINATORS)).format(draw(expressions(names, depth - 1)))})"
    op = draw(st.sampled_from(["+", "-", "*"]))
    return f"({left} {op} {draw(expressions(names, depth - 1))})"


@st.composite
def random_programs(draw):
    """(source, number of parameters) of a random function `f`."""
    params = list(PARAMS[:draw(st.integers(3, 4))])
    names = list(params)
    body = []
    for _ in range(draw(st.integers(1, 12))):
        value = draw(expressions(names))
        target = draw(st.sampled_from(names + [n for n in LOCALS if n not in names]))
        if draw(st.integers(0, 5)) == 0:  # a loop updating variables that exist before it
            body.append(f"    for i in range({draw(st.integers(0, 3))}):")
            for _ in range(draw(st.integers(1, 2))):
                loop_names = names + ["i"]
                body.append(f"        {draw(st.sampled_from(names))} = {draw(expressions(loop_names, 2))} * 0.5")
            continue
        if draw(st.integers(0, 4)) == 0:  # a branch reassigning variables that exist on both paths
            test = f"{draw(expressions(names, 1))} {draw(st.sampled_from(['<', '>', '<=', '>=']))} " \
                   f"{draw(expressions(names, 1))}"
            body.append(f"    if {test}:")
            for _ in range(draw(st.integers(1, 2))):
                body.append(f"        {draw(st.sampled_from(names))} = {draw(expressions(names, 2))}")
            if draw(st.booleans()):
                body.append("    else:")
                for _ in range(draw(st.integers(1, 2))):
                    body.append(f"        {draw(st.sampled_from(names))} = {draw(expressions(names, 2))}")
            continue
        if draw(st.integers(0, 5)) == 0:  # tuple unpacking: both right-hand sides see the old values
            other = draw(st.sampled_from([n for n in names if n != target] or names))
            body.append(f"    {target}, {other} = {value}, {draw(expressions(names))}")
        elif target in names and draw(st.booleans()):
            op = draw(st.sampled_from(["+=", "-=", "*="]))
            body.append(f"    {target} {op} {value}")
        else:
            body.append(f"    {target} = {value}")
        if target not in names:
            names.append(target)
    body.append(f"    return {draw(expressions(names))}")
    source = "import math\n\n\ndef f({}):\n{}\n".format(", ".join(params), "\n".join(body))
    return source, len(params)


_module_ids = itertools.count()


def load_function(source, directory):
    """Write `source` to a fresh .py file, import it, and return its `f`."""
    name = f"random_program_{next(_module_ids)}"
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.f


def _smooth_here(fn, args, scale, h=1e-4):
    """Whether fn has no kink or jump at args. The asymmetry of the one-sided
    differences, (f(x+h) - f(x)) - (f(x) - f(x-h)), is f''*h*h where f is
    smooth, but shrinks only like h at a kink (and not at all at a jump): so
    quartering h divides it by 16 where f is smooth, by about 4 at a kink.
    A fixed threshold missed kinks in flat spots (a max tie, or a jump of
    x % 1.5 multiplied by a value near 0, where the slopes differ by 4e-5)."""
    at = fn(*args)

    def asymmetry(i, step):
        up, down = list(args), list(args)
        up[i] += step
        down[i] -= step
        return abs((fn(*up) - at) - (at - fn(*down)))

    for i in range(len(args)):
        big, small = asymmetry(i, h), asymmetry(i, h / 4)
        if big > 1e-12 * scale and small * 8 > big:
            return False
    return True


def _consistent(fine, coarse, scale):
    """Whether two finite-difference estimates agree: the reference is trustworthy here."""
    return all(abs(a - b) <= 1e-6 * scale + 1e-6 * abs(b) for a, b in zip(fine, coarse))


@settings(max_examples=60, deadline=None)
@given(program=random_programs(), point=st.lists(st.floats(-2.0, 2.0), min_size=4, max_size=4))
def test_random_program_gradient(program, point, tmp_path_factory):
    """grad(f) of a random program agrees with central differences."""
    source, arity = program
    args = tuple(point[:arity])
    note(source)
    directory = tmp_path_factory.getbasetemp() / "random_programs"
    directory.mkdir(exist_ok=True)
    fn = load_function(source, directory)
    value = fn(*args)
    assume(math.isfinite(value) and abs(value) <= MAX_VALUE)
    want = central_differences(fn, args)
    scale = max(1.0, abs(value))
    assume(all(map(math.isfinite, want)))
    assume(_consistent(want, central_differences(fn, args, h=1e-4), scale))
    assume(_smooth_here(fn, args, scale))
    try:
        gradient = grad(fn)
    except NotDifferentiable as err:  # a refusal, never a wrong number; only this SymPy limit is expected
        assert "simplify in circles" in str(err), str(err)
        assume(False)
    try:
        got = gradient(*args)
    except (ZeroDivisionError, ValueError):
        # an infinite or undefined partial (atan2 at (0, 0), sqrt at 0): the
        # generated code raises, as documented, at a point f is not smooth
        assume(False)
    # Finite-difference rounding error grows with |f|, so the absolute tolerance does too.
    assert_grads_close(got, want, fn, args, atol=1e-6 * scale)
