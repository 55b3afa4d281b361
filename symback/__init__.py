"""symback: plain Python in, a standalone reverse-mode gradient out.

    from symback import grad

    @grad
    def cost(w, b, a0, y):
        z = w * a0 + b
        a = 1 / (1 + math.exp(-z))
        return (a - y) ** 2

    cost(0.5, 0.1, 1.0, 0.0)   # (dC/dw, dC/db, dC/da0, dC/dy)
    print(cost.source)         # the generated Python
"""

from .api import grad, value_and_grad
from .explain import Explanation, explain
from .errors import (InternalError, NoSource, NotDifferentiable, SymbackError, UnsupportedCall,
                     UnsupportedSyntax, UsageError)

__version__ = "0.1.0"

__all__ = ["grad", "value_and_grad", "explain", "Explanation", "SymbackError", "UsageError", "NoSource", "UnsupportedSyntax",
           "UnsupportedCall", "NotDifferentiable", "InternalError"]
