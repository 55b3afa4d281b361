"""Partials and forward expressions as Python text templates, printed once per shape.

A SymPy code-printer subclass prints each rule's partials (and `pyprint` each
statement's own expression) over placeholders, once per shape, cached for
the process; emit fills them in per statement by renaming the placeholders
(see Template), and optimize reads them back as expression trees
(see optimize/exprs.py), so both see the same order of operations.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

from . import ir, mathlib
from .pyprint import builtin, python_text

class Printer(PythonCodePrinter):
    """SymPy -> Python with `math`, and Python's own operators for our functions."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "standard": "python3", "strict": True})

    def _print_Float(self, expr):
        return repr(float(expr))  # shortest text that round-trips the double

    # Constants print as written: dt/6, not (1/6)*dt, which is another float
    # (1/6 rounds, then the product rounds again). A fraction with a
    # power-of-two denominator is a float exactly: 1.5*x, as a person writes it.

    def _print_Rational(self, expr):
        if _dyadic(expr) and abs(expr.p) != 1:
            return repr(float(expr))
        return f"{expr.p}/{expr.q}"

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        if not coeff.is_Rational or coeff.is_Integer or rest is sp.S.One:
            return super()._print_Mul(expr)
        sign = "-" if coeff < 0 else ""
        if _dyadic(coeff) and abs(coeff.p) != 1:  # 1.5*x
            return f"{sign}{repr(float(abs(coeff)))}*{self.parenthesize(rest, PRECEDENCE['Mul'], strict=True)}"
        numer, denom = sp.fraction(rest, exact=True)  # 2*x/3, x/(6*y)
        top = numer if abs(coeff.p) == 1 else sp.Mul(abs(coeff.p), numer, evaluate=False)
        bottom = sp.Mul(coeff.q, denom, evaluate=False) if denom != 1 else sp.Integer(coeff.q)
        # a square on top needs no parentheses: y*y/2 is (y*y)/2
        return f"{sign}{PythonCodePrinter.parenthesize(self, top, PRECEDENCE['Mul'], strict=True)}/" \
               f"{self.parenthesize(bottom, PRECEDENCE['Mul'], strict=False)}"

    # SymPy's parenthesize(item, level, strict) wraps item if its precedence is
    # below level, or equal to it unless strict: `a*b // c` but `a // (b*c)`.

    def _print_FloorDiv(self, expr):
        return self._python_operator(expr, "//")

    def _print_Mod(self, expr):
        return self._python_operator(expr, "%")

    def _python_operator(self, expr, op: str) -> str:
        a, b = expr.args
        left = self.parenthesize(a, PRECEDENCE["Mul"], strict=True)
        right = self.parenthesize(b, PRECEDENCE["Mul"], strict=False)
        return f"({left} {op} {right})"

    def _print_Max(self, expr):
        return f"{builtin('max')}({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Min(self, expr):
        return f"{builtin('min')}({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Abs(self, expr):
        return f"{builtin('abs')}({self._print(expr.args[0])})"

    def _print_PyPow(self, expr):
        return self._print(sp.Pow(*expr.args, evaluate=False))

    def _print_Step(self, expr):
        return f"(1.0 if {self._print(expr.args[0])} >= {self._print(expr.args[1])} else 0.0)"

    def _print_StrictStep(self, expr):
        return f"(1.0 if {self._print(expr.args[0])} > {self._print(expr.args[1])} else 0.0)"

    def _print_Hypot(self, expr):
        return self._math_call("hypot", expr.args)

    def _print_Cbrt(self, expr):
        return self._math_call("cbrt", expr.args)

    def _print_Radians(self, expr):
        return self._math_call("radians", expr.args)

    def _print_Degrees(self, expr):
        return self._math_call("degrees", expr.args)

    def _print_CopySign(self, expr):
        return self._math_call("copysign", expr.args)

    def _print_Fmod(self, expr):
        return self._math_call("fmod", expr.args)

    def _print_Remainder(self, expr):
        return self._math_call("remainder", expr.args)

    def _print_Ldexp(self, expr):
        return self._math_call("ldexp", expr.args)

    def _print_Gamma(self, expr):
        return self._math_call("gamma", expr.args)

    def _print_LogGamma(self, expr):
        return self._math_call("lgamma", expr.args)

    def _print_Digamma(self, expr):
        return self._helper_call("_digamma", expr.args)

    def _math_call(self, name: str, args) -> str:
        return f"{self._module_format('math.' + name)}({', '.join(self._print(arg) for arg in args)})"

    def _helper_call(self, name: str, args) -> str:
        """A call to a function of mathlib.HELPERS, which the generated module
        defines: recorded as a module used, for _Emitter.parts to define it."""
        self.module_imports.setdefault(name, set())
        self.module_imports.setdefault("math", set())  # the helpers compute with math
        return f"{name}({', '.join(self._print(arg) for arg in args)})"

    def _print_Piecewise(self, expr):
        # a branch that is a whole number still yields a float, as a gradient should
        pieces = [(sp.Float(value) if value.is_Integer else value, cond) for value, cond in expr.args]
        return super()._print_Piecewise(sp.Piecewise(*pieces, evaluate=False))

    def _print_Indicator(self, expr):  # a comparison used as a number: 1 or 0 (a float, as a gradient is)
        return f"(1.0 if {self._print(expr.args[0])} else 0.0)"

    def _print_Square(self, expr):
        name = self._print(expr.args[0])
        return f"{name}*{name}"

    def parenthesize(self, item, level, strict=False):
        if isinstance(item, Square) and level >= PRECEDENCE["Mul"]:
            return f"({self._print(item)})"  # x*x is a product, not a power
        return super().parenthesize(item, level, strict)

    def expression(self, expr: sp.Expr) -> str:
        return self.doprint(_squares(expr))

    def product(self, factor: sp.Expr, name: sp.Symbol | None) -> str:
        """factor * name as a person writes it: z_bar, a*(1 - a)*z_bar,
        x*z_bar/y; just factor when name is None. A leading '-' negates the
        whole product (so an accumulation can become `-=`)."""
        sign = ""
        if factor.could_extract_minus_sign() and not factor.is_Add:
            sign, factor = "-", -factor
        if name is None and factor.is_Number:  # a gradient is a float, even where the partial is 2
            return sign + (repr(float(factor)) if factor.is_Integer else self._print(factor))
        # exact: exp(-x) stays a factor (x/exp(x) overflows where x*exp(-x) is 0.0)
        numer, denom = sp.fraction(factor, exact=True) if name is not None else (factor, sp.S.One)
        coeff, rest = factor.as_coeff_Mul()
        if name is not None and coeff.is_Rational and not coeff.is_Integer and _dyadic(coeff) and abs(coeff.p) != 1:
            rest_numer, denom = sp.fraction(rest, exact=True)  # 1.5*x*zbar, as written, not 3*x*zbar/2
            numer = sp.Mul(sp.Float(float(coeff)), rest_numer, evaluate=False)
        if numer == 1 and name is not None:
            text = self._print(name)
        else:
            shown = _squares(numer)  # rebuilt: a float times a sum, 2.0*(t**2 + 1), distributes here
            text = self._print(shown)
            # a sum is parenthesized where anything follows or precedes it, and where it
            # would start with a '-' that is not the whole product's (x_bar -= x/s + 1 is wrong)
            if (numer.is_Add or shown.is_Add) and (sign or name is not None or text.startswith("-")):
                text = f"({text})"
            if name is not None:
                text += f"*{self._print(name)}"
        if denom != 1:  # divide once at the end: x*z_bar/y, not x/y*z_bar
            text += "/" + self.parenthesize(_squares(denom), PRECEDENCE["Mul"], strict=False)
        return sign + text


class NumPyPrinter(Printer):
    """Partials of array code: NumPy's functions, which work elementwise, and
    choices written as np.where (a Python `if` needs one truth value)."""

    def __init__(self):
        super().__init__()
        self.module_imports.clear()
        self.known_functions = {name: "numpy." + _numpy_function_name(path.rsplit(".", 1)[-1])
                                for name, path in self.known_functions.items()}

    def _module_format(self, fqn, register=True):
        if fqn.startswith("math."):
            fqn = "numpy." + _numpy_function_name(fqn[5:])
        if fqn.startswith("numpy."):
            self.module_imports["numpy"].add(fqn[6:])
            return "np." + fqn[6:]
        return super()._module_format(fqn, register)

    def _print_Function(self, expr):
        return self._numpy_call(_numpy_function_name(type(expr).__name__), expr.args)

    def _numpy_call(self, name: str, args) -> str:
        self.module_imports["numpy"].add(name)
        return f"np.{name}({', '.join(self._print(arg) for arg in args)})"

    def _print_Max(self, expr):
        return self._numpy_call("maximum", expr.args)

    def _print_Min(self, expr):
        return self._numpy_call("minimum", expr.args)

    def _print_Abs(self, expr):
        return self._numpy_call("abs", expr.args)

    def _print_LogAddExp(self, expr):
        return self._numpy_call("logaddexp", expr.args)

    def _print_Hypot(self, expr):
        if len(expr.args) == 2:
            return self._numpy_call("hypot", expr.args)
        return self._plain_math_call("hypot", expr.args)  # only from math.hypot, on numbers

    def _print_Radians(self, expr):
        return self._numpy_call("radians", expr.args)

    def _print_Degrees(self, expr):
        return self._numpy_call("degrees", expr.args)

    def _print_CopySign(self, expr):
        return self._numpy_call("copysign", expr.args)

    def _print_Fmod(self, expr):
        return self._numpy_call("fmod", expr.args)  # C's fmod, as math's

    def _print_Ldexp(self, expr):
        return self._numpy_call("ldexp", expr.args)

    # No NumPy function means these (np.remainder is Python's %); they come from
    # math's functions, which f calls on numbers only, so math's serve here.

    def _print_Remainder(self, expr):
        return self._plain_math_call("remainder", expr.args)

    def _print_Gamma(self, expr):
        return self._plain_math_call("gamma", expr.args)

    def _print_LogGamma(self, expr):
        return self._plain_math_call("lgamma", expr.args)

    def _plain_math_call(self, name: str, args) -> str:
        self.module_imports["math"].add(name)
        return f"math.{name}({', '.join(self._print(arg) for arg in args)})"

    def _print_Sign(self, expr):
        return self._numpy_call("sign", expr.args)

    def _print_sign(self, expr):
        return self._numpy_call("sign", expr.args)

    def _print_Cbrt(self, expr):
        return self._numpy_call("cbrt", expr.args)

    def _print_NpMax(self, expr):
        return self._numpy_call("maximum", expr.args)

    def _print_NpMin(self, expr):
        return self._numpy_call("minimum", expr.args)

    def _print_Step(self, expr):
        return f"({self._print(expr.args[0])} >= {self._print(expr.args[1])})"

    def _print_StrictStep(self, expr):
        return f"({self._print(expr.args[0])} > {self._print(expr.args[1])})"

    def _print_HalfStep(self, expr):
        a, b = (self._print(arg) for arg in expr.args)
        return f"(({a} > {b}) + 0.5*({a} == {b}))"

    def _print_Piecewise(self, expr):
        *pieces, (last, _) = expr.args
        text = self._print(sp.Float(last) if last.is_Integer else last)
        for value, cond in reversed(pieces):
            value = sp.Float(value) if value.is_Integer else value
            text = f"np.where({self._print(cond)}, {self._print(value)}, {text})"
        self.module_imports["numpy"].add("where")
        return text

    def _print_And(self, expr):
        return " & ".join(f"({self._print(arg)})" for arg in expr.args)

    def _print_Or(self, expr):
        return " | ".join(f"({self._print(arg)})" for arg in expr.args)

    def _print_Not(self, expr):
        return f"~({self._print(expr.args[0])})"

    def _print_Indicator(self, expr):
        return f"({self._print(expr.args[0])})"

    def _print_Pi(self, expr):
        self.module_imports["numpy"].add("pi")
        return "np.pi"

    def _print_Exp1(self, expr):
        self.module_imports["numpy"].add("e")
        return "np.e"


_NUMPY_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2", "asinh": "arcsinh",
                "acosh": "arccosh", "atanh": "arctanh"}


def _numpy_function_name(name: str) -> str:
    return _NUMPY_NAMES.get(name, name)


def _dyadic(number: sp.Rational) -> bool:
    """A fraction whose denominator is a power of two: a float exactly."""
    return number.q & (number.q - 1) == 0


class Square(sp.Function):
    """x**2 of a name, printed x*x: a third of the time of a float power."""

    nargs = 1


def _squares(expr: sp.Expr) -> sp.Expr:
    squares = {p: Square(p.base) for p in expr.atoms(sp.Pow) if p.exp == 2 and p.base.is_Symbol}
    return expr.xreplace(squares) if squares else expr


class Template:
    """A printed expression over placeholders, and the modules it uses."""

    _PLACEHOLDER = re.compile(r"__(arrays|a\d+|t\d+|r|g|zbar|b_[a-z]+)\b")

    def __init__(self, text: str, modules: frozenset[str]):
        self.text = text
        self.modules = modules
        self.plain = not self._PLACEHOLDER.search(text)

    def fill(self, names: dict[str, str]) -> str:
        if self.plain:
            return self.text
        return self._PLACEHOLDER.sub(lambda m: names[m.group(1)], self.text)


_TEMPLATES: dict[tuple, Template] = {}  # (rule, what, index) -> template, for this process


def _template(key: tuple, build, arrays: bool = False) -> Template:
    key = (*key, arrays)
    template = _TEMPLATES.get(key)
    if template is None:
        printer = NumPyPrinter() if arrays else Printer()
        text = build(printer)
        template = Template(text, frozenset(printer.module_imports))
        _TEMPLATES[key] = template
    return template


def _source_template(tree: tuple) -> Template:
    """A statement, temp or test as the user wrote it (see pyprint)."""
    key = ("source", repr(tree))  # not the tree: ("num", 1) == ("num", 1.0) as keys
    template = _TEMPLATES.get(key)
    if template is None:
        text, modules = python_text(tree)
        template = _TEMPLATES[key] = Template(text, modules)
    return template


def _array_template(text: str) -> Template:
    """An ArrayOp's source, or an adjoint rule's text, over placeholders."""
    key = ("array", text)
    template = _TEMPLATES.get(key)
    if template is None:
        modules = frozenset({"numpy"}) if re.search(r"\bnp\.", text) else frozenset()
        template = _TEMPLATES[key] = Template(text, modules)
    return template


def _truth_operands(tree: tuple) -> tuple[set[int], set[int]]:
    """Operands a tree reads only as `if p:` tests its truth, and those it reads otherwise."""
    tested, other = set(), set()
    todo = [tree]
    while todo:
        node = todo.pop()
        if node[0] == "truth" and node[1][0] == "arg":
            tested.add(node[1][1])
        elif node[0] == "arg":
            other.add(node[1])
        elif node[0] not in mathlib.LEAVES:
            todo += mathlib.children(node)
    return tested, other


def _value_template(rule: ir.Rule) -> Template:
    return _source_template(rule.value)


def _temp_template(rule: ir.Rule, index: int) -> Template:
    return _source_template(rule.temps[index].tree)


def _contribution_template(rule: ir.Rule, index: int, seed: bool, arrays: bool = False) -> Template:
    partial = rule.partials[index]
    adjoint = None if seed else ir.ADJOINT  # the output's adjoint is 1: leave it out
    return _template((rule, seed, index), lambda p: p.product(partial, adjoint), arrays)


def _folded_template(stmt: ir.Assign, index: int, seed: bool = True, arrays: bool = False) -> Template | None:
    """A contribution with its constants put in, where they fold into the
    partial's own numbers: 4.39*(a - y), not 2*2.197*(a - y). Shapes keep
    constants as operands so that `u*v + 0.3` and `w*a0 + b` share one
    derivation; only here, for printing, are they numbers again. None where
    nothing folds, or where folding would not give a finite number (x / c
    with c = 0.0 divides by zero where f does, at run time). The forward
    pass never folds: it prints the user's expression."""
    expr, reads = stmt.rule.partials[index], stmt.rule.symbols[index]
    consts = tuple((i, arg.value) for i, arg in enumerate(stmt.args)
                   if isinstance(arg, ir.Const) and mathlib.placeholder(i) in reads)
    if not consts:
        return None
    key = (stmt.rule, seed, index, repr(consts), arrays)  # repr: 0.0 and -0.0 differ
    if key not in _FOLDED:
        folded = sp.factor_terms(expr.xreplace(  # a float coefficient distributes over a sum: undo that
            {mathlib.placeholder(i): sp.Float(v) if isinstance(v, float) else sp.Integer(v) for i, v in consts}))
        folded = folded.xreplace({sp.Float(1.0): sp.S.One, sp.Float(-1.0): sp.S.NegativeOne})  # r, not 1.0*r
        before = len({abs(float(n)) for n in expr.atoms(sp.Number) if n.is_real} - {1.0}) + len(consts)
        after = len({abs(float(n)) for n in folded.atoms(sp.Number) if n.is_real} - {1.0})
        if after >= before or folded.has(sp.zoo, sp.oo, sp.nan, sp.I):
            _FOLDED[key] = None
        else:
            _FOLDED[key] = _template(key, lambda p: p.product(folded, None if seed else ir.ADJOINT), arrays)
    return _FOLDED[key]


_FOLDED: dict[tuple, Template | None] = {}


def contribution_template(acc: ir.Accumulate, arrays: bool = False) -> Template:
    """The template an accumulation prints with: its partial times its
    adjoint, constants folded in where they fold."""
    return _folded_template(acc.site, acc.index, acc.seed, arrays) or \
        _contribution_template(acc.site.rule, acc.index, acc.seed, arrays)
