"""parse, expressions: a Python expression -> a shape tree plus its operands.

A mixin of parse._Lower. Names resolve as Python resolves them (locals, the
closure, globals, builtins); math functions map to mathlib's table; calls
to Python functions are inlined (their bodies lowered in place by a _Lower
that shares this one's body and names). Shapes are interned here.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import inspect
import math

import sympy as sp

from . import ir, mathlib
from .errors import SymbackError, UnsupportedCall, UnsupportedSyntax
from .source import read_source
from .parse_arrays import is_numpy, numpy_name
from .parse_nested import Nested
from .static import Unresolved

# Functions of whole lists (parse_exprs.of_lists)
_OF_LISTS = tuple(fn for fn in (any, all, math.fsum, getattr(math, "prod", None), getattr(math, "dist", None),
                                getattr(math, "sumprod", None)) if fn is not None)

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
        if tree != ("arg", 0) and any(arg in self.sequences for arg in args):
            self.no_lists_as_numbers(tree, args, node)
        if _too_big(tree):
            tree = self.split(tree, args, node)
        return _compact(tree, args)

    def no_lists_as_numbers(self, tree: _Tree, args: list[ir.Operand], node: ast.expr) -> None:
        """Refuse a list (a helper's result, say) where a number is needed: only
        isinstance() may look at a list itself."""
        todo = [tree]
        while todo:
            part = todo.pop()
            if part[0] == "isinstance":
                continue
            if part[0] == "arg" and args[part[1]] in self.sequences:
                self.fail(UnsupportedSyntax, node, f"a list is used as a number in {ast.unparse(node)}",
                          "use its elements, sum() or len() of it, or loop over it")
            if part[0] not in mathlib.LEAVES:
                todo += mathlib.children(part)

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

        if not any(map(raises, done)):
            return done
        # `later` adds statements, or reads a variable that may have no value (the gradient
        # checks it before the statement that reads it): what may raise before it goes first
        if not self.needs_statements(later) and not self.reads_unbound(later):
            return done
        return [self.piece(tree, args, later) if raises(tree) else tree for tree in done]

    def reads_unbound(self, node: ast.expr) -> bool:
        """Whether `node` reads a variable that may have no value there."""
        return bool(self.maybe_unbound) and any(
            isinstance(sub, ast.Name) and self.env.get(sub.id) in self.maybe_unbound for sub in ast.walk(node))

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
            left = self.factor(node.left) if op == "*" and not exponent else None
            left = left or self.expr(node.left, args, exponent or base_literal)
            left, = self.settle([left], node.right, args)
            right = self.factor(node.right) if op == "*" and not exponent else None
            right = right or self.expr(node.right, args, exponent or op == "**")
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
            # what Python may skip makes statements (or the check of a variable that may
            # have no value, see settle): they go in a branch of their own
            if any(self.needs_statements(value) or self.reads_unbound(value) for value in node.values[1:]):
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
            if len(node.ops) > 1 and any(self.needs_statements(part) or self.reads_unbound(part)
                                         for part in node.comparators[1:]):
                return self.operand(self.lazy_chain(node), args)
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
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" \
                and not self.is_local(node.func):
            return self.isinstance_test(node, args)
        if isinstance(node, ast.Name) and self.env.get(node.id) in self.sequences:
            return ("truth", self.operand(self.length(self.env[node.id], node), args))  # if xs: its length
        return ("truth", self.expr(node, args, False))  # if flag: its truth value, as Python takes it

    def lazy_chain(self, node: ast.Compare) -> ir.Value:
        """`a < b < c` where c makes statements (a helper call, or the check of a
        variable that may have no value): Python evaluates a and b, then c only if
        a < b. So a and b become values, in that order, and the test is `a < b and
        b < c` on those values (b still evaluated once), c's statements in a branch."""
        held = []
        for part in (node.left, node.comparators[0]):
            value = self.operand_of(part, lambda: ir.Value("_m", self.namer.fresh("_m", first=1)))
            name = self.namer.fresh("_m", first=1)
            self.env[name] = value
            held.append((name, ast.copy_location(ast.Name(name, ast.Load()), part)))
        left, middle = held[0][1], held[1][1]
        first = ast.copy_location(ast.Compare(left, [node.ops[0]], [middle]), node)
        rest = ast.copy_location(ast.Compare(middle, node.ops[1:], node.comparators[1:]), node)
        result = self.guarded(ast.copy_location(ast.BoolOp(ast.And(), [first, rest]), node))
        for name, _ in held:
            del self.env[name]
        return result

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
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and self.makes_statements_for_len(sub):
                return True  # a list built here (its truth, `not vals`, is its length where it is)
            if isinstance(sub, ast.Call):
                try:
                    obj = self.callee(sub)
                except SymbackError:
                    continue  # refused with its own message when it is lowered
                if obj in (max, min) and len(sub.args) == 1 or any(obj is fn for fn in _OF_LISTS) or \
                        obj is len and sub.args and self.makes_statements_for_len(sub.args[0]):
                    return True  # a loop over a list (max(xs), any(...)), or len() of a list built here
                if obj is sum or inspect.isfunction(obj) or isinstance(obj, Nested) or (
                        numpy_name(obj) is not None and numpy_name(obj) not in mathlib.NUMPY_FUNCTIONS):
                    return True
        return False

    def makes_statements_for_len(self, node: ast.expr) -> bool:
        """len(node) needs a statement where it is: the list is built here (it may grow), or a row."""
        if isinstance(node, ast.Name):
            value = self.env.get(node.id)
            return value in self.built or value in self.item_of
        return not self.array_state["used"]

    def factor(self, node: ast.expr) -> _Tree | None:
        """A fraction written as a factor of a product (0.5 * (a - y)**2): kept in the
        shape, exact (see mathlib.exact_literal). Elsewhere only a whole number is:
        in a sum, SymPy would write 1.5 + cos(x) as (2*cos(x) + 3)/2 in the partials."""
        sign, inner = 1.0, node
        while isinstance(inner, ast.UnaryOp) and isinstance(inner.op, (ast.USub, ast.UAdd)):
            sign, inner = (-sign if isinstance(inner.op, ast.USub) else sign), inner.operand
        if isinstance(inner, ast.Constant) and type(inner.value) is float and mathlib.exact_literal(inner.value) \
                and not inner.value.is_integer():
            return ("num", sign * inner.value)
        return None

    def number(self, node: ast.AST, value: object, args: list[ir.Operand], exponent: bool) -> _Tree:
        if isinstance(value, bool):
            return ("bool", value)  # found = False: a flag, no gradient
        if not isinstance(value, (int, float)):
            self.fail(UnsupportedSyntax, node, f"the constant {value!r:.40} ({type(value).__name__}) "
                      "is not supported", "use int or float numbers")
        value = int(value) if isinstance(value, int) else float(value)  # np.float64(2.0) is 2.0
        if isinstance(value, int) or exponent or (mathlib.exact_literal(value) and value.is_integer()):
            # 1.0 stays in the shape, where SymPy reads it as 1 (see mathlib.exact_literal;
            # a factor 0.5, see factor); other floats are operands, so that
            # u*v + 0.3 and w*a0 + b share one derivation
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

        def shown() -> str:  # the callee as written, for messages (unparse is slow: not on every call)
            return ast.unparse(func)
        if any(obj is fn for fn in _OF_LISTS):
            return self.operand(self.of_lists(node, obj), args)
        if fname in ("max", "min") and len(node.args) == 1 and not node.keywords:
            arg = node.args[0]
            if not isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
                arg = self.each(self.sequence(arg, node), arg)  # max(xs): max(x for x in xs)
            return self.operand(self.comprehension_extreme(arg, fname), args)
        if len(node.args) == 1 and isinstance(node.args[0], (ast.GeneratorExp, ast.ListComp)) and \
                not inspect.isfunction(obj):
            self.fail(UnsupportedCall, node, f"{shown()}(...) of a comprehension is not supported (sum, min, max, "
                      "any, all, math.fsum and math.prod of one are)",
                      f"write a for loop over it, e.g. m = xs[0]; for x in xs: m = {shown()}(m, x * x)"
                      if shown() in ("max", "min") else "write a for loop over it")
        if fname is None and getattr(obj, "__module__", None) and str(obj.__module__).startswith("numpy") or \
                type(obj).__name__ == "ufunc":
            self.fail(UnsupportedCall, node, f"symback has no derivative rule for {shown()}",
                      "see docs/supported.md for the NumPy functions symback differentiates, and write it "
                      "with those")
        if fname is None:
            if inspect.isfunction(obj) or isinstance(obj, Nested):
                return self.operand(self.inline(node, obj), args)
            refusal = mathlib.math_refusal(obj, shown())
            if refusal is not None:
                self.fail(UnsupportedCall, node, *refusal)
            hint = ("symback differentiates +, -, *, /, **, //, %, abs, min, max, the math functions "
                    + ", ".join(sorted(n for n in mathlib.FUNCTIONS if hasattr(math, n)))
                    + ", and Python functions made of these")
            self.fail(UnsupportedCall, node, f"cannot differentiate a call to {shown()}", hint)
        if node.keywords:
            self.fail(UnsupportedCall, node, f"keyword arguments to {shown()} are not supported",
                      "pass the arguments by position")
        fewest, most, _ = mathlib.FUNCTIONS[fname]
        count = len(node.args)
        if count < fewest or (most is not None and count > most):
            wanted = str(fewest) if fewest == most else f"{fewest} to {most}" if most else f"at least {fewest}"
            self.fail(UnsupportedCall, node, f"{shown()} takes {wanted} arguments here, got {count}",
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

    def sequence(self, node: ast.AST, where: ast.AST, name: str | None = None) -> ir.Value:
        """The list `node` is: a list parameter or a list made earlier, or one made
        here (a display [a, b], a list comprehension, a slice xs[1:], a helper
        that returns a list); `name` names a list made here."""
        if isinstance(node, ast.Name) and self.env.get(node.id) in self.sequences:
            return self.env[node.id]
        if isinstance(node, ast.Name) and self.env.get(node.id) in self.item_of and not self.array_state["used"]:
            return self.row(self.env[node.id], node)  # for row in A: ... row[j]
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice) and \
                not self.array_state["used"] and (self.is_list(node.value) or isinstance(node.value, ast.Subscript)):
            return self.row(self.element(node), node)  # A[i][j]
        if isinstance(node, ast.List):
            return self.list_display(node, name)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and \
                (isinstance(node.left, ast.List) or isinstance(node.right, ast.List)):
            return self.repeated_list(node, name)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and \
                (self.is_list(node.left) or self.is_list(node.right)):
            return self.joined(node, name)
        if isinstance(node, ast.ListComp):
            return self.list_comprehension(node, name)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return self.list_slice(node, name)
        copied = self.copied_list(node, name)
        if copied is not None:
            return copied
        if isinstance(node, ast.Call) and not isinstance(node.func, ast.Attribute) and \
                inspect.isfunction(self.callee(node)):
            made = self.inline(node, self.callee(node))
            if made in self.sequences:
                return made
            self.fail(UnsupportedSyntax, where, f"{ast.unparse(node)} returns a number here, not a list",
                      "return a list from the helper, or use its value as a number")
        if isinstance(node, ast.GeneratorExp):  # for x in (e for ...): as the list it would give
            return self.list_comprehension(node, name)
        self.flowed_list(node)
        self.fail(UnsupportedSyntax, where, f"{ast.unparse(node)} is not a list",
                  "index, loop over, len() or sum() a list: a list parameter, a list display [a, b], "
                  "a list comprehension, a slice xs[i:j], or a list a helper returns")

    def copied_list(self, node: ast.expr, name: str | None = None) -> ir.Value | None:
        """list(xs), xs.copy(), reversed(xs): a new list (a slice, xs[:] or xs[::-1]); list(e for x
        in xs): the comprehension's list. None if `node` is none of these."""
        if not isinstance(node, ast.Call) or node.keywords or len(node.args) > 1:
            return None
        if isinstance(node.func, ast.Attribute) and node.func.attr == "copy" and not node.args and \
                self.is_list(node.func.value):
            source, step = node.func.value, None
        elif isinstance(node.func, ast.Name) and len(node.args) == 1 and not self.is_local(node.func) and \
                node.func.id in ("list", "reversed") and getattr(builtins, node.func.id) is self.lookup(node.func):
            source, step = node.args[0], (ir.Const(-1) if node.func.id == "reversed" else None)
        else:
            return None
        if isinstance(source, (ast.GeneratorExp, ast.ListComp)) and step is None:
            return self.list_comprehension(source, name)
        seq = self.sequence(source, node)
        return self.new_slice(seq, (None, None, step), name or f"{seq.name}_copy", bool(name), node)

    def row(self, value: ir.Value, where: ast.AST) -> ir.Value:
        """An element of a list parameter that is itself a list (A[i] of a list of
        lists): a list of its own, whose adjoint is that element of A's adjoint."""
        seq = self.item_of[value]
        if seq in self.built or seq in self.item_of and self.item_of[seq] in self.sequences:
            self.fail(UnsupportedSyntax, where, "lists of lists are supported as parameters, two levels deep "
                      "(A[i][j]); this is a list in a list the function built, or deeper",
                      "pass a list of lists of numbers, or a flat list indexed with i * ncols + j")
        self.sequences.add(value)
        return value

    def may_be_list(self, node: ast.expr) -> bool:
        """is_list, or an element of a list, which is a list where used as one (a row A[i])."""
        return self.is_list(node) or isinstance(node, ast.Name) and self.env.get(node.id) in self.item_of or \
            isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice) and \
            not self.array_state["used"] and self.is_list(node.value)

    def is_list(self, node: ast.expr) -> bool:
        """Whether `node` is written as a list (a display, a comprehension, a slice of
        a list, a copy list(xs), xs.copy() or reversed(xs)), or names one."""
        if isinstance(node, ast.Name):
            return self.env.get(node.id) in self.sequences
        if isinstance(node, ast.Call) and not node.keywords:
            func = node.func
            if isinstance(func, ast.Attribute):
                return func.attr == "copy" and not node.args and self.is_list(func.value)
            return isinstance(func, ast.Name) and func.id in ("list", "reversed") and len(node.args) == 1 and \
                not self.is_local(func) and getattr(builtins, func.id) is self.lookup(func) and \
                (self.is_list(node.args[0]) or isinstance(node.args[0], (ast.GeneratorExp, ast.ListComp)))
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return not self.array_state["used"] or self.is_list(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and not self.array_state["used"]:
            return isinstance(node.left, ast.List) or isinstance(node.right, ast.List)  # [0.0] * n
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and not self.array_state["used"]:
            return self.is_list(node.left) or self.is_list(node.right)  # xs + [0.0]
        return isinstance(node, (ast.List, ast.ListComp))

    def new_list(self, name: str | None, elements: tuple, where: ast.AST, times: ir.Operand | None = None) -> ir.Value:
        value = ir.Value(name, self.new_ident(name)) if name else ir.Value("_list", self.namer.fresh("_list", first=1))
        self.body.append(ir.NewList(value, elements, self.src.loc(where), times))
        self.sequences.add(value)
        self.built.add(value)
        return value

    def list_display(self, node: ast.List, name: str | None) -> ir.Value:
        """[a, b * b]: its elements in order, each an operand (a statement of its own if
        it is not a variable or a number), then the list."""
        return self.new_list(name, self.display_elements(node), node)

    def display_elements(self, node: ast.List) -> tuple[ir.Operand, ...]:
        elements = []
        for elt in node.elts:
            if isinstance(elt, ast.Starred) or self.is_list(elt):
                self.fail(UnsupportedSyntax, elt, "a list built of lists (or of *unpacked lists) is not supported",
                          "build one list of numbers, or index the inner lists directly")
            elements.append(self.operand_of(elt, lambda: ir.Value("_e", self.namer.fresh("_e", first=1))))
        return tuple(elements)

    def joined(self, node: ast.BinOp, name: str | None) -> ir.Value:
        """xs + ys: a copy of xs, then ys's elements appended (both are evaluated first)."""
        first, second = self.sequence(node.left, node), self.sequence(node.right, node)
        value = self.new_slice(first, (None, None, None), name or f"{first.name}_joined", bool(name), node)
        self.extend(value, second, node)
        return value

    def extend(self, seq: ir.Value, other: ir.Value, where: ast.AST) -> None:
        """seq.extend(other), seq += other: each element of other appended, in a loop."""
        at = _location(where)
        hidden, item = self.namer.fresh("_seq", first=1), self.namer.fresh("_x", first=1)
        owner = self.namer.fresh("_built", first=1)
        self.env[hidden], self.env[owner] = other, seq
        append = ast.Expr(ast.Call(ast.Attribute(_load(owner, at), "append", ast.Load(), **at),
                                   [_load(item, at)], [], **at), **at)
        self.statement(ast.For(ast.Name(item, ast.Store(), **at), _load(hidden, at), [append], [], **at))
        for name in (hidden, owner, item):
            self.env.pop(name, None)

    def repeated_list(self, node: ast.BinOp, name: str | None) -> ir.Value:
        """[0.0] * n (or n * [0.0]): the display's elements, n times over, evaluated
        left to right as Python does."""
        if isinstance(node.left, ast.List):
            elements = self.display_elements(node.left)
            times = self.bound(node.right)
        else:
            times = self.bound(node.left)
            elements = self.display_elements(node.right)
        return self.new_list(name, elements, node, times)

    def list_comprehension(self, node: ast.ListComp | ast.GeneratorExp, name: str | None) -> ir.Value:
        """[e for x in xs if c]: the loop Python runs, appending to a new list:

            out = []; for x in xs: if c: out.append(e)"""
        if self.is_list(node.elt):
            self.fail(UnsupportedSyntax, node.elt, "a list comprehension that builds a list of lists is not "
                      "supported", "build one list of numbers")
        where = _location(node)
        made = self.new_list(name, (), node)
        hidden = self.namer.fresh("_built", first=1)  # its name inside the loop: no user variable's
        self.env[hidden] = made
        append = ast.Expr(ast.Call(ast.Attribute(_load(hidden, where), "append", ast.Load(), **where), [node.elt],
                                   [], **where), **where)
        self.comprehension_loop(node, [], [append], [], hidden)
        return made

    def list_slice(self, node: ast.Subscript, name: str | None) -> ir.Value:
        """xs[i:j:k]: a new list."""
        seq = self.sequence(node.value, node)
        bounds = tuple(None if part is None else self.bound(part)
                       for part in (node.slice.lower, node.slice.upper, node.slice.step))
        return self.new_slice(seq, bounds, name or f"{seq.name}_part", bool(name), node)

    def new_slice(self, seq: ir.Value, bounds: tuple, name: str, named: bool, where: ast.AST) -> ir.Value:
        """A new list, seq[lower:upper:step]: `name` is the user's variable if `named`,
        else a name of our own made from it."""
        value = ir.Value(name, self.new_ident(name) if named else self.namer.fresh(name))
        self.body.append(ir.Slice(value, seq, bounds, self.src.loc(where)))
        self.sequences.add(value)
        self.built.add(value)
        return value

    def append(self, node: ast.Call) -> None:
        """out.append(e) to a list the function built."""
        owner = node.func.value
        seq = self.env.get(owner.id) if isinstance(owner, ast.Name) else None
        if seq is None or seq not in self.sequences:
            self.fail(UnsupportedSyntax, node, f"{ast.unparse(node.func)}(...) is not supported",
                      "append only to a list the function builds (out = [] ... out.append(v))")
        if seq not in self.built:
            self.fail(UnsupportedSyntax, node, f"{ast.unparse(node)} changes a list the caller passed in",
                      f"copy it first ({owner.id} = list({owner.id}) or {owner.id}[:]), or build a new list")
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            self.fail(UnsupportedSyntax, node, "append takes one value", f"write {owner.id}.append(value)")
        if self.is_list(node.args[0]):
            self.fail(UnsupportedSyntax, node.args[0], "appending a list to a list (a list of lists) is not "
                      "supported", "build one list of numbers")
        element = self.operand_of(node.args[0], lambda: ir.Value("_e", self.namer.fresh("_e", first=1)))
        if element in self.sequences:
            self.fail(UnsupportedSyntax, node.args[0], "appending a list to a list (a list of lists) is not "
                      "supported", "build one list of numbers")
        target = ir.Value("_append", self.namer.fresh("_append", first=1))
        self.body.append(ir.Append(target, seq, element, self.src.loc(node)))

    def element(self, node: ast.Subscript) -> ir.Value:
        """xs[i] of a list parameter: a new value (an ir.Item)."""
        if isinstance(node.slice, ast.Slice):
            self.fail(UnsupportedSyntax, node, f"{ast.unparse(node)} is a list (a slice), used here as a number",
                      "use its elements, sum() or len() of it, or loop over it")
        seq = self.sequence(node.value, node)
        index = self.bound(node.slice)
        earlier = self.read_before(seq, index)
        if earlier is not None:
            return earlier
        label = index.ident if isinstance(index, ir.Value) else "k"
        if isinstance(index, ir.Const):  # xs[0]: xs_0; xs[-1]: xs_last; xs[-2]: xs_m2
            label = "last" if index.value == -1 else f"m{-index.value}" if index.value < 0 else str(index)
        value = ir.Value(f"{seq.name}_{label}", self.namer.fresh(f"{seq.name}_{label}"))
        self.item_reads[(seq, index, id(self.body))] = (self.body, len(self.body))  # holds the block: ids stay unique
        self.body.append(ir.Item(value, seq, index, self.src.loc(node)))
        self.item_of[value] = seq
        self.helper_results.add(value)  # `x = xs[i]` names it x
        self.shared.add(value)  # an array in a list is the caller's
        return value

    def read_before(self, seq: ir.Value, index: ir.Operand) -> ir.Value | None:
        """The value of seq[index] if this block, or a block it is in, read it
        already: `(w*ys[i] - ys[i])**2`, `if ys[i] > m: m = ys[i]` read ys[i]
        once. Whatever a block computed is computed on every path into the
        blocks inside it, and a list the caller passed cannot change. A list
        built here can (append, out[i] = v): its element is read again unless
        the same block read it and nothing since has added to it or set it."""
        for depth, block in enumerate(self.blocks_in()):
            read = self.item_reads.get((seq, index, id(block)))
            if read is None or read[0] is not block:
                continue
            earlier = block[read[1]]
            if not (isinstance(earlier, ir.Item) and earlier.seq == seq and earlier.index == index
                    and earlier.field is None):
                continue
            if seq in self.built and (depth > 0 or any(
                    isinstance(item, (ir.Append, ir.SetItem)) and item.seq == seq
                    for item in ir.walk(tuple(block[read[1] + 1:])))):
                return None
            return earlier.target  # by position: `x = xs[i]` renames the Item's target to x
        return None

    def length(self, seq: ir.Value, node: ast.AST) -> ir.Value:
        """len(seq) of a list parameter: one value for the whole function, made at its top;
        of a list the function builds, where it is asked for (the list may grow)."""
        if seq in self.built or seq in self.item_of:  # a list built here, or a row A[i]: not at the top
            value = ir.Value(f"n_{seq.name}", self.namer.fresh(f"n_{seq.name}"))
            self.body.append(ir.Length(value, seq, self.src.loc(node)))
            return value
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

    def comprehension_sum(self, node: ast.GeneratorExp | ast.ListComp, start: ast.expr | None,
                          product: bool = False) -> ir.Operand:
        """sum(e for x in xs if c): the loop Python runs, written out as one,

            total = start (or 0); for x in xs: if c: total = total + e

        and math.prod(...), with * and 1 (math.prod multiplies in this order too)."""
        where = _location(node)
        total = self.namer.fresh("_product" if product else "_total", first=1)
        first = start if start is not None else ast.Constant(1 if product else 0, **where)
        op = ast.Mult() if product else ast.Add()
        update = [_assign(total, ast.BinOp(_load(total, where), op, node.elt, **where), where)]
        return self.comprehension_loop(node, [_assign(total, first, where)], update, [], total)

    def each(self, seq: ir.Value, where: ast.AST) -> ast.GeneratorExp:
        """(x for x in seq), to lower max(xs) as max(x for x in xs)."""
        at = _location(where)
        hidden, item = self.namer.fresh("_seq", first=1), self.namer.fresh("_x", first=1)
        self.env[hidden] = seq
        target = ast.Name(item, ast.Store(), **at)
        return ast.GeneratorExp(_load(item, at), [ast.comprehension(target, _load(hidden, at), [], 0)], **at)

    def of_lists(self, node: ast.Call, fn: object) -> ir.Operand:
        """any, all, math.fsum, math.prod, math.dist, math.sumprod of lists or comprehensions."""
        shown = ast.unparse(node.func)
        name = fn.__name__
        start = next((k.value for k in node.keywords if k.arg == "start"), None) if name == "prod" else None
        count = 2 if name in ("dist", "sumprod") else 1
        if len(node.args) != count or len(node.keywords) != (start is not None) or \
                any(isinstance(arg, ast.Starred) for arg in node.args):
            self.fail(UnsupportedCall, node, f"{shown} takes {count} list{'s' if count > 1 else ''} here"
                      + (" (and start=)" if name == "prod" else ""), f"write {shown}(" +
                      ("xs, ys)" if count > 1 else "x for x in xs)"))
        arg = node.args[0]
        if name in ("any", "all"):
            if not isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
                arg = self.each(self.sequence(arg, node), arg)
            return self.comprehension_test(arg, name == "any")
        if name == "prod":
            if not isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
                arg = self.each(self.sequence(arg, node), arg)
            return self.comprehension_sum(arg, start, product=True)
        seqs = tuple(self.sequence(arg, node) for arg in node.args)
        value = ir.Value(name, self.namer.fresh(f"_{name}", first=1))
        self.body.append(ir.ListCall(value, name, seqs, self.src.loc(node)))
        self.helper_results.add(value)  # `d = math.dist(p, q)` names it d
        return value

    def comprehension_test(self, node: ast.GeneratorExp | ast.ListComp, is_any: bool) -> ir.Operand:
        """any(c for x in xs) (or all): a bool, with no gradient. The loop goes on to
        the end, but tests nothing once the answer is known, as Python stops there:

            found = False; for x in xs: if not found: if c: found = True"""
        where = _location(node)
        found = self.namer.fresh("_found" if is_any else "_every", first=1)
        known = _load(found, where) if is_any else ast.UnaryOp(ast.Not(), _load(found, where), **where)
        test = node.elt if is_any else ast.UnaryOp(ast.Not(), node.elt, **where)
        update = [ast.If(ast.UnaryOp(ast.Not(), known, **where),
                         [ast.If(test, [_assign(found, ast.Constant(is_any, **where), where)], [], **where)],
                         [], **where)]
        return self.comprehension_loop(node, [_assign(found, ast.Constant(not is_any, **where), where)],
                                       update, [], found)

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
        # the helper's statements remember this call (explain names the helper and the call's line)
        calls = self.src.calls + ((shown, self.src.loc(node).line),)
        if isinstance(fn, Nested):  # a def or lambda inside the function: lowered from its node
            source = dataclasses.replace(fn.source, calls=calls)
            helper, signature = type(self)(source, caller=self, nested=fn), fn.signature
        else:
            try:
                source = read_source(fn)
            except SymbackError as err:
                self.fail(type(err), node, f"cannot follow the call to {shown}: {err.what}", err.hint)
            source = dataclasses.replace(source, calls=calls)
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
                if self.is_list(where):
                    helper.env[name] = self.sequence(where, where)  # a list: the helper reads the same one
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
            if tree == ("arg", 0) and isinstance(targs[0], ir.Value) and targs[0] not in self.maybe_unbound:
                helper.env[name] = targs[0]  # a plain name: no copy needed (but one that may have no
                continue                     # value is read here, at the call, as Python reads it)
            value = ir.Value(name, helper.new_ident(name))
            self.body.append(ir.Assign(value, shape, tuple(targs), loc))
            helper.env[name] = value
        try:
            result = helper.returning_block(helper.statements())
        except SymbackError as err:
            raise err.called_from(self.name, self.src.loc(node)) from None
        return result
