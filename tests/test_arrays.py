"""NumPy arrays: gradients against central differences on seeded random inputs.

Every function here returns a scalar; each array parameter is perturbed entry
by entry (float64) and the difference quotient compared with symback's
gradient, which must also have the parameter's shape (and dtype, in
test_float32_stays_float32). Functions are written as a user writes them.
"""

from __future__ import annotations

import numpy as np
import pytest

from symback import grad, value_and_grad

np_ = pytest.importorskip("numpy")


def numeric_gradient(f, args, i, eps=1e-6):
    """d f / d args[i], entry by entry, by central differences."""
    args = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in args]
    x = args[i]
    if not isinstance(x, np.ndarray):
        hi, lo = list(args), list(args)
        hi[i], lo[i] = x + eps, x - eps
        return (f(*hi) - f(*lo)) / (2 * eps)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = f(*args)
        x[idx] = old - eps
        down = f(*args)
        x[idx] = old
        out[idx] = (up - down) / (2 * eps)
    return out


def check(f, *args, wrt=None, rtol=1e-5, atol=1e-7):
    """value_and_grad(f) returns f's value and, for every differentiated
    parameter, a gradient of its shape equal to central differences."""
    value, grads = value_and_grad(f, wrt=wrt)(*args)
    assert np.allclose(value, f(*args), rtol=1e-12, atol=0), (value, f(*args))
    names = list(f.__code__.co_varnames[:f.__code__.co_argcount])
    chosen = [names.index(w) for w in (wrt if isinstance(wrt, tuple) else (wrt,))] if wrt else range(len(args))
    grads = grads if len(list(chosen)) > 1 else (grads,)
    for got, i in zip(grads, chosen):
        want = numeric_gradient(f, args, i)
        assert np.shape(got) == np.shape(args[i]), f"d/d{names[i]}: shape {np.shape(got)} != {np.shape(args[i])}"
        assert np.allclose(got, want, rtol=rtol, atol=atol), f"d/d{names[i]}:\n{got}\nvs numeric\n{want}"
    alone = grad(f, wrt=wrt)(*args)
    alone = alone if len(list(chosen)) > 1 else (alone,)
    for a, b in zip(alone, grads):
        assert np.array_equal(a, b)
    return grads


rng = np.random.default_rng(20261130)


def r(*shape):
    return rng.normal(size=shape)


# --- elementwise, with broadcasting -----------------------------------------

def sum_of_tanh(x):
    return np.sum(np.tanh(x))


def ufunc_chain(x):
    return np.sum(np.exp(np.sin(x)) * np.log1p(x * x) + np.sqrt(np.cosh(x)) / (1.0 + np.arctan(x) ** 2))


def scalar_times_array(a, x):
    return np.sum(a * x + a ** 2)


def row_plus_column(u, v):
    return np.sum(np.sin(u + v) * u)


def missing_leading_axes(M, b):
    return np.sum((M - b) ** 2)


def relu_mean(z):
    return np.mean(np.maximum(0.0, z) ** 2)


def abs_and_square(x):
    return np.sum(np.abs(x) + np.square(x) - np.reciprocal(2.0 + x * x))


def two_argument_ufuncs(a, b):
    return np.sum(np.arctan2(a, b) + np.hypot(a, b) + np.logaddexp(a, b) + np.power(np.abs(a) + 1.0, b))


def arcfunctions(x):
    return np.sum(np.arcsin(x / 4) + np.arccos(x / 4) * np.arctan(x) + np.arcsinh(x) + np.cbrt(x) + np.exp2(x))


@pytest.mark.parametrize("f, args", [
    (sum_of_tanh, (r(5),)),
    (sum_of_tanh, (r(3, 4),)),
    (ufunc_chain, (r(4, 3),)),
    (scalar_times_array, (0.7, r(3, 2))),
    (row_plus_column, (r(4, 1), r(1, 3))),
    (row_plus_column, (r(4, 3), r(3))),
    (row_plus_column, (r(3), r(2, 4, 3))),
    (missing_leading_axes, (r(2, 3, 4), r(4))),
    (missing_leading_axes, (r(2, 3, 4), r(3, 1))),
    (relu_mean, (r(6, 2),)),
    (abs_and_square, (r(7),)),
    (two_argument_ufuncs, (r(3, 1), r(1, 4))),
    (arcfunctions, (r(5),)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_elementwise_with_broadcasting(f, args):
    check(f, *args)


def test_a_scalar_parameter_gets_a_float():
    grads = check(scalar_times_array, 0.7, r(3, 2))
    assert type(grads[0]) is float


# --- reductions --------------------------------------------------------------

def sum_axis0(x):
    return np.sum(np.sum(x, axis=0) ** 2)


def sum_axis_negative(x):
    return np.sum(np.sin(np.sum(x, axis=-1)))


def sum_axis_tuple(x):
    return np.sum(np.sum(x, axis=(0, 2)) ** 3)


def sum_keepdims(x):
    return np.sum(x / np.sum(x * x, axis=1, keepdims=True))


def mean_axis(x):
    return np.sum(np.mean(x, 1) ** 2) + np.mean(x)


def method_forms(x):
    return (x.sum(axis=0) ** 2).sum() + x.mean() * x.max(1, keepdims=True).sum() - x.min()


def max_axis(x):
    return np.sum(np.max(x, axis=1) * np.arange(x.shape[0]))


def amax_amin(x):
    return np.amax(x) - 2.0 * np.amin(x, axis=0).sum()


@pytest.mark.parametrize("f, shape", [
    (sum_axis0, (3, 4)), (sum_axis_negative, (2, 3, 4)), (sum_axis_tuple, (2, 3, 4)),
    (sum_keepdims, (3, 4)), (mean_axis, (4, 5)), (method_forms, (3, 4)), (max_axis, (4, 5)),
    (amax_amin, (3, 4)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_reductions(f, shape):
    check(f, r(*shape) + 3.0)


def test_ties_in_max_split_the_gradient_evenly():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    g = grad(lambda_free_max)(x)
    assert np.array_equal(g, [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])  # as autograd and JAX


def lambda_free_max(x):
    return np.sum(np.max(x, axis=1))


def test_maximum_gives_half_to_each_side_at_a_tie():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 0.0])
    ga, gb = grad(two_maxima)(a, b)
    assert np.array_equal(ga, [0.5, 0.0, 1.0]) and np.array_equal(gb, [0.5, 1.0, 0.0])


def two_maxima(a, b):
    return np.sum(np.maximum(a, b))


# --- products and shapes -----------------------------------------------------

def matmul_2d(A, B):
    return np.sum(np.tanh(A @ B))


def matvec(A, x):
    return np.sum((A @ x) ** 2)


def vecmat(x, A):
    return np.sum(np.sin(x @ A))


def inner_1d(x, y):
    return np.dot(x, y) ** 2


def stacked(A, B):
    return np.sum(np.matmul(A, B) ** 2)


def stacked_broadcast(A, B):
    return np.sum((A @ B) ** 2)


def transpose_and_reshape(x, W):
    return np.sum((W.T @ x.reshape(3, -1)) ** 2) + np.sum(np.transpose(W) * 2.0)


def dot_method(A, x):
    return np.sum(A.dot(x) ** 2)


@pytest.mark.parametrize("f, args", [
    (matmul_2d, (r(3, 4), r(4, 2))), (matvec, (r(3, 4), r(4))), (vecmat, (r(3), r(3, 5))),
    (inner_1d, (r(4), r(4))), (stacked, (r(2, 3, 4), r(2, 4, 5))), (stacked_broadcast, (r(2, 3, 4), r(4, 5))),
    (stacked_broadcast, (r(3, 4), r(2, 4, 5))), (transpose_and_reshape, (r(6), r(3, 2))),
    (dot_method, (r(3, 4), r(4, 2))),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_products_and_shapes(f, args):
    check(f, *args)


# --- whole models -------------------------------------------------------------

def mlp_loss(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def two_layer_mse(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    pred = h @ W2 + b2
    return np.mean((pred - y) ** 2)


def logistic_l2(w, b, X, y, lam):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    eps = 1e-12
    return -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)) + lam * np.sum(w * w)


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def test_softmax_cross_entropy_network():
    X, labels = r(6, 4), rng.integers(0, 3, 6)
    Y = np.eye(3)[labels]
    check(mlp_loss, r(4, 5) * 0.5, r(5), r(5, 3) * 0.5, r(3), X, Y, wrt=("W1", "b1", "W2", "b2"))


def test_two_layer_tanh_regression():
    check(two_layer_mse, r(3, 4), r(4), r(4, 1), r(1), r(8, 3), r(8, 1), wrt=("W1", "b1", "W2", "b2"))


def test_l2_regularised_logistic_regression():
    X = r(10, 3)
    y = (rng.random(10) > 0.5).astype(float)
    check(logistic_l2, r(3), 0.1, X, y, 0.01, wrt=("w", "b"))


def test_logsumexp():
    check(logsumexp, r(7) * 3)


def test_float32_stays_float32():
    args = [a.astype(np.float32) for a in (r(4, 5), r(5), r(5, 3), r(3), r(6, 4))] + \
        [np.eye(3, dtype=np.float32)[rng.integers(0, 3, 6)]]
    value, grads = value_and_grad(mlp_loss, wrt=("W1", "b1", "W2", "b2"))(*args)
    for g, a in zip(grads, args):
        assert g.dtype == np.float32 and g.shape == a.shape
    f64 = value_and_grad(mlp_loss, wrt=("W1", "b1", "W2", "b2"))(*[a.astype(np.float64) for a in args])[1]
    for g32, g64 in zip(grads, f64):
        assert np.allclose(g32, g64, rtol=1e-3, atol=1e-5)


def test_unused_array_parameter_gets_zeros_of_its_shape():
    gx, gy = grad(uses_one_module)(r(3), r(2, 2))
    assert type(grad(uses_one_module)(r(3), 2.0)[1]) is float
    assert np.array_equal(gy, np.zeros((2, 2)))


def uses_one_module(x, y):
    return np.sum(x * 2.0)


def test_generated_code_imports_numpy_not_symback():
    source = value_and_grad(mlp_loss, wrt=("W1", "b1", "W2", "b2")).source
    assert "import numpy as np" in source and "symback" not in source.split('"""')[0]
    assert "def _sum_to(" in source


# --- masks, where, clip ----------------------------------------------------------

def relu_by_mask(z):
    return np.sum((z * (z > 0)) ** 2)


def where_choice(x, y):
    return np.sum(np.where(x > 0.1, x * y, np.sin(y)))


def where_on_a_mask(x):
    mask = x > 0
    return np.sum(np.where(mask, x ** 2, -x))


def clipped(x):
    return np.sum(np.clip(x, -0.5, 0.5) ** 2 + x)


@pytest.mark.parametrize("f, args", [
    (relu_by_mask, (r(4, 3),)), (where_choice, (r(5), r(5))), (where_choice, (r(3, 1), r(4))),
    (where_on_a_mask, (r(6),)), (clipped, (r(8),)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_masks_where_and_clip(f, args):
    check(f, *args)


# --- more reductions -----------------------------------------------------------

def prod_all(x):
    return np.prod(x)


def prod_axis(x):
    return np.sum(np.prod(x, axis=1) ** 2) + x.prod(0, keepdims=True).sum()


def variance_and_std(x):
    return np.var(x) + np.sum(np.std(x, axis=0)) + x.var(axis=1, ddof=1).sum()


def norms(x, v):
    return np.linalg.norm(v) + np.sum(np.linalg.norm(x, axis=1)) + np.linalg.norm(x)


@pytest.mark.parametrize("f, args", [
    (prod_all, (r(2, 3),)), (prod_axis, (r(3, 4),)), (variance_and_std, (r(4, 3),)), (norms, (r(3, 4), r(5))),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_more_reductions(f, args):
    check(f, *args)


def test_prod_with_a_zero_entry_has_the_product_of_the_others():
    x = np.array([2.0, 0.0, 3.0])
    assert np.array_equal(grad(prod_all)(x), [0.0, 6.0, 0.0])  # no division by the zero


# --- changes of shape and joins --------------------------------------------------

def transposes(x):
    y = np.transpose(x, (2, 0, 1))
    return np.sum(np.sin(y) * np.arange(y.shape[2])) + np.sum(np.swapaxes(x, 0, 2)[0] ** 2) \
        + np.sum(x.transpose(1, 0, 2)[0] * 3.0)


def reshapes(x):
    flat = x.ravel()
    return np.sum(flat * np.arange(flat.size)) + np.sum(x.flatten() ** 2) + np.sum(np.reshape(x, (-1, 2)) ** 3)


def dims(x):
    col = np.expand_dims(x, 1)
    return np.sum(col * x) + np.sum(np.squeeze(col, axis=1) ** 2) + np.sum(np.broadcast_to(x, (3, x.size)) ** 2)


def joins(a, b):
    c = np.concatenate([a, b], axis=1)
    s = np.stack((a, b), axis=0)
    return np.sum(c * np.arange(c.shape[1])) + np.sum(s[1] ** 2) + np.sum(np.vstack([a, b]) ** 3) \
        + np.sum(np.hstack((a, b)) * 2.0)


def joins_1d(u, v):
    return np.sum(np.hstack([u, v]) * np.arange(u.size + v.size)) + np.sum(np.vstack((u, v)) ** 2)


def outer_and_inner(u, v):
    return np.sum(np.outer(u, v) ** 2) + np.inner(u, u)


@pytest.mark.parametrize("f, args", [
    (transposes, (r(2, 3, 4),)), (reshapes, (r(3, 4),)), (dims, (r(4),)), (joins, (r(2, 3), r(2, 3))),
    (joins_1d, (r(3), r(3))), (outer_and_inner, (r(3), r(4))),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_shapes_and_joins(f, args):
    check(f, *args)


# --- indexing ------------------------------------------------------------------

def basic_indexing(x):
    return x[0, 1] * x[-1, -2] + np.sum(x[1:3, ::2] ** 2) + np.sum(x[:, 1]) + np.sum(x[..., 0] * 3.0) \
        + np.sum(x[:, None, :] * x[None, :, :])


def integer_array_indexing(x, idx):
    return np.sum(x[idx] ** 2)


def cross_entropy_by_label(z, labels):
    p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    n = z.shape[0]
    return -np.mean(np.log(p[np.arange(n), labels]))


def masked(x):
    return np.sum(x[x > 0] ** 2)


def indexed_by_a_loop(x):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + np.sum(x[i] * x[i])
    return total


@pytest.mark.parametrize("f, args", [
    (basic_indexing, (r(4, 5),)),
    (integer_array_indexing, (r(5), np.array([0, 2, 2, 4, 2]))),  # repeated indices add up
    (cross_entropy_by_label, (r(6, 3), np.array([0, 2, 1, 1, 0, 2]))),
    (masked, (r(3, 4),)),
    (indexed_by_a_loop, (r(3, 2),)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_indexing(f, args):
    check(f, *args, wrt="x" if "idx" in f.__code__.co_varnames else ("z" if "labels" in f.__code__.co_varnames else None))


def test_repeated_integer_indices_accumulate():
    g = grad(integer_array_indexing, wrt="x")(np.array([1.0, 2.0, 3.0]), np.array([2, 2, 0]))
    assert np.array_equal(g, [2.0, 0.0, 12.0])  # d/dx of x0**2 + 2*x2**2


# --- loops over arrays ------------------------------------------------------------

def rnn(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.sum(h ** 2)


def running_loss(w, X, y):
    loss = 0.0
    for i in range(len(X)):
        err = np.dot(X[i], w) - y[i]
        loss += err * err
    return loss / len(X)


def gradient_descent_steps(w, x):
    for _ in range(3):
        w = w - 0.1 * np.tanh(w * x)
    return np.sum(w ** 2)


def test_rnn_over_time():
    check(rnn, r(3, 4) * 0.5, r(4, 4) * 0.5, r(4), r(5, 3), r(4), wrt=("Wx", "Wh", "b", "h0"))


def test_loops_over_arrays():
    check(running_loss, r(3), r(6, 3), r(6), wrt="w")
    check(gradient_descent_steps, r(4), r(4))


# --- what is refused, and how ---------------------------------------------------------

def no_rule(x):
    return np.sum(np.cumsum(x))


def random_inside(x):
    return np.sum(x * np.random.normal(size=3))


def sets_an_entry(x):
    y = x * 2.0
    y[0] = 1.0
    return np.sum(y)


def adds_in_place_to_a_parameter(x):
    x += 1.0
    return np.sum(x)


def adds_in_place_to_a_view(x):
    y = x.T
    y *= 2.0
    return np.sum(y)


def adds_in_place_to_a_fresh_array(x):
    y = x * 2.0
    y += 1.0
    return np.sum(y ** 2)


@pytest.mark.parametrize("f, words, snippet", [
    (no_rule, "no derivative rule for np.cumsum", "np.cumsum(x)"),
    (random_inside, "random numbers", "np.random.normal"),
    (sets_an_entry, "in place", "y[0]"),
    (adds_in_place_to_a_parameter, "changes x in place", "x += 1.0"),
    (adds_in_place_to_a_view, "changes y in place", "y *= 2.0"),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_refusals_name_the_line_and_the_construct(f, words, snippet):
    from symback import SymbackError
    with pytest.raises(SymbackError) as info:
        grad(f)
    message = str(info.value)
    assert words in message and snippet in message
    assert f"test_arrays.py:{f.__code__.co_firstlineno + 1}" in message or \
        f"test_arrays.py:{f.__code__.co_firstlineno + 2}" in message  # the line of the construct
    assert f.__name__ in message


def test_a_fresh_array_may_be_added_to_in_place():
    check(adds_in_place_to_a_fresh_array, r(3))


def test_explain_shows_array_edges_by_their_rule():
    from symback import explain
    text = str(explain(mlp_loss))
    assert "X @ W1" in text and "Xᵀ @ ḡ" in text and "ḡ @ W2ᵀ" in text  # the product's two edges
    assert "1 - h**2" in text  # an elementwise partial, entry by entry
    assert "split evenly at a tie" in text
    assert "no path" not in text


def test_a_loop_that_runs_zero_times_gives_zeros_of_the_parameters_shape():
    grads = grad(rnn, wrt=("Wx", "Wh", "b", "h0"))(r(3, 4), r(4, 4), r(4), np.zeros((0, 3)), r(4))
    assert [np.shape(g) for g in grads] == [(3, 4), (4, 4), (4,), (4,)]
    assert not np.any(grads[0]) and not np.any(grads[1]) and not np.any(grads[2])


# --- lists of arrays as parameters ----------------------------------------------------

def deep(Ws, x):
    h = x
    for W in Ws:
        h = np.tanh(W @ h)
    return np.sum(h ** 2)


def first_two(params, x):
    W = params[0]
    b = params[1]
    return np.sum(np.tanh(W @ x + b) ** 2) + np.sum(params[0] ** 2)


def list_gradient_check(f, params, *rest):
    """A list parameter's gradient: a list of arrays, each equal to central differences."""
    grads = grad(f, wrt=0)(params, *rest)
    assert isinstance(grads, list) and len(grads) == len(params)
    for k, (g, p) in enumerate(zip(grads, params)):
        def in_k(pk):
            return f([pk if j == k else q for j, q in enumerate(params)], *rest)
        assert np.shape(g) == np.shape(p)
        assert np.allclose(g, numeric_gradient(in_k, [p], 0), rtol=1e-5, atol=1e-7)


def test_lists_of_arrays():
    list_gradient_check(deep, [r(3, 3) * 0.7 for _ in range(3)], r(3))
    list_gradient_check(first_two, [r(2, 3), r(2)], r(3))  # arrays of different shapes


def einsums(A, B, v):
    return np.sum(np.einsum("ij,jk->ik", A, B) ** 2) + np.einsum("ij,j->i", A, v).sum() \
        + np.einsum("ij,ij->", A, A) + np.sum(np.einsum("i,j->ij", v, v) * 2.0)


def dot_with_a_number(x, a):
    return np.sum(np.dot(a, x) ** 2)


def test_einsum_with_two_operands():
    check(einsums, r(3, 4), r(4, 2), r(4))


def test_dot_with_a_number():
    check(dot_with_a_number, r(3), 0.7)


def tiles_and_repeats(x, M):
    return np.sum(np.tile(x, 3) * np.arange(3 * x.size)) + np.sum(np.tile(M, (2, 1, 3)) ** 2) \
        + np.sum(np.repeat(x, 2) * np.arange(2 * x.size)) + np.sum(np.repeat(M, [1, 3], axis=0) ** 3) \
        + np.sum(M.repeat(2, axis=1) ** 2)


def new_axis(x):
    return np.sum(x[:, np.newaxis] * x[np.newaxis, :] * np.arange(x.size))


def test_tile_repeat_and_newaxis():
    check(tiles_and_repeats, r(4), r(2, 3))
    check(new_axis, r(4))


def repeat_with_zeros(x):
    return np.sum(np.repeat(x, [2, 0, 1]) ** 2)


def test_repeat_with_a_zero_count():
    check(repeat_with_zeros, r(3))


# --- found while documenting (helper): each once accepted, then wrong or a crash ------------

def inner_2d(A, B):
    return np.sum(np.inner(A, B) ** 2) + np.sum(np.inner(A[0], B) * 2.0)


def dot_3d(T, M, v):
    return np.sum(np.dot(T, M) ** 2) + np.sum(np.dot(T, v) ** 2)


def concatenate_flat(a, b):
    return np.sum(np.concatenate([a, b], axis=None) * np.arange(a.size + b.size))


def transpose_method(x):
    return np.sum(x.transpose() * np.arange(x.shape[0]))


def rows_of_an_array(X):
    total = 0.0
    for row in X:
        total = total + np.sum(np.tanh(row) ** 2)
    return total


@pytest.mark.parametrize("f, args", [
    (inner_2d, (r(2, 3), r(4, 3))), (dot_3d, (r(2, 3, 4), r(4, 5), r(4))), (concatenate_flat, (r(2, 2), r(3))),
    (transpose_method, (r(3, 2),)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_products_joins_and_methods_found_while_documenting(f, args):
    check(f, *args)


def test_loop_over_the_rows_of_an_array_gives_an_array():
    X = r(3, 2)
    g = check(rows_of_an_array, X)[0]
    assert isinstance(g, np.ndarray) and g.shape == X.shape


def test_float32_through_prod():
    x = r(3).astype(np.float32)
    assert grad(prod_all)(x).dtype == np.float32


def returns_an_array(x):
    return np.tanh(x)


def test_a_function_returning_an_array_is_refused_when_called():
    with pytest.raises(TypeError, match=r"returns_an_array returned an array of shape \(3,\)"):
        grad(returns_an_array)(r(3))
    assert grad(returns_an_array)(0.5) == pytest.approx(1 - np.tanh(0.5) ** 2)  # a number is fine


def relu_net(W, b, X):
    return np.sum(np.maximum(X @ W + b, 0.0) ** 2) + np.sum(np.clip(W, -0.1, 0.1)) + np.sum(np.where(b > 0, b, 0.0))


def test_float32_through_masks_stays_float32():
    W, b, X = (a.astype(np.float32) for a in (r(3, 4), r(4), r(5, 3)))
    gW, gb = grad(relu_net, wrt=("W", "b"))(W, b, X)
    assert gW.dtype == np.float32 and gb.dtype == np.float32
    check(relu_net, r(3, 4), r(4), r(5, 3), wrt=("W", "b"))


# --- every elementwise function, one by one ----------------------------------------

ELEMENTWISE = {  # name -> (a function of one or two arrays using it, a domain-safe input maker)
    "sin": "np.sin(x)", "cos": "np.cos(x)", "tan": "np.tan(x / 4)", "arcsin": "np.arcsin(np.tanh(x) * 0.9)",
    "arccos": "np.arccos(np.tanh(x) * 0.9)", "arctan": "np.arctan(x)", "arctan2": "np.arctan2(x, y)",
    "sinh": "np.sinh(x)", "cosh": "np.cosh(x)", "tanh": "np.tanh(x)", "arcsinh": "np.arcsinh(x)",
    "arccosh": "np.arccosh(1.5 + x * x)", "arctanh": "np.arctanh(np.tanh(x) * 0.9)", "exp": "np.exp(x)",
    "expm1": "np.expm1(x)", "exp2": "np.exp2(x)", "log": "np.log(1.0 + x * x)", "log1p": "np.log1p(x * x)",
    "log2": "np.log2(2.0 + x)", "log10": "np.log10(3.0 + x)", "sqrt": "np.sqrt(1.0 + x * x)",
    "cbrt": "np.cbrt(x)", "square": "np.square(x)", "abs": "np.abs(x)", "absolute": "np.absolute(x)",
    "fabs": "np.fabs(x)", "sign": "np.sign(x) * x", "reciprocal": "np.reciprocal(2.0 + x * x)",
    "power": "np.power(1.5 + x * x, y)", "maximum": "np.maximum(x, y)", "minimum": "np.minimum(x, y)",
    "fmax": "np.fmax(x, y)", "fmin": "np.fmin(x, y)", "logaddexp": "np.logaddexp(x, y)",
    "hypot": "np.hypot(x, y)", "negative": "np.negative(x)", "positive": "np.positive(x)",
    "add": "np.add(x, y)", "subtract": "np.subtract(x, y)", "multiply": "np.multiply(x, y)",
    "divide": "np.divide(x, 2.0 + y * y)", "true_divide": "np.true_divide(x, 2.0 + y * y)",
    "where": "np.where(x > y, x * y, y)", "clip": "np.clip(x, -0.3, 0.4)",
}


def test_the_elementwise_table_is_covered():
    from symback import mathlib
    assert set(ELEMENTWISE) == set(mathlib.NUMPY_FUNCTIONS)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_every_elementwise_function(name, tmp_path):
    import importlib.util
    path = tmp_path / f"elementwise_{name}.py"
    path.write_text(f"import numpy as np\n\n\ndef f(x, y):\n    return np.sum({ELEMENTWISE[name]} * (1.0 + y))\n")
    spec = importlib.util.spec_from_file_location(f"elementwise_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, y = r(3, 4) + 0.05, r(4) * 0.5 + 0.05  # away from 0 and from each other: no kink here
    check(module.f, x, y)


# --- a layer helper in a loop over zip(Ws, bs); a while loop over arrays ---------------

def layer(W, b, h):
    return np.tanh(h @ W + b)


def net_of_layers(Ws, bs, X, y):
    h = X
    for W, b in zip(Ws, bs):
        h = layer(W, b, h)
    return np.mean((h - y) ** 2)


def halve_until_small(x):
    while np.max(np.abs(x)) > 0.1:
        x = x * 0.5
    return np.sum(x ** 2)


def test_layers_of_different_shapes_in_a_loop():
    """A bias read in the reverse loop for its shape only (_sum_to(g, b)) must be the
    iteration's bias, restored from the tape: it was the last one's (ValueError)."""
    X, y = r(5, 3), r(5, 2)
    Ws, bs = [r(3, 4), r(4, 2)], [r(4), r(2)]
    gWs, gbs = grad(net_of_layers, wrt=("Ws", "bs"))(Ws, bs, X, y)
    for params, grads in ((Ws, gWs), (bs, gbs)):
        for k, p in enumerate(params):
            def in_k(pk):
                saved = params[k]
                params[k] = pk
                try:
                    return net_of_layers(Ws, bs, X, y)
                finally:
                    params[k] = saved
            assert grads[k].shape == p.shape
            assert np.allclose(grads[k], numeric_gradient(in_k, [p], 0), rtol=1e-5, atol=1e-7)


def test_while_loop_over_arrays():
    check(halve_until_small, r(4))


# --- found by the array property test (tests/test_random_arrays.py) -------------------

def shared_partial_broadcast(c, x):
    return np.sum(np.sin(c + x))


def named_like_a_helper(x):
    _unreduce = x * 2.0
    _sum_to = np.sum(_unreduce)
    return _sum_to * 1.5


def float_times_a_size(x, c):
    return np.sum(x) + c * x.shape[0]


def sum_then_float(x, c):
    return np.sum(np.sum(x) + c)


def axis_reduction_of_float32(x):
    return np.sum(np.sum(x, axis=0) * np.exp2(x) + np.log2(2.0 + x * x) + np.logaddexp(x, 0.5))


def test_operands_with_the_same_partial_and_different_shapes():
    """(c + x): one partial for both; x_bar was c_bar after _sum_to to c's shape (ValueError)."""
    check(shared_partial_broadcast, r(1), r(3))
    check(shared_partial_broadcast, 0.3, r(2, 3))


def test_variables_named_like_helpers_of_the_generated_module():
    check(named_like_a_helper, r(3))


def test_a_float_parameter_gets_a_float():
    for f in (float_times_a_size, sum_then_float):
        g = grad(f, wrt="c")(r(3), 0.5)
        assert type(g) is float, (f.__name__, type(g))
        check(f, r(3), 0.5)


def test_float32_through_constants_and_axis_reductions():
    x = r(3).astype(np.float32)
    g = grad(axis_reduction_of_float32)(x)
    assert g.dtype == np.float32
    check(axis_reduction_of_float32, r(3))


def mlp_over_pairs(params, X, y):
    h = X
    for W, b in params:
        h = np.tanh(h @ W + b)
    return np.mean((h - y) ** 2)


def test_a_list_of_weight_bias_pairs():
    """issue 10: `for W, b in params:` over a list of (W, b) pairs; the gradient is a list
    of pairs (as lists) of arrays of their shapes."""
    params = [(r(3, 4), r(4)), (r(4, 2), r(2))]
    X, y = r(5, 3), r(5, 2)
    grads = grad(mlp_over_pairs, wrt="params")(params, X, y)
    assert len(grads) == 2 and all(len(pair) == 2 for pair in grads)
    for k in range(2):
        for j in range(2):
            def in_kj(p):
                changed = [list(pair) for pair in params]
                changed[k][j] = p
                return mlp_over_pairs(changed, X, y)
            assert grads[k][j].shape == params[k][j].shape
            assert np.allclose(grads[k][j], numeric_gradient(in_kj, [params[k][j]], 0), rtol=1e-5, atol=1e-7)


def logaddexp_of_large_values(a, b):
    return np.sum(np.logaddexp(a * a, b))


def test_logaddexp_has_a_finite_gradient_where_exp_overflows():
    """Found by the long property run: the partial printed as exp(a)/(exp(a) + exp(b))
    is inf/inf = nan once a > 709, where f (NumPy's logaddexp) is finite: it is
    exp(a - logaddexp(a, b)) now, through the value itself."""
    a, b = np.array([30.0, 1.0, -2.0]), np.array([2.0, 0.5, 800.0])
    value, (a_bar, b_bar) = value_and_grad(logaddexp_of_large_values)(a, b)
    assert value == logaddexp_of_large_values(a, b)
    d = b - a * a  # d logaddexp(u, b)/du is the sigmoid of u - b, computed where exp cannot overflow
    share = np.where(d < 0, 1 / (1 + np.exp(np.minimum(d, 0))), np.exp(-np.maximum(d, 0)) / (1 + np.exp(-np.maximum(d, 0))))
    np.testing.assert_allclose(a_bar, 2 * a * share, rtol=1e-12)
    np.testing.assert_allclose(b_bar, 1 - share, rtol=1e-12, atol=1e-300)
    assert np.all(np.isfinite(a_bar)) and np.all(np.isfinite(b_bar))
