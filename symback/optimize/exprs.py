"""Adjoint arithmetic as expression trees (the grammar is in ir.py), and keys
that say when two trees compute the same float.

A contribution `operand_bar += partial * target_bar` prints from its shape's
template (templates.py), once per shape. `template_tree()` reads that printed
text back with `ast`, once per template, so the tree has exactly the operations, in
exactly the order, that the printed line runs; `instantiate()` puts one
statement's values in. Nothing here calls SymPy.

`key()` is equal for two trees only if Python computes the same float for
both: the same operations on the same values, up to the rewrites that are
exact in IEEE arithmetic (a + b is b + a, a*b is b*a, a - b is a + (-b),
(-a)*b is -(a*b), a/(-b) is -(a/b)). It never equates what only real
numbers would (no reassociation, no distribution, no cancelling).
"""

from __future__ import annotations

import ast

from .. import ir
from ..templates import Template, contribution_template

__all__ = ["compose", "contribution_template", "forward_tree", "instantiate", "key", "reads",
           "signed_key", "size", "template_tree"]

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.FloorDiv: "//",
           ast.Mod: "%"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}


def template_tree(template: Template) -> tuple | None:
    """The template's text as a tree over placeholders ('ph', name); None if it
    uses anything this grammar does not have (then nothing rewrites it)."""
    found = template.__dict__.get("tree", False)  # read once per template, kept with it
    if found is False:
        try:
            found = _from_ast(ast.parse(template.text, mode="eval").body)
        except (_Unknown, SyntaxError):
            found = None
        template.tree = found
    return found


class _Unknown(Exception):
    pass


def _from_ast(node: ast.expr) -> tuple:
    if isinstance(node, ast.Name):
        return ("ph", node.id[2:]) if node.id.startswith("__") else ("name", node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return ("num", repr(node.value))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return ("bin", _BINARY[type(node.op)], _from_ast(node.left), _from_ast(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return ("un", _UNARY[type(node.op)], _from_ast(node.operand))
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return ("name", f"{node.value.id}.{node.attr}")
    if isinstance(node, ast.Call) and not node.keywords:
        func = node.func
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name = f"{func.value.id}.{func.attr}"
        else:
            raise _Unknown
        return ("call", name, *(_from_ast(arg) for arg in node.args))
    if isinstance(node, ast.IfExp):
        return ("if", _from_ast(node.test), _from_ast(node.body), _from_ast(node.orelse))
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        return ("cmp", tuple(_COMPARE[type(op)] for op in node.ops), _from_ast(node.left),
                *(_from_ast(c) for c in node.comparators))
    if isinstance(node, ast.BoolOp):
        return ("bool", "and" if isinstance(node.op, ast.And) else "or", *(_from_ast(v) for v in node.values))
    raise _Unknown


def instantiate(tree: tuple, stmt: ir.Assign) -> tuple:
    """A template tree with one statement's values for its placeholders:
    __a<i> its operands, __r its value, __t<j> its temps, __zbar its adjoint."""
    kind = tree[0]
    if kind == "ph":
        name = tree[1]
        if name[0] == "a" and name[1:].isdigit():
            arg = stmt.args[int(name[1:])]
            return ("v", arg) if isinstance(arg, ir.Value) else ("c", arg)
        if name == "r":
            return ("v", stmt.target)
        if name == "zbar":
            return ("bar", stmt.target)
        if name[0] == "t" and name[1:].isdigit():
            return ("tmp", stmt.target, int(name[1:]))
        return ("name", "__" + name)  # a builtin, __b_abs: emit names it
    if kind in ("num", "name"):
        return tree
    if kind == "bin":
        return ("bin", tree[1], instantiate(tree[2], stmt), instantiate(tree[3], stmt))
    if kind == "un":
        return ("un", tree[1], instantiate(tree[2], stmt))
    if kind == "call":
        return ("call", tree[1], *(instantiate(arg, stmt) for arg in tree[2:]))
    if kind == "cmp":
        return ("cmp", tree[1], *(instantiate(arg, stmt) for arg in tree[2:]))
    if kind == "bool":
        return ("bool", tree[1], *(instantiate(arg, stmt) for arg in tree[2:]))
    return ("if", *(instantiate(part, stmt) for part in tree[1:]))


def forward_tree(tree: tuple, stmt: ir.Assign) -> tuple | None:
    """A statement's own value or temp (a mathlib tree, see pyprint) as an
    expression tree of this grammar, for its key; None for forms not here."""
    kind = tree[0]
    if kind == "arg":
        arg = stmt.args[tree[1]]
        return ("v", arg) if isinstance(arg, ir.Value) else ("c", arg)
    if kind == "temp":
        return ("tmp", stmt.target, tree[1])
    if kind == "num" and isinstance(tree[1], (int, float)) and not isinstance(tree[1], bool) and tree[1] >= 0:
        return ("num", repr(tree[1]))
    if kind == "neg":
        inner = forward_tree(tree[1], stmt)
        return None if inner is None else ("un", "-", inner)
    if kind == "bin":
        left, right = forward_tree(tree[2], stmt), forward_tree(tree[3], stmt)
        return None if left is None or right is None else ("bin", tree[1], left, right)
    if kind == "call" and not tree[1].startswith("np.") and tree[1] not in ("abs", "min", "max", "float", "int",
                                                                               "round", "pow", "sum", "len", "bool"):
        args = [forward_tree(arg, stmt) for arg in tree[2:]]
        return None if any(a is None for a in args) else ("call", "math." + tree[1], *args)
    return None


def key(tree: tuple):
    """A hashable form equal for trees that compute the same float (see above)."""
    inner, negated = signed_key(tree)
    return ("neg", inner) if negated else inner


def signed_key(tree: tuple):
    """(key, negated): the key of the tree with its sign pulled out, where that
    is exact: -a, (-a)*b, a/(-b)."""
    kind = tree[0]
    if kind in ("if",):
        return compose(tree, [signed_key(part) for part in tree[1:]])
    if kind in ("bin", "un", "call", "cmp", "bool"):
        return compose(tree, [signed_key(part) for part in tree[2:]])
    return compose(tree, ())


def compose(tree: tuple, parts: list):
    """signed_key of a node from its parts' (tree[2:], or tree[1:] for 'if')."""
    kind = tree[0]
    if kind == "un" and tree[1] == "-":
        inner, negated = parts[0]
        return inner, not negated
    if kind == "bin" and tree[1] in ("*", "/"):
        (left, ln), (right, rn) = parts
        pair = (left, right) if tree[1] == "/" else _unordered(left, right)
        return ("bin", tree[1], pair), ln != rn
    if kind == "bin" and tree[1] in ("+", "-"):
        left, right = parts
        if tree[1] == "-":
            right = (right[0], not right[1])
        return ("sum", _unordered(left, right)), False
    if kind in ("bin", "call", "cmp", "bool", "un"):
        return (kind, tree[1], *(("neg", k) if n else k for k, n in parts)), False
    if kind == "if":
        return ("if", *(("neg", k) if n else k for k, n in parts)), False
    if kind == "num":
        text = tree[1]
        return ("num", int if text.isdigit() else float, float(text)), False  # 2 * n is an int for an int n
    return tree, False


def _unordered(a, b):
    return (a, b) if a == b else frozenset((a, b))


def reads(tree: tuple, out: set | None = None) -> set:
    """The values, temps (as (value, j)) and adjoints (as ('bar', value)) a tree reads."""
    out = set() if out is None else out
    kind = tree[0]
    if kind == "v":
        out.add(tree[1])
    elif kind == "tmp":
        out.add((tree[1], tree[2]))
    elif kind == "bar":
        out.add(("bar", tree[1]))
    elif kind == "let":
        out.add(("let", tree[1]))
    elif kind in ("bin", "un", "call", "cmp", "bool"):
        for part in tree[2:]:
            reads(part, out)
    elif kind == "if":
        for part in tree[1:]:
            reads(part, out)
    return out


def size(tree: tuple) -> int:
    """Operations in a tree (leaves cost nothing)."""
    kind = tree[0]
    if kind in ("bin", "un", "call", "cmp", "bool"):
        return 1 + sum(size(part) for part in tree[2:])
    if kind == "if":
        return 1 + sum(size(part) for part in tree[1:])
    return 0
