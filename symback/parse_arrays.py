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
import builtins
import copy
import sys
from dataclasses import dataclass

from . import ir, mathlib
from .errors import UnsupportedCall, UnsupportedSyntax

# The operations that are not elementwise, by NumPy function name: the rule
# (arrays.RULES), how many leading arguments are arrays with a gradient
# ("seq": one list or tuple of them), the static arguments after them in
# positional order with their defaults, and the keyword-only static ones.
# Arguments past those (reshape's shape, broadcast_to's) are operands
# without a gradient.
@dataclass(frozen=True)
class _Spec:
    op: str
    arrays: int | str = 1
    positional: tuple[tuple[str, object], ...] = ()
    keywords: tuple[tuple[str, object], ...] = ()
    rest: bool = False  # more positional arguments, read as operands without a gradient


_AXIS = (("axis", None),)
_KEEP = (("keepdims", False),)
_STRUCTURAL: dict[str, _Spec] = {
    "sum": _Spec("sum", 1, _AXIS, _KEEP), "mean": _Spec("mean", 1, _AXIS, _KEEP),
    "max": _Spec("max", 1, _AXIS, _KEEP), "amax": _Spec("max", 1, _AXIS, _KEEP),
    "min": _Spec("min", 1, _AXIS, _KEEP), "amin": _Spec("min", 1, _AXIS, _KEEP),
    "prod": _Spec("prod", 1, _AXIS, _KEEP),
    "var": _Spec("var", 1, _AXIS, (("ddof", 0), *_KEEP)), "std": _Spec("std", 1, _AXIS, (("ddof", 0), *_KEEP)),
    "linalg.norm": _Spec("norm", 1, (("ord", None), ("axis", None)), _KEEP),
    "dot": _Spec("dot", 2), "matmul": _Spec("matmul", 2), "inner": _Spec("inner", 2),
    "outer": _Spec("outer", 2), "einsum": _Spec("einsum", 2),
    "transpose": _Spec("transpose", 1, (("axes", None),)), "swapaxes": _Spec("swapaxes", 1, (("axis1", None), ("axis2", None))),
    "reshape": _Spec("reshape", 1, rest=True), "ravel": _Spec("reshape"),
    "squeeze": _Spec("reshape", 1, _AXIS), "expand_dims": _Spec("reshape", 1, _AXIS),
    "broadcast_to": _Spec("broadcast_to", 1, rest=True),
    "tile": _Spec("tile", 1, (("reps", None),)), "repeat": _Spec("repeat", 1, (("repeats", None), ("axis", None))),
    "concatenate": _Spec("concatenate", "seq", (("axis", 0),)), "stack": _Spec("stack", "seq", (("axis", 0),)),
    "hstack": _Spec("hstack", "seq"), "vstack": _Spec("vstack", "seq"),
}
# Methods of an array: the same, with the array itself as the first operand.
_METHODS: dict[str, _Spec] = {
    **{name: _STRUCTURAL[name] for name in ("sum", "mean", "max", "min", "prod", "var", "std", "dot", "ravel",
                                            "squeeze", "swapaxes", "repeat")},
    "reshape": _Spec("reshape", 1, rest=True), "flatten": _Spec("reshape"),
    "transpose": _STRUCTURAL["transpose"],  # with its axes as separate arguments too (method_call)
}
# Functions that make arrays from shapes or other arrays' shapes: no gradient.
_CONSTANT = frozenset({"zeros_like", "ones_like", "zeros", "ones", "arange", "eye", "full", "full_like",
                       "empty_like", "shape", "ndim", "size"})
# Operations whose result NumPy may give as a view of their operand's memory.
_VIEWS = frozenset({"transpose", "swapaxes", "reshape", "broadcast_to", "index"})
_SHAPE_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype"})


def _numpy_module():
    return sys.modules.get("numpy")


def is_numpy(obj: object) -> bool:
    np = _numpy_module()
    return np is not None and (obj is np or obj is getattr(np, "linalg", None))


_NAMES: dict[int, str] = {}  # id of a NumPy function -> its name, once NumPy is imported


def numpy_name(obj: object) -> str | None:
    """The name of a NumPy function object (np.exp -> 'exp'), or None."""
    np = _numpy_module()
    if np is None:
        return None
    if not _NAMES:
        for name in reversed((*mathlib.NUMPY_FUNCTIONS, *_STRUCTURAL, *_CONSTANT)):
            function = np
            for part in name.split("."):
                function = getattr(function, part, None)
            if function is not None:  # np.abs is np.absolute: the first name wins
                _NAMES[id(function)] = name
    return _NAMES.get(id(obj))


class ArrayExpressions:
    """NumPy lowering for parse._Lower."""

    def mentions_numpy(self) -> bool:
        """Whether the function names NumPy or one of its functions (then a
        comparison may be a boolean array from its first line on)."""
        looked: set[str] = set()  # a name is looked up once, however often it is used
        for sub in self.nodes.of(ast.Name):  # every name in self.node
            if sub.id not in self.locals and sub.id not in looked:
                looked.add(sub.id)
                obj = self.closure.get(sub.id, self.globals.get(sub.id))
                if is_numpy(obj) or (callable(obj) and numpy_name(obj) is not None):
                    return True
        return False

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
                if name == "where" and i == 0 and isinstance(arg, (ast.Compare, ast.BoolOp, ast.UnaryOp)):
                    lowered.append(self.condition(arg, args))  # np.where(x > 0, ...)
                    continue
                if isinstance(arg, ast.Constant) and arg.value is None:
                    self.fail(UnsupportedCall, arg, f"None as an argument of {shown} is not supported",
                              "for a one-sided clip write np.maximum(x, low) or np.minimum(x, high)")
                lowered.append(self.expr(arg, args, exponent or (name == "power" and i == 1)))
            return ("call", f"np.{name}", *lowered)
        if name in _CONSTANT:
            return self.constant_op(node, args)
        return self.structural(node, _STRUCTURAL[name], list(node.args), node.keywords, args, method=False)

    def method_call(self, node: ast.Call, args: list[ir.Operand]) -> tuple:
        """x.sum(axis=0), x.reshape(n, -1), x.dot(y), ...: x is the first operand."""
        func = node.func
        spec = _METHODS.get(func.attr)
        if spec is None:
            self.fail(UnsupportedCall, node, f"the method .{func.attr}() is not supported",
                      "use " + ", ".join(f".{m}()" for m in _METHODS) + " or a NumPy function")
        self.array_state["used"] = True
        if func.attr == "transpose":  # x.transpose(1, 0) is x.transpose((1, 0))
            spec = _Spec("transpose", 1, (("axes", None),))
            if len(node.args) > 1:
                node = copy.copy(node)
                node.args = [ast.Tuple(list(node.args), ast.Load())]
        return self.structural(node, spec, [func.value, *node.args], node.keywords, args, method=True)

    def structural(self, node: ast.Call, spec: _Spec, operands: list[ast.expr], keywords: list[ast.keyword],
                   args: list[ir.Operand], method: bool) -> tuple:
        """An ArrayOp for a reduction, product, change of shape or join; its value as an operand."""
        shown = f".{node.func.attr}()" if method else ast.unparse(node.func)
        if spec.op == "einsum":
            return self.einsum(node, shown, operands, keywords, args)
        if any(isinstance(operand, ast.Starred) for operand in operands):
            self.fail(UnsupportedCall, node, f"*arguments to {shown} are not supported", "pass each argument")
        if spec.arrays == "seq":  # np.concatenate([a, b], axis=1)
            if not operands or not isinstance(operands[0], (ast.List, ast.Tuple)):
                self.fail(UnsupportedCall, node, f"{shown} is supported on a list or tuple written out here",
                          f"write {shown}([a, b, ...])")
            arrays = list(operands[0].elts)
            operands = operands[1:]
        else:
            arrays, operands = operands[:spec.arrays], operands[spec.arrays:]
            if len(arrays) < spec.arrays:
                self.fail(UnsupportedCall, node, f"{shown} needs {spec.arrays} array arguments", "check the call")
        given: dict[str, ast.expr] = {}
        if len(operands) > len(spec.positional) and not spec.rest:
            self.fail(UnsupportedCall, node, f"{shown} takes at most {len(spec.positional)} arguments after the "
                      "array here", "pass the other arguments by keyword")
        for (option, _), operand in zip(spec.positional, operands):
            given[option] = operand
        rest = operands[len(spec.positional):] if spec.rest else []
        allowed = dict(spec.positional + spec.keywords)
        for keyword in keywords:
            if keyword.arg not in allowed or keyword.arg in given:
                self.fail(UnsupportedCall, node, f"the keyword {keyword.arg}= of {shown} is not supported",
                          f"use {', '.join(f'{k}=' for k in allowed) or 'no keywords'}")
            given[keyword.arg] = keyword.value
        options = tuple((option, self.static(given[option], node, option) if option in given else default)
                        for option, default in spec.positional + spec.keywords)
        if spec.op == "norm" and (dict(options)["ord"] not in (None, 2, "fro") or
                                  (dict(options)["ord"] == 2 and dict(options)["axis"] is None)):
            self.fail(UnsupportedCall, node, f"{shown} with ord={dict(options)['ord']!r} is not supported",
                      "use the default (Euclidean or Frobenius) norm")
        values = [self.array_operand(operand) for operand in arrays]
        placeholders = [ast.Name(f"__a{i}") for i in range(len(values))]
        rest = [self.without_gradient(operand, values) for operand in rest]  # a shape: n, -1
        template = copy.deepcopy(node)
        if method:
            template.func.value = placeholders[0]
            template.args[:len(arrays) - 1] = placeholders[1:]  # static arguments print as written
        else:
            template.func = _np_attribute(self.numpy_path(node.func))
            if spec.arrays == "seq":
                template.args[0] = type(node.args[0])(placeholders, ast.Load())
                first = 1
            else:
                template.args[:len(arrays)] = placeholders
                first = len(arrays)
        if rest:
            start = (len(arrays) - 1 if method else first) + len(spec.positional)
            template.args[start:] = rest
        options += (("count", len(arrays)),)
        return self.operand(self.array_op(spec.op, values, options, ast.unparse(template), node), args)

    def einsum(self, node: ast.Call, shown: str, operands: list[ast.expr], keywords: list[ast.keyword],
               args: list[ir.Operand]) -> tuple:
        """np.einsum('ij,jk->ik', a, b): each operand's adjoint is an einsum too."""
        hint = "write np.einsum('ij,jk->ik', a, b): two operands, an explicit output, each index once per operand"
        try:
            spec = ast.literal_eval(operands[0]) if operands else None
        except ValueError:
            spec = None
        if not isinstance(spec, str) or len(operands) != 3 or keywords:
            self.fail(UnsupportedCall, node, f"{shown} is supported with a literal subscripts string and two "
                      "arrays", hint)
        inputs, _, output = spec.replace(" ", "").partition("->")
        parts = inputs.split(",")
        if not _ or len(parts) != 2 or "." in spec or any(len(set(p)) != len(p) for p in (*parts, output)):
            self.fail(UnsupportedCall, node, f"the subscripts {spec!r} are not supported", hint)
        a, b = parts
        for mine, other in ((a, b), (b, a)):
            lost = set(mine) - set(other) - set(output)
            if lost:
                self.fail(UnsupportedCall, node, f"in {spec!r}, the index {sorted(lost)[0]!r} is summed over one "
                          "operand alone", "sum that operand first (np.sum(x, axis=...)), then einsum")
        values = [self.array_operand(operand) for operand in operands[1:]]
        options = (("spec_a", f"{output},{b}->{a}"), ("spec_b", f"{output},{a}->{b}"), ("count", 2))
        source = f"np.einsum({spec!r}, __a0, __a1)"
        return self.operand(self.array_op("einsum", values, options, source, node), args)

    def matmul(self, node: ast.BinOp, args: list[ir.Operand]) -> tuple:
        """a @ b."""
        self.array_state["used"] = True
        left = self.array_operand(node.left)
        right = self.array_operand(node.right)
        return self.operand(self.array_op("matmul", [left, right], (("count", 2),), "__a0 @ __a1", node), args)

    def index(self, node: ast.Subscript, args: list[ir.Operand]) -> tuple:
        """x[i], x[1:3, ::2], x[:, None], x[idx], x[mask]: the index carries no gradient."""
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.fail(UnsupportedSyntax, node, "assigning to entries of an array is not supported",
                      "build the new array with np.where, np.concatenate or arithmetic instead")
        self.array_state["used"] = True
        values = [self.array_operand(node.value)]
        index = self.without_gradient(node.slice, values)
        source = ast.unparse(ast.Subscript(ast.Name("__a0"), index, ast.Load()))
        text = ast.unparse(ast.Subscript(ast.Attribute(ast.Name("np"), "s_"), index, ast.Load()))
        return self.operand(self.array_op("index", values, (("index_text", text), ("count", 1)), source, node),
                            args)

    def array_attribute(self, node: ast.Attribute, args: list[ir.Operand]) -> tuple:
        """x.T (a transpose), x.shape, x.ndim, x.size (no gradient)."""
        if node.attr == "T":
            self.array_state["used"] = True
            value = self.array_operand(node.value)
            return self.operand(self.array_op("transpose", [value], (("axes", None), ("count", 1)), "__a0.T", node),
                                args)
        if node.attr in _SHAPE_ATTRIBUTES:
            return self.constant_op(node, args)
        self.fail(UnsupportedSyntax, node, f"the attribute .{node.attr} is not supported",
                  "use .T, .shape, .ndim or .size of an array")

    def constant_op(self, node: ast.expr, args: list[ir.Operand]) -> tuple:
        """An expression with no gradient: a shape query (X.shape[0], len(x)) or a
        constant array (np.zeros_like(x)). Its variables are operands it only reads."""
        self.array_state["used"] = True
        values: list[ir.Operand] = []
        template = self.placeholders(node, values)
        if isinstance(template, ast.Call) and isinstance(template.func, ast.Name) and template.func.id != "len":
            template.func = _np_attribute(self.numpy_path(node.func))  # from numpy import zeros_like
        return self.operand(self.array_op("constant", values, (), ast.unparse(template), node), args)

    def placeholders(self, node: ast.expr, values: list[ir.Operand]) -> ast.expr:
        """`node` as a template to print as written: the function's variables become
        __a0, __a1, ... (appended to `values`), NumPy's names np.<name>, a module-level
        number its value; builtins stay. Anything else is refused."""
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
                if is_numpy(obj) or numpy_name(obj) is not None or getattr(builtins, name.id, None) is obj:
                    return name
                if isinstance(obj, (int, float)) and not isinstance(obj, bool):
                    return ast.Constant(obj)
                lower.fail(UnsupportedSyntax, name, f"{name.id!r} in {ast.unparse(node)} is not a variable of "
                           "the function", "use the function's variables, numbers and built-in functions")

            def visit_Attribute(self, attribute: ast.Attribute) -> ast.expr:
                if isinstance(attribute.value, ast.Name) and not lower.is_local(attribute.value) and \
                        is_numpy(lower.lookup(attribute.value)):
                    return _np_attribute(lower.numpy_path(attribute))
                return self.generic_visit(attribute)

        return Placeholders().visit(copy.deepcopy(node))

    def without_gradient(self, node: ast.expr, values: list[ir.Operand]) -> ast.expr:
        """An argument that carries no gradient (a shape, an index): as written where it
        is a literal, else its parts computed into operands, as placeholders."""
        try:
            ast.literal_eval(node)
            return node
        except ValueError:
            pass
        if isinstance(node, (ast.Tuple, ast.List)):
            return type(node)([self.without_gradient(elt, values) for elt in node.elts], ast.Load())
        if isinstance(node, ast.Attribute) and node.attr == "newaxis" and not self.is_value(node.value) \
                and is_numpy(self.attribute(node.value) if isinstance(node.value, ast.Attribute)
                             else self.lookup(node.value)):
            return ast.Constant(None)  # np.newaxis is None
        if isinstance(node, ast.Slice):
            return ast.Slice(*(part if part is None else self.without_gradient(part, values)
                               for part in (node.lower, node.upper, node.step)))
        operand = self.array_operand(node)
        if operand not in values:
            values.append(operand)
        return ast.Name(f"__a{values.index(operand)}")

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
        if op in _VIEWS:  # NumPy returns a view: the same memory as its operand
            self.shared.add(value)
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
