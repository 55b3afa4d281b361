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

The forward pass is all of f; optimize (dead.py) keeps only what the sweep
and the returned value read, and what may raise.
"""

from __future__ import annotations

from dataclasses import replace

from . import ir, mathlib
from .errors import NotDifferentiable


def reverse(function: ir.Function, wrt: tuple[ir.Value, ...], with_value: bool) -> ir.Gradient:
    """The forward statements and adjoint statements for `function`."""
    try:
        return _reverse(function, wrt, with_value)
    except NotDifferentiable as err:
        raise NotDifferentiable(err.what, function=function.name, loc=err.loc, hint=err.hint) from None


def _reverse(function: ir.Function, wrt: tuple[ir.Value, ...], with_value: bool) -> ir.Gradient:
    result = function.result if isinstance(function.result, ir.Value) else None
    sweep = _Sweep(result, _varied(function, wrt) & _useful(function), function.arrays, function.sequences)
    lists = [ir.ZeroList(p) for p in wrt if p in function.sequences]  # element adjoints add into these
    for zero_list in lists:
        sweep.contributions[zero_list.seq] = [zero_list]
    backward = _without(lists + sweep.block(function.body, top=True), sweep.folded)
    unit = result if result in wrt else None
    zero = frozenset(p for p in wrt if p not in sweep.contributions and p != unit)
    unbound = _maybe_unbound(function)
    # every statement runs forward; optimize drops what the gradient does not need
    return ir.Gradient(function, function.body, frozenset(), tuple(backward), wrt, zero, unit, with_value, unbound)


def _shown(loc) -> str:
    """The source text a location points at, quoted: `x / 0`."""
    if loc.text and loc.end_col is not None:
        return f"`{loc.text[loc.col:loc.end_col]}`"
    return f"line {loc.line}"


def _without(stmts, folded: set[int]) -> list:
    """The adjoint statements, nested ones included, less the folded ones."""
    out = []
    for stmt in stmts:
        if id(stmt) in folded:
            continue
        if isinstance(stmt, ir.BackIf):
            stmt = ir.BackIf(stmt.cond, tuple(_without(stmt.then, folded)), tuple(_without(stmt.orelse, folded)))
        elif isinstance(stmt, ir.BackLoop):
            stmt = replace(stmt, body=tuple(_without(stmt.body, folded)))
        out.append(stmt)
    return out


class _Sweep:
    """The reverse sweep over (nested) blocks, remembering which adjoints exist."""

    def __init__(self, result: ir.Value | None, active: set[ir.Value], arrays: bool = False,
                 lists: frozenset = frozenset()):
        self.result = result
        self.active = active
        self.arrays = arrays  # NumPy code: an adjoint may be summed to its operand's shape (reads it)
        self.contributions: dict[ir.Value, list] = {}  # adjoint -> what was added to it, on this path
        self.folded: set[int] = set()   # ids of `v_bar = 1.0` lines made unnecessary
        self.top: set[int] = set()      # ids of adjoint statements in the outermost block
        self.skip: set[tuple[ir.Value, ir.Value]] = set()  # (update, head) of accumulators: no edge
        self.head_of: dict[ir.Value, ir.Value] = {}  # a loop's update -> its head (see assign)
        self.unit: set[ir.Value] = set()  # adjoints exactly 1.0 wherever they are read (see loop())
        self.foldable: set[int] = set()  # ids of `v_bar = 1.0` merge flows for a v made in that same side
        # The output's adjoint is 1.0 without a variable until a loop makes it one, or
        # starts it afresh (as a loop's head, per iteration): on this path, is it still?
        self.implicit: set[ir.Value] = {result} if result is not None else set()
        self.built: set[ir.Value] = set()  # lists the function builds (their Items are not recomputed)
        self.lists = lists  # every list: parameters, lists built, rows of lists of lists

    def block(self, stmts: tuple[ir.Stmt, ...], top: bool) -> list:
        # A list built here gets its adjoint, all zeros at its final length, before
        # the sweep reaches anything that reads it (every reader comes after it).
        out: list = []
        for stmt in stmts:
            if isinstance(stmt, (ir.NewList, ir.Slice)):
                self.built.add(stmt.target)
                if stmt.target in self.active:
                    out.append(ir.ZeroList(stmt.target))
                    self.contributions[stmt.target] = [out[-1]]
            elif isinstance(stmt, ir.Item) and stmt.target in self.lists and stmt.target in self.active:
                out.append(ir.RowAdjoint(stmt.target, stmt.seq, stmt.index))  # row = A[i]: A_bar[i]
                self.contributions[stmt.target] = [out[-1]]
        for stmt in reversed(stmts):
            if isinstance(stmt, ir.If):
                made = self.branch(stmt)
            elif isinstance(stmt, (ir.Length, ir.Raise)):
                made = []
            elif isinstance(stmt, ir.Item):
                made = self.item(stmt)
            elif isinstance(stmt, ir.Loop):
                made = self.loop(stmt)
            elif isinstance(stmt, ir.ArrayOp):
                made = self.array_op(stmt)
            elif isinstance(stmt, ir.LIST_STMTS):
                made = self.list_stmt(stmt)
            else:
                made = self.assign(stmt, top)
            if top:
                self.top.update(id(adj) for adj in made)
            out += made
        return out

    def assign(self, stmt: ir.Assign, top: bool) -> list[ir.Accumulate]:
        target = stmt.target
        if target not in self.active or (target != self.result and target not in self.contributions):
            return []  # reaches no output, or every path to it had a zero partial
        seed = target == self.result or target in self.unit
        adds = self.contributions.get(target, [])
        if not seed and len(adds) == 1 and id(adds[0]) in self.foldable:
            # `return expr` inside a branch: expr_bar = 1.0 needs no variable either
            self.folded.add(id(adds[0]))
            seed = True
        if not seed and top and self._is_one(self.contributions[target]):
            # target_bar = 1.0 exactly (e.g. `return v + w`): fold it in, as for the output
            self.folded.add(id(self.contributions[target][0]))
            seed = True
        made = []
        assigned_here: dict[int, ir.Value] = {}  # index -> operand whose adjoint this statement assigned
        # v_1 = v_1*(1 - dt*d) in a loop: the old value's adjoint last, so that it may be
        # the new value's variable, updated in place as the forward pass updates v_1 (see loop)
        head = self.head_of.get(target)
        order = sorted(range(len(stmt.args)), key=lambda i: stmt.args[i] == head) if head is not None \
            else range(len(stmt.args))
        for index in order:
            arg = stmt.args[index]
            if not isinstance(arg, ir.Value) or arg not in self.active or stmt.rule.zero[index]:
                continue
            if stmt.rule.undefined[index] or not stmt.shape.is_real:
                raise NotDifferentiable(f"the derivative of {_shown(stmt.loc)} is not a finite number: "
                                        + (stmt.shape.why_not_real() if not stmt.shape.is_real else
                                           "it is infinite or undefined for every input"),
                                        loc=stmt.loc, hint="this line fails, or has no derivative, wherever "
                                        "it runs: correct the expression")
            if (target, arg) in self.skip:
                continue  # s_1 = s + ...: s_bar = s_1_bar, the same variable (see _accumulators)
            # y_bar = -a_bar, the same product: not in NumPy code, where a_bar may have
            # been summed to a's shape, which need not be y's
            mirror = None if self.arrays else next(((assigned_here[j], sign) for j, sign in
                                                   stmt.rule.mirrors.get(index, ()) if j in assigned_here), None)
            acc = ir.Accumulate(arg, stmt, index, first=arg not in self.contributions, seed=seed, mirror=mirror)
            made.append(acc)
            if acc.first:
                assigned_here[index] = arg
            self.contributions.setdefault(arg, []).append(acc)
        return made

    def array_op(self, stmt: ir.ArrayOp) -> list:
        """A reduction, product or reshape: each active operand's adjoint by the op's rule."""
        target = stmt.target
        seed = target == self.result or target in self.unit
        if target not in self.active or (not seed and target not in self.contributions):
            return []
        made = []
        for index, arg in enumerate(stmt.args):
            if not isinstance(arg, ir.Value) or arg not in self.active or arg not in stmt.sources:
                continue
            acc = ir.ArrayAccumulate(arg, stmt, index, first=arg not in self.contributions, seed=seed)
            made.append(acc)
            self.contributions.setdefault(arg, []).append(acc)
        return made

    def item(self, stmt: ir.Item) -> list:
        """x = xs[i]: xs_bar[i] += x_bar."""
        seed = stmt.target == self.result or stmt.target in self.unit  # the element is the output: 1.0
        if stmt.target in self.lists:
            return []  # a row of a list of lists: its adjoint is A_bar's row itself (see block)
        if stmt.target not in self.active or stmt.seq not in self.active or \
                (stmt.target not in self.contributions and not seed):
            return []
        return [ir.ItemAccumulate(stmt.seq, stmt.index, stmt.target, seed=seed, field=stmt.field)]

    def list_stmt(self, stmt) -> list:
        """The reverse of building a list: each element's adjoint out of the list's."""
        if isinstance(stmt, (ir.Append, ir.SetItem)):
            if stmt.seq not in self.active:
                return []
            element = stmt.element if isinstance(stmt.element, ir.Value) and stmt.element in self.active else None
            # popped whether or not the element has an adjoint: seq_bar shrinks as seq grew;
            # a replaced position's adjoint starts again at 0 for the element it replaced
            index, clear = (stmt.index, True) if isinstance(stmt, ir.SetItem) else (None, False)
            made = ir.Unlist(element, stmt.seq, index, first=element is not None and element not in self.contributions,
                             clear=clear)
            if element is not None:
                self.contributions.setdefault(element, []).append(made)
            return [made]
        seed = stmt.target == self.result or stmt.target in self.unit
        if stmt.target not in self.active or (not seed and stmt.target not in self.contributions):
            return []
        if isinstance(stmt, ir.NewList):
            made = []
            for index, element in enumerate(stmt.elements):
                if isinstance(element, ir.Value) and element in self.active:
                    made.append(ir.Unlist(element, stmt.target, ir.Const(index), first=element not in self.contributions,
                                          period=len(stmt.elements) if stmt.times is not None else None))
                    self.contributions.setdefault(element, []).append(made[-1])
            return made
        if isinstance(stmt, ir.Slice):
            return [ir.SliceAccumulate(stmt)] if stmt.seq in self.active else []
        # the same list twice (sumprod(xs, xs)) adds both partials, one loop each
        return [ir.ListCallAccumulate(stmt, index, seed=seed) for index, seq in enumerate(stmt.seqs)
                if seq in self.active]

    def _is_one(self, contributions: list) -> bool:
        """True if an adjoint is one seeded contribution, in the outer block, whose partial is 1."""
        if len(contributions) != 1 or not isinstance(contributions[0], ir.Accumulate):
            return False
        acc = contributions[0]
        return acc.seed and id(acc) in self.top and acc.site.rule.partials[acc.index] == 1

    def branch(self, stmt: ir.If) -> list[ir.BackIf]:
        before, implicit = self.contributions, self.implicit
        sides = []
        for pick, block in ((lambda m: m.then, stmt.then), (lambda m: m.orelse, stmt.orelse)):
            self.contributions = {value: list(adds) for value, adds in before.items()}
            self.implicit = set(implicit)
            out: list = []
            for merge in stmt.merges:  # the merges ran last in the branch: reverse them first
                source, operand = merge.target, pick(merge)
                if source not in self.active or (source != self.result and source not in self.contributions):
                    continue
                if not isinstance(operand, ir.Value) or operand not in self.active:
                    continue
                flow = ir.Flow(operand, source, first=operand not in self.contributions,
                               seed=source == self.result)
                if source in self.head_of and operand != self.head_of[source]:
                    self.head_of[operand] = self.head_of[source]  # emit may print both under one name
                if flow.seed and flow.first and any(isinstance(s, ir.Assign) and s.target == operand for s in block):
                    self.foldable.add(id(flow))  # only on this side is operand_bar 1.0: fold it here
                out.append(flow)
                self.contributions.setdefault(operand, []).append(flow)
            out += self.block(block, top=False)
            sides.append((out, self.contributions, self.implicit))
        (then_out, then_adds, then_implicit), (else_out, else_adds, else_implicit) = sides
        # Values made inside the branch are never read again in the sweep; only
        # adjoints of values from before it must exist after it on both paths.
        inside = {item.target for item in ir.walk((stmt,))}
        else_out += [self.unmade(v, else_implicit) for v in then_adds if v not in else_adds and v not in inside]
        then_out += [self.unmade(v, then_implicit) for v in else_adds if v not in then_adds and v not in inside]
        # what either side added: an adjoint one side adds to is not a single contribution
        # (folding it as one would drop the `+=` on that side)
        self.contributions = {}
        for adds in (else_adds, then_adds):
            for value, made in adds.items():
                known = self.contributions.setdefault(value, [])
                known += [add for add in made if not any(add is seen for seen in known)]
        self.implicit = then_implicit & else_implicit
        if not then_out and not else_out:
            return []
        return [ir.BackIf(stmt.cond, tuple(then_out), tuple(else_out))]

    def unmade(self, value: ir.Value, implicit: set[ir.Value]):
        """The adjoint of `value` on a path that gave it none: 0.0, but 1.0 for
        the output while it is implicit there (a loop in the other side made
        its adjoint a variable)."""
        if value in implicit:
            return ir.Flow(value, value, first=True, seed=True)
        return ir.Zero(value)

    def loop(self, stmt: ir.Loop) -> list:
        """for i in reversed(range(...)): restore this iteration's values, pass each
        head's adjoint to its update, start the head's adjoint afresh, sweep the body."""
        heads = [carry.head for carry in stmt.carried if carry.head in self.active]
        inside = {item.target for item in ir.walk(stmt.body)}
        outside = []  # active values from before the loop that the body reads: summed over iterations
        for item in ir.walk(stmt.body):
            for source in item.sources:
                if isinstance(source, ir.Value) and source in self.active and source not in inside \
                        and source not in heads and source != stmt.index and source not in outside \
                        and item is not stmt.cond:
                    outside.append(source)
        before: list = []
        for value in heads + outside:  # their adjoints are added to in every iteration
            if value not in self.contributions:
                # the loop's last value may be the output itself: its adjoint starts at 1
                start = ir.Flow(value, value, first=True, seed=True) if value == self.result else ir.Zero(value)
                before.append(start)
                self.contributions[value] = [start]
            self.implicit.discard(value)  # a variable from here on, started afresh each iteration if a head
        body: list = []
        accumulators = _accumulators(stmt, heads)
        for carry in stmt.carried:
            if carry.head in accumulators:  # s += ...: s_bar is the same in every iteration
                self.contributions[carry.update] = self.contributions[carry.head]
                self.skip.add((carry.update, carry.head))
                start = self.contributions[carry.head]
                if len(start) == 1 and isinstance(start[0], ir.Flow) and start[0].seed and start[0] in before:
                    # the returned sum: nothing in the body adds to its adjoint, so it stays 1.0
                    # and needs no variable: its contributions are the bare partials
                    self.unit.update((carry.head, carry.update))
                    before.remove(start[0])
            elif carry.head in heads and carry.update in self.active:
                flow = ir.Flow(carry.update, carry.head, first=True, seed=False)
                body.append(flow)
                self.contributions[carry.update] = [flow]
        for head in heads:  # this iteration's own contributions start afresh: the first one assigns
            if head not in accumulators:
                del self.contributions[head]
        self.head_of.update((carry.update, carry.head) for carry in stmt.carried if carry.head in heads)
        body += self.block(stmt.body, top=False)
        passed = _pass_through(stmt, body, accumulators)
        body = [adj for adj in body if id(adj) not in passed]
        in_place = set() if self.arrays else _in_place(stmt, body, accumulators, set(passed.values()))
        for head in heads:
            if head not in self.contributions:  # no path through the body added to it
                body.append(ir.Zero(head))
                self.contributions[head] = [body[-1]]
        after = []
        for carry in stmt.carried:  # zero iterations: the head's adjoint is the init's
            init = carry.init
            if carry.head in heads and isinstance(init, ir.Value) and init in self.active:
                flow = ir.Flow(init, carry.head, first=init not in self.contributions,
                               seed=carry.head in self.unit)
                after.append(flow)
                self.contributions.setdefault(init, []).append(flow)
        tape, recompute = _recompute(stmt, _tape(stmt, body, self.arrays), self.built)
        aliases = tuple((carry.update, carry.head) for carry in stmt.carried
                        if carry.head in accumulators or carry.update in passed.values() or carry.update in in_place)
        if not body:
            return before + after  # no adjoint flows through any iteration
        return before + [ir.BackLoop(stmt, tape, tuple(body), aliases, recompute)] + after


def _pass_through(stmt: ir.Loop, body: list, accumulators: set) -> dict[int, ir.Value]:
    """Flows `u_bar = v_bar` whose head v next gets exactly `v_bar = u_bar`
    (the update u = v + ..., partial 1) before anything else touches v_bar:
    with one variable for both, the pair is a no-op. Returns ids of the
    adjoint statements to drop, mapped to the update they alias."""
    dropped: dict[int, ir.Value] = {}
    for carry in stmt.carried:
        if carry.head in accumulators:
            continue
        flow = next((adj for adj in body if isinstance(adj, ir.Flow) and adj.operand == carry.update
                     and adj.source == carry.head), None)
        if flow is None:
            continue
        touching = [adj for adj in body if adj is not flow and carry.head in _adjoints_written(adj)]
        if not touching:
            continue
        first = touching[0]
        if (isinstance(first, ir.Accumulate) and first.site.target == carry.update and first.first
                and first.mirror is None and first.site.rule.partials[first.index] == 1):
            dropped[id(flow)] = carry.update
            dropped[id(first)] = carry.update
    return dropped


def _in_place(stmt: ir.Loop, body: list, accumulators: set, passed: set) -> set[ir.Value]:
    """Updates whose adjoint can be their head's variable: the forward pass
    writes `v_1 = v_1*(1 - dt*d)` into one variable, and the sweep then reads
    `v_1_bar = (1 - dt*d)*v_1_bar`, not `v_2_bar = v_1_bar; v_1_bar =
    (1 - dt*d)*v_2_bar`. One variable serves both if, after the flow
    `u_bar = v_bar` that starts the iteration, nothing touches u_bar once
    v_bar has been assigned afresh, on every path through the body."""
    out = set()
    for carry in stmt.carried:
        if carry.head in accumulators or carry.update in passed:
            continue
        flows = [adj for adj in body if isinstance(adj, ir.Flow) and adj.operand == carry.update]
        if len(flows) != 1 or flows[0].source != carry.head or not flows[0].first or flows[0].seed:
            continue
        if _head_after_update(body, flows[0], {carry.update}, carry.head, False) is not None:
            out.add(carry.update)
    return out


def _head_after_update(stmts, flow, update: set, head: ir.Value, started: bool) -> bool | None:
    """Walks `stmts` in order: whether head_bar has been assigned afresh
    (`started`) after them, or None where u_bar or head_bar is read or added
    to where one variable for both would give another number. `update` holds
    u and what a merge hands u's adjoint to (`m_2_bar = m_3_bar`), which emit
    may print under u's name."""
    for adj in stmts:
        if adj is flow:
            continue
        if isinstance(adj, ir.BackIf):
            then = _head_after_update(adj.then, flow, update, head, started)
            orelse = _head_after_update(adj.orelse, flow, update, head, started)
            if then is None or orelse is None:
                return None
            started = then or orelse
            continue
        if isinstance(adj, ir.BackLoop):
            if (update | {head}) & ({v for pair in adj.aliases for v in pair} |
                                    {v for inner in ir.walk_adjoints(adj.body) for v in _touched(inner)}):
                return None
            continue
        touched = _touched(adj)
        if update & touched and started:
            return None
        if isinstance(adj, ir.Flow) and adj.first and not adj.seed and adj.source in update and adj.operand != head:
            update.add(adj.operand)
        if head in touched:
            if started:
                continue  # head_bar's own contributions, after it started
            if head not in _starts(adj) or head in _adjoints_read(adj):
                return None
            started = True
    return started


def _starts(adj) -> set[ir.Value]:
    """The adjoints an adjoint statement assigns afresh (not adds to)."""
    if isinstance(adj, (ir.Accumulate, ir.Flow)) and adj.first or isinstance(adj, ir.Zero):
        return {adj.operand}
    return set()


def _adjoints_read(adj) -> set[ir.Value]:
    """The adjoints one adjoint statement reads (its operand's own, if it adds to it)."""
    read = set()
    if isinstance(adj, ir.Accumulate):
        read |= set() if adj.seed else {adj.site.target}
        read |= {adj.mirror[0]} if adj.mirror else set()
    elif isinstance(adj, (ir.ArrayAccumulate, ir.SliceAccumulate, ir.ListCallAccumulate)):
        read |= set() if getattr(adj, "seed", False) else {adj.site.target}
    elif isinstance(adj, (ir.Flow, ir.ItemAccumulate)):
        read |= set() if adj.seed else {adj.source}
    elif isinstance(adj, (ir.Unlist, ir.RowAdjoint)):
        read.add(adj.seq)
    if not _starts(adj) and getattr(adj, "operand", None) is not None:
        read.add(adj.operand)  # += reads it
    return read


def _touched(adj) -> set[ir.Value]:
    """Every adjoint an adjoint statement reads or writes."""
    written = {getattr(adj, field) for field in ("operand", "seq", "row")
               if isinstance(getattr(adj, field, None), ir.Value)}
    return written | _adjoints_read(adj)


def _adjoints_written(adj) -> set[ir.Value]:
    return {inner.operand for inner in ir.walk_adjoints([adj])
            if isinstance(inner, (ir.Accumulate, ir.ArrayAccumulate, ir.Flow, ir.Zero, ir.Unlist))}


def _accumulators(stmt: ir.Loop, heads: list[ir.Value]) -> set[ir.Value]:
    """Heads of the `s += term` kind: the body reads the head only in the
    statement that makes its update, with partial 1, and nothing else reads
    the update. Then the head's adjoint is the update's in every iteration,
    so both can be one variable and the sweep needs no copies for it."""
    out = set()
    items = list(ir.walk(stmt.body))
    for carry in stmt.carried:
        if carry.head not in heads:
            continue
        makers = [s for s in stmt.body if isinstance(s, ir.Assign) and s.target == carry.update]
        readers_of_head = [item for item in items if carry.head in item.sources]
        readers_of_update = [item for item in items if carry.update in item.sources]
        if len(makers) != 1 or readers_of_head != makers or readers_of_update:
            continue
        maker = makers[0]
        if [maker.rule.partials[i] for i, arg in enumerate(maker.args) if arg == carry.head] == [1]:
            out.add(carry.head)
    return out


def _tape(stmt: ir.Loop, body: list, arrays: bool = False) -> tuple:
    """What each reverse iteration must restore: the values of this iteration
    (made in the body, or a head at its start) that the reverse body reads."""
    own = [carry.head for carry in stmt.carried]
    if stmt.exit is not None and stmt.index is not None:  # a loop left early: its indices are not a range
        own.append(stmt.index)
    own += _made_here(stmt.body)
    read = _reads(body, arrays)
    tape = [value for value in own if value in read]
    for adj in ir.walk_adjoints(body):
        if isinstance(adj, ir.Accumulate) and adj.site.rule.temps and adj.site.rule.needs[adj.index][1] \
                and adj.site.target in own:
            for index in range(len(adj.site.rule.temps)):
                if (adj.site.target, index) not in tape:
                    tape.append((adj.site.target, index))
    return tuple(tape)


def _made_here(stmts) -> list[ir.Value]:
    """The values `stmts` make, in branches too, but not inside a loop's body
    (that loop's own tape restores those): a nested loop gives its heads and
    its count, the values it leaves behind."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.If):
            out += _made_here(stmt.then) + _made_here(stmt.orelse) + [merge.target for merge in stmt.merges]
        elif isinstance(stmt, ir.Loop):
            out += [carry.head for carry in stmt.carried] + ([stmt.count] if stmt.count is not None else [])
        else:
            out.append(stmt.target)
    return out


def _recompute(stmt: ir.Loop, tape: tuple, built: set = frozenset()) -> tuple[tuple, tuple]:
    """Split what the sweep needs into what the forward loop stores and what the
    sweep recomputes: a statement of the body made of a few arithmetic operations
    on values from before the loop, the index, or what is stored anyway, is
    cheaper to run again than to store (a float on the tape costs 32 bytes);
    so is an element of a list parameter, xs[i] (not of a list the function
    builds: it may have grown since, and xs[-1] would be another element).
    Returns the tape left and the statements to rerun, in body order."""
    made = {item.target for item in ir.walk(stmt.body)} | {carry.head for carry in stmt.carried} | {stmt.index}
    made |= {carry.head for inner in ir.walk(stmt.body) if isinstance(inner, ir.Loop) for carry in inner.carried}
    updates = {carry.update for carry in stmt.carried}
    available = {item for item in tape if isinstance(item, ir.Value)}
    if stmt.count is None and stmt.index is not None:
        available.add(stmt.index)  # the reversed range gives it back
    wanted = {item if isinstance(item, ir.Value) else item[0] for item in tape}
    redoable: dict[ir.Value, tuple] = {}  # target -> (statement, what it reads) for cheap statements
    for inner in stmt.body:
        if inner.__class__ not in (ir.Assign, ir.Item) or inner.target in updates or \
                (isinstance(inner, ir.Item) and inner.seq in built):
            continue
        if isinstance(inner, ir.Item):  # x = xs[i]: read the list again
            cheap, reads = True, (inner.seq, inner.index)
        else:
            cheap, reads = _cheap(inner.shape.tree), inner.args
        if cheap and all(arg in available or arg not in made or arg in redoable
                         for arg in reads if isinstance(arg, ir.Value)):
            redoable[inner.target] = (inner, reads)
    chosen: set[ir.Value] = set()
    for inner in stmt.body:  # each wanted value, with the few unwanted ones it is made from
        if getattr(inner, "target", None) not in wanted or inner.target not in redoable:
            continue
        chain, todo = set(), [inner.target]
        while todo:
            value = todo.pop()
            if value in chain or value in chosen:
                continue
            chain.add(value)
            todo += [arg for arg in redoable[value][1] if arg in redoable and arg not in available]
        if len(chain - wanted) <= _EXTRA_REDONE:
            chosen |= chain
        else:
            available.add(inner.target)  # stays on the tape
    recompute = [inner for inner in stmt.body if getattr(inner, "target", None) in chosen
                 and inner.__class__ in (ir.Assign, ir.Item)]
    again = {inner.target for inner in recompute}
    kept = tuple(item for item in tape if (item if isinstance(item, ir.Value) else item[0]) not in again)
    return kept, tuple(recompute)


_EXTRA_REDONE = 2  # statements the sweep may redo only to recompute a wanted value


def _cheap(tree: tuple) -> bool:
    """A few additions, multiplications, abs, small integer powers or
    comparisons: cheaper to redo than to store."""
    operations = 0
    todo = [tree]
    while todo:
        node = todo.pop()
        kind = node[0]
        if kind in mathlib.LEAVES:
            continue
        if kind == "bin" and node[1] == "**":
            if not (node[3][0] == "num" and node[3][1] in (2, 3)):
                return False
        elif not (kind in ("neg", "pos", "cmp", "chain", "and", "or", "not")
                  or (kind == "bin" and node[1] in ("+", "-", "*")) or (kind == "call" and node[1] == "abs")):
            return False
        operations += 1
        todo += mathlib.children(node)
    return operations <= _CHEAP_OPS


_CHEAP_OPS = 6


def _reads(adjoints, arrays: bool = False) -> set[ir.Value]:
    """The forward values that adjoint statements read. In NumPy code an
    accumulation may also read its operand, for its shape (`_sum_to(g, b)`)."""
    read = set()
    for adj in ir.walk_adjoints(adjoints):
        if isinstance(adj, ir.BackIf):
            read.add(adj.cond)
        elif isinstance(adj, ir.BackLoop):
            read.update(b for b in adj.loop.bounds if isinstance(b, ir.Value))
            if adj.loop.count is not None:
                read.add(adj.loop.count)
            read.update(arg for stmt in adj.recompute for arg in ir.reads(stmt) if isinstance(arg, ir.Value))
        elif isinstance(adj, ir.ItemAccumulate) and isinstance(adj.index, ir.Value):
            read.add(adj.index)
        elif isinstance(adj, ir.ZeroList):
            read.add(adj.seq)  # its length: a list built in a loop's body is taped
        elif isinstance(adj, (ir.RowAdjoint, ir.Unlist)) and isinstance(adj.index, ir.Value):
            read.add(adj.index)
        elif isinstance(adj, ir.SliceAccumulate):
            read.update(bound for bound in adj.site.bounds if isinstance(bound, ir.Value))
        elif isinstance(adj, ir.ListCallAccumulate) and adj.site.fn != "fsum":
            read.update(adj.site.seqs)  # sumprod reads the other list; dist both, and its value
            read.add(adj.site.target)
        elif isinstance(adj, ir.ArrayAccumulate):  # a rule may read any operand, and the result
            read.update(arg for arg in adj.site.args if isinstance(arg, ir.Value))
            read.add(adj.site.target)
        elif isinstance(adj, ir.Accumulate):
            if arrays:
                read.add(adj.operand)
            operands, _ = adj.site.rule.needs[adj.index]
            read.update(adj.site.args[i] for i in operands if isinstance(adj.site.args[i], ir.Value))
            if ir.RESULT in adj.site.rule.symbols[adj.index]:
                read.add(adj.site.target)
    return read


def _varied(function: ir.Function, wrt: tuple[ir.Value, ...]) -> set[ir.Value]:
    """Values that depend on a differentiated parameter (to a fixed point: loops carry)."""
    varied = set(wrt)
    items = list(ir.walk(function.body))
    while True:
        size = len(varied)
        for item in items:
            if any(source in varied for source in item.sources if isinstance(source, ir.Value)):
                varied.add(item.target)
                if isinstance(item, (ir.Append, ir.SetItem)):
                    varied.add(item.seq)  # the list holds a varied element now
        if len(varied) == size:
            return varied


def _useful(function: ir.Function) -> set[ir.Value]:
    """Values the result depends on (to a fixed point: loops carry)."""
    useful = {function.result} if isinstance(function.result, ir.Value) else set()
    items = list(ir.walk(function.body))[::-1]
    while True:
        size = len(useful)
        for item in items:
            if item.target in useful or (isinstance(item, (ir.Append, ir.SetItem)) and item.seq in useful):
                useful.update(source for source in item.sources if isinstance(source, ir.Value))
        if len(useful) == size:
            return useful


def _maybe_unbound(function: ir.Function) -> frozenset[ir.Value]:
    """Values that may have no value: a loop head with nothing before the loop,
    a merge of a side that assigned nothing, and what copies them on."""
    out: set[ir.Value] = set()
    items = list(ir.walk(function.body))
    while True:
        size = len(out)
        for item in items:
            if isinstance(item, ir.Carry):
                if item.init is ir.UNBOUND or item.init in out or item.update in out:
                    out.add(item.head)
            elif isinstance(item, ir.Merge):
                if any(side is ir.UNBOUND or side in out for side in (item.then, item.orelse)):
                    out.add(item.target)
            elif isinstance(item, ir.Assign) and item.shape.tree == ("arg", 0) and item.args[0] in out:
                out.add(item.target)  # a copy
        if len(out) == size:
            return frozenset(out)
