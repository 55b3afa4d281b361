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


# op -> the adjoint of its array operand number {index}, as text over `__g` (the
# result's adjoint), `__a0, __a1, ...` (the operands), `__r` (the result),
# `__arrays` (all array operands, a tuple) and the static options in braces; or
# a pair of texts, one per operand. A text may call the functions in HELPERS.
RULES: dict[str, str | tuple[str, str]] = {
    "sum": "_unreduce(__g, __a0, {axis}, {keepdims})",
    "mean": "_unreduce(__g, __a0, {axis}, {keepdims}) * (np.size(__r) / np.size(__a0))",
    "max": "_unreduce_extreme(__g, __a0, __r, {axis}, {keepdims})",
    "min": "_unreduce_extreme(__g, __a0, __r, {axis}, {keepdims})",
    "prod": "_prod_bar(__g, __a0, {axis}, {keepdims})",
    "var": "_unreduce(__g, __a0, {axis}, {keepdims}) * 2 * (__a0 - np.mean(__a0, axis={axis}, keepdims=True))"
           " / (np.size(__a0) / np.size(__r) - {ddof})",
    "std": "_unreduce(__g / __r, __a0, {axis}, {keepdims}) * (__a0 - np.mean(__a0, axis={axis}, keepdims=True))"
           " / (np.size(__a0) / np.size(__r) - {ddof})",
    "norm": "_unreduce(__g / __r, __a0, {axis}, {keepdims}) * __a0",
    "matmul": ("_matmul_bar_a(__g, __a0, __a1)", "_matmul_bar_b(__g, __a0, __a1)"),
    "dot": ("_dot_bar_a(__g, __a0, __a1)", "_dot_bar_b(__g, __a0, __a1)"),
    "inner": ("_inner_bar_a(__g, __a0, __a1)", "_inner_bar_b(__g, __a0, __a1)"),
    "outer": ("np.reshape(__g @ np.ravel(__a1), np.shape(__a0))", "np.reshape(np.ravel(__a0) @ __g, np.shape(__a1))"),
    "einsum": ("np.einsum({spec_a}, __g, __a1)", "np.einsum({spec_b}, __g, __a0)"),
    "transpose": "_untranspose(__g, {axes})",
    "swapaxes": "np.swapaxes(__g, {axis1}, {axis2})",
    "reshape": "np.reshape(__g, np.shape(__a0))",
    "broadcast_to": "_sum_to(__g, __a0)",
    "tile": "_untile(__g, __a0, {reps})",
    "repeat": "_unrepeat(__g, __a0, {repeats}, {axis})",
    "concatenate": "_unjoin(__g, __arrays, {index}, {axis}, 'concatenate')",
    "stack": "_unjoin(__g, __arrays, {index}, {axis}, 'stack')",
    "hstack": "_unjoin(__g, __arrays, {index}, None, 'hstack')",
    "vstack": "_unjoin(__g, __arrays, {index}, None, 'vstack')",
    "index": "_unindex(__g, __a0, {index_text})",
    "constant": "",  # a shape, a size, np.zeros_like(x): no gradient
}


def grad_text(op: str, index: int, options: dict) -> str:
    """The adjoint of operand `index` of `op`, as text over placeholders, options put in."""
    text = RULES[op] if isinstance(RULES[op], str) else RULES[op][index]
    values = {key: value if key == "index_text" else repr(value) for key, value in options.items()}
    return text.format(index=index, **values)


HELPERS: dict[str, str] = {
    "_sum_to": '''
def _sum_to(g, x):
    """g, the adjoint of a result NumPy broadcast x into, summed back to x's
    shape: over the leading axes x lacks and the axes where x has length 1."""
    shape, wide = np.shape(x), np.shape(g)
    if wide == shape:
        return g
    lead = len(wide) - len(shape)
    axes = (*range(lead), *(lead + axis for axis, length in enumerate(shape) if length == 1 and wide[lead + axis] != 1))
    g = g.sum(axis=axes, keepdims=True).reshape(shape)  # g is an array here: its methods are quicker
    return float(g) if type(x) is float else g
''',
    "_zeros_like": '''
def _zeros_like(x):
    """The gradient of a parameter nothing reaches: zeros of its shape and dtype, 0.0,
    or for a list of arrays a list of those."""
    if isinstance(x, (list, tuple)):
        return [_zeros_like(item) for item in x]
    return 0.0 if type(x) is float else np.zeros_like(x)
''',
    "_like": '''
def _like(g, x):
    """x's gradient as x is: a float for a Python float (not an int or a 0-d array),
    an array of x's dtype for an array (float64 masks and constants such as np.log(2)
    must not make a float32 parameter's gradient float64)."""
    if type(x) is float:
        return float(g)
    dtype = getattr(x, "dtype", None)
    if dtype is None or dtype.kind != "f" or getattr(g, "dtype", None) == dtype:
        return g
    return np.asarray(g, dtype=dtype)
''',
    "_add": '''
def _add(a, b):
    """a + b for adjoints that may be lists of arrays (those of a list parameter)."""
    if isinstance(a, list):
        return [_add(p, q) for p, q in zip(a, b)]
    return a + b
''',
    "_unreduce": '''
def _unreduce(g, x, axis, keepdims):
    """g, the adjoint of a reduction of x over `axis`, repeated along it: x's shape."""
    if type(g) is float:  # the output's 1.0, or a Python number: float32 stays float32
        g = np.asarray(g, dtype=np.result_type(x, g))
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(x))
''',
    "_prod_bar": '''
def _prod_bar(g, x, axis, keepdims):
    """The adjoint of prod(x, axis): g times the product of the other entries
    (products from both sides, so that a zero entry divides nothing)."""
    if type(g) is float:  # float32 stays float32
        g = np.asarray(g, dtype=np.result_type(x, g))
    if axis is None:
        return np.reshape(_prod_bar(np.reshape(g, (1,)) if keepdims else g, np.ravel(x), 0, False), np.shape(x))
    x = np.moveaxis(x, axis, -1)
    ones = np.ones_like(x[..., :1])
    before = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, x[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    g = g if keepdims else np.expand_dims(g, axis)
    return np.moveaxis(np.moveaxis(g, axis, -1) * before * after, -1, axis)
''',
    "_untranspose": '''
def _untranspose(g, axes):
    """The adjoint of transpose(x, axes): g transposed back."""
    return np.transpose(g) if axes is None else np.transpose(g, np.argsort(axes))
''',
    "_untile": '''
def _untile(g, x, reps):
    """The adjoint of np.tile(x, reps): the sum of g's tiles, in x's shape."""
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    shape = (1,) * (len(reps) - np.ndim(x)) + np.shape(x)  # x as tile promotes it
    reps = (1,) * (len(shape) - len(reps)) + reps
    tiled = np.reshape(g, [n for pair in zip(reps, shape) for n in pair])
    return np.reshape(np.sum(tiled, axis=tuple(range(0, 2 * len(shape), 2))), np.shape(x))
''',
    "_unrepeat": '''
def _unrepeat(g, x, repeats, axis):
    """The adjoint of np.repeat(x, repeats, axis): each entry gets the sum of its copies."""
    flat = axis is None
    shape = (np.size(x),) if flat else np.shape(x)
    axis = 0 if flat else axis % len(shape)
    source = np.repeat(np.arange(shape[axis]), repeats)  # which entry each copy came from
    out = np.zeros((shape[axis],) + shape[:axis] + shape[axis + 1:], dtype=np.result_type(x, g))
    np.add.at(out, source, np.moveaxis(g, axis, 0))
    return np.reshape(np.moveaxis(out, 0, axis), np.shape(x))
''',
    "_unjoin": '''
def _unjoin(g, arrays, index, axis, how):
    """The adjoint of array `index` of a concatenate, stack, hstack or vstack: its part of g."""
    if how == "stack":
        return np.take(g, index, axis=axis)
    if axis is None and how == "concatenate":  # of the flattened arrays
        start = sum(np.size(a) for a in arrays[:index])
        return np.reshape(g[start:start + np.size(arrays[index])], np.shape(arrays[index]))
    shapes = [np.shape(a) for a in arrays]
    if how == "vstack":
        shapes = [np.shape(np.atleast_2d(a)) for a in arrays]
        axis = 0
    elif how == "hstack":
        axis = 0 if len(shapes[0]) == 1 else 1
    start = sum(shape[axis] for shape in shapes[:index])
    part = np.take(g, np.arange(start, start + shapes[index][axis]), axis=axis)
    return np.reshape(part, np.shape(arrays[index]))
''',
    "_unindex": '''
def _unindex(g, x, index):
    """The adjoint of x[index]: g added at the indexed places of zeros of x's shape
    (an index repeated in an integer array adds up, as with np.add.at); for a list
    of arrays, a list of their adjoints."""
    if isinstance(x, (list, tuple)):
        out = [_zeros_like(item) for item in x]
        out[index] = g
        return out
    out = np.zeros(np.shape(x), dtype=np.result_type(x, g))
    np.add.at(out, index, g)
    return out
''',
    "_unreduce_extreme": '''
def _unreduce_extreme(g, x, r, axis, keepdims):
    """The adjoint of max (or min) of x over `axis`: g goes to the entries equal to
    the result r, split evenly among them where several tie."""
    if axis is not None and not keepdims:
        g, r = np.expand_dims(g, axis), np.expand_dims(r, axis)
    at = x == r
    return at * (g / np.sum(at, axis=axis, keepdims=True, dtype=np.result_type(x, g)))
''',
    "_dot_bar_a": '''
def _dot_bar_a(g, a, b):
    """The adjoint of a in np.dot(a, b), which sums over a's last axis and b's
    second to last (its only one, if b is 1-D)."""
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return _matmul_bar_a(g, a, b)
    kept = [axis for axis in range(np.ndim(b)) if axis != max(np.ndim(b) - 2, 0)]
    return np.tensordot(g, b, axes=(list(range(np.ndim(a) - 1, np.ndim(g))), kept))
''',
    "_dot_bar_b": '''
def _dot_bar_b(g, a, b):
    """The adjoint of b in np.dot(a, b)."""
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return _matmul_bar_b(g, a, b)
    lead = list(range(np.ndim(a) - 1))
    summed = np.tensordot(a, g, axes=(lead, lead))  # b's summed axis first, then the rest of b's
    return np.moveaxis(summed, 0, -2) if np.ndim(b) >= 2 else summed
''',
    "_inner_bar_a": '''
def _inner_bar_a(g, a, b):
    """The adjoint of a in np.inner(a, b), which sums over the last axis of both."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return _sum_to(g * b, a)
    return np.tensordot(g, b, axes=(list(range(np.ndim(a) - 1, np.ndim(g))), list(range(np.ndim(b) - 1))))
''',
    "_inner_bar_b": '''
def _inner_bar_b(g, a, b):
    """The adjoint of b in np.inner(a, b)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return _sum_to(g * a, b)
    lead = list(range(np.ndim(a) - 1))
    summed = np.tensordot(g, a, axes=(lead, lead))  # b's leading axes, then the summed one
    return summed
''',
    "_matmul_bar_a": '''
def _matmul_bar_a(g, a, b):
    """The adjoint of a in a @ b: g @ b.T, with 1-D operands as NumPy promotes them."""
    if np.ndim(a) == 2 and np.ndim(b) == 2:
        return g @ b.T
    if np.ndim(a) == 0 or np.ndim(b) == 0:  # np.dot of a number: a product
        return _sum_to(g * b, a)
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
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return _sum_to(g * a, b)
    if np.ndim(a) == 1:
        return _sum_to(np.expand_dims(a, -1) * np.expand_dims(g, -2), b) if np.ndim(b) > 1 else g * a
    if np.ndim(b) == 1:
        return _sum_to(np.sum(np.swapaxes(a, -1, -2) * np.expand_dims(g, -2), axis=-1), b)
    return _sum_to(np.swapaxes(a, -1, -2) @ g, b)
''',
}


def helper_definitions(names) -> list[str]:
    """The definitions of the helpers `names` (and those they call), in a fixed order."""
    wanted, todo = set(), list(names)
    while todo:  # and what they call, and so on
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo += [other for other in HELPERS if other != name and f"{other}(" in HELPERS[name]]
    return [HELPERS[name].strip("\n") for name in HELPERS if name in wanted]
