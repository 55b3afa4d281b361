"""Whole-list builtins as the user wrote them: `max(ys)`, `sum(w * x for x in xs)`.

parse lowers `max(ys)`, `min(ys)`, `sum(...)`, `math.prod(...)`, `math.fsum` of a
generator, `any(...)` and `all(...)` into the loop Python runs, with values of
its own (`_best1`, `_seen1`, `_item1`, `_total1`, `_found1`, the list `_list1`
of a generator, the empty-list check). A student wrote one call: this module
finds the statements of each such loop (a *fold*) so that the table shows it
as one row, named as written, with one edge per value it reads.

A fold is recognised by the names parse gives its values (never a name the
source mentions: parse's names avoid those) and by where its statements sit:
the statements that start its loop variables, the loop, and what reads only
its bookkeeping after it (the empty-list check of max and min, the call to
math.fsum of the generator's list). numbers.py runs a fold's statements as
they are and keeps only the fold's value, with the partials of that value
by each number it reads (the chain rule through the loop, at the point).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .. import ir

# the running value of each lowered builtin (parse_exprs.py), and the calls it may come from
_ACCUMULATORS = (
    (re.compile(r"_best\d+"), ("max", "min")),
    (re.compile(r"_total\d+"), ("sum",)),
    (re.compile(r"sum_\w+"), ("sum",)),
    (re.compile(r"_product\d+"), ("prod",)),
    (re.compile(r"_found\d+"), ("any",)),
    (re.compile(r"_every\d+"), ("all",)),
)
_GENERATED_LIST = re.compile(r"_list\d+")  # the list of a generator handed to math.fsum


@dataclass(frozen=True, eq=False)
class Fold:
    """One builtin call over a list, lowered by parse into `stmts` (consecutive in one block)."""

    result: ir.Value          # the call's value
    fn: str                   # max, min, sum, prod, fsum, any, all
    call: str                 # the call as written: "max(ys)", "math.fsum(w * x for x in xs)"
    stmts: tuple              # the statements parse made for it, in order
    loop: ir.Loop
    seq: str | None = None    # the list's name when the call is of a whole list: max(ys)
    element: str | None = None  # the generator's element as written: "w * x"
    variable: str | None = None  # the generator's variable: "x"
    early: tuple = ()         # first values set before other statements came between (sum's 0 before a slice)

    @property
    def made(self) -> set[ir.Value]:
        """Every value the fold's statements make (its result among them)."""
        out = set()
        for stmt in self.stmts + self.early:
            if isinstance(stmt, (ir.If, ir.Loop)):
                out |= {item.target for item in ir.walk((stmt,))}
                if isinstance(stmt, ir.Loop) and stmt.index is not None:
                    out.add(stmt.index)
            elif hasattr(stmt, "target"):
                out.add(stmt.target)
            if isinstance(stmt, (ir.Append, ir.NewList)):
                out.add(stmt.target)
        return out


def find(function: ir.Function) -> list[Fold]:
    """The folds of `function`, in program order, in any block."""
    out: list[Fold] = []
    _scan(function.body, function.reserved, out)
    return out


def _ours(value, reserved) -> bool:
    return isinstance(value, ir.Value) and value.ident not in reserved and value.name not in reserved


def _scan(stmts, reserved, out: list[Fold]) -> None:
    stmts = tuple(stmts)
    taken: set[int] = set()
    for k, stmt in enumerate(stmts):
        if isinstance(stmt, ir.If):
            _scan(stmt.then, reserved, out)
            _scan(stmt.orelse, reserved, out)
        elif isinstance(stmt, ir.Loop):
            fold = _fold_at(stmts, k, reserved, taken)
            if fold is None:
                _scan(stmt.body, reserved, out)
            else:
                out.append(fold)


def _fold_at(stmts: tuple, k: int, reserved, taken: set[int]) -> Fold | None:
    loop = stmts[k]
    head = _head(loop.loc.text)
    if head.startswith(("for ", "while ")):
        return None  # the user's own loop
    fns, result = None, None
    for carry in loop.carried:
        for pattern, calls in _ACCUMULATORS:
            if pattern.fullmatch(carry.head.name) and _ours(carry.head, reserved):
                fns, result = calls, carry.head
                break
        if result is not None:
            break
    inits = {c.init for c in loop.carried if _ours(c.init, reserved)}
    start = k
    while start > 0 and start - 1 not in taken and _starts_it(stmts[start - 1], inits, reserved):
        start -= 1
    end = k + 1
    if result is None:  # math.fsum(e for x in xs): a list of the elements, then math.fsum of it
        made = [s.target for s in stmts[start:k] if isinstance(s, ir.NewList) and
                _GENERATED_LIST.fullmatch(s.target.ident) and _ours(s.target, reserved)]
        if not made or k + 1 >= len(stmts) or not isinstance(stmts[k + 1], ir.ListCall) or \
                stmts[k + 1].seqs != (made[0],):
            return None
        fns, result, end = (stmts[k + 1].fn,), stmts[k + 1].target, k + 2
    else:
        bookkeeping = {c.head for c in loop.carried}
        while end < len(stmts) and _checks(stmts[end], bookkeeping, reserved):
            if isinstance(stmt := stmts[end], ir.Assign):
                bookkeeping.add(stmt.target)
            end += 1
    call = _call(loop.loc, fns)
    if call is None:
        return None
    taken.update(range(start, end))
    covered = {s.target for s in stmts[start:k] if isinstance(s, ir.Assign)}
    early = tuple(s for s in stmts[:start] if isinstance(s, ir.Assign) and s.target in inits
                  and s.target not in covered)
    node, text = call
    arg = node.args[0] if node.args else None
    seq = element = variable = None
    if isinstance(arg, ast.Name):
        seq = arg.id
    elif isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
        element = ast.unparse(arg.elt)
        if len(arg.generators) == 1 and isinstance(arg.generators[0].target, ast.Name):
            variable = arg.generators[0].target.id
    fn = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
    return Fold(result, fn, text, stmts[start:end], loop, seq, element, variable, early)


def _starts_it(stmt, inits, reserved) -> bool:
    """A statement before the loop that only sets up the fold: its variables' first values, a length."""
    if isinstance(stmt, ir.Assign):
        return stmt.target in inits
    if isinstance(stmt, ir.NewList):
        return _GENERATED_LIST.fullmatch(stmt.target.ident) is not None and _ours(stmt.target, reserved)
    if isinstance(stmt, ir.Length):
        return _ours(stmt.target, reserved) and stmt.target.name not in _words(stmt.loc.text)
    return False


def _checks(stmt, bookkeeping: set, reserved) -> bool:
    """After the loop: the empty-list check of max() and min() (a test of the seen flag, and its raise)."""
    if isinstance(stmt, ir.Assign):
        return _ours(stmt.target, reserved) and stmt.target.name == "_cond" and \
            bool(stmt.args) and all(a in bookkeeping or isinstance(a, ir.Const) for a in stmt.args)
    if isinstance(stmt, ir.If):
        return stmt.cond in bookkeeping and not stmt.merges and \
            all(isinstance(s, ir.Raise) for s in stmt.then) and not stmt.orelse
    return False


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]\w*", text))


def _head(text: str) -> str:
    from .model import statement_head
    return statement_head(text)


def _call(loc, fns: tuple[str, ...]) -> tuple[ast.Call, str] | None:
    """The call on the source line around the span parse lowered (the call's argument)."""
    text = loc.text
    stripped = text.lstrip()
    indent = len(text) - len(stripped)
    head = _head(text)
    source = head
    if head.startswith("elif "):
        source = head[2:]
        indent += 2
    if source.endswith(":"):
        source += "\n    pass"
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    best = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or node.end_lineno != 1 or node.lineno != 1:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name not in fns:
            continue
        lo, hi = node.col_offset + indent, node.end_col_offset + indent
        if lo <= loc.col and (loc.end_col is None or loc.end_col <= hi):
            if best is None or hi - lo < best[1] - best[0]:
                best = (lo, hi, node)
    if best is None:
        return None
    return best[2], text[best[0]:best[1]]
