"""Function -> ir.Function: resolve names, rename to SSA, one Assign per statement.

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
import inspect
import math
import types
from typing import NoReturn

import sympy as sp

from . import ir, mathlib
from .errors import NotDifferentiable, SymbackError, UnsupportedCall, UnsupportedSyntax
from .names import Namer
from .refusals import UNSUPPORTED
from .source import Source, read_source


def parse(fn: object) -> ir.Function:
    """Read `fn`'s source and lower it to an ir.Function."""
    source = read_source(fn)
    return _Lower(source).function()


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
           ast.FloorDiv: "//", ast.Mod: "%"}

# A tree (mathlib) paired with the operands its placeholders stand for.
_Tree = tuple

_SHAPES: dict[tuple, ir.Shape] = {}  # every shape seen in this process, interned


def shape_of(tree: tuple) -> ir.Shape:
    """The interned Shape for a tree; builds its SymPy expression on first sight."""
    shape = _SHAPES.get(tree)
    if shape is None:
        arity = _arity(tree)
        expr = mathlib.to_sympy(tree, [mathlib.placeholder(i) for i in range(arity)])
        shape = ir.Shape(tree, sp.sympify(expr), arity)
        _SHAPES[tree] = shape
    return shape


def _arity(tree: tuple) -> int:
    if tree[0] == "arg":
        return tree[1] + 1
    return max((_arity(child) for child in tree[1:] if isinstance(child, tuple)), default=0)


class _Lower:
    """Function body -> ir statements; one method per accepted construct."""

    def __init__(self, source: Source, caller: "_Lower | None" = None):
        """Lower `source`; a helper called from `caller` shares its body and names."""
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
        names, self.locals = _scan(self.node)
        self.reserved = frozenset(names)
        self.env: dict[str, ir.Value] = {}
        self.caller = caller
        self.several = False  # may return a tuple: set when the caller unpacks the call
        if caller is None:
            self.namer = Namer(self.reserved)
            self.body: list[ir.Assign] = []
            self.stack: tuple = (fn,)                  # functions being lowered, for recursion
            self.helper_results: set[ir.Value] = set()  # values a helper's return made
            self.idents: set[str] = set()              # SSA names given so far, on any path
        else:
            self.namer, self.body = caller.namer, caller.body
            self.stack, self.helper_results = caller.stack + (fn,), caller.helper_results
            self.idents = caller.idents

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
        result = self.returning_block(self.statements())
        fn = ir.Function(self.name, self.src.file, self.src.loc().line, params, tuple(self.body),
                         result, doc, self.reserved)
        fn.verify()
        return fn

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
        for kind, group in groups:
            for arg in group:
                value = ir.Value(arg.arg, self.namer.claim(arg.arg))
                self.env[arg.arg] = value
                default = signature.parameters[arg.arg].default if arg.arg in signature.parameters else inspect.Parameter.empty
                out.append(ir.Param(value, kind, self.default_source(arg, default)))
        return tuple(out)

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
        self.fail(UnsupportedSyntax, node, "expression statements (values computed and thrown away) "
                  "are not supported", "remove it, or assign its value to a variable")

    def stmt_For(self, node: ast.For) -> None:
        """for i in range(...): a Loop whose carried variables are those the body
        reassigns; never unrolled, whatever the bounds."""
        it = node.iter
        if node.orelse:
            self.fail(UnsupportedSyntax, node, "for ... else is not supported", "move the else part after the loop")
        if not isinstance(node.target, ast.Name):
            self.fail(UnsupportedSyntax, node.target, "a for loop over range needs one loop variable",
                      "write for i in range(...)")
        if not (isinstance(it, ast.Call) and not it.keywords and 1 <= len(it.args) <= 3
                and not isinstance(it.func, ast.Attribute) and self.callee(it) is range):
            self.fail(UnsupportedSyntax, it, "loops over anything but range(...) are not supported yet",
                      "loop over an index: for i in range(n)")
        for sub in ast.walk(ast.Module(body=node.body, type_ignores=[])):
            if isinstance(sub, (ast.Return, ast.Break, ast.Continue)):
                what = {ast.Return: "return", ast.Break: "break", ast.Continue: "continue"}[type(sub)]
                self.fail(UnsupportedSyntax, sub, f"{what} inside a loop is not supported yet",
                          "compute the result after the loop")
        bounds = tuple(self.bound(arg) for arg in it.args)
        stored = [sub.id for stmt in node.body for sub in ast.walk(stmt)
                  if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store)]
        carried = [name for name in dict.fromkeys(stored) if name in self.env and name != node.target.id]
        before, outer = dict(self.env), self.body
        heads = {name: ir.Value(name, self.new_ident(name)) for name in carried}
        index = ir.Value(node.target.id, self.new_ident(node.target.id))
        self.env = {**before, **heads, node.target.id: index}
        self.body = []
        self.block(list(node.body))
        made = {item.target for item in ir.walk(tuple(self.body))}
        carries = []
        for name in carried:
            update = self.env[name]
            if update not in made:  # e.g. a, b = b, a + b: copy, so each update is this iteration's own value
                copy = ir.Value(name, self.new_ident(name))
                self.body.append(ir.Assign(copy, shape_of(("arg", 0)), (update,), self.src.loc(node)))
                update = copy
            carries.append(ir.Carry(heads[name], before[name], update))
        body = tuple(self.body)
        self.body, self.env = outer, {**before, **heads}
        self.body.append(ir.Loop(index, bounds, tuple(carries), body, self.src.loc(node)))

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

    def stmt_Assign(self, node: ast.Assign) -> None:
        first, *others = node.targets
        if isinstance(first, (ast.Tuple, ast.List)):
            if others:
                self.fail(UnsupportedSyntax, node, "chained assignment to tuples is not supported",
                          "assign in separate statements")
            self.unpack(first, node.value)
            return
        value = self.assign(first, node.value)
        for target in others:  # a = b = expr: b is a copy of a
            self.bind(target, ("arg", 0), [value], target)

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is None:
            return  # a bare declaration, `x: float`, computes nothing
        self.assign(node.target, node.value)

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        if not isinstance(node.target, ast.Name):
            self.target_name(node.target)
        op = _BINOPS.get(type(node.op))
        if op is None:
            self.fail(UnsupportedSyntax, node, f"the operator {type(node.op).__name__} is not supported",
                      "use + - * / ** // %")
        read = ast.Name(node.target.id, ast.Load(), lineno=node.lineno, col_offset=node.col_offset,
                        end_lineno=node.target.end_lineno, end_col_offset=node.target.end_col_offset)
        combined = ast.BinOp(read, node.op, node.value, lineno=node.lineno, col_offset=node.col_offset,
                             end_lineno=node.end_lineno, end_col_offset=node.end_col_offset)
        self.assign(node.target, combined)

    def unpack(self, target: ast.Tuple | ast.List, value: ast.expr) -> None:
        if isinstance(value, ast.Call) and isinstance(self.callee(value), types.FunctionType):
            results = self.inline(value, self.callee(value), several=True)
            if not isinstance(results, tuple) or len(results) != len(target.elts):
                count = len(results) if isinstance(results, tuple) else 1
                self.fail(UnsupportedSyntax, target, f"cannot unpack {count} values into "
                          f"{len(target.elts)} names", "use as many names as the helper returns values")
            for name, result in zip(target.elts, results):
                self.bind(name, ("arg", 0), [result], value)
            return
        if not isinstance(value, (ast.Tuple, ast.List)):
            self.fail(UnsupportedSyntax, value, "unpacking a value that is not a tuple written out is not "
                      "supported", "write the right-hand side as a tuple, e.g. a, b = x * y, x + y")
        if len(target.elts) != len(value.elts):
            self.fail(UnsupportedSyntax, target, f"cannot unpack {len(value.elts)} values into "
                      f"{len(target.elts)} names", "use as many names as values")
        # Python evaluates the whole right-hand side before binding any name.
        lowered = [self.expression(elt) for elt in value.elts]
        for name, (tree, args), elt in zip(target.elts, lowered, value.elts):
            self.bind(name, tree, args, elt)

    def assign(self, target: ast.expr, value: ast.expr) -> ir.Value:
        tree, args = self.expression(value)
        return self.bind(target, tree, args, value)

    def bind(self, target: ast.expr, tree: _Tree, args: list[ir.Operand], where: ast.AST) -> ir.Value:
        name = self.target_name(target)
        value = ir.Value(name, self.new_ident(name))
        last = self.body[-1] if self.body else None
        if (tree == ("arg", 0) and isinstance(last, ir.Assign) and args[0] in self.helper_results
                and last.target == args[0]):
            # `a = helper(...)`: name the helper's result `a` rather than copying it
            self.body[-1] = ir.Assign(value, last.shape, last.args, last.loc)
        else:
            self.body.append(ir.Assign(value, self.shape(tree, where), tuple(args), self.src.loc(where)))
        self.env[name] = value
        return value

    def new_ident(self, name: str) -> str:
        """The SSA name for a new value of variable `name` in this function."""
        if name in self.env or name in self.idents:
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
        if isinstance(node.value, (ast.Tuple, ast.List)):
            if self.several:  # a helper whose caller unpacks: a, b = helper(...)
                return tuple(self.result_operand(elt) for elt in node.value.elts)
            what = "returning several values is not supported: a gradient needs one scalar output" \
                if self.caller is None else f"{self.name}() returns several values here"
            hint = "unpack them, a, b = f(...)" if self.caller else "return a single number (for example, their sum)"
            self.fail(UnsupportedSyntax, node.value, what, hint)
        return self.result_operand(node.value)

    def result_operand(self, node: ast.expr) -> ir.Operand:
        """A returned expression as an operand: a new value unless it is one already."""
        tree, args = self.expression(node)
        if tree == ("arg", 0):
            return args[0]  # `return z`: the result is z itself
        if tree[0] == "num":
            return ir.Const(tree[1])
        value = self.result_value()
        self.body.append(ir.Assign(value, self.shape(tree, node), tuple(args), self.src.loc(node)))
        return value

    def statements(self) -> list[ast.stmt]:
        """The body without its docstring."""
        stmts = list(self.node.body)
        if ast.get_docstring(self.node, clean=True) is not None:
            stmts = stmts[1:]
        return stmts

    def returning_block(self, stmts: list[ast.stmt]) -> ir.Operand:
        result = self.block(stmts)
        if result is None:
            where = stmts[-1] if stmts else self.node
            self.fail(UnsupportedSyntax, where, "the function must end with a return statement",
                      "return the scalar to differentiate as the last statement")
        return result

    # --- blocks and branches ------------------------------------------------

    def block(self, stmts: list[ast.stmt]) -> ir.Operand | None:
        """Lower statements into self.body; the result operand if they return.

        An `if` with a return inside takes the rest of the block into its
        branches (`if c: return a` then `return b` is `if c: a else: b`), so
        every path ends in a return and the results merge.
        """
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, ast.Return):
                if i + 1 < len(stmts):
                    self.fail(UnsupportedSyntax, stmts[i + 1], "code after return is never run", "remove it")
                return self.ret(stmt)
            if isinstance(stmt, ast.If):
                if any(isinstance(sub, ast.Return) for sub in ast.walk(stmt)):
                    return self.if_statement(stmt, list(stmts[i + 1:]))
                self.if_statement(stmt, None)
                continue
            self.statement(stmt)
        return None

    def if_statement(self, node: ast.If, rest: list[ast.stmt] | None) -> ir.Operand | None:
        """if/elif/else: a condition value, two blocks, and merges of what they assign."""
        cond_args: list[ir.Operand] = []
        tree = self.condition(node.test, cond_args)
        cond = ir.Value("_cond", self.namer.fresh("_cond_", first=1))
        self.body.append(ir.Assign(cond, self.shape(tree, node.test), tuple(cond_args), self.src.loc(node.test)))
        before, outer = dict(self.env), self.body
        results, envs, blocks = [], [], []
        for branch in (node.body, node.orelse):
            stmts = list(branch)
            if rest is not None and not _ends_in_return(stmts):
                stmts += rest  # the code after the if runs on this path
            self.env, self.body = dict(before), []
            results.append(self.block(stmts))
            envs.append(self.env)
            blocks.append(tuple(self.body))
        self.body, self.env = outer, dict(before)
        merges = []
        for name in dict.fromkeys([*envs[0], *envs[1]]):  # in order of first assignment
            then, orelse = envs[0].get(name), envs[1].get(name)
            if then is None or orelse is None:
                self.env.pop(name, None)  # assigned on one path only: unbound after the if
            elif then == orelse:
                self.env[name] = then
            else:
                target = ir.Value(name, self.namer.version(name))
                merges.append(ir.Merge(target, then, orelse))
                self.env[name] = target
        result = None
        if rest is not None:
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
                merges.append(ir.Merge(value, then, orelse))
                merged.append(value)
            result = tuple(merged) if several[0] else merged[0]
        self.body.append(ir.If(cond, blocks[0], blocks[1], tuple(merges), self.src.loc(node)))
        return result

    def result_value(self) -> ir.Value:
        """A new value for what this function returns: `out`, or the helper's name."""
        if self.caller is None:
            return ir.Value("out", self.namer.fresh("out"))
        value = ir.Value(self.name, self.namer.version(self.name))
        self.helper_results.add(value)
        return value

    # --- helper functions ---------------------------------------------------

    def callee(self, node: ast.Call) -> object:
        """The object a call calls, resolved as Python would."""
        func = node.func
        if isinstance(func, ast.Name) and (func.id in self.env or func.id in self.locals):
            self.fail(UnsupportedCall, node, f"calling the local variable {func.id!r} is not supported",
                      "call math functions, abs/min/max or Python functions")
        if isinstance(func, ast.Name):
            return self.lookup(func)
        if isinstance(func, ast.Attribute):
            return self.attribute(func)
        self.fail(UnsupportedCall, node, "this kind of call is not supported",
                  "call functions by name")

    def inline(self, node: ast.Call, fn: object, several: bool = False) -> ir.Operand | tuple[ir.Operand, ...]:
        """A call to a Python function: its body, lowered in place (inlined).
        Its result: one operand, or a tuple of them if `several` allows."""
        shown = ast.unparse(node.func)
        if fn in self.stack:
            self.fail(UnsupportedCall, node, f"{shown}() calls itself, directly or through other functions",
                      "symback cannot differentiate recursion; write it without the recursive call")
        try:
            source = read_source(fn)
        except SymbackError as err:
            self.fail(type(err), node, f"cannot follow the call to {shown}: {err.what}", err.hint)
        helper = _Lower(source, caller=self)
        helper.several = several
        if helper.node.args.vararg or helper.node.args.kwarg:
            helper.fail(UnsupportedSyntax, helper.node, "*args and **kwargs parameters are not supported",
                        "name each parameter")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.refuse(arg)
        if any(keyword.arg is None for keyword in node.keywords):
            self.fail(UnsupportedCall, node, f"**kwargs in the call to {shown} are not supported",
                      "pass the arguments by name")
        signature = inspect.signature(fn)
        try:
            bound = signature.bind(*node.args, **{keyword.arg: keyword.value for keyword in node.keywords})
        except TypeError as err:
            self.fail(UnsupportedCall, node, f"the call to {shown} does not match its parameters ({err})",
                      "pass one argument per parameter")
        for name, param in signature.parameters.items():
            if name in bound.arguments:  # evaluated here, in the caller, like Python does
                where = bound.arguments[name]
                tree, targs = self.expression(where)
                loc, shape = self.src.loc(where), self.shape(tree, where)
            elif isinstance(param.default, (int, float)) and not isinstance(param.default, bool):
                tree, targs = self.expression(ast.Constant(param.default, lineno=node.lineno,
                                                           col_offset=node.col_offset))
                loc, shape = helper.src.loc(), shape_of(tree)
            else:
                self.fail(UnsupportedCall, node, f"parameter {name!r} of {shown} has no numeric value here",
                          "pass it a number")
            if tree == ("arg", 0) and isinstance(targs[0], ir.Value):
                helper.env[name] = targs[0]  # a plain name: no copy needed
                continue
            value = ir.Value(name, helper.new_ident(name))
            self.body.append(ir.Assign(value, shape, tuple(targs), loc))
            helper.env[name] = value
        try:
            result = helper.returning_block(helper.statements())
        except SymbackError as err:
            raise err.called_from(self.name, self.src.loc(node)) from None
        return result

    def shape(self, tree: _Tree, where: ast.AST) -> ir.Shape:
        shape = shape_of(tree)
        if not shape.is_real:
            self.fail(NotDifferentiable, where, f"this expression is not a finite real number "
                      f"(SymPy reads it as {shape.expr})", "check for a division by zero or a root of a "
                      "negative constant")
        return shape

    # --- expressions --------------------------------------------------------

    def expression(self, node: ast.expr) -> tuple[_Tree, list[ir.Operand]]:
        """A right-hand side -> (shape tree, operands in placeholder order)."""
        args: list[ir.Operand] = []
        tree = self.expr(node, args, exponent=False)
        return tree, args

    def expr(self, node: ast.expr, args: list[ir.Operand], exponent: bool) -> _Tree:
        """Lower one expression node. In an exponent, constants stay literal
        (x**0.5 must stay a half power for SymPy to differentiate it well)."""
        if isinstance(node, ast.Constant):
            return self.number(node, node.value, args, exponent)
        if isinstance(node, ast.Name):
            return self.name_ref(node, args, exponent)
        if isinstance(node, ast.Attribute):
            return self.resolved(node, self.attribute(node), args, exponent)
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                what = "matrix multiplication (@)" if isinstance(node.op, ast.MatMult) else \
                    f"the operator {type(node.op).__name__}"
                self.fail(UnsupportedSyntax, node, f"{what} is not supported", "use + - * / ** // %")
            left = self.expr(node.left, args, exponent)
            right = self.expr(node.right, args, exponent or op == "**")
            return ("bin", op, left, right)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                inner = self.expr(node.operand, args, exponent)
                if inner[0] == "num":
                    return ("num", -inner[1])
                return ("neg", inner)
            if isinstance(node.op, ast.UAdd):
                return ("pos", self.expr(node.operand, args, exponent))
            self.fail(UnsupportedSyntax, node, f"the operator '{'not' if isinstance(node.op, ast.Not) else '~'}' "
                      "is not supported", "use arithmetic operators")
        if isinstance(node, ast.Call):
            return self.call(node, args, exponent)
        if isinstance(node, ast.IfExp):
            return ("if", self.condition(node.test, args),
                    self.expr(node.body, args, exponent), self.expr(node.orelse, args, exponent))
        if isinstance(node, (ast.Compare, ast.BoolOp)):
            self.fail(UnsupportedSyntax, node, "a comparison used as a number is not supported",
                      "use comparisons as conditions, e.g. a if x > 0 else b")
        self.refuse(node)

    _COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}

    def condition(self, node: ast.expr, args: list[ir.Operand]) -> _Tree:
        """The test of `a if test else b`: comparisons joined by and/or/not."""
        if isinstance(node, ast.BoolOp):
            kind = "and" if isinstance(node.op, ast.And) else "or"
            return (kind, *(self.condition(value, args) for value in node.values))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ("not", self.condition(node.operand, args))
        if isinstance(node, ast.Compare):
            trees = [self.expr(part, args, False) for part in (node.left, *node.comparators)]
            tests = []
            for op, left, right in zip(node.ops, trees, trees[1:]):  # a < b < c is a < b and b < c
                if type(op) not in self._COMPARE:
                    self.fail(UnsupportedSyntax, node, f"the comparison {type(op).__name__} is not supported",
                              "compare numbers with < <= > >= == !=")
                tests.append(("cmp", self._COMPARE[type(op)], left, right))
            return tests[0] if len(tests) == 1 else ("and", *tests)
        self.fail(UnsupportedSyntax, node, "this condition is not a comparison",
                  "write a comparison, e.g. x > 0 (the truth value of a number is not supported)")

    def number(self, node: ast.AST, value: object, args: list[ir.Operand], exponent: bool) -> _Tree:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(UnsupportedSyntax, node, f"the constant {value!r:.40} ({type(value).__name__}) "
                      "is not supported", "use int or float numbers")
        if isinstance(value, int) or exponent:
            return ("num", value)
        return self.operand(ir.Const(value), args)

    def operand(self, operand: ir.Operand, args: list[ir.Operand]) -> _Tree:
        if operand not in args:
            args.append(operand)
        return ("arg", args.index(operand))

    def name_ref(self, node: ast.Name, args: list[ir.Operand], exponent: bool) -> _Tree:
        name = node.id
        if name in self.env:
            return self.operand(self.env[name], args)
        if name in self.locals:
            self.fail(UnsupportedSyntax, node, f"{name!r} is used before it is assigned",
                      f"assign {name} before this line")
        return self.resolved(node, self.lookup(node), args, exponent)

    def lookup(self, node: ast.Name) -> object:
        name = node.id
        if name in self.unbound:
            self.fail(UnsupportedSyntax, node, f"the enclosing function's variable {name!r} has no value yet",
                      f"assign {name} before calling grad")
        for scope in (self.closure, self.globals, vars(builtins)):
            if name in scope:
                return scope[name]
        self.fail(UnsupportedSyntax, node, f"name {name!r} is not defined",
                  "define it at module level or pass it as a parameter")

    def attribute(self, node: ast.Attribute) -> object:
        base = node.value
        if isinstance(base, ast.Name) and base.id not in self.env and base.id not in self.locals:
            module = self.lookup(base)
            if module is math:
                if not hasattr(math, node.attr):
                    self.fail(UnsupportedCall, node, f"math has no attribute {node.attr!r}",
                              "check the spelling")
                return getattr(math, node.attr)
            kind = f"module {module.__name__}" if inspect.ismodule(module) else type(module).__name__
            self.fail(UnsupportedCall, node, f"{ast.unparse(node)} ({kind}) is not supported",
                      "use the math module's functions and constants")
        self.fail(UnsupportedSyntax, node, "attribute access is not supported",
                  "pass the value as a parameter")

    def resolved(self, node: ast.AST, obj: object, args: list[ir.Operand], exponent: bool) -> _Tree:
        """A name or attribute bound to an object outside the function."""
        if id(obj) in mathlib.CONSTANT_OBJECTS:
            return ("const", mathlib.CONSTANT_OBJECTS[id(obj)])
        if isinstance(obj, (int, float)) and not isinstance(obj, bool):
            return self.number(node, obj, args, exponent)
        if callable(obj):
            self.fail(UnsupportedSyntax, node, f"the function {ast.unparse(node)} is used as a value",
                      "call it")
        self.fail(UnsupportedSyntax, node, f"{ast.unparse(node)} is a {type(obj).__name__}, not a number",
                  "symback differentiates numeric code: pass numbers, or use the math module")

    def call(self, node: ast.Call, args: list[ir.Operand], exponent: bool) -> _Tree:
        func = node.func
        obj = self.callee(node)
        fname = mathlib.MATH_OBJECTS.get(id(obj)) or mathlib.BUILTIN_OBJECTS.get(id(obj))
        shown = ast.unparse(func)
        if fname is None:
            if inspect.isfunction(obj):
                return self.operand(self.inline(node, obj), args)
            hint = ("symback differentiates +, -, *, /, **, //, %, abs, min, max, the math functions "
                    + ", ".join(sorted(n for n in mathlib.FUNCTIONS if hasattr(math, n)))
                    + ", and Python functions made of these")
            self.fail(UnsupportedCall, node, f"cannot differentiate a call to {shown}", hint)
        if node.keywords:
            self.fail(UnsupportedCall, node, f"keyword arguments to {shown} are not supported",
                      "pass the arguments by position")
        fewest, most, _ = mathlib.FUNCTIONS[fname]
        count = len(node.args)
        if count < fewest or (most is not None and count > most):
            wanted = str(fewest) if fewest == most else f"{fewest} to {most}" if most else f"at least {fewest}"
            self.fail(UnsupportedCall, node, f"{shown} takes {wanted} arguments here, got {count}",
                      "check the call")
        lowered = []
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                self.refuse(arg)
            # pow(x, y): like x ** y, keep a constant y literal
            lowered.append(self.expr(arg, args, exponent or (fname == "pow" and i == 1)))
        return ("call", fname, *lowered)


def _ends_in_return(stmts: list[ast.stmt]) -> bool:
    """Whether every path through stmts ends in a return."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, ast.If):
        return _ends_in_return(last.body) and _ends_in_return(last.orelse)
    return isinstance(last, ast.Return)


def _scan(node: ast.FunctionDef) -> tuple[set[str], set[str]]:
    """Every identifier the source mentions (generated names must avoid them),
    and the names Python treats as local (bound anywhere in the body)."""
    names, assigned = {node.name}, set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
            if isinstance(sub.ctx, ast.Store):
                assigned.add(sub.id)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
    return names, assigned
