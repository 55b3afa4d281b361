"""Expressions in the student's notation, as text and as LaTeX.

Two sources of expressions reach the page. A statement's *definition* is the
user's own expression: its shape tree, printed operation for operation as
written (`w*x + b - y`, `1.0/(1.0 + exp(-z))`, floats as the literal says).
A *local partial* is SymPy's: printed by a StrPrinter or LatexPrinter
subclass that knows symbols SymPy's own printers would show as internals:

    mathlib.Max(a, b), Min   max(a, b), min(a, b)
    Abs(x)                   |x|
    Step(a, b), StrictStep   [a >= b], [a > b]   (Iverson brackets: 1 if it holds, else 0)
    Indicator(c)             [c]
    Piecewise                a if c else b;  LaTeX: cases
    Float                    the shortest repr: 1.5, never 1.50000000000000;
                             a factor 1.0 is left out (1.0*r is r)

Names: in LaTeX a one-letter name is italic (w), a longer one upright
(\\mathrm{cost}), an SSA version or trailing digits a subscript (total_2 is
\\mathrm{total}_{2}, a0 is a_{0}), a Greek letter's name its letter.
"""

from __future__ import annotations

import math
import re

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from .. import mathlib

# --- names ----------------------------------------------------------------------

_GREEK = frozenset("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
                   "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())


def name_latex(name: str) -> str:
    """A variable's name in LaTeX: w, \\mathrm{cost}, \\mathrm{total}_{2}, a_{0}, \\sigma."""
    base, sub = name, ""
    match = re.fullmatch(r"(.+?)_?(\d+)", name)
    if match and match.group(1).strip("_"):
        base, sub = match.group(1), match.group(2)
    if base in _GREEK:
        out = "\\" + base
    elif len(base) == 1:
        out = base
    else:
        out = r"\mathrm{" + escape(base) + "}"
    return out + (f"_{{{sub}}}" if sub else "")


def shown_latex(shown: str) -> str:
    """A name as the table shows it (cost, total_2, xs[i], xs[0][1], len(xs)) in LaTeX."""
    match = re.fullmatch(r"(\w+)\((\w+)\)", shown)
    if match:
        return rf"\operatorname{{{escape(match.group(1))}}}\left({name_latex(match.group(2))}\right)"
    if "[" in shown:
        base, rest = shown.split("[", 1)
        parts = rest.rstrip("]").split("][")
        return name_latex(base) + "".join(
            "[" + (name_latex(part) if part.isidentifier() else escape(part)) + "]" for part in parts)
    return name_latex(shown)


_TEXT_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "#": r"\#", "%": r"\%",
                 "&": r"\&", "$": r"\$", "^": r"\^{}", "~": r"\~{}", "<": r"\textless{}", ">": r"\textgreater{}",
                 "|": r"\textbar{}", "≤": r"$\leq$", "≥": r"$\geq$", "·": r"$\cdot$", "∂": r"$\partial$",
                 "Σ": r"$\Sigma$"}


def escape(text: str) -> str:
    """`text` as LaTeX reads it in \\text{} or \\mathrm{}: special characters escaped,
    other non-ASCII characters (which pdflatex's default input cannot read) as '?'."""
    out = []
    for char in text:
        if char in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[char])
        elif ord(char) < 128:
            out.append(char)
        else:
            out.append("?")
    return "".join(out)


def text_latex(text: str) -> str:
    """Words (a source line, say) inside a formula, in typewriter type."""
    return r"\text{\texttt{" + escape(text) + "}}"


def float_text(value: float) -> str:
    """A float as its shortest repr: 1.5, 0.1, 1e-08."""
    return repr(float(value))


def number_text(value) -> str:
    """A computed number for a table: at most 6 significant digits (-0.0353951)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        if value == 0:
            return "0"
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(number_text(v) for v in value[:6])
        return f"[{inner}{', ...' if len(value) > 6 else ''}]"
    return str(value)


def point_text(value) -> str:
    """An argument as the user gave it: floats by their repr (0.1, 1.0), lists bracketed."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(point_text(v) for v in value) + "]"
    return float_text(value) if isinstance(value, float) else str(value)


def number_latex(value) -> str:
    text = number_text(value)
    match = re.fullmatch(r"(-?[\d.]+)e([+-])0*(\d+)", text)
    if match:
        return rf"{match.group(1)} \cdot 10^{{{'-' if match.group(2) == '-' else ''}{match.group(3)}}}"
    return text.replace("[", r"\left[").replace("]", r"\right]") if text.startswith("[") else text


# --- SymPy expressions (local partials) -------------------------------------------

_FUNCTION_NAMES = {"CopySign": "copysign", "LogGamma": "lgamma", "NpMax": "max", "NpMin": "min",
                   "Max": "max", "Min": "min"}


def _without_unit_floats(expr: sp.Basic) -> sp.Basic:
    """1.0*r as r, -1.0*r as -r: a float factor of one says nothing about the math."""
    def unit(node) -> bool:
        return node.is_Mul and isinstance(node.args[0], sp.Float) and abs(float(node.args[0])) == 1.0
    return expr.replace(unit, lambda node: (-1 if float(node.args[0]) < 0 else 1) * sp.Mul(*node.args[1:]))


class TextPrinter(StrPrinter):
    """str() of a SymPy expression in the student's notation (see the module docstring)."""

    def doprint(self, expr) -> str:
        return super().doprint(_without_unit_floats(expr) if isinstance(expr, sp.Basic) else expr)

    def _print_Float(self, expr) -> str:
        return float_text(expr)

    def _print_Abs(self, expr) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Step(self, expr) -> str:
        return f"[{self._print(expr.args[0])} >= {self._print(expr.args[1])}]"

    def _print_StrictStep(self, expr) -> str:
        return f"[{self._print(expr.args[0])} > {self._print(expr.args[1])}]"

    def _print_HalfStep(self, expr) -> str:
        a, b = (self._print(arg) for arg in expr.args)
        return f"([{a} > {b}] + [{a} == {b}]/2)"

    def _print_Indicator(self, expr) -> str:
        return f"[{self._print(expr.args[0])}]"

    def _print_Heaviside(self, expr) -> str:
        return f"[{self._print(expr.args[0])} > 0]"

    def _print_FloorDiv(self, expr) -> str:
        return f"({self._print(expr.args[0])} // {self._print(expr.args[1])})"

    def _print_Mod(self, expr) -> str:
        return f"({self._print(expr.args[0])} % {self._print(expr.args[1])})"

    def _print_PyPow(self, expr) -> str:
        return self._print(sp.Pow(*expr.args, evaluate=False))

    def _print_Piecewise(self, expr) -> str:
        parts = []
        for value, cond in expr.args:
            if cond is sp.true:
                parts.append(self._print(value))
            else:
                parts.append(f"{self._print(value)} if {self._print(cond)} else ")
        return "(" + "".join(parts) + ")"

    def _print_Equality(self, expr) -> str:
        return f"{self._print(expr.lhs)} == {self._print(expr.rhs)}"

    def _print_Unequality(self, expr) -> str:
        return f"{self._print(expr.lhs)} != {self._print(expr.rhs)}"

    def _print_Function(self, expr) -> str:
        if isinstance(expr, mathlib._PythonFunction):
            name = type(expr).__name__
            name = _FUNCTION_NAMES.get(name, name.lower())
            return f"{name}({', '.join(self._print(arg) for arg in expr.args)})"
        return super()._print_Function(expr)

    _print_Max = _print_Min = _print_NpMax = _print_NpMin = _print_Function


class MathPrinter(LatexPrinter):
    """LaTeX of a SymPy expression in the student's notation, names as name_latex sets them."""

    def doprint(self, expr) -> str:
        return super().doprint(_without_unit_floats(expr) if isinstance(expr, sp.Basic) else expr)

    def _print_Symbol(self, expr, style="plain") -> str:
        return shown_latex(expr.name)

    def _print_Float(self, expr) -> str:
        return number_latex(float(expr)) if "e" in float_text(expr) else float_text(expr)

    def _print_Abs(self, expr, exp=None) -> str:
        tex = rf"\left|{self._print(expr.args[0])}\right|"
        return f"{tex}^{{{exp}}}" if exp else tex

    def _bracket(self, inner: str, exp=None) -> str:
        tex = rf"\left[{inner}\right]"
        return f"{tex}^{{{exp}}}" if exp else tex

    def _print_Step(self, expr, exp=None) -> str:
        return self._bracket(rf"{self._print(expr.args[0])} \geq {self._print(expr.args[1])}", exp)

    def _print_StrictStep(self, expr, exp=None) -> str:
        return self._bracket(rf"{self._print(expr.args[0])} > {self._print(expr.args[1])}", exp)

    def _print_HalfStep(self, expr, exp=None) -> str:
        a, b = (self._print(arg) for arg in expr.args)
        return rf"\left(\left[{a} > {b}\right] + \tfrac{{1}}{{2}}\left[{a} = {b}\right]\right)"

    def _print_Indicator(self, expr, exp=None) -> str:
        return self._bracket(self._print(expr.args[0]), exp)

    def _print_Heaviside(self, expr, exp=None) -> str:
        return self._bracket(rf"{self._print(expr.args[0])} > 0", exp)

    def _print_FloorDiv(self, expr, exp=None) -> str:
        a, b = (self._print(arg) for arg in expr.args)
        return rf"\left\lfloor \frac{{{a}}}{{{b}}} \right\rfloor"

    def _print_Mod(self, expr, exp=None) -> str:
        a, b = (self._print(arg) for arg in expr.args)
        return rf"\left({a} \bmod {b}\right)"

    def _print_PyPow(self, expr, exp=None) -> str:
        return self._print(sp.Pow(*expr.args, evaluate=False))

    def _print_Function(self, expr, exp=None) -> str:
        if isinstance(expr, mathlib._PythonFunction):
            name = type(expr).__name__
            name = _FUNCTION_NAMES.get(name, name.lower())
            args = ", ".join(self._print(arg) for arg in expr.args)
            head = rf"\{name}" if name in ("max", "min") else rf"\operatorname{{{name}}}"
            return head + (f"^{{{exp}}}" if exp else "") + rf"\left({args}\right)"
        return super()._print_Function(expr, exp)

    _print_Max = _print_Min = _print_NpMax = _print_NpMin = _print_Function


_TEXT = TextPrinter({"order": "none"})
_LATEX = MathPrinter({"order": "none"})


def text(expr) -> str:
    """A SymPy expression (a local partial) as text."""
    return _TEXT.doprint(expr) if isinstance(expr, sp.Basic) else str(expr)


def latex(expr) -> str:
    """A SymPy expression (a local partial) as LaTeX."""
    return _LATEX.doprint(expr) if isinstance(expr, sp.Basic) else text_latex(str(expr))


# --- shape trees (the user's expressions, as written) --------------------------------

_PREC = {"if": 0, "or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6,
         "un": 7, "**": 8}
_ATOM = 9
_LATEX_FUNCTIONS = {"sin", "cos", "tan", "sinh", "cosh", "tanh", "exp", "log", "arcsin", "arccos", "arctan"}
_LATEX_RENAMED = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "arcsinh": "asinh", "arccosh": "acosh",
                  "arctanh": "atanh", "absolute": "abs", "fabs": "abs", "maximum": "max", "minimum": "min",
                  "fmax": "max", "fmin": "min"}
_CMP_LATEX = {"<": "<", "<=": r"\leq", ">": ">", ">=": r"\geq", "==": "=", "!=": r"\neq"}


def tree_text(tree: tuple, leaf) -> str:
    """A shape tree as the user wrote it; leaf(i) names operand i."""
    return _TreeText(leaf).show(tree)[0]


def tree_latex(tree: tuple, leaf) -> str:
    """A shape tree as LaTeX; leaf(i) gives operand i's LaTeX."""
    return _TreeLatex(leaf).show(tree)[0]


class _TreeText:
    """tree -> (text, precedence); Python's operators and precedence, math's |x|."""

    def __init__(self, leaf):
        self.leaf = leaf

    def show(self, tree: tuple) -> tuple[str, int]:
        kind = tree[0]
        return getattr(self, "node_" + kind)(tree)

    def wrap(self, tree: tuple, least: int, strict: bool = False) -> str:
        text, prec = self.show(tree)
        return f"({text})" if prec < least or (strict and prec == least) else text

    def node_arg(self, tree):
        return self.leaf(tree[1]), _ATOM

    def node_temp(self, tree):
        return f"t{tree[1]}", _ATOM

    def node_num(self, tree):
        value = tree[1]
        text = float_text(value) if isinstance(value, float) else str(value)
        return text, (_ATOM if not text.startswith("-") else _PREC["un"])

    def node_const(self, tree):
        return tree[1], _ATOM

    def node_bool(self, tree):
        return str(tree[1]), _ATOM

    def node_neg(self, tree):
        return "-" + self.wrap(tree[1], _PREC["un"]), _PREC["un"]

    def node_pos(self, tree):
        return "+" + self.wrap(tree[1], _PREC["un"]), _PREC["un"]

    def node_bin(self, tree):
        op, prec = tree[1], _PREC[tree[1]]
        if op == "**":  # right-associative; -x**2 is -(x**2), so a unary base needs parentheses
            left, right = self.wrap(tree[2], prec + 1), self.wrap(tree[3], _PREC["un"])
            return f"{left}**{right}", prec
        left, right = self.wrap(tree[2], prec), self.wrap(tree[3], prec, strict=True)
        return (f"{left} {op} {right}" if op in ("+", "-", "//", "%") else f"{left}{op}{right}"), prec

    def call_name(self, name: str) -> str:
        name = name[3:] if name.startswith("np.") else name
        return _LATEX_RENAMED.get(name, name) if name in ("fabs", "absolute", "maximum", "minimum") else name

    def node_call(self, tree):
        name = self.call_name(tree[1])
        args = [self.show(arg)[0] for arg in tree[2:]]
        if name == "abs":
            return f"|{args[0]}|", _ATOM
        return f"{name}({', '.join(args)})", _ATOM

    def node_if(self, tree):
        cond, then, orelse = tree[1:]
        return f"{self.wrap(then, 1)} if {self.wrap(cond, 1)} else {self.wrap(orelse, 0)}", 0

    def node_cmp(self, tree):
        return f"{self.wrap(tree[2], 5)} {tree[1]} {self.wrap(tree[3], 5)}", _PREC["cmp"]

    def node_chain(self, tree):
        parts = [self.wrap(part, 5) for part in tree[2:]]
        out = parts[0]
        for op, part in zip(tree[1], parts[1:]):
            out += f" {op} {part}"
        return out, _PREC["cmp"]

    def node_and(self, tree):
        return " and ".join(self.wrap(part, 3) for part in tree[1:]), _PREC["and"]

    def node_or(self, tree):
        return " or ".join(self.wrap(part, 2) for part in tree[1:]), _PREC["or"]

    def node_not(self, tree):
        return "not " + self.wrap(tree[1], 4), _PREC["not"]

    def node_truth(self, tree):
        return self.show(tree[1])

    def node_ind(self, tree):
        return f"[{self.show(tree[1])[0]}]", _ATOM

    def node_isinstance(self, tree):
        kinds = tree[2][0] if len(tree[2]) == 1 else f"({', '.join(tree[2])})"
        return f"isinstance({self.show(tree[1])[0]}, {kinds})", _ATOM


class _TreeLatex(_TreeText):
    """tree -> (LaTeX, precedence): fractions, powers, |x|, cases."""

    def node_temp(self, tree):
        return f"t_{{{tree[1]}}}", _ATOM

    def node_num(self, tree):
        value = tree[1]
        text = number_latex(value) if isinstance(value, float) and "e" in float_text(value) else \
            float_text(value) if isinstance(value, float) else str(value)
        return text, (_ATOM if not text.startswith("-") else _PREC["un"])

    def node_const(self, tree):
        return {"pi": r"\pi", "tau": r"\tau", "e": "e"}[tree[1]], _ATOM

    def node_bool(self, tree):
        return r"\mathrm{" + str(tree[1]) + "}", _ATOM

    def node_bin(self, tree):
        op, prec = tree[1], _PREC[tree[1]]
        if op == "/":
            return rf"\frac{{{self.show(tree[2])[0]}}}{{{self.show(tree[3])[0]}}}", _ATOM
        if op == "**":
            base, base_prec = self.show(tree[2])
            if base_prec < _ATOM or base.startswith(r"\frac"):
                base = rf"\left({base}\right)"
            return f"{{{base}}}^{{{self.show(tree[3])[0]}}}", prec
        if op == "//":
            return rf"\left\lfloor \frac{{{self.show(tree[2])[0]}}}{{{self.show(tree[3])[0]}}} \right\rfloor", _ATOM
        left, right = self.wrap(tree[2], prec), self.wrap(tree[3], prec, strict=True)
        symbol = {"+": "+", "-": "-", "*": r"\cdot", "%": r"\bmod"}[op]
        return f"{left} {symbol} {right}", prec

    def paren(self, tree) -> str:
        return rf"\left({self.show(tree)[0]}\right)"

    def wrap(self, tree: tuple, least: int, strict: bool = False) -> str:
        text, prec = self.show(tree)
        return rf"\left({text}\right)" if prec < least or (strict and prec == least) else text

    def node_call(self, tree):
        name = self.call_name(tree[1])
        name = _LATEX_RENAMED.get(name, name)
        args = [self.show(arg)[0] for arg in tree[2:]]
        if name == "abs":
            return rf"\left|{args[0]}\right|", _ATOM
        if name == "sqrt":
            return rf"\sqrt{{{args[0]}}}", _ATOM
        if name == "pow":
            return f"{{{self.paren(tree[2])}}}^{{{args[1]}}}", _PREC["**"]
        if name == "exp" and self.show(tree[2])[1] >= _PREC["un"] and len(args[0]) < 24:
            return f"e^{{{args[0]}}}", _PREC["**"]
        head = "\\" + name if name in _LATEX_FUNCTIONS | {"max", "min"} else rf"\operatorname{{{escape(name)}}}"
        return rf"{head}\left({', '.join(args)}\right)", _ATOM

    def node_if(self, tree):
        cond, then, orelse = (self.show(part)[0] for part in tree[1:])
        return (r"\begin{cases} " + then + r" & \text{if } " + cond + r" \\ " + orelse +
                r" & \text{otherwise} \end{cases}"), _ATOM

    def node_cmp(self, tree):
        return f"{self.wrap(tree[2], 5)} {_CMP_LATEX[tree[1]]} {self.wrap(tree[3], 5)}", _PREC["cmp"]

    def node_chain(self, tree):
        parts = [self.wrap(part, 5) for part in tree[2:]]
        out = parts[0]
        for op, part in zip(tree[1], parts[1:]):
            out += f" {_CMP_LATEX[op]} {part}"
        return out, _PREC["cmp"]

    def node_and(self, tree):
        return r" \;\text{and}\; ".join(self.wrap(part, 3) for part in tree[1:]), _PREC["and"]

    def node_or(self, tree):
        return r" \;\text{or}\; ".join(self.wrap(part, 2) for part in tree[1:]), _PREC["or"]

    def node_not(self, tree):
        return r"\text{not}\; " + self.wrap(tree[1], 4), _PREC["not"]

    def node_ind(self, tree):
        return rf"\left[{self.show(tree[1])[0]}\right]", _ATOM

    def node_isinstance(self, tree):
        return text_latex(_TreeText(lambda i: "x").show(tree)[0]), _ATOM
