"""Copies: `x1_bar = x2_bar` (x2 = x1 + ..., a partial of exactly 1) makes
x1_bar the same variable as x2_bar, and the line goes.

Safe when x2_bar is read nowhere after the copy but in x2's own statement's
other contributions, all in the same block (x2's adjoint is complete when
its statement is swept, and x1's contributions come after that); when the
copy is the only statement that starts x1_bar (not one per side of a
branch); when no other operand of x2's statement is joined to x2_bar
already (in s = a + b, a_bar and b_bar must stay two variables); and when
neither adjoint is one of the names branches and loops hand on (merges,
loop-carried values), which emit already joins its own way.

Kept: a copy into a parameter's adjoint (`x_bar = x1_bar` before `return
x_bar, ...`): the returned name says whose gradient it is, at the cost of
one assignment per parameter, not per statement. Kept too in NumPy code,
where a contribution of partial 1 may be summed to its operand's shape.
"""

from __future__ import annotations

from dataclasses import replace

from .. import ir


def copies(gradient: ir.Gradient) -> ir.Gradient:
    """The gradient with adjoint copies forwarded (see above)."""
    fn = gradient.function
    if fn.arrays:
        return gradient
    joined = {p.value for p in fn.params}  # parameters, and what merges and loops hand on
    for item in ir.walk(fn.body):
        if isinstance(item, ir.Merge):
            joined.update(v for v in (item.target, item.then, item.orelse) if isinstance(v, ir.Value))
        elif isinstance(item, ir.Carry):
            joined.update(v for v in (item.head, item.init, item.update) if isinstance(v, ir.Value))
    read_in: dict[ir.Value, list] = {}  # adjoint -> the blocks (by id) that read it
    _find_reads(gradient.backward, read_in)
    starts: dict[ir.Value, int] = {}  # adjoint -> how many statements assign it afresh
    for adj in ir.walk_adjoints(gradient.backward):
        for value in _started(adj):
            starts[value] = starts.get(value, 0) + 1
    joined |= {value for value, count in starts.items() if count > 1}  # assigned afresh on two paths
    same: dict[ir.Value, ir.Value] = dict(gradient.same_adjoint)
    dropped: set[int] = set()
    _forward_copies(gradient.backward, joined, read_in, same, set(same.values()), dropped)
    if not dropped:
        return gradient
    return replace(gradient, backward=_without(gradient.backward, dropped), same_adjoint=tuple(same.items()))


def _forward_copies(stmts, joined: set, read_in: dict, same: dict, joined_to: set, dropped: set) -> None:
    """Forward the copies of `stmts` and the blocks in them; `joined_to`: the values
    of `same` (a set, so the check per copy does not scan them all)."""
    for adj in stmts:
        if isinstance(adj, ir.BackIf):
            _forward_copies(adj.then, joined, read_in, same, joined_to, dropped)
            _forward_copies(adj.orelse, joined, read_in, same, joined_to, dropped)
        elif isinstance(adj, ir.BackLoop):
            _forward_copies(adj.body, joined, read_in, same, joined_to, dropped)
        elif is_copy(adj) and adj.operand not in joined and adj.site.target not in joined \
                and adj.site.args.count(adj.operand) == 1 and read_in.get(adj.site.target) == [id(stmts)] \
                and adj.site.target not in joined_to:
            # one operand per variable: s = a + b makes a_bar = s_bar and b_bar = s_bar, and
            # a_bar and b_bar as one variable would add a's later contributions to b's
            same[adj.operand] = adj.site.target
            joined_to.add(adj.site.target)
            dropped.add(id(adj))


def is_copy(adj) -> bool:
    """operand_bar = target_bar exactly: a first contribution of partial 1."""
    return isinstance(adj, ir.Accumulate) and adj.first and not adj.seed and adj.mirror is None \
        and adj.expr is None and adj.site.rule.partials[adj.index] == 1


def _started(adj) -> list[ir.Value]:
    """The adjoints one (non-nested) statement assigns afresh, rather than adds to."""
    if isinstance(adj, (ir.Accumulate, ir.ArrayAccumulate, ir.Flow)) and adj.first:
        return [adj.operand]
    if isinstance(adj, ir.Unlist) and adj.first and adj.operand is not None:
        return [adj.operand]
    if isinstance(adj, ir.Zero):
        return [adj.operand]
    if isinstance(adj, ir.ZeroList):
        return [adj.seq]
    if isinstance(adj, ir.RowAdjoint):
        return [adj.row]
    return []


def bars_read(adj) -> list[ir.Value]:
    """The adjoints one (non-nested) adjoint statement reads."""
    if isinstance(adj, ir.Accumulate):
        out = [] if adj.seed else [adj.site.target]
        if adj.mirror:
            out.append(adj.mirror[0])
        if not adj.first:
            out.append(adj.operand)
        if adj.expr is not None:
            out += [part[1] for part in _bars(adj.expr)]
        return out
    if isinstance(adj, (ir.ArrayAccumulate, ir.SliceAccumulate, ir.ListCallAccumulate)):
        return [] if getattr(adj, "seed", False) else [adj.site.target]
    if isinstance(adj, (ir.Flow, ir.ItemAccumulate)):
        return [] if adj.seed else [adj.source]
    if isinstance(adj, (ir.Unlist, ir.RowAdjoint)):
        return [adj.seq]
    if isinstance(adj, ir.Let):
        return [part[1] for part in _bars(adj.expr)]
    return []


def _bars(tree: tuple):
    from .exprs import reads
    return [item for item in reads(tree) if isinstance(item, tuple) and item[0] == "bar"]


def _find_reads(stmts, read_in: dict) -> None:
    for adj in stmts:
        if isinstance(adj, ir.BackIf):
            _find_reads(adj.then, read_in)
            _find_reads(adj.orelse, read_in)
        elif isinstance(adj, ir.BackLoop):
            _find_reads(adj.body, read_in)
            for update, head in adj.aliases:
                for value in (update, head):
                    read_in.setdefault(value, []).append(None)  # one name for both: never forwarded
        else:
            for value in bars_read(adj):
                blocks = read_in.setdefault(value, [])
                if id(stmts) not in blocks:
                    blocks.append(id(stmts))


def _without(stmts, dropped: set[int]) -> tuple:
    out = []
    for adj in stmts:
        if id(adj) in dropped:
            continue
        if isinstance(adj, ir.BackIf):
            adj = ir.BackIf(adj.cond, _without(adj.then, dropped), _without(adj.orelse, dropped))
        elif isinstance(adj, ir.BackLoop):
            adj = replace(adj, body=_without(adj.body, dropped))
        out.append(adj)
    return tuple(out)
