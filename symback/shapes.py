"""What is known of shapes before run time, in NumPy code: which values are
numbers, and which have the same shape as which.

Shapes are known only when the gradient runs, so an elementwise statement's
adjoint is summed back to each operand's shape (`_sum_to`) wherever NumPy may
have broadcast that operand. This finds where it cannot have: an operand
that is a number (a size such as `X.shape[0]`, a full reduction, a loop
index), or one whose shape is provably the result's:

    z_1 = z - m      with m = np.max(z, axis=1, keepdims=True):
                     m fits inside z's shape, so z_1 has z's shape exactly,
                     z's adjoint needs no sum and m's does.

`same[v]` is a value whose shape v provably has (itself if nothing better
is known); `inside[v]` says v is a keepdims reduction of a value of shape
same[...], which broadcasting never widens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import ir

_SCALAR_QUERY = re.compile(r"(\.shape\[[^\]]*\]|\.ndim|\.size|^len\(__a\d+\))$")
_REDUCTIONS = frozenset({"sum", "mean", "max", "min", "prod", "var", "std", "norm"})


@dataclass(frozen=True)
class Shapes:
    scalars: frozenset[ir.Value]    # numbers whatever the arrays
    same: dict                      # value -> a value of provably the same shape
    inside: dict                    # keepdims reduction -> the shape it was reduced from

    def needs_sum(self, operand: ir.Value, stmt: ir.Assign) -> bool:
        """Whether NumPy may have broadcast `operand` to a larger shape in `stmt`."""
        if operand in self.scalars:
            return any(isinstance(arg, ir.Value) and arg not in self.scalars for arg in stmt.args)
        return self.same.get(operand, operand) != self.same.get(stmt.target, stmt.target)


def shapes(fn: ir.Function) -> Shapes:
    scalars = {loop.index for loop in ir.loops(fn.body) if loop.index is not None}
    same: dict[ir.Value, ir.Value] = {}
    inside: dict[ir.Value, ir.Value] = {}
    for item in ir.walk(fn.body):  # in program order: operands are seen before their uses
        if isinstance(item, ir.ArrayOp):
            options = dict(item.options)
            if item.op == "constant" and _SCALAR_QUERY.search(item.source):
                scalars.add(item.target)
            elif item.op in _REDUCTIONS and options.get("axis") is None and not options.get("keepdims"):
                scalars.add(item.target)
            elif item.op in _REDUCTIONS and options.get("keepdims") and isinstance(item.args[0], ir.Value):
                inside[item.target] = same.get(item.args[0], item.args[0])
        elif isinstance(item, ir.Assign):
            arrays = [arg for arg in item.args if isinstance(arg, ir.Value) and arg not in scalars]
            if not arrays:
                scalars.add(item.target)
                continue
            shapes_of = {same.get(arg, arg) for arg in arrays if arg not in inside}
            fits = all(inside[arg] in shapes_of for arg in arrays if arg in inside)
            if len(shapes_of) == 1 and fits:
                same[item.target] = next(iter(shapes_of))
    return Shapes(frozenset(scalars), same, inside)
