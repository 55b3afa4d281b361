"""Shape trees -> Python source, operation for operation as the user wrote it.

The forward pass of a gradient is the user's own code: every statement,
condition and loop test prints the tree parse built from the source, never
SymPy's rewrite of it (which reorders, cancels and folds as if floats were
real numbers). The tree is turned back into an `ast` expression and
printed with `ast.unparse`, which puts the parentheses Python needs.

Placeholders in the text are filled per statement by emit:

    __a0, __a1, ...   the statement's operands
    __t0, __t1, ...   its hoisted subexpressions (temps)
    __b_abs, ...      a builtin (the user may have a variable of that name)

Math functions print as `math.<name>`, NumPy's as `np.<name>`; emit renames
the modules if needed.
"""

from __future__ import annotations

import ast
import math

from .mathlib import BUILTINS

_BINARY = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "**": ast.Pow,
           "//": ast.FloorDiv, "%": ast.Mod}
_COMPARE = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "==": ast.Eq, "!=": ast.NotEq}


def python_text(tree: tuple) -> tuple[str, frozenset[str]]:
    """The Python source of `tree`, and the modules it uses ({'math'} or none)."""
    modules: set[str] = set()
    text = ast.unparse(_expr(tree, modules))
    return text, frozenset(modules)


def builtin(name: str) -> str:
    """The placeholder a builtin prints as (emit fills in the real name)."""
    return f"__b_{name}"


def number(value: float | int) -> ast.expr:
    """A number as Python source reads it back: -2.0 as -(2.0), inf as float('inf')."""
    if isinstance(value, float) and not math.isfinite(value):
        return ast.Call(ast.Name(builtin("float")), [ast.Constant(repr(value))], [])
    if value < 0 or (value == 0 and math.copysign(1.0, value) < 0):
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def _expr(tree: tuple, modules: set[str]) -> ast.expr:
    kind = tree[0]
    if kind == "arg":
        return ast.Name(f"__a{tree[1]}")
    if kind == "temp":
        return ast.Name(f"__t{tree[1]}")
    if kind == "num":
        return number(tree[1])
    if kind == "bool":
        return ast.Constant(tree[1])
    if kind == "const":
        modules.add("math")
        return ast.Attribute(ast.Name("math"), tree[1])
    if kind == "neg":
        return ast.UnaryOp(ast.USub(), _expr(tree[1], modules))
    if kind == "pos":
        return ast.UnaryOp(ast.UAdd(), _expr(tree[1], modules))
    if kind == "not":
        return ast.UnaryOp(ast.Not(), _expr(tree[1], modules))
    if kind == "bin":
        return ast.BinOp(_expr(tree[2], modules), _BINARY[tree[1]](), _expr(tree[3], modules))
    if kind == "call":
        name = tree[1]
        if name in BUILTINS:
            func: ast.expr = ast.Name(builtin(name))
        elif name.startswith("np."):
            modules.add("numpy")
            func = ast.Attribute(ast.Name("np"), name[3:])
        else:
            modules.add("math")
            func = ast.Attribute(ast.Name("math"), name)
        return ast.Call(func, [_expr(arg, modules) for arg in tree[2:]], [])
    if kind in ("ind", "truth"):
        return _expr(tree[1], modules)
    if kind == "isinstance":
        kinds = [ast.Name(name) for name in tree[2]]
        return ast.Call(ast.Name("isinstance"), [_expr(tree[1], modules),
                                                 kinds[0] if len(kinds) == 1 else ast.Tuple(kinds)], [])
    if kind == "if":
        return ast.IfExp(_expr(tree[1], modules), _expr(tree[2], modules), _expr(tree[3], modules))
    if kind == "cmp":
        return ast.Compare(_expr(tree[2], modules), [_COMPARE[tree[1]]()], [_expr(tree[3], modules)])
    if kind == "chain":
        parts = [_expr(part, modules) for part in tree[2:]]
        return ast.Compare(parts[0], [_COMPARE[op]() for op in tree[1]], parts[1:])
    if kind in ("and", "or"):
        op = ast.And() if kind == "and" else ast.Or()
        return ast.BoolOp(op, [_expr(part, modules) for part in tree[1:]])
    raise AssertionError(f"unknown shape node {kind!r}")
