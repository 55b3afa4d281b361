"""The adjoint rules of NumPy operations that are not elementwise.

An elementwise statement over arrays is a scalar expression (mathlib): SymPy
derives its partials. Everything else a NumPy function computes, a
reduction, a matrix product, a change of shape, has one rule here: for each
operand, the text of its adjoint given the result's adjoint `__g`, the
operands `__a0, __a1, ...`, the result `__r` and the static options
(`{axis}`, `{keepdims}`) the call was made with. Shapes are known only at run
time, so a rule is shape-generic; the few small helpers rules call are
defined in the generated module itself (HELPERS), which then needs nothing
but NumPy.

    sum(x, axis)    x_bar = g put back along the summed axes, repeated
    mean(x, axis)   the same, divided by the number of entries averaged
    max(x, axis)    g to the entries equal to the max, split evenly at a tie
    a @ b           a_bar = g @ b.T, b_bar = a.T @ g (1-D operands promoted)
    x.T             x_bar = g.T
    reshape(x, s)   x_bar = g reshaped to x's shape
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """grads[i]: the adjoint of operand i as text, or None (no gradient: an
    index, a shape); helpers: the names in HELPERS the texts call."""

    grads: tuple[str | None, ...]
    helpers: tuple[str, ...] = ()


RULES: dict[str, Rule] = {
    "sum": Rule(("_unreduce(__g, __a0, {axis}, {keepdims})",), ("_unreduce",)),
    "mean": Rule(("_unreduce(__g, __a0, {axis}, {keepdims}) * (np.size(__r) / np.size(__a0))",),
                 ("_unreduce",)),
    "max": Rule(("_unreduce_extreme(__g, __a0, __r, {axis}, {keepdims})",), ("_unreduce", "_unreduce_extreme")),
    "min": Rule(("_unreduce_extreme(__g, __a0, __r, {axis}, {keepdims})",), ("_unreduce", "_unreduce_extreme")),
    "matmul": Rule(("_matmul_bar_a(__g, __a0, __a1)", "_matmul_bar_b(__g, __a0, __a1)"),
                   ("_sum_to", "_matmul_bar_a", "_matmul_bar_b")),
    "T": Rule(("np.transpose(__g)",)),
    "reshape": Rule(("np.reshape(__g, np.shape(__a0))",)),
    "constant": Rule(()),  # a shape, a size, np.zeros_like(x): no gradient
}

# Statically known keyword arguments of the reductions, with their defaults.
REDUCTION_OPTIONS = (("axis", None), ("keepdims", False))


HELPERS: dict[str, str] = {
    "_sum_to": '''
def _sum_to(g, x):
    """g, the adjoint of a result NumPy broadcast x into, summed back to x's
    shape: over the leading axes x lacks and the axes where x has length 1."""
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    g = np.sum(g, axis=tuple(range(np.ndim(g) - len(shape))))
    ones = tuple(axis for axis, length in enumerate(shape) if length == 1 and np.shape(g)[axis] != 1)
    if ones:
        g = np.sum(g, axis=ones, keepdims=True)
    return float(g) if type(x) is float else g
''',
    "_unreduce": '''
def _unreduce(g, x, axis, keepdims):
    """g, the adjoint of a reduction of x over `axis`, repeated along it: x's shape."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(np.asarray(g, dtype=np.result_type(x, g)), np.shape(x))  # float32 stays float32
''',
    "_unreduce_extreme": '''
def _unreduce_extreme(g, x, r, axis, keepdims):
    """The adjoint of max (or min) of x over `axis`: g goes to the entries equal to
    the result r, split evenly among them where several tie."""
    at = x == _unreduce(r, x, axis, keepdims)
    count = np.sum(at, axis=axis, keepdims=True, dtype=np.result_type(x, g))
    return _unreduce(g, x, axis, keepdims) * at / count
''',
    "_matmul_bar_a": '''
def _matmul_bar_a(g, a, b):
    """The adjoint of a in a @ b: g @ b.T, with 1-D operands as NumPy promotes them."""
    if np.ndim(a) == 2 and np.ndim(b) == 2:
        return g @ b.T
    if np.ndim(b) == 1:
        return _sum_to(np.expand_dims(g, -1) * b, a) if np.ndim(a) > 1 else g * b
    if np.ndim(a) == 1:
        return _sum_to(np.swapaxes(b @ np.expand_dims(g, -1), -1, -2)[..., 0, :], a)
    return _sum_to(g @ np.swapaxes(b, -1, -2), a)
''',
    "_matmul_bar_b": '''
def _matmul_bar_b(g, a, b):
    """The adjoint of b in a @ b: a.T @ g, with 1-D operands as NumPy promotes them."""
    if np.ndim(a) == 2 and np.ndim(b) == 2:
        return a.T @ g
    if np.ndim(a) == 1:
        return _sum_to(np.expand_dims(a, -1) * np.expand_dims(g, -2), b) if np.ndim(b) > 1 else g * a
    if np.ndim(b) == 1:
        return _sum_to(np.sum(np.swapaxes(a, -1, -2) * np.expand_dims(g, -2), axis=-1), b)
    return _sum_to(np.swapaxes(a, -1, -2) @ g, b)
''',
}


def helpers_source(names) -> str:
    """The definitions of the helpers `names` (and those they call), in a fixed order."""
    wanted = set(names)
    for name in list(wanted):
        wanted |= {other for other in HELPERS if other != name and f"{other}(" in HELPERS[name]}
    return "\n".join(HELPERS[name] for name in HELPERS if name in wanted)
