"""The NumPy suite: value and gradient of an MLP loss, symback against a hand-written gradient and peers.

    python benchmarks/bench_arrays.py [--threads N] [--quick]    # = run.py --suites arrays

The loss is `mlp_loss` below, a one-hidden-layer tanh network with a
softmax cross-entropy, written the way a NumPy user writes it. CASES are
784-128-10 with a batch of 256 in float64 and in float32, and a tiny
3-10-2 network with a batch of 8 in float64; the gradient is with respect
to W1, b1, W2, b2 (not X, Y). BUILDERS make each implementation:

    symback    symback.value_and_grad(mlp_loss, wrt=("W1", "b1", "W2", "b2"))
    autograd   autograd.value_and_grad(..., argnum=(0, 1, 2, 3))
    jax        jax.jit(jax.value_and_grad(..., argnums=(0, 1, 2, 3))), fed NumPy arrays
    torch      CPU forward + .backward(), torch.from_numpy per call
    tangent    tangent.grad(mlp_loss, wrt=(0, 1, 2, 3), preserve_result=True)

run.py checks and times them (see benchmarks/README.md). Before timing, the
hand-written gradient must agree with central differences of mlp_loss on
the tiny case (check_hand), and every implementation with the hand-written
one (`mismatch`: rtol 1e-6 for float64, 1e-3 for float32).

NumPy is imported when this module is; import it after
harness.pin_threads, as run.py does.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from dataclasses import dataclass

if __name__ == "__main__":  # before NumPy is imported here: run.py pins the threads first
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run
    run.main(["--suites", "arrays", *sys.argv[1:]])
    sys.exit(0)

import numpy as np  # noqa: E402

from harness import BenchmarkError, pin_torch  # noqa: E402

# --- the loss, as a user writes it --------------------------------------------


def mlp_loss(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def mlp_value_and_grad_hand(W1, b1, W2, b2, X, Y):
    """mlp_loss and its gradient in W1, b1, W2, b2, as an expert writes them.

    One forward pass whose intermediates the backward pass reuses. Assumes
    each row of Y sums to 1 (one-hot labels), so that the gradient of the
    loss in the logits is (softmax - Y) / batch; the max subtracted for
    stability has no gradient, since log-softmax does not change under a
    shift of its row.
    """
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = -np.vdot(Y, z - np.log(s)) / n

    dz = (e / s - Y) / n
    dW2 = h.T @ dz
    db2 = dz.sum(axis=0)
    da = (dz @ W2.T) * (1 - h * h)  # tanh' = 1 - tanh^2, from the forward pass
    dW1 = X.T @ da
    db1 = da.sum(axis=0)
    return loss, (dW1, db1, dW2, db2)


# --- the same loss for the peers, written as their users write it -------------


def make_numpy_like_loss(jnp):
    """mlp_loss over jax.numpy or autograd.numpy, which take NumPy's calls."""

    def loss_jnp(W1, b1, W2, b2, X, Y):
        h = jnp.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        z = z - jnp.max(z, axis=1, keepdims=True)
        logp = z - jnp.log(jnp.sum(jnp.exp(z), axis=1, keepdims=True))
        return -jnp.sum(Y * logp) / X.shape[0]
    return loss_jnp


def make_torch_loss(torch):
    """mlp_loss in torch's spelling (dim, keepdim, amax)."""

    def loss_torch(W1, b1, W2, b2, X, Y):
        h = torch.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        z = z - torch.amax(z, dim=1, keepdim=True)
        logp = z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
        return -torch.sum(Y * logp) / X.shape[0]
    return loss_torch


# --- the cases ---------------------------------------------------------------

PARAMS = ("W1", "b1", "W2", "b2")


@dataclass
class Case:
    name: str
    sizes: tuple[int, int, int]  # inputs, hidden units, classes
    batch: int
    dtype: type

    @property
    def rtol(self) -> float:
        return 1e-6 if self.dtype == np.float64 else 1e-3


CASES = (
    Case("784-128-10, batch 256, float64", (784, 128, 10), 256, np.float64),
    Case("784-128-10, batch 256, float32", (784, 128, 10), 256, np.float32),
    Case("3-10-2, batch 8, float64", (3, 10, 2), 8, np.float64),
)


def make_args(case: Case, seed: int) -> tuple:
    """(W1, b1, W2, b2, X, Y): X normal, Y one-hot, weights ~ N(0, 1/fan_in).

    Drawn in float64 and then cast, so that the float32 case has the same
    data as the float64 one.
    """
    rng = np.random.default_rng(seed)
    n_in, n_hidden, n_out = case.sizes
    W1 = rng.standard_normal((n_in, n_hidden)) / math.sqrt(n_in)
    b1 = 0.1 * rng.standard_normal(n_hidden)  # not zero, so a wrong db1 shows
    W2 = rng.standard_normal((n_hidden, n_out)) / math.sqrt(n_hidden)
    b2 = 0.1 * rng.standard_normal(n_out)
    X = rng.standard_normal((case.batch, n_in))
    Y = np.eye(n_out)[rng.integers(0, n_out, case.batch)]
    return tuple(a.astype(case.dtype) for a in (W1, b1, W2, b2, X, Y))


# --- checks ------------------------------------------------------------------


def central_differences(f, args, i: int) -> np.ndarray:
    """Fourth-order central differences of f in args[i], one entry at a time."""
    x = args[i]
    out = np.empty_like(x)
    for k in np.ndindex(x.shape):
        h = 1e-3 * max(1.0, abs(x[k]))

        def at(dx):
            shifted = x.copy()
            shifted[k] += dx
            return f(*args[:i], shifted, *args[i + 1:])

        out[k] = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
    return out


def check_hand(seed: int) -> None:
    """Stop unless the hand-written gradient equals central differences on the tiny case."""
    args = make_args(CASES[-1], seed)
    value, grads = mlp_value_and_grad_hand(*args)
    if not math.isclose(value, mlp_loss(*args), rel_tol=1e-12):
        raise BenchmarkError(f"FAIL hand-written value {value!r} != mlp_loss {mlp_loss(*args)!r}")
    for i, (name, g) in enumerate(zip(PARAMS, grads)):
        fd = central_differences(mlp_loss, args, i)
        if not np.allclose(g, fd, rtol=1e-6, atol=1e-9):
            raise BenchmarkError(f"FAIL hand-written d{name} differs from central differences "
                                 f"by up to {np.max(np.abs(g - fd)):.3g}")


def mismatch(got, want, rtol: float) -> str | None:
    """None if (value, grads) `got` agrees with `want` to rtol, else what differs.

    Each gradient gets an absolute tolerance of rtol times its largest entry,
    so that entries near zero are not held to a relative error.
    """
    value, grads = got
    want_value, want_grads = want
    if not math.isclose(float(value), float(want_value), rel_tol=rtol):
        return f"value {float(value)!r}, hand {float(want_value)!r}"
    if len(grads) != len(want_grads):
        return f"{len(grads)} gradients, expected {len(want_grads)}"
    for name, g, w in zip(PARAMS, grads, want_grads):
        g = np.asarray(g)
        if g.shape != w.shape:
            return f"d{name} has shape {g.shape}, expected {w.shape}"
        scale = float(np.max(np.abs(w)))
        if not np.allclose(g, w, rtol=rtol, atol=rtol * scale):
            return f"d{name} differs from hand by up to {np.max(np.abs(g - w)) / scale:.2g} of its largest entry"
    return None


# --- the implementations ------------------------------------------------------
# Each build_* returns a callable (W1, b1, W2, b2, X, Y) -> (loss, (dW1, db1, dW2, db2)),
# or raises ImportError when the library is not installed.

def build_symback(threads: int):
    import symback
    return symback.value_and_grad(mlp_loss, wrt=PARAMS)


def build_jax(threads: int):
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)  # else float64 inputs are silently float32
    jitted = jax.jit(jax.value_and_grad(make_numpy_like_loss(jnp), argnums=(0, 1, 2, 3)))

    def jax_value_and_grad(*args):
        # NumPy arrays go straight in, as a user passes them; wait for the result,
        # since JAX dispatches asynchronously.
        return jax.block_until_ready(jitted(*args))

    return jax_value_and_grad


def build_torch(threads: int):
    import torch
    pin_torch(torch, threads)
    loss_torch = make_torch_loss(torch)

    def torch_value_and_grad(W1, b1, W2, b2, X, Y):
        # Fresh leaf tensors (sharing the NumPy memory) each call, so every .grad
        # starts at None: the same as zero_grad(set_to_none=True) between calls.
        params = [torch.from_numpy(p).requires_grad_() for p in (W1, b1, W2, b2)]
        loss = loss_torch(*params, torch.from_numpy(X), torch.from_numpy(Y))
        loss.backward()
        return loss.item(), tuple(p.grad.numpy() for p in params)

    return torch_value_and_grad


def build_autograd(threads: int):
    import autograd
    import autograd.numpy as anp
    return autograd.value_and_grad(make_numpy_like_loss(anp), argnum=(0, 1, 2, 3))


def build_tangent(threads: int):
    import tangent
    with warnings.catch_warnings():  # its generated code says `if 1 is None:`
        warnings.simplefilter("ignore", SyntaxWarning)
        g = tangent.grad(mlp_loss, wrt=(0, 1, 2, 3), preserve_result=True)

    def tangent_value_and_grad(*args):
        out = g(*args)  # (*gradient, value)
        return out[-1], out[:-1]

    return tangent_value_and_grad


BUILDERS = {"symback": build_symback, "autograd": build_autograd, "jax": build_jax,
            "torch": build_torch, "tangent": build_tangent}
NOT_RUN = {"lambdify": "not run: lambdify compiles scalar SymPy expressions, not NumPy array code"}
