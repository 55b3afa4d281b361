"""The rows at a point, in the order the run met them: a loop iteration by
iteration (the first three and last two when there are more than five), a
branch by the side it took. text.py and latex.py print these events.

    ("heading", row, note)            a loop's or branch's heading; note: "3 iterations", "true: taken"
    ("iteration", row, letter, k)     iteration k of the loop headed by row begins
    ("elided", row, n)                n iterations left out here
    ("value", row, visit)             a value as this iteration made it
    ("after", row, visit)             a loop's variable after the loop
"""

from __future__ import annotations

from .model import _Row

SHOWN_ITERATIONS = 5  # the first three and the last two


def tree(rows: list[_Row]) -> list:
    """The flat rows as (row, children): a heading holds the deeper rows after it."""
    out, stack = [], []
    for row in rows:
        node = (row, [])
        while stack and stack[-1][0].depth >= row.depth:
            stack.pop()
        (stack[-1][1] if stack else out).append(node)
        if row.heading and row.kind in ("loop", "if", "elif", "else"):
            stack.append(node)
    return out


def events(x) -> list[tuple]:
    """The events of Explanation x at its point (x.evaluation)."""
    return _Walk(x).run()


class _Walk:
    def __init__(self, x):
        self.x = x
        ev = x.evaluation
        self.visit = {(v.ident, v.iteration): v for v in ev.visits}
        self.iterations: dict[tuple, set] = {}
        row_of = {row.target.ident: row for row in x.rows if row.target is not None}
        for v in ev.visits:
            row = row_of.get(v.ident)
            if row is None or row.kind == "carry":
                continue
            for m, loop in enumerate(row.loops):
                if len(v.iteration) > m:
                    self.iterations.setdefault((id(loop), v.iteration[:m]), set()).add(v.iteration[m])
        self.out: list[tuple] = []

    def run(self) -> list[tuple]:
        self.rows(tree(self.x.rows), ())
        return self.out

    def rows(self, nodes: list, at: tuple) -> None:
        for row, children in nodes:
            if row.kind == "element":
                continue
            if row.kind == "loop":
                self.loop(row, children, at)
            elif row.kind in ("if", "elif"):
                test = self.visit.get((row.stmt.cond.ident, at))
                if test is None:
                    continue  # not reached at this point
                self.out.append(("heading", row, "true: taken" if test.value else "false"))
                if test.value:
                    self.rows(children, at)
            elif row.kind == "else":
                mark = len(self.out)
                self.rows(children, at)
                if len(self.out) > mark:
                    self.out.insert(mark, ("heading", row, "taken"))
            elif row.heading:
                self.out.append(("heading", row, ""))
            else:
                visit = self.visit.get((row.target.ident, at))
                if visit is not None:  # else not made here: a side not taken
                    self.out.append(("value", row, visit))

    def loop(self, row: _Row, children: list, at: tuple) -> None:
        ks = sorted(self.iterations.get((id(row.stmt), at), ()))
        n = len(ks)
        self.out.append(("heading", row, f"{n} iteration{'s' if n != 1 else ''}"))
        letter = self.x.model.letters[id(row.stmt)]
        shown = ks if n <= SHOWN_ITERATIONS else ks[:3] + [None] + ks[-2:]
        for k in shown:
            if k is None:
                self.out.append(("elided", row, n - 5))
                continue
            self.out.append(("iteration", row, letter, k))
            self.rows(children, at + (k,))
        for child, _ in children:  # the loop's variables after it: what the code after the loop reads
            if child.kind == "carry":
                visit = self.visit.get((child.target.ident, at + (n,)))
                if visit is not None:
                    self.out.append(("after", child, visit))
