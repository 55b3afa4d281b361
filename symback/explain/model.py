"""The rows explain shows, built from the IR: one per value the student wrote,
in source order, grouped under the loops and branches that hold them.

Each row is a value with its definition as written and the local partial on
each edge into it. What parse adds to run the code is left out or named in
the user's terms: the `len()` and `zip` bookkeeping of a loop (its heading
is the user's own `for x, y in zip(xs, ys):`), a branch's test (its heading
is the user's `if abs(r) <= d:`), and an element read inside an expression
(shown as `ws[i]`, with `i` the loop's own index or a letter for its
iterations). A helper's rows carry the chain of calls that led to them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import sympy as sp

from .. import ir
from ..derive import is_condition
from . import folds, notation

_LETTERS = "ijklmnpqrs"  # for the iterations of a loop with no index of the user's


@dataclass(frozen=True)
class _Edge:
    target: ir.Value
    operand: ir.Value
    partial: sp.Expr                 # as the generated code computes it
    textbook: sp.Expr | None = None  # the plain derivative, where derive rewrote it
    element: str | None = None       # an edge from a list's element: its index as shown ("i", "0", "i][0")


@dataclass(frozen=True)
class _Row:
    """One line of the table: a value (with its edges) or a structure line."""

    depth: int
    line: int
    target: ir.Value | None = None
    definition: object = None        # sp.Expr, or text for lists and merges
    edges: tuple[_Edge, ...] = ()
    heading: str = ""                # "for x, y in zip(xs, ys):", "if abs(r) <= d:", "else:"
    calls: tuple[tuple[str, int], ...] = ()  # from an inlined helper: (helper, line of the call), outermost first
    kind: str = "value"              # value, condition, merge, carry, list, raise; for headings: if, elif, else, loop
    shown: str = ""                  # the definition as the user wrote it, in the table's names
    shown_latex: str = ""            # the same in LaTeX
    stmt: object = None              # the IR statement (the If or Loop of a heading)
    loops: tuple = ()                # the loops around the row, outermost first
    branches: tuple = ()             # (If, side taken) around the row, outermost first


def words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]\w*", text))


def statement_head(text: str) -> str:
    """A source line without its comment: `for _ in range(6):  # few` -> `for _ in range(6):`."""
    stripped = text.strip()
    for at in [m.start() for m in re.finditer("#", stripped)]:
        before = stripped[:at].rstrip()
        try:
            ast.parse(before + "\n    pass" if before.endswith(":") else before)
            return before
        except SyntaxError:
            continue
    return stripped


class Model:
    """The rows of a function's explanation; `name(value)` is how a value is shown."""

    def __init__(self, function: ir.Function, names: dict[ir.Value, str]):
        self.function = function
        self.names = names
        self.rows: list[_Row] = []
        self.indices: set[ir.Value] = set()  # loop indices, lengths, counts: they steer, no gradient flows
        self.letters: dict[int, str] = {}    # id(loop) -> the letter its iterations are counted by
        self.index_names: dict[ir.Value, str] = {}  # a loop's index -> that letter
        self.conditions: dict[ir.Value, ir.Assign] = {}  # a branch's test value -> its statement
        self.hidden: set[ir.Value] = set()
        self.used_letters: set[str] = set()
        # max(ys), sum(w * x for x in xs), any(...): the loops parse made for them, one row each
        self.folds = folds.find(function)
        self.fold_at = {id(fold.stmts[0]): fold for fold in self.folds}
        self.folded = {id(stmt) for fold in self.folds for stmt in fold.stmts}
        for fold in self.folds:
            self.names.setdefault(fold.result, fold.call)
        self._scan(function.body, ())
        self._name_comprehension_elements()
        self._hide_bookkeeping()
        for fold in self.folds:
            self.hidden |= fold.made - {fold.result}
        self.rows = self._block(function.body, 0, (), ())

    def name(self, value) -> str:
        if isinstance(value, ir.Const):
            return notation.float_text(value.value) if isinstance(value.value, float) else str(value.value)
        if value is ir.UNBOUND:
            return "(unassigned)"
        return self.names.get(value, value.ident)

    # --- what to hide, and the letters of loops ---------------------------------

    def _scan(self, stmts, outer: tuple[str, ...]) -> None:
        reads_of_ifs = {stmt.cond for stmt in stmts if isinstance(stmt, ir.If)}
        for stmt in stmts:
            if isinstance(stmt, ir.Length):
                self.indices.add(stmt.target)
                if stmt.target.name not in words(stmt.loc.text):
                    self.hidden.add(stmt.target)
                    self.names.setdefault(stmt.target, f"len({self.name(stmt.seq)})")  # as the user wrote it
            elif isinstance(stmt, ir.Assign):
                if stmt.target in reads_of_ifs and stmt.target.name.startswith("_"):
                    self.conditions[stmt.target] = stmt
                    self.hidden.add(stmt.target)
                elif stmt.args and all(isinstance(a, ir.Const) or a in self.indices for a in stmt.args) \
                        and stmt.target.name not in words(stmt.loc.text) and not is_condition(stmt.shape.expr):
                    self.indices.add(stmt.target)  # the trip count of zip(xs, ys), say: plumbing
                    self.hidden.add(stmt.target)
                elif stmt.target in reads_of_ifs:
                    self.conditions[stmt.target] = stmt
            elif isinstance(stmt, ir.Item):
                if stmt.target.name not in words(stmt.loc.text):
                    self.names.setdefault(stmt.target, f"{self.name(stmt.seq)}[{self.index_text(stmt)}]")
            elif isinstance(stmt, ir.If):
                self._scan(stmt.then, outer)
                self._scan(stmt.orelse, outer)
            elif isinstance(stmt, ir.Loop):
                letter = self._letter(stmt, outer)
                self.letters[id(stmt)] = letter
                if stmt.index is not None:
                    self.indices.add(stmt.index)
                    self.index_names[stmt.index] = letter
                    if stmt.index.ident != letter:  # parse's own counter (_i1): shown as the letter
                        self.names.setdefault(stmt.index, letter)
                if stmt.count is not None:
                    self.indices.add(stmt.count)
                self._scan(stmt.body, outer + (letter,))

    def _hide_bookkeeping(self) -> None:
        """Hide the flags parse makes (`_found1` for any(...), `_cond_3`): values named with
        a leading underscore that only steer (tests, and merges or copies of tests)."""
        items = list(ir.walk(self.function.body))
        # the largest set consistent with: a test steers; so does what is made only from what steers
        steering = {item.target for item in items} | set(self.indices)
        changed = True
        while changed:
            changed = False
            for item in items:
                if item.target not in steering:
                    continue
                if isinstance(item, ir.Assign):
                    keep = is_condition(item.shape.expr) or (
                        bool(item.args) and all(isinstance(a, ir.Const) or a in steering for a in item.args))
                elif isinstance(item, (ir.Merge, ir.Carry)):
                    keep = all(a in steering for a in item.sources if isinstance(a, ir.Value))
                else:
                    keep = isinstance(item, ir.Length)
                if not keep:
                    steering.discard(item.target)
                    changed = True
        self.hidden |= {v for v in steering if v.name.startswith("_")}
        self.reach = _reaching(items, self.function.result)

    @staticmethod
    def _written(stmt) -> bool:
        """A loop or if the user wrote as such (not one parse made for any(), sum(), a comprehension)."""
        head = statement_head(stmt.loc.text)
        return head.startswith(("for ", "while ")) if isinstance(stmt, ir.Loop) else \
            head.startswith(("if ", "elif "))

    def _letter(self, loop: ir.Loop, outer: tuple[str, ...]) -> str:
        head = statement_head(loop.loc.text)
        if loop.index is not None and not loop.index.name.startswith("_") and loop.index.name in words(head):
            return loop.index.ident  # the user's own: for i in range(n)
        taken = set(self.function.reserved) | set(outer)
        for letter in _LETTERS:
            if letter not in taken:
                return letter
        return f"k{len(outer)}"

    def index_text(self, stmt: ir.Item) -> str:
        index = stmt.index
        if isinstance(index, ir.Value):
            shown = self.index_names.get(index, self.name(index))
        else:
            shown = str(index.value if not isinstance(index.value, float) else int(index.value))
        return shown + (f"][{stmt.field}" if stmt.field is not None else "")

    # --- rows -------------------------------------------------------------------

    def _block(self, stmts, depth: int, loops: tuple, branches: tuple) -> list[_Row]:
        """The rows of a block, in source order: a helper's rows where it is called."""
        groups: list[tuple[int, list[_Row]]] = []
        for stmt in stmts:
            if id(stmt) in self.fold_at:
                rows = self._fold(self.fold_at[id(stmt)], depth, loops, branches)
                if rows:
                    groups.append((stmt.loc.calls[0][1] if stmt.loc.calls else stmt.loc.line, rows))
                continue
            if id(stmt) in self.folded:
                continue  # a statement of a fold: its row is the fold's
            rows = self._stmt(stmt, depth, loops, branches)
            if isinstance(stmt, (ir.If, ir.Loop)) and not any(
                    row.target in self.reach or row.kind == "raise" or (row.target is not None and self._written(stmt))
                    for row in rows):
                continue  # only bookkeeping inside (the loop of an any(...)): nothing that reaches the output
            if rows:
                loc = stmt.loc
                groups.append((loc.calls[0][1] if loc.calls else loc.line, rows))
        groups.sort(key=lambda group: group[0])  # stable: statements of one line keep their order
        return [row for _, rows in groups for row in rows]

    def _stmt(self, stmt, depth: int, loops: tuple, branches: tuple) -> list[_Row]:
        common = dict(calls=stmt.loc.calls, loops=loops, branches=branches, stmt=stmt)
        if isinstance(stmt, ir.If):
            return self._if(stmt, depth, loops, branches, "if")
        if isinstance(stmt, ir.Loop):
            return self._loop(stmt, depth, loops, branches)
        if getattr(stmt, "target", None) in self.hidden:
            return []
        line = stmt.loc.line
        if isinstance(stmt, ir.Assign):
            shown, tex = self.definition(stmt)
            if is_condition(stmt.shape.expr):
                return [_Row(depth, line, stmt.target, stmt.expr, kind="condition", shown=shown, shown_latex=tex,
                             **common)]
            edges = []
            for arg in stmt.args:
                if isinstance(arg, ir.Value) and arg not in [e.operand for e in edges] and arg not in self.indices:
                    # factor_terms again: substituting names re-expands 2*(a - y) into 2*a - 2*y
                    partial = sp.factor_terms(sum((stmt.partial(i) for i, a in enumerate(stmt.args) if a == arg),
                                                  sp.S.Zero))
                    edges.append(_Edge(stmt.target, arg, partial, _textbook(stmt, arg, partial)))
            return [_Row(depth, line, stmt.target, stmt.expr, tuple(edges), shown=shown, shown_latex=tex, **common)]
        if isinstance(stmt, ir.Item):
            element = self.index_text(stmt)
            text = f"{self.name(stmt.seq)}[{element}]"
            kind = "element" if self.name(stmt.target) == text else "list"  # ws[i] read inside an expression
            tex = rf"{notation.name_latex(self.name(stmt.seq))}[{_index_latex(element)}]"
            return [_Row(depth, line, stmt.target, text, (_Edge(stmt.target, stmt.seq, sp.S.One, element=element),),
                         kind=kind, shown=text, shown_latex=tex, **common)]
        if isinstance(stmt, ir.ArrayOp):
            edges = tuple(_Edge(stmt.target, arg, sp.Symbol(_array_edge(stmt, index)))
                          for index, arg in enumerate(stmt.sources) if isinstance(arg, ir.Value))
            if not edges:
                self.indices.add(stmt.target)  # a shape or a constant array: no gradient flows through it
            text = str(stmt).split(" = ", 1)[1]
            return [_Row(depth, line, stmt.target, text, edges, kind="list", shown=text,
                         shown_latex=notation.text_latex(text), **common)]
        if isinstance(stmt, ir.Raise):
            return [_Row(depth, line, heading=statement_head(stmt.loc.text) or str(stmt), kind="raise", **common)]
        if isinstance(stmt, (ir.Append, ir.SetItem)):  # the element goes into the list: an edge of partial 1
            edge = (_Edge(stmt.seq, stmt.element, sp.S.One),) if isinstance(stmt.element, ir.Value) else ()
            text = (f"{self.name(stmt.seq)}.append({self.name(stmt.element)})" if isinstance(stmt, ir.Append) else
                    f"{self.name(stmt.seq)}[{self.name(stmt.index)}] = {self.name(stmt.element)}")
            return [_Row(depth, line, stmt.seq, text, edge, kind="list", shown=text,
                         shown_latex=notation.text_latex(text), **common)]
        if isinstance(stmt, ir.ListCall):  # a number from whole lists: one partial per element j
            edges = tuple(_Edge(stmt.target, seq, self._list_call_partial(stmt, seq), element="j")
                          for seq in dict.fromkeys(stmt.seqs))
            text = self._list_text(stmt)
            return [_Row(depth, line, stmt.target, text, edges, kind="list", shown=text,
                         shown_latex=notation.text_latex(text), **common)]
        if isinstance(stmt, (ir.NewList, ir.Slice)):
            edges = tuple(_Edge(stmt.target, arg, sp.S.One) for arg in dict.fromkeys(stmt.sources)
                          if isinstance(arg, ir.Value))
            text = self._list_text(stmt)
            return [_Row(depth, line, stmt.target, text, edges, kind="list", shown=text,
                         shown_latex=notation.text_latex(text), **common)]
        if isinstance(stmt, ir.Length):
            text = f"len({self.name(stmt.seq)})"
            return [_Row(depth, line, stmt.target, text, kind="list", shown=text,
                         shown_latex=rf"\operatorname{{len}}\left({notation.name_latex(self.name(stmt.seq))}\right)",
                         **common)]
        raise AssertionError(f"explain has no row for {type(stmt).__name__}")

    def _fold(self, fold: folds.Fold, depth: int, loops: tuple, branches: tuple) -> list[_Row]:
        """max(ys), sum(w * x for x in xs): one row, with an edge from each value the call reads."""
        if fold.result in self.hidden:
            return []  # any(...), all(...): a test, shown where it steers (the if that reads it)
        made = fold.made
        letter = self.letters[id(fold.loop)]
        lists = set(self.function.sequences)
        operands: dict[ir.Value, None] = {}
        for item in ir.walk(fold.stmts):
            for read in ir.reads(item):
                if isinstance(read, ir.Value) and read not in made and read not in self.indices:
                    operands.setdefault(read)
        start = {s.args[0] for s in fold.stmts if isinstance(s, ir.Assign) and s.target in
                 {c.init for c in fold.loop.carried} and len(s.args) == 1 and isinstance(s.args[0], ir.Value)}
        edges = []
        for operand in operands:
            element = letter if operand in lists and operand not in start else None
            edges.append(_Edge(fold.result, operand, _fold_partial(self, fold, operand, element, letter),
                               element=element))
        tex = notation.shown_latex(fold.call)
        return [_Row(depth, fold.loop.loc.line, fold.result, fold.call, tuple(edges), kind="fold", shown=fold.call,
                     shown_latex=tex, calls=fold.loop.loc.calls, loops=loops, branches=branches, stmt=fold.loop)]

    def _name_comprehension_elements(self) -> None:
        """`ys = [w * x for x in xs]`: the element parse names `_e1` is ys[i] to the student."""
        def visit(stmts, letter):
            for stmt in stmts:
                if isinstance(stmt, ir.Loop):
                    visit(stmt.body, self.letters.get(id(stmt), letter))
                elif isinstance(stmt, ir.If):
                    visit(stmt.then, letter)
                    visit(stmt.orelse, letter)
                elif isinstance(stmt, ir.NewList):  # v = [a, b * b]: the element parse names _e1 is v[1]
                    for k, element in enumerate(stmt.elements):
                        if isinstance(element, ir.Value) and re.fullmatch(r"_e\d+", element.ident) and \
                                element.ident not in self.function.reserved:
                            self.names.setdefault(element, f"{self.name(stmt.target)}[{k}]")
                elif isinstance(stmt, ir.ListCall) and stmt.target.ident not in self.function.reserved and \
                        stmt.target.ident.startswith("_") and stmt.loc.end_col is not None:
                    self.names.setdefault(stmt.target, stmt.loc.text[stmt.loc.col:stmt.loc.end_col])  # math.fsum(p)
                elif isinstance(stmt, ir.Append) and isinstance(stmt.element, ir.Value) and letter and \
                        re.fullmatch(r"_e\d+", stmt.element.ident) and stmt.element.ident not in self.function.reserved:
                    self.names.setdefault(stmt.element, f"{self.name(stmt.seq)}[{letter}]")
        visit(self.function.body, None)

    def _list_call_partial(self, stmt: ir.ListCall, seq: ir.Value) -> sp.Expr:
        """∂ math.<fn>(...) / ∂ seq[j], in words (the generated code's ListCallAccumulate)."""
        if stmt.fn == "fsum":
            return sp.S.One
        a, b = (self.name(s) for s in stmt.seqs)
        if stmt.seqs[0] == stmt.seqs[1]:  # dist(p, p) is 0 whatever p; sumprod(p, p) is the sum of squares
            return sp.S.Zero if stmt.fn == "dist" else sp.Symbol(f"2*{a}[j]")
        mine, other = (a, b) if seq == stmt.seqs[0] else (b, a)
        if stmt.fn == "dist":
            return sp.Symbol(f"({mine}[j] - {other}[j])/{self._list_text(stmt)}")
        return sp.Symbol(f"{other}[j]")  # sumprod

    def _list_text(self, stmt) -> str:
        if isinstance(stmt, ir.NewList):
            times = f" * {self.name(stmt.times)}" if stmt.times is not None else ""
            return f"[{', '.join(self.name(e) for e in stmt.elements)}]{times}"
        if isinstance(stmt, ir.Slice):
            lower, upper, step = ("" if b is None else self.name(b) for b in stmt.bounds)
            return f"{self.name(stmt.seq)}[{lower}:{upper}" + (f":{step}]" if step else "]")
        return f"math.{stmt.fn}({', '.join(self.name(seq) for seq in stmt.seqs)})"

    def definition(self, stmt: ir.Assign) -> tuple[str, str]:
        """The statement's expression as the user wrote it: text and LaTeX."""
        def leaf(i):
            return self.name(stmt.args[i])

        def leaf_latex(i):
            arg = stmt.args[i]
            if isinstance(arg, ir.Value):
                return _name_latex(self.name(arg))
            return notation.literal_latex(arg.value)
        return notation.tree_text(stmt.shape.tree, leaf), notation.tree_latex(stmt.shape.tree, leaf_latex)

    def condition(self, stmt: ir.If) -> tuple[str, str]:
        """A branch's test as the user wrote it (`abs(r) <= d`), text and LaTeX."""
        test = self.conditions.get(stmt.cond)
        if test is not None and test.target.name.startswith("_"):
            return self.definition(test)
        head = statement_head(stmt.loc.text)
        if stmt.cond in self.hidden and head.startswith(("if ", "elif ")) and head.endswith(":"):
            source = head.split(" ", 1)[1][:-1].strip()  # a test parse computed in steps: as written
            return source, notation.text_latex(source)
        return self.name(stmt.cond), _name_latex(self.name(stmt.cond))

    def _if(self, stmt: ir.If, depth: int, loops: tuple, branches: tuple, word: str) -> list[_Row]:
        test, _ = self.condition(stmt)
        head = statement_head(stmt.loc.text)
        if not head.startswith(word + " "):
            head = f"{word} {test}:"  # a conditional expression, or a helper's early return
        common = dict(calls=stmt.loc.calls, loops=loops, stmt=stmt)
        rows = [_Row(depth, stmt.loc.line, heading=head, kind=word, branches=branches, **common)]
        rows += self._block(stmt.then, depth + 1, loops, branches + ((stmt, True),))
        orelse = [s for s in stmt.orelse if getattr(s, "target", None) not in self.hidden]
        if len(orelse) == 1 and isinstance(orelse[0], ir.If) and \
                statement_head(orelse[0].loc.text).startswith("elif ") and orelse[0].loc.line != stmt.loc.line:
            rows += self._if(orelse[0], depth, loops, branches + ((stmt, False),), "elif")
        else:
            inner = self._block(stmt.orelse, depth + 1, loops, branches + ((stmt, False),))
            if inner:
                rows.append(_Row(depth, stmt.loc.line, heading="else:", kind="else", branches=branches, **common))
                rows += inner
        for merge in stmt.merges:
            if merge.target in self.hidden:
                continue
            edges = tuple(_Edge(merge.target, side, sp.S.One) for side in dict.fromkeys((merge.then, merge.orelse))
                          if isinstance(side, ir.Value))
            text = f"{self.name(merge.then)} if {test} else {self.name(merge.orelse)}"
            tex = (r"\begin{cases} " + _operand_latex(self, merge.then) + r" & \text{if } " + self.condition(stmt)[1]
                   + r" \\ " + _operand_latex(self, merge.orelse) + r" & \text{otherwise} \end{cases}")
            rows.append(_Row(depth, stmt.loc.line, merge.target, text, edges, kind="merge", shown=text,
                             shown_latex=tex, branches=branches, **common))
        return rows

    def _loop(self, stmt: ir.Loop, depth: int, loops: tuple, branches: tuple) -> list[_Row]:
        head = statement_head(stmt.loc.text)
        letter = self.letters[id(stmt)]
        if not head.startswith(("for ", "while ")):  # a loop parse made: a comprehension, sum(), ...
            head = f"for each {letter}:  ({head})"
        common = dict(calls=stmt.loc.calls, stmt=stmt, branches=branches)
        rows = [_Row(depth, stmt.loc.line, heading=head, kind="loop", loops=loops, **common)]
        inner = loops + (stmt,)
        for carry in stmt.carried:
            if carry.head in self.hidden:
                continue
            edges = tuple(_Edge(carry.head, v, sp.S.One) for v in dict.fromkeys((carry.init, carry.update))
                          if isinstance(v, ir.Value) and v not in self.indices)
            before = self.name(carry.init)
            text = f"{before} before the loop, then {self.name(carry.update)}"
            tex = (r"\begin{cases} " + _operand_latex(self, carry.init) + r" & \text{before the loop} \\ "
                   + _operand_latex(self, carry.update) + r" & \text{after} \end{cases}")
            rows.append(_Row(depth + 1, stmt.loc.line, carry.head, text, edges, kind="carry", shown=text,
                             shown_latex=tex, loops=inner, **common))
        rows += self._block(stmt.body, depth + 1, inner, branches)
        return rows


def _fold_partial(model: Model, fold: folds.Fold, operand: ir.Value, element: str | None, letter: str) -> sp.Expr:
    """A fold's partial by one value it reads, in words where it is not one formula:
    max keeps the first of equal values (as Python's max does), so all of the
    gradient goes to the element where the maximum is first found."""
    name = model.name(operand)
    if fold.seq is not None:  # of a whole list: max(ys), sum(xs), math.prod(xs, start=w)
        if element is None:  # the start value
            return sp.S.One if fold.fn in ("sum", "fsum") else sp.Symbol(f"Π_j {fold.seq}[j]")
        if fold.fn in ("max", "min"):
            return sp.Symbol(f"[{letter} is where the {'maximum' if fold.fn == 'max' else 'minimum'} is first found]")
        if fold.fn == "prod":
            return sp.Symbol(f"Π_(j≠{letter}) {fold.seq}[j]")
        return sp.S.One
    e = f"({fold.element})" if fold.element else "element"
    by = fold.variable if element is not None and fold.variable else name
    local = f"∂{e}/∂{by}"
    if fold.fn in ("max", "min"):
        which = "maximum" if fold.fn == "max" else "minimum"
        if element is not None:
            return sp.Symbol(f"{local} if {letter} is where the {which} is first found, else 0")
        return sp.Symbol(f"{local} where the {which} is first found")
    if fold.fn == "prod":
        others = f"Π_(j≠{letter}) {e}⁽ʲ⁾"
        return sp.Symbol(f"{local} · {others}" if element is not None else f"Σ_{letter} {local} · {others}")
    return sp.Symbol(local if element is not None else f"Σ_{letter} {local}")


def _reaching(items: list, result) -> set:
    """The values the result is computed from, directly or not."""
    reach = {result} if isinstance(result, ir.Value) else set()
    changed = True
    while changed:
        changed = False
        for item in reversed(items):
            made = item.seq if isinstance(item, (ir.Append, ir.SetItem)) else item.target
            if made in reach:
                for source in ir.reads(item):
                    if isinstance(source, ir.Value) and source not in reach:
                        reach.add(source)
                        changed = True
    return reach


def _operand_latex(model: Model, operand) -> str:
    if isinstance(operand, ir.Value):
        return _name_latex(model.name(operand))
    if operand is ir.UNBOUND:
        return r"\text{(unassigned)}"
    return notation.literal_latex(operand.value)


def _name_latex(name: str) -> str:
    return notation.shown_latex(name)


def _index_latex(index: str) -> str:
    return "][".join(notation.name_latex(part) if part.isidentifier() else notation.escape(part)
                     for part in index.split("]["))


def _textbook(stmt: ir.Assign, arg: ir.Value, partial: sp.Expr) -> sp.Expr | None:
    """The plain derivative, shown where derive wrote the partial with the value itself."""
    if stmt.target.symbol not in partial.free_symbols:
        return None
    plain = sp.factor_terms(sp.diff(stmt.expr, arg.symbol))
    return plain if plain != partial else None


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
