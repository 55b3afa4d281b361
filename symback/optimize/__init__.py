"""ir.Gradient -> ir.Gradient: passes on the IR between reverse and emit, one idea each.

    dead_code   forward statements and loops the gradient does not need (dead.py)
    copies      adjoint copies `x1_bar = x2_bar` become one variable (copies.py)
    shared      common subexpressions across adjoint statements, and per
                statement a division its partials share (shared.py)
    fold        a constant start of an adjoint folded into its next addition (fold.py)

Every pass keeps f's forward values bit for bit (the forward pass prints f's
own expressions) and the gradient's exceptions where f has them. Adjoint
arithmetic is only reused where it is the same float operation on the same
values (exprs.key), except one reassociation: x*g/s and y*g/s become
x*(g/s) and y*(g/s), within rounding (see shared.py).
"""

from __future__ import annotations

from .. import ir
from .copies import copies
from .dead import dead_code
from .fold import fold
from .shared import shared


def optimize(gradient: ir.Gradient) -> ir.Gradient:
    """The gradient with the passes above applied, in that order."""
    for one_pass in (dead_code, copies, shared, fold):
        gradient = one_pass(gradient)
    return gradient
