"""Common subexpressions of the adjoint arithmetic, computed once.

Three kinds, in this order:

1. one statement's partials that divide by the same thing: for
   s = sqrt(x*x + y*y), x_bar += x*s_bar/s and y_bar += y*s_bar/s become
   _s1 = s_bar/s, x_bar += x*_s1, y_bar += y*_s1. This is the one rewrite
   that reassociates ((x*g)/s is x*(g/s) within rounding, not bit for bit):
   adjoint arithmetic only, never a forward value;
2. a subexpression of forward values that several adjoint statements of one
   block compute (1 - dt*d in two partials of one physics step): computed
   once, as a Let before its first use, where it is the same float
   operation on the same values (exprs.key);
3. a subexpression the forward pass already holds in a temp or a value of
   the function's own block: the sweep reads that name (the forward pass's
   _t1 = math.sin(x) serves a partial's math.sin(x)); and the forward pass
   itself does not compute it again, in a temp (same_temp) or in a later
   statement of that block (rewritten: b = math.sin(x) + a is b = _t1 + a,
   the same float).

Only what Python always evaluates is shared: never one side of `a if c
else b` or the right of `and`/`or`, which may not run. A value a reversed
loop restores (from its tape, or recomputed) means another iteration's
value there: nothing that reads one is shared across the loop.
"""

from __future__ import annotations

from dataclasses import replace

from .. import ir
from . import exprs

_LEAF_KINDS = frozenset({"v", "c", "tmp", "num", "name", "let"})
_ENDS = _LEAF_KINDS | {"bar"}  # the leaves and the adjoints: nodes without parts


def shared(gradient: ir.Gradient) -> ir.Gradient:
    """The gradient with shared subexpressions computed once (see above)."""
    return _Sharer(gradient).run()


class _Sharer:
    def __init__(self, gradient: ir.Gradient):
        self.g = gradient
        self.arrays = gradient.function.arrays
        self.lets = 0
        self.same_temp: dict[tuple, tuple] = dict(gradient.same_temp)
        self.shared_makers = {target for target, _ in self.same_temp}  # statements with such temps
        self.memo: dict[int, tuple] = {}  # id(node) -> (node, its info): trees are shared, not copied
        self.numbers: dict = {}  # key -> its number (see interned)
        self.leaves: dict = {}  # leaf tree -> its info

    def run(self) -> ir.Gradient:
        self.rewritten: dict = dict(self.g.rewritten)
        avail = self.forward_available()
        backward = self.block(self.g.backward, avail)
        return replace(self.g, backward=backward, same_temp=tuple(self.same_temp.items()),
                       rewritten=tuple(self.rewritten.items()))

    # --- what the forward pass holds ------------------------------------------

    def forward_available(self) -> dict:
        """key -> the name of what the function's own block computes: each temp
        and each value, in order; a temp computed before is recorded as the same."""
        avail: dict = {}
        for stmt in self.g.forward:
            if not isinstance(stmt, ir.Assign) or stmt.rule is None:
                continue
            for j, temp in enumerate(stmt.rule.temps):
                tree = exprs.forward_tree(temp.tree, stmt)
                if tree is None:
                    continue
                tree = self.resolve(tree, stmt.target)
                k = self.key(tree)
                if k in avail and avail[k][0][0] == "tmp":
                    self.same_temp[(stmt.target, j)] = avail[k][0][1:]
                    self.shared_makers.add(stmt.target)
                else:
                    avail.setdefault(k, (("tmp", stmt.target, j), _deps(tree) | {stmt.target}))
            tree = exprs.forward_tree(stmt.rule.value, stmt)
            tree = None if tree is None else self.resolve(tree, stmt.target)
            if tree is not None and stmt.target not in self.g.unused:
                reused = self.reuse(tree, avail)
                if reused != tree:  # b = math.sin(x) + a after _t1 = math.sin(x): b = _t1 + a
                    self.rewritten[stmt.target] = reused
            if stmt.target not in self.g.unused:
                if tree is not None and self.info(tree)[1]:
                    avail.setdefault(self.key(tree), (("v", stmt.target), _deps(tree) | {stmt.target}))
        return avail

    def reuse(self, tree: tuple, avail: dict) -> tuple:
        """A forward statement's tree with each part an earlier statement computed
        (and Python always evaluates) read from that statement's name."""
        if self.info(tree)[1]:
            found = avail.get(self.key(tree))
            if found is not None:
                return found[0]
        if tree[0] in ("bin", "un", "call"):
            return (*tree[:2], *(self.reuse(part, avail) for part in tree[2:]))
        return tree

    def resolve(self, tree: tuple, maker: ir.Value | None = None) -> tuple:
        """A tree with each temp computed once under its first name (the same
        tree if it reads none of those). `maker`: the one statement whose temps
        the tree may read (a contribution reads its own statement's only)."""
        if not self.same_temp or (maker is not None and maker not in self.shared_makers):
            return tree
        kind = tree[0]
        if kind == "tmp":
            found = self.same_temp.get((tree[1], tree[2]))
            return ("tmp", *found) if found else tree
        if kind in _LEAF_KINDS or kind == "bar":
            return tree
        start = 1 if kind == "if" else 2
        parts = [self.resolve(part) for part in tree[start:]]
        if all(new is old for new, old in zip(parts, tree[start:])):
            return tree
        return (*tree[:start], *parts)

    # --- blocks ------------------------------------------------------------------

    def block(self, stmts, avail: dict) -> tuple:
        """One block of the sweep; `avail` (key -> name) is what is computed
        already and still holds its value here; it is updated for what follows."""
        trees: dict[int, tuple] = {}  # id(accumulation) -> its contribution's tree
        out: list = []
        divided: set[int] = set()  # ids of accumulations kind 1 rewrote
        stmts = self.divisions(stmts, trees, divided)
        counts: dict = {}
        for adj in stmts:
            tree = trees.get(id(adj)) if isinstance(adj, ir.Accumulate) else \
                adj.expr if isinstance(adj, ir.Let) else None
            if tree is not None:
                self.count(tree, counts, avail)
        for adj in stmts:
            if isinstance(adj, ir.BackIf):
                then = self.block(adj.then, dict(avail))
                orelse = self.block(adj.orelse, dict(avail))
                out.append(ir.BackIf(adj.cond, then, orelse))
                continue
            if isinstance(adj, ir.BackLoop):
                changed = rebound(adj)
                for k in [k for k, (_, deps) in avail.items() if deps & changed]:
                    del avail[k]  # another iteration's value from here on
                out.append(replace(adj, body=self.block(adj.body, dict(avail))))
                continue
            tree = trees.get(id(adj)) if isinstance(adj, ir.Accumulate) else \
                adj.expr if isinstance(adj, ir.Let) else None
            if tree is None:
                out.append(adj)
                continue
            lets: list = []
            new = self.rewrite(tree, counts, avail, lets)
            out += lets
            if isinstance(adj, ir.Let):
                out.append(ir.Let(adj.index, new))
            elif new != tree or adj.expr is not None or id(adj) in divided:
                out.append(replace(adj, expr=new))
            else:
                out.append(adj)
        return tuple(out)

    def divisions(self, stmts, trees: dict, divided: set) -> list:
        """Kind 1: a statement's contributions that divide by the same thing share
        adjoint/divisor. Fills `trees` with every accumulation's tree."""
        out: list = []
        group: list = []

        def flush():
            self.share_division(group, trees, out, divided)
            group.clear()

        for adj in stmts:
            if isinstance(adj, ir.Accumulate) and adj.mirror is None and adj.expr is None:
                template = exprs.template_tree(exprs.contribution_template(adj, self.arrays))
                if template is not None:
                    trees[id(adj)] = self.resolve(exprs.instantiate(template, adj.site), adj.site.target)
                if group and group[0].site is not adj.site:
                    flush()
                group.append(adj)
                continue
            flush()  # a mirror too: it reads an adjoint the group before it assigns
            out.append(adj)
        flush()
        return out

    def share_division(self, group: list, trees: dict, out: list, divided: set) -> None:
        parts = {}
        for adj in group:
            split = _over_adjoint(trees.get(id(adj)))
            if split is not None:
                parts[id(adj)] = split
        by_divisor: dict = {}
        for adj in group:
            if id(adj) in parts:
                by_divisor.setdefault(self.key(parts[id(adj)][2]), []).append(adj)
        chosen = {k: adjs for k, adjs in by_divisor.items() if len(adjs) >= 2}
        made: dict = {}
        for adj in group:
            k = self.key(parts[id(adj)][2]) if id(adj) in parts else None
            if k in chosen:
                numerator, adjoint, divisor = parts[id(adj)]
                if k not in made:
                    self.lets += 1
                    made[k] = ("let", self.lets)
                    out.append(ir.Let(self.lets, ("bin", "/", adjoint, divisor)))
                trees[id(adj)] = _times(numerator, made[k])
                divided.add(id(adj))
            out.append(adj)

    # --- kinds 2 and 3 -------------------------------------------------------------

    def info(self, tree: tuple) -> tuple:
        """(key, shareable, pure, reads a value) of a node, worked out once per node,
        and once per distinct leaf (leaves are made afresh per use: looked up by value)."""
        kind = tree[0]
        if kind in _ENDS:
            out = self.leaves.get(tree)
            if out is None:
                leaf = tree[1].ident if kind in ("v", "tmp", "bar") else repr(tree[1].value) if kind == "c" \
                    else tree[1]
                signed = exprs.compose((kind, leaf, *tree[2:]), ())
                out = self.leaves[tree] = (self.interned(signed), False, kind != "bar", kind in ("v", "tmp", "let"))
            return out
        found = self.memo.get(id(tree))
        if found is not None and found[0] is tree:
            return found[1]
        info = self.info
        parts = [info(part) for part in (tree[1:] if kind == "if" else tree[2:])]
        key = self.interned(exprs.compose(tree, [p[0] for p in parts]))
        if kind == "if":  # (1.0 if a >= b else 0.0): both sides numbers, nothing runs only sometimes
            pure = tree[2][0] == tree[3][0] == "num" and parts[0][2]
        else:
            pure = kind != "bool" and not (kind == "cmp" and len(tree) > 4) and all(p[2] for p in parts)
        deps = any(p[3] for p in parts)
        # -x costs less than a name; 1/4 is no work to share
        shareable = pure and deps and not (kind == "un" and tree[2][0] in _LEAF_KINDS)
        out = (key, shareable, pure, deps)
        self.memo[id(tree)] = (tree, out)
        return out

    def interned(self, signed: tuple) -> tuple[int, bool]:
        """(number, negated) for a signed key: equal keys, equal numbers (hash-consing,
        so a key is a few small ints however deep the tree)."""
        inner, negated = signed
        number = self.numbers.setdefault(inner, len(self.numbers))
        return number, negated

    def key(self, tree: tuple):
        number, negated = self.info(tree)[0]
        return -1 - number if negated else number

    def count(self, tree: tuple, counts: dict, avail: dict) -> None:
        """How often each shareable subtree occurs; a repeat is not looked into
        (its parts are computed once, with it)."""
        (number, negated), shareable, _, _ = self.info(tree)
        if shareable:
            k = -1 - number if negated else number
            seen = counts.get(k, 0)
            counts[k] = seen + 1
            if seen or k in avail:
                return
        if tree[0] not in _ENDS:
            for part in _always(tree):
                self.count(part, counts, avail)

    def rewrite(self, tree: tuple, counts: dict, avail: dict, lets: list) -> tuple:
        if self.info(tree)[1]:
            k = self.key(tree)
            if k in avail:
                return avail[k][0]
            if counts.get(k, 0) >= 2:
                inner = self.rewrite_parts(tree, counts, avail, lets)
                self.lets += 1
                lets.append(ir.Let(self.lets, inner))
                avail[k] = (("let", self.lets), _deps(tree))
                return avail[k][0]
        return self.rewrite_parts(tree, counts, avail, lets)

    def rewrite_parts(self, tree: tuple, counts: dict, avail: dict, lets: list) -> tuple:
        kind = tree[0]
        if kind in _LEAF_KINDS or kind == "bar":
            return tree
        if kind == "if":
            return ("if", self.rewrite(tree[1], counts, avail, lets), tree[2], tree[3])
        if kind == "bool":
            return ("bool", tree[1], self.rewrite(tree[2], counts, avail, lets), *tree[3:])
        always = _always(tree)
        parts = [self.rewrite(part, counts, avail, lets) if any(part is a for a in always) else part
                 for part in tree[2:]]
        return (*tree[:2], *parts)


def _always(tree: tuple) -> tuple:
    """The parts of a node Python always evaluates with it."""
    kind = tree[0]
    if kind == "if":
        return (tree[1],)
    if kind == "bool":
        return (tree[2],)
    if kind == "cmp" and len(tree) > 4:
        return tree[2:4]
    if kind in ("bin", "un", "call", "cmp"):
        return tree[2:]
    return ()


def _shareable(tree: tuple) -> bool:
    """An operation on forward values only (no adjoint: those change as the
    sweep adds to them), with no part that runs only sometimes."""
    kind = tree[0]
    if kind == "if":  # (1.0 if a >= b else 0.0): both sides are numbers, nothing runs only sometimes
        return tree[2][0] == tree[3][0] == "num" and _pure(tree[1])
    if kind in _LEAF_KINDS or kind == "bar" or kind == "bool" or (kind == "cmp" and len(tree) > 4):
        return False
    if kind == "un" and tree[2][0] in _LEAF_KINDS:
        return False  # -x costs less than a name
    return all(_pure(part) for part in tree[2:]) and bool(_deps(tree))  # 1/4 is no work to share


def _pure(tree: tuple) -> bool:
    kind = tree[0]
    if kind == "bar":
        return False
    if kind in _LEAF_KINDS:
        return True
    if kind == "if":
        return tree[2][0] == tree[3][0] == "num" and _pure(tree[1])
    if kind == "bool" or (kind == "cmp" and len(tree) > 4):
        return False
    return all(_pure(part) for part in tree[2:])


def _over_adjoint(tree: tuple | None):
    """(numerator, adjoint, divisor) for a contribution n*g/d, g/d or -g/d; else None."""
    if tree is None or tree[:2] != ("bin", "/") or not _pure(tree[3]):
        return None
    top = tree[2]
    if top[0] == "bar":
        return None, top, tree[3]
    if top[:2] == ("un", "-") and top[2][0] == "bar":
        return ("un", "-", None), top[2], tree[3]
    if top[:2] == ("bin", "*") and top[3][0] == "bar" and _pure(top[2]):
        return top[2], top[3], tree[3]
    return None


def _times(numerator, shared_name: tuple) -> tuple:
    if numerator is None:
        return shared_name
    if numerator == ("un", "-", None):
        return ("un", "-", shared_name)
    return ("bin", "*", numerator, shared_name)


def rebound(loop: ir.BackLoop) -> set:
    """What a reversed loop assigns in the sweep: its index, what its tape
    restores and what it recomputes (so another iteration's values), with their temps."""
    out = {loop.loop.index} | {carry.head for carry in loop.loop.carried}
    for inner in ir.loops(loop.loop.body):
        out |= {inner.index} | {carry.head for carry in inner.carried}
        if inner.count is not None:
            out.add(inner.count)
    out |= {item.target for item in ir.walk(loop.loop.body)}
    return out


def _deps(tree: tuple) -> set:
    """The values a tree reads, a temp counting as its statement's value."""
    return {item if isinstance(item, ir.Value) else item[0] for item in exprs.reads(tree)
            if not (isinstance(item, tuple) and item[0] in ("bar", "let"))}
