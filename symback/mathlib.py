"""What symback can differentiate: Python operators, `math` and builtins as SymPy.

parse turns a Python expression into a *shape tree*: nested tuples in which
every operand is a numbered placeholder. This module knows, for each node of
such a tree, which SymPy expression it means (`to_sympy`). It is the single
table of supported functions; parse, derive and emit all read it.

    tree ::= ('arg', i)                   operand i: a value or a constant
           | ('num', int | float)         a literal kept in the shape
           | ('const', 'pi' | 'e' | 'tau')
           | ('neg' | 'pos', tree)
           | ('bin', op, tree, tree)      op in + - * / ** // %
           | ('call', name, tree, ...)    name in FUNCTIONS
           | ('if', cond, tree, tree)     a if cond else b: a Piecewise, so the
                                          printed code evaluates one side only
           | ('temp', j)                  a subexpression hoisted out by derive
           | ('ind', cond)                a comparison used as a number (a bool, or
                                          NumPy's boolean array): flat, no gradient
    cond ::= ('cmp', op, tree, tree)      op in < <= > >= == !=
           | ('chain', ops, tree, tree, tree, ...)   a < b <= c, as written
           | ('and' | 'or', cond, cond, ...) | ('not', cond)
           | ('bool', True | False)
           | ('truth', tree)              `if flag:`: the truth value of a number
           | ('isinstance', tree, (type name, ...))

A tree is the user's expression as written (emit prints it back as Python,
operation for operation); its SymPy form is only for derivatives.

Python semantics that SymPy does not share get a SymPy function of their
own, so that printing gives back exactly the Python operation:

    a // b   FloorDiv   derivative 0 (piecewise constant; undefined at jumps)
    a % b    Mod        d/da = 1, d/db = -(a // b)        (a - b*floor(a/b))
    max(a,b) Max        Python returns a on a tie; the subgradient goes to a
    min(a,b) Min        likewise: on a tie all of it goes to the first argument
    abs(a)   Abs        d/da = sign(a), which is 0 at a == 0
    a ** b   PyPow      when b is not a number: d/da = b*a**(b - 1), but 0
                        where b == 0 (SymPy's b*a**b/a divides by a = 0);
                        d/db = a**b*log(a), but 0 where a == 0

The functions of `math` that SymPy lacks, or whose SymPy form would not print
back as the call, have classes here too (Hypot, Cbrt, Radians, Degrees,
CopySign, Fmod, Remainder, Ldexp, Gamma, LogGamma); so does the digamma
function of their partials, which `math` lacks: it prints as a call to
_digamma, which the generated module defines (HELPERS). REFUSED_MATH says
why each other function of `math` is refused.
"""

from __future__ import annotations

import math
from typing import Callable

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p, log2, log10


class _PythonFunction(sp.Function):
    """A SymPy function that means a Python operation; `python` computes it.

    Subclasses give `python` (for numeric evaluation, so that derive can check
    rewrites numerically) and `fdiff` (the partial by argument 1 or 2).
    """

    nargs = 2

    @staticmethod
    def python(a: float, b: float) -> float:
        raise NotImplementedError

    def _eval_is_real(self):
        return True

    def _eval_evalf(self, prec):
        values = [arg.evalf(prec) for arg in self.args]
        if not all(value.is_Number for value in values):
            return None
        try:
            return sp.Float(self.python(*(float(v) for v in values)), prec)
        except (ArithmeticError, ValueError, TypeError):
            return None  # 1.0 // 0: Python raises there, and so will the generated code


class FloorDiv(_PythonFunction):
    """Python's `a // b`: flat almost everywhere, so both partials are 0."""

    python = staticmethod(lambda a, b: a // b)

    def fdiff(self, argindex=1):
        return sp.S.Zero


class Mod(_PythonFunction):
    """Python's `a % b` = a - b*(a // b), with the sign of b."""

    python = staticmethod(lambda a, b: a % b)

    def fdiff(self, argindex=1):
        a, b = self.args
        return sp.S.One if argindex == 1 else -FloorDiv(a, b)


class Step(_PythonFunction):
    """1.0 if a >= b else 0.0: which side of a max/min the gradient flows to."""

    python = staticmethod(lambda a, b: 1.0 if a >= b else 0.0)

    def fdiff(self, argindex=1):
        return sp.S.Zero


class StrictStep(_PythonFunction):
    """1.0 if a > b else 0.0."""

    python = staticmethod(lambda a, b: 1.0 if a > b else 0.0)

    def fdiff(self, argindex=1):
        return sp.S.Zero


class Max(_PythonFunction):
    """Python's max(a, b): b if b > a else a."""

    python = staticmethod(max)

    def fdiff(self, argindex=1):
        a, b = self.args
        return Step(a, b) if argindex == 1 else StrictStep(b, a)


class Min(_PythonFunction):
    """Python's min(a, b): b if b < a else a."""

    python = staticmethod(min)

    def fdiff(self, argindex=1):
        a, b = self.args
        return Step(b, a) if argindex == 1 else StrictStep(a, b)


class Hypot(_PythonFunction):
    """math.hypot(a, b, ...), any number of arguments; printed as itself to keep
    its overflow safety. d/da = a / hypot(...): at the origin, where hypot has
    no derivative, that divides by zero and the gradient raises."""

    nargs = None  # any number
    python = staticmethod(math.hypot)

    def fdiff(self, argindex=1):
        return self.args[argindex - 1] / self


def _logaddexp(a: float, b: float) -> float:
    high = max(a, b)
    return high + math.log1p(math.exp(-abs(a - b))) if math.isfinite(high) else high


class LogAddExp(_PythonFunction):
    """np.logaddexp(a, b) = log(exp(a) + exp(b)), computed without overflow. Its
    partial is written through its own value, d/da = exp(a - logaddexp(a, b)), which
    is 1 at a = 720 where exp(a)/(exp(a) + exp(b)), SymPy's form, is inf/inf."""

    python = staticmethod(_logaddexp)

    def fdiff(self, argindex=1):
        return sp.exp(self.args[argindex - 1] - self)


class Cbrt(_PythonFunction):
    """math.cbrt(a) and np.cbrt(a): the real cube root, negative for negative a
    (SymPy's a**(1/3) is complex there). d/da = 1/(3*cbrt(a)**2): infinite at 0,
    where the gradient raises."""

    nargs = 1
    python = staticmethod(getattr(math, "cbrt", lambda a: math.copysign(abs(a) ** (1 / 3), a)))

    def fdiff(self, argindex=1):
        return 1 / (3 * self ** 2)


class Radians(_PythonFunction):
    """math.radians(a): a constant factor, pi/180."""

    nargs = 1
    python = staticmethod(math.radians)

    def fdiff(self, argindex=1):
        return sp.pi / 180


class Degrees(_PythonFunction):
    """math.degrees(a): a constant factor, 180/pi."""

    nargs = 1
    python = staticmethod(math.degrees)

    def fdiff(self, argindex=1):
        return 180 / sp.pi


class CopySign(_PythonFunction):
    """math.copysign(a, b): |a| with the sign of b (of b's sign bit: -0.0 counts
    as negative). d/da = sign(a)*copysign(1, b), which is 0 at a == 0 as for
    abs(a); d/db = 0 (flat but for the jump at b = 0)."""

    python = staticmethod(math.copysign)

    def fdiff(self, argindex=1):
        a, b = self.args
        return sp.sign(a) * CopySign(sp.S.One, b) if argindex == 1 else sp.S.Zero


class Fmod(_PythonFunction):
    """math.fmod(a, b) = a - b*n, n = a/b truncated to an integer (flat between
    jumps): d/da = 1, d/db = -n, written (fmod(a, b) - a)/b so that n is the
    quotient Python's fmod took, also within a rounding of a jump."""

    python = staticmethod(math.fmod)

    def fdiff(self, argindex=1):
        a, b = self.args
        return sp.S.One if argindex == 1 else (self - a) / b


class Remainder(_PythonFunction):
    """math.remainder(a, b) = a - b*n, n = a/b rounded to the nearest integer
    (half to even): d/da = 1, d/db = -n = (remainder(a, b) - a)/b, as for Fmod."""

    python = staticmethod(math.remainder)

    def fdiff(self, argindex=1):
        a, b = self.args
        return sp.S.One if argindex == 1 else (self - a) / b


class Ldexp(_PythonFunction):
    """math.ldexp(a, i) = a * 2**i for an int i: d/da = ldexp(1.0, i), exact;
    the int exponent carries no gradient (d/di = 0)."""

    # a*2**i also for the float i of derive's numeric checks (math.ldexp refuses one)
    python = staticmethod(lambda a, i: math.ldexp(a, i) if isinstance(i, int) else a * 2.0 ** i)

    def fdiff(self, argindex=1):
        return Ldexp(sp.S.One, self.args[1]) if argindex == 1 else sp.S.Zero


# Functions the printed partials call that neither math nor NumPy has: each is
# defined in the generated module that uses it (see emit), from this text.
HELPERS: dict[str, str] = {
    "_digamma": '''
def _digamma(x):
    """The derivative of math.lgamma at x: the digamma function, which math lacks."""
    x = float(x)  # as math.lgamma takes it (and never an array to change in place)
    if x <= 0.0 and math.fmod(x, 1.0) == 0.0:  # a pole, where math.lgamma raises too
        raise ValueError("math domain error")
    result = 0.0
    if x < 0.0:  # reflection: digamma(x) = digamma(1 - x) - pi/tan(pi*x)
        result = -math.pi / math.tan(math.pi * (x - round(x)))
        x = 1.0 - x
    while x < 10.0:  # digamma(x) = digamma(x + 1) - 1/x
        result -= 1.0 / x
        x += 1.0
    s = 1.0 / (x * x)  # the asymptotic series, to within 1e-17 from x = 10 on
    return result + math.log(x) - 0.5 / x - s * (1 / 12 - s * (1 / 120 - s * (1 / 252 - s * (
        1 / 240 - s * (1 / 132 - s * (691 / 32760 - s / 12))))))
''',
}


def _helper(name: str) -> Callable:
    """The function HELPERS[name] defines, for derive's numeric checks: the very code printed."""
    scope = {"math": math}
    exec(HELPERS[name], scope)  # noqa: S102 - our own text, above
    return scope[name]


class Digamma(_PythonFunction):
    """The digamma function: d/da math.lgamma(a), and d/da math.gamma(a) divided
    by gamma(a). Printed as a call to the helper _digamma (see HELPERS)."""

    nargs = 1
    python = staticmethod(_helper("_digamma"))

    def fdiff(self, argindex=1):
        return sp.polygamma(1, self.args[0])  # never printed: partials are first derivatives


class Gamma(_PythonFunction):
    """math.gamma(a): d/da = gamma(a)*digamma(a) (the statement's own value times _digamma)."""

    nargs = 1
    python = staticmethod(math.gamma)

    def fdiff(self, argindex=1):
        return self * Digamma(self.args[0])


class LogGamma(_PythonFunction):
    """math.lgamma(a) = log|gamma(a)|: d/da = digamma(a), for negative a too."""

    nargs = 1
    python = staticmethod(math.lgamma)

    def fdiff(self, argindex=1):
        return Digamma(self.args[0])


class PyPow(_PythonFunction):
    """a ** b with an exponent that is not a number (x**k, 2.0**x).

    SymPy's own Pow differentiates x**k into k*x**k/x, which divides by zero
    at x = 0 where the slope is finite (k*x**(k - 1)); and 0.0**y into
    0**y*log(0). These partials are written so that they exist wherever the
    derivative does.
    """

    python = staticmethod(lambda a, b: a ** b)

    def _eval_is_real(self):
        return None  # (-8.0) ** (1/3) is complex in Python

    def fdiff(self, argindex=1):
        a, b = self.args
        if argindex == 1:
            return sp.Piecewise((sp.S.Zero, sp.Eq(b, 0)), (b * power(a, b - 1), True))
        return sp.Piecewise((sp.S.Zero, sp.Eq(a, 0)), (self * sp.log(a), True))


def power(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """a ** b: SymPy's Pow for a numeric exponent, else PyPow (see there)."""
    if b.is_Number:
        return a ** b
    return PyPow(a, b)


def _fold(fn: Callable) -> Callable:
    """max(a, b, c) is max(max(a, b), c): the same first-on-tie rule."""
    def build(*args):
        out = args[0]
        for arg in args[1:]:
            out = fn(out, arg)
        return out
    return build


def _log(x, base=None):
    return sp.log(x) if base is None else sp.log(x) / sp.log(base)


# name -> (fewest args, most args or None, SymPy builder).
# The names are those of the `math` module, plus builtins abs/min/max/float.
class _Integer(_PythonFunction):
    """A function to integers (math.floor, ceil, trunc; round, int): flat
    between its steps, so its partials are 0 (undefined at the steps, as for
    //). Its value may index a list."""

    nargs = 1

    def _eval_is_real(self):
        return True

    def fdiff(self, argindex=1):
        return sp.S.Zero


class Floor(_Integer):
    python = staticmethod(math.floor)


class Ceil(_Integer):
    python = staticmethod(math.ceil)


class Trunc(_Integer):
    python = staticmethod(math.trunc)


class Int(_Integer):
    python = staticmethod(int)


class Round(_Integer):
    """round(x) to an int, half to even; round(x, n) is a float, flat too."""

    nargs = (1, 2)
    python = staticmethod(round)


FUNCTIONS: dict[str, tuple[int, int | None, Callable]] = {
    "sin": (1, 1, sp.sin), "cos": (1, 1, sp.cos), "tan": (1, 1, sp.tan),
    "asin": (1, 1, sp.asin), "acos": (1, 1, sp.acos), "atan": (1, 1, sp.atan),
    "atan2": (2, 2, sp.atan2),
    "sinh": (1, 1, sp.sinh), "cosh": (1, 1, sp.cosh), "tanh": (1, 1, sp.tanh),
    "asinh": (1, 1, sp.asinh), "acosh": (1, 1, sp.acosh), "atanh": (1, 1, sp.atanh),
    "exp": (1, 1, sp.exp), "expm1": (1, 1, expm1),
    "log": (1, 2, _log), "log1p": (1, 1, log1p), "log2": (1, 1, log2), "log10": (1, 1, log10),
    "exp2": (1, 1, lambda x: 2 ** x), "cbrt": (1, 1, Cbrt),  # Python 3.11+
    "sqrt": (1, 1, sp.sqrt), "pow": (2, 2, power), "hypot": (0, None, Hypot),
    "fabs": (1, 1, sp.Abs), "erf": (1, 1, sp.erf), "erfc": (1, 1, sp.erfc),
    "gamma": (1, 1, Gamma), "lgamma": (1, 1, LogGamma),
    "radians": (1, 1, Radians), "degrees": (1, 1, Degrees), "copysign": (2, 2, CopySign),
    "fmod": (2, 2, Fmod), "remainder": (2, 2, Remainder), "ldexp": (2, 2, Ldexp),
    "fma": (3, 3, lambda x, y, z: x * y + z),  # Python 3.13+: x*y + z rounded once
    "abs": (1, 1, sp.Abs), "min": (2, None, _fold(Min)), "max": (2, None, _fold(Max)),
    "float": (1, 1, lambda x: x),
    "floor": (1, 1, Floor), "ceil": (1, 1, Ceil), "trunc": (1, 1, Trunc),
    "round": (1, 2, Round), "int": (1, 1, Int),
}

class HalfStep(_PythonFunction):
    """1.0 if a > b, 0.5 if a == b, else 0.0: NumPy's maximum(a, b) gives each
    side half the gradient at a tie, as autograd and JAX do."""

    python = staticmethod(lambda a, b: 1.0 if a > b else 0.5 if a == b else 0.0)

    def fdiff(self, argindex=1):
        return sp.S.Zero


class NpMax(_PythonFunction):
    """np.maximum(a, b) (and fmax): half the gradient to each side at a tie."""

    python = staticmethod(max)

    def fdiff(self, argindex=1):
        a, b = self.args
        return HalfStep(a, b) if argindex == 1 else HalfStep(b, a)


class NpMin(_PythonFunction):
    """np.minimum(a, b) (and fmin): half the gradient to each side at a tie."""

    python = staticmethod(min)

    def fdiff(self, argindex=1):
        a, b = self.args
        return HalfStep(b, a) if argindex == 1 else HalfStep(a, b)


class Sign(_PythonFunction):
    """np.sign(a): flat, derivative 0 (also at 0, where it jumps)."""

    nargs = 1
    python = staticmethod(lambda a: 0.0 if a == 0 else math.copysign(1.0, a))

    def fdiff(self, argindex=1):
        return sp.S.Zero


class Indicator(sp.Function):
    """A comparison used as a number (NumPy: a boolean array, `z * (z > 0)`): 1 where
    it holds, else 0. Flat wherever it is defined: no gradient flows through it."""

    nargs = 1

    def _eval_is_real(self):
        return True

    def _eval_derivative(self, symbol):
        return sp.S.Zero

    def fdiff(self, argindex=1):
        return sp.S.Zero


def _where(cond, a, b):
    """np.where(cond, a, b); cond a comparison, or an array read by its truth."""
    if not isinstance(cond, sp.logic.boolalg.Boolean):
        cond = sp.Ne(cond, 0)
    return sp.Piecewise((a, cond), (b, True))


def _clip(x, low, high):
    """np.clip(x, low, high): inside [low, high] (ends included) the slope is 1."""
    return sp.Piecewise((low, x < low), (high, x > high), (x, True))


# NumPy's elementwise functions (ufuncs), by their name in NumPy: the same
# scalar derivatives as math's, printed as np.<name> (see emit.NumPyPrinter).
NUMPY_FUNCTIONS: dict[str, tuple[int, int | None, Callable]] = {
    "sin": (1, 1, sp.sin), "cos": (1, 1, sp.cos), "tan": (1, 1, sp.tan),
    "arcsin": (1, 1, sp.asin), "arccos": (1, 1, sp.acos), "arctan": (1, 1, sp.atan),
    "arctan2": (2, 2, sp.atan2),
    "sinh": (1, 1, sp.sinh), "cosh": (1, 1, sp.cosh), "tanh": (1, 1, sp.tanh),
    "arcsinh": (1, 1, sp.asinh), "arccosh": (1, 1, sp.acosh), "arctanh": (1, 1, sp.atanh),
    "exp": (1, 1, sp.exp), "expm1": (1, 1, expm1), "exp2": (1, 1, lambda x: 2 ** x),
    "log": (1, 1, sp.log), "log1p": (1, 1, log1p), "log2": (1, 1, log2), "log10": (1, 1, log10),
    "sqrt": (1, 1, sp.sqrt), "cbrt": (1, 1, Cbrt), "square": (1, 1, lambda x: x ** 2),
    "abs": (1, 1, sp.Abs), "absolute": (1, 1, sp.Abs), "fabs": (1, 1, sp.Abs), "sign": (1, 1, Sign),
    "reciprocal": (1, 1, lambda x: 1 / x), "power": (2, 2, power),
    "maximum": (2, 2, NpMax), "minimum": (2, 2, NpMin), "fmax": (2, 2, NpMax), "fmin": (2, 2, NpMin),
    "logaddexp": (2, 2, LogAddExp), "hypot": (2, 2, Hypot),
    "negative": (1, 1, lambda x: -x), "positive": (1, 1, lambda x: x),
    "add": (2, 2, lambda a, b: a + b), "subtract": (2, 2, lambda a, b: a - b),
    "multiply": (2, 2, lambda a, b: a * b), "divide": (2, 2, lambda a, b: a / b),
    "true_divide": (2, 2, lambda a, b: a / b),
    "where": (3, 3, _where), "clip": (3, 3, _clip),
}


def numpy_builder(name: str) -> Callable:
    """The SymPy builder of a tree call named `np.<name>`."""
    return NUMPY_FUNCTIONS[name[3:]][2]


# The math functions symback refuses, by name -> (what is wrong, what to write
# instead), with {f} for the call as written (math.floor, floor): functions with
# no derivative (of integers, to bools, tuples, steps) and of sequences.
_STEP = ("{f} is a step function: its derivative is 0, or undefined at the steps",
         "compute it outside the differentiated function and pass it in")
_INTEGERS = ("{f} is a function of integers: it has no derivative",
             "compute it outside the differentiated function and pass the number in")
_TEST = ("{f} returns a bool, not a number", "test it outside the differentiated function")
REFUSED_MATH: dict[str, tuple[str, str]] = {
    "nextafter": ("{f} steps from float to float: its derivative is 0, or undefined at the steps", _STEP[1]),
    "ulp": ("{f} steps with the exponent of its argument: its derivative is 0, or undefined at the steps",
            _STEP[1]),
    "factorial": (_INTEGERS[0], _INTEGERS[1] + " (math.gamma(x + 1) is the factorial of a float x)"),
    "comb": (_INTEGERS[0], _INTEGERS[1] + " (math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - "
             "math.lgamma(n - k + 1)) is comb of floats)"),
    "perm": (_INTEGERS[0], _INTEGERS[1] + " (math.exp(math.lgamma(n + 1) - math.lgamma(n - k + 1)) "
             "is perm of floats)"),
    "gcd": _INTEGERS, "lcm": _INTEGERS, "isqrt": (_INTEGERS[0], _INTEGERS[1] + " (math.sqrt is the root "
                                                  "of a float)"),
    "isnan": _TEST, "isinf": _TEST, "isfinite": _TEST, "isclose": _TEST,
    "frexp": ("{f} returns a tuple (mantissa, exponent)", "compute it outside the differentiated function"),
    "modf": ("{f} returns a tuple (fractional part, integer part)",
             "the fractional part of x is math.fmod(x, 1.0)"),
}


REFUSED_OBJECTS = {id(getattr(math, name)): name for name in REFUSED_MATH if hasattr(math, name)}


def math_refusal(obj: object, shown: str) -> tuple[str, str] | None:
    """Why a call to `obj`, a function of math written `shown` (math.floor,
    floor), is refused and what to write instead; None if obj is not one of
    REFUSED_MATH (for parse's UnsupportedCall message)."""
    name = REFUSED_OBJECTS.get(id(obj))
    if name is None:
        return None
    what, hint = REFUSED_MATH[name]
    return what.format(f=shown), hint


# Called by their own name in Python (the rest are math.<name>).
BUILTINS = frozenset({"abs", "min", "max", "float", "round", "int"})

# The math functions above, and the builtins, by the object a name resolves to.
MATH_OBJECTS = {id(getattr(math, name)): name for name in FUNCTIONS if hasattr(math, name)}
BUILTIN_OBJECTS = {id(abs): "abs", id(min): "min", id(max): "max", id(float): "float", id(round): "round",
                   id(int): "int"}

CONSTANTS = {"pi": sp.pi, "e": sp.E, "tau": 2 * sp.pi}
CONSTANT_OBJECTS = {id(getattr(math, name)): name for name in CONSTANTS}

_BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": power,
    "//": FloorDiv,
    "%": Mod,
}
BINARY_OPS = frozenset(_BINARY)

_COMPARE = {"<": sp.Lt, "<=": sp.Le, ">": sp.Gt, ">=": sp.Ge, "==": sp.Eq, "!=": sp.Ne}
_BOOLEAN = {"and": sp.And, "or": sp.Or, "not": sp.Not}


# SymPy function class name -> the float function, for `evaluate`.
_FLOAT_FUNCTIONS = {
    **{name: getattr(math, name) for name in (
        "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh",
        "asinh", "acosh", "atanh", "exp", "expm1", "log", "log1p", "log2", "log10", "erf", "erfc")},
    "Abs": abs,
    "sign": lambda a: 0.0 if a == 0 else math.copysign(1.0, a),
}


def evaluate(expr: sp.Expr, env: dict[sp.Symbol, float]) -> float | None:
    """expr at a point, in Python floats; None where it is not a finite real.

    Plain float arithmetic on purpose: SymPy's own evaluation works in
    arbitrary precision and can take minutes on a large intermediate value.
    """
    try:
        value = _evaluate(expr, env)
    except (ArithmeticError, ValueError, TypeError):
        return None
    if not isinstance(value, float) or not math.isfinite(value):
        return None
    return value


_FLOAT_RELATIONS = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__,
                    "==": float.__eq__, "!=": float.__ne__}


def _evaluate(expr: sp.Expr, env: dict[sp.Symbol, float]) -> float:
    if expr in env:
        return env[expr]
    if expr.is_Number or expr.is_NumberSymbol:
        return float(expr)
    if isinstance(expr, sp.Piecewise):  # only the branch taken, as Python would
        for value, cond in expr.args:
            if _truth(cond, env):
                return _evaluate(value, env)
        raise ValueError("no branch of a Piecewise applies")
    args = [_evaluate(arg, env) for arg in expr.args]
    if expr.is_Add:
        return math.fsum(args)
    if expr.is_Mul:
        return math.prod(args)
    if expr.is_Pow:
        return float(args[0] ** args[1])  # a complex result raises TypeError here
    if isinstance(expr, _PythonFunction):
        return float(expr.python(*args))
    function = _FLOAT_FUNCTIONS.get(type(expr).__name__)
    if function is None:
        raise TypeError(f"no float evaluation for {type(expr).__name__}")
    return float(function(*args))


def _truth(cond, env: dict[sp.Symbol, float]) -> bool:
    if cond is sp.true or cond is sp.false:
        return bool(cond)
    if isinstance(cond, sp.Rel):
        return _FLOAT_RELATIONS[cond.rel_op](float(_evaluate(cond.lhs, env)), float(_evaluate(cond.rhs, env)))
    if isinstance(cond, sp.And):
        return all(_truth(arg, env) for arg in cond.args)
    if isinstance(cond, sp.Or):
        return any(_truth(arg, env) for arg in cond.args)
    if isinstance(cond, sp.Not):
        return not _truth(cond.args[0], env)
    raise TypeError(f"no float evaluation for {type(cond).__name__}")


def placeholder(i: int) -> sp.Symbol:
    """The symbol standing for operand i of a shape."""
    return sp.Symbol(f"__a{i}", real=True)


def exact_literal(value: float) -> bool:
    """Whether a float literal is a number SymPy may take exactly (1.0 as 1,
    0.5 as 1/2): a nonzero float that *is* a small integer or a fraction with
    a small power-of-two denominator, so that the exact number has the same
    value. Then `1.0/(1.0 + exp(-z))` differentiates to `a*(1 - a)` as
    `1/(1 + exp(-z))` does, and `0.5*(a - y)**2` to `a - y`, not `1.0*(a - y)`
    (parse keeps a fraction in the shape only as a factor of a product).
    Zero stays a float (x/0.0 must divide by a zero at run time, not be
    SymPy's zoo), and so does 0.1, which is not 1/10."""
    if not math.isfinite(value) or value == 0 or abs(value) > 1024:
        return False
    return value.as_integer_ratio()[1] <= 16


def to_sympy(tree: tuple, symbols: list[sp.Symbol], exact: bool = True) -> sp.Expr:
    """The SymPy expression a shape tree means, over the placeholder symbols.

    A float literal that is a whole number is that integer; one that
    exact_literal accepts is its exact fraction, except inside a power
    (`exact` False), where SymPy would turn x**(1/2) into sqrt(x), a
    different function in Python for x < 0.
    """
    kind = tree[0]
    if kind == "arg":
        return symbols[tree[1]]
    if kind == "num":
        value = tree[1]
        if isinstance(value, float):
            if value.is_integer():
                return sp.Integer(int(value))
            return sp.Rational(*value.as_integer_ratio()) if exact and exact_literal(value) else sp.Float(value)
        return sp.Integer(value)
    if kind == "const":
        return CONSTANTS[tree[1]]
    if kind == "neg":
        return -to_sympy(tree[1], symbols, exact)
    if kind == "pos":
        return to_sympy(tree[1], symbols, exact)
    if kind == "bin":
        inner = exact and tree[1] != "**"
        return _BINARY[tree[1]](to_sympy(tree[2], symbols, inner), to_sympy(tree[3], symbols, inner))
    if kind == "call":
        builder = numpy_builder(tree[1]) if tree[1].startswith("np.") else FUNCTIONS[tree[1]][2]
        power = tree[1] in ("pow", "np.power", "np.float_power")
        return builder(*(to_sympy(arg, symbols, exact and not (power and k == 1)) for k, arg in enumerate(tree[2:])))
    if kind == "if":
        cond, then, orelse = (to_sympy(part, symbols, exact) for part in tree[1:])
        try:
            return sp.Piecewise((then, cond), (orelse, True))
        except RecursionError:  # SymPy's collapsing of nested conditions can go round in circles
            return sp.Piecewise((then, cond), (orelse, True), evaluate=False)
    if kind == "cmp":
        return _COMPARE[tree[1]](to_sympy(tree[2], symbols, exact), to_sympy(tree[3], symbols, exact))
    if kind == "chain":
        parts = [to_sympy(part, symbols, exact) for part in tree[2:]]
        return sp.And(*(_COMPARE[op](a, b) for op, a, b in zip(tree[1], parts, parts[1:])))
    if kind == "bool":
        return sp.true if tree[1] else sp.false
    if kind == "temp":
        return temp_symbol(tree[1])
    if kind == "ind":
        return Indicator(to_sympy(tree[1], symbols, exact))
    if kind == "truth":  # `if flag:`: Python's truth value of a number
        return sp.Ne(to_sympy(tree[1], symbols, exact), 0)
    if kind == "isinstance":  # a test of the type, which no derivative sees
        return sp.Ne(sp.Function("isinstance_" + "_".join(tree[2]))(to_sympy(tree[1], symbols, exact)), 0)
    if kind in _BOOLEAN:
        return _BOOLEAN[kind](*(to_sympy(part, symbols, exact) for part in tree[1:]))
    raise AssertionError(f"unknown shape node {kind!r}")


def temp_symbol(j: int) -> sp.Symbol:
    """The symbol standing for hoisted subexpression j of a statement."""
    return sp.Symbol(f"__t{j}", real=True)


LEAVES = frozenset({"arg", "num", "const", "bool", "temp"})
CONDITIONS = frozenset({"cmp", "chain", "and", "or", "not", "bool", "truth", "isinstance"})

# Operations on floats that never raise; everything else may (ZeroDivisionError,
# OverflowError, ValueError: math domain error), so it must run where f runs it.
_SAFE_BINARY = frozenset({"+", "-", "*"})
_SAFE_CALLS = frozenset({"abs", "min", "max", "float", "fabs"})


def raises_itself(tree: tuple) -> bool:
    """Whether the operation at the root of `tree` may raise on floats
    (ZeroDivisionError, OverflowError, ValueError: math domain error)."""
    kind = tree[0]
    # NumPy's functions return nan or inf with a warning where math's raise; on a
    # NumPy scalar, `/` does too, but a Python float's may raise: kept as may-raise.
    return (kind == "bin" and tree[1] not in _SAFE_BINARY) or \
        (kind == "call" and tree[1] not in _SAFE_CALLS and not tree[1].startswith("np."))


def can_raise(tree: tuple) -> bool:
    """Whether evaluating `tree` on floats may raise an exception."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if raises_itself(node):
            return True
        todo += children(node)
    return False


def children(tree: tuple) -> tuple:
    """The subtrees of a node, in the order Python evaluates them."""
    kind = tree[0]
    if kind in LEAVES:
        return ()
    if kind in ("bin", "call", "cmp", "chain"):
        return tree[2:]
    if kind == "isinstance":
        return tree[1:2]
    return tree[1:]  # neg, pos, not, and, or, if (test first, then the sides)


def unguarded(tree: tuple) -> int:
    """How many of a node's children Python always evaluates when it
    evaluates the node: the rest depend on a test (the sides of `a if c else
    b`, the right of `and`/`or`, the third and later terms of `a < b < c`)."""
    kind = tree[0]
    if kind in ("and", "or", "if"):
        return 1
    if kind == "chain":
        return 2
    return len(children(tree))
