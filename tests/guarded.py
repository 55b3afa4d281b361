"""A function with an assert, for tests/test_guards_and_aux.py.

Not in the test file itself: pytest rewrites the asserts of test modules,
so the function that runs would no longer be the source symback reads
(which symback rightly refuses).
"""

import math


def checked(x, y):
    if x <= 0:
        raise ValueError(f"x must be positive, got {x}")
    assert y != 0, "y must not be zero"
    z = math.log(x) / y
    return z * z
