"""Every function of `math`: differentiated if it has a derivative, else refused by name.

The functions added for issue 11 (radians, degrees, exp2, cbrt, copysign,
fmod, remainder, ldexp, gamma, lgamma, hypot with any number of arguments)
are checked with `faithful.check_faithful` at several points: the value is
f's, grad agrees with value_and_grad, the gradient matches central
differences where f is smooth, and where f raises (math.gamma(0.0)) the
gradient raises the same exception type. Then `dir(math)` is walked: every
callable is either differentiated (and checked against central differences)
or refused with a SymbackError naming it.
"""

import importlib.util
import math
import re
import sys

import pytest

from faithful import check_faithful
from reference import central_differences
from symback import SymbackError, grad, value_and_grad
from symback import mathlib

try:
    import numpy as np
except ImportError:  # numpy is optional for symback
    np = None

INF = math.inf
NAN = math.nan
needs_311 = pytest.mark.skipif(not hasattr(math, "exp2"), reason="math.exp2 and math.cbrt are Python 3.11+")

# What a printed gradient must never contain: SymPy's own names for what it computes.
SYMPY_WORDS = re.compile(r"sympy|polygamma|loggamma|Digamma|Gamma|CopySign|Fmod|Remainder|Ldexp|Radians|"
                         r"Degrees|Hypot|Cbrt|Piecewise|\bzoo\b|\bnan\b|\boo\b|(?<!copy)sign\(|__a")


def assert_plain_source(fn):
    """The generated module calls math's functions and its own helpers, nothing of SymPy's."""
    source = value_and_grad(fn).source
    body = source.split("def value_and_grad_", 1)[1]
    found = SYMPY_WORDS.search(body)
    assert found is None, f"{found.group()!r} in the gradient of {fn.__name__}:\n{source}"
    return source


def check_points(fn, points, **kwargs):
    """check_faithful at each point (a tuple of arguments)."""
    for point in points:
        check_faithful(fn, *point, **kwargs)
    assert_plain_source(fn)


# ---------------------------------------------------------------------------
# The functions added, one by one
# ---------------------------------------------------------------------------

def radians_degrees(x):
    return math.sin(math.radians(x)) + math.radians(x) * math.degrees(x) / 1000.0 + math.degrees(x)


def test_radians_and_degrees_are_constant_factors():
    check_points(radians_degrees, [(0.0,), (30.0,), (-45.5,), (1000.25,)])
    source = value_and_grad(radians_degrees).source
    assert "math.radians(x)" in source and "math.degrees(x)" in source  # the forward pass as written
    value, slope = value_and_grad(lambda_free_radians)(2.0)
    assert value == math.radians(2.0) and slope == pytest.approx(math.pi / 180, rel=1e-15)


def lambda_free_radians(x):
    return math.radians(x)


def exp2_function(x):
    return math.exp2(x) * math.exp2(-0.5 * x * x) + math.sin(math.exp2(x))


@needs_311
def test_exp2():
    check_points(exp2_function, [(0.0,), (1.5,), (-3.25,), (2000.0,)])  # 2000.0: OverflowError in f


def cbrt_function(x):
    return math.cbrt(x) + x * math.cbrt(x * x + 1.0)


@needs_311
def test_cbrt_is_the_real_root_also_of_negative_numbers():
    check_points(cbrt_function, [(-8.0,), (0.3,), (27.5,), (-1e-3,)])
    # at 0 the slope is infinite: f returns, the gradient raises (as for math.sqrt at 0)
    assert cbrt_function(0.0) == 0.0
    with pytest.raises(ZeroDivisionError):
        grad(cbrt_function)(0.0)


def copysign_function(x, y):
    return math.copysign(x, y) * y + math.copysign(2.0, x)


def test_copysign():
    check_points(copysign_function, [(1.5, -2.0), (-0.7, 0.3), (3.0, 4.0), (-2.5, -1.5)])
    # a kink at x == 0: 0, as abs(x) gets; a jump at y == 0 (-0.0 is negative)
    for x, y, want in [(0.0, 1.0, (0.0, 0.0)), (2.0, -0.0, (0.0, -2.0)), (2.0, 0.0, (0.0, 2.0))]:
        grads = check_faithful(copysign_function, x, y, smooth=False)
        assert grads == want, (x, y, grads)


def fmod_function(x, y):
    return math.fmod(x, y) * 1.5 + math.sin(math.fmod(y, x))


def remainder_function(x, y):
    return math.remainder(x, y) * 1.5 + math.sin(math.remainder(y, x))


@pytest.mark.parametrize("fn", [fmod_function, remainder_function])
def test_fmod_and_remainder(fn):
    check_points(fn, [(5.3, 2.0), (-5.3, 2.0), (5.3, -2.1), (7.7, 0.6), (0.3, 11.0)])
    check_points(fn, [(1.0, 0.0), (0.0, 1.0), (INF, 1.0)])  # ValueError in f, and in the gradient


@pytest.mark.parametrize("fn, quotient", [(math.fmod, math.trunc), (math.remainder, round)])
def test_fmod_and_remainder_slope_in_y_is_minus_the_quotient(fn, quotient):
    def plain_fmod(x, y):
        return math.fmod(x, y)

    def plain_remainder(x, y):
        return math.remainder(x, y)

    plain = plain_fmod if fn is math.fmod else plain_remainder
    for x, y in [(7.5, 2.0), (-7.5, 2.0), (7.0, 2.0), (-9.25, -0.5), (1e6 + 0.25, 3.0)]:
        dx, dy = grad(plain)(x, y)
        assert dx == 1.0
        # x/y is exact at these points; round() is half to even, as remainder's is
        assert dy == -quotient(x / y), (fn.__name__, x, y, dy)


def ldexp_function(x, n):
    return math.ldexp(x, n) * x + math.ldexp(x * x, 3)


def test_ldexp_in_x_and_no_gradient_for_the_int_exponent():
    for x, n in [(1.5, 4), (-0.3, -2), (0.0, 10), (3.0, 0)]:
        check_faithful(ldexp_function, x, n, wrt="x")
        dx, dn = grad(ldexp_function)(x, n)
        assert dn == 0.0 and dx == pytest.approx(2 * x * 2.0 ** n + 16 * x, rel=1e-15)
    check_faithful(ldexp_function, 1.5, 2.0)  # TypeError in f: a float exponent
    check_faithful(ldexp_function, 1.5, 5000)  # OverflowError in f
    assert_plain_source(ldexp_function)


def gamma_function(x):
    return math.gamma(x) + math.exp(0.1 * math.gamma(x))


def lgamma_function(x):
    return math.lgamma(x) * x + math.cos(math.lgamma(x))


def test_gamma():
    check_points(gamma_function, [(0.5,), (3.7,), (-1.5,), (-0.2,), (10.3,), (1e-3,)])
    check_points(gamma_function, [(0.0,), (-2.0,), (-0.0,), (180.0,), (-INF,)])  # ValueError, OverflowError


def test_lgamma_also_of_negative_numbers():
    check_points(lgamma_function, [(0.5,), (3.7,), (-1.5,), (-2.5,), (0.01,), (1e5,), (-7.25,)])
    check_points(lgamma_function, [(0.0,), (-3.0,), (-1e20,)])  # ValueError in f


def test_gamma_gradient_is_gamma_times_digamma():
    # d/dx gamma(x) at 1 is -(Euler's gamma); d/dx lgamma(x) at 2 is 1 - Euler's gamma
    euler = 0.5772156649015329
    assert grad(plain_gamma)(1.0) == pytest.approx(-euler, rel=1e-14)
    assert grad(plain_lgamma)(2.0) == pytest.approx(1 - euler, rel=1e-14)
    assert grad(plain_lgamma)(0.5) == pytest.approx(-euler - 2 * math.log(2), rel=1e-14)


def plain_gamma(x):
    return math.gamma(x)


def plain_lgamma(x):
    return math.lgamma(x)


def test_digamma_helper_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    digamma = mathlib.Digamma.python  # the helper the generated module defines, from the same text
    points = [1e-300, 1e-8, 0.25, 1.0, 1.4616321449683623, 2.5, 9.999, 10.0, 37.5, 1e8, 1e300,
              -0.5, -1e-8, -2.75, -3.0000001, -17.125, -1e7 - 0.5]
    for x in points:
        want = float(mpmath.digamma(x))
        # near its root (1.46...) digamma is small: its error is relative to its slope there
        assert digamma(x) == pytest.approx(want, rel=1e-14, abs=1e-15), x
    for pole in (0.0, -0.0, -1.0, -4.0, -1e20):
        with pytest.raises(ValueError):
            digamma(pole)
    assert digamma(INF) == INF and math.isnan(digamma(NAN))


def hypot_one(x):
    return math.hypot(x) * x


def hypot_three(x, y, z):
    return math.hypot(x, y, z) + math.sin(math.hypot(x, 2.0, y, z))


def test_hypot_with_any_number_of_arguments():
    check_points(hypot_one, [(2.0,), (-0.5,)])
    check_points(hypot_three, [(1.0, 2.0, 3.0), (-0.5, 0.0, 4.0), (0.0, 0.0, 1e-3)])
    check_points(hypot_origin, [(3e200, -4e200), (-3.0, 4.0)])
    # no underflow (central differences cannot step this small): d/dx sqrt(2x² + y²) = 2x/hypot
    x, y = -1e-200, 2e-200
    assert grad(hypot_origin)(x, y) == pytest.approx((2 * x / math.hypot(x, y, x), y / math.hypot(x, y, x)))
    assert grad(hypot_three)(1.0, 2.0, 2.0)[0] == pytest.approx(1 / 3 + math.cos(math.sqrt(13)) / math.sqrt(13))
    # at the origin hypot has no derivative: the gradient raises, as for two arguments
    with pytest.raises(ZeroDivisionError):
        grad(hypot_origin)(0.0, 0.0)


def hypot_origin(x, y):
    return math.hypot(x, y, x)


# ---------------------------------------------------------------------------
# In loops, in helpers, and beside NumPy arrays
# ---------------------------------------------------------------------------

def log_likelihood(x, rate):
    """Poisson log-likelihood with a continuous count: lgamma is log((k)!)."""
    return x * math.log(rate) - rate - math.lgamma(x + 1.0)


def in_loop_and_helper(x, y, n):
    total = 0.0
    for i in range(n):
        total += log_likelihood(x + i, y) + math.copysign(math.fmod(x * i + 0.5, y), y - 1.0)
        total += math.remainder(total, 1.0 + y) * 0.25 + math.hypot(x, y, i) + math.degrees(math.gamma(y))
    return total


def test_in_a_loop_and_in_a_helper():
    for x, y, n in [(1.3, 2.2, 3), (0.7, 0.9, 4), (2.5, 1.7, 0), (-0.4, 3.1, 2)]:
        check_faithful(in_loop_and_helper, x, y, n, wrt=("x", "y"))
    check_faithful(in_loop_and_helper, -1.0, 2.0, 2, wrt=("x", "y"))  # lgamma(0.0): ValueError in f
    assert_plain_source(in_loop_and_helper)


def numpy_scalar_math(w, x):
    s = np.sum(w * x)
    t = math.copysign(s, 2.0) + math.fmod(s, 0.7) + math.remainder(s, 0.3) + math.ldexp(s, 2)
    u = math.radians(s) + math.degrees(s) + math.exp(math.remainder(s, 0.3)) + math.hypot(s, 1.0, 2.0)
    return math.lgamma(s) + math.gamma(s) + t + u + math.sin(math.hypot(s, 1.0, 3.0)) + math.cos(math.lgamma(s))


@pytest.mark.skipif(np is None, reason="NumPy is not installed")
def test_beside_numpy_arrays():
    w, x = np.array([0.3, 0.5]), np.array([1.0, 2.0])
    value, w_bar = value_and_grad(numpy_scalar_math, wrt="w")(w, x)
    assert value == numpy_scalar_math(w, x)
    numeric = [central_differences(lambda a: numpy_scalar_math(np.array([a, w[1]]), x), [w[0]])[0],
               central_differences(lambda b: numpy_scalar_math(np.array([w[0], b]), x), [w[1]])[0]]
    assert w_bar == pytest.approx(numeric, rel=1e-6)
    with pytest.raises(ValueError):  # lgamma(0.0)
        value_and_grad(numpy_scalar_math, wrt="w")(np.array([0.0, 0.0]), x)


# ---------------------------------------------------------------------------
# The generated module stands alone
# ---------------------------------------------------------------------------

def shadows_the_helper(x):
    _digamma = math.lgamma(x)
    return _digamma * 2.0


def test_digamma_is_defined_in_the_module_and_renamed_if_taken():
    source = assert_plain_source(lgamma_function)
    assert source.count("def _digamma(x):") == 1 and "import math" in source
    namespace = {}
    exec(compile(source, "<generated>", "exec"), namespace)  # noqa: S102 - symback's output, under test
    assert set(namespace) - {"__builtins__"} == {"math", "_digamma", "value_and_grad_lgamma_function"}
    value, slope = namespace["value_and_grad_lgamma_function"](3.7)
    assert (value, slope) == value_and_grad(lgamma_function)(3.7)
    # f's own variable named _digamma: the helper gets another name
    source = value_and_grad(shadows_the_helper).source
    helper = re.search(r"^def (_digamma\w*)\(x\):", source, re.M).group(1)
    assert helper != "_digamma" and f"{helper}(x)" in source
    check_faithful(shadows_the_helper, 2.5)


# ---------------------------------------------------------------------------
# dir(math): every function differentiated or refused by name
# ---------------------------------------------------------------------------

# name -> a call over x, y, z = 0.37, 1.3, -0.6 (inside each function's domain)
SUPPORTED = {
    "sin": "math.sin(x)", "cos": "math.cos(x)", "tan": "math.tan(x)",
    "asin": "math.asin(x)", "acos": "math.acos(x)", "atan": "math.atan(x)", "atan2": "math.atan2(x, z)",
    "sinh": "math.sinh(x)", "cosh": "math.cosh(x)", "tanh": "math.tanh(x)",
    "asinh": "math.asinh(z)", "acosh": "math.acosh(y)", "atanh": "math.atanh(x)",
    "exp": "math.exp(x)", "expm1": "math.expm1(z)", "exp2": "math.exp2(z)",
    "log": "math.log(y, x + 2.0) + math.log(y)", "log1p": "math.log1p(x)", "log2": "math.log2(y)",
    "log10": "math.log10(y)", "sqrt": "math.sqrt(y)", "cbrt": "math.cbrt(z)", "pow": "math.pow(y, x)",
    "hypot": "math.hypot(x, y, z)", "fabs": "math.fabs(z)", "copysign": "math.copysign(x, z)",
    "fmod": "math.fmod(y, x)", "remainder": "math.remainder(y, x)", "ldexp": "math.ldexp(x, 3)",
    "radians": "math.radians(z)", "degrees": "math.degrees(z)", "erf": "math.erf(x)", "erfc": "math.erfc(x)",
    "gamma": "math.gamma(y)", "lgamma": "math.lgamma(z)", "fma": "math.fma(x, y, z)",
    # integers, flat between their steps: a zero gradient (issue 11), usable as indices
    "floor": "math.floor(y) * x", "ceil": "math.ceil(y) * x", "trunc": "math.trunc(z) * x",
}
REFUSED = {
    "nextafter", "ulp",  # steps
    "factorial", "comb", "perm", "gcd", "lcm", "isqrt",  # integers
    "isnan", "isinf", "isfinite", "isclose",  # bools
    "frexp", "modf",  # tuples
}
OF_LISTS = {  # functions of whole lists (parse_exprs.of_lists), not of numbers
    "fsum": "math.fsum([x, y * y, z])", "prod": "math.prod([x, y, z], start=2.0)",
    "dist": "math.dist([x, y], [z, 0.5])", "sumprod": "math.sumprod([x, y], [z, y])",
}
MATH_CALLABLES = sorted(name for name in dir(math) if not name.startswith("_") and callable(getattr(math, name)))


def test_every_callable_of_math_is_classified():
    assert not SUPPORTED.keys() & REFUSED and not OF_LISTS.keys() & (SUPPORTED.keys() | REFUSED)
    unknown = [name for name in MATH_CALLABLES if name not in SUPPORTED and name not in REFUSED and name not in OF_LISTS]
    assert not unknown, f"functions of math that are neither differentiated nor refused: {unknown}"
    assert set(mathlib.REFUSED_MATH) == REFUSED
    assert {name for name in mathlib.FUNCTIONS if name not in mathlib.BUILTINS} == set(SUPPORTED)


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """One function per callable of math, in a module of its own (symback reads the source)."""
    lines = ["import math", ""]
    for name in MATH_CALLABLES:
        call = SUPPORTED.get(name, OF_LISTS.get(name, f"math.{name}(x)"))
        lines += ["", f"def call_{name}(x, y, z):", f"    return {call}", ""]
    path = tmp_path_factory.mktemp("walk") / "math_walk.py"
    path.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location("math_walk", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["math_walk"] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["math_walk"]


@pytest.mark.parametrize("name", MATH_CALLABLES)
def test_each_function_of_math_is_differentiated_or_refused_by_name(walked, name):
    fn = getattr(walked, f"call_{name}")
    if name in SUPPORTED or name in OF_LISTS:
        check_faithful(fn, 0.37, 1.3, -0.6)
        return
    with pytest.raises(SymbackError) as info:
        grad(fn)
    assert f"math.{name}" in str(info.value)
    assert "Traceback" not in str(info.value) and "__a" not in str(info.value)


def test_each_refusal_says_why_and_what_to_write():
    for name in REFUSED:
        what, hint = mathlib.REFUSED_MATH[name]
        assert "{f}" in what and hint
        if hasattr(math, name):
            shown_what, shown_hint = mathlib.math_refusal(getattr(math, name), f"m.{name}")
            assert shown_what.startswith(f"m.{name} ") and shown_hint == hint
    assert mathlib.math_refusal(math.sin, "math.sin") is None


# ---------------------------------------------------------------------------
# Printing: each new SymPy function prints as a call that computes it
# ---------------------------------------------------------------------------

PRINTED = [  # (class, arguments): printed by both printers, evaluated, compared with its `python`
    (mathlib.Radians, (0.7,)), (mathlib.Degrees, (-0.7,)), (mathlib.CopySign, (0.7, -0.0)),
    (mathlib.Fmod, (-7.5, 2.0)), (mathlib.Remainder, (7.5, 2.0)), (mathlib.Remainder, (5.0, 2.0)),
    (mathlib.Ldexp, (0.7, 3)), (mathlib.Gamma, (-1.5,)), (mathlib.LogGamma, (-1.5,)), (mathlib.Digamma, (-1.5,)),
    (mathlib.Hypot, (0.3, -0.4, 1.2)), (mathlib.Hypot, (0.3, -0.4)), (mathlib.Hypot, (-0.3,)), (mathlib.Cbrt, (-8.0,)),
]


@pytest.mark.parametrize("cls, args", PRINTED, ids=[f"{cls.__name__}{len(args)}" for cls, args in PRINTED])
def test_each_function_prints_as_a_call_that_computes_it(cls, args):
    from symback.templates import NumPyPrinter, Printer

    symbols = [mathlib.placeholder(i) for i in range(len(args))]
    want = cls.python(*args)
    names = {f"__a{i}": value for i, value in enumerate(args)}
    printers = [Printer()] + ([NumPyPrinter()] if np is not None else [])
    for printer in printers:
        text = printer.doprint(cls(*symbols))
        got = eval(text, {"math": math, "np": np, "_digamma": mathlib.Digamma.python, **names})  # noqa: S307
        assert got == want, (type(printer).__name__, text, got, want)
