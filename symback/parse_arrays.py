"""parse, NumPy: calls, methods and attributes of arrays -> shape trees and ir.ArrayOp.

A mixin of parse._Lower, next to parse_exprs. NumPy's elementwise functions
(np.exp, np.tanh, np.maximum, ...) become calls in a shape tree, like
math's: SymPy differentiates them. The operations that are not elementwise
(np.sum, np.max, @, .T, reshape, ...) become statements of their own,
ir.ArrayOp, whose adjoints are rules (arrays.RULES); their operands are
computed first, each into a value. Shape queries (`X.shape[0]`, `x.ndim`)
are ArrayOps without a gradient.

NumPy itself is imported only when the function being lowered uses it.
"""

from __future__ import annotations

import ast
import copy
import inspect
import sys

from . import ir, mathlib
from .arrays import REDUCTION_OPTIONS
from .errors import UnsupportedCall, UnsupportedSyntax

# NumPy function name -> ArrayOp rule, for the operations that are not elementwise.
_STRUCTURAL = {
    "sum": "sum", "mean": "mean", "max": "max", "amax": "max", "min": "min", "amin": "min",
    "dot": "matmul", "matmul": "matmul", "transpose": "T", "reshape": "reshape",
}
# Functions that make arrays from shapes or other arrays' shapes: no gradient.
_CONSTANT = frozenset({"zeros_like", "ones_like", "zeros", "ones", "arange", "eye", "full", "empty_like"})
# Methods of an array, by rule; their first operand is the array itself.
_METHODS = {"sum": "sum", "mean": "mean", "max": "max", "min": "min", "dot": "matmul",
            "transpose": "T", "reshape": "reshape"}
_SHAPE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype"})


def _numpy_module():
    return sys.modules.get("numpy")


def is_numpy(obj: object) -> bool:
    np = _numpy_module()
    return np is not None and (obj is np or obj is getattr(np, "linalg", None))


def numpy_name(obj: object) -> str | None:
    """The name of a NumPy function object (np.exp -> 'exp'), or None."""
    np = _numpy_module()
    if np is None:
        return None
    for name in (*mathlib.NUMPY_FUNCTIONS, *_STRUCTURAL, *_CONSTANT):
        if getattr(np, name, None) is obj:
            return name
    return None


class ArrayExpressions:
    """NumPy lowering for parse._Lower."""

    def numpy_call(self, node: ast.Call, name: str, args: list[ir.Operand], exponent: bool) -> tuple:
        """np.<name>(...): a tree call (elementwise) or an ArrayOp's value."""
        self.array_state["used"] = True
        shown = ast.unparse(node.func)
        if name in mathlib.NUMPY_FUNCTIONS:
            if node.keywords:
                self.fail(UnsupportedCall, node, f"keyword arguments to {shown} are not supported",
                          "pass the arguments by position (no out=, where=, dtype=)")
            fewest, most, _ = mathlib.NUMPY_FUNCTIONS[name]
            if not fewest <= len(node.args) <= most:
                self.fail(UnsupportedCall, node, f"{shown} takes {fewest if fewest == most else f'{fewest} to {most}'} "
                          f"arguments here, got {len(node.args)}", "check the call")
            lowered = []
            for i, arg in enumerate(node.args):
                lowered = self.settle(lowered, arg, args)
                lowered.append(self.expr(arg, args, exponent or (name == "power" and i == 1)))
            return ("call", f"np.{name}", *lowered)
        if name in _CONSTANT:
            return self.constant_op(node, args)
        op = _STRUCTURAL[name]
        return self.structural(node, op, list(node.args), node.keywords, args, method=False)

    def method_call(self, node: ast.Call, args: list[ir.Operand]) -> tuple:
        """x.sum(axis=0), x.reshape(n, -1), x.dot(y), ...: x is the first operand."""
        func = node.func
        op = _METHODS.get(func.attr)
        if op is None:
            self.fail(UnsupportedCall, node, f"the method .{func.attr}() is not supported",
                      "use " + ", ".join(f".{m}()" for m in _METHODS) + " or a NumPy function")
        self.array_state["used"] = True
        return self.structural(node, op, [func.value, *node.args], node.keywords, args, method=True)

    def structural(self, node: ast.Call, op: str, operands: list[ast.expr], keywords: list[ast.keyword],
                   args: list[ir.Operand], method: bool) -> tuple:
        """An ArrayOp for a reduction, product or reshape; its value as an operand."""
        shown = f".{node.func.attr}()" if method else ast.unparse(node.func)
        options: list[tuple[str, object]] = []
        if op in ("sum", "mean", "max", "min"):
            if len(operands) > 2:
                self.fail(UnsupportedCall, node, f"{shown} takes the array and an axis by position here",
                          "pass keepdims= by keyword")
            given = {"axis": operands[1]} if len(operands) == 2 else {}
            for keyword in keywords:
                if keyword.arg not in ("axis", "keepdims") or keyword.arg in given:
                    self.fail(UnsupportedCall, node, f"the keyword {keyword.arg}= of {shown} is not supported",
                              "use axis= and keepdims= only")
                given[keyword.arg] = keyword.value
            for option, default in REDUCTION_OPTIONS:
                options.append((option, self.static(given[option], node, option) if option in given else default))
            operands = operands[:1]
        elif op == "reshape":
            if keywords:
                self.fail(UnsupportedCall, node, f"keyword arguments to {shown} are not supported",
                          "pass the new shape by position")
            # the shape: constants or shape queries; it carries no gradient
        elif keywords or (op == "T" and len(operands) != 1) or (op == "matmul" and len(operands) != 2):
            self.fail(UnsupportedCall, node, f"{shown} is supported with its array operands only",
                      "np.transpose(x) without axes; np.dot(a, b)")
        differentiable = 2 if op == "matmul" else 1
        values = [self.array_operand(operand) for operand in operands]
        template = copy.deepcopy(node)
        placeholders = [ast.Name(f"__a{i}") for i in range(len(operands))]
        if method:
            template.func.value = placeholders[0]
            template.args[:len(values) - 1] = placeholders[1:len(values)]
        else:
            template.func = _np_attribute(self.numpy_path(node.func))
            template.args[:len(values)] = placeholders[:len(values)]  # static arguments print as written
        return self.operand(self.array_op(op, values, tuple(options), ast.unparse(template), node), args)

    def matmul(self, node: ast.BinOp, args: list[ir.Operand]) -> tuple:
        """a @ b."""
        self.array_state["used"] = True
        left = self.array_operand(node.left)
        right = self.array_operand(node.right)
        return self.operand(self.array_op("matmul", [left, right], (), "__a0 @ __a1", node), args)

    def array_attribute(self, node: ast.Attribute, args: list[ir.Operand]) -> tuple:
        """x.T (a transpose), x.shape, x.ndim, x.size (no gradient)."""
        if node.attr == "T":
            self.array_state["used"] = True
            value = self.array_operand(node.value)
            return self.operand(self.array_op("T", [value], (), "__a0.T", node), args)
        if node.attr in _SHAPE_ATTRIBUTES:
            return self.constant_op(node, args)
        self.fail(UnsupportedSyntax, node, f"the attribute .{node.attr} is not supported",
                  "use .T, .shape, .ndim or .size of an array")

    def constant_op(self, node: ast.expr, args: list[ir.Operand]) -> tuple:
        """An expression with no gradient: a shape query (X.shape[0], len(x)) or a
        constant array (np.zeros_like(x)). Its variables are operands it only reads."""
        self.array_state["used"] = True
        values: list[ir.Operand] = []
        lower = self

        class Placeholders(ast.NodeTransformer):
            def visit_Name(self, name: ast.Name) -> ast.expr:
                if name.id in lower.env:
                    operand = lower.env[name.id]
                    if operand not in values:
                        values.append(operand)
                    return ast.Name(f"__a{values.index(operand)}")
                if name.id in lower.locals:
                    lower.fail(UnsupportedSyntax, name, f"{name.id!r} is used before it is assigned",
                               f"assign {name.id} before this line")
                obj = lower.lookup(name)
                if is_numpy(obj) or obj is len or numpy_name(obj) is not None:
                    return name
                lower.fail(UnsupportedSyntax, name, f"{name.id!r} in {ast.unparse(node)} is not a variable of "
                           "the function", "use the function's variables, numbers and NumPy functions")

            def visit_Attribute(self, attribute: ast.Attribute) -> ast.expr:
                if isinstance(attribute.value, ast.Name) and not lower.is_local(attribute.value) and \
                        is_numpy(lower.lookup(attribute.value)):
                    return _np_attribute(lower.numpy_path(attribute))
                return self.generic_visit(attribute)

        template = Placeholders().visit(copy.deepcopy(node))
        if isinstance(template, ast.Call) and isinstance(template.func, ast.Name) and template.func.id != "len":
            template.func = _np_attribute(self.numpy_path(node.func))  # from numpy import zeros_like
        return self.operand(self.array_op("constant", values, (), ast.unparse(template), node), args)

    def array_operand(self, node: ast.expr) -> ir.Operand:
        """An operand of an ArrayOp: a variable, or an expression computed into a value first."""
        tree, targs = self.expression(node)
        if tree == ("arg", 0):
            return targs[0]
        value = ir.Value("_v", self.namer.fresh("_v", first=1))
        self.body.append(ir.Assign(value, self.shape(tree, node), tuple(targs), self.src.loc(node)))
        return value

    def array_op(self, op: str, values: list[ir.Operand], options: tuple, source: str, node: ast.AST) -> ir.Value:
        value = ir.Value("_v", self.namer.fresh("_v", first=1))
        self.body.append(ir.ArrayOp(value, op, tuple(values), options, source, self.src.loc(node)))
        self.helper_results.add(value)  # `s = np.sum(x)` names it s
        return value

    def static(self, node: ast.expr, call: ast.AST, option: str) -> object:
        """A static argument: a literal int, tuple of ints, bool or None."""
        try:
            return ast.literal_eval(node)
        except ValueError:
            self.fail(UnsupportedSyntax, node, f"{option}={ast.unparse(node)} is not a constant",
                      f"write {option} as a number, a tuple of numbers, True/False or None")

    def numpy_path(self, func: ast.expr) -> str:
        """np.linalg.norm as written through any alias -> 'linalg.norm'."""
        parts = []
        while isinstance(func, ast.Attribute):
            parts.append(func.attr)
            func = func.value
        if isinstance(func, ast.Name) and func.id not in self.env:
            obj = self.lookup(func)
            if is_numpy(obj) and obj is not _numpy_module():
                parts.append("linalg")
            elif not is_numpy(obj):  # from numpy import sum
                return numpy_name(obj) or func.id
        return ".".join(reversed(parts)) if parts else func.id


def _np_attribute(path: str) -> ast.expr:
    node: ast.expr = ast.Name("np")
    for part in path.split("."):
        node = ast.Attribute(node, part)
    return node
