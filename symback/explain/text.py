"""An Explanation as plain text: str(explain(f)) and `symback explain`.

The table first (one line per edge, values in source order, loops and
branches as the user wrote their headings), then the chain rule for each
input. With numbers (`.at(...)`), each value gets its number, each edge its
local partial's number and each value its adjoint; a loop is shown
iteration by iteration (the first and last few), a branch by the side taken.
"""

from __future__ import annotations

import sympy as sp

from .. import ir
from . import notation, unrolled
from .chain import Chain, Chains, Factor, Term, superscript
from .model import _Row

SSA = ["SSA graph (static single assignment): each value the function computes has a name of its own,",
       "a variable assigned again gets a new one (x, then x_1, x_2), and an edge runs to it from each value",
       "it is computed from, labelled with the local partial derivative along it."]

def render(x) -> str:
    fn = x.function
    out = x.out_label
    lines = [f"{fn.name}({', '.join(p.value.ident for p in fn.params)}) at {_shown_path(fn.file)}:{fn.line}"]
    ev = x.evaluation
    if ev is not None:
        point = ", ".join(f"{name}={notation.point_text(value)}" for name, value in ev.point.items())
        lines.append(f"at {point}: {out} = {notation.number_text(ev.output)}")
    lines += [""] + SSA + [""]
    lines += _table(x) if ev is None else _numbers_table(x, out)
    lines.append("")
    if fn.arrays:
        lines += ["Arrays: the local partial of an elementwise line holds entry by entry (for",
                  "h = tanh(a), each h[i] changes with a[i] by 1 - h[i]**2). The other edges are",
                  "their operation's rule, given ḡ, the adjoint of the result (a matrix product",
                  "a @ b sends ḡ @ bᵀ to a). The chain rule sums over paths as with numbers: a",
                  "value that feeds several entries gets the sum of what comes back from each.",
                  ""]
        if not any(isinstance(s, (ir.If, ir.Loop)) for s in fn.body):
            lines += ["Chain rule: each parameter's adjoint is the sum, over every path to the output,",
                      "of the edges' rules applied last to first (grad(f).source shows them as code).", ""]
            return "\n".join(lines)
    lines += _chain_rule(x, out)
    if ev is None and x.straight and x.output is not None and not fn.arrays and not x.reads_lists:
        lines += _substituted_text(x, out)
    return "\n".join(lines)


# --- the table ---------------------------------------------------------------------

def _indent(row: _Row) -> str:
    return "    " * (row.depth + len(row.calls))


def _helper_lines(row: _Row, before: tuple, cells: int) -> list[tuple]:
    """`in sigmoid(), called from line 21:` where a helper's rows start."""
    out = []
    for level, (name, line) in enumerate(row.calls):
        if before[:level + 1] != row.calls[:level + 1]:
            out.append((str(line), "    " * (row.depth + level) + f"in {name}(), called from line {line}:"))
    return out


def _edge_label(x, edge) -> str:
    operand = x.name(edge.operand) + (f"[{edge.element}]" if edge.element is not None else "")
    return f"∂{x.name(edge.target)}/∂{operand}"


def _table(x) -> list[str]:
    table = [("line", "value", "definition", "edge", "local partial")]
    calls: tuple = ()
    for row in x.rows:
        if row.kind == "element":
            continue
        table += _helper_lines(row, calls, 5)
        calls = row.calls
        indent = _indent(row)
        if row.heading:
            table.append((str(row.line), indent + row.heading))
            continue
        first = (str(row.line), indent + x.name(row.target), row.shown or notation.text(row.definition))
        if not row.edges:
            table.append(first + ("", "(a test: it steers, no gradient flows through it)"
                                  if row.kind == "condition" else ""))
        for k, edge in enumerate(row.edges):
            partial = notation.text(x._shown(edge.partial))
            if edge.textbook is not None:
                partial += f"   (= {notation.text(x._shown(edge.textbook))})"
            table.append((first if k == 0 else ("", "", "")) + (_edge_label(x, edge), partial))
    return _columns(table)


def _columns(table: list[tuple]) -> list[str]:
    """Cells padded to their column's width (line numbers right-aligned), the last left ragged.
    A row of two cells (a heading: line, text) spans the columns after the first."""
    n = len(table[0])
    full = [r for r in table if len(r) == n]
    widths = [max(len(r[i]) for r in full) for i in range(n - 1)]
    lines = []
    for r in table:
        if len(r) == 2:
            lines.append(f"{r[0].rjust(widths[0])}  {r[1]}".rstrip())
            continue
        cells = [cell.rjust(w) if i == 0 else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths))]
        lines.append(("  ".join(cells) + "  " + r[-1]).rstrip())
    return lines


# --- the table at a point -------------------------------------------------------------

def _numbers_table(x, out: str) -> list[str]:
    table = [("line", "value", "definition", "= value", "edge", "local partial", "= partial",
              f"adjoint d{out}/d(value)")]
    calls: tuple = ()
    for event in unrolled.events(x):
        kind, row = event[0], event[1]
        if kind in ("heading", "value"):
            table += _helper_lines(row, calls, 8)
            calls = row.calls
        if kind == "heading":
            note = f"   ({event[2]})" if event[2] else ""
            table.append((str(row.line), _indent(row) + row.heading + note))
        elif kind == "iteration":
            table.append(("", "    " * (row.depth + 1 + len(row.calls)) + f"{event[2]} = {event[3]}:"))
        elif kind == "elided":
            table.append(("", "    " * (row.depth + 1 + len(row.calls)) + f"... {event[2]} more iterations ..."))
        elif kind == "after":
            visit = event[2]
            table.append((str(row.line), _indent(row) + x.name(row.target), "after the loop",
                          notation.number_text(visit.value), "", "", "", _adjoint(visit)))
        else:
            table += _value_lines(x, row, event[2])
    return _columns(table)


def _value_lines(x, row: _Row, visit) -> list[tuple]:
    partials = {ident: partial for _, ident, _, partial in visit.edges}
    definition = row.shown or notation.text(row.definition)
    if row.kind == "carry":  # which of its two sources this iteration's value came from
        definition = carry_source(x, row, visit)
    first = (str(row.line), _indent(row) + x.name(row.target), definition, notation.number_text(visit.value))
    edges = [e for e in row.edges if e.operand.ident in partials]
    if row.kind == "fold":  # max(ys): one edge per element it read, each with its own number
        return _fold_lines(x, row, visit, first)
    if not edges:
        return [first + ("", "(a test: it steers)" if row.kind == "condition" else "", "", _adjoint(visit))]
    out = []
    for k, edge in enumerate(edges):
        cells = (_edge_label(x, edge), notation.text(x._shown(edge.partial)),
                 notation.number_text(partials[edge.operand.ident]))
        out.append((first if k == 0 else ("", "", "", "")) + cells + ((_adjoint(visit),) if k == 0 else ("",)))
    return out


def _fold_lines(x, row: _Row, visit, first: tuple) -> list[tuple]:
    by_operand = {edge.operand.ident: edge for edge in row.edges}
    out = []
    for _, ident, element, partial in visit.edges:
        edge = by_operand.get(ident)
        if edge is None:
            continue
        label = f"∂{x.name(row.target)}/∂{x.name(edge.operand)}" + \
            (f"[{']['.join(map(str, element))}]" if element is not None else "")
        shown = notation.text(x._shown(edge.partial))
        if any(earlier[4].startswith(f"∂{x.name(row.target)}/∂{x.name(edge.operand)}") for earlier in out):
            shown = ""  # the formula once per operand, then the number for each element
        cells = (label, shown, notation.number_text(partial))
        out.append((first if not out else ("", "", "", "")) + cells + ((_adjoint(visit),) if not out else ("",)))
    return out or [first + ("", "", "", _adjoint(visit))]


def carry_source(x, row: _Row, visit) -> str:
    """A loop variable's value in this iteration: from before the loop, or the iteration before."""
    carry = next(c for c in row.stmt.carried if c.head == row.target)
    came = {ident for _, ident, _, _ in visit.edges}
    if isinstance(carry.update, ir.Value) and carry.update.ident in came and visit.iteration[-1] > 0:
        return f"{x.name(carry.update)} from the iteration before"
    return x.model.name(carry.init)


def _adjoint(visit) -> str:
    if visit.node is None:
        return ""
    return "0 (no path to the output)" if visit.adjoint is None else notation.number_text(visit.adjoint)


# --- the chain rule ------------------------------------------------------------------------

def _chain_rule(x, out: str) -> list[str]:
    if x.output is None:
        return ["Chain rule: the function returns a constant, so every derivative is 0.", ""]
    chains = Chains(x)
    ev = x.evaluation
    lines = []
    if chains.looped or chains._branched():
        lines += [f"Chain rule: d{out}/d(input) is the sum, over the edges that leave the input, of the local",
                  f"partial times the adjoint of the value it feeds (d{out}/d(value): how much a nudge to that",
                  f"value moves {out}, through everything after it). In a loop that is one term per iteration",
                  "(⁽ⁱ⁾ marks the value in iteration i); in a branch, the side taken ([c] is 1 if c holds, else 0).",
                  ""]
    else:
        lines += [f"Chain rule: d{out}/d(input) is the sum, over every path from the input to {out},",
                  "of the product of the local partials along it.", ""]
    for param in x.wrt:
        symbolic = chains.symbolic(param)
        if ev is None:
            for chain in symbolic:
                lines += _symbolic_text(chain, out)
            continue
        numeric = chains.at(param, ev)
        if len(symbolic) == 1 and len(numeric) == 1 and symbolic[0].form == "uses" \
                and symbolic[0].param == numeric[0].param:  # the sum, then its terms at this point
            lines += _symbolic_text(symbolic[0], out, formulas=False)[:len(symbolic[0].terms)]
            lines += _numeric_text(numeric[0], out, continued=True)[:-1]
            lines += _where(symbolic[0], out) + [""]
            continue
        if symbolic and symbolic[0].form == "uses":
            for chain in symbolic:
                lines += _symbolic_text(chain, out, formulas=False)
        for chain in numeric:
            lines += _numeric_text(chain, out)
    return lines


def _where(chain: Chain, out: str) -> list[str]:
    pad = " " * len(f"d{out}/d{chain.param}")
    return [f"{pad}   where {letter} counts the iterations of {where}" for letter, where in chain.loops]


def _label(factor: Factor) -> str:
    sup = superscript(factor.iteration)
    if factor.adjoint:
        return f"∂{factor.target}/∂{factor.operand}{sup}"
    return f"∂{factor.target}{sup}/∂{factor.operand}"


def _formula(factor: Factor) -> str:
    if factor.adjoint or factor.partial is None:
        return _label(factor)
    text = notation.text(factor.partial)
    return f"({text})" if isinstance(factor.partial, sp.Add) or text.startswith("-") else text


def _conditions(term: Term) -> str:
    return "".join(f"[{text}] " if holds else f"[not ({text})] " for text, _, holds in term.conditions)


def _sums(term: Term) -> str:
    return "".join(f"Σ_{letter} " for letter in term.sums)


def _symbolic_text(chain: Chain, out: str, formulas: bool = True) -> list[str]:
    head = f"d{out}/d{chain.param}"
    pad = " " * len(head)
    if not chain.terms:
        return [f"{head} = 0   (no path from {chain.param} to {out})", ""]
    lines = []
    for k, term in enumerate(chain.terms):
        lead = f"{head} = " if k == 0 else f"{pad} + "
        lines.append(lead + _sums(term) + _conditions(term) + (" · ".join(map(_label, term.factors)) or "1"))
        if formulas:
            lines.append(f"{pad} = " + _sums(term) + _conditions(term) + (" · ".join(map(_formula, term.factors))
                                                                         or "1"))
    if chain.left_out:
        lines.append(f"{pad} + ... and {chain.left_out} more paths")
    return lines + _where(chain, out) + ([""] if formulas else [])


def _numeric_text(chain: Chain, out: str, continued: bool = False) -> list[str]:
    """The terms at a point, with their numbers; `continued`: below the symbolic sum, led by '='."""
    head = f"d{out}/d{chain.param}"
    pad = " " * len(head)
    if not chain.terms:
        return [f"{head} = 0   (no path from {chain.param} to {out} at this point)", ""]
    rows = []
    for term in chain.terms:
        if term is None:
            rows.append((f"... {chain.left_out} more terms", ""))
            continue
        symbols = " · ".join(map(_label, term.factors)) or "1"
        numbers = " · ".join(notation.number_text(f.number) for f in term.factors)
        value = notation.number_text(term.value)
        rows.append((symbols, f"= {numbers} = {value}" if len(term.factors) > 1 else f"= {value}"))
    width = max(len(symbols) for symbols, _ in rows)
    lines = []
    for k, (symbols, numbers) in enumerate(rows):
        lead = (f"{pad} = " if continued else f"{head} = ") if k == 0 else f"{pad} + "
        lines.append(f"{lead}{symbols.ljust(width)}   {numbers}".rstrip())
    if len(rows) > 1:
        lines.append(f"{pad} = {notation.number_text(chain.total)}")
    return lines + [""]


def _substituted_text(x, out: str) -> list[str]:
    from . import _MAX_SUBSTITUTED
    if len(x.rows) > _MAX_SUBSTITUTED:
        return [f"(The fully substituted gradient is left out: {len(x.rows)} statements.)", ""]
    gradient = x.gradient()
    shared, exprs = sp.cse(list(gradient.values()), symbols=sp.numbered_symbols("x"), optimizations=None)
    lines = ["The gradient with every intermediate substituted"
             + (", shared subexpressions named x0, x1, ...:" if shared else ":")]
    lines += [f"    {symbol} = {notation.text(expr)}" for symbol, expr in shared]
    lines += [f"    d{out}/d{name} = {notation.text(expr)}" for name, expr in zip(gradient, exprs)]
    return lines + [""]


def _shown_path(file: str) -> str:
    """A file as a person would name it from here: relative if under the current directory."""
    import os
    try:
        relative = os.path.relpath(file)
    except ValueError:  # another drive
        return file
    return file if relative.startswith("..") else relative.replace(os.sep, "/")
