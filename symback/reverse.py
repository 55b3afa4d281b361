"""ir.Function with rules -> ir.Gradient: activity analysis and the reverse sweep.

A value needs an adjoint only if it is *varied* (depends on a
differentiated parameter) and *useful* (reaches the result). The sweep
visits the statements last first; for each active statement and each
active operand it adds partial * adjoint to the operand's adjoint, the
first contribution assigning and later ones (fan-out) adding:

    for stmt in reversed(body):            # backpropagation: the chain rule,
        for operand, partial in stmt:      # one edge at a time
            operand_bar += partial * stmt_bar

A branch reverses into a branch on the same recorded condition: a merged
value's adjoint flows to the side that was taken, then that side's
statements are swept. An adjoint that only one side assigns is set to 0.0
on the other, so it exists after the branch whichever way it went.

Without the value, the forward pass keeps only what the sweep reads.
"""

from __future__ import annotations

from . import ir


def reverse(function: ir.Function, wrt: tuple[ir.Value, ...], with_value: bool) -> ir.Gradient:
    """The forward statements and adjoint statements for `function`."""
    result = function.result if isinstance(function.result, ir.Value) else None
    sweep = _Sweep(result, _varied(function, wrt) & _useful(function))
    backward = sweep.block(function.body, top=True)
    backward = [stmt for stmt in backward if id(stmt) not in sweep.folded]
    unit = result if result in wrt else None
    zero = frozenset(p for p in wrt if p not in sweep.contributions and p != unit)
    forward, unused = _forward(function, backward, with_value)
    return ir.Gradient(function, forward, unused, tuple(backward), wrt, zero, unit, with_value)


class _Sweep:
    """The reverse sweep over (nested) blocks, remembering which adjoints exist."""

    def __init__(self, result: ir.Value | None, active: set[ir.Value]):
        self.result = result
        self.active = active
        self.contributions: dict[ir.Value, list] = {}  # adjoint -> what was added to it, on this path
        self.folded: set[int] = set()   # ids of `v_bar = 1.0` lines made unnecessary
        self.top: set[int] = set()      # ids of adjoint statements in the outermost block

    def block(self, stmts: tuple[ir.Stmt, ...], top: bool) -> list:
        out: list = []
        for stmt in reversed(stmts):
            made = self.branch(stmt) if isinstance(stmt, ir.If) else self.assign(stmt, top)
            if top:
                self.top.update(id(adj) for adj in made)
            out += made
        return out

    def assign(self, stmt: ir.Assign, top: bool) -> list[ir.Accumulate]:
        target = stmt.target
        if target not in self.active or (target != self.result and target not in self.contributions):
            return []  # reaches no output, or every path to it had a zero partial
        seed = target == self.result
        if not seed and top and self._is_one(self.contributions[target]):
            # target_bar = 1.0 exactly (e.g. `return v + w`): fold it in, as for the output
            self.folded.add(id(self.contributions[target][0]))
            seed = True
        made = []
        assigned_here: dict[int, ir.Value] = {}  # index -> operand whose adjoint this statement assigned
        for index, arg in enumerate(stmt.args):
            if not isinstance(arg, ir.Value) or arg not in self.active or stmt.rule.partials[index] == 0:
                continue
            mirror = next(((assigned_here[j], sign) for j, sign in stmt.rule.mirrors.get(index, ())
                           if j in assigned_here), None)
            acc = ir.Accumulate(arg, stmt, index, first=arg not in self.contributions, seed=seed, mirror=mirror)
            made.append(acc)
            if acc.first:
                assigned_here[index] = arg
            self.contributions.setdefault(arg, []).append(acc)
        return made

    def _is_one(self, contributions: list) -> bool:
        """True if an adjoint is one seeded contribution, in the outer block, whose partial is 1."""
        if len(contributions) != 1 or not isinstance(contributions[0], ir.Accumulate):
            return False
        acc = contributions[0]
        return acc.seed and id(acc) in self.top and acc.site.rule.partials[acc.index] == 1

    def branch(self, stmt: ir.If) -> list[ir.BackIf]:
        before = self.contributions
        sides = []
        for pick, block in ((lambda m: m.then, stmt.then), (lambda m: m.orelse, stmt.orelse)):
            self.contributions = {value: list(adds) for value, adds in before.items()}
            out: list = []
            for merge in stmt.merges:  # the merges ran last in the branch: reverse them first
                source, operand = merge.target, pick(merge)
                if source not in self.active or (source != self.result and source not in self.contributions):
                    continue
                if not isinstance(operand, ir.Value) or operand not in self.active:
                    continue
                flow = ir.Flow(operand, source, first=operand not in self.contributions,
                               seed=source == self.result)
                out.append(flow)
                self.contributions.setdefault(operand, []).append(flow)
            out += self.block(block, top=False)
            sides.append((out, self.contributions))
        (then_out, then_adds), (else_out, else_adds) = sides
        # Values made inside the branch are never read again in the sweep; only
        # adjoints of values from before it must exist after it on both paths.
        inside = {item.target for item in ir.walk((stmt,))}
        else_out += [ir.Zero(v) for v in then_adds if v not in else_adds and v not in inside]
        then_out += [ir.Zero(v) for v in else_adds if v not in then_adds and v not in inside]
        self.contributions = {**else_adds, **then_adds}
        if not then_out and not else_out:
            return []
        return [ir.BackIf(stmt.cond, tuple(then_out), tuple(else_out))]


def _varied(function: ir.Function, wrt: tuple[ir.Value, ...]) -> set[ir.Value]:
    varied = set(wrt)
    for item in ir.walk(function.body):
        if isinstance(item, ir.Merge):
            if item.then in varied or item.orelse in varied:
                varied.add(item.target)
        elif any(arg in varied for arg in item.args if isinstance(arg, ir.Value)):
            varied.add(item.target)
    return varied


def _useful(function: ir.Function) -> set[ir.Value]:
    useful = {function.result} if isinstance(function.result, ir.Value) else set()
    for item in reversed(list(ir.walk(function.body))):
        if item.target not in useful:
            continue
        if isinstance(item, ir.Merge):
            useful.update(side for side in (item.then, item.orelse) if isinstance(side, ir.Value))
        else:
            useful.update(arg for arg in item.args if isinstance(arg, ir.Value))
    return useful


def _adjoint_walk(stmts):
    for stmt in stmts:
        if isinstance(stmt, ir.BackIf):
            yield stmt
            yield from _adjoint_walk(stmt.then)
            yield from _adjoint_walk(stmt.orelse)
        else:
            yield stmt


def _forward(function: ir.Function, backward: list, with_value: bool):
    """The statements to run before the sweep, and those run only for temps.

    A statement runs if its value is read (by the sweep, by a later statement
    that runs, or as the returned value) or if the sweep reads its temps; a
    branch runs if anything in it runs or the sweep branches on it.
    """
    read: set[ir.Value] = set()     # values whose own value someone reads
    run: set[ir.Value] = set()      # statements (by target) that must run
    if with_value and isinstance(function.result, ir.Value):
        read.add(function.result)
    for adj in _adjoint_walk(backward):
        if isinstance(adj, ir.BackIf):
            read.add(adj.cond)
        elif isinstance(adj, ir.Accumulate):
            operands, needs_stmt = adj.site.rule.needs[adj.index]
            read.update(adj.site.args[i] for i in operands if isinstance(adj.site.args[i], ir.Value))
            if needs_stmt:
                run.add(adj.site.target)
                if ir.RESULT in adj.site.rule.partials[adj.index].free_symbols:
                    read.add(adj.site.target)
    kept = _prune(function.body, read, run)
    unused = frozenset(stmt.target for stmt in ir.walk(kept)
                       if isinstance(stmt, ir.Assign) and stmt.target not in read)
    return kept, unused


def _prune(stmts, read: set[ir.Value], run: set[ir.Value]) -> tuple[ir.Stmt, ...]:
    kept = []
    for stmt in reversed(stmts):
        if isinstance(stmt, ir.If):
            merges = tuple(m for m in stmt.merges if m.target in read)
            read.update(side for m in merges for side in (m.then, m.orelse) if isinstance(side, ir.Value))
            then, orelse = _prune(stmt.then, read, run), _prune(stmt.orelse, read, run)
            if merges or then or orelse or stmt.cond in read:
                kept.append(ir.If(stmt.cond, then, orelse, merges, stmt.loc))
                read.add(stmt.cond)
        elif stmt.target in read or stmt.target in run:
            kept.append(stmt)
            read.update(arg for arg in stmt.args if isinstance(arg, ir.Value))
    kept.reverse()
    return tuple(kept)
