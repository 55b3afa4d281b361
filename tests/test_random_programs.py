"""Property test: random programs in the whole supported scalar language.

Hypothesis writes random functions `f` (and module-level helpers), writes
each to a real .py file, imports it (inspect.getsource needs the file), and
checks, at several points per program:

1. `value_and_grad(f)(*args)[0]` is `f(*args)` exactly: the same type and
   bits (both NaN counts as equal; 0.0 and -0.0 differ). Where `f` raises,
   `value_and_grad(f)` and `grad(f)` raise the same exception type. The
   gradient runs f's own expressions, so nothing is allowed to be merely close.
2. `grad(f)(*args)` is `value_and_grad(f)(*args)[1]` exactly, element by
   element (a list parameter's gradient is a list of its length).
3. the gradient agrees with central differences where f is smooth there:
   finite, no exception nearby, two step sizes agree (`_consistent`) and the
   one-sided differences show no kink or jump (`_smooth_here`), at points
   with no round float (`_round`: 0, multiples of 1/64, tiny, huge, inf,
   nan), where a test like `x * y == z` may take a path it takes nowhere near.

Where f returns, the gradient may raise only an arithmetic error (or
ValueError), and only where f is not smooth with a finite derivative
(`sqrt` at 0), or at a round point or with an int parameter, where a
partial may be undefined although f is smooth through it (`hypot(0, 0)`),
or where f is flat in a parameter (an infinite inner slope times a zero outer
one, `sqrt(max(w, 1.0) - 1.0)` at w < 1): those cases pass but are counted
(`soft`). `grad(f)` may refuse a
program only with `NotDifferentiable`, and only for a line f does not run at
any point drawn where it is smooth with a finite derivative (x / (y - y) is
undefined wherever it runs, and SymPy sees that): the generator writes supported
constructs only, so `UnsupportedSyntax`, `UnsupportedCall`, `InternalError`
or any other exception is a failure. So is a gradient call running over 5 s.

The generator (`_Writer`) covers: + - * / ** // %, unary minus, math
functions, abs/min/max, conditional expressions, comparisons (chained) under
and/or/not; guards whose order matters (`x != 0 and 1.0 / x > 2.0`, in if
and while tests and conditional expressions); assignment, augmented
assignment, tuple unpacking, if/elif/else, early return in branches and in
loops; for over range (constant, int parameter or len(xs) bounds), over a
list, enumerate and zip; while loops bounded by a counter; break, continue
and return at every loop depth; loop variables and loop-first variables read
after the loop; helpers (several statements, branches, tuple results,
helpers that fail outside their domain) in expressions, if and while tests;
helpers defined inside f (a def, a tuple-returning def or `g = lambda ...`)
reading f's variables, which f may reassign between calls;
sum, min and max over generator expressions and list comprehensions
(filters, zip, a variable named like one outside it); loops and comprehensions
over nested targets (`for i, (x, (y, z)) in enumerate(zip(xs, zip(ys, zs)))`,
`enumerate(xs, start=k)`); helpers taking one of f's lists; validation
guards (`if c: raise ValueError(...)`, `assert c, "..."`, in helpers and
loops too); f returning `value,` (a 1-tuple) or `loss, aux` (checked with
has_aux=True: value_and_grad gives ((value, aux), grads) and grad
(grads, aux), as JAX); truth-value
conditions (`if x:`, `if not xs:`), comparisons used as numbers;
round, int, math.floor/ceil as integers;
parameter and local names like symback's own (`x_bar`, `_t1`, `_tape_1`,
`_`, `out`) or shadowing builtins the generated code may use (`len`,
`reversed`, `list`, `abs`, ...). Points are floats in (-3, 3), most of them
not round, the others with 0, -0.0, +-1, 0.5, 0.25 and 2 favoured, int
parameters in 0..4, lists of 1-4 floats;
`test_edge_inputs` adds 0.0, -0.0, +-1e300, +-1e-300, +-inf, nan and empty
lists, where checks 1 and 2 apply (3 needs a finite, moderate point).

By default (and in CI) every test is derandomized with a fixed number of
programs (300 in all, about 20 s). A long random run of about N programs
in all, split between the tests as SHARES says:

    SYMBACK_LONG_RUN=3000 python -m pytest tests/test_random_programs.py

Each failing test prints its shrunk program and points (the first line of
the message names the kind of failure, e.g. `[value differs from f]`) and a
blob for @reproduce_failure. `check_program(program, points, directory)`
runs the checks on one program outside hypothesis.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import math
import os
import signal
import sys
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import event as _event
from hypothesis import note as _note
from hypothesis.errors import InvalidArgument
from hypothesis import strategies as st

from reference import assert_grads_close, central_differences
from symback import NotDifferentiable, SymbackError, grad, value_and_grad

# ---------------------------------------------------------------------------
# Settings: derandomized by default, one environment variable for a long run.

LONG_RUN = int(os.environ.get("SYMBACK_LONG_RUN", "0") or 0)
# Share of a long run per test; in the default run, this many programs each.
SHARES = {"straight": 0.2, "control": 0.3, "helpers": 0.2, "lists": 0.15, "edge": 0.15}
DEFAULT_EXAMPLES = {"straight": 70, "control": 80, "helpers": 50, "lists": 50, "edge": 50}


def _settings(test: str) -> settings:
    """Hypothesis settings for one test: fixed and derandomized, or a share of SYMBACK_LONG_RUN."""
    common = dict(deadline=None, print_blob=True, report_multiple_bugs=False,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])
    if LONG_RUN:
        return settings(max_examples=max(1, round(LONG_RUN * SHARES[test])), derandomize=False, **common)
    return settings(max_examples=DEFAULT_EXAMPLES[test], derandomize=True, database=None, **common)


# ---------------------------------------------------------------------------
# The generator.

# No 0.0: hypot(q, x * 0.0) would be hypot(0, 0) at every x, a point where a partial is undefined.
CONSTANTS = (0.5, 1.5, 2.0, 3.0, 0.1, 1.0, -0.75, -1.25)
NOT_VARIABLES = {"math", "len", "sum", "abs", "min", "max", "float"}  # names in calls
FLOAT_PARAMS = ("x", "y", "z", "w")
ODD_PARAMS = ("x_bar", "_t1", "_tape_1", "_count_1", "_cond_1", "_", "out", "y_bar", "_ret_1", "n_zip")
INT_PARAMS = ("n", "m", "_i1", "_count_2")
LIST_PARAMS = ("xs", "ys", "xs_bar", "_tape_2")
LOCALS = ("a", "b", "c", "t", "s", "acc", "u", "p", "q", "r", "out", "x_bar", "t_1", "_t1", "_t2",
          "_tape_1", "_cond_1", "_ret_1", "_returned_1", "a_bar", "n_zip", "_i1", "_")
# Builtins the generated code may call; a function only uses one as a local if it never calls it.
SHADOWABLE = ("len", "reversed", "list", "float", "tuple", "isinstance", "abs", "min", "max", "sum",
              "zip", "enumerate")
INDICES = ("i", "j", "l", "idx", "_", "_i1", "_t1")
# Names for lists built in f: plain ones, and ones like the generated code's (_e1, _j, row, xs_part, ...)
LIST_LOCALS = ("vals", "ys2", "row", "_list1", "xs_part", "_e1", "_j", "_g", "out_bar", "n_vals", "_built1")
COUNTERS = ("k", "steps", "_count_1", "kk", "_cond_1")

SAFE_1 = ("math.sin({0})", "math.cos({0})", "math.tanh({0})", "math.atan({0})", "math.erf({0})",
          "math.exp(math.sin({0}))", "math.sqrt(1.0 + ({0}) ** 2)", "math.log(1.0 + ({0}) ** 2)",
          "math.sinh(math.tanh({0}))")
SAFE_2 = ("math.hypot({0}, {1})", "math.atan2({0}, {1})")
# Defined only on part of the line, or overflowing for large arguments: f raises at some points.
UNSAFE_1 = ("math.log({0})", "math.sqrt({0})", "math.exp({0})", "math.asin({0})", "math.acos({0})",
            "math.log1p({0})", "math.cosh({0})", "math.atanh({0})", "math.log10({0})", "math.log2({0})",
            "math.expm1({0})", "math.tan({0})", "({0}) ** -1", "1.5 ** ({0})", "math.log({0}, 2.0)",
            # integers (flat: a zero gradient), raising at inf and nan
            "(math.floor({0}) * {0})", "(round({0}) + {0})", "(int({0}) - {0})", "(math.ceil({0}) + round({0}, 1))")
UNSAFE_2 = ("math.pow({0}, {1})", "({0} / {1})", "({0} / ({1} - 1.0))", "({0} % {1})", "({0} // {1})")
# Each is >= 0.25 in absolute value whatever {0} is (NaN and inf aside).
DENOMINATORS = ("(1.5 + math.sin({0}))", "(2.0 + math.cos({0}))", "(1.25 + math.tanh({0}))",
                "(1.0 + ({0}) ** 2)")
# Guards: (holds, fails, needs): `needs` is defined exactly where `holds` is true.
GUARDS = (
    ("{0} != 0", "{0} == 0", "1.0 / {0}"),
    ("{0} > 0", "{0} <= 0", "math.log({0})"),
    ("{0} >= 0", "{0} < 0", "math.sqrt({0})"),
    ("-1.0 <= {0} <= 1.0", "not -1.0 <= {0} <= 1.0", "math.asin({0})"),
    ("{0} < 30.0", "{0} >= 30.0", "math.exp({0})"),
    ("{0} > 0.5", "not {0} > 0.5", "math.log({0} - 0.5)"),
)
COMPARE = ("<", "<=", ">", ">=", "==", "!=")

EDGE = (0.0, -0.0, 1e300, -1e300, 1e-300, -1e-300, math.inf, -math.inf, math.nan)
SPECIAL = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 0.25)
MAX_VALUE = 1e6


@dataclass
class Helper:
    name: str
    arity: int
    tuple_result: bool = False
    guard: tuple | None = None  # the GUARDS entry its first argument must satisfy
    lists: int = 0              # its first `lists` parameters are lists (the caller passes one of its own)


@dataclass
class Scope:
    """What the code being written can read and assign."""
    numbers: list = field(default_factory=list)    # readable numeric names
    ints: list = field(default_factory=list)       # int-valued: range bounds, exponents
    fixed: set = field(default_factory=set)        # readable but never assigned (counters, indices, ints)
    lists: list = field(default_factory=list)      # list parameters
    indexes: dict = field(default_factory=dict)    # loop index -> list it indexes safely
    loops: int = 0                                 # enclosing loops

    def child(self, **changes) -> "Scope":
        new = Scope(list(self.numbers), list(self.ints), set(self.fixed), list(self.lists),
                    dict(self.indexes), self.loops)
        for key, value in changes.items():
            setattr(new, key, value)
        return new

    def define(self, name: str) -> None:
        if name not in self.numbers:
            self.numbers.append(name)


@dataclass(frozen=True)
class Features:
    """Which parts of the language one test's programs use."""
    loops: bool = False
    whiles: bool = False
    helpers: int = 0         # at most this many helpers
    lists: bool = False
    ints: bool = False
    statements: int = 8      # at most this many top-level statements
    depth: int = 2           # nesting of if/for/while
    after_loop: bool = True  # read loop variables and loop-first variables after the loop
    nested: bool = False     # helpers defined inside f too (def or lambda), closing over f's variables
    list_values: bool = False  # lists built in f: displays, comprehensions, append, [0.0] * n, slices, ...
    guards: bool = False     # `if c: raise ValueError(...)`, `assert c, "..."` (in helpers and loops too)
    results: bool = False    # `return value,` (a 1-tuple) and `return loss, aux` (checked with has_aux)


@dataclass(frozen=True)
class Program:
    source: str
    names: tuple      # parameter names
    kinds: tuple      # "float", "int" or "list" per parameter
    form: str = "value"  # what f returns: "value", "one_tuple" (value,) or "aux" (value, aux)


class _Writer:
    """Draws one random program with hypothesis' `draw`, statement by statement."""

    def __init__(self, draw, features: Features):
        self.draw = draw
        self.features = features
        self.helpers: list[Helper] = []
        self.taken: set = {"math", "f"}       # never a fresh local: params, helpers, counters
        self.banned: set = set()              # builtins this function does not call
        self.size = 0                         # statements written, to bound compile time
        self.form = "value"                   # what f's returns give (see Program.form); helpers: "value"

    # -- choices --------------------------------------------------------
    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) < percent

    def count(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def fresh(self, sc: Scope) -> str:
        pool = [n for n in LOCALS + tuple(self.banned)
                if n not in self.taken and n not in sc.numbers and n not in sc.fixed]
        if pool and self.chance(85):
            return self.pick(pool)
        for k in itertools.count(1):
            if f"v{k}" not in self.taken and f"v{k}" not in sc.numbers and f"v{k}" not in sc.fixed:
                return f"v{k}"

    def can(self, builtin: str) -> bool:
        return builtin not in self.banned

    # -- expressions ----------------------------------------------------
    def constant(self) -> str:
        c = self.pick(CONSTANTS)
        return f"({c!r})" if c < 0 else repr(c)

    def leaf(self, sc: Scope) -> str:
        roll = self.count(0, 99)
        if sc.lists and roll < 12:
            return self.list_leaf(sc)
        if sc.ints and roll < 20:
            return self.pick(sc.ints)
        if sc.numbers and roll < 80:
            return self.pick(sc.numbers)
        return self.constant()

    def list_leaf(self, sc: Scope) -> str:
        xs = self.pick(sc.lists)
        safe = [i for i, ys in sc.indexes.items() if ys == xs]
        options = ["first", "last"] + (["sum", "comprehension"] if self.can("sum") else []) + \
            (["index"] * 2 if safe else [])
        if not self.can("len"):
            options.remove("last")
        kind = self.pick(options)
        if self.features.list_values and self.chance(35):
            return self.list_function(sc, xs)
        if kind == "comprehension":
            return self.comprehension(sc, xs)
        if kind == "index":
            return f"{xs}[{self.pick(safe)}]"
        if kind == "first":
            return f"{xs}[0]"
        if kind == "last":
            return f"{xs}[len({xs}) - 1]"
        return f"sum({xs})"

    def list_function(self, sc: Scope, xs: str) -> str:
        """A number from a whole list: of a slice, max/min of a list, math.fsum/prod, any/all."""
        options = ["fsum", "prod", "any"]
        if self.can("sum"):
            options += ["slice", "slice"]
        if self.can("max") and self.can("min"):
            options += ["extreme"]
        kind = self.pick(options)
        if kind == "slice":
            part = self.pick(["[1:]", "[:-1]", "[::2]", "[::-1]", "[1::2]", "[-2:]", "[::-1][:2]"])
            return f"sum({xs}{part})"
        if kind == "extreme":
            return f"{self.pick(['max', 'min'])}({xs})"
        v = self.fresh(sc)
        sc = sc.child(lists=[])  # no list inside: each list leaf would nest another
        inner = sc.child(numbers=sc.numbers + [v], fixed=sc.fixed - {v})
        if kind == "fsum":
            return f"math.fsum({self.expr(inner, 1)} for {v} in {xs})"
        if kind == "prod":
            return f"math.prod({xs})" if self.chance(40) else f"math.prod(math.tanh({self.expr(inner, 1)}) for {v} in {xs})"
        test = f"{v} {self.pick(['>', '<', '!='])} {self.constant()}"
        word = self.pick(["any", "all"]) if self.can("any") and self.can("all") else "any"
        return f"({self.expr(sc, 1)} if {word}({test} for {v} in {xs}) else {self.expr(sc, 1)})"

    def list_value(self, sc: Scope, indent: str) -> list:
        """A list built in f, then in scope as a list for the rest of this block."""
        pool = [n for n in LIST_LOCALS if n not in self.taken and n not in sc.numbers and n not in sc.fixed
                and n not in sc.lists]
        if not pool or not sc.lists:
            return self.assignment(sc, indent, 1)
        name = self.pick(pool)
        xs = self.pick(sc.lists)
        v = self.fresh(sc)
        inner = sc.child(numbers=sc.numbers + [v], fixed=sc.fixed - {v}, loops=sc.loops + 1)
        kinds = ["comprehension", "display", "append", "slice", "joined"]
        if self.can("len"):
            kinds += ["recurrence", "zeros"]
        if self.can("list"):
            kinds += ["copy"]
        kind = self.pick(kinds)
        i = self.pick([n for n in INDICES if n not in self.taken and n not in sc.numbers and n not in sc.fixed]
                      or ["i_l"])
        if kind == "comprehension":
            test = f" if {v} {self.pick(['>', '<='])} {self.constant()}" if self.chance(30) else ""
            lines = [f"{indent}{name} = [{self.expr(inner, 2)} for {v} in {xs}{test}]"]
        elif kind == "display":
            lines = [f"{indent}{name} = [{', '.join(self.expr(sc, 2) for _ in range(self.count(1, 3)))}]"]
        elif kind == "append":
            lines = [f"{indent}{name} = []", f"{indent}for {v} in {xs}:"]
            if self.chance(40):
                lines += [f"{indent}    if {v} {self.pick(['>', '<='])} {self.constant()}:",
                          f"{indent}        {name}.append({self.expr(inner, 2)})"]
            else:
                lines += [f"{indent}    {name}.append({self.expr(inner, 2)})"]
        elif kind == "recurrence":  # reads the element appended last while the list grows
            lines = [f"{indent}{name} = [{xs}[0]]", f"{indent}for {v} in {xs}[1:]:",
                     f"{indent}    {name}.append(math.tanh({self.pick(['0.5', '-0.75', '1.5'])} * {name}[-1] + "
                     f"{self.expr(inner, 1)}))"]
        elif kind == "zeros":  # [0.0] * n, then elements replaced and added to
            each = sc.child(numbers=sc.numbers + [f"{xs}[{i}]"], loops=sc.loops + 1)
            lines = [f"{indent}{name} = [{self.pick(['0.0', '1.0'])}] * len({xs})",
                     f"{indent}for {i} in range(len({xs})):",
                     f"{indent}    {name}[{i}] {self.pick(['=', '+='])} {self.expr(each, 2)}"]
            if self.chance(50):
                lines.append(f"{indent}{name}[-1] = {name}[0] * {self.expr(sc, 1)}")
        elif kind == "slice":
            lines = [f"{indent}{name} = {xs}{self.pick(['[1:]', '[:-1]', '[::-1]', '[::2]'])}"]
        elif kind == "joined":
            lines = [f"{indent}{name} = {xs} + [{self.expr(sc, 2)}]"]
            if self.chance(50):
                lines.append(f"{indent}{name} += [{self.expr(sc, 1)}]")
        else:
            lines = [f"{indent}{name} = list({xs})", f"{indent}{name}.append({self.expr(sc, 2)})"]
        sc.lists.append(name)
        sc.fixed.add(name)
        return lines

    def comprehension(self, sc: Scope, xs: str) -> str:
        """sum(e for v in xs if test), sum([e for a, b in zip(xs, ys)]): the variables are the
        comprehension's own (sometimes named like one outside it, which must not change)."""
        names = [self.pick(sc.numbers) if sc.numbers and self.chance(30) else self.fresh(sc)]
        others = [ys for ys in sc.lists if ys != xs]
        if self.can("enumerate") and self.can("zip") and self.chance(25):  # sum(i * x * y for i, (x, y) in ...)
            inner = sc.child()
            source, target, names = self.iterable(sc, inner, 2, top=True)
            element = self.expr(inner, 2)
            return f"sum({element} for {target} in {source})"  # comprehension() is only called if can("sum")
        if others and self.chance(40):
            second = self.fresh(sc.child(numbers=sc.numbers + names))
            names.append(second if second not in names else "w_c")
            source = f"zip({xs}, {self.pick(others)})"
        else:
            source = xs
        inner = sc.child(numbers=sc.numbers + [n for n in names if n not in sc.numbers],
                         fixed=sc.fixed - set(names))
        element = self.expr(inner, 2)
        target = ", ".join(names)
        test = f" if {names[0]} {self.pick(['>', '<=', '!='])} {self.constant()}" if self.chance(30) else ""
        body = f"{element} for {target} in {source}{test}"
        reduce = self.pick(["sum", "sum", "max", "min"]) if self.can("max") and self.can("min") else "sum"
        return f"{reduce}([{body}])" if self.chance(30) else f"{reduce}({body})"

    def operand(self, sc: Scope, depth: int) -> str:
        """An expression over at least one variable: where it must not be a constant (a
        divisor, a logarithm's argument), since a constant 1/0 or log(0) may be refused when
        the gradient is made, wherever it is."""
        text = self.expr(sc, depth)
        names = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
        if names - NOT_VARIABLES - {h.name for h in self.helpers} or not sc.numbers:
            return text
        return self.pick(sc.numbers)

    def other(self, sc: Scope, depth: int, a: str) -> str:
        """A second operand that is not `a` itself: to SymPy x - x and x % x are 0, so
        math.log(math.fabs(x - x)) would be refused wherever it is, as a constant log(0)."""
        b = self.expr(sc, depth)
        return b if b != a else self.constant()

    def expr(self, sc: Scope, depth: int) -> str:
        if depth <= 0 or self.chance(25):
            return self.leaf(sc)
        kinds = ["arith"] * 4 + ["neg", "safe", "safe", "div", "pow", "minmax", "floormod", "ifexp",
                                 "unsafe", "guarded"]
        if self.scalar_helpers(sc):
            kinds += ["call", "call"]
        if sc.ints:
            kinds += ["int"]
        kind = self.pick(kinds)
        a = self.expr(sc, depth - 1)
        if kind == "arith":
            return f"({a} {self.pick('+-*')} {self.other(sc, depth - 1, a)})"
        if kind == "neg":
            return f"(-{a})"
        if kind == "safe":
            if self.chance(25):
                return self.pick(SAFE_2).format(a, self.expr(sc, depth - 1))
            return self.pick(SAFE_1).format(a)
        if kind == "div":
            return f"({a} / {self.pick(DENOMINATORS).format(self.expr(sc, depth - 1))})"
        if kind == "pow":
            forms = ["({0}) ** 2", "({0}) ** 3", "(1.0 + ({0}) ** 2) ** 0.5", "(1.0 + ({0}) ** 2) ** -1"]
            forms.append("abs({0}) ** 1.5" if self.can("abs") else "math.fabs({0}) ** 1.5")
            return self.pick(forms).format(a)
        if kind == "minmax":
            b = self.other(sc, depth - 1, a)
            forms = ["math.fabs({0} - {1})"]
            if self.can("max"):
                forms += ["max({0}, {1})", "max({0}, {1}, 0.25)"]
            if self.can("min"):
                forms += ["min({0}, {1})", "min({0}, {1}, -0.5)"]
            if self.can("abs"):
                forms += ["abs({0})", "abs({0} - {1})"]
            return self.pick(forms).format(a, b)
        if kind == "floormod":
            forms = ("({0} % 1.5)", "({0} // 0.75)", "(({0}) // 0.75 * {1})", "({0} % -2.0)")
            return self.pick(forms).format(a, self.expr(sc, depth - 1))
        if kind == "ifexp":
            if self.chance(20):  # a comparison as a number: a bool, flat
                return f"(({a} {self.pick(['>', '<=', '!='])} {self.expr(sc, depth - 1)}) * {self.expr(sc, depth - 1)})"
            return f"({a} if {self.cond(sc, 1)} else {self.expr(sc, depth - 1)})"
        if kind == "unsafe":
            a = self.operand(sc, depth - 1)
            if self.chance(35):
                b = self.operand(sc, depth - 1)
                return self.pick(UNSAFE_2).format(a, b if b != a else "2.0")  # not 1.0: a / (1.0 - 1.0)
            return self.pick(UNSAFE_1).format(a)
        if kind == "guarded":
            return self.guarded_value(sc, a)
        if kind == "call":
            return self.call(sc, depth)
        # kind == "int": an int in arithmetic, or as an exponent (x ** i is 0 ** 0 = 1 at x = 0)
        i = self.pick(sc.ints)
        return self.pick(["({0} * {1})", "({0}) ** {1}", "({0} + {1} * 0.5)"]).format(
            self.operand(sc, depth - 1), i)

    def guard_operand(self, sc: Scope) -> str:
        if sc.numbers and self.chance(75):
            return self.pick(sc.numbers)
        return f"({self.operand(sc, 0)} - {self.constant()})"

    def guarded_value(self, sc: Scope, other: str) -> str:
        """A value that is safe only because a guard is tested first."""
        holds, fails, needs = self.pick(GUARDS)
        v = self.guard_operand(sc)
        holds, fails, needs = holds.format(v), fails.format(v), needs.format(v)
        form = self.count(0, 3)
        if form == 0:
            return f"({needs} if {holds} else {other})"
        if form == 1:
            return f"({other} if {fails} else {needs})"
        if form == 2:
            return f"({v} if {holds} and {needs} < 1.0 else {other})"
        return f"({other} if {fails} or {needs} > 0.5 else {v})"

    def scalar_helpers(self, sc: Scope) -> list:
        """Helpers giving one number that `sc` can call: one taking a list needs a list here."""
        return [h for h in self.helpers if not h.tuple_result and (sc.lists or not h.lists)]

    def helper_args(self, sc: Scope, h: Helper, depth: int) -> list:
        """Arguments for h: a list parameter of ours for each list it takes, then numbers."""
        return [self.pick(sc.lists) for _ in range(h.lists)] + \
            [self.expr(sc, depth) for _ in range(h.arity - h.lists)]

    def call(self, sc: Scope, depth: int) -> str:
        h = self.pick(self.scalar_helpers(sc))
        args = self.helper_args(sc, h, max(0, depth - 2))
        text = f"{h.name}({', '.join(args)})"
        if h.guard is not None and self.chance(70):  # call it only where it is defined
            holds, fails, _ = h.guard
            other = self.expr(sc, 1)
            if self.chance(50):
                return f"({text} if {holds.format(args[0])} else {other})"
            return f"({other} if {fails.format(args[0])} else {text})"
        return text

    # -- conditions -----------------------------------------------------
    def compare(self, sc: Scope, depth: int) -> str:
        return f"{self.expr(sc, depth)} {self.pick(COMPARE)} {self.expr(sc, depth)}"

    def cond(self, sc: Scope, depth: int) -> str:
        kinds = ["compare"] * 4 + ["chain", "not", "and", "or", "guard_and", "guard_or", "float_trick", "truth"]
        if self.scalar_helpers(sc):
            kinds += ["helper", "helper"]
        kind = self.pick(kinds)
        if kind == "truth":  # a number's (or a list's) truth value, as Python takes it
            if sc.lists and self.chance(30):
                return f"not {self.pick(sc.lists)}" if self.chance(50) else self.pick(sc.lists)
            return self.expr(sc, 1)
        if kind == "compare" or (depth <= 0 and kind in ("not", "and", "or")):
            return self.compare(sc, 1)
        if kind == "chain":
            lo, hi = sorted([self.pick([-2.0, -1.0, -0.5, 0.0, 0.5]), self.pick([0.0, 0.5, 1.0, 2.0])])
            return f"{lo!r} {self.pick(['<', '<='])} {self.expr(sc, 1)} {self.pick(['<', '<='])} {hi!r}"
        if kind == "not":
            return f"not ({self.cond(sc, depth - 1)})"
        if kind in ("and", "or"):
            return f"({self.cond(sc, depth - 1)} {kind} {self.cond(sc, depth - 1)})"
        if kind in ("guard_and", "guard_or"):
            holds, fails, needs = self.pick(GUARDS)
            v = self.guard_operand(sc)
            test = f"{needs.format(v)} {self.pick(['<', '>'])} {self.pick([0.5, 1.0, 2.0])!r}"
            if kind == "guard_and":
                return f"({holds.format(v)} and {test})"
            return f"({fails.format(v)} or {test})"
        if kind == "float_trick":  # comparisons SymPy would decide as if floats were reals
            v = self.pick(sc.numbers) if sc.numbers else self.leaf(sc)
            return self.pick(["{0} != {0}", "{0} == {0}", "{0} + 1.0 > {0}", "{0} * 0.0 == 0.0",
                              "({0} + 6755399441055744.0) - 6755399441055744.0 == {0}"]).format(v)
        h = self.pick(self.scalar_helpers(sc))  # a helper in a test
        args = ", ".join(self.helper_args(sc, h, 1))
        return f"{h.name}({args}) {self.pick(['<', '>', '<='])} {self.pick([0.5, 2.0, 20.0])!r}"

    # -- statements -----------------------------------------------------
    def targets(self, sc: Scope) -> list:
        return [n for n in sc.numbers if n not in sc.fixed]

    def assignment(self, sc: Scope, indent: str, depth: int) -> list:
        """x = e, x op= e, or a, b = e1, e2 (also a helper's tuple), to an old or a fresh name."""
        exists = self.targets(sc)
        tuples = [h for h in self.helpers if h.tuple_result]
        roll = self.count(0, 99)
        e_depth = 2 if sc.loops else 3
        if tuples and roll < 12:
            h = self.pick(tuples)
            a, b = self.target(sc, exists), None
            b = self.target(sc, [n for n in exists if n != a], avoid=a)
            args = ", ".join(self.expr(sc, 1) for _ in range(h.arity))
            sc.define(a), sc.define(b)
            return [f"{indent}{a}, {b} = {h.name}({args})"]
        if roll < 22 and exists:
            a = self.pick(exists)
            b = self.target(sc, [n for n in exists if n != a], avoid=a)
            if b in exists and self.chance(30):
                line = f"{indent}{a}, {b} = {b}, {a}"  # a swap
            else:
                line = f"{indent}{a}, {b} = {self.expr(sc, e_depth - 1)}, {self.expr(sc, e_depth - 1)}"
            sc.define(b)
            return [line]
        if roll < 45 and exists:
            a = self.pick(exists)
            op = self.pick(["+=", "-=", "*=", "/="])
            # not `a` itself: a /= a is exactly 1.0, and math.asin(a) after it meets an infinite
            # slope times a zero one where f is smooth (a limitation, docs/limitations.md)
            value = self.other(sc, e_depth - 1, a)
            if op == "/=":
                value = self.pick(DENOMINATORS).format(value) if self.chance(85) else value
            elif op == "*=" and sc.loops:
                value = f"math.tanh({value})"  # keep products in loops bounded
            return [f"{indent}{a} {op} {value}"]
        a = self.target(sc, exists)
        value = self.expr(sc, e_depth)
        if sc.loops and a in sc.numbers and self.chance(50):
            value = f"0.5 * {a} + {value}"  # a damped update, so loops do not overflow
        sc.define(a)
        return [f"{indent}{a} = {value}"]

    def target(self, sc: Scope, exists: list, avoid: str | None = None) -> str:
        if exists and self.chance(50):
            return self.pick(exists)
        name = self.fresh(sc)
        while name == avoid:
            name = name + "2"
        return name

    def returns(self, sc: Scope, tuple_result: bool) -> str:
        if tuple_result:
            return f"return {self.expr(sc, 2)}, {self.expr(sc, 2)}"
        value = self.expr(sc, 2 if sc.loops else 3)
        if self.form == "one_tuple":
            return f"return {value},"
        if self.form == "aux":
            return f"return {value}, {self.aux(sc)}"
        return f"return {value}"

    def aux(self, sc: Scope) -> str:
        """has_aux's aux: passed through as f computes it. symback prints it as written,
        so it may use variables, numbers and builtins, not `math` (a refusal)."""
        kind = self.pick(["name", "arith", "text", "compare", "tuple"] + (["len"] if sc.lists else []))
        v = self.pick(sc.numbers) if sc.numbers else "1.5"
        if kind == "name":
            return v
        if kind == "arith":
            return f"{v} * 2.0 + {self.pick(sc.numbers) if sc.numbers else 1.0}"
        if kind == "text":
            return repr(self.pick(["ok", "positive", "", "aux"]))
        if kind == "compare":
            return f"{v} > {self.constant()}"
        if kind == "tuple":
            return f"({v}, {self.count(0, 3)})"
        xs = self.pick(sc.lists)
        return f"len({xs})" if self.can("len") else xs

    def guard(self, sc: Scope, indent: str) -> list:
        """A validation guard: `if c: raise E("...")` or `assert c, "..."`. The condition
        mostly holds only at a few points (|x| > 2.5, NaN, an empty list), so most
        programs still return; where f raises, the gradient must raise the same type."""
        v = self.pick(sc.numbers) if sc.numbers else None
        options = ["random"]
        if v is not None:
            options += ["large", "large", "nan"]
        if sc.lists:
            options += ["empty"] + (["long"] if self.can("len") else [])
        kind = self.pick(options)
        if kind == "random":
            fails = self.cond(sc, 1)
            holds = f"not ({fails})"
        elif kind == "large":
            c = self.pick([2.0, 2.5, 2.9])
            fails, holds = f"{v} > {c!r}", f"{v} <= {c!r}"
            if self.can("abs") and self.chance(50):
                fails, holds = f"abs({v}) > {c!r}", f"abs({v}) <= {c!r}"
        elif kind == "nan":
            fails, holds = f"{v} != {v}", f"{v} == {v}"  # SymPy would call both constant
        elif kind == "empty":
            xs = self.pick(sc.lists)
            fails, holds = f"not {xs}", xs
        else:
            xs = self.pick(sc.lists)
            fails, holds = f"len({xs}) > 3", f"len({xs}) <= 3"
        if self.chance(40):
            message = f', "{kind} check failed"' if self.chance(70) else ""
            return [f"{indent}assert {holds}{message}"]
        error = self.pick(["ValueError", "ValueError", "TypeError", "ArithmeticError", "RuntimeError"])
        if v is not None and self.chance(40):
            message = f'f"{kind}: {{{v}}} given"'  # an f-string, from the path's own variables
        else:
            message = f'"{kind} check failed"'
        return [f"{indent}if {fails}:", f"{indent}    raise {error}({message})"]

    def block(self, sc: Scope, indent: str, depth: int, limit: int, tuple_result: bool) -> list:
        """1..limit statements; the caller adds what ends the block."""
        lines = []
        for _ in range(self.count(1, limit)):
            lines += self.statement(sc, indent, depth, tuple_result)
        return lines

    def statement(self, sc: Scope, indent: str, depth: int, tuple_result: bool) -> list:
        self.size += 1
        kinds = ["assign"] * 5
        if depth > 0 and self.size < 30:
            kinds += ["if", "if", "return_if"]
            if self.features.loops:
                kinds += ["for", "for"] + (["for_list"] if sc.lists else [])
            if self.features.whiles:
                kinds += ["while"]
        if sc.loops:
            kinds += ["jump"]
        if self.features.guards and self.size < 30:
            kinds += ["guard"]
        if self.features.list_values and sc.lists and self.size < 30:
            kinds += ["list_value"] * 2
        kind = self.pick(kinds)
        if kind == "list_value":
            return self.list_value(sc, indent)
        if kind == "assign":
            return self.assignment(sc, indent, depth)
        if kind == "guard":
            return self.guard(sc, indent)
        if kind == "return_if":
            return [f"{indent}if {self.cond(sc, 2)}:", f"{indent}    {self.returns(sc, tuple_result)}"]
        if kind == "jump":  # break or continue, under an if
            return [f"{indent}if {self.cond(sc, 2)}:", f"{indent}    {self.pick(['break', 'continue'])}"]
        if kind == "if":
            return self.if_statement(sc, indent, depth, tuple_result)
        if kind == "while":
            return self.while_loop(sc, indent, depth, tuple_result)
        return self.for_loop(sc, indent, depth, tuple_result, over_list=(kind == "for_list"))

    def branch_end(self, sc: Scope, indent: str, tuple_result: bool) -> list:
        """Maybe end a branch: return (also inside loops), break or continue."""
        roll = self.count(0, 99)
        if roll < 20:
            return [f"{indent}{self.returns(sc, tuple_result)}"]
        if sc.loops and roll < 35:
            return [f"{indent}{self.pick(['break', 'continue'])}"]
        return []

    def if_statement(self, sc: Scope, indent: str, depth: int, tuple_result: bool) -> list:
        branches = 1 + self.count(0, 2)  # if, elif..., else?
        has_else = self.chance(60)
        both = self.fresh(sc) if has_else and self.chance(40) else None  # assigned on every path
        lines, ended = [], []
        for k in range(branches + has_else):
            if k == 0:
                lines.append(f"{indent}if {self.cond(sc, 2)}:")
            elif k < branches:
                lines.append(f"{indent}elif {self.cond(sc, 2)}:")
            else:
                lines.append(f"{indent}else:")
            inner = sc.child()
            if both is not None:
                lines.append(f"{indent}    {both} = {self.expr(inner, 2)}")
                inner.define(both)
            lines += self.block(inner, indent + "    ", depth - 1, 2, tuple_result)
            end = self.branch_end(inner, indent + "    ", tuple_result)
            if end and has_else and k == branches and all(ended):
                end = []  # keep one path falling through: no dead code after the if
            ended.append(bool(end))
            lines += end
        if both is not None:
            sc.define(both)
        return lines

    def range_call(self, sc: Scope) -> tuple:
        """(range(...) text, the list it indexes or None)."""
        options = ["const", "const", "two", "down"]
        ints = list(sc.ints)
        if ints:
            options += ["int", "int", "int_from"]
        if sc.lists and self.can("len"):
            options += ["len"]
        kind = self.pick(options)
        if kind == "const":
            c = self.count(0, 4)
            return f"range({c})", None
        if kind == "two":
            lo = self.count(0, 2)
            hi = lo + self.count(0, 3)
            return f"range({lo}, {hi})", None
        if kind == "down":
            return f"range({self.count(2, 4)}, 0, -1)", None
        if kind == "int":
            return f"range({self.pick(ints)})", None
        if kind == "int_from":
            return f"range(1, {self.pick(ints)})", None
        xs = self.pick(sc.lists)
        return f"range(len({xs}))", xs

    def loop_body(self, sc: Scope, inner: Scope, lines: list, indent: str, depth: int,
                  tuple_result: bool, prefix: list) -> None:
        """The body, maybe starting with a variable first assigned here and read after the loop."""
        first = None
        if self.chance(20) and self.features.after_loop:
            first = self.fresh(inner)
            lines.append(f"{indent}    {first} = {self.expr(inner, 2)}")
            inner.define(first)
        lines += prefix
        lines += self.block(inner, indent + "    ", depth - 1, 3, tuple_result)
        if first is not None:  # read after the loop: after zero iterations f raises UnboundLocalError
            sc.define(first)

    def for_loop(self, sc: Scope, indent: str, depth: int, tuple_result: bool, over_list: bool) -> list:
        lines = []
        inner = sc.child(loops=sc.loops + 1)
        if over_list:
            xs = self.pick(sc.lists)
            forms = ["for"] + (["enumerate"] if self.can("enumerate") else []) + \
                    (["zip"] if self.can("zip") and len(sc.lists) > 1 else []) + \
                    (["nested"] * 2 if self.can("enumerate") and self.can("zip") else [])
            form = self.pick(forms)
            # the element variable: fresh, or an existing number (a parameter too) it overwrites
            exists = self.targets(sc)
            overwrite = exists and self.features.after_loop and self.chance(20)
            element = self.pick(exists) if overwrite else self.fresh(inner)
            inner.define(element)
            after = [element]
            if form == "nested":  # for i, (x, y) in enumerate(zip(xs, ys)), ...: a fresh element instead
                inner = sc.child(loops=sc.loops + 1)
                source, target, after = self.iterable(sc, inner, 2, top=True)
                lines.append(f"{indent}for {target} in {source}:")
            elif form == "for":
                lines.append(f"{indent}for {element} in {xs}:")
            elif form == "enumerate":
                index = self.index_name(inner)
                lines.append(f"{indent}for {index}, {element} in enumerate({xs}):")
                inner.ints.append(index), inner.fixed.add(index), inner.define(index)
                inner.indexes[index] = xs
                after.append(index)
            else:
                ys = self.pick([y for y in sc.lists if y != xs])
                other = self.fresh(inner)
                while other == element:
                    other += "2"
                inner.define(other)
                lines.append(f"{indent}for {element}, {other} in zip({xs}, {ys}):")
                after.append(other)
        else:
            call, xs = self.range_call(sc)
            index = self.index_name(inner)
            if self.features.after_loop and self.chance(25):
                lines.append(f"{indent}{index} = {self.pick(['5.0', '0', self.leaf(sc)])}")  # before the loop
                sc.define(index)
            lines.append(f"{indent}for {index} in {call}:")
            inner.ints.append(index), inner.fixed.add(index), inner.define(index)
            if xs is not None:
                inner.indexes[index] = xs
            after = [index]
        self.loop_body(sc, inner, lines, indent, depth, tuple_result, [])
        if self.chance(40) and self.features.after_loop:
            for name in after:  # loop variables read after the loop (unbound if it ran zero times)
                if name not in sc.fixed:
                    sc.define(name)
        return lines

    def iterable(self, sc: Scope, inner: Scope, depth: int, top: bool = False) -> tuple:
        """(iterable, target, names) for a loop or comprehension over lists: a list, or
        enumerate (maybe from a start) or zip of iterables, nested; the target has the
        same shape, `i, (x, (y, z))` for enumerate(zip(xs, zip(ys, zs))). The names
        are defined in `inner`; an index counting from 0 indexes every list safely
        (zip stops at the shortest)."""
        source, target, names, lists = self._iterable(sc, inner, depth, top)
        return source, target[1:-1] if top and target.startswith("(") else target, names

    def _iterable(self, sc: Scope, inner: Scope, depth: int, top: bool) -> tuple:
        roll = self.count(0, 99)
        if depth <= 0 or (not top and roll < 50):
            xs = self.pick(sc.lists)
            element = self.fresh(inner)
            inner.define(element)
            return xs, element, [element], [xs]
        if roll < 55:
            source, target, names, lists = self._iterable(sc, inner, depth - 1, False)
            index = self.index_name(inner)
            inner.ints.append(index), inner.fixed.add(index), inner.define(index)
            start = ""
            if self.chance(40):
                k = self.pick(sc.ints) if sc.ints and self.chance(40) else str(self.count(0, 3))
                start = f", start={k}" if self.chance(50) else f", {k}"
            else:
                inner.indexes[index] = self.pick(lists)
            return f"enumerate({source}{start})", f"({index}, {target})", [index] + names, lists
        parts = [self._iterable(sc, inner, depth - 1, False) for _ in range(self.count(2, 3) if depth > 1 else 2)]
        return (f"zip({', '.join(part[0] for part in parts)})", f"({', '.join(part[1] for part in parts)})",
                [name for part in parts for name in part[2]], [xs for part in parts for xs in part[3]])

    def index_name(self, sc: Scope) -> str:
        pool = [n for n in INDICES if n not in sc.fixed and n not in self.taken and n not in sc.numbers]
        if pool and self.chance(85):
            return self.pick(pool)
        return self.fresh(sc)

    def while_loop(self, sc: Scope, indent: str, depth: int, tuple_result: bool) -> list:
        pool = [n for n in COUNTERS if n not in self.taken and n not in sc.numbers and n not in sc.fixed]
        counter = self.pick(pool) if pool else f"k{len(self.taken)}"
        self.taken.add(counter)  # never assigned by anything else: the loop must end
        one = self.pick(["0", "0.0"])
        step = "1" if one == "0" else "1.0"
        bound = f"{counter} < {self.count(1, 4)}"
        inner = sc.child(loops=sc.loops + 1)
        inner.fixed.add(counter)
        inner.define(counter)
        form = self.count(0, 4)
        if form == 0:
            test = bound
        elif form == 1:
            test = f"{bound} and {self.cond(inner, 1)}"
        elif form == 2:
            test = f"{self.cond(inner, 1)} and {bound}"  # the condition runs one more time than the body
        elif form == 3:
            test = f"{bound} and ({self.cond(inner, 1)} or {self.cond(inner, 1)})"
        else:
            test = f"{bound} and not {self.cond(inner, 0)}"
        lines = [f"{indent}{counter} = {one}", f"{indent}while {test}:"]
        self.loop_body(sc, inner, lines, indent, depth, tuple_result,
                       [f"{indent}    {counter} += {step}"])
        # the counter comes first in every body (moved in front of `first` if there is one)
        k = lines.index(f"{indent}    {counter} += {step}")
        lines.insert(2, lines.pop(k))
        if self.chance(30):
            sc.define(counter)
        return lines

    # -- functions ------------------------------------------------------
    def helper(self, k: int) -> list:
        """A module-level helper: several statements, branches, maybe a tuple, maybe a domain."""
        arity = self.count(1, 2)
        kind = self.pick(["plain", "plain", "tuple", "domain"] + (["list"] * 2 if self.features.lists else []))
        if kind == "list":  # takes one of the caller's lists, and loops over it
            params = self.pick([("vs", "u"), ("xs", "x"), ("ws", "a"), ("_tape_2", "b")])[:arity]
        else:
            params = self.pick([("u", "v"), ("x", "y"), ("x_bar", "_t1"), ("a", "b")])[:arity]
        name = {"plain": f"h{k}", "tuple": f"hp{k}", "domain": f"hd{k}", "list": f"hl{k}"}[kind]
        sc = Scope(numbers=list(params)) if kind != "list" else Scope(numbers=list(params[1:]), lists=[params[0]])
        saved = (self.taken, self.banned, self.size)
        self.taken, self.banned, self.size = {"math", "f", name} | set(params), set(), 22
        lines = [f"def {name}({', '.join(params)}):"]
        guard = None
        if kind == "list":  # t0 = 0.0; for ... in vs (or enumerate, zip, nested): ...
            lines.append("    t0 = 0.0")
            sc.define("t0")
            self.taken.add("t0")
            lines += self.for_loop(sc, "    ", 2, False, over_list=True)
        if kind == "domain":  # fails outside its domain, like h_log
            guard = self.pick(GUARDS)
            lines.append(f"    t0 = {guard[2].format(params[0])}")
            sc.define("t0")
            self.taken.add("t0")
        lines += self.block(sc, "    ", 1 + self.count(0, 1), 3, kind == "tuple")
        lines.append(f"    {self.returns(sc, kind == 'tuple')}")
        self.taken, self.banned, self.size = saved
        self.helpers.append(Helper(name, arity, kind == "tuple", guard, lists=int(kind == "list")))
        self.taken.add(name)
        return lines

    def nested_helper(self, k: int, sc: Scope) -> list:
        """A helper inside f, at the top of its body: `def g1(u, v): ...` or
        `g1 = lambda u, v: ...`, reading some of f's variables (as they are when
        it is called: f may reassign them between calls), never assigning them
        (that would make them its own)."""
        arity = self.count(1, 2)
        params = self.pick([("u", "v"), ("x", "y"), ("x_bar", "_t1"), ("a", "b")])[:arity]
        kind = self.pick(["lambda", "def", "def", "tuple"])
        name = f"{'gp' if kind == 'tuple' else 'g'}{k}"
        lines = []
        if self.chance(50):  # a local of f for it to close over
            local = self.fresh(sc)
            lines.append(f"    {local} = {self.expr(sc, 2)}")
            sc.define(local)
        outer = [n for n in sc.numbers if n not in params and self.chance(60)]
        inner = Scope(numbers=list(params) + outer, fixed=set(outer), lists=list(sc.lists))
        saved = (self.taken, self.size, self.form)  # its returns give one value (or its tuple), not f's form
        self.taken, self.size, self.form = {"math", "f", name} | set(params) | {h.name for h in self.helpers}, 22, \
            "value"
        if kind == "lambda":
            lines.append(f"    {name} = lambda {', '.join(params)}: {self.expr(inner, 2)}")
        else:
            lines.append(f"    def {name}({', '.join(params)}):")
            lines += self.block(inner, "        ", 1, 3, kind == "tuple")
            lines.append(f"        {self.returns(inner, kind == 'tuple')}")
        self.taken, self.size, self.form = saved
        self.helpers.append(Helper(name, arity, kind == "tuple"))
        self.taken.add(name)
        movable = [n for n in outer if n not in sc.fixed]
        if movable and self.chance(50):  # changed before any call: the calls must read the new value
            lines.append(f"    {self.pick(movable)} = {self.expr(sc, 1)}")
        return lines

    def program(self) -> Program:
        f = self.features
        kinds = ["float"] * self.count(1, 3)
        if f.ints and self.chance(60):
            kinds.append("int")
        if f.lists:
            kinds += ["list"] * self.count(1, 2)
        kinds = self.draw(st.permutations(kinds))
        names, pools = [], {"float": list(FLOAT_PARAMS), "int": list(INT_PARAMS), "list": list(LIST_PARAMS)}
        for kind in kinds:
            pool = pools[kind]
            if kind == "float" and self.chance(20):
                pool = [n for n in ODD_PARAMS if n not in names] or pool
            name = self.pick([n for n in pool if n not in names])
            names.append(name)
        head = []
        for k in range(self.count(0, f.helpers)):
            head += self.helper(k + 1) + ["", ""]
        self.taken |= set(names)
        if self.chance(15):
            self.banned = set(self.draw(st.lists(st.sampled_from(SHADOWABLE), min_size=1, max_size=3)))
        if f.results:  # every return of f: `return value,` or `return loss, aux`
            roll = self.count(0, 99)
            self.form = "one_tuple" if roll < 12 else "aux" if roll < 27 else "value"
        sc = Scope(numbers=[n for n, k in zip(names, kinds) if k != "list"],
                   ints=[n for n, k in zip(names, kinds) if k == "int"],
                   fixed={n for n, k in zip(names, kinds) if k != "float"},
                   lists=[n for n, k in zip(names, kinds) if k == "list"])
        body = []
        if f.nested and self.chance(50):
            for k in range(self.count(1, 2)):
                body += self.nested_helper(k + 1, sc)
        for _ in range(self.count(1, f.statements)):
            body += self.statement(sc, "    ", f.depth, False)
        body.append(f"    {self.returns(sc, False)}")
        source = "import math\n\n\n{}def f({}):\n{}\n".format(
            "\n".join(head), ", ".join(names), "\n".join(body))
        return Program(source, tuple(names), tuple(kinds), self.form)


@st.composite
def programs(draw, features: Features) -> Program:
    return _Writer(draw, features).program()


# Floats in (-3, 3) that are never round (see _round), so central differences apply there;
# st.floats prefers round values (0.0, 1.5, 5e-324), which finite differences must skip.
GENERIC = st.integers(-2_999_999, 2_999_999).map(lambda k: k / 1_000_000 + 3.1e-8)


def _floats(edge: bool):
    ordinary = st.one_of(GENERIC, st.floats(-3.0, 3.0), st.sampled_from(SPECIAL))
    return st.one_of(ordinary, st.sampled_from(EDGE)) if edge else ordinary


def _points(draw, program: Program, count: int, edge: bool) -> list:
    """`count` argument tuples: most with generic floats only, the others with round or edge ones too."""
    points = []
    for _ in range(count):
        floats = GENERIC if draw(st.integers(0, 9)) < 5 else _floats(edge)
        args = []
        for kind in program.kinds:
            if kind == "float":
                args.append(draw(floats))
            elif kind == "int":
                args.append(draw(st.integers(0, 4)))
            else:
                args.append(draw(st.lists(floats, min_size=0 if edge else 1, max_size=4)))
        points.append(tuple(args))
    return points


@st.composite
def cases(draw, features: Features, count: int = 3, edge: bool = False):
    """(program, points): a random program and `count` argument tuples for it."""
    program = draw(programs(features))
    return program, _points(draw, program, count, edge)


# ---------------------------------------------------------------------------
# Running programs and comparing outcomes.

_module_ids = itertools.count()


def load_function(source: str, directory):
    """Write `source` to a fresh .py file, import it, and return its `f`."""
    name = f"random_program_{os.getpid()}_{next(_module_ids)}"
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


def _copy(args: tuple) -> tuple:
    return tuple(list(a) if isinstance(a, list) else a for a in args)


def run(fn, args, seconds: float = 5.0):
    """("ok", result) or ("raise", exception) for fn(*args), on a copy of the lists."""
    try:
        with _time_limit(seconds):
            return "ok", fn(*_copy(args))
    except Timeout as err:
        return "raise", err
    except Exception as err:
        return "raise", err


def identical(a, b) -> bool:
    """Same structure, same number types, same floats bit for bit (any NaN equals any NaN)."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(identical, a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def _shape_problem(program: Program, args: tuple, grads) -> str | None:
    """Why `grads` does not have one number per float/int and one list per list, or None."""
    parts = grads if len(args) > 1 else (grads,)
    if len(args) > 1 and not isinstance(grads, tuple):
        return f"gradient is a {type(grads).__name__}, not a tuple"
    if len(parts) != len(args):
        return f"{len(parts)} partials for {len(args)} parameters"
    for name, kind, arg, part in zip(program.names, program.kinds, args, parts):
        if kind == "list":
            if not (isinstance(part, list) and len(part) == len(arg)):
                return f"d/d{name} is {part!r}, not a list of {len(arg)}"
            if not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in part):
                return f"d/d{name} = {part!r} is not a list of real numbers"
        elif not isinstance(part, (int, float)) or isinstance(part, bool):
            return f"d/d{name} = {part!r} is not a real number"
    return None


class _Flat:
    """f as a function of its floats only (list elements included), for finite differences."""

    def __init__(self, fn, program: Program, args: tuple):
        self.fn, self.args, self.form = fn, args, program.form
        self.slots = []  # (parameter index, element index or None)
        for k, (kind, arg) in enumerate(zip(program.kinds, args)):
            if kind == "float":
                self.slots.append((k, None))
            elif kind == "list":
                self.slots += [(k, j) for j in range(len(arg))]
        self.names = [program.names[k] if j is None else f"{program.names[k]}[{j}]" for k, j in self.slots]
        self.__name__ = "f"

    def values(self, args) -> list:
        return [args[k] if j is None else args[k][j] for k, j in self.slots]

    def __call__(self, *flat):
        args = list(_copy(self.args))
        for (k, j), value in zip(self.slots, flat):
            if j is None:
                args[k] = value
            else:
                args[k][j] = value
        with _time_limit(5.0):
            result = self.fn(*args)
        return result if self.form == "value" else result[0]  # (value,) or (loss, aux)


def _smooth_here(fn, args, scale, h=1e-4):
    """Whether fn has no kink or jump at args. The asymmetry of the one-sided
    differences, (f(x+h) - f(x)) - (f(x) - f(x-h)), is f''*h*h where f is
    smooth, but shrinks only like h at a kink (and not at all at a jump): so
    quartering h divides it by 16 where f is smooth, by about 4 at a kink.
    A fixed threshold missed kinks in flat spots (a max tie, or a jump of
    x % 1.5 multiplied by a value near 0, where the slopes differ by 4e-5).
    Any non-finite value nearby counts as not smooth."""
    at = fn(*args)

    def asymmetry(i, step):
        up, down = list(args), list(args)
        up[i] += step
        down[i] -= step
        return abs((fn(*up) - at) - (at - fn(*down)))

    for i in range(len(args)):
        big, small = asymmetry(i, h), asymmetry(i, h / 4)
        if not (math.isfinite(big) and math.isfinite(small)):
            return False
        if big > 1e-12 * scale and small * 8 > big:
            return False
    return True


def _consistent(fine, coarse, scale):
    """Whether two finite-difference estimates agree: the reference is trustworthy here."""
    return all(abs(a - b) <= 1e-6 * scale + 1e-6 * abs(b) for a, b in zip(fine, coarse))


def differences(fn, program: Program, args: tuple):
    """(flat f, point, central differences, scale) where f is smooth with a finite derivative
    at args, else None. Only at points with no round float: at 0, 0.5, ... an equality in a
    test (`if x * y == z:`) can take a path at the point itself that it takes nowhere near."""
    flat = _Flat(fn, program, args)
    point = flat.values(args)
    if not all(isinstance(v, float) for v in point) or any(map(_round, point)):
        return None
    try:
        value = flat(*point)
        if not (isinstance(value, float) and math.isfinite(value) and abs(value) <= MAX_VALUE):
            return None
        scale = max(1.0, abs(value))
        want = central_differences(flat, point)
        if not (all(map(math.isfinite, want)) and all(abs(w) <= MAX_VALUE for w in want)):
            return None
        if not (_consistent(want, central_differences(flat, point, h=1e-4), scale)
                and _smooth_here(flat, point, scale)):
            return None
    except Exception:  # f raises nearby: no derivative to compare with
        return None
    return flat, point, want, scale


def _flat_grads(program: Program, args: tuple, grads) -> list:
    parts = grads if len(args) > 1 else (grads,)
    out = []
    for kind, part in zip(program.kinds, parts):
        if kind == "float":
            out.append(part)
        elif kind == "list":
            out += part
    return out


def _describe(outcome) -> str:
    kind, what = outcome
    if kind == "ok":
        return f"returned {what!r}"
    return f"raised {type(what).__name__}: {what}"


def note(text: str) -> None:
    """hypothesis.note inside a test; nothing outside (check_program called directly)."""
    try:
        _note(text)
    except InvalidArgument:
        pass


def event(text: str) -> None:
    try:
        _event(text)
    except InvalidArgument:
        pass


def soft(kind: str, program: Program, args, detail: str) -> None:
    """Something allowed but suspicious: counted by hypothesis (a script may replace this)."""
    event(kind)


def _round(value: float) -> bool:
    """Whether a float is 0, a multiple of 1/64, tiny, huge or not finite: a point where an
    intermediate can land exactly on a tie (`a == b` holding at one point only, so the path
    taken there is not the path taken nearby) or where a partial is undefined. Within the
    difference step (1e-4) of 0 counts too: the stencil crosses 0, where 1/x flips sign, and a
    kink there (x / (1.25 + tanh(1 / x)) at x = 3.1e-8) can hide under exp(x)'s curvature."""
    return not math.isfinite(value) or abs(value) < 1e-4 or abs(value) > 1e3 or (value * 64).is_integer()


def _special(program: Program, args: tuple) -> bool:
    """Whether a float argument is round, or there is an int argument (finite differences
    do not vary it, but the gradient has its partial, which may be undefined there)."""
    return "int" in program.kinds or any(map(_round, _Flat(None, program, args).values(args)))


def _fail(kind: str, program: Program, args, detail: str):
    raise AssertionError(f"[{kind}] at args {args!r}: {detail}\n--- program ---\n{program.source}")


ACCEPTED_GRADIENT_ERRORS = (ArithmeticError, ValueError)  # an infinite or undefined partial


def _make(program: Program, fn):
    """grad(f) and value_and_grad(f), or fail unless the refusal is acceptable (None, None)."""
    made = []
    for make in (value_and_grad, grad):
        try:
            with _time_limit(60.0):
                made.append(make(fn, has_aux=program.form == "aux"))
        except NotDifferentiable as err:
            made.append(err)
        except SymbackError as err:
            _fail(f"refused: {type(err).__name__}", program, (), f"{make.__name__}(f) raised\n{err}")
        except BaseException as err:  # noqa: BLE001 - any other exception, even a Timeout, is a failure
            _fail(f"crashed: {type(err).__name__}", program, (),
                  f"{make.__name__}(f) raised {type(err).__name__}: {err}")
    return made


def _lines_run(fn, args: tuple) -> set:
    """The lines of fn's file (helpers included) that fn(*args) runs."""
    lines, file, before = set(), fn.__code__.co_filename, sys.gettrace()

    def trace(frame, kind, arg):
        if frame.f_code.co_filename != file:
            return None
        if kind == "line":
            lines.add(frame.f_lineno)
        return trace

    sys.settrace(trace)
    try:
        run(fn, args)
    finally:
        sys.settrace(before)
    return lines


def check_program(program: Program, points: list, directory) -> None:
    """Checks 1-3 (see the module docstring) for one program at every point."""
    note(program.source)
    note(f"points: {points!r}")
    fn = load_function(program.source, directory)
    vg, g = _make(program, fn)
    if isinstance(vg, NotDifferentiable) or isinstance(g, NotDifferentiable):
        # Fine for an expression with no finite derivative anywhere (x / (y - y) is zoo to
        # SymPy), not for one f runs at a point where it is smooth with a finite derivative.
        err = vg if isinstance(vg, NotDifferentiable) else g
        line = err.loc.line if err.loc is not None and err.loc.file == fn.__code__.co_filename else None
        for args in points:
            if run(fn, args)[0] == "ok" and differences(fn, program, args) is not None \
                    and (line is None or line in _lines_run(fn, args)):
                _fail("refused: NotDifferentiable at a smooth point", program, args,
                      f"f runs line {line} here and is smooth with a finite derivative, "
                      f"but grad(f) raised\n{err}")
        if isinstance(vg, NotDifferentiable) != isinstance(g, NotDifferentiable):
            _fail("refused by only one of grad and value_and_grad", program, (), str(err))
        event("refused: NotDifferentiable")
        return
    for args in points:
        check_point(program, fn, vg, g, args)


def check_point(program: Program, fn, vg, g, args: tuple) -> None:
    want = run(fn, args)
    got = run(vg, args)
    got_g = run(g, args)
    for name, outcome in (("value_and_grad", got), ("grad", got_g)):
        if outcome[0] == "raise" and isinstance(outcome[1], Timeout):
            _fail("timeout", program, args, f"{name}(f) did not return ({outcome[1]}); f {_describe(want)}")
    if want[0] == "raise":
        # 1. where f raises, both raise the same type
        expected = type(want[1])
        for name, outcome in (("value_and_grad", got), ("grad", got_g)):
            if outcome[0] == "ok":
                _fail("returns where f raises", program, args,
                      f"f raised {expected.__name__}: {want[1]}; {name}(f) returned {outcome[1]!r}")
            if expected is UnboundLocalError and isinstance(outcome[1], TypeError) and "NoneType" in str(outcome[1]):
                # f reads a variable it never assigned; one a loop tapes starts as None in the
                # gradient (docs/limitations.md, Numbers): allowed, but counted
                soft("reads an unbound variable: TypeError for UnboundLocalError", program, args, str(outcome[1]))
                continue
            if not isinstance(outcome[1], expected):  # UnboundLocalError is a NameError (a free variable)
                _fail("raises a different exception", program, args,
                      f"f raised {expected.__name__}: {want[1]}; {name}(f) {_describe(outcome)}")
        event("f raises")
        return
    value = want[1]
    if got[0] == "raise" or got_g[0] == "raise":
        # the gradient may fail where f returns only with an arithmetic error where f is not smooth
        for name, outcome in (("value_and_grad", got), ("grad", got_g)):
            if outcome[0] == "raise" and not isinstance(outcome[1], ACCEPTED_GRADIENT_ERRORS):
                _fail("raises where f returns", program, args,
                      f"f returned {value!r}; {name}(f) {_describe(outcome)}")
        if got[0] != got_g[0] or type(got[1]) is not type(got_g[1]):
            _fail("grad and value_and_grad differ", program, args,
                  f"value_and_grad(f) {_describe(got)}; grad(f) {_describe(got_g)}; f returned {value!r}")
        reference = differences(fn, program, args)
        if reference is not None:
            detail = (f"f returned {value!r} and is smooth here with a finite derivative; "
                      f"value_and_grad(f) {_describe(got)}")
            if any(slope == 0.0 for slope in reference[2]):
                # f is flat in a parameter: an infinite inner slope times a zero outer one,
                # as sqrt(max(w, 1.0) - 1.0) at w < 1 (reverse mode meets inf * 0 there;
                # other AD systems return nan). Allowed, but counted.
                soft("raises where f is flat in a parameter", program, args, detail)
                return
            if not _special(program, args):
                _fail("raises where f is smooth", program, args, detail)
            # At 0, 1, 0.5, ... a partial may be undefined although f is smooth through it
            # (hypot(0, z) on a path that meets z elsewhere): allowed, but counted.
            soft("raises where f is smooth, at a special point", program, args, detail)
            return
        event("gradient raises where f is not smooth")
        return
    result = got[1]
    if not (isinstance(result, tuple) and len(result) == 2):
        _fail("value_and_grad result is not a pair", program, args, f"it returned {result!r}")
    v, grads = result
    # 1. the value is f's, bit for bit: with has_aux, (loss, aux) as f returns them; a 1-tuple as f returns it
    if not identical(v, value):
        _fail("value differs from f", program, args, f"f returned {value!r}, value_and_grad(f)[0] is {v!r}")
    # 2. grad is value_and_grad's gradient, bit for bit (with has_aux, grad gives (gradient, aux), as JAX)
    if program.form == "aux" and not identical(got_g[1], (grads, v[1])):
        _fail("grad and value_and_grad differ", program, args,
              f"grad(f, has_aux=True) returned {got_g[1]!r}, value_and_grad(f, has_aux=True) {result!r}")
    if program.form != "aux" and not identical(got_g[1], grads):
        _fail("grad and value_and_grad differ", program, args,
              f"grad(f) returned {got_g[1]!r}, value_and_grad(f)[1] is {grads!r}")
    problem = _shape_problem(program, args, grads)
    if problem:
        _fail("gradient has the wrong shape", program, args, problem)
    # 3. central differences, where they mean something
    reference = differences(fn, program, args)
    if reference is None:
        event("no central differences here")
        return
    flat, point, numeric, scale = reference
    try:
        assert_grads_close(_flat_grads(program, args, grads), numeric, flat, point,
                           atol=1e-6 * scale, params=flat.names)
    except AssertionError as err:
        _fail("wrong gradient", program, args, str(err))
    event("checked against central differences")


# ---------------------------------------------------------------------------
# The tests: one per part of the language, each with its own budget.

STRAIGHT = Features(statements=8, depth=2, helpers=0, results=True)
CONTROL = Features(loops=True, whiles=True, ints=True, statements=6, depth=3, guards=True, results=True)
HELPERS = Features(loops=True, whiles=True, helpers=3, statements=5, depth=2, guards=True, results=True, nested=True)
LISTS = Features(loops=True, whiles=True, lists=True, ints=True, helpers=1, statements=5, depth=2, guards=True,
                 results=True, list_values=True)
EVERYTHING = Features(loops=True, whiles=True, helpers=2, lists=True, ints=True, statements=5, depth=2,
                      guards=True, results=True, nested=True, list_values=True)


def _directory(tmp_path_factory):
    directory = tmp_path_factory.getbasetemp() / "random_programs"
    directory.mkdir(exist_ok=True)
    return directory


@_settings("straight")
@given(case=cases(STRAIGHT))
def test_straight_line_and_branches(case, tmp_path_factory):
    check_program(*case, _directory(tmp_path_factory))


@_settings("control")
@given(case=cases(CONTROL))
def test_loops_and_early_exits(case, tmp_path_factory):
    check_program(*case, _directory(tmp_path_factory))


@_settings("helpers")
@given(case=cases(HELPERS))
def test_helpers(case, tmp_path_factory):
    check_program(*case, _directory(tmp_path_factory))


@_settings("lists")
@given(case=cases(LISTS))
def test_list_parameters(case, tmp_path_factory):
    check_program(*case, _directory(tmp_path_factory))


@_settings("edge")
@given(case=cases(EVERYTHING, count=4, edge=True))
def test_edge_inputs(case, tmp_path_factory):
    check_program(*case, _directory(tmp_path_factory))
