"""Constant folding that keeps every float: an adjoint that starts as a
constant and is next added to starts as the sum.

    z0_bar = -1.0                      z0_bar = _t1*s_bar - 1.0
    z0_bar += _t1*s_bar        ->
    m_bar = 1.0                        m_bar = -s*s_bar + 1.0
    m_bar -= s*s_bar

c + e is e + c in IEEE arithmetic, and c - x is (-x) + c, so the result is
the same float; one statement less. A start of 0.0 is not folded: 0.0 + e is
0.0 where e is -0.0. Not in NumPy code, where `+=` is `bar = bar + e` and
may broadcast.
"""

from __future__ import annotations

from dataclasses import replace

from .. import ir
from . import exprs
from .copies import bars_read


def fold(gradient: ir.Gradient) -> ir.Gradient:
    """The gradient with constant starts folded into the next addition (see above)."""
    if gradient.function.arrays:
        return gradient
    same = dict(gradient.same_adjoint)

    def name(value):  # the variable an adjoint is (copies may have joined two)
        while value in same:
            value = same[value]
        return value

    def block(stmts) -> tuple:
        out = list(stmts)
        k = 0
        while k < len(out):
            adj = out[k]
            if isinstance(adj, ir.BackIf):
                out[k] = ir.BackIf(adj.cond, block(adj.then), block(adj.orelse))
            elif isinstance(adj, ir.BackLoop):
                out[k] = replace(adj, body=block(adj.body))
            else:
                c = _constant_start(adj)
                e = None
                if c is not None:  # the next statement that touches the variable, if it only adds to it
                    variable = name(adj.operand)
                    j = next((j for j in range(k + 1, len(out)) if variable in _touched(out[j], name)), None)
                    e = _addition(out[j], variable, name) if j is not None else None
                if e is not None:
                    out[j] = replace(out[j], first=True, expr=_plus(e, c))
                    del out[k]
                    continue
            k += 1
        return tuple(out)

    return replace(gradient, backward=block(gradient.backward))


def _constant_start(adj) -> tuple | None:
    """The number an adjoint starts as, `v_bar = c` (c not 0), as a tree."""
    if isinstance(adj, ir.Flow) and adj.first and adj.seed:
        return ("num", "1.0")
    if isinstance(adj, ir.Accumulate) and adj.first and adj.seed and adj.mirror is None and adj.expr is None:
        tree = exprs.template_tree(exprs.contribution_template(adj, False))
        if tree is not None and (tree[0] == "num" or (tree[:2] == ("un", "-") and tree[2][0] == "num")) \
                and float(ir.expr_text(tree)) != 0.0:
            return tree
    return None


def _addition(adj, variable: ir.Value, name) -> tuple | None:
    """e, for `variable += e` that reads no adjoint of `variable`'s own (its old value aside)."""
    if not isinstance(adj, ir.Accumulate) or adj.first or adj.mirror is not None or name(adj.operand) != variable:
        return None
    tree = adj.expr
    if tree is None:
        template = exprs.template_tree(exprs.contribution_template(adj, False))
        tree = None if template is None else exprs.instantiate(template, adj.site)
    if tree is None:
        return None
    reads = [name(v) for v in bars_read(replace(adj, first=True))]
    return None if variable in reads else tree


def _plus(e: tuple, c: tuple) -> tuple:
    """e + c, written e - |c| for a negative c."""
    if c[0] == "un":
        return ("bin", "-", e, c[2])
    return ("bin", "+", e, c)


def _touched(adj, name) -> set:
    """Every adjoint variable a statement (nested ones included) reads or writes."""
    out = set()
    for inner in ir.walk_adjoints([adj]):
        out.update(name(v) for v in bars_read(inner))
        for field in ("operand", "seq", "row"):
            value = getattr(inner, field, None)
            if isinstance(value, ir.Value):
                out.add(name(value))
        if isinstance(inner, (ir.SliceAccumulate, ir.ListCallAccumulate)):
            out.update(name(v) for v in (inner.site.seqs if isinstance(inner, ir.ListCallAccumulate)
                                         else (inner.site.seq,)))
        if isinstance(inner, ir.BackLoop):
            out.update(name(v) for pair in inner.aliases for v in pair)
    return out
