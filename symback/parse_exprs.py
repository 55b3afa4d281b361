"""parse, expressions: a Python expression -> a shape tree plus its operands.

A mixin of parse._Lower. Names resolve as Python resolves them (locals, the
closure, globals, builtins); math functions map to mathlib's table; calls
to Python functions are inlined (their bodies lowered in place by a _Lower
that shares this one's body and names). Shapes are interned here.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math

import sympy as sp

from . import ir, mathlib
from .errors import SymbackError, UnsupportedCall, UnsupportedSyntax
from .source import read_source
from .parse_arrays import is_numpy, numpy_name
from .parse_nested import Nested
from .static import Unresolved

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
           ast.FloorDiv: "//", ast.Mod: "%"}

# A tree (mathlib) paired with the operands its placeholders stand for.
_Tree = tuple

# Every shape seen in this process, interned by its tree's repr: as dict keys,
# ("num", 1) == ("num", 1.0) and 0.0 == -0.0, but they print differently.
_SHAPES: dict[str, ir.Shape] = {}


def shape_of(tree: tuple) -> ir.Shape:
    """The interned Shape for a tree; builds its SymPy expression on first sight."""
    key = repr(tree)
    shape = _SHAPES.get(key)
    if shape is None:
        arity = _arity(tree)
        expr = mathlib.to_sympy(tree, [mathlib.placeholder(i) for i in range(arity)])
        shape = ir.Shape(tree, sp.sympify(expr), arity)
        _SHAPES[key] = shape
    return shape


def _arity(tree: tuple) -> int:
    if tree[0] == "arg":
        return tree[1] + 1
    return max((_arity(child) for child in tree[1:] if isinstance(child, tuple)), default=0)


def _location(node: ast.AST) -> dict:
    return dict(lineno=node.lineno, col_offset=node.col_offset,
                end_lineno=node.end_lineno, end_col_offset=node.end_col_offset)


def _load(ident: str, where: dict) -> ast.Name:
    return ast.Name(ident, ast.Load(), **where)


def _assign(ident: str, value: ast.expr, where: dict) -> ast.Assign:
    return ast.Assign([ast.Name(ident, ast.Store(), **where)], value, **where)


def _is_literal(node: ast.expr) -> bool:
    """A number written in the source, possibly negated."""
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
        and not isinstance(node.value, bool)


# An expression larger than this (operations, levels of nesting) is split
# into statements: the size of a derivative grows with the nesting (a Horner
# polynomial's, quadratically), and SymPy's time with it.
_MAX_SIZE, _MAX_DEPTH = 40, 10


def _too_big(tree: _Tree) -> bool:
    """Whether a tree has more operations or levels than one statement should."""
    count, todo = 0, [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        kids = mathlib.children(node)
        if kids:
            count += 1
            if count > _MAX_SIZE or depth > _MAX_DEPTH:
                return True
            todo += [(kid, depth + 1) for kid in kids]
    return False


def _compact(tree: _Tree, args: list[ir.Operand]) -> tuple[_Tree, list[ir.Operand]]:
    """The tree over only the operands it reads, numbered in order of use."""
    used: dict[int, int] = {}

    def renumber(node: _Tree) -> _Tree:
        if node[0] == "arg":
            return ("arg", used.setdefault(node[1], len(used)))
        kids = mathlib.children(node)
        return node[:len(node) - len(kids)] + tuple(renumber(kid) for kid in kids)

    tree = renumber(tree)
    return tree, [args[i] for i in used]


class Expressions:
    """Expression lowering for parse._Lower (which holds env, namer, body, ...)."""

    def shape(self, tree: _Tree, where: ast.AST) -> ir.Shape:
        # `x / 0` is a shape too: f raises there, and so will the gradient; only
        # a derivative reverse needs through it is refused (see reverse.assign).
        return shape_of(tree)

    def expression(self, node: ast.expr) -> tuple[_Tree, list[ir.Operand]]:
        """A right-hand side -> (shape tree, operands in placeholder order)."""
        args: list[ir.Operand] = []
        tree = self.expr(node, args, exponent=False)
        if _too_big(tree):
            tree = self.split(tree, args, node)
        return _compact(tree, args)

    def settle(self, done: list[_Tree], later: ast.expr, args: list[ir.Operand]) -> list[_Tree]:
        """Operands already lowered, made statements of their own where they
        may raise and `later` (the next operand) adds statements before the
        one being built (a helper call, a branch): Python evaluates them
        first, and if both fail, f fails with the first one's exception."""
        def unbound(tree: _Tree) -> bool:  # reads a variable that may have no value (no recursion: deep trees)
            todo = [tree]
            while todo and self.maybe_unbound:
                node = todo.pop()
                if node[0] == "arg" and args[node[1]] in self.maybe_unbound:
                    return True
                if node[0] not in mathlib.LEAVES:
                    todo += mathlib.children(node)
            return False

        def raises(tree: _Tree) -> bool:  # an operation that may raise, or a variable that may be unassigned
            return unbound(tree) or (tree[0] not in mathlib.LEAVES and mathlib.can_raise(tree))

        if not any(map(raises, done)) or not self.needs_statements(later):
            return done
        return [self.piece(tree, args, later) if raises(tree) else tree for tree in done]

    def piece(self, tree: _Tree, args: list[ir.Operand], where: ast.AST) -> _Tree:
        """`tree` computed by a statement of its own, `_v1 = ...`; its value as an operand."""
        sub, sub_args = _compact(tree, args)
        value = ir.Value("_v", self.namer.fresh("_v", first=1))
        self.body.append(ir.Assign(value, self.shape(sub, where), tuple(sub_args), self.src.loc(where)))
        return self.operand(value, args)

    def split(self, tree: _Tree, args: list[ir.Operand], where: ast.AST) -> _Tree:
        """A large expression as several statements, each within _MAX_SIZE
        operations and _MAX_DEPTH levels, in the order Python evaluates them: before a part that
        becomes a statement of its own, whatever could raise to its left does
        too, so the gradient still fails where f fails, with f's exception.
        (SymPy's work grows with the size of an expression, and parts of one
        shape, like the levels of a Horner polynomial, share one derivation.)"""
        def piece(node: _Tree) -> _Tree:
            return self.piece(node, args, where)

        def lower(node: _Tree, root: bool) -> _Tree:
            kids = mathlib.children(node)
            if not kids:
                return node
            done: list[_Tree] = []
            for kid in kids:
                if _too_big(kid):  # kid makes statements: what may raise before it goes first
                    done = [piece(k) if k[0] not in mathlib.LEAVES and mathlib.can_raise(k) else k for k in done]
                done.append(lower(kid, False))
            node = node[:len(node) - len(kids)] + tuple(done)
            return piece(node) if not root and _too_big(node) else node

        return lower(tree, True)

    def expr(self, node: ast.expr, args: list[ir.Operand], exponent: bool) -> _Tree:
        """Lower one expression node. In an exponent, constants stay literal
        (x**0.5 must stay a half power for SymPy to differentiate it well)."""
        if isinstance(node, ast.Constant):
            return self.number(node, node.value, args, exponent)
        if isinstance(node, ast.Name):
            return self.name_ref(node, args, exponent)
        if isinstance(node, ast.Attribute):
            if self.is_value(node.value):
                return self.array_attribute(node, args)
            return self.resolved(node, self.attribute(node), args, exponent)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.MatMult):
                return self.matmul(node, args)
            op = _BINOPS.get(type(node.op))
            if op is None:
                what = "matrix multiplication (@)" if isinstance(node.op, ast.MatMult) else \
                    f"the operator {type(node.op).__name__}"
                self.fail(UnsupportedSyntax, node, f"{what} is not supported", "use + - * / ** // %")
            # a number raised to a power stays literal too: 2.0 ** x differentiates to r*log(2)
            base_literal = op == "**" and _is_literal(node.left)
            left = self.expr(node.left, args, exponent or base_literal)
            left, = self.settle([left], node.right, args)
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
        if isinstance(node, ast.Subscript):
            if isinstance(node.value, ast.Attribute) and node.value.attr == "shape" and self.is_value(node.value.value):
                return self.constant_op(node, args)  # X.shape[0]
            if self.array_state["used"] and not (isinstance(node.value, ast.Name) and
                                                 self.env.get(node.value.id) in self.sequences):
                return self.index(node, args)  # an array's entries
            return self.operand(self.element(node), args)
        if isinstance(node, ast.IfExp):
            return self.operand(self.conditional(node), args)
        if isinstance(node, ast.BoolOp):
            word = "or" if isinstance(node.op, ast.Or) else "and"
            first = ast.unparse(node.values[0])
            instead = f"{first} if {first} != 0 else ..." if word == "or" else f"... if {first} != 0 else {first}"
            self.fail(UnsupportedSyntax, node, f"`{word}` used as a number (it picks one of its operands by "
                      "their truth value) is not supported",
                      f"write the choice out as a conditional expression, e.g. {instead}")
        if isinstance(node, ast.Compare):  # a bool (in NumPy, a mask): flat, no gradient
            return ("ind", self.condition(node, args))
        self.refuse(node)

    _COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}

    def condition(self, node: ast.expr, args: list[ir.Operand]) -> _Tree:
        """The test of `a if test else b`: comparisons joined by and/or/not."""
        if isinstance(node, ast.BoolOp):
            if any(self.needs_statements(value) for value in node.values[1:]):
                return self.operand(self.guarded(node), args)
            kind = "and" if isinstance(node.op, ast.And) else "or"
            return (kind, *(self.condition(value, args) for value in node.values))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ("not", self.condition(node.operand, args))
        if isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in self._COMPARE:
                    self.fail(UnsupportedSyntax, node, f"the comparison {type(op).__name__} is not supported",
                              "compare numbers with < <= > >= == !=")
            trees: list[_Tree] = []
            for part in (node.left, *node.comparators):
                trees = self.settle(trees, part, args)
                trees.append(self.expr(part, args, False))
            ops = tuple(self._COMPARE[type(op)] for op in node.ops)
            if len(ops) == 1:
                return ("cmp", ops[0], *trees)
            return ("chain", ops, *trees)  # a < b < c, printed as written: b evaluated once
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return ("bool", node.value)  # while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("any", "all"):
            self.fail(UnsupportedCall, node, f"{node.func.id}(...) is not supported",
                      "write a for loop that counts the items that pass (found += 1.0 if x > 0 else 0.0), "
                      "then test the count")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" \
                and not self.is_local(node.func):
            return self.isinstance_test(node, args)
        if isinstance(node, ast.Name) and self.env.get(node.id) in self.sequences:
            return ("truth", self.operand(self.length(self.env[node.id], node), args))  # if xs: its length
        return ("truth", self.expr(node, args, False))  # if flag: its truth value, as Python takes it

    _TYPES = {"int": int, "float": float, "bool": bool, "complex": complex, "list": list, "tuple": tuple,
              "str": str, "dict": dict}

    def isinstance_test(self, node: ast.Call, args: list[ir.Operand]) -> _Tree:
        """isinstance(x, int), isinstance(xs, (list, tuple)): built-in types only."""
        kinds = node.args[1].elts if len(node.args) == 2 and isinstance(node.args[1], ast.Tuple) else \
            node.args[1:2] if len(node.args) == 2 else []
        names = tuple(kind.id for kind in kinds if isinstance(kind, ast.Name) and not self.is_local(kind)
                      and self._TYPES.get(kind.id) is self.lookup(kind))
        if node.keywords or not names or len(names) != len(kinds):
            self.fail(UnsupportedCall, node, "isinstance is supported with a variable and built-in types",
                      "write isinstance(x, int) or isinstance(x, (int, float))")
        subject = node.args[0]
        if isinstance(subject, ast.Name) and self.env.get(subject.id) in self.sequences:
            return ("isinstance", self.operand(self.env[subject.id], args), names)
        return ("isinstance", self.expr(subject, args, False), names)

    def needs_statements(self, node: ast.expr) -> bool:
        """Whether lowering `node` adds statements before the one it is in: a
        call to a Python function (inlined), an element xs[i], a conditional
        expression (a branch). Where Python may skip `node` (the right of
        `and`), those statements must go in a branch of their own."""
        for sub in ast.walk(node):
            if isinstance(sub, (ast.IfExp, ast.Subscript, ast.GeneratorExp, ast.ListComp)):
                return True  # a branch, an element, a comprehension's loop
            if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.MatMult):
                return True  # an ArrayOp, as are the methods and attributes of arrays
            if isinstance(sub, ast.Attribute) and self.is_value(sub.value):
                return True
            if isinstance(sub, ast.Call):
                try:
                    obj = self.callee(sub)
                except SymbackError:
                    continue  # refused with its own message when it is lowered
                if obj is sum or inspect.isfunction(obj) or isinstance(obj, Nested) or (
                        numpy_name(obj) is not None and numpy_name(obj) not in mathlib.NUMPY_FUNCTIONS):
                    return True
        return False

    def number(self, node: ast.AST, value: object, args: list[ir.Operand], exponent: bool) -> _Tree:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(UnsupportedSyntax, node, f"the constant {value!r:.40} ({type(value).__name__}) "
                      "is not supported", "use int or float numbers")
        value = int(value) if isinstance(value, int) else float(value)  # np.float64(2.0) is 2.0
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
            if self.env[name] in self.sequences:
                self.fail(UnsupportedSyntax, node, f"{name} is a list, used here as a number",
                          f"use its elements, {name}[i], or sum({name})")
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
                found = scope[name]
                if isinstance(found, Unresolved):  # symback generate did not run the module
                    self.fail(UnsupportedSyntax, node,
                              f"{name!r} is not known without running the module ({found.why}, "
                              f"line {found.loc.line})",
                              "make it a number or a def at the top level of the file, pass it as a "
                              "parameter, or pass --import to import the module")
                return found
        self.fail(UnsupportedSyntax, node, f"name {name!r} is not defined",
                  "define it at module level or pass it as a parameter")

    def is_local(self, node: ast.expr) -> bool:
        """A variable of the function (an array, if an attribute is read from it)."""
        return isinstance(node, ast.Name) and (node.id in self.env or node.id in self.locals)

    def is_value(self, node: ast.expr) -> bool:
        """Not a module or a module's member (math.pi, np.linalg): a value computed
        by the function, whose attributes and methods are an array's."""
        while isinstance(node, ast.Attribute):
            node = node.value
        return not isinstance(node, ast.Name) or self.is_local(node)

    def attribute(self, node: ast.Attribute) -> object:
        base = node.value
        if isinstance(base, ast.Attribute) and not self.is_value(base):  # np.linalg.norm, np.random.normal
            module = self.attribute(base)
            if is_numpy(module) and hasattr(module, node.attr):
                return getattr(module, node.attr)
            name = getattr(module, "__name__", "")
            if name == "numpy.random":
                self.fail(UnsupportedCall, node, f"random numbers ({ast.unparse(node)}) inside the function are "
                          "not supported: its gradient would draw different ones",
                          "draw them outside and pass them as a parameter")
            self.fail(UnsupportedCall, node, f"{ast.unparse(node)} ({name or type(module).__name__}) is not "
                      "supported", "see docs/supported.md for the NumPy functions symback differentiates")
        if isinstance(base, ast.Name) and base.id not in self.env and base.id not in self.locals:
            module = self.lookup(base)
            if is_numpy(module) or getattr(module, "__name__", "").startswith("numpy."):
                if not hasattr(module, node.attr):
                    self.fail(UnsupportedCall, node, f"{module.__name__} has no attribute {node.attr!r}",
                              "check the spelling")
                return getattr(module, node.attr)
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
        if isinstance(func, ast.Attribute) and self.is_value(func.value):
            return self.method_call(node, args)
        obj = self.callee(node)
        name = numpy_name(obj)
        if name is not None:
            return self.numpy_call(node, name, args, exponent)
        if obj is len and self.array_state["used"] and len(node.args) == 1 and \
                not (isinstance(node.args[0], ast.Name) and self.env.get(node.args[0].id) in self.sequences):
            return self.constant_op(node, args)  # len of an array
        if obj is len:
            seq = self.sequence(node.args[0] if len(node.args) == 1 and not node.keywords else node, node)
            return self.operand(self.length(seq, node), args)
        if obj is sum:  # sum(xs), sum(xs, start), sum(xs, start=...)
            if not node.args or len(node.args) + len(node.keywords) > 2 or \
                    any(keyword.arg != "start" for keyword in node.keywords):
                self.fail(UnsupportedCall, node, "sum takes a list and an optional start here",
                          "write sum(xs) or sum(xs, start)")
            start = node.args[1] if len(node.args) == 2 else node.keywords[0].value if node.keywords else None
            if isinstance(node.args[0], (ast.GeneratorExp, ast.ListComp)):
                return self.operand(self.comprehension_sum(node.args[0], start), args)
            seq = self.sequence(node.args[0], node)
            return self.operand(self.total(seq, node, self.bound(start) if start is not None else ir.Const(0)),
                                args)
        fname = mathlib.MATH_OBJECTS.get(id(obj)) or mathlib.BUILTIN_OBJECTS.get(id(obj))
        shown = ast.unparse(func)
        if fname in ("max", "min") and len(node.args) == 1 and not node.keywords and \
                isinstance(node.args[0], (ast.GeneratorExp, ast.ListComp)):
            return self.operand(self.comprehension_extreme(node.args[0], fname), args)
        if len(node.args) == 1 and isinstance(node.args[0], (ast.GeneratorExp, ast.ListComp)):
            self.fail(UnsupportedCall, node, f"{shown}(...) of a comprehension is not supported (sum, min and max "
                      "of one are)",
                      f"write a for loop over it, e.g. m = xs[0]; for x in xs: m = {shown}(m, x * x)"
                      if shown in ("max", "min") else "write a for loop over it")
        if fname is None and getattr(obj, "__module__", None) and str(obj.__module__).startswith("numpy") or \
                type(obj).__name__ == "ufunc":
            self.fail(UnsupportedCall, node, f"symback has no derivative rule for {shown}",
                      "see docs/supported.md for the NumPy functions symback differentiates, and write it "
                      "with those")
        if fname is None:
            if inspect.isfunction(obj) or isinstance(obj, Nested):
                return self.operand(self.inline(node, obj), args)
            refusal = mathlib.math_refusal(obj, shown)
            if refusal is not None:
                self.fail(UnsupportedCall, node, *refusal)
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
            lowered = self.settle(lowered, arg, args)
            lowered.append(self.expr(arg, args, exponent or (fname == "pow" and i == 1)))
        return ("call", fname, *lowered)

    # --- list parameters ----------------------------------------------------

    def sequence(self, node: ast.AST, where: ast.AST) -> ir.Value:
        """The list parameter `node` names."""
        if isinstance(node, ast.Name) and self.env.get(node.id) in self.sequences:
            return self.env[node.id]
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)):  # sum(x * x for x in xs)
            kind = "generator expressions" if isinstance(node, ast.GeneratorExp) else "list comprehensions"
            self.fail(UnsupportedSyntax, node, f"{kind} are not supported",
                      "write a for loop that adds to a running total")
        self.fail(UnsupportedSyntax, where, f"{ast.unparse(node)} is not a list parameter",
                  "index, loop over, len() or sum() a parameter that is a list of floats")

    def element(self, node: ast.Subscript) -> ir.Value:
        """xs[i] of a list parameter: a new value (an ir.Item)."""
        seq = self.sequence(node.value, node)
        if isinstance(node.slice, ast.Slice):
            self.fail(UnsupportedSyntax, node, "slices are not supported", "index one element at a time")
        index = self.bound(node.slice)
        label = index.ident if isinstance(index, ir.Value) else str(index) if isinstance(index, ir.Const) else "k"
        value = ir.Value(f"{seq.name}_{label}", self.namer.fresh(f"{seq.name}_{label}"))
        self.body.append(ir.Item(value, seq, index, self.src.loc(node)))
        self.helper_results.add(value)  # `x = xs[i]` names it x
        self.shared.add(value)  # an array in a list is the caller's
        return value

    def length(self, seq: ir.Value, node: ast.AST) -> ir.Value:
        """len(seq) of a list parameter: one value for the whole function, made at its top."""
        if seq not in self.lengths:
            value = ir.Value(f"n_{seq.name}", self.namer.fresh(f"n_{seq.name}"))
            self.lengths[seq] = ir.Length(value, seq, self.src.loc(node))
        return self.lengths[seq].target

    def total(self, seq: ir.Value, node: ast.AST, start: ir.Operand) -> ir.Value:
        """sum(xs, start): a loop that adds the elements, written as the user would."""
        loc = self.src.loc(node)
        count = self.length(seq, node)
        index = ir.Value("_i", self.namer.fresh("_i", first=1))
        head = ir.Value(f"sum_{seq.name}", self.namer.fresh(f"sum_{seq.name}"))
        item = ir.Value(f"{seq.name}_{index.ident}", self.namer.fresh(f"{seq.name}_{index.ident}"))
        update = ir.Value(head.name, self.namer.version(head.ident))
        body = (ir.Item(item, seq, index, loc),
                ir.Assign(update, shape_of(("bin", "+", ("arg", 0), ("arg", 1))), (head, item), loc))
        self.body.append(ir.Loop(index, (count,), (ir.Carry(head, start, update),), body, loc))
        return head

    def comprehension_sum(self, node: ast.GeneratorExp | ast.ListComp, start: ast.expr | None) -> ir.Operand:
        """sum(e for x in xs if c): the loop Python runs, written out as one,

            total = start (or 0); for x in xs: if c: total = total + e"""
        where = _location(node)
        total = self.namer.fresh("_total", first=1)
        first = start if start is not None else ast.Constant(0, **where)
        update = [_assign(total, ast.BinOp(_load(total, where), ast.Add(), node.elt, **where), where)]
        return self.comprehension_loop(node, [_assign(total, first, where)], update, [], total)

    def comprehension_extreme(self, node: ast.GeneratorExp | ast.ListComp, fname: str) -> ir.Operand:
        """max(e for x in xs if c) (or min): the loop Python runs, the first of
        equal values kept (as max(a, b) keeps a), ValueError if there is none:

            seen = 0.0; for x in xs: if c: best = max(best, e) if seen else e; seen = 1.0"""
        where = _location(node)
        best, seen = self.namer.fresh("_best", first=1), self.namer.fresh("_seen", first=1)
        value = self.namer.fresh("_item", first=1)
        init = [_assign(best, ast.Constant(0.0, **where), where), _assign(seen, ast.Constant(0.0, **where), where)]
        is_seen = ast.Compare(_load(seen, where), [ast.Gt()], [ast.Constant(0.5, **where)], **where)
        update = [_assign(value, node.elt, where),
                  ast.If(is_seen, [_assign(best, ast.Call(ast.Name(fname, ast.Load(), **where),
                                                          [_load(best, where), _load(value, where)], [], **where),
                                           where)],
                         [_assign(best, _load(value, where), where)], **where),
                  _assign(seen, ast.Constant(1.0, **where), where)]
        empty = ast.Compare(_load(seen, where), [ast.Lt()], [ast.Constant(0.5, **where)], **where)
        error = ast.Call(ast.Name("ValueError", ast.Load(), **where),
                         [ast.Constant(f"{fname}() arg is an empty sequence", **where)], [], **where)
        after = [ast.If(empty, [ast.Raise(error, None, **where)], [], **where)]
        return self.comprehension_loop(node, init, update, after, best, hidden={value, seen})

    def comprehension_loop(self, node, init: list[ast.stmt], update: list[ast.stmt], after: list[ast.stmt],
                           result: str, hidden: set[str] = frozenset()) -> ir.Operand:
        """Lower `init`, the comprehension's for and if clauses around `update`, then
        `after`; the value of `result`. The comprehension's variables are its own, as
        in Python: after it, names it binds have their values from before."""
        names = {sub.id for gen in node.generators for sub in ast.walk(gen.target) if isinstance(sub, ast.Name)}
        names |= {result, *hidden}
        saved = {name: self.env[name] for name in names if name in self.env}
        where = _location(node)
        body = update
        for gen in reversed(node.generators):
            if gen.is_async:
                self.fail(UnsupportedSyntax, gen, "async comprehensions are not supported", "use a plain for")
            for test in reversed(gen.ifs):
                body = [ast.If(test, body, [], **where)]
            body = [ast.For(gen.target, gen.iter, body, [], **where)]
        for stmt in init + body + after:
            if isinstance(stmt, ast.If):
                self.if_statement(stmt, None)
            else:
                self.statement(stmt)
        value = self.env[result]
        for inner in names:  # the comprehension's own variables go out of scope
            self.env.pop(inner, None)
        self.env.update(saved)
        return value

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
        if isinstance(fn, Nested):  # a def or lambda inside the function: lowered from its node
            helper, signature = type(self)(fn.source, caller=self, nested=fn), fn.signature
        else:
            try:
                source = read_source(fn)
            except SymbackError as err:
                self.fail(type(err), node, f"cannot follow the call to {shown}: {err.what}", err.hint)
            helper, signature = type(self)(source, caller=self), inspect.signature(fn)  # sharing self's body
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
        try:
            bound = signature.bind(*node.args, **{keyword.arg: keyword.value for keyword in node.keywords})
        except TypeError as err:
            self.fail(UnsupportedCall, node, f"the call to {shown} does not match its parameters ({err})",
                      "pass one argument per parameter")
        for name, param in signature.parameters.items():
            if name in bound.arguments:  # evaluated here, in the caller, like Python does
                where = bound.arguments[name]
                if isinstance(where, ast.Name) and self.env.get(where.id) in self.sequences:
                    helper.env[name] = self.env[where.id]  # a list: the helper reads the same one
                    continue
                tree, targs = self.expression(where)
                loc, shape = self.src.loc(where), self.shape(tree, where)
            elif isinstance(param.default, ir.Value):  # a nested def's default, computed where the def ran
                helper.env[name] = param.default
                continue
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
