"""parse, control flow: blocks, if/elif/else with early return, for loops.

A mixin of parse._Lower. Branches and loops stay structured: an if becomes
ir.If with merges (phi), a for loop over range ir.Loop with carried values.
"""

from __future__ import annotations

import ast

from . import ir
from .errors import UnsupportedSyntax
from .parse_exprs import shape_of


class ControlFlow:
    """Block, branch and loop lowering for parse._Lower."""

    def returning_block(self, stmts: list[ast.stmt]) -> ir.Operand:
        result = self.block(stmts)
        if result is RAISES:
            self.fail(UnsupportedSyntax, stmts[-1], f"{self.name}() raises on every path: it has no value to "
                      "differentiate", "return a value on the paths that do not raise")
        if result is None:
            where = stmts[-1] if stmts else self.node
            self.fail(UnsupportedSyntax, where, "the function must end with a return statement",
                      "return the scalar to differentiate as the last statement")
        return result

    def block(self, stmts: list[ast.stmt]) -> ir.Operand | None:
        """Lower statements into self.body; the result operand if they return.

        An `if` with a return inside takes the rest of the block into its
        branches (`if c: return a` then `return b` is `if c: a else: b`), so
        every path ends in a return and the results merge.
        """
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, (ast.Return, ast.Break, ast.Continue, ast.Raise)):
                if i + 1 < len(stmts):
                    what = type(stmt).__name__.lower()
                    self.fail(UnsupportedSyntax, stmts[i + 1], f"code after {what} is never run", "remove it")
                if isinstance(stmt, ast.Return):
                    return self.ret(stmt)
                if isinstance(stmt, ast.Raise):
                    self.statement(stmt)
                    return RAISES
                # in a loop body, a block's result is whether the loop stops here
                return ir.Const(isinstance(stmt, ast.Break))
            if isinstance(stmt, (ast.For, ast.While)) and _returns_inside(stmt):
                return self.block(self.return_from_loop(stmt) + list(stmts[i + 1:]))
            if isinstance(stmt, ast.If):
                rest = list(stmts[i + 1:])
                if _copies_rest(stmt, rest):
                    return self.block(self.return_flags(stmt) + rest)
                if _leaves(stmt):
                    return self.if_statement(stmt, rest)
                if self.if_statement(stmt, None) is RAISES:  # both sides raise
                    if rest:
                        self.fail(UnsupportedSyntax, rest[0], "code after an if whose every path raises is "
                                  "never run", "remove it")
                    return RAISES
                continue
            self.statement(stmt)
        return None

    def test_value(self, node: ast.expr) -> ir.Value:
        """A condition as a boolean value, `_cond_1 = x > 0`, computed as written."""
        args: list[ir.Operand] = []
        tree = self.condition(node, args)
        if tree == ("arg", 0) and isinstance(args[0], ir.Value):
            return args[0]  # a boolean value already (an `and` whose right side needed statements)
        cond = ir.Value("_cond", self.namer.fresh("_cond_", first=1))
        self.body.append(ir.Assign(cond, self.shape(tree, node), tuple(args), self.src.loc(node)))
        return cond

    def conditional(self, node: ast.IfExp) -> ir.Value:
        """`a if c else b`: a branch whose sides each compute their expression,
        merged into one value. Only the side taken runs, as in Python, helper
        calls and all; and the partials need no SymPy Piecewise."""
        cond = self.test_value(node.test)
        before, outer = dict(self.env), self.body
        sides = []
        for side in (node.body, node.orelse):
            self.env, self.body = dict(before), self.nested_block(outer)
            sides.append((self.operand_of(side, lambda: ir.Value("_v", self.namer.fresh("_v", first=1))),
                          tuple(self.body)))
        self.env, self.body = before, outer
        (then, then_block), (orelse, else_block) = sides
        value = ir.Value("_v", self.namer.fresh("_v", first=1))
        self.body.append(ir.If(cond, then_block, else_block, (self.merge(value, then, orelse),), self.src.loc(node)))
        self.helper_results.add(value)  # `y = a if c else b` names the merge y
        return value

    def guarded(self, node: ast.BoolOp) -> ir.Value:
        """`a and b` where b needs statements of its own (a helper call, xs[i]):
        Python evaluates b only if a is true (for `or`, false), so b's
        statements go in a branch on a, and the two tests merge."""
        first = self.test_value(node.values[0])
        rest = node.values[1:]
        right = rest[0] if len(rest) == 1 else ast.copy_location(ast.BoolOp(node.op, rest), rest[0])
        before, outer = dict(self.env), self.body
        self.body = self.nested_block(outer)
        second = self.test_value(right)
        block = tuple(self.body)
        self.env, self.body = before, outer
        value = ir.Value("_cond", self.namer.fresh("_cond_", first=1))
        if isinstance(node.op, ast.And):
            branch = ir.If(first, block, (), (self.merge(value, second, first),), self.src.loc(node))
        else:
            branch = ir.If(first, (), block, (self.merge(value, first, second),), self.src.loc(node))
        self.body.append(branch)
        return value

    def if_statement(self, node: ast.If, rest: list[ast.stmt] | None) -> ir.Operand | None:
        """if/elif/else: a condition value, two blocks, and merges of what they assign."""
        cond = self.test_value(node.test)
        before, outer = dict(self.env), self.body
        results, envs, blocks = [], [], []
        for branch in (node.body, node.orelse):
            stmts = list(branch)
            if rest is not None and not _ends_in_return(stmts):
                stmts += rest  # the code after the if runs on this path
            self.env, self.body = dict(before), self.nested_block(outer)
            results.append(self.block(stmts))
            envs.append(self.env)
            blocks.append(tuple(self.body))
        self.body, self.env = outer, dict(before)
        merges = []
        for k in (0, 1):  # a side that raises never reaches the merges: what it leaves is unbound
            if results[k] is RAISES and results[1 - k] is not RAISES:
                envs[k] = {name: value for name, value in before.items() if envs[1 - k].get(name) == value}
        for name in dict.fromkeys([*envs[0], *envs[1]]):  # in order of first assignment
            # assigned on one path only: unbound after the if on the other, as in Python
            then, orelse = envs[0].get(name, ir.UNBOUND), envs[1].get(name, ir.UNBOUND)
            if then == orelse:
                self.env[name] = then
            else:
                target = ir.Value(name, self.namer.version(name))
                merges.append(self.merge(target, then, orelse))
                if ir.UNBOUND in (then, orelse) or then in self.maybe_unbound or orelse in self.maybe_unbound:
                    self.maybe_unbound.add(target)
                self.env[name] = target
        result = None
        if results[0] is RAISES and results[1] is RAISES:
            result = RAISES
        elif RAISES in results:  # the side that raises gives no value (a merge leaves it unbound)
            results = [ir.UNBOUND if r is RAISES else r for r in results]
        if rest is not None and result is not RAISES:
            if getattr(self, "in_loop", False):  # reaching the end of the body: the loop goes on
                results = [ir.Const(False) if r is None else r for r in results]
            if results[0] is None or results[1] is None:
                self.fail(UnsupportedSyntax, node, "not every path through this if returns a value",
                          "end the function with a return")
            several = [isinstance(r, tuple) for r in results]
            if several[0] != several[1] or (several[0] and len(results[0]) != len(results[1])):
                self.fail(UnsupportedSyntax, node, "the branches of this if return different numbers of values",
                          "return the same number of values on every path")
            merged = []
            for then, orelse in (zip(*results) if several[0] else [results]):
                if then == orelse:
                    merged.append(then)
                    continue
                value = self.result_value()
                merges.append(self.merge(value, then, orelse))
                merged.append(value)
            result = tuple(merged) if several[0] else merged[0]
        self.body.append(ir.If(cond, blocks[0], blocks[1], tuple(merges), self.src.loc(node)))
        return result if rest is not None or result is RAISES else None

    def return_flags(self, node: ast.If) -> list[ast.stmt]:
        """An if that returns on some paths, with code after it that both of
        its sides would fall through to, as Python code without a return:

            _ret_1 = 0.0; _returned_1 = 0.0
            if ...: ... _ret_1 = value; _returned_1 = 1.0 ...
            if _returned_1 > 0.5: return _ret_1

        (what follows a return inside it runs under `if _returned_1 < 0.5:`),
        so that the code after it is lowered once, not into both sides: n
        such ifs in a row would otherwise make 2**n copies."""
        ret, flag = self.namer.fresh("_ret_", first=1), self.namer.fresh("_returned_", first=1)

        def at(new: ast.AST) -> ast.AST:
            return ast.fix_missing_locations(ast.copy_location(new, node))

        def test(op: ast.cmpop) -> ast.expr:
            return at(ast.Compare(at(ast.Name(flag, ast.Load())), [op], [at(ast.Constant(0.5))]))

        def rewrite(stmts: list[ast.stmt]) -> list[ast.stmt]:
            out = []
            for i, stmt in enumerate(stmts):
                if isinstance(stmt, ast.Return):
                    return out + [ast.copy_location(ast.Assign([at(ast.Name(ret, ast.Store()))], stmt.value), stmt),
                                  at(ast.Assign([at(ast.Name(flag, ast.Store()))], at(ast.Constant(1.0))))]
                if isinstance(stmt, ast.If) and _returns_inside(stmt):
                    out.append(ast.copy_location(ast.If(stmt.test, rewrite(stmt.body), rewrite(stmt.orelse)), stmt))
                    if stmts[i + 1:]:
                        out.append(at(ast.If(test(ast.Lt()), rewrite(stmts[i + 1:]), [])))
                    return out
                out.append(stmt)
            return out

        zero = [at(ast.Assign([at(ast.Name(name, ast.Store()))], at(ast.Constant(0.0)))) for name in (ret, flag)]
        leave = at(ast.If(test(ast.Gt()), [at(ast.Return(at(ast.Name(ret, ast.Load()))))], []))
        return zero + rewrite([node]) + [leave]

    def return_from_loop(self, loop: ast.For | ast.While) -> list[ast.stmt]:
        """A return inside a loop, as Python code without one:

            _ret_1 = 0.0; _returned_1 = 0.0
            for ...: ... _ret_1 = value; _returned_1 = 1.0; break ...
            if _returned_1 > 0.5: return _ret_1

        so that break and early return (which lower already) do the work. A
        helper returning several values gets one `_ret_` variable for each (and
        `return value,` stays a 1-tuple)."""
        returns = [sub for sub in ast.walk(loop) if isinstance(sub, ast.Return)]
        width = next((len(r.value.elts) for r in returns if isinstance(r.value, (ast.Tuple, ast.List))), 1)
        rets = [self.namer.fresh("_ret_", first=1) for _ in range(width)]
        flag = self.namer.fresh("_returned_", first=1)

        def name(ident: str, ctx, where: ast.AST) -> ast.Name:
            return ast.copy_location(ast.Name(ident, ctx()), where)

        # `return value,` (a 1-tuple): `_ret_1, = value,`, then `return _ret_1,`
        one_tuple = width == 1 and any(isinstance(r.value, ast.Tuple) for r in returns)

        def names(ctx, where: ast.AST) -> ast.expr:
            if width == 1 and not one_tuple:
                return name(rets[0], ctx, where)
            return ast.copy_location(ast.Tuple([name(r, ctx, where) for r in rets], ctx()), where)

        # has_aux: `_ret_1 = loss; _ret_2 = aux`, the aux computed as written, whatever it is
        aux = self.caller is None and getattr(self, "has_aux", False) and width == 2
        if aux:
            self.aux_names.add(rets[1])

        def store(stmt: ast.Return, value: ast.expr) -> list[ast.stmt]:
            if aux and isinstance(value, ast.Tuple) and len(value.elts) == 2:
                return [ast.copy_location(ast.Assign([name(ret, ast.Store, stmt)], part), stmt)
                        for ret, part in zip(rets, value.elts)]
            return [ast.copy_location(ast.Assign([names(ast.Store, stmt)], value), stmt)]

        def rewrite(stmts: list[ast.stmt]) -> list[ast.stmt]:
            out = []
            for stmt in stmts:
                if isinstance(stmt, ast.Return):
                    value = stmt.value or ast.copy_location(ast.Constant(None), stmt)
                    out += [*store(stmt, value),
                            ast.copy_location(ast.Assign([name(flag, ast.Store, stmt)],
                                                         ast.copy_location(ast.Constant(1.0), stmt)), stmt),
                            ast.copy_location(ast.Break(), stmt)]
                elif isinstance(stmt, ast.If):
                    out.append(ast.copy_location(ast.If(stmt.test, rewrite(stmt.body), rewrite(stmt.orelse)), stmt))
                elif isinstance(stmt, (ast.For, ast.While)) and _returns_inside(stmt):
                    inner = ast.copy_location(type(stmt)(**{**{f: getattr(stmt, f) for f in stmt._fields},
                                                           "body": rewrite(stmt.body)}), stmt)
                    stop = ast.Compare(name(flag, ast.Load, stmt), [ast.Gt()], [ast.Constant(0.5)])
                    out += [inner, ast.copy_location(ast.If(ast.copy_location(stop, stmt),
                                                            [ast.copy_location(ast.Break(), stmt)], []), stmt)]
                else:
                    out.append(stmt)
            return out

        zero = [ast.copy_location(ast.Assign([name(ident, ast.Store, loop)],
                                             ast.copy_location(ast.Constant(0.0), loop)), loop)
                for ident in (*rets, flag)]
        loop_again = ast.copy_location(type(loop)(**{**{f: getattr(loop, f) for f in loop._fields},
                                                    "body": rewrite(loop.body)}), loop)
        test = ast.copy_location(ast.Compare(name(flag, ast.Load, loop), [ast.Gt()], [ast.Constant(0.5)]), loop)
        then = [ast.copy_location(ast.Return(names(ast.Load, loop)), loop)]
        return zero + [loop_again, ast.copy_location(ast.If(test, then, []), loop)]

    def merge(self, target: ir.Value, then: ir.Operand, orelse: ir.Operand) -> ir.Merge:
        """target = then | orelse after an if; a list on either side makes target a list
        symback cannot follow (see flowed_list)."""
        if then in self.sequences or orelse in self.sequences:
            self.list_flows.add(target)
        return ir.Merge(target, then, orelse)

    def flowed_list(self, node: ast.AST) -> None:
        """Refuse a list assigned differently in the two sides of an if, or from one
        iteration of a loop to the next: its adjoint would have to follow it."""
        if isinstance(node, ast.Name) and self.env.get(node.id) in self.list_flows:
            self.fail(UnsupportedSyntax, node, f"{node.id} is a list assigned in an if/else or a loop (a different "
                      "list on each path or in each iteration), which symback does not follow",
                      f"build {node.id} once, before the branch or loop, and append to it, or compute the "
                      "numbers you need inside each branch or iteration")

    def result_value(self) -> ir.Value:
        """A new value for what this function returns: `out`, or the helper's
        name; in a loop body, whether the loop stops (break) on this path."""
        if getattr(self, "in_loop", False):
            return ir.Value("_break", self.namer.fresh("_break_", first=1))
        if self.caller is None:
            return ir.Value("out", self.namer.fresh("out"))
        value = ir.Value(self.name, self.namer.version(self.name))
        self.helper_results.add(value)
        return value

    def stmt_For(self, node: ast.For) -> None:
        """for i in range(...), or over list parameters: a Loop whose carried
        variables are those the body reassigns; never unrolled, whatever the bounds.

        Over lists, the target is matched against what the iterable yields
        (loop_bindings): `for i, (x, y) in enumerate(zip(xs, ys))` binds i to
        the index, x to xs[index] and y to ys[index], for as many iterations as
        the shortest list has elements."""
        it = node.iter
        if node.orelse:
            self.fail(UnsupportedSyntax, node, "for ... else is not supported", "move the else part after the loop")
        if _calls(self, it, range):
            if not isinstance(node.target, ast.Name):
                self.fail(UnsupportedSyntax, node.target, "range(...) gives integers: this loop target cannot "
                          "unpack them", "write for i in range(n)")
            if it.keywords or not 1 <= len(it.args) <= 3:
                self.fail(UnsupportedSyntax, it, "range takes one to three positional arguments",
                          "write range(n), range(a, b) or range(a, b, step)")
            bounds = tuple(self.bound(arg) for arg in it.args)
            self.loop(node, node.target.id, bounds)
            return
        seqs: list[ir.Value] = []
        bindings = self.loop_bindings(node.target, it, seqs)
        # the first counter that counts from 0 is the loop's own index (for i, x in enumerate(xs))
        first = next((k for k, (_, source) in enumerate(bindings) if source == ("count", None)), None)
        index_name = bindings.pop(first)[0] if first is not None else None
        counts = [self.length(seq, it) for seq in dict.fromkeys(seqs)]
        if len(counts) > 1:  # zip stops at the shortest
            tree = ("call", "min", *(("arg", k) for k in range(len(counts))))
            shortest = ir.Value("n", self.namer.fresh("n_zip"))
            self.body.append(ir.Assign(shortest, self.shape(tree, it), tuple(counts), self.src.loc(it)))
            counts = [shortest]
        self.loop(node, index_name, (counts[0],), bindings)

    def loop_bindings(self, target: ast.expr, it: ast.expr, seqs: list[ir.Value]) -> list[tuple[str, tuple]]:
        """Match a for target against the structure of what its iterable yields,
        one level at a time: enumerate(it, start) yields (count, item of it),
        zip(a, b, ...) (item of a, item of b, ...), a list parameter its
        elements (a pair each, if the target unpacks it: for W, b in params).

        Returns (name, source) in the order Python assigns the names; a source
        is ("count", start operand or None for 0) or ("item", list, field or
        None). The lists read are appended to `seqs`; enumerate's start is
        evaluated after its iterable, as Python does."""
        call = self.callee(it) if isinstance(it, ast.Call) and not isinstance(it.func, ast.Attribute) else None
        if call is enumerate or call is zip:
            shown = ast.unparse(it)
            if call is enumerate and (not 1 <= len(it.args) + len(it.keywords) <= 2 or not it.args
                                      or len(it.args) > 2 or any(k.arg != "start" for k in it.keywords)):
                self.fail(UnsupportedSyntax, it, "enumerate takes a list and an optional start here",
                          "write enumerate(xs) or enumerate(xs, start=k)")
            if call is zip and (it.keywords or not it.args):
                self.fail(UnsupportedSyntax, it, "zip takes one or more lists here (no keywords)",
                          "write zip(xs, ys)")
            parts = [None, it.args[0]] if call is enumerate else list(it.args)
            if not isinstance(target, (ast.Tuple, ast.List)):
                self.fail(UnsupportedSyntax, target, f"{ast.unparse(target)} would be a tuple of "
                          f"{len(parts)} values from {shown}; symback needs them unpacked",
                          f"unpack them in the loop: for {_pattern(it)} in {shown}")
            if any(isinstance(elt, ast.Starred) for elt in target.elts):
                self.fail(UnsupportedSyntax, target, "starred loop targets are not supported",
                          f"name each value: for {_pattern(it)} in {shown}")
            if len(target.elts) != len(parts):
                self.fail(UnsupportedSyntax, target, f"this loop target unpacks {len(target.elts)} values, "
                          f"but {shown} gives {len(parts)} at a time",
                          f"match the target to the values: for {_pattern(it)} in {shown}")
            bindings = []
            for elt, part in zip(target.elts, parts):
                if part is None:  # enumerate's count
                    if not isinstance(elt, ast.Name):
                        self.fail(UnsupportedSyntax, elt, f"the count from {shown} is an integer: "
                                  f"{ast.unparse(elt)} cannot unpack it",
                                  f"name it: for {_pattern(it)} in {shown}")
                    bindings.append((elt.id, None))
                else:
                    bindings += self.loop_bindings(elt, part, seqs)
            if call is enumerate:
                start = it.args[1] if len(it.args) == 2 else it.keywords[0].value if it.keywords else None
                start = self.bound(start) if start is not None else None
                bindings = [(name, ("count", start) if source is None else source) for name, source in bindings]
            return bindings
        if call is range:
            self.fail(UnsupportedSyntax, it, "range(...) inside enumerate or zip is not supported",
                      "loop over range(n) alone and index the lists, or use enumerate(xs) for the index")
        if not self.may_be_list(it):
            self.flowed_list(it)
            self.fail(UnsupportedSyntax, it, "loops over anything but range(...) or a list (a parameter, or one "
                      "the function builds) are not supported",
                      "loop over range(n), a list, reversed(xs), enumerate(xs), zip(xs, ys) or these nested, "
                      "such as enumerate(zip(xs, ys))")
        seq = self.sequence(it, it)
        seqs.append(seq)
        if isinstance(target, ast.Name):
            return [(target.id, ("item", seq, None))]
        if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(elt, ast.Name) for elt in target.elts):
            return [(elt.id, ("item", seq, k)) for k, elt in enumerate(target.elts)]  # for W, b in params: pairs
        self.fail(UnsupportedSyntax, target, f"this loop target is not supported over the list {ast.unparse(it)}",
                  f"name each element, or each field of a tuple element: for x in {it.id} or "
                  f"for a, b in {it.id}")

    def stmt_While(self, node: ast.While) -> None:
        """while cond: a Loop that tests cond on the carried values before each
        iteration; the forward pass counts iterations, the reverse runs as many.
        A test that needs statements of its own (a helper call) becomes
        `while True: if not cond: break`, so they run before every test."""
        if node.orelse:
            self.fail(UnsupportedSyntax, node, "while ... else is not supported", "move the else part after the loop")
        assigned = set(stored_names(node.body))
        unbound_first = any(isinstance(sub, ast.Name) and sub.id in assigned and sub.id not in self.env
                            for sub in ast.walk(node.test))  # no value before the loop: maybe none in the test
        if self.needs_statements(node.test) or self.reads_unbound(node.test) or unbound_first:
            test = node.test
            stop = ast.copy_location(ast.If(ast.copy_location(ast.UnaryOp(ast.Not(), test), test),
                                            [ast.copy_location(ast.Break(), test)], []), test)
            node = ast.copy_location(ast.While(ast.copy_location(ast.Constant(True), test),
                                               [stop, *node.body], []), node)
        self.loop(node, None, ())

    def loop(self, node: ast.For | ast.While, index_name: str | None, bounds: tuple,
             bindings: list | None = None) -> None:
        """Lower a loop; `bindings` (see loop_bindings) bind names at the start of
        each iteration, in order: ("item", list, field) to list[index] (or its
        field: for W, b in params), ("count", start) to index + start."""
        bindings = bindings or []
        stored = list(stored_names(node.body))
        targets = [name for name in (index_name, *(name for name, _ in bindings)) if name is not None]
        # Every variable the body assigns is carried from one iteration to the
        # next and out of the loop, as Python does, bound before the loop or
        # not (then its head is UNBOUND until assigned); parse drops the
        # carries nothing reads (see _drop_unread_carries).
        carried = [name for name in dict.fromkeys(stored) if name not in targets]
        before, outer = dict(self.env), self.body
        heads = {name: ir.Value(name, self.new_ident(name) if name in self.env else self.head_ident(name))
                 for name in carried}
        self.list_flows.update(heads[name] for name in carried if before.get(name) in self.sequences)
        for name in carried:  # in the body too (settle): unbound on the first iteration, as before the loop
            if name not in before or before[name] in self.maybe_unbound:
                self.maybe_unbound.add(heads[name])
        if index_name is None and bindings:  # for x in xs: an index of our own
            index_name = self.namer.fresh("_i", first=1)
        index = ir.Value(index_name, self.new_ident(index_name)) if index_name else None
        self.env = {**before, **heads, **({index_name: index} if index else {})}
        self.body = self.nested_block(outer)
        made_targets = {index_name: index} if index is not None and index_name in targets else {}
        for name, source in bindings:
            value = ir.Value(name, self.new_ident(name))
            if source[0] == "item":
                _, seq, field = source  # field: a position in a tuple element (for W, b in params)
                if field is None:  # for i, x in enumerate(xs): xs[i] in the body is x (see read_before)
                    self.item_reads[(seq, index, id(self.body))] = (self.body, len(self.body))
                self.body.append(ir.Item(value, seq, index, self.src.loc(node.target), field))
                self.item_of[value] = seq
            else:  # enumerate's count: index + start
                start = source[1] if source[1] is not None else ir.Const(0)
                self.body.append(ir.Assign(value, shape_of(("bin", "+", ("arg", 0), ("arg", 1))), (index, start),
                                           self.src.loc(node.target)))
            self.env[name] = made_targets[name] = value
        cond = None
        if isinstance(node, ast.While):  # tested on the carried values, before every iteration
            cond_args: list[ir.Operand] = []
            tree = self.condition(node.test, cond_args)
            assert not self.body, "a while test that needs statements is rewritten by stmt_While"
            cond = ir.Assign(ir.Value("_cond", self.namer.fresh("_cond_", first=1)),
                             self.shape(tree, node.test), tuple(cond_args), self.src.loc(node.test))
        in_loop, self.in_loop = getattr(self, "in_loop", False), True
        stops = self.block(list(node.body))  # True where a path ends in break
        self.in_loop = in_loop
        exit_flag = None if stops is None or stops is RAISES or stops == ir.Const(False) else stops
        made = {item.target for item in ir.walk(tuple(self.body))}
        carries = []
        # after the loop, a target (`i` of `for i in`) is its value at the end of the
        # last iteration, as the body left it (or as before the loop, if none ran)
        for name in made_targets:
            heads[name] = ir.Value(name, self.new_ident(name))
        for name in carried + list(made_targets):
            update = self.env[name]
            if update not in made and update != index:
                # e.g. a, b = b, a + b: copy, so each update is this iteration's own value
                copy = ir.Value(name, self.new_ident(name))
                self.body.append(ir.Assign(copy, shape_of(("arg", 0)), (update,), self.src.loc(node)))
                update = copy
            carries.append(ir.Carry(heads[name], before.get(name, ir.UNBOUND), update))
            if update in self.sequences:
                self.list_flows.add(heads[name])
            if name not in before or before[name] in self.maybe_unbound:  # nothing before a loop that may not run
                self.maybe_unbound.add(heads[name])
        body = tuple(self.body)
        self.body, self.env = outer, {**before, **heads}
        count = None
        if cond is not None or exit_flag is not None:  # the sweep runs as many iterations as this counts
            count = ir.Value("_count", self.namer.fresh("_count_", first=1))
        self.body.append(ir.Loop(index, bounds, tuple(carries), body, self.src.loc(node), cond, exit_flag, count))

    def head_ident(self, name: str) -> str:
        """The name of a loop's head for a variable with no value before the
        loop: a version, leaving the plain name to the value the body assigns."""
        ident = self.namer.version(name)
        self.idents.add(ident)
        return ident

    def bound(self, node: ast.expr) -> ir.Operand:
        """An argument of range(), as an operand."""
        tree, args = self.expression(node)
        if tree == ("arg", 0):
            return args[0]
        if tree[0] == "num":
            return ir.Const(tree[1])
        value = ir.Value("_n", self.namer.fresh("_n", first=1))
        self.body.append(ir.Assign(value, self.shape(tree, node), tuple(args), self.src.loc(node)))
        return value


def _calls(lower, node: ast.expr, fn) -> bool:
    """Whether `node` is a call of the built-in `fn` (range, zip, enumerate) by name."""
    return isinstance(node, ast.Call) and not isinstance(node.func, ast.Attribute) and lower.callee(node) is fn


def _pattern(it: ast.expr) -> str:
    """A loop target of the shape `it` yields, for a hint: `i, (x, y)` for
    enumerate(zip(xs, ys)); the names come from the lists'."""
    def shape(node: ast.expr, counters: list[str]) -> str:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("enumerate", "zip"):
            if node.func.id == "enumerate":
                inner = [counters.pop(0) if counters else "k", shape(node.args[0], counters) if node.args else "x"]
            else:
                inner = [shape(arg, counters) for arg in node.args]
            return "(" + ", ".join(inner) + ")"
        if isinstance(node, ast.Name):
            return node.id[:-1] if len(node.id) > 1 and node.id.endswith("s") else f"{node.id}_item"
        return "x"
    return shape(it, ["i", "j", "k"])[1:-1] if isinstance(it, ast.Call) else shape(it, [])


def _ends_in_return(stmts: list[ast.stmt]) -> bool:
    """Whether every path through stmts ends in a return, break, continue or raise."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, ast.If):
        return _ends_in_return(last.body) and _ends_in_return(last.orelse)
    return isinstance(last, (ast.Return, ast.Break, ast.Continue, ast.Raise))


class _Raises:
    """What a block that always raises gives instead of a result."""

    def __repr__(self) -> str:
        return "RAISES"


RAISES = _Raises()


def _copies_rest(node: ast.If, rest: list[ast.stmt]) -> bool:
    """Whether lowering `node` with its returns would copy `rest` into both of
    its sides (neither side ends in a return) when rest is more than a return.
    Not for returns in a loop inside it (return_from_loop rewrites those) or
    of several values (a helper's tuple)."""
    if not rest or (len(rest) == 1 and isinstance(rest[0], ast.Return)):
        return False
    if _ends_in_return(node.body) or _ends_in_return(node.orelse):
        return False
    returns = [sub for sub in ast.walk(node) if isinstance(sub, ast.Return)]
    loops = [sub for sub in ast.walk(node) if isinstance(sub, (ast.For, ast.While))]
    return bool(returns) and not any(_returns_inside(loop) for loop in loops) and \
        not any(isinstance(r.value, (ast.Tuple, ast.List)) or r.value is None for r in returns)


def _returns_inside(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Return) for sub in ast.walk(node))


def _leaves(node: ast.If) -> bool:
    """Whether a return, or a break or continue of the enclosing loop, is inside `node`."""
    todo = list(node.body) + list(node.orelse)
    while todo:
        stmt = todo.pop()
        if isinstance(stmt, (ast.Return, ast.Break, ast.Continue)):
            return True
        if isinstance(stmt, ast.If):
            todo += stmt.body + stmt.orelse
        elif isinstance(stmt, (ast.For, ast.While)):  # a break in there is that loop's
            todo += [sub for sub in ast.walk(stmt) if isinstance(sub, ast.Return)]
    return False


def stored_names(stmts: list[ast.stmt]):
    """The names the statements assign, in order; not a comprehension's own
    variables (`x` in `sum(x * x for x in xs)`), which live in its scope."""
    todo = list(reversed(stmts))
    while todo:
        sub = todo.pop()
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            yield sub.id
        if isinstance(sub, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            todo += [gen.iter for gen in reversed(sub.generators[:1])]  # evaluated outside, as in Python
            continue
        todo += reversed(list(ast.iter_child_nodes(sub)))
