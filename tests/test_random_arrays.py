"""Property test: random NumPy array programs.

Hypothesis writes random functions `def f(<params>): ...` over `import numpy
as np` with 1-4 array parameters (shapes that broadcast together: a result
shape is drawn, then each parameter's shape drops leading axes of it and/or
sets axes to 1; sometimes also a matrix `W` whose first axis is the result's
last) and maybe a float parameter. It writes each program to a real .py file
and imports it (inspect.getsource needs the file), draws a seed, and checks at
float64 inputs made from that seed (normal entries, the float in (-2, 2)):

1. `value_and_grad(f)(*args)[0]` is `f(*args)` exactly: the same type and the
   same bits. The gradient runs f's own expressions, so close is not enough.
2. `grad(f)(*args)` is `value_and_grad(f)(*args)[1]` exactly: the same types,
   dtypes, shapes and values (NaN equals NaN).
3. every partial has its parameter's shape (an array parameter gets an array
   of its shape and dtype; the float parameter a Python float or a NumPy
   float64 scalar) and, where f's value is finite and moderate, equals central
   differences entry by entry. Each entry's reference is a Richardson
   extrapolation over the steps h and h/2 (h = 1e-6 * max(1, |x|)); a second
   one over steps 100 times larger decides whether it can be trusted: where the
   two disagree (a kink nearby, a tie in a max) the entry is skipped.
4. on about a third of the programs, the same with float32 arrays: checks 1
   and 2 again, and where f computes in float32 (returns a float32) every
   array partial is float32 of its parameter's shape.
5. symback neither refuses (any SymbackError: the generator writes supported
   constructs only) nor crashes when making the gradient; the gradient does
   not raise where f returns, runs within 5 s and does not change its
   arguments.

By default (and in CI) the test is derandomized with a fixed number of
programs (DEFAULT_EXAMPLES, about 10 s on 2 cores). A long random run of N
programs, with the same variable as tests/test_random_programs.py:

    SYMBACK_LONG_RUN=2000 python -m pytest tests/test_random_arrays.py

A failure prints the shrunk program, the parameter shapes and the seed; the
first line of the message names the kind of failure in brackets, e.g.
`[wrong gradient]`. `check_program(program, seed, directory)` runs the checks
on one Program outside hypothesis (to minimize a failure by hand).
"""

# What the generator covers (EXPRESSIONS is the table of generators; add a row
# and a method `kind_<name>` to extend it):
#   elementwise, with broadcasting: + - * / ** unary minus; np.sin cos tan
#     arcsin arccos arctan arctan2 sinh cosh tanh arcsinh arctanh exp expm1
#     exp2 log log1p log2 log10 sqrt cbrt square abs absolute sign reciprocal
#     power maximum minimum fmax fmin logaddexp hypot, with domains guarded as
#     a user would (np.log(1.0 + x * x), np.sqrt(np.abs(x) + 1.0),
#     np.arcsin(0.9 * np.tanh(x)), np.exp(np.sin(x)), ...); a float parameter and
#     constants as operands;
#   reductions np.sum mean max min amax amin and the methods .sum() .mean()
#     .max() .min(), axis positional or keyword, int, negative, tuple or None,
#     keepdims True/False, inside expressions and as statements;
#   products @, np.matmul (1-D, 2-D, stacked with broadcast batch axes),
#     np.dot and .dot() (also of 3-D operands: not matmul), between shapes made
#     compatible with .T and .reshape(k, -1) when no variable fits;
#   .T, np.transpose(x), x.reshape(...) / np.reshape(x, ...) with -1, a tuple
#     or separate ints, or shape queries as sizes;
#   shape queries as numbers: / X.shape[i], / x.size, * x.ndim;
#   np.zeros_like, np.ones_like, np.arange(n) as constants;
#   statements: fresh intermediates, reassignment of locals and parameters
#     (also with a new shape), names like symback's own; a scalar return:
#     np.sum / np.mean / a full reduction, sometimes combined with another.
# Not covered yet: indexing and slicing, joins (concatenate, stack), loops and
#   branches over arrays, augmented assignment (refused on arrays: in place),
#   transpose with axes, lists of arrays as parameters, other NumPy functions
#   (prod, var, clip, where, norm, outer, einsum, ...), integer and boolean
#   arrays as parameters, complex numbers, wrt= subsets, has_aux.
# Excluded because of symback bugs: see EXCLUDED and FLOAT32_EXCLUDED.

from __future__ import annotations

import importlib.util
import itertools
import math
import os
import signal
import sys
import warnings
from dataclasses import dataclass

import pytest

np = pytest.importorskip("numpy")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import event as _event  # noqa: E402
from hypothesis import note as _note  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import InvalidArgument  # noqa: E402

from symback import SymbackError, grad, value_and_grad  # noqa: E402

# ---------------------------------------------------------------------------
# Settings: derandomized by default, one environment variable for a long run.

LONG_RUN = int(os.environ.get("SYMBACK_LONG_RUN", "0") or 0)
DEFAULT_EXAMPLES = 150


def _settings() -> settings:
    common = dict(deadline=None, print_blob=True, report_multiple_bugs=False,
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])
    if LONG_RUN:
        return settings(max_examples=LONG_RUN, derandomize=False, **common)
    return settings(max_examples=DEFAULT_EXAMPLES, derandomize=True, database=None, **common)


# ---------------------------------------------------------------------------
# The generator.

MAX_SIZE = 48  # entries of any value the program makes: keeps central differences cheap
ARRAY_PARAMS = ("x", "y", "z", "A", "B", "X", "v", "b")
ODD_PARAMS = ("x_bar", "_v1", "g")
FLOAT_PARAMS = ("c", "lam", "alpha")
LOCALS = ("t", "u", "h", "s", "p", "q", "r", "m", "acc", "out", "z1", "loss")
# Locals named like symback's own names: its temporaries and adjoints, the helpers
# of the generated module, the placeholders of its templates.
ODD_LOCALS = ("_v1", "_v2", "_t1", "t_bar", "x_bar", "_sum_to", "_unreduce", "_zeros_like", "__g", "__a0",
              "__r")
CONSTANTS = ("0.5", "2.0", "1.5", "3.0", "0.25", "(-1.5)", "(-0.5)")

# One operand {0}, any finite real: defined and smooth (or with an isolated kink) everywhere,
# with a finite derivative: np.cbrt(x) at 0 or np.arcsin(np.tanh(x)) where tanh rounds to 1
# have an infinite inner slope, times 0 in reverse mode: nan (as in any reverse-mode AD).
UNARY = (
    "np.sin({0})", "np.cos({0})", "np.tanh({0})", "np.arctan({0})", "np.arcsinh({0})",
    "np.exp(np.sin({0}))", "np.exp(np.tanh({0}))", "np.exp(-np.square({0}))", "np.expm1(np.cos({0}))",
    "np.exp2(np.tanh({0}))", "np.log(1.0 + {0} * {0})", "np.log1p(np.square({0}))",
    "np.log2(1.0 + np.exp(np.sin({0})))", "np.log10(np.abs({0}) + 1.0)", "np.log(np.cosh(np.tanh({0})))",
    "np.sqrt(np.abs({0}) + 1.0)", "np.sqrt(1.0 + np.square({0}))", "np.cbrt(2.0 + np.sin({0}))",
    "np.cbrt(1.0 + np.square({0}))", "np.arcsin(0.9 * np.tanh({0}))", "np.arcsin(0.5 * np.sin({0}))",
    "np.arccos(0.9 * np.tanh({0}))", "np.arctanh(0.5 * np.tanh({0}))", "np.tan(0.5 * np.sin({0}))",
    "np.sinh(np.tanh({0}))", "np.cosh(np.sin({0}))", "np.square({0})", "({0}) ** 2", "({0}) ** 3",
    "np.abs({0})", "np.absolute({0})", "np.sign({0})", "np.sign({0}) * {0}",
    "np.reciprocal(1.0 + np.square({0}))", "np.reciprocal(2.0 + np.cos({0}))",
    "np.power(np.abs({0}) + 1.0, 1.5)", "(1.0 + ({0}) ** 2) ** 0.5", "np.abs({0}) ** 1.5",
    "(-{0})", "1.5 ** np.tanh({0})", "np.power(2.0, np.sin({0}))",
)
# Two operands {0}, {1} that broadcast together. hypot and arctan2 keep one argument away
# from 0: np.arange and np.zeros_like make exact zeros, and at (0, 0) their partials are
# 0/0 (nan) although f may be flat there (np.hypot(W, x * W) at W = 0).
BINARY = (
    "({0} + {1})", "({0} - {1})", "({0} * {1})", "({0} + {1})", "({0} * {1})",
    "({0} / (1.5 + np.sin({1})))", "({0} / (1.0 + {1} ** 2))", "({0} / (2.0 + np.tanh({1})))",
    "np.maximum({0}, {1})", "np.minimum({0}, {1})", "np.fmax({0}, {1})", "np.fmin({0}, {1})",
    "np.logaddexp({0}, {1})", "np.hypot(0.25 + np.square({0}), {1})",
    "np.arctan2({0}, 2.0 + np.cos({1}))", "np.arctan2(1.0 + np.square({0}), {1})",
    "np.power(np.abs({0}) + 1.0, np.sin({1}))", "(({0}) ** 2 * {1})", "np.hypot({0}, 0.5 + np.abs({1}))",
)
REDUCTIONS = ("sum", "mean", "max", "min", "amax", "amin")
METHODS = ("sum", "mean", "max", "min")

# Generators of expressions: kind -> weight. `_Writer.kind_<kind>` writes one (or
# returns None where it does not apply; another kind is tried).
EXPRESSIONS = {
    "leaf": 5, "unary": 5, "binary": 6, "reduce": 4, "matmul": 3, "transpose": 1, "reshape": 2,
    "shape_query": 1, "like": 1, "arange": 1, "scalar_param": 1,
}
# Constructs left out of the generator because symback gets them wrong: a name the
# writer checks -> the bug. Add an entry (and the check in _Writer) for a bug found and
# not yet fixed, so that the default run stays green; remove both once it is fixed.
EXCLUDED: dict[str, str] = {
    # Where f returns a number made elementwise from a 0-d array parameter, without a
    # reduction, that parameter's partial is a Python float, not a 0-d array or NumPy
    # scalar of its dtype: def f(x): return x * 2.0 at x = np.array(0.3, np.float32)
    # gives 2.0; so does def f(x, A): return x + np.sum(A). The writer reduces what it
    # returns where there is a 0-d array parameter.
    "return 0-d": "d/dx is a Python float",
}
# Constructs after which the float32 check (4) is not made, because of a symback bug:
# a text its form contains (e.g. "np.maximum") -> the bug; _Writer.used records them.
FLOAT32_EXCLUDED: dict[str, str] = {}
# Found by this test and fixed since (2ac92f6..c45ccf9): a float parameter's partial a
# 0-d array (def f(x, c): return np.sum(np.sum(x) + c)) or an int (c * x.shape[0]); float64
# gradients for float32 inputs through axis reductions (np.sum(x, axis=0)), np.maximum and
# minimum, np.log2/log10/exp2 and np.logaddexp(x, 0.5); a mirrored adjoint taken after
# the other operand's _sum_to (np.sum(np.sin(c + x)): ValueError, or a wrong shape);
# a variable named like a helper of the generated module (_unreduce = x * 2.0);
# np.dot of 3-D operands given matmul's adjoint (ValueError).


def _allowed(options):
    return [o for o in options if o not in EXCLUDED]


@dataclass(frozen=True)
class Val:
    """An expression being written: its text (a name, a call or parenthesized),
    its shape, and what it is: "array" (NumPy array or NumPy scalar), "float"
    (a Python float: the float parameter or a constant) or "int" (a shape query)."""
    text: str
    shape: tuple
    kind: str = "array"

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Program:
    source: str
    names: tuple    # parameter names
    kinds: tuple    # "array" or "float" per parameter
    shapes: tuple   # a shape per parameter (() for the float)
    float32: bool   # also check at float32 arrays


def _broadcast(a: tuple, b: tuple):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _shape_of(fn, *shapes):
    """The shape NumPy gives fn(*empty arrays of these shapes), or None where it raises."""
    try:
        return tuple(np.shape(fn(*(np.ones(s) for s in shapes))))
    except (ValueError, TypeError, IndexError):
        return None


def _paren(text: str) -> str:
    """text as the object of a method call or attribute: a name or call stays as it is."""
    return text if text.replace("_", "a").replace(".", "a").isalnum() or text.endswith(")") \
        and _balanced_call(text) else f"({text})"


def _balanced_call(text: str) -> bool:
    """Whether text is one call or one parenthesized group (f(...), (...)), not a + b(...)."""
    if text.startswith("("):
        depth = 0
        for i, ch in enumerate(text):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0:
                return i == len(text) - 1
        return False
    head = text.split("(", 1)[0]
    return head.replace("_", "a").replace(".", "a").isalnum() and _balanced_call(text[len(head):])


class _Writer:
    """Draws one random program with hypothesis' `draw`, statement by statement."""

    def __init__(self, draw):
        self.draw = draw
        self.vars: dict[str, Val] = {}   # readable names -> their current value
        self.params: list[str] = []
        self.env: dict = {}     # name -> its value at dummy parameters (see value)
        self.used: set = set()  # constructs written, as named in FLOAT32_EXCLUDED
        self.zero_d = False     # a 0-d array parameter

    # -- choices --------------------------------------------------------
    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) < percent

    def count(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def weighted(self, table: dict) -> str:
        options = [k for k, w in table.items() if k not in EXCLUDED for _ in range(w)]
        return self.pick(options)

    def uses(self, form: str) -> None:
        """Record the constructs of FLOAT32_EXCLUDED that `form` writes."""
        self.used |= {name for name in FLOAT32_EXCLUDED if name in form}

    # -- shapes -----------------------------------------------------------
    def result_shape(self) -> tuple:
        rank = self.pick([1, 1, 1, 2, 2, 2, 2, 3, 3, 3])  # 0-d parameters come from dropping axes
        dims = [self.count(1, 4) if self.chance(15) else self.count(2, 4) for _ in range(rank)]
        while math.prod(dims) > 24:
            dims[dims.index(max(dims))] -= 1
        return tuple(dims)

    def operand_shape(self, result: tuple) -> tuple:
        drop = self.count(0, len(result)) if self.chance(35) else 0
        if drop == len(result) and result and self.chance(70):
            drop -= 1  # a 0-d array parameter, now and then
        return tuple(1 if self.chance(25) else d for d in result[drop:])

    # -- expressions ------------------------------------------------------
    def expr(self, depth: int, top: bool = False) -> Val:
        if depth <= 0 or (not top and self.chance(20)):
            return self.kind_leaf(depth)
        for _ in range(6):
            kind = self.weighted(EXPRESSIONS)
            if top and kind == "leaf" and self.chance(85):
                continue  # a statement that only copies a name, now and then
            val = getattr(self, f"kind_{kind}")(depth)
            if val is not None and val.size <= MAX_SIZE:
                return val
        return self.kind_leaf(depth)

    def array_expr(self, depth: int, min_ndim: int = 0) -> Val | None:
        """An expression that is a NumPy value (not a Python float or int) of at least min_ndim axes."""
        for attempt in range(3):
            val = self.expr(depth if attempt == 0 else 0)
            if val.kind == "array" and val.ndim >= min_ndim:
                return val
        options = [v for v in self.vars.values() if v.kind == "array" and v.ndim >= min_ndim]
        return self.pick(options) if options else None

    def fitting(self, shape: tuple, depth: int) -> Val:
        """An expression that broadcasts with `shape` (to at most MAX_SIZE entries)."""
        for attempt in range(4):
            val = self.expr(depth if attempt == 0 else 0)  # then names: fewer draws
            joint = _broadcast(val.shape, shape)
            if val.kind != "int" and joint is not None and math.prod(joint) <= MAX_SIZE:
                return val
        options = [v for v in self.vars.values() if v.kind != "int" and _broadcast(v.shape, shape) is not None
                   and math.prod(_broadcast(v.shape, shape)) <= MAX_SIZE]
        if options and self.chance(70):
            return self.pick(options)
        return Val(self.pick(CONSTANTS), (), "float")

    def kind_leaf(self, depth: int) -> Val:
        if self.chance(88):
            recent = list(self.vars.values())[-2:]  # mostly the newest: fewer dead statements
            return self.pick(recent if self.chance(45) else list(self.vars.values()))
        return Val(self.pick(CONSTANTS), (), "float")

    def kind_scalar_param(self, depth: int) -> Val | None:
        floats = [v for v in self.vars.values() if v.kind == "float" and v.text in self.params]
        return self.pick(floats) if floats else None

    def kind_unary(self, depth: int) -> Val | None:
        a = self.expr(depth - 1)
        if a.kind == "int":
            return None
        form = self.pick(_allowed(UNARY))
        self.uses(form)
        kind = "float" if a.kind == "float" and "np." not in form else "array"  # np.sin(c) is np.float64
        return Val(form.format(a.text), a.shape, kind)

    def kind_binary(self, depth: int) -> Val | None:
        a = self.expr(depth - 1)
        if a.kind == "int":
            return None
        b = self.fitting(a.shape, depth - 1)
        if b.text == a.text:  # x - x is 0: hypot(0, 0), arctan2(0, 0) have no derivative
            b = Val(self.pick(CONSTANTS), (), "float")
        if self.chance(40):
            a, b = b, a
        form = self.pick(_allowed(BINARY))
        shape = _broadcast(a.shape, b.shape)
        self.uses(form)
        text = form.format(a.text, b.text)
        kind = "float" if a.kind == b.kind == "float" and "np." not in form else "array"
        return Val(text, shape, kind)

    def axis_spec(self, ndim: int):
        """(axis text or None, the axes it names or None for all)."""
        roll = self.count(0, 9)
        if roll < 2 or ndim == 0:
            return None, None
        if roll < 7:
            axis = self.count(0, ndim - 1)
            text = str(axis - ndim) if self.chance(30) else str(axis)
            return text, (axis,)
        axes = self.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
        written = [a - ndim if self.chance(30) else a for a in axes]
        text = "(" + ", ".join(map(str, written)) + ("," if len(written) == 1 else "") + ")"
        return text, tuple(axes)

    def reduction(self, a: Val) -> Val:
        axis, axes = self.axis_spec(a.ndim)
        keepdims = self.chance(30)
        method = a.kind == "array" and self.chance(40)
        kw = []
        if method:
            name = self.pick(METHODS)
            if axis is not None:
                kw.append(axis if self.chance(50) else f"axis={axis}")
            elif self.chance(15):
                kw.append("axis=None")
            if keepdims or self.chance(10):
                kw.append(f"keepdims={keepdims}")
            text = f"{_paren(a.text)}.{name}({', '.join(kw)})"
        else:
            name = self.pick(REDUCTIONS)
            if axis is not None:
                kw.append(axis if self.chance(40) else f"axis={axis}")
            elif self.chance(15):
                kw.append("axis=None")
            if keepdims or self.chance(10):
                kw.append(f"keepdims={keepdims}")
            text = f"np.{name}({', '.join([a.text] + kw)})"
        shape = _shape_of(lambda x: np.sum(x, axis=axes, keepdims=keepdims), a.shape)
        return Val(text, shape)

    def kind_reduce(self, depth: int) -> Val | None:
        a = self.expr(depth - 1)
        if a.kind == "int":
            return None
        return self.reduction(a)

    def matmul_partners(self, a: Val) -> list:
        """Values b with a @ b or b @ a defined: variables, their transposes, reshapes."""
        out = []
        for v in self.vars.values():
            if v.kind != "array" or v.ndim == 0:
                continue
            out.append(v)
            if v.ndim == 2:
                out.append(Val(f"{_paren(v.text)}.T", v.shape[::-1]))
            k = a.shape[-1]
            if v.size % k == 0 and v.size // k > 1:
                out.append(Val(f"{_paren(v.text)}.reshape({k}, -1)", (k, v.size // k)))
            if v.size == k and v.ndim > 1:
                out.append(Val(f"{_paren(v.text)}.reshape(-1)", (k,)))
        return out

    def kind_matmul(self, depth: int) -> Val | None:
        a = self.array_expr(depth - 1, min_ndim=1)
        if a is None:
            return None
        options = []
        for b in self.matmul_partners(a):
            for left, right in ((a, b), (b, a)):
                shape = _shape_of(np.matmul, left.shape, right.shape)
                if shape is not None and math.prod(shape) <= MAX_SIZE:
                    options.append((left, right, shape))
        if not options:
            k = a.shape[-1]
            b = Val(f"{_paren(a.text)}.reshape({k}, -1)", (k, a.size // k))
            options = [(a, b, _shape_of(np.matmul, a.shape, b.shape))]
        left, right, shape = self.pick(options)
        form = self.pick(_allowed(["@", "@", "np.matmul", "np.dot", ".dot"]))
        if form in ("np.dot", ".dot"):  # np.dot(2-D, 3-D) is another product than matmul
            shape = _shape_of(np.dot, left.shape, right.shape)
            if shape is None or math.prod(shape) > MAX_SIZE:
                form, shape = "@", _shape_of(np.matmul, left.shape, right.shape)
        if form == "@":
            text = f"({_paren(left.text)} @ {_paren(right.text)})"
        elif form == ".dot":
            text = f"{_paren(left.text)}.dot({right.text})"
        else:
            text = f"{form}({left.text}, {right.text})"
        return Val(text, shape)

    def kind_transpose(self, depth: int) -> Val | None:
        a = self.array_expr(depth - 1, min_ndim=1)
        if a is None:
            return None
        if self.chance(60):
            return Val(f"{_paren(a.text)}.T", a.shape[::-1])
        return Val(f"np.transpose({a.text})", a.shape[::-1])

    def size_text(self, n: int) -> str:
        """n, or a shape query that is n."""
        queries = [f"{v.text}.shape[{i}]" for v in self.vars.values() if v.kind == "array"
                   for i, d in enumerate(v.shape) if d == n]
        if queries and self.chance(30):
            return self.pick(queries)
        return str(n)

    def kind_reshape(self, depth: int) -> Val | None:
        a = self.array_expr(depth - 1, min_ndim=1)
        if a is None:
            return None
        size, dims = a.size, []
        for _ in range(self.count(1, 3) - 1):
            divisors = [d for d in range(1, size + 1) if size % d == 0]
            d = self.pick(divisors)
            dims.append(d)
            size //= d
        dims.append(size)
        dims = self.draw(st.permutations(dims))
        written = [self.size_text(d) for d in dims]
        if self.chance(50):
            written[self.count(0, len(written) - 1)] = "-1"
        form = self.count(0, 2)
        if form == 0:
            text = f"{_paren(a.text)}.reshape({', '.join(written)})"
        elif form == 1:
            text = f"{_paren(a.text)}.reshape(({', '.join(written)}{',' if len(written) == 1 else ''}))"
        else:
            shape = written[0] if len(written) == 1 and self.chance(50) else \
                f"({', '.join(written)}{',' if len(written) == 1 else ''})"
            text = f"np.reshape({a.text}, {shape})"
        return Val(text, tuple(dims))

    def shape_query(self, divisor: bool) -> str | None:
        options = []
        for v in self.vars.values():
            if v.kind != "array" or not v.text.isidentifier():
                continue
            options += [f"{v.text}.shape[{i}]" for i in range(v.ndim)]
            options += [f"{v.text}.shape[{i - v.ndim}]" for i in range(v.ndim)]
            options.append(f"{v.text}.size")
            if not divisor and v.ndim:
                options.append(f"{v.text}.ndim")
        return self.pick(options) if options else None

    def kind_shape_query(self, depth: int) -> Val | None:
        a = self.expr(depth - 1)
        if a.kind == "int":
            return None
        form = self.pick(["({0} / {1})", "({0} / {1})", "({0} * {1})", "({0} - {1})", "({1} * {0})"])
        query = self.shape_query(divisor="/" in form)
        if query is None:
            return None
        return Val(form.format(a.text, query), a.shape, a.kind)

    def value(self, text: str):
        """What `text` computes where every parameter is 0.5 (entry by entry)."""
        with np.errstate(all="ignore"):
            return eval(text, {"np": np}, dict(self.env))

    def kind_like(self, depth: int) -> Val | None:
        arrays = [v for v in self.vars.values() if v.kind == "array"]
        if not arrays:
            return None
        v = self.pick(arrays)
        return Val(f"np.{self.pick(['ones_like', 'zeros_like'])}({v.text})", v.shape)

    def kind_arange(self, depth: int) -> Val | None:
        dims = sorted({d for v in self.vars.values() if v.kind == "array" for d in v.shape})
        if not dims:
            return None
        n = self.pick(dims)
        return Val(f"np.arange({self.size_text(n)})", (n,))

    # -- statements and the function --------------------------------------
    def fresh(self) -> str:
        pool = [n for n in LOCALS if n not in self.vars]
        if self.chance(12):
            pool = [n for n in ODD_LOCALS if n not in self.vars] or pool
        if pool:
            return self.pick(pool)
        for k in itertools.count(1):
            if f"v{k}" not in self.vars:
                return f"v{k}"

    def statement(self) -> str:
        value = self.expr(3, top=True)
        if value.kind == "int":
            value = self.kind_leaf(0)
        reassign = [n for n in self.vars if n not in self.params or self.chance(30)]
        if reassign and self.chance(35):
            name = self.pick(reassign)
        else:
            name = self.fresh()
        got = self.value(value.text)  # the generator's own check of the shapes it tracks
        assert np.shape(got) == value.shape, (value, np.shape(got))
        self.env[name] = got
        self.vars.pop(name, None)  # to the end: the newest
        self.vars[name] = Val(name, value.shape, value.kind)
        return f"    {name} = {value.text}"

    def final(self) -> str:
        """A full reduction: a NumPy scalar."""
        a = self.expr(2, top=True)
        if a.shape == () and a.kind == "array" and self.chance(40) \
                and not (self.zero_d and "return 0-d" in EXCLUDED):
            return a.text  # a NumPy scalar already
        roll = self.count(0, 9)
        if roll < 3:
            return f"np.{self.pick(['sum', 'mean', 'sum'])}({a.text})"
        if roll < 5 and a.kind == "array":
            return f"{_paren(a.text)}.{self.pick(['sum', 'mean', 'max', 'min'])}()"
        if roll < 7 and a.ndim > 0:  # every axis named
            axes = self.draw(st.permutations(range(a.ndim)))
            text = "(" + ", ".join(map(str, axes)) + ("," if a.ndim == 1 else "") + ")"
            return f"np.{self.pick(REDUCTIONS)}({a.text}, axis={text})"
        return f"np.{self.pick(REDUCTIONS)}({a.text})"

    def returns(self) -> str:
        text = self.final()
        roll = self.count(0, 9)
        if roll < 2:
            text = f"{text} + {self.final()}"
        elif roll < 3 and any(v.kind == "float" for v in self.vars.values() if v.text in self.params):
            c = self.pick([n for n in self.params if self.vars[n].kind == "float"])
            text = f"{text} + {c} * {self.final()}"
        elif roll < 4 and self.shape_query(True):
            text = f"{text} / {self.shape_query(True)}"
        return f"    return {text}"

    def program(self) -> Program:
        result = self.result_shape()
        count = self.count(1, 4)
        names, kinds, shapes = [], [], []
        for k in range(count):
            pool = [n for n in ODD_PARAMS if n not in names] if self.chance(10) else []
            pool = pool or [n for n in ARRAY_PARAMS if n not in names]
            names.append(self.pick(pool))
            kinds.append("array")
            shapes.append(result if k == 0 and self.chance(60) else self.operand_shape(result))
        if all(shape == () for shape in shapes):
            shapes[0] = result  # at least one array with axes
        if self.chance(25):  # a weight matrix: x @ W
            names.append("W")
            kinds.append("array")
            shapes.append((result[-1], self.count(1, 4)))
        if self.chance(45):
            names.append(self.pick(FLOAT_PARAMS))
            kinds.append("float")
            shapes.append(())
        order = self.draw(st.permutations(range(len(names))))
        names, kinds, shapes = ([seq[i] for i in order] for seq in (names, kinds, shapes))
        for name, kind, shape in zip(names, kinds, shapes):
            self.vars[name] = Val(name, shape, kind)
            self.env[name] = 0.5 if kind == "float" else np.full(shape, 0.5)
        self.params = list(names)
        self.zero_d = any(k == "array" and s == () for k, s in zip(kinds, shapes))
        body = [self.statement() for _ in range(self.count(1, 7))]
        body.append(self.returns())
        source = "import numpy as np\n\n\ndef f({}):\n{}\n".format(", ".join(names), "\n".join(body))
        return Program(source, tuple(names), tuple(kinds), tuple(shapes),
                       self.chance(35) and not self.used & set(FLOAT32_EXCLUDED))


@st.composite
def programs(draw) -> Program:
    return _Writer(draw).program()


# ---------------------------------------------------------------------------
# Running programs.

_module_ids = itertools.count()


def load_function(source: str, directory):
    """Write `source` to a fresh .py file, import it, and return its `f`."""
    name = f"random_array_program_{os.getpid()}_{next(_module_ids)}"
    path = directory / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.f


class Timeout(BaseException):
    """A call ran too long (a BaseException, so that no `except Exception` hides it)."""


class _time_limit:
    def __init__(self, seconds: float):
        self.seconds = seconds

    def _ring(self, signum, frame):
        raise Timeout(f"more than {self.seconds} s")

    def __enter__(self):
        self.old = signal.signal(signal.SIGALRM, self._ring)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)


def inputs(program: Program, seed: int, dtype=np.float64) -> tuple:
    """The arguments for one seed: normal entries, the float uniform in (-2, 2)."""
    rng = np.random.default_rng(seed)
    args = []
    for kind, shape in zip(program.kinds, program.shapes):
        if kind == "float":
            args.append(float(rng.uniform(-2.0, 2.0)))
        else:
            args.append(np.asarray(rng.normal(size=shape), dtype=dtype))
    return tuple(args)


def _copy(args: tuple) -> tuple:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def run(fn, args, seconds: float = 5.0):
    """("ok", result) or ("raise", exception) for fn(*args), NumPy's warnings silenced."""
    try:
        with _time_limit(seconds), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", fn(*args)
    except Timeout as err:
        return "raise", err
    except Exception as err:
        return "raise", err


def identical(a, b) -> bool:
    """Same structure, types, dtypes, shapes and bits (NaN equals NaN; 0.0 and -0.0 differ
    for scalars)."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(identical, a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, (float, np.floating)):
        if math.isnan(a) or math.isnan(b):
            return bool(math.isnan(a) and math.isnan(b))
        return bool(a == b) and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array {value.shape} {np.array2string(value, precision=17)}"
    return f"{type(value).__name__} {value!r}"


# ---------------------------------------------------------------------------
# Checks.

def note(text: str) -> None:
    try:
        _note(text)
    except InvalidArgument:
        pass


def event(text: str) -> None:
    try:
        _event(text)
    except InvalidArgument:
        pass


def _fail(kind: str, program: Program, seed, detail: str):
    shapes = ", ".join(f"{n}: {'float' if k == 'float' else s}" for n, k, s in
                       zip(program.names, program.kinds, program.shapes))
    raise AssertionError(f"[{kind}] seed {seed!r} ({shapes}): {detail}\n--- program ---\n{program.source}")


def _make(program: Program, fn, seed):
    made = []
    for make in (value_and_grad, grad):
        try:
            with _time_limit(60.0):
                made.append(make(fn))
        except SymbackError as err:
            _fail(f"refused: {type(err).__name__}", program, seed, f"{make.__name__}(f) raised\n{err}")
        except BaseException as err:  # noqa: BLE001 - any other exception, even a Timeout, is a failure
            _fail(f"crashed: {type(err).__name__}", program, seed,
                  f"{make.__name__}(f) raised {type(err).__name__}: {err}")
    return made


def _shape_problem(program: Program, args: tuple, grads, dtype) -> str | None:
    """Why `grads` does not have one partial of its parameter's shape per parameter, or None."""
    parts = grads if len(args) > 1 else (grads,)
    if len(args) > 1 and not isinstance(grads, tuple):
        return f"gradient is a {type(grads).__name__}, not a tuple"
    if len(parts) != len(args):
        return f"{len(parts)} partials for {len(args)} parameters"
    for name, kind, arg, part in zip(program.names, program.kinds, args, parts):
        if kind == "float":
            ok = type(part) in (float, np.float64) if dtype == np.float64 else \
                isinstance(part, (float, np.floating))
            if not ok:
                return f"d/d{name} is {_describe(part)}, not a float"
        elif not isinstance(part, (np.ndarray, np.generic)) or np.shape(part) != arg.shape:
            return f"d/d{name} is {_describe(part)}, not an array of shape {arg.shape}"
        elif not isinstance(part, np.ndarray) and arg.ndim > 0:
            return f"d/d{name} is {_describe(part)}, not an array"
        elif part.dtype != dtype:
            return f"d/d{name} has dtype {part.dtype}, not {np.dtype(dtype)}: {_describe(part)}"
    return None


def _richardson(fn, args, k, index, h) -> float:
    """d f / d args[k][index] by central differences over h and h/2, Richardson-extrapolated
    (args[k] is changed in place and restored; index None: the float parameter)."""
    def at(delta):
        if index is None:
            moved = list(args)
            moved[k] = args[k] + delta
            return float(fn(*moved))
        old = args[k][index]
        args[k][index] = old + delta
        try:
            return float(fn(*args))
        finally:
            args[k][index] = old

    x = args[k] if index is None else args[k][index]
    step = h * max(1.0, abs(float(x)))

    def central(s):
        up, down = at(s), at(-s)
        width = (x + s) - (x - s)
        return (up - down) / width

    return (4.0 * central(step / 2) - central(step)) / 3.0


def check_gradient(program: Program, fn, args: tuple, grads, value, seed) -> None:
    """Check 3: entry by entry against central differences where they can be trusted."""
    if not (math.isfinite(value) and abs(value) <= 1e6):
        event("f not finite or large: no central differences")
        return
    scale = max(1.0, abs(float(value)))
    work = list(_copy(args))
    parts = grads if len(args) > 1 else (grads,)
    checked = skipped = 0
    problems = []
    with np.errstate(all="ignore"), warnings.catch_warnings(), _time_limit(30.0):
        warnings.simplefilter("ignore")
        for k, (name, kind, part) in enumerate(zip(program.names, program.kinds, parts)):
            indices = [None] if kind == "float" else list(np.ndindex(args[k].shape))
            for index in indices:
                fine = _richardson(fn, work, k, index, 1e-6)
                coarse = _richardson(fn, work, k, index, 1e-4)
                if not (math.isfinite(fine) and math.isfinite(coarse)
                        and abs(fine - coarse) <= 1e-6 * scale + 1e-6 * abs(fine)):
                    skipped += 1  # a kink or a tie nearby: the reference is not trustworthy
                    continue
                got = float(part if index is None else part[index])
                if not math.isfinite(got) and fine == coarse == 0.0:
                    # f is flat in this entry: an infinite inner slope times a zero outer
                    # one (np.cbrt(0 * x), np.arcsin(np.tanh(30.0))) gives nan in reverse
                    # mode, as in the scalar test: allowed, but counted
                    event("non-finite partial where f is flat in an entry (inf * 0)")
                    continue
                checked += 1
                if not (math.isfinite(got) and abs(got - fine) <= 1e-6 * scale + 1e-5 * abs(fine)):
                    where = name if index is None else f"{name}[{', '.join(map(str, index))}]"
                    problems.append(f"d/d{where}: symback {got!r} vs numeric {fine!r}")
    if problems:
        shown = "; ".join(problems[:8]) + (f"; ... ({len(problems)} entries)" if len(problems) > 8 else "")
        _fail("wrong gradient", program, seed, shown + f"\ngradient: {grads!r}")
    event("checked against central differences" if checked else "no entry checked")
    if skipped:
        event("some entries skipped (kink or tie nearby)")


def check_point(program: Program, fn, vg, g, seed, dtype) -> None:
    args = inputs(program, seed, dtype)
    label = "" if dtype == np.float64 else " (float32)"
    want = run(fn, _copy(args))
    if want[0] == "raise":
        _fail("f raises: a bug in the generator", program, seed,
              f"f raised {type(want[1]).__name__}: {want[1]}")
    value = want[1]
    before, args_g = _copy(args), _copy(args)
    got, got_g = run(vg, args), run(g, args_g)
    for name, outcome in (("value_and_grad", got), ("grad", got_g)):
        if outcome[0] == "raise":
            kind = "timeout" if isinstance(outcome[1], Timeout) else "raises where f returns"
            _fail(kind + label, program, seed, f"f returned {_describe(value)}; {name}(f) raised "
                  f"{type(outcome[1]).__name__}: {outcome[1]}")
    for name, after in (("value_and_grad", args), ("grad", args_g)):
        if not all(identical(a, b) for a, b in zip(after, before)):
            _fail("gradient changes its arguments" + label, program, seed,
                  f"{name}(f): before {before!r}, after {after!r}")
    result = got[1]
    if not (isinstance(result, tuple) and len(result) == 2):
        _fail("value_and_grad result is not a pair" + label, program, seed, f"it returned {result!r}")
    v, grads = result
    # 1. the value is f's, bit for bit
    if not identical(v, value):
        _fail("value differs from f" + label, program, seed,
              f"f returned {_describe(value)}, value_and_grad(f)[0] is {_describe(v)}")
    # 2. grad is value_and_grad's gradient, bit for bit
    if not identical(got_g[1], grads):
        _fail("grad and value_and_grad differ" + label, program, seed,
              f"grad(f) returned {got_g[1]!r}, value_and_grad(f)[1] is {grads!r}")
    if dtype == np.float64:
        problem = _shape_problem(program, args, grads, np.float64)
        if problem:
            _fail("gradient has the wrong shape", program, seed, problem)
        check_gradient(program, fn, args, grads, value, seed)
    elif isinstance(value, np.floating) and value.dtype == np.float32:
        # 4. f computes in float32: so does its gradient
        problem = _shape_problem(program, args, grads, np.float32)
        if problem:
            _fail("gradient has the wrong shape or dtype (float32)", program, seed, problem)
        event("float32 gradients checked")
    else:
        event(f"float32 inputs, f returns {type(value).__name__}: dtypes not checked")


def check_program(program: Program, seed: int, directory) -> None:
    """Checks 1-5 (see the module docstring) for one program at the inputs of one seed."""
    note(program.source)
    note(f"shapes {program.shapes!r}, seed {seed}")
    fn = load_function(program.source, directory)
    vg, g = _make(program, fn, seed)
    check_point(program, fn, vg, g, seed, np.float64)
    if program.float32:
        check_point(program, fn, vg, g, seed, np.float32)


def _directory(tmp_path_factory):
    directory = tmp_path_factory.getbasetemp() / "random_array_programs"
    directory.mkdir(exist_ok=True)
    return directory


@_settings()
@given(program=programs(), seed=st.integers(0, 2**32 - 1))
def test_random_array_programs(program, seed, tmp_path_factory):
    check_program(program, seed, _directory(tmp_path_factory))
