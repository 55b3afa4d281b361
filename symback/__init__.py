"""symback: plain Python in, a standalone reverse-mode gradient out.

    from symback import grad

    @grad
    def cost(w, b, a0, y):
        z = w * a0 + b
        a = 1 / (1 + math.exp(-z))
        return (a - y) ** 2

    cost(0.5, 0.1, 1.0, 0.0)   # (dC/dw, dC/db, dC/da0, dC/dy)
    print(cost.source)         # the generated Python

Importing symback does not import SymPy: the compiler loads on the first
gradient that is not in the on-disk cache (see api.py and cache.py).
"""

import sys
import types

from .api import grad, value_and_grad
from .errors import (InternalError, NoSource, NotDifferentiable, SymbackError, UnsupportedCall,
                     UnsupportedSyntax, UsageError)

__version__ = "0.1.0"

__all__ = ["grad", "value_and_grad", "explain", "Explanation", "SymbackError", "UsageError", "NoSource", "UnsupportedSyntax",
           "UnsupportedCall", "NotDifferentiable", "InternalError"]


def explain(f, wrt=None):
    """The SSA graph of `f` with its local partials and chain-rule paths (an
    Explanation: print it, or call .latex() or .to_dot())."""
    from .explain import explain as run  # SymPy, on first use
    return run(f, wrt)


def __getattr__(name: str):
    if name == "Explanation":
        from .explain import Explanation
        return Explanation
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(types.ModuleType):
    """symback itself. Importing the submodule symback.explain sets the package's
    attribute `explain` to that module; the function explain stays instead."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "explain" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
