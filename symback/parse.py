"""Function -> ir.Function: resolve names, rename to SSA, one Assign per statement.

This module holds the statements and SSA naming; parse_exprs.py lowers
expressions and calls, parse_flow.py blocks, branches and loops.

Every assignment makes a fresh SSA value (`x`, then `x_1`, ...). Each
right-hand side becomes a shape tree (mathlib) whose placeholders are the
values and constants it reads; the shape's SymPy expression is built once
per distinct tree and shared (see ir.Shape), so parsing costs no SymPy work
for a statement whose form was seen before.

Names resolve as Python resolves them: locals, then the closure, then the
module's globals, then builtins. Module-level numbers are inlined as
constants, taken when the function is compiled. Anything we do not lower
raises a SymbackError at its line; nothing is walked past silently.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import inspect
import math
import types
from typing import NoReturn

from . import ir
from .errors import SymbackError, UnsupportedSyntax
from .names import Namer
from .parse_arrays import ArrayExpressions
from .parse_exprs import _BINOPS, Expressions, _Tree, shape_of
from .parse_flow import ControlFlow
from .parse_nested import Nested, NestedFunctions, as_def, parameter_names, scope_names
from .refusals import UNSUPPORTED
from .source import Source, Walked, child_nodes, read_source

__all__ = ["parse", "shape_of"]


def parse(fn: object, has_aux: bool = False) -> ir.Function:
    """Read `fn`'s source and lower it to an ir.Function; with has_aux, fn
    returns (result, aux) and aux is passed through."""
    source = read_source(fn)
    lower = _Lower(source)
    lower.has_aux = has_aux
    return lower.function()


class _Lower(NestedFunctions, Expressions, ArrayExpressions, ControlFlow):
    """Function body -> ir statements; one method per accepted construct
    (expressions in parse_exprs.py, NumPy's in parse_arrays.py, blocks,
    branches and loops in parse_flow.py, nested defs and lambdas in
    parse_nested.py)."""

    def __init__(self, source: Source, caller: "_Lower | None" = None, nested: Nested | None = None):
        """Lower `source`; a helper called from `caller` shares its body and
        names; a `nested` function also sees its scope's variables."""
        self.src = source
        self.node = source.node
        self.name = source.node.name
        fn = source.fn
        self.globals = fn.__globals__
        self.closure = {}
        self.unbound = set()  # closure variables not assigned yet when grad was called
        for var, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
            try:
                self.closure[var] = cell.cell_contents
            except ValueError:
                self.unbound.add(var)
        self.nodes = Walked(self.node)  # every node of the def, by type, for the scans before lowering
        names, values, self.function_names = _scan(self.node, self.nodes)
        self.locals = values | self.function_names
        self.value_names = values | parameter_names(self.node)  # a nested function may not share one
        self.reserved = frozenset(names)
        self.env: dict[str, ir.Value] = {}
        self.functions: dict[str, Nested] = {}  # nested functions defined so far, by name
        self.outer_locals: frozenset[str] = frozenset()  # enclosing functions' variables
        if nested is not None:
            # Late binding: the enclosing variables as they are now, at the call
            # (the body is inlined here); less the names that are its own.
            scope, own = nested.scope, self.locals | parameter_names(self.node)
            self.env = {name: value for name, value in scope.env.items() if name not in own}
            self.functions = {name: fn for name, fn in scope.functions.items() if name not in own}
            self.outer_locals = frozenset((scope.locals | scope.outer_locals) - own)
        self.caller = caller
        self.several = False  # may return a tuple: set when the caller unpacks the call
        if caller is None:
            self.namer = Namer(self.reserved)
            self.body: list[ir.Assign] = []
            self.stack: tuple = (fn,)                  # functions being lowered, for recursion
            self.helper_results: set[ir.Value] = set()  # values a helper's return made
            self.idents: set[str] = set()              # SSA names given so far, on any path
            self.sequences: set[ir.Value] = set()      # lists: list parameters, and lists built here
            self.built: set[ir.Value] = set()          # lists the function builds (it may append to them)
            self.list_flows: set[ir.Value] = set()     # merges and loop heads of lists (refused when read)
            self.item_of: dict[ir.Value, ir.Value] = {}  # an element -> its list (a row of a list of lists)
            self.sources: list[str] = []               # texts read: this function's, its helpers'
            self.lengths: dict[ir.Value, ir.Length] = {}  # len(xs), computed once at the top
            # (list, index, id(block)) -> (that block, the position of its ir.Item): see Expressions.element
            self.item_reads: dict[tuple, tuple[list, int]] = {}
            self.enclosing: dict[int, tuple[list, list]] = {}  # id(block) -> (block, the block it is in)
            # whether NumPy is used (then any value may be an array): set on first use
            self.array_state = {"used": self.mentions_numpy()}
            self.shared: set[ir.Value] = set()  # values that may be memory another name sees (see stmt_AugAssign)
            self.maybe_unbound: set[ir.Value] = set()  # may have no value where read (see settle)
        else:
            self.array_state = caller.array_state
            self.shared = caller.shared
            self.maybe_unbound = caller.maybe_unbound
            self.namer, self.body = caller.namer, caller.body
            self.namer.avoid(self.reserved)  # the helper's own names: its rewrites must not reuse them
            self.stack, self.helper_results = caller.stack + (nested or fn,), caller.helper_results
            self.idents, self.sequences, self.sources = caller.idents, caller.sequences, caller.sources
            self.built, self.list_flows, self.item_of = caller.built, caller.list_flows, caller.item_of
            self.lengths, self.item_reads, self.enclosing = caller.lengths, caller.item_reads, caller.enclosing
        self.aux_names: set[str] = set()  # has_aux: the `_ret_` variables that hold an aux (return_from_loop)
        if "".join(source.lines) not in self.sources:
            self.sources.append("".join(source.lines))

    # --- errors -------------------------------------------------------------

    def fail(self, cls: type[SymbackError], node: ast.AST, what: str, hint: str = "") -> NoReturn:
        raise cls(what, function=self.name, loc=self.src.loc(node), hint=hint)

    def refuse(self, node: ast.AST) -> NoReturn:
        what, hint = UNSUPPORTED.get(type(node), (f"{type(node).__name__} nodes", "rewrite it as straight-line arithmetic"))
        self.fail(UnsupportedSyntax, node, f"{what} are not supported", hint)

    # --- the function -------------------------------------------------------

    def function(self) -> ir.Function:
        params = self.params()
        doc = ast.get_docstring(self.node, clean=True)
        self.one_tuple = False  # set by ret(): f returns (value,)
        if getattr(self, "has_aux", False):
            self.several = True  # every return gives (result, aux)
        result = self.returning_block(self.statements())
        aux = None
        if getattr(self, "has_aux", False):
            if not (isinstance(result, tuple) and len(result) == 2):
                self.fail(UnsupportedSyntax, self.node, f"with has_aux=True, {self.name}() must return a pair "
                          "(value, aux) on every path", "return loss, aux")
            result, aux = result
        body = tuple(self.lengths.values()) + tuple(self.body)  # lists do not change: one len() each, first
        body = _drop_unread_carries(body, (result, aux))
        self.no_reads_of_replaced(body)
        fn = ir.Function(self.name, self.src.file, self.src.loc().line, params, body,
                         result, doc, self.reserved, frozenset(self.sequences), tuple(self.sources),
                         arrays=self.array_state["used"], aux=aux, one_tuple=self.one_tuple)
        fn.verify()
        return fn

    def no_reads_of_replaced(self, body: tuple) -> None:
        """math.dist and math.sumprod's partials read their lists' elements in the sweep,
        after f ran: a list whose elements are replaced (ys[i] = ...) would give the last
        ones, not those the call read."""
        written = {item.seq for item in ir.walk(body) if isinstance(item, ir.SetItem)}
        for item in ir.walk(body):
            if isinstance(item, ir.ListCall) and item.fn != "fsum" and written.intersection(item.seqs):
                raise UnsupportedSyntax(f"math.{item.fn} of a list whose elements are assigned (ys[i] = ...) is "
                                        "not supported", function=self.name, loc=item.loc,
                                        hint=f"pass math.{item.fn} a copy made where you call it, list(ys)")

    def params(self) -> tuple[ir.Param, ...]:
        args = self.node.args
        if args.vararg or args.kwarg:
            star = args.vararg or args.kwarg
            self.fail(UnsupportedSyntax, star, "*args and **kwargs parameters are not supported",
                      "name each parameter")
        signature = inspect.signature(self.src.fn)
        out = []
        groups = [("positional_only", args.posonlyargs), ("positional", args.args),
                  ("keyword_only", args.kwonlyargs)]
        listed = _used_as_lists(self.node, self.array_state["used"], self.nodes) | self.passed_as_lists(self.node)
        for kind, group in groups:
            for arg in group:
                value = ir.Value(arg.arg, self.namer.claim(arg.arg))
                self.idents.add(value.ident)
                self.env[arg.arg] = value
                if arg.arg in listed:
                    self.sequences.add(value)
                self.shared.add(value)  # the caller's
                default = signature.parameters[arg.arg].default if arg.arg in signature.parameters else inspect.Parameter.empty
                out.append(ir.Param(value, kind, self.default_source(arg, default),
                                    ast.unparse(arg.annotation) if arg.annotation is not None else None))
        return tuple(out)

    def passed_as_lists(self, node: ast.FunctionDef, depth: int = 0) -> set[str]:
        """Names `node` passes to a helper whose parameter there is used as a list
        (`squares(xs)` with `def squares(ys): return sum(y * y for y in ys)`)."""
        out: set[str] = set()
        if depth > 8:  # helpers calling helpers: deep enough (recursion is refused anyway)
            return out
        nodes = self.nodes if node is self.node else Walked(node)
        nested = _nested_defs(node, nodes)
        for call in nodes.of(ast.Call):
            if not isinstance(call.func, ast.Name):
                continue
            if call.func.id in nested:  # a def or lambda inside node (the last of that name will do)
                helper = nested[call.func.id]
            elif call.func.id in self.locals:
                continue
            else:
                fn = self.closure.get(call.func.id, self.globals.get(call.func.id))
                if not inspect.isfunction(fn):
                    continue
                try:
                    helper = read_source(fn).node
                except SymbackError:
                    continue  # refused with its own message when the call is lowered
            params = [arg.arg for arg in helper.args.posonlyargs + helper.args.args]
            lists = _used_as_lists(helper, arrays=self.array_state["used"]) | self.passed_as_lists(helper, depth + 1)
            bound = list(zip(params, call.args)) + [(kw.arg, kw.value) for kw in call.keywords]
            out |= {value.id for param, value in bound if param in lists and isinstance(value, ast.Name)}
        return out

    def default_source(self, arg: ast.arg, default: object) -> str | None:
        if default is inspect.Parameter.empty:
            return None
        if isinstance(default, float) and not math.isfinite(default):
            return f"float('{default}')"
        if isinstance(default, (int, float, complex, str, bytes, bool, type(None))):
            return repr(default)
        self.fail(UnsupportedSyntax, arg, f"the default value of parameter {arg.arg!r} is a "
                  f"{type(default).__name__}", "use a number (or None) as the default")

    # --- statements ---------------------------------------------------------

    def statement(self, node: ast.stmt) -> None:
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            self.refuse(node)
        method(node)

    def stmt_Pass(self, node: ast.Pass) -> None:
        pass

    def stmt_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a string used as a comment
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and \
                isinstance(call.func.value, ast.Name) and self.env.get(call.func.value.id) in self.sequences:
            if call.func.attr == "append":
                self.append(call)
                return
            if call.func.attr == "extend" and len(call.args) == 1 and not call.keywords:
                seq = self.env[call.func.value.id]
                self.check_built(seq, call)
                self.extend(seq, self.sequence(call.args[0], call), call)
                return
            self.fail(UnsupportedSyntax, node, f"{ast.unparse(call.func)}(...) changes a list in place, which "
                      "symback does not differentiate (append is supported)",
                      "build a new list instead, e.g. with a list comprehension or append")
        self.fail(UnsupportedSyntax, node, "expression statements (values computed and thrown away) "
                  "are not supported", "remove it, or assign its value to a variable")


    def stmt_Raise(self, node: ast.Raise) -> None:
        """raise ValueError(f"..."): printed as written, over this path's variables."""
        if node.exc is None or node.cause is not None:
            self.fail(UnsupportedSyntax, node, "a bare raise or raise ... from ... is not supported",
                      "raise a built-in exception, e.g. raise ValueError(\"x must be positive\")")
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        cls = self.lookup(exc) if isinstance(exc, ast.Name) and not self.is_local(exc) else None
        if not (isinstance(cls, type) and issubclass(cls, BaseException) and getattr(builtins, cls.__name__, None) is cls):
            self.fail(UnsupportedSyntax, node.exc, f"raising {ast.unparse(exc)} is not supported: the gradient "
                      "module knows only Python's built-in exceptions",
                      "raise a built-in exception (ValueError, TypeError, ...) with the same message")
        values: list[ir.Operand] = []
        template = self.placeholders(node.exc, values)
        target = ir.Value("_raise", self.namer.fresh("_raise_", first=1))
        self.body.append(ir.Raise(target, tuple(values), ast.unparse(template), self.src.loc(node)))

    def stmt_Assert(self, node: ast.Assert) -> None:
        """assert test, msg: if not test: raise AssertionError(msg), as Python runs it."""
        exc = ast.Call(ast.Name("AssertionError", ast.Load()), [node.msg] if node.msg is not None else [], [])
        rewritten = ast.If(ast.UnaryOp(ast.Not(), node.test), [ast.Raise(exc, None)], [])
        for sub in ast.walk(rewritten):
            if not hasattr(sub, "lineno") and "lineno" in sub._attributes:
                ast.copy_location(sub, node)
        self.if_statement(rewritten, None)

    def stmt_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Lambda):
            self.define_lambda(node)
            return
        first, *others = node.targets
        if isinstance(first, ast.Subscript) and not others and self.is_list(first.value):
            self.set_item(first, node.value)
            return
        if isinstance(first, (ast.Tuple, ast.List)):
            if others:
                self.fail(UnsupportedSyntax, node, "chained assignment to tuples is not supported",
                          "assign in separate statements")
            self.unpack(first, node.value)
            return
        if isinstance(first, ast.Name) and first.id in self.aux_names and not others:
            self.env[first.id] = self.aux_operand(node.value)  # has_aux's aux, returned from a loop
            return
        value = self.assign(first, node.value)
        for target in others:  # a = b = expr: b is a copy of a
            self.bind(target, ("arg", 0), [value], target)

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is None:
            return  # a bare declaration, `x: float`, computes nothing
        if isinstance(node.value, ast.Lambda):
            self.define_lambda(node)
            return
        self.assign(node.target, node.value)

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name) and isinstance(node.op, ast.Add) and self.is_list(node.target):
            seq = self.env[node.target.id]  # ys += [v]: ys extended in place, as Python does
            other = self.sequence(node.value, node)
            self.check_built(seq, node)
            self.extend(seq, other, node)
            return
        if isinstance(node.target, ast.Subscript) and self.is_list(node.target.value):
            # ys[i] += v: ys and i once, then ys[i] = ys[i] + v, as Python runs it
            seq, index = self.writable(node.target)
            hidden, at = self.namer.fresh("_at", first=1), dict(lineno=node.lineno, col_offset=node.col_offset,
                                                                  end_lineno=node.end_lineno,
                                                                  end_col_offset=node.end_col_offset)
            self.env[hidden] = index if isinstance(index, ir.Value) else None
            spot = node.target.slice if isinstance(index, ir.Const) else ast.Name(hidden, ast.Load(), **at)
            read = ast.Subscript(node.target.value, spot, ast.Load(), **at)
            element = self.operand_of(ast.BinOp(read, node.op, node.value, **at),
                                      lambda: ir.Value("_e", self.namer.fresh("_e", first=1)))
            self.env.pop(hidden)
            self.body.append(ir.SetItem(ir.Value("_set", self.namer.fresh("_set", first=1)), seq, index, element,
                                        self.src.loc(node)))
            return
        if not isinstance(node.target, ast.Name):
            self.target_name(node.target)
        name = node.target.id
        value = self.env.get(name)
        if self.array_state["used"] and value is not None and (
                value in self.shared or any(other != name and seen is value for other, seen in self.env.items())):
            # NumPy changes an array in place here; the gradient computes a new one, so
            # whatever else sees that memory (the caller's array, a view) would differ
            self.fail(UnsupportedSyntax, node, f"`{ast.unparse(node).strip()}` changes {name} in place when it is "
                      f"an array, and {name} may share its memory with another variable or the caller (a "
                      "parameter, a copy y = x, a view such as x.T or x[1:])",
                      f"write {name} = {name} {ast.unparse(ast.BinOp(ast.Name('a'), node.op, ast.Name('b')))[2:-2]} "
                      "... (a new array)")
        op = _BINOPS.get(type(node.op))
        if op is None:
            self.fail(UnsupportedSyntax, node, f"the operator {type(node.op).__name__} is not supported",
                      "use + - * / ** // %")
        read = ast.Name(node.target.id, ast.Load(), lineno=node.lineno, col_offset=node.col_offset,
                        end_lineno=node.target.end_lineno, end_col_offset=node.target.end_col_offset)
        combined = ast.BinOp(read, node.op, node.value, lineno=node.lineno, col_offset=node.col_offset,
                             end_lineno=node.end_lineno, end_col_offset=node.end_col_offset)
        self.assign(node.target, combined)

    def check_built(self, seq: ir.Value, node: ast.AST) -> None:
        if seq not in self.built:
            self.fail(UnsupportedSyntax, node, f"`{ast.unparse(node).strip()}` changes a list the caller passed in",
                      f"copy it first ({seq.name} = list({seq.name})), or build a new list")

    def writable(self, target: ast.Subscript) -> tuple[ir.Value, ir.Operand]:
        """The list and index of `ys[i] = ...`: ys must be a list the function built."""
        seq = self.sequence(target.value, target)
        if seq not in self.built:
            self.fail(UnsupportedSyntax, target, f"assigning to {ast.unparse(target)} changes a list the caller "
                      "passed in", f"copy it first ({ast.unparse(target.value)} = list({ast.unparse(target.value)}))"
                      ", or build a new list")
        if isinstance(target.slice, ast.Slice):
            self.fail(UnsupportedSyntax, target, "assigning to a slice is not supported",
                      "assign one element at a time, or build a new list")
        return seq, self.bound(target.slice)

    def set_item(self, target: ast.Subscript, value: ast.expr) -> None:
        """ys[i] = v in a list the function built: v first, then ys and i, as Python runs it."""
        if self.is_list(value):
            self.fail(UnsupportedSyntax, value, "putting a list in a list (a list of lists) is not supported",
                      "build one list of numbers")
        element = self.operand_of(value, lambda: ir.Value("_e", self.namer.fresh("_e", first=1)))
        seq, index = self.writable(target)
        self.body.append(ir.SetItem(ir.Value("_set", self.namer.fresh("_set", first=1)), seq, index, element,
                                    self.src.loc(target)))

    def unpack(self, target: ast.Tuple | ast.List, value: ast.expr) -> None:
        starred = next((elt for elt in target.elts if isinstance(elt, ast.Starred)), None)
        if starred is not None:
            self.fail(UnsupportedSyntax, starred, f"starred assignment ({ast.unparse(starred)}) is not supported",
                      "unpack into one name per value")
        if isinstance(value, ast.Call) and isinstance(self.callee(value), (types.FunctionType, Nested)):
            results = self.inline(value, self.callee(value), several=True)
            if not isinstance(results, tuple) or len(results) != len(target.elts):
                count = len(results) if isinstance(results, tuple) else 1
                self.fail(UnsupportedSyntax, target, f"cannot unpack {count} values into "
                          f"{len(target.elts)} names", "use as many names as the helper returns values")
            for name, result in zip(target.elts, results):
                self.bind(name, ("arg", 0), [result], value, rename=results.count(result) == 1)
            return
        if not isinstance(value, (ast.Tuple, ast.List)):
            self.fail(UnsupportedSyntax, value, "unpacking a value that is not a tuple written out is not "
                      "supported", "write the right-hand side as a tuple, e.g. a, b = x * y, x + y")
        if len(target.elts) != len(value.elts):
            self.fail(UnsupportedSyntax, target, f"cannot unpack {len(value.elts)} values into "
                      f"{len(target.elts)} names", "use as many names as values")
        # Python evaluates the whole right-hand side, left to right, before binding any
        # name: what may raise is computed before a later value's statements (settle)
        lowered: list = []
        for elt in value.elts:
            lowered = [(self.settle([tree], elt, args)[0], args) for tree, args in lowered]
            lowered.append((("arg", 0), [self.sequence(elt, elt)]) if self.is_list(elt) else self.expression(elt))
        for name, (tree, args), elt in zip(target.elts, lowered, value.elts):
            self.bind(name, tree, args, elt)  # a list: the name is the list's (see bind)

    def assign(self, target: ast.expr, value: ast.expr) -> ir.Value:
        if isinstance(target, ast.Name) and self.is_list(value):  # ys = [...]: a list named ys
            made = self.sequence(value, value, name=target.id if not isinstance(value, ast.Name) else None)
            self.env[target.id] = made
            return made
        start = len(self.body)
        tree, args = self.expression(value)
        # `a = helper(...)`: the value may take the name a only if this right-hand side made it
        return self.bind(target, tree, args, value, rename=len(self.body) > start)

    def bind(self, target: ast.expr, tree: _Tree, args: list[ir.Operand], where: ast.AST,
             rename: bool = False) -> ir.Value:
        name = self.target_name(target)
        if tree == ("arg", 0) and args[0] in self.sequences:  # d = helper(xs) returning a list: that list
            self.env[name] = args[0]
            return args[0]
        value = ir.Value(name, self.new_ident(name))
        last = self.body[-1] if self.body else None
        made = args[0] if rename and tree == ("arg", 0) and args[0] in self.helper_results else None
        if isinstance(last, (ir.Assign, ir.Item, ir.ArrayOp)) and made is not None and last.target == made:
            # `a = helper(...)`, `x = xs[i]`: name the new value `a` rather than copying it
            self.body[-1] = dataclasses.replace(last, target=value)
            if made in self.shared:
                self.shared.add(value)
        elif isinstance(last, ir.If) and made is not None and made in [m.target for m in last.merges]:
            # `a = b if c else d`, or a helper returning from a branch: the merge is `a`
            merges = tuple(dataclasses.replace(m, target=value) if m.target == made else m for m in last.merges)
            self.body[-1] = dataclasses.replace(last, merges=merges)
        else:
            self.body.append(ir.Assign(value, self.shape(tree, where), tuple(args), self.src.loc(where)))
            if tree == ("arg", 0) and isinstance(args[0], ir.Value):  # y = x: one array, two names
                self.shared.update((value, args[0]))
        self.env[name] = value
        return value

    def nested_block(self, outer: list) -> list:
        """A new block for the statements of a branch or loop body inside `outer`.
        What `outer` computed so far is computed on every path into it."""
        block: list = []
        self.enclosing[id(block)] = (block, outer)  # holds both: ids stay unique
        return block

    def blocks_in(self) -> list[list]:
        """The block being lowered, then each block it is in, outwards."""
        blocks = [self.body]
        while id(blocks[-1]) in self.enclosing and self.enclosing[id(blocks[-1])][0] is blocks[-1]:
            blocks.append(self.enclosing[id(blocks[-1])][1])
        return blocks

    def new_ident(self, name: str) -> str:
        """The SSA name for a new value of variable `name` in this function."""
        if name in self.idents:  # the plain name is some value's already
            ident = self.namer.version(name)
        elif self.caller is None:
            ident = self.namer.claim(name)  # the function's own variable: its own name
        else:
            ident = self.namer.version(name) if self.namer.is_taken(name) else self.namer.claim(name)
        self.idents.add(ident)
        return ident

    def target_name(self, target: ast.expr) -> str:
        if isinstance(target, ast.Name):
            return target.id
        if isinstance(target, ast.Attribute):
            self.fail(UnsupportedSyntax, target, "assignment to an attribute is not supported",
                      "assign to a local variable")
        if isinstance(target, ast.Subscript) and self.array_state["used"]:
            self.fail(UnsupportedSyntax, target, "assigning to entries of an array changes it in place, which "
                      "symback does not differentiate",
                      "build the new array instead: np.where(mask, new, x), np.concatenate, or arithmetic")
        if isinstance(target, ast.Subscript):
            self.fail(UnsupportedSyntax, target, "assignment to an item is not supported",
                      "assign to a local variable")
        if isinstance(target, (ast.Tuple, ast.List)):
            self.fail(UnsupportedSyntax, target, "nested tuple unpacking is not supported",
                      "unpack one level at a time")
        self.refuse(target)

    def ret(self, node: ast.Return) -> ir.Operand:
        if node.value is None:
            self.fail(UnsupportedSyntax, node, "the function returns nothing",
                      "return the scalar to differentiate")
        if self.caller is None and getattr(self, "has_aux", False):
            if not (isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2):
                self.fail(UnsupportedSyntax, node.value, "with has_aux=True, every return must give a pair "
                          "(value, aux)", "return loss, aux")
            return (self.result_operand(node.value.elts[0]), self.aux_operand(node.value.elts[1]))
        if isinstance(node.value, ast.Tuple) and len(node.value.elts) == 1 and self.caller is None:
            self.one_tuple = True  # return value,: the DEAP convention; differentiated as value
            return self.result_operand(node.value.elts[0])
        if isinstance(node.value, (ast.Tuple, ast.List)) and self.several:
            # a helper whose caller unpacks: a, b = helper(...)
            return tuple(self.result_operand(elt) for elt in node.value.elts)
        if self.is_list(node.value):
            if self.caller is None:
                self.fail(UnsupportedSyntax, node.value, f"{self.name}() returns a list: a gradient needs one "
                          "scalar output", "return a single number (for example, the sum of the list)")
            return self.sequence(node.value, node.value, name=self.name)  # a helper that returns a list
        if isinstance(node.value, (ast.Tuple, ast.List)):
            what = "returning several values is not supported: a gradient needs one scalar output" \
                if self.caller is None else f"{self.name}() returns several values here"
            hint = "unpack them, a, b = f(...)" if self.caller else "return a single number (for example, their sum)"
            self.fail(UnsupportedSyntax, node.value, what, hint)
        return self.result_operand(node.value)

    def result_operand(self, node: ast.expr) -> ir.Operand:
        """A returned expression as an operand: a new value unless it is one already."""
        made = self.operand_of(node, self.result_value)
        if made in self.sequences and self.caller is None:
            self.fail(UnsupportedSyntax, node, f"{self.name}() returns a list: a gradient needs one scalar output",
                      "return a single number (for example, the sum of the list)")
        return made

    def aux_operand(self, node: ast.expr) -> ir.Operand:
        """has_aux's aux: any expression, computed as written, with no gradient."""
        if isinstance(node, ast.Name) and node.id in self.env:
            return self.env[node.id]
        values: list[ir.Operand] = []
        template = self.placeholders(node, values)
        value = ir.Value("aux", self.namer.fresh("aux"))
        self.body.append(ir.ArrayOp(value, "constant", tuple(values), (), ast.unparse(template), self.src.loc(node)))
        return value

    def operand_of(self, node: ast.expr, new_value) -> ir.Operand:
        """An expression as an operand: itself if it is a value or a number
        (`return z`), else a new value from new_value() that computes it."""
        tree, args = self.expression(node)
        if tree == ("arg", 0) and not (self.caller is not None and args[0] in self.maybe_unbound):
            return args[0]  # a helper's `return a` where a may have no value: read there, as Python does
        if tree[0] == "num":
            return ir.Const(tree[1])
        value = new_value()
        self.body.append(ir.Assign(value, self.shape(tree, node), tuple(args), self.src.loc(node)))
        return value

    def statements(self) -> list[ast.stmt]:
        """The body without its docstring (refused first if it defines a
        function where it cannot be followed; see check_nested)."""
        self.check_nested()
        stmts = list(self.node.body)
        if ast.get_docstring(self.node, clean=True) is not None:
            stmts = stmts[1:]
        return stmts


    # --- blocks and branches ------------------------------------------------


    # --- helper functions ---------------------------------------------------


    # --- expressions --------------------------------------------------------


def _drop_unread_carries(body: tuple, results: tuple) -> tuple:
    """The body without the loop carries and merges whose value nothing
    reads: a loop carries every variable it assigns (see ControlFlow.loop),
    and an if merges every variable a side assigns, most of which are only
    read inside one iteration or one side. Dropped, they copy nothing (a
    copy of a variable that may have no value would raise)."""
    read = {result for result in results if isinstance(result, ir.Value)}  # the result, and has_aux's aux
    plumbing = []  # carries and merges: live only if their own value is read
    for item in ir.walk(body):
        if isinstance(item, (ir.Carry, ir.Merge)):
            plumbing.append(item)
        else:
            read.update(ir.reads(item))
    for stmt in ir.loops(body):
        read.update(stmt.bounds)
        read.add(stmt.exit)
    read.update(ir.conds(body))
    live: set = set()
    while True:
        more = {item.target for item in plumbing if item.target in read} - live
        if not more:
            break
        live |= more
        read.update(value for item in plumbing if item.target in more for value in item.sources)
    dead = {item.target for item in plumbing} - live
    return _without_plumbing(body, dead) if dead else body


def _without_plumbing(stmts: tuple, dead: set) -> tuple:
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.Loop):
            stmt = dataclasses.replace(stmt, carried=tuple(c for c in stmt.carried if c.head not in dead),
                                       body=_without_plumbing(stmt.body, dead))
        elif isinstance(stmt, ir.If):
            stmt = dataclasses.replace(stmt, then=_without_plumbing(stmt.then, dead),
                                       orelse=_without_plumbing(stmt.orelse, dead),
                                       merges=tuple(m for m in stmt.merges if m.target not in dead))
        out.append(stmt)
    return tuple(out)


def _used_as_lists(node: ast.FunctionDef, arrays: bool = False, nodes: Walked | None = None) -> set[str]:
    """Names the body indexes, takes len() or sum() of, or loops over: list
    parameters. In NumPy code, indexing and len() are an array's: only a loop
    (or zip, enumerate, sum) makes a list. `nodes`: node's, walked, if known."""
    names: set[str] = set()
    if nodes is not None and not nodes.inside(_SCOPES):
        for sub in nodes.of(*_LIST_SIGNS):  # no nested function: no names of their own to take out, in any order
            _list_uses(sub, arrays, names)
        return names
    todo = [(node, frozenset())]  # a node, and the names a nested function around it makes its own
    while todo:
        sub, own = todo.pop()
        if type(sub) in _LIST_SIGNS:
            _list_uses(sub, arrays, names)
        if own:
            names -= own
        if sub is not node and isinstance(sub, ast.FunctionDef):  # a closure's use of xs is f's; its ys is its own
            own = own | parameter_names(sub) | set().union(*scope_names(sub))
        elif isinstance(sub, ast.Lambda):
            own = own | parameter_names(sub)
        todo += [(child, own) for child in child_nodes(sub)]
    return names


def _list_uses(sub: ast.AST, arrays: bool, names: set[str]) -> None:
    """Add to `names` the names `sub` (a subscript, call or loop) uses as lists."""
    if isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and not arrays:
        names.add(sub.value.id)
    elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and \
            sub.func.id in (("sum", "zip", "enumerate") if arrays else
                            ("len", "sum", "zip", "enumerate", "reversed", "list")):
        # zip's arguments are all lists; sum's and enumerate's second is a start
        listed = sub.args if sub.func.id == "zip" else sub.args[:1]
        names.update(arg.id for arg in listed if isinstance(arg, ast.Name))
    elif isinstance(sub, ast.Call) and not sub.keywords and len(sub.args) == 1 and \
            isinstance(sub.func, ast.Name) and sub.func.id in ("max", "min", "any", "all") and \
            isinstance(sub.args[0], ast.Name):
        names.add(sub.args[0].id)  # max(xs): of one argument, a list
    elif isinstance(sub, ast.Call) and (isinstance(sub.func, ast.Name) and not arrays or
                                        isinstance(sub.func, ast.Attribute) and
                                        isinstance(sub.func.value, ast.Name) and sub.func.value.id == "math") and \
            (sub.func.id if isinstance(sub.func, ast.Name) else sub.func.attr) in _OF_WHOLE_LISTS:
        names.update(arg.id for arg in sub.args if isinstance(arg, ast.Name))
    elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "copy" and \
            isinstance(sub.func.value, ast.Name) and not arrays:
        names.add(sub.func.value.id)  # xs.copy()
    elif isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Add) and not arrays and \
            any(isinstance(side, (ast.List, ast.ListComp)) for side in (sub.left, sub.right)):
        names.update(side.id for side in (sub.left, sub.right) if isinstance(side, ast.Name))  # xs + [v]
    elif isinstance(sub, (ast.For, ast.comprehension)) and isinstance(sub.iter, ast.Name):
        names.add(sub.iter.id)


_OF_WHOLE_LISTS = ("fsum", "prod", "dist", "sumprod")  # math functions of lists
_LIST_SIGNS = frozenset((ast.Subscript, ast.Call, ast.For, ast.comprehension, ast.BinOp))  # what _used_as_lists reads
_SCOPES = frozenset((ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))  # nodes with names of their own


def _nested_defs(node: ast.FunctionDef, nodes: Walked) -> dict[str, ast.FunctionDef]:
    """The defs and `name = lambda ...` inside node (whose nodes are `nodes`), at any
    depth, by name (lambdas as defs)."""
    def binds(sub: ast.AST) -> bool:
        return (type(sub) is ast.FunctionDef and sub is not node) or \
            (type(sub) in (ast.Assign, ast.AnnAssign) and isinstance(sub.value, ast.Lambda))

    found = [sub for sub in nodes.of(ast.FunctionDef, ast.Assign, ast.AnnAssign) if binds(sub)]
    if len({type(sub) for sub in found}) > 1:  # the last binding of a name wins: take them in the walk's order
        found = [sub for sub in nodes.order if binds(sub)]
    out = {}
    for sub in found:
        if isinstance(sub, ast.FunctionDef):
            out[sub.name] = sub
        elif isinstance(sub, (ast.Assign, ast.AnnAssign)) and isinstance(sub.value, ast.Lambda):
            targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                out[targets[0].id] = as_def(sub.value, targets[0].id)
    return out


def _scan(node: ast.FunctionDef, nodes: Walked) -> tuple[set[str], set[str], set[str]]:
    """Every identifier the source mentions (generated names must avoid them),
    the names Python treats as local (bound anywhere in the body, not inside
    a nested function) bound to values, and those def or lambda bind.
    `nodes` are node's, walked."""
    names = {node.name}
    names.update(sub.id for sub in nodes.of(ast.Name))
    names.update(sub.arg for sub in nodes.of(ast.arg))
    names.update(sub.name for sub in nodes.of(ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    values, functions = scope_names(node, nodes)
    return names, values, functions
