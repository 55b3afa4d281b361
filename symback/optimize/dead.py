"""Dead code: the forward statements and loops the gradient does not need.

A statement runs if its value is read (by the sweep, by a later statement
that runs, or as the returned value), if the sweep reads its temps, or if
it may raise: the gradient must fail where f fails, so a division, a math
function's domain, an index, a raise or a read of a variable with no value
always runs, even if nothing reads its value. A branch runs if anything in
it runs or the sweep branches on it; a loop runs whole or not at all.

Two refinements keep work that can only fail in one way from keeping what
it reads alive:

- `xs[i]` in `for i in range(n)` with n = len(xs) (or a min of lengths,
  as `zip` makes) is always in range: it cannot raise;
- an unread statement whose only operations that may raise are divisions by
  its operands (`total / n`) becomes a Guard that divides 1.0 by each divisor:
  on floats, x / d raises exactly where d is 0, whatever x, so the numerator,
  and the loop that made it, need not run. Not in NumPy code, where an array
  divided by 0 is inf (with a warning) but 1.0 / 0 raises.
"""

from __future__ import annotations

from dataclasses import replace

from .. import ir, mathlib
from ..reverse import _reads


def dead_code(gradient: ir.Gradient) -> ir.Gradient:
    """The gradient with only the forward statements it needs (see above)."""
    function, unbound = gradient.function, gradient.unbound
    read: set[ir.Value] = set()     # values whose own value someone reads
    run: set[ir.Value] = set()      # statements (by target) that must run
    if (gradient.with_value or function.result in unbound or function.arrays) and \
            isinstance(function.result, ir.Value):
        read.add(function.result)  # a variable never assigned raises; an array result is refused (emit)
    read |= _reads(gradient.backward, function.arrays)
    if isinstance(function.aux, ir.Value):
        read.add(function.aux)  # has_aux: passed through
    for adj in ir.walk_adjoints(gradient.backward):
        if isinstance(adj, ir.Accumulate) and adj.site.rule.needs[adj.index][1]:
            run.add(adj.site.target)
    # what a reversed loop recomputes (x = xs[i], p = w*x) it does not need from the forward pass
    redone = {stmt.target for adj in ir.walk_adjoints(gradient.backward) if isinstance(adj, ir.BackLoop)
              for stmt in adj.recompute}
    read -= redone
    run -= redone
    pruner = _Pruner(read, run, unbound, in_range(gradient.forward), guards=not function.arrays)
    kept = pruner.prune(gradient.forward)
    unused = frozenset(stmt.target for stmt in ir.walk(kept)
                       if isinstance(stmt, ir.Assign) and stmt.target not in read)
    return replace(gradient, forward=kept, unused=gradient.unused | unused)


def may_raise(stmt, unbound: frozenset = frozenset(), safe: frozenset = frozenset()) -> bool:
    """Whether a statement may raise where f runs it (a division, a math
    function's domain, an index, a variable with no value); `safe`: Items
    known to be in range."""
    if isinstance(stmt, ir.Assign):
        # reading a variable with no value raises, a plain copy `a = b` too
        return mathlib.can_raise(stmt.shape.tree) or any(arg in unbound for arg in stmt.args)
    if isinstance(stmt, ir.LIST_STMTS):  # math of lists may raise; so does reading a variable with no value
        return isinstance(stmt, (ir.ListCall, ir.SetItem)) or any(arg in unbound for arg in ir.reads(stmt))
    if isinstance(stmt, ir.Item):
        return stmt.target not in safe or stmt.seq in unbound
    return isinstance(stmt, (ir.ArrayOp, ir.Raise, ir.Guard))  # shapes; a raise


def in_range(stmts) -> frozenset[ir.Value]:
    """Items `x = xs[i]` that cannot raise: i is the index of an enclosing
    `for i in range(n)` (or range(0, n)) and n is at most len(xs)."""
    makers = {item.target: item for item in ir.walk(stmts) if isinstance(item, (ir.Assign, ir.Length))}
    out = set()
    for loop in ir.loops(stmts):
        if loop.index is None or loop.cond is not None:
            continue
        bounds = loop.bounds
        if len(bounds) == 2 and isinstance(bounds[0], ir.Const) and bounds[0].value == 0:
            bounds = bounds[1:]
        if len(bounds) != 1 or not isinstance(bounds[0], ir.Value):
            continue
        for item in ir.walk(loop.body):
            if isinstance(item, ir.Item) and item.index == loop.index and item.field is None \
                    and _at_most_len(bounds[0], item.seq, makers):
                out.add(item.target)
    return frozenset(out)


def _at_most_len(value: ir.Value, seq: ir.Value, makers: dict) -> bool:
    """Whether `value` is len(seq), or a min() with such an operand (lists only grow)."""
    for _ in range(64):  # a chain of min(min(...)) as zip of many lists makes
        maker = makers.get(value)
        if isinstance(maker, ir.Length):
            return maker.seq == seq
        if not isinstance(maker, ir.Assign) or maker.shape.tree[:2] != ("call", "min"):
            return False
        args = [maker.args[leaf[1]] for leaf in maker.shape.tree[2:] if leaf[0] == "arg"]
        if len(args) != len(maker.shape.tree) - 2:
            return False
        if any(_at_most_len(arg, seq, makers) for arg in args[1:] if isinstance(arg, ir.Value)):
            return True
        if not isinstance(args[0], ir.Value):
            return False
        value = args[0]
    return False


def guard(stmt, unbound: frozenset) -> ir.Guard | None:
    """A Guard for an unread statement whose only operations that may raise are
    divisions by its operands (and which reads no variable that may have no value)."""
    if not isinstance(stmt, ir.Assign) or any(arg in unbound for arg in stmt.args):
        return None
    divisors = []
    todo = [(stmt.shape.tree, True)]  # (node, whether Python always evaluates it with the statement)
    while todo:
        node, always = todo.pop()
        if mathlib.raises_itself(node):
            if not always:  # `n != 0 and 1.0 / n < 1.0`: the division runs only sometimes
                return None
            if node[:2] != ("bin", "/") or node[3][0] != "arg" or not isinstance(stmt.args[node[3][1]], ir.Value):
                return None
            divisor = stmt.args[node[3][1]]
            if divisor not in divisors:
                divisors.append(divisor)
        parts = mathlib.children(node)
        first = mathlib.unguarded(node)
        todo += [(part, always and k < first) for k, part in enumerate(parts)]
    return ir.Guard(stmt, tuple(divisors)) if divisors else None


class _Pruner:
    def __init__(self, read: set, run: set, unbound: frozenset, safe: frozenset, guards: bool):
        self.read, self.run, self.unbound, self.safe = read, run, unbound, safe
        # not in NumPy code: an array divided by 0 is inf with a warning, 1.0 / 0 raises
        self.guards = guards

    def needed(self, stmt) -> bool:
        """Whether a forward statement must run: its value is read, its temps are,
        it may raise, or it appends to a list that is read later."""
        return stmt.target in self.read or stmt.target in self.run or may_raise(stmt, self.unbound, self.safe) or \
            (isinstance(stmt, (ir.Append, ir.SetItem)) and stmt.seq in self.read)

    def prune(self, stmts) -> tuple[ir.Stmt, ...]:
        read, kept = self.read, []
        for stmt in reversed(stmts):
            if isinstance(stmt, ir.Loop):
                # a loop runs whole if anything about it is needed: its body feeds itself
                if any(carry.head in read for carry in stmt.carried) or stmt.count in read or any(
                        self.needed(item) for item in ir.walk(stmt.body)) \
                        or any(loop.count in read for loop in ir.loops(stmt.body)) \
                        or (stmt.cond is not None and may_raise(stmt.cond, self.unbound)):
                    kept.append(stmt)
                    for item in ir.walk((stmt,)):  # all of it runs: what it reads is read
                        read.add(item.target)
                        read.update(source for source in ir.reads(item) if isinstance(source, ir.Value))
                    for loop in ir.loops((stmt,)):
                        read.update(b for b in loop.bounds if isinstance(b, ir.Value))
                    read |= ir.conds((stmt,))
                continue
            if isinstance(stmt, ir.If):
                merges = tuple(m for m in stmt.merges if m.target in read)
                read.update(side for m in merges for side in (m.then, m.orelse) if isinstance(side, ir.Value))
                then, orelse = self.prune(stmt.then), self.prune(stmt.orelse)
                if merges or then or orelse or stmt.cond in read:
                    kept.append(ir.If(stmt.cond, then, orelse, merges, stmt.loc))
                    read.add(stmt.cond)
            elif isinstance(stmt, ir.Guard):
                kept.append(stmt)
                read.update(stmt.divisors)
            elif self.guards and stmt.target not in read and stmt.target not in self.run \
                    and guard(stmt, self.unbound):
                kept.append(guard(stmt, self.unbound))  # only its divisors are read
                read.update(kept[-1].divisors)
            elif self.needed(stmt):
                kept.append(stmt)
                read.update(arg for arg in ir.reads(stmt) if isinstance(arg, ir.Value))
        kept.reverse()
        return tuple(kept)
