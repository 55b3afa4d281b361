"""An independent numeric oracle for gradients: finite differences, no symback.

`central_differences` estimates every partial derivative of a scalar function
of floats; `assert_grads_close` compares symback's answer with it and fails
with a message in the style of autograd's `check_vjp`.
"""

from __future__ import annotations

import inspect
import math
from typing import Callable, Sequence


def _positional_names(fn: Callable) -> list[str]:
    """Names of the parameters that positional arguments bind to, in order."""
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in inspect.signature(fn).parameters.values() if p.kind in kinds]


def _central(fn: Callable, args: list[float], i: int, step: float) -> float:
    """(f(x+h) - f(x-h)) / (2h) in argument i, dividing by the step really taken."""
    x = args[i]
    hi, lo = list(args), list(args)
    hi[i], lo[i] = x + step, x - step
    width = hi[i] - lo[i]  # exact in floating point, unlike 2*step
    return (float(fn(*hi)) - float(fn(*lo))) / width


def central_differences(fn: Callable, args: Sequence[float], h: float = 1e-6) -> tuple[float, ...]:
    """One partial derivative per positional argument of `fn` at `args`.

    Each partial is a central difference with step h*max(1, |x|), improved by
    one Richardson extrapolation over the steps h and h/2:
    D = (4*D(h/2) - D(h)) / 3, which cancels the O(h^2) error term.
    """
    args = [float(a) for a in args]
    partials = []
    for i, x in enumerate(args):
        step = h * max(1.0, abs(x))
        coarse = _central(fn, args, i, step)
        fine = _central(fn, args, i, step / 2)
        partials.append((4.0 * fine - coarse) / 3.0)
    return tuple(partials)


def _as_tuple(grads) -> tuple:
    """A gradient as a tuple: a bare number (one-parameter function) becomes a 1-tuple."""
    if isinstance(grads, (tuple, list)):
        return tuple(grads)
    return (grads,)


def assert_grads_close(got, want, fn: Callable, args: Sequence[float],
                       rtol: float = 1e-5, atol: float = 1e-6,
                       params: Sequence[str] | None = None) -> None:
    """Fail unless every partial in `got` is within atol + rtol*|want| of `want`.

    `got` is symback's gradient: a bare float for one parameter, else a tuple.
    `params` names the partials (default: the positional parameters of `fn`);
    pass it when `got` covers only some of them (grad with `wrt=`).
    """
    got, want = _as_tuple(got), _as_tuple(want)
    names = list(params) if params is not None else _positional_names(fn)
    where = f"Gradient check of {fn.__name__} failed at args {tuple(args)}"
    if len(got) != len(want):
        raise AssertionError(
            f"{where}: symback returned {len(got)} partials {got}, "
            f"expected {len(want)} ({', '.join(names)})")
    problems = []
    for name, g, w in zip(names, got, want):
        g, w = float(g), float(w)
        if not (math.isfinite(g) and abs(g - w) <= atol + rtol * abs(w)):
            problems.append(f"d/d{name}: symback {g!r} vs numeric {w!r}")
    if problems:
        raise AssertionError(f"{where}: " + "; ".join(problems))
