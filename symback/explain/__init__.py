"""explain(f): the chain rule on your own code, as text, LaTeX or a Graphviz graph.

It shows the SSA graph parse and derive build, in the user's variable names
and notation: every value with its definition as written and its source
line, the local partial on each incoming edge (`∂a/∂z = a*(1 - a)`, with the
textbook form beside it where derive rewrote it to reuse the value), and for
each differentiated input the chain rule: a sum over paths of products of
local partials, or, with loops and branches, a sum over the edges leaving
the input (Σ over a loop's iterations, each term with the branch conditions
it needs). `.at(w=0.5, ...)` puts numbers on all of it. For straight-line
code it also gives the gradient with every intermediate substituted (SymPy).

One idea per module:

    model.py     the rows: values, edges, loops and branches, from the IR
    notation.py  expressions in the student's notation (text, LaTeX)
    numbers.py   the IR run at a point: values, partials, adjoints (Evaluation, Step)
    unrolled.py  the rows at a point: loops by iteration, branches by the side taken
    chain.py     the chain rule per input, as terms of products
    text.py      str(explanation);   latex.py  LaTeX

The partials shown are the ones the generated gradient multiplies; explain
runs parse and derive, never reverse or emit.
"""

from __future__ import annotations

from typing import Callable

import sympy as sp

from .. import ir
from ..api import check_wrt
from ..derive import derive
from ..errors import UsageError
from ..parse import parse
from . import dot, latex, text
from .model import Model, _Edge, _Row
from .numbers import Evaluation, Step, Visit, evaluate

__all__ = ["explain", "Explanation", "Evaluation", "Step", "Visit"]

_MAX_PATHS = 12        # paths listed per input; the rest are counted
_MAX_SUBSTITUTED = 60  # statements beyond which the substituted gradient is not worth printing


def explain(f: Callable, wrt=None) -> "Explanation":
    """The SSA graph of `f` with its local partials and chain-rule paths."""
    function = derive(parse(f))
    return Explanation(function, check_wrt(function, wrt))


class Explanation:
    """What `explain` returns: str() is the text, `_repr_latex_` renders in a
    notebook, `.partials` maps each edge (value, operand) to its SymPy
    partial, `.gradient()` is the substituted gradient, `.to_dot()` the graph."""

    def __init__(self, function: ir.Function, wrt: tuple[ir.Value, ...]):
        self.function = function
        self.wrt = wrt
        self.output = function.result if isinstance(function.result, ir.Value) else None
        # the returned expression is the function's value: call it by the function's name
        self.names = {}
        taken = {p.value.ident for p in function.params} | {item.target.ident for item in ir.walk(function.body)}
        if self.output is not None and self.output.name == "out" and function.name not in taken:
            self.names[self.output] = function.name
        # d(out)/d(input) heads say the function's name: its value is what is differentiated
        self.out_label = function.name if function.name not in taken or self.output is None else \
            self.name(self.output)
        self.model = Model(function, self.names)
        self.rows: list[_Row] = self.model.rows
        self.indices = self.model.indices  # loop indices, lengths: they steer, no gradient flows through them
        self.straight = not any(isinstance(s, (ir.If, ir.Loop)) for s in function.body) and not function.arrays
        self.edges = [edge for row in self.rows for edge in row.edges]
        self.partials: dict[tuple[str, str], sp.Expr] = {
            (self.name(e.target), self.name(e.operand)): self._shown(e.partial) for e in self.edges}
        self.evaluation: Evaluation | None = None  # set by .at(...)

    def at(self, **point) -> "Explanation":
        """This explanation with numbers: every value, local partial and adjoint
        at `point` (the arguments by parameter name, a list parameter as a list),
        each path's product; `.evaluation` holds them (numbers.Evaluation)."""
        done = Explanation(self.function, self.wrt)
        done.evaluation = evaluate(self.function, self._point(point), self.wrt, tuple(self.model.folds))
        return done

    def _point(self, point: dict) -> dict:
        """The arguments by parameter name, defaults filled in; a UsageError names what is wrong."""
        fn = self.function
        names = [p.value.ident for p in fn.params]
        extra = [name for name in point if name not in names]
        if extra:
            raise UsageError(f"{extra[0]!r} is not a parameter of {fn.name}",
                             hint=f"the parameters are: {', '.join(names)}")
        out = {}
        for param in fn.params:
            name = param.value.ident
            if name in point:
                value = point[name]
            elif param.default is not None:
                value = _literal(param.default)
            else:
                raise UsageError(f"no value for {name!r}, a parameter of {fn.name}",
                                 hint=f"give each parameter a value: {', '.join(names)}")
            if not _numeric(value):
                raise UsageError(f"{name}={value!r} is not a number or a list of numbers",
                                 hint=f"give {name} a number (w=0.5) or a list of numbers (xs=[1.0, 2.0])")
            out[name] = value
        return out

    # --- the graph ----------------------------------------------------------

    def name(self, value: ir.Value) -> str:
        return self.names.get(value, value.ident)

    def _shown(self, expr: sp.Expr) -> sp.Expr:
        """`expr` with the output's symbol renamed to the function's name."""
        if not self.names:
            return expr
        return expr.xreplace({v.symbol: sp.Symbol(n, real=True) for v, n in self.names.items()})

    # --- the chain rule -----------------------------------------------------

    def paths(self, param: ir.Value | str) -> list[list[_Edge]]:
        """Every path of edges from `param` (a parameter or its name) to the
        output, input side first; [] for code that branches or loops."""
        param = self._param(param)
        if not self.straight or self.output is None:
            return []
        into: dict[ir.Value, list[_Edge]] = {}
        for edge in self.edges:
            into.setdefault(edge.target, []).append(edge)
        out: list[list[_Edge]] = []

        def walk(value: ir.Value, suffix: list[_Edge]) -> None:
            if len(out) > _MAX_PATHS:
                return
            if value == param:
                out.append(suffix)
                return
            for edge in into.get(value, []):
                walk(edge.operand, [edge] + suffix)

        walk(self.output, [])
        return out

    def _param(self, param: ir.Value | str) -> ir.Value:
        if isinstance(param, ir.Value):
            return param
        found = [p.value for p in self.function.params if p.value.ident == param]
        if not found:
            listed = ", ".join(p.value.ident for p in self.function.params)
            raise UsageError(f"{param!r} is not a parameter of {self.function.name}",
                             function=self.function.name, hint=f"the parameters are: {listed}")
        return found[0]

    def _count_paths(self, param: ir.Value) -> int:
        count = {param: 1}
        for edge in self.edges:  # edges are in program order: operands before targets
            count[edge.target] = count.get(edge.target, 0) + count.get(edge.operand, 0)
        return count.get(self.output, 0)

    def gradient(self) -> dict[str, sp.Expr]:
        """d output / d param for each differentiated param, every intermediate
        substituted: SymPy expressions over the parameters (plain symbols named
        as the parameters). Straight-line code only."""
        if not self.straight:
            raise UsageError(f"{self.function.name} branches or loops, so its gradient is not one formula",
                             function=self.function.name,
                             hint="read the local partials in str(explain(f)), or use grad(f) for numbers")
        if self.reads_lists:
            raise UsageError(f"{self.function.name} works on lists, so its gradient is one formula per element, "
                             "not one formula", function=self.function.name,
                             hint="read the chain rule in str(explain(f)), or explain(f).at(...) for numbers")
        if self.output is None:
            return {p.ident: sp.S.Zero for p in self.wrt}
        definition: dict[sp.Symbol, sp.Expr] = {}
        for row in self.rows:
            if row.target is not None and isinstance(row.definition, sp.Expr):
                definition[row.target.symbol] = row.definition.xreplace(definition)
        adjoint: dict[ir.Value, sp.Expr] = {self.output: sp.S.One}
        for edge in reversed(self.edges):
            if edge.target in adjoint:
                term = adjoint[edge.target] * edge.partial.xreplace(definition)
                adjoint[edge.operand] = adjoint.get(edge.operand, sp.S.Zero) + term
        # over plain symbols, so that expr.subs({"w": 0.5}) works as SymPy users expect
        plain = {p.value.symbol: sp.Symbol(p.value.ident) for p in self.function.params}
        return {p.ident: adjoint.get(p, sp.S.Zero).xreplace(plain) for p in self.wrt}

    @property
    def reads_lists(self) -> bool:
        """Whether f reads or builds lists: each element then has a derivative of its
        own, which a formula over the list's name would sum (wrongly) into one."""
        return any(isinstance(item, (ir.Item, ir.Length, *ir.LIST_STMTS)) for item in ir.walk(self.function.body))

    # --- text ---------------------------------------------------------------

    def __str__(self) -> str:
        return text.render(self)

    @staticmethod
    def _text(definition) -> str:
        return sp.sstr(definition) if isinstance(definition, sp.Basic) else str(definition)

    # --- LaTeX --------------------------------------------------------------

    def latex(self) -> str:
        """The table and the chain rule as a LaTeX `aligned` block (amsmath)."""
        return latex.render(self)

    def latex_document(self) -> str:
        """A standalone LaTeX document showing latex(): pdflatex compiles it."""
        return latex.document(self)

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    # --- Graphviz -----------------------------------------------------------

    def to_dot(self) -> str:
        """The computation as a Graphviz digraph, edges labelled by their local partials (see dot.py)."""
        return dot.to_dot(self)

    def _repr_svg_(self) -> str | None:
        return self._svg()  # None without Graphviz: a notebook then shows _repr_latex_

    def _repr_html_(self) -> str | None:
        """The picture, inline, where Graphviz is installed: Jupyter ranks HTML above
        LaTeX and LaTeX above SVG, so without this a notebook would show the table
        (_repr_latex_, still there for other front ends and for nbconvert to PDF)."""
        svg = self._svg()
        return None if svg is None else '<div class="symback-explain">' + svg[svg.find("<svg"):] + "</div>"

    def _svg(self) -> str | None:
        if not hasattr(self, "_svg_text"):  # one run of Graphviz for both of the above
            self._svg_text = dot.to_svg(self)
        return self._svg_text


def _literal(text: str):
    import ast
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _numeric(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_numeric(entry) for entry in value)
    return isinstance(value, (int, float))

