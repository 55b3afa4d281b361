"""parse, nested functions: `def g(v): ...` and `g = lambda v: ...` written
inside the differentiated function (or inside a helper), inlined at each
call like a module-level helper.

A mixin of parse._Lower. Running a def statement makes a Nested: the def
(a lambda as `def g(v): return ...`), its defaults, evaluated there as
Python does, and the lowering it runs in, its scope. A call lowers the body
in place with a _Lower whose variables start as its scope's variables at
that moment: a closure reads the enclosing function's variables when it is
called, not when it is defined (late binding), and the inlined body runs
exactly at the call. Names the nested function assigns or takes as
parameters are its own, as in Python, and so are the functions it defines.

Refused, each at its line, with what to write instead: recursion (in
parse_exprs.inline, as for helpers); a nested function used as a value
(passed, returned, stored); a def or lambda inside an if, a loop or a
with, which would exist on some paths only; decorators; generators;
nonlocal and global.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass

from . import ir
from .errors import UnsupportedSyntax
from .source import Source, Walked, child_nodes


@dataclass(eq=False)  # one per def statement run; a call to the same one again is recursion
class Nested:
    """A function defined inside the one being lowered, as a call inlines it."""

    source: Source                # its def (a lambda as a def); positions in the enclosing file
    scope: object                 # the parse._Lower that ran the def: its variables at call time
    signature: inspect.Signature  # defaults: numbers, or ir values computed where the def ran


class NestedFunctions:
    """Nested defs and lambdas for parse._Lower (which holds env, functions, ...).

    Besides the statements, this overrides how names resolve (callee,
    name_ref, lookup): a nested function's name calls it and is no value;
    an enclosing function's variable with no value yet at the call is an
    error, never a global of the same name."""

    # --- definitions --------------------------------------------------------

    def check_nested(self) -> None:
        """Refuse, before lowering the body, what it does with nested functions
        that cannot be followed: a def or `name = lambda` that is not a
        statement of the body itself (inside an if or a loop it would exist on
        some paths only, and the lowering of returns in ifs and loops must not
        meet a nested function's return), and a nested function or lambda
        passed to a call (map(g, xs), sorted(xs, key=g)), where symback would
        have to follow it into code it does not read."""
        functions = (self.function_names | set(self.functions)) - self.value_names
        if not functions and not self.nodes.inside(_DEFINES):
            return  # no def, no lambda, no nested function to pass: nothing to refuse
        for sub in _own_nodes(self.node.body):
            if isinstance(sub, ast.Call):
                for arg in sub.args + [keyword.value for keyword in sub.keywords]:
                    if isinstance(arg, ast.Lambda) or (isinstance(arg, ast.Name) and arg.id in functions):
                        what = "a lambda" if isinstance(arg, ast.Lambda) else f"the nested function {arg.id}"
                        self.fail(UnsupportedSyntax, arg, f"{what} passed to {ast.unparse(sub.func)}() is not "
                                  "supported: symback follows a nested function or lambda only where it is "
                                  "called", "call it yourself, e.g. in a for loop: for x in xs: total += g(x)")
            if isinstance(sub, (ast.Assign, ast.AnnAssign)) and isinstance(sub.value, ast.Lambda):
                target = sub.targets[0] if isinstance(sub, ast.Assign) else sub.target
                shown = f"{ast.unparse(target)} = lambda"
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                shown = f"def {sub.name}"
            else:
                continue
            if any(stmt is sub for stmt in self.node.body):
                continue
            inside = _enclosing_statement(self.node, sub)
            kind = {ast.If: "an if", ast.For: "a for loop", ast.While: "a while loop", ast.With: "a with",
                    ast.Try: "a try"}.get(type(inside), "a block")
            where = f", before the {kind.split()[-1]} (line {self.src.loc(inside).line})" if inside else ""
            self.fail(UnsupportedSyntax, sub, f"`{shown}` inside {kind} is not supported: the function would "
                      "exist on some paths only", f"define it at the top level of {self.name}'s body{where}; "
                      "it reads the variables it uses as they are when it is called")

    def stmt_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.own_name(node, node.name)
        if node.decorator_list:
            self.fail(UnsupportedSyntax, node.decorator_list[0], f"decorators on the nested function {node.name} "
                      "are not supported: the decorated function computes something else than its body",
                      f"call the decorator's work explicitly inside {node.name}, or remove it")
        for sub in _own_nodes(node.body):
            if isinstance(sub, (ast.Yield, ast.YieldFrom, ast.Await)):
                what = "awaits" if isinstance(sub, ast.Await) else "is a generator (it yields)"
                self.fail(UnsupportedSyntax, sub, f"the nested function {node.name} {what}, which is not "
                          "supported", f"make {node.name} return one value, or write its loop in {self.name}")
        self.functions[node.name] = self.nested(node)

    def stmt_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.fail(UnsupportedSyntax, node, f"the nested async function {node.name} is not supported",
                  "write a plain def")

    def define_lambda(self, node: ast.Assign | ast.AnnAssign) -> None:
        """`g = lambda v: ...`: a nested function named g."""
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            self.fail(UnsupportedSyntax, node, "a lambda is supported assigned to one name (g = lambda v: ...)",
                      "assign it to a single name, then call that name")
        name = targets[0].id
        self.own_name(node, name)
        lam = node.value
        self.functions[name] = self.nested(as_def(lam, name))

    def own_name(self, node: ast.stmt, name: str) -> None:
        """Refuse a nested function whose name the function also uses for a value."""
        if name in self.value_names:
            self.fail(UnsupportedSyntax, node, f"{name} names both a nested function and a variable (or "
                      f"parameter) of {self.name}", "give the function a name of its own")

    def nested(self, node: ast.FunctionDef) -> Nested:
        """The function a def (or lambda) statement makes here: its defaults
        evaluated now, left to right, as Python evaluates them."""
        args = node.args
        star = args.vararg or args.kwarg
        if star is not None:
            self.fail(UnsupportedSyntax, star, f"*args and **kwargs parameters of {node.name} are not supported",
                      "name each parameter")
        positional = args.posonlyargs + args.args
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        params = []
        for i, (arg, default) in enumerate(zip(positional, defaults)):
            kind = inspect.Parameter.POSITIONAL_ONLY if i < len(args.posonlyargs) else \
                inspect.Parameter.POSITIONAL_OR_KEYWORD
            params.append(inspect.Parameter(arg.arg, kind, default=self.default_operand(arg, default)))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            params.append(inspect.Parameter(arg.arg, inspect.Parameter.KEYWORD_ONLY,
                                            default=self.default_operand(arg, default)))
        return Nested(self.src.inner(node), self, inspect.Signature(params))

    def default_operand(self, arg: ast.arg, default: ast.expr | None) -> object:
        """A parameter's default, computed where the def runs: a number, or the
        ir value holding it (`lambda v, s=s: ...` keeps s as it is now)."""
        if default is None:
            return inspect.Parameter.empty
        operand = self.operand_of(default, lambda: ir.Value(arg.arg, self.new_ident(arg.arg)))
        if isinstance(operand, ir.Const):
            return operand.value
        if isinstance(operand, ir.Value) and operand not in self.sequences:
            return operand
        self.fail(UnsupportedSyntax, default, f"the default value of parameter {arg.arg!r} is not a number",
                  "use a number or a numeric expression as the default")

    def stmt_Nonlocal(self, node: ast.Nonlocal) -> None:
        names = ", ".join(node.names)
        self.fail(UnsupportedSyntax, node, f"nonlocal declarations are not supported (nonlocal {names})",
                  f"return the new value from {self.name} and assign it where {self.name} is called, "
                  f"e.g. {node.names[0]} = {self.name}(...)")

    def stmt_Global(self, node: ast.Global) -> None:
        names = ", ".join(node.names)
        self.fail(UnsupportedSyntax, node, f"global declarations are not supported (global {names})",
                  "pass the value as a parameter and return the new value")

    def block(self, stmts: list[ast.stmt]) -> ir.Operand | None:
        """A block; the nested functions it defines are gone after it. Only the
        function's own body defines any (see placed), and when lowering moves
        the rest of a body into the sides of an if (an early return), each
        side must start from the functions defined before the if."""
        saved = dict(self.functions)
        try:
            return super().block(stmts)
        finally:
            self.functions = saved

    # --- names --------------------------------------------------------------

    def local_function(self, node: ast.Name) -> Nested | None:
        """The nested function `node` names here, if it names one."""
        if node.id in self.functions:
            return self.functions[node.id]
        if node.id in self.function_names:
            self.fail(UnsupportedSyntax, node, f"{node.id} is used before its definition runs",
                      f"define {node.id} before this line")
        return None

    def callee(self, node: ast.Call) -> object:
        if isinstance(node.func, ast.Lambda):  # (lambda v: v * v)(x)
            lam = node.func
            if lam.args.defaults or any(d is not None for d in lam.args.kw_defaults):
                self.fail(UnsupportedSyntax, lam, "default values in a lambda called where it is written are "
                          "not supported", "assign the lambda to a name first (g = lambda ...), then call g(...)")
            return self.nested(as_def(lam, "_lambda"))
        if isinstance(node.func, ast.Name):
            found = self.local_function(node.func)
            if found is not None:
                return found
        return super().callee(node)

    def name_ref(self, node: ast.Name, args: list[ir.Operand], exponent: bool) -> tuple:
        if node.id in self.functions or node.id in self.function_names:
            self.fail(UnsupportedSyntax, node, f"the nested function {node.id} is used as a value (passed, "
                      "returned or stored); symback follows a nested function only where it is called",
                      f"call it here, {node.id}(...), or write the computation that uses it in {self.name}")
        return super().name_ref(node, args, exponent)

    def lookup(self, node: ast.Name) -> object:
        if node.id in self.outer_locals:  # Python's NameError, not a global of that name
            self.fail(UnsupportedSyntax, node, f"{node.id!r}, a variable of the enclosing function, has no "
                      f"value when {self.name}() is called", f"assign {node.id} before the call to {self.name}")
        return super().lookup(node)


_DEFINES = frozenset((ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))  # what check_nested looks for
_INNER_SCOPES = _DEFINES | {ast.ClassDef, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.NamedExpr}  # (x := ...) may sit outside the body: the careful way


def scope_names(node: ast.FunctionDef, nodes: Walked | None = None) -> tuple[set[str], set[str]]:
    """The names a function binds in its own scope (its locals, as Python
    decides them: not those of functions defined inside it): those bound to
    values, and those bound by def or `name = lambda ...`. `nodes`: node's,
    walked, if known."""
    values, functions = set(), set()
    if nodes is not None and not nodes.inside(_INNER_SCOPES):
        # no scope inside: every name stored is the function's (a parameter is an arg, not a Name)
        return {sub.id for sub in nodes.of(ast.Name) if type(sub.ctx) is ast.Store}, functions
    todo = list(node.body)
    while todo:
        sub = todo.pop()
        if type(sub) is ast.Name:  # the most common node; its one child is its ctx
            if type(sub.ctx) is ast.Store:
                values.add(sub.id)
            continue
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            (values if isinstance(sub, ast.ClassDef) else functions).add(sub.name)
            continue  # its body is its own scope (defaults cannot bind names)
        if isinstance(sub, (ast.Assign, ast.AnnAssign)) and isinstance(sub.value, ast.Lambda):
            targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
            functions.update(t.id for t in targets if isinstance(t, ast.Name))
            continue
        if isinstance(sub, ast.Lambda):
            continue
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            values.add(sub.id)
        if isinstance(sub, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            todo += [gen.iter for gen in sub.generators[:1]]  # the rest is the comprehension's own scope
            continue
        todo += child_nodes(sub)
    return values, functions


def parameter_names(node: ast.FunctionDef) -> set[str]:
    args = node.args
    return {arg.arg for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]
            if arg is not None}


def _own_nodes(stmts: list[ast.stmt]):
    """Every node of a body outside the functions defined in it, in source order."""
    todo = list(reversed(stmts))
    while todo:
        sub = todo.pop()
        yield sub
        if not isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo += reversed(child_nodes(sub))


def as_def(lam: ast.Lambda, name: str) -> ast.FunctionDef:
    """`lambda args: body` as `def name(args): return body`, at the lambda's place."""
    ret = ast.copy_location(ast.Return(lam.body), lam.body)
    ret.end_lineno, ret.end_col_offset = lam.body.end_lineno, lam.body.end_col_offset
    node = ast.FunctionDef(name=name, args=lam.args, body=[ret], decorator_list=[], returns=None,
                           type_comment=None)
    node.type_params = []  # a field from Python 3.12 on
    return ast.copy_location(node, lam)


def _enclosing_statement(root: ast.AST, node: ast.AST) -> ast.stmt | None:
    """The innermost compound statement of `root`'s body around `node`."""
    found = None
    todo = [(child, None) for child in child_nodes(root)]
    while todo:
        sub, around = todo.pop()
        if sub is node:
            found = around
            break
        inner = sub if isinstance(sub, (ast.If, ast.For, ast.While, ast.With, ast.Try)) else around
        if not isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo += [(child, inner) for child in child_nodes(sub)]
    return found
