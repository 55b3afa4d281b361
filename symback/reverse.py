"""ir.Function with rules -> ir.Gradient: activity analysis and the reverse sweep.

A value needs an adjoint only if it is *varied* (depends on a
differentiated parameter) and *useful* (reaches the result). The sweep
visits the statements last first; for each active statement and each
active operand it adds partial * adjoint to the operand's adjoint, the
first contribution assigning and later ones (fan-out) adding:

    for stmt in reversed(body):            # backpropagation: the chain rule,
        for operand, partial in stmt:      # one edge at a time
            operand_bar += partial * stmt_bar

Without the value, the forward pass keeps only what the sweep reads.
"""

from __future__ import annotations

from . import ir


def reverse(function: ir.Function, wrt: tuple[ir.Value, ...], with_value: bool) -> ir.Gradient:
    """The forward statements and adjoint accumulations for `function`."""
    result = function.result if isinstance(function.result, ir.Value) else None
    active = _varied(function, wrt) & _useful(function)

    backward: list[ir.Accumulate] = []
    has_adjoint: dict[ir.Value, list[ir.Accumulate]] = {}  # value -> contributions to its adjoint
    folded: set[int] = set()  # ids of `v_bar = 1.0` lines made unnecessary
    for stmt in reversed(function.body):
        target = stmt.target
        if target not in active or (target != result and target not in has_adjoint):
            continue  # reaches no output, or every path to it had a zero partial
        seed = target == result
        if not seed and _is_one(has_adjoint[target]):
            # target_bar = 1.0 exactly (e.g. `return v + w`): fold it in, as for the output
            folded.add(id(has_adjoint[target][0]))
            seed = True
        assigned_here: dict[int, ir.Value] = {}  # index -> operand whose adjoint this statement assigned
        for index, arg in enumerate(stmt.args):
            if not isinstance(arg, ir.Value) or arg not in active or stmt.rule.partials[index] == 0:
                continue
            mirror = next(((assigned_here[j], sign) for j, sign in stmt.rule.mirrors.get(index, ())
                           if j in assigned_here), None)
            acc = ir.Accumulate(arg, stmt, index, first=arg not in has_adjoint, seed=seed, mirror=mirror)
            backward.append(acc)
            if acc.first:
                assigned_here[index] = arg
            has_adjoint.setdefault(arg, []).append(acc)

    backward = [acc for acc in backward if id(acc) not in folded]
    unit = result if result in wrt else None
    zero = frozenset(p for p in wrt if p not in has_adjoint and p != unit)
    forward, unused = _forward(function, backward, with_value)
    return ir.Gradient(function, forward, unused, tuple(backward), wrt, zero, unit, with_value)


def _is_one(contributions: list[ir.Accumulate]) -> bool:
    """True if an adjoint is a single seeded contribution whose partial is 1."""
    if len(contributions) != 1 or not contributions[0].seed:
        return False
    acc = contributions[0]
    return acc.site.rule.partials[acc.index] == 1


def _varied(function: ir.Function, wrt: tuple[ir.Value, ...]) -> set[ir.Value]:
    varied = set(wrt)
    for stmt in function.body:
        if any(arg in varied for arg in stmt.args if isinstance(arg, ir.Value)):
            varied.add(stmt.target)
    return varied


def _useful(function: ir.Function) -> set[ir.Value]:
    useful = {function.result} if isinstance(function.result, ir.Value) else set()
    for stmt in reversed(function.body):
        if stmt.target in useful:
            useful.update(arg for arg in stmt.args if isinstance(arg, ir.Value))
    return useful


def _forward(function: ir.Function, backward: list[ir.Accumulate], with_value: bool):
    """The statements to run before the sweep, and those run only for temps.

    A statement runs if its value is read (by the sweep, by a later statement
    that runs, or as the returned value) or if the sweep reads its temps.
    """
    read: set[ir.Value] = set()     # values whose own value someone reads
    run: set[ir.Value] = set()      # statements (by target) that must run
    if with_value and isinstance(function.result, ir.Value):
        read.add(function.result)
    for acc in backward:
        operands, needs_stmt = acc.site.rule.needs[acc.index]
        read.update(acc.site.args[i] for i in operands if isinstance(acc.site.args[i], ir.Value))
        if needs_stmt:
            run.add(acc.site.target)
            if ir.RESULT in acc.site.rule.partials[acc.index].free_symbols:
                read.add(acc.site.target)
    kept = []
    for stmt in reversed(function.body):
        if stmt.target in read or stmt.target in run:
            kept.append(stmt)
            read.update(arg for arg in stmt.args if isinstance(arg, ir.Value))
    kept.reverse()
    unused = frozenset(stmt.target for stmt in kept if stmt.target not in read)
    return tuple(kept), unused
