"""explain(f): the chain rule on your own code, as text, LaTeX or a Graphviz graph.

It shows the SSA graph parse and derive build, in the user's variable names:
every value with its defining expression and source line, the local
partial on each incoming edge (`∂a/∂z = a*(1 - a)`, with the textbook form
beside it where derive rewrote it to reuse the value), and for each
differentiated input the chain-rule product along every path to the output
and their sum. For straight-line code it also gives the gradient with every
intermediate substituted (SymPy), shared subexpressions pulled out by cse.

The numbers the generated gradient computes are these same partials; this
module only presents them. It runs parse and derive, never reverse or emit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from .. import ir
from ..api import check_wrt
from ..derive import derive, is_condition
from ..errors import UsageError
from ..parse import parse
from . import dot
from .numbers import Evaluation, Step, evaluate

_MAX_PATHS = 12        # paths listed per input; the rest are counted
_MAX_SUBSTITUTED = 60  # statements beyond which the substituted gradient is not worth printing


def explain(f: Callable, wrt=None) -> "Explanation":
    """The SSA graph of `f` with its local partials and chain-rule paths."""
    function = derive(parse(f))
    return Explanation(function, check_wrt(function, wrt))


@dataclass(frozen=True)
class _Edge:
    target: ir.Value
    operand: ir.Value
    partial: sp.Expr                 # as the generated code computes it
    textbook: sp.Expr | None = None  # the plain derivative, where derive rewrote it


@dataclass(frozen=True)
class _Row:
    """One line of the table: a value (with its edges) or a structure line."""

    depth: int
    line: int
    target: ir.Value | None = None
    definition: object = None        # sp.Expr, or text for lists and merges
    edges: tuple[_Edge, ...] = ()
    heading: str = ""                # "for i in range(n):", "if c:", "else:"
    calls: tuple[tuple[str, int], ...] = ()  # from an inlined helper: (helper, line of the call), outermost first


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
        self.rows: list[_Row] = []
        self.indices: set[ir.Value] = set()  # loop indices: they steer, no gradient flows through them
        self.straight = not any(isinstance(s, (ir.If, ir.Loop)) for s in function.body) and not function.arrays
        self._table(function.body, 0)
        self.edges = [edge for row in self.rows for edge in row.edges]
        self.partials: dict[tuple[str, str], sp.Expr] = {
            (self.name(e.target), self.name(e.operand)): self._shown(e.partial) for e in self.edges}
        self.evaluation: Evaluation | None = None  # set by .at(...)

    def at(self, **point) -> "Explanation":
        """This explanation with numbers: every value, local partial and adjoint
        at `point` (the arguments by parameter name), each path's product."""
        done = Explanation(self.function, self.wrt)
        done.evaluation = evaluate(self.function, self._point(point), self.wrt)
        return done

    def _point(self, point: dict) -> dict:
        """The arguments by parameter name, defaults filled in; a UsageError names what is wrong."""
        fn = self.function
        names = [p.value.ident for p in fn.params]
        extra = [name for name in point if name not in names]
        if extra:
            raise UsageError(f"{extra[0]!r} is not a parameter of {fn.name}", function=fn.name,
                             hint=f"the parameters are: {', '.join(names)}")
        out = {}
        for param in fn.params:
            name = param.value.ident
            if name in point:
                value = point[name]
            elif param.default is not None:
                value = _literal(param.default)
            else:
                raise UsageError(f"no value for {name!r}, a parameter of {fn.name}", function=fn.name,
                                 hint=f"give every parameter: .at({', '.join(f'{n}=...' for n in names)})")
            if not _numeric(value):
                raise UsageError(f"{name}={value!r} is not a number or a list of numbers", function=fn.name,
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

    def _table(self, stmts, depth: int) -> None:
        for stmt in stmts:
            if isinstance(stmt, ir.Assign):
                if is_condition(stmt.shape.expr):
                    self.rows.append(_Row(depth, stmt.loc.line, stmt.target, stmt.expr))  # a condition
                    continue
                edges = []
                for index, arg in enumerate(stmt.args):
                    if isinstance(arg, ir.Value) and arg not in [e.operand for e in edges] and arg not in self.indices:
                        # factor_terms again: substituting names re-expands 2*(a - y) into 2*a - 2*y
                        partial = sp.factor_terms(sum((stmt.partial(i) for i, a in enumerate(stmt.args) if a == arg),
                                                      sp.S.Zero))
                        edges.append(_Edge(stmt.target, arg, partial, self._textbook(stmt, arg, partial)))
                self.rows.append(_Row(depth, stmt.loc.line, stmt.target, stmt.expr, tuple(edges),
                                      calls=stmt.loc.calls))
            elif isinstance(stmt, ir.Item):
                at = f"[{stmt.field}]" if stmt.field is not None else ""
                self.rows.append(_Row(depth, stmt.loc.line, stmt.target, f"{stmt.seq}[{stmt.index}]{at}",
                                      (_Edge(stmt.target, stmt.seq, sp.S.One),)))
            elif isinstance(stmt, ir.ArrayOp):
                edges = tuple(_Edge(stmt.target, arg, sp.Symbol(_array_edge(stmt, index)))
                              for index, arg in enumerate(stmt.sources) if isinstance(arg, ir.Value))
                if not edges:
                    self.indices.add(stmt.target)  # a shape or a constant array: no gradient flows through it
                self.rows.append(_Row(depth, stmt.loc.line, stmt.target, str(stmt).split(" = ", 1)[1], edges))
            elif isinstance(stmt, ir.Raise):
                self.rows.append(_Row(depth, stmt.loc.line, heading=str(stmt)))
            elif isinstance(stmt, (ir.Append, ir.SetItem)):  # the element goes into the list: an edge of partial 1
                edge = (_Edge(stmt.seq, stmt.element, sp.S.One),) if isinstance(stmt.element, ir.Value) else ()
                self.rows.append(_Row(depth, stmt.loc.line, stmt.seq, str(stmt), edge))
            elif isinstance(stmt, (ir.NewList, ir.Slice, ir.ListCall)):
                edges = tuple(_Edge(stmt.target, arg, sp.S.One) for arg in dict.fromkeys(stmt.sources)
                              if isinstance(arg, ir.Value))
                self.rows.append(_Row(depth, stmt.loc.line, stmt.target, str(stmt).split(" = ", 1)[1], edges))
            elif isinstance(stmt, ir.Length):
                self.indices.add(stmt.target)  # a count: it steers, no gradient flows through it
                self.rows.append(_Row(depth, stmt.loc.line, stmt.target, f"len({stmt.seq})"))
            elif isinstance(stmt, ir.If):
                self.rows.append(_Row(depth, stmt.loc.line, heading=f"if {stmt.cond}:"))
                self._table(stmt.then, depth + 1)
                self.rows.append(_Row(depth, stmt.loc.line, heading="else:"))
                self._table(stmt.orelse, depth + 1)
                for merge in stmt.merges:
                    edges = tuple(_Edge(merge.target, side, sp.S.One) for side in dict.fromkeys((merge.then, merge.orelse))
                                  if isinstance(side, ir.Value))
                    self.rows.append(_Row(depth, stmt.loc.line, merge.target,
                                          f"{merge.then} if {stmt.cond} else {merge.orelse}", edges))
            elif isinstance(stmt, ir.Loop):
                head = (f"while {stmt.cond.expr}:" if stmt.cond is not None
                        else f"for {stmt.index} in range({', '.join(map(str, stmt.bounds))}):")
                self.rows.append(_Row(depth, stmt.loc.line, heading=head))
                self.indices.add(stmt.index)
                for carry in stmt.carried:
                    edges = tuple(_Edge(carry.head, v, sp.S.One) for v in dict.fromkeys((carry.init, carry.update))
                                  if isinstance(v, ir.Value))
                    self.rows.append(_Row(depth + 1, stmt.loc.line, carry.head,
                                          f"{carry.init} on entry, then {carry.update} from the last iteration",
                                          edges))
                self._table(stmt.body, depth + 1)

    @staticmethod
    def _textbook(stmt: ir.Assign, arg: ir.Value, partial: sp.Expr) -> sp.Expr | None:
        """The plain derivative, shown where derive wrote the partial with the value itself."""
        if stmt.target.symbol not in partial.free_symbols:
            return None
        plain = sp.factor_terms(sp.diff(stmt.expr, arg.symbol))
        return plain if plain != partial else None

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

    # --- text ---------------------------------------------------------------

    def __str__(self) -> str:
        fn = self.function
        out = self.name(self.output) if self.output is not None else "the result"
        lines = [f"{fn.name}({', '.join(p.value.ident for p in fn.params)}) at {_shown_path(fn.file)}:{fn.line}",
                 "", "SSA graph: each value, its definition, the local partial on each incoming edge", ""]
        table = [("line", "value", "definition", "edge", "local partial")]
        for row in self.rows:
            indent = "    " * row.depth
            if row.heading:
                table.append((str(row.line), indent + row.heading, "", "", ""))
                continue
            first = (str(row.line), indent + self.name(row.target), self._text(row.definition))
            if not row.edges:
                table.append(first + ("", "(a condition: it steers, no gradient flows through it)"
                                      if isinstance(row.definition, sp.Basic) and is_condition(row.definition)
                                      else ""))
            for k, edge in enumerate(row.edges):
                partial = sp.sstr(self._shown(edge.partial))
                if edge.textbook is not None:
                    partial += f"   (= {sp.sstr(self._shown(edge.textbook))})"
                label = f"∂{self.name(edge.target)}/∂{self.name(edge.operand)}"
                table.append((first if k == 0 else ("", "", "")) + (label, partial))
        widths = [max(len(r[i]) for r in table) for i in range(4)]
        for r in table:
            lines.append("  ".join(cell.ljust(w) if i else cell.rjust(w) for i, (cell, w)
                                   in enumerate(zip(r[:4], widths))) + "  " + r[4])
        lines[-len(table):] = [line.rstrip() for line in lines[-len(table):]]
        lines.append("")
        if self.function.arrays:
            lines += ["Arrays: the local partial of an elementwise line holds entry by entry (for",
                      "h = tanh(a), each h[i] changes with a[i] by 1 - h[i]**2). The other edges are",
                      "their operation's rule, given ḡ, the adjoint of the result (a matrix product",
                      "a @ b sends ḡ @ bᵀ to a). The chain rule sums over paths as with numbers: a",
                      "value that feeds several entries gets the sum of what comes back from each.",
                      ""]
        branches = any(isinstance(s, (ir.If, ir.Loop)) for s in self.function.body)
        if self.function.arrays and not branches:
            lines += ["Chain rule: each parameter's adjoint is the sum, over every path to the output,",
                      "of the edges' rules applied last to first (grad(f).source shows them as code).", ""]
            return "\n".join(lines)
        if not self.straight:
            lines += ["Chain rule: this function branches or loops, so the paths from an input to the",
                      "output are those the run takes and there is no single formula. The generated",
                      "gradient (grad(f).source) sums them as it runs: a branch reverses into a branch",
                      "on the same condition, a loop into the reversed loop.", ""]
            return "\n".join(lines)
        lines += [f"Chain rule: d{out}/d(input) is the sum, over every path from the input to {out},",
                  "of the product of the local partials along it.", ""]
        for param in self.wrt:
            lines += self._chain_text(param, out)
        lines += self._substituted_text(out)
        return "\n".join(lines)

    def _chain_text(self, param: ir.Value, out: str) -> list[str]:
        head = f"d{out}/d{param.ident}"
        paths = self.paths(param)
        if not paths:
            return [f"{head} = 0   (no path from {param.ident} to {out})", ""]
        lines = []
        for k, path in enumerate(paths[:_MAX_PATHS]):
            symbolic = " · ".join(f"∂{self.name(e.target)}/∂{self.name(e.operand)}" for e in path)
            values = " · ".join(self._factor(e.partial) for e in path)
            lead = f"{head} = " if k == 0 else " " * len(head) + " + "
            lines.append(f"{lead}{symbolic}")
            lines.append(f"{' ' * len(head)} = {values}")
        total = self._count_paths(param)
        if total > _MAX_PATHS:
            lines.append(f"{' ' * len(head)} + ... and {total - _MAX_PATHS} more paths")
        return [line for line in lines if line] + [""]

    def _factor(self, expr: sp.Expr) -> str:
        text = sp.sstr(self._shown(expr))
        return f"({text})" if isinstance(expr, sp.Add) else text

    def _substituted_text(self, out: str) -> list[str]:
        if len(self.rows) > _MAX_SUBSTITUTED:
            return [f"(The fully substituted gradient is left out: {len(self.rows)} statements.)", ""]
        gradient = self.gradient()
        shared, exprs = sp.cse(list(gradient.values()), symbols=sp.numbered_symbols("x"), optimizations=None)
        lines = ["The gradient with every intermediate substituted"
                 + (", shared subexpressions named x0, x1, ...:" if shared else ":")]
        lines += [f"    {symbol} = {sp.sstr(expr)}" for symbol, expr in shared]
        lines += [f"    d{out}/d{name} = {sp.sstr(expr)}" for name, expr in zip(gradient, exprs)]
        return lines + [""]

    @staticmethod
    def _text(definition) -> str:
        return sp.sstr(definition) if isinstance(definition, sp.Basic) else str(definition)

    # --- LaTeX --------------------------------------------------------------

    def latex(self) -> str:
        """The table and the chain rule as a LaTeX `aligned` block."""
        def tex(expr) -> str:
            return sp.latex(self._shown(expr)) if isinstance(expr, sp.Basic) else r"\text{" + str(expr) + "}"

        def sym(value: ir.Value) -> str:
            return sp.latex(sp.Symbol(self.name(value)))

        def d(edge: _Edge) -> str:
            return rf"\frac{{\partial {sym(edge.target)}}}{{\partial {sym(edge.operand)}}}"

        lines = []
        for row in self.rows:
            if row.heading:
                lines.append(rf"&\text{{{row.heading}}} && \text{{line {row.line}}}")
                continue
            lines.append(rf"{sym(row.target)} &= {tex(row.definition)} && \text{{line {row.line}}}")
            for edge in row.edges:
                extra = rf" = {tex(edge.textbook)}" if edge.textbook is not None else ""
                lines.append(rf"{d(edge)} &= {tex(edge.partial)}{extra}")
        if self.straight and self.output is not None:
            for param in self.wrt:
                paths = self.paths(param)[:_MAX_PATHS]
                head = rf"\frac{{d {sym(self.output)}}}{{d {sym(param)}}}"
                if not paths:
                    lines.append(rf"{head} &= 0")
                    continue
                symbolic = " + ".join(r" \cdot ".join(d(e) for e in p) for p in paths)
                values = " + ".join(r" \cdot ".join(rf"\left({tex(e.partial)}\right)" for e in p) for p in paths)
                lines.append(rf"{head} &= {symbolic} = {values}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    # --- Graphviz -----------------------------------------------------------

    def to_dot(self) -> str:
        """The computation as a Graphviz digraph, edges labelled by their local partials (see dot.py)."""
        return dot.to_dot(self)

    def _repr_svg_(self) -> str | None:
        return dot.to_svg(self)  # None without Graphviz: a notebook then shows _repr_latex_


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


def _array_edge(stmt: ir.ArrayOp, index: int) -> str:
    """An array operation's edge, in words: what its rule sends back to operand `index`."""
    a = [str(arg) for arg in stmt.args]
    options = dict(stmt.options)
    along = "" if options.get("axis") is None else f" along axis {options['axis']}"
    text = {
        "sum": f"ḡ repeated{along or ' over every entry'}",
        "mean": f"ḡ/n repeated{along or ' over every entry'} (n entries averaged)",
        "max": "ḡ to the entries equal to the max (split evenly at a tie)",
        "min": "ḡ to the entries equal to the min (split evenly at a tie)",
        "prod": "ḡ times the product of the other entries",
        "var": "ḡ·2(x - mean)/(n - ddof)", "std": "ḡ·(x - mean)/((n - ddof)·std)", "norm": "ḡ·x/‖x‖",
        "transpose": "ḡ transposed back", "swapaxes": "ḡ with the axes swapped back",
        "reshape": f"ḡ reshaped to the shape of {a[0]}", "broadcast_to": f"ḡ summed to the shape of {a[0]}",
        "index": f"ḡ put at the entries read, zeros elsewhere (shape of {a[0]})",
    }.get(stmt.op)
    if stmt.op == "matmul":
        text = f"ḡ @ {a[1]}ᵀ" if index == 0 else f"{a[0]}ᵀ @ ḡ"
    elif stmt.op == "outer":
        text = f"ḡ @ {a[1]}" if index == 0 else f"{a[0]} @ ḡ"
    elif text is None:  # concatenate, stack, hstack, vstack
        text = f"the part of ḡ where {a[index]} was put"
    return text


def _shown_path(file: str) -> str:
    """A file as a person would name it from here: relative if under the current directory."""
    try:
        relative = os.path.relpath(file)
    except ValueError:  # another drive
        return file
    return file if relative.startswith("..") else relative.replace(os.sep, "/")

