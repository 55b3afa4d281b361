"""An Explanation as LaTeX: one amsmath `aligned` block (Explanation.latex(),
`_repr_latex_` in a notebook, `symback explain --format latex`).

The same rows, in the same order, as the text: a value's definition as the
user wrote it, each edge's local partial, a loop's or branch's heading as
the user's source line (in typewriter type, every special character
escaped, so that the block compiles for every function explain accepts),
then the chain rule for each input. `document()` wraps it in a standalone
article that pdflatex compiles.
"""

from __future__ import annotations

import sympy as sp

from . import notation, unrolled
from .chain import Chain, Chains, Factor, Term
from .model import _Row

_QUAD = r"\quad "


def render(x, environment: str = "aligned") -> str:
    """The block: `aligned` (inside $$...$$, as a notebook shows it), or `align*`
    (a display of its own, which may break across pages)."""
    lines = _numbers_rows(x) if x.evaluation is not None else _rows(x)
    if x.output is not None and not x.function.arrays:
        lines += _chain_rule(x)
    if not lines:
        lines = [r"&\text{(nothing to differentiate: the function returns a constant)}"]
    return f"\\begin{{{environment}}}\n" + " \\\\\n".join(lines) + f"\n\\end{{{environment}}}"


def document(x) -> str:
    """A standalone LaTeX document showing the explanation (pdflatex compiles it)."""
    fn = x.function
    title = notation.escape(f"{fn.name}({', '.join(p.value.ident for p in fn.params)})")
    if x.evaluation is not None:
        point = ", ".join(f"{k}={notation.point_text(v)}" for k, v in x.evaluation.point.items())
        title += notation.escape(f" at {point}")
    return ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\allowdisplaybreaks\n"
            "\\begin{document}\n\\noindent\\texttt{" + title + "}\n" + render(x, "align*")
            + "\n\\end{document}\n")


def name(shown: str) -> str:
    """A name as the table shows it (cost, total_2, xs[i], len(xs)) in LaTeX."""
    return notation.shown_latex(shown)


def _value(x, value) -> str:
    return name(x.name(value))


def _partial(x, edge) -> str:
    operand = x.name(edge.operand) + (f"[{edge.element}]" if edge.element is not None else "")
    return rf"\frac{{\partial {name(x.name(edge.target))}}}{{\partial {name(operand)}}}"


def _indent(row: _Row) -> str:
    return _QUAD * (row.depth + len(row.calls))


def _line(row: _Row) -> str:
    return rf"\text{{line {row.line}}}"


def _helper_lines(row: _Row, before: tuple) -> list[str]:
    out = []
    for level, (helper, line) in enumerate(row.calls):
        if before[:level + 1] != row.calls[:level + 1]:
            out.append("&" + _QUAD * (row.depth + level) + r"\text{in \texttt{" + notation.escape(helper)
                       + rf"()}}, called from line {line}:}}")
    return out


def _heading(row: _Row, note: str = "") -> str:
    extra = rf"\quad\text{{({notation.escape(note)})}}" if note else ""
    return "&" + _indent(row) + notation.text_latex(row.heading) + extra + " && " + _line(row)


def _definition(x, row: _Row) -> str:
    return row.shown_latex or notation.latex(row.definition)


def _rows(x) -> list[str]:
    lines, calls = [], ()
    for row in x.rows:
        if row.kind == "element":
            continue
        lines += _helper_lines(row, calls)
        calls = row.calls
        if row.heading:
            lines.append(_heading(row))
            continue
        lines.append(f"{_indent(row)}{_value(x, row.target)} &= {_definition(x, row)} && {_line(row)}")
        for edge in row.edges:
            extra = f" = {notation.latex(x._shown(edge.textbook))}" if edge.textbook is not None else ""
            lines.append(f"{_indent(row)}{_partial(x, edge)} &= {notation.latex(x._shown(edge.partial))}{extra}")
    return lines


def _adjoint(x, row: _Row, visit, sup: str = "") -> str:
    if visit.node is None:
        return ""
    value = "0" if visit.adjoint is None else notation.number_latex(visit.adjoint)
    return rf",\ \frac{{\partial {name(x.out_label)}}}{{\partial {_value(x, row.target)}{sup}}} = {value}"


def _numbers_rows(x) -> list[str]:
    lines, calls = [], ()
    for event in unrolled.events(x):
        kind, row = event[0], event[1]
        if kind in ("heading", "value"):
            lines += _helper_lines(row, calls)
            calls = row.calls
        if kind == "heading":
            lines.append(_heading(row, event[2]))
        elif kind == "iteration":
            lines.append("&" + _QUAD * (row.depth + 1 + len(row.calls)) +
                         rf"{notation.name_latex(event[2])} = {event[3]}:")
        elif kind == "elided":
            lines.append("&" + _QUAD * (row.depth + 1 + len(row.calls)) + rf"\ldots\ \text{{{event[2]} more iterations}}")
        elif kind == "after":
            visit = event[2]
            lines.append(f"{_indent(row)}{_value(x, row.target)} &= {notation.number_latex(visit.value)}"
                         rf" && \text{{after the loop}}{_adjoint(x, row, visit)}")
        else:
            visit = event[2]
            sup = rf"^{{({','.join(map(str, visit.iteration))})}}" if visit.iteration else ""
            value = notation.number_latex(visit.value) if not isinstance(visit.value, list) else \
                notation.text_latex(notation.number_text(visit.value))
            definition = _definition(x, row)
            shown = definition if definition == value or isinstance(row.definition, sp.Number) else \
                f"{definition} = {value}"
            lines.append(f"{_indent(row)}{_value(x, row.target)}{sup} &= {shown}"
                         f" && {_line(row)}{_adjoint(x, row, visit, sup)}")
            partials = {ident: partial for _, ident, _, partial in visit.edges}
            for edge in row.edges:
                if edge.operand.ident in partials:
                    formula = notation.latex(x._shown(edge.partial))
                    number = "" if edge.partial.is_Number else \
                        f" = {notation.number_latex(partials[edge.operand.ident])}"
                    lines.append(f"{_indent(row)}{_partial(x, edge)} &= {formula}{number}")
    return lines


# --- the chain rule ---------------------------------------------------------------------

def _chain_rule(x) -> list[str]:
    chains = Chains(x)
    lines = []
    for param in x.wrt:
        if x.evaluation is None:
            for chain in chains.symbolic(param):
                lines += _symbolic(x, chain)
        else:
            for chain in chains.at(param, x.evaluation):
                lines += _numeric(x, chain)
    return lines


def _head(x, chain: Chain) -> str:
    return rf"\frac{{d\,{name(x.out_label)}}}{{d\,{name(chain.param)}}}"


def _sup(iteration: tuple) -> str:
    if not iteration:
        return ""
    return "^{(" + ",".join(notation.name_latex(p) if isinstance(p, str) else str(p) for p in iteration) + ")}"


def _factor(factor: Factor) -> str:
    if factor.adjoint:
        return rf"\frac{{\partial {name(factor.target)}}}{{\partial {name(factor.operand)}{_sup(factor.iteration)}}}"
    return rf"\frac{{\partial {name(factor.target)}{_sup(factor.iteration)}}}{{\partial {name(factor.operand)}}}"


def _formula(factor: Factor) -> str:
    if factor.adjoint or factor.partial is None:
        return _factor(factor)
    tex = notation.latex(factor.partial)
    return rf"\left({tex}\right)" if isinstance(factor.partial, sp.Add) else tex


def _prefix(term: Term) -> str:
    out = ""
    for letter in term.sums:
        out += rf"\sum_{{{notation.name_latex(letter)}}} "
    for _, tex, holds in term.conditions:
        out += rf"\left[{tex}\right] " if holds else rf"\left[\text{{not }} {tex}\right] "
    return out


def _symbolic(x, chain: Chain) -> list[str]:
    head = _head(x, chain)
    if not chain.terms:
        return [f"{head} &= 0"]
    symbols = " + ".join(_prefix(t) + (r" \cdot ".join(map(_factor, t.factors)) or "1") for t in chain.terms)
    formulas = " + ".join(_prefix(t) + (r" \cdot ".join(map(_formula, t.factors)) or "1") for t in chain.terms)
    more = rf" + \ldots\ \text{{({chain.left_out} more paths)}}" if chain.left_out else ""
    lines = [f"{head} &= {symbols}{more}"]
    if formulas != symbols:
        lines.append(f"&= {formulas}{more}")
    for letter, where in chain.loops:
        lines.append(rf"&\qquad {notation.name_latex(letter)} \text{{ counts the iterations of }} "
                     rf"{notation.text_latex(where)}")
    return lines


def _numeric(x, chain: Chain) -> list[str]:
    head = _head(x, chain)
    if not chain.terms:
        return [rf"{head} &= 0 \quad \text{{(no path at this point)}}"]
    lines = []
    for k, term in enumerate(chain.terms):
        lead = f"{head} &= " if k == 0 else "&\\quad + "
        if term is None:
            lines.append(lead + rf"\ldots\ \text{{({chain.left_out} more terms)}}")
            continue
        symbols = r" \cdot ".join(map(_factor, term.factors)) or "1"
        numbers = r" \cdot ".join(notation.number_latex(f.number) for f in term.factors)
        tail = f" = {numbers} = {notation.number_latex(term.value)}" if len(term.factors) > 1 else \
            f" = {notation.number_latex(term.value)}"
        lines.append(lead + symbols + tail)
    if len(chain.terms) > 1:
        lines.append(f"&= {notation.number_latex(chain.total)}")
    return lines
