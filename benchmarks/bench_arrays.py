"""Time per call of value-and-gradient of a NumPy MLP loss: symback against a hand-written gradient and peers.

    python benchmarks/bench_arrays.py [--threads N] [--quick]

The loss is `mlp_loss` below, a one-hidden-layer tanh network with a
softmax cross-entropy, written the way a NumPy user writes it. For three
cases (784-128-10 with a batch of 256 in float64 and in float32, and a tiny
3-10-2 network with a batch of 8 in float64) it times one call of the value
and the gradient with respect to W1, b1, W2, b2 (not X, Y) of

    hand       a hand-written NumPy value and gradient (mlp_value_and_grad_hand)
    symback    symback.value_and_grad(mlp_loss, wrt=("W1", "b1", "W2", "b2"))
    jax        jax.jit(jax.value_and_grad(..., argnums=(0, 1, 2, 3))), fed NumPy arrays
    torch      CPU forward + .backward(), torch.from_numpy per call
    autograd   autograd.value_and_grad(..., argnum=(0, 1, 2, 3))

as the best of 7 interleaved repeats of timeit loops of ~0.2 s, and prints
milliseconds per call and the ratio to hand. A peer that is not installed is
skipped with a message; if symback cannot build or call the gradient, its row
shows the exception instead of a time.

Every library gets the same number of threads (--threads, default 1): the
BLAS/OpenMP variables are set before NumPy is imported, torch.set_num_threads,
and for 1 thread XLA_FLAGS before JAX is imported.

Before timing, the hand-written gradient must agree with central differences
of mlp_loss on the tiny case (else the script stops), and every other
implementation with the hand-written one (rtol 1e-6 for float64, 1e-3 for
float32). A peer that disagrees is not timed; symback disagreeing is a FAIL
row and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import timeit
from dataclasses import dataclass

# --- threads: pinned before NumPy, torch or JAX is imported -------------------

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def _parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for every library (default 1)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run: 2 loops of ~0.03 s")
    parser.add_argument("--seconds", type=float, default=0.2, help="length of one timing loop")
    parser.add_argument("--repeats", type=int, default=7, help="timing loops; the best is reported")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def pin_threads(n: int) -> None:
    """Set the thread count of every BLAS and of XLA.

    Has to run before the first `import numpy` (and jax): the BLAS reads these
    variables once, when it loads.
    """
    if "numpy" in sys.modules:
        print("warning: numpy was imported before the threads were pinned; "
              "its BLAS may use more threads", file=sys.stderr)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(n)
    if n == 1:  # XLA has no flag for a count other than 1; above 1 it uses its default pool
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + XLA_ONE_THREAD).strip()


if __name__ == "__main__":
    pin_threads(_parse_args().threads)

import numpy as np  # noqa: E402

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


class BenchmarkError(SystemExit):
    pass


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

INSTALL_HINTS = {
    "jax": 'pip install "jax[cpu]"',
    "torch": "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu",
    "autograd": "pip install autograd",
}


def build_symback():
    import symback
    return symback.value_and_grad(mlp_loss, wrt=PARAMS)


def build_jax():
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
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # already set, or parallel work already started
        pass
    loss_torch = make_torch_loss(torch)

    def torch_value_and_grad(W1, b1, W2, b2, X, Y):
        # Fresh leaf tensors (sharing the NumPy memory) each call, so every .grad
        # starts at None: the same as zero_grad(set_to_none=True) between calls.
        params = [torch.from_numpy(p).requires_grad_() for p in (W1, b1, W2, b2)]
        loss = loss_torch(*params, torch.from_numpy(X), torch.from_numpy(Y))
        loss.backward()
        return loss.item(), tuple(p.grad.numpy() for p in params)

    return torch_value_and_grad


def build_autograd():
    import autograd
    import autograd.numpy as anp
    return autograd.value_and_grad(make_numpy_like_loss(anp), argnum=(0, 1, 2, 3))


def library_versions() -> str:
    """Versions of NumPy (and its BLAS) and of each peer that imports."""
    parts = [f"NumPy {np.__version__}"]
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        parts[0] += f" ({blas['name']} {blas.get('version', '')})".replace(" )", ")")
    except Exception:  # noqa: BLE001  (older NumPy: no dict mode)
        pass
    for module in ("jax", "jaxlib", "torch", "autograd"):
        try:
            from importlib.metadata import version
            parts.append(f"{module} {version(module)}")
        except Exception:  # noqa: BLE001
            parts.append(f"{module} not installed")
    return ", ".join(parts)


# --- timing ------------------------------------------------------------------


def _loop_length(timer: timeit.Timer, seconds: float) -> int:
    """Calls per timing loop so that one loop takes about `seconds`."""
    number, t = 1, timer.timeit(1)
    while t < 0.02:  # grow the loop until it is long enough to scale from
        number *= 10
        t = timer.timeit(number)
    return max(1, round(number * seconds / t))


def time_calls(fns: dict, args, seconds: float, repeats: int) -> dict[str, float]:
    """Best time of one call of each function, in milliseconds.

    The repeats are interleaved (hand, symback, jax, ..., hand, symback, ...)
    so that a burst of load on the machine hits every implementation alike;
    the best of the repeats is the least disturbed one.
    """
    timers = {label: timeit.Timer("fn(*args)", globals={"fn": fn, "args": args}) for label, fn in fns.items()}
    numbers = {label: _loop_length(timer, seconds) for label, timer in timers.items()}
    best = {label: math.inf for label in fns}
    for _ in range(repeats):
        for label, timer in timers.items():
            best[label] = min(best[label], timer.timeit(numbers[label]) / numbers[label] * 1e3)
    return best


# --- the benchmark -----------------------------------------------------------


def _error_text(err: Exception) -> list[str]:
    """`Type: first line`, and the message's last line too if it says more (symback puts the reason there)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = [f"{type(err).__name__}: {lines[0] if lines else ''}"]
    if len(lines) > 1:
        text.append(lines[-1])
    return text


def build_all(threads: int) -> tuple[dict, dict]:
    """({label: callable}, {label: [reason lines]}) for symback and the peers."""
    builders = {"symback": build_symback, "jax": build_jax,
                "torch": lambda: build_torch(threads), "autograd": build_autograd}
    built, failed = {}, {}
    for label, build in builders.items():
        try:
            built[label] = build()
        except ImportError as err:
            if label == "symback":
                raise
            failed[label] = [f"skipped: not installed ({err.name or err}); {INSTALL_HINTS[label]}"]
        except Exception as err:  # noqa: BLE001  (symback without NumPy support raises here)
            failed[label] = _error_text(err)
    return built, failed


def run_case(case: Case, built: dict, failed: dict, opts) -> bool:
    """Check and time every implementation on one case, print its table; False if symback is wrong."""
    args = make_args(case, opts.seed)
    want = mlp_value_and_grad_hand(*args)
    if not math.isclose(float(want[0]), float(mlp_loss(*args)), rel_tol=case.rtol):
        raise BenchmarkError(f"FAIL {case.name}: hand-written value differs from mlp_loss")

    fns, rows, symback_ok = {"hand": mlp_value_and_grad_hand}, dict(failed), True
    for label, fn in built.items():
        try:
            problem = mismatch(fn(*args), want, case.rtol)  # also compiles jax before timing
        except Exception as err:  # noqa: BLE001
            rows[label] = _error_text(err)
            continue
        if problem is None:
            fns[label] = fn
        elif label == "symback":
            rows[label], symback_ok = [f"FAIL, not timed: {problem}"], False
        else:
            rows[label] = [f"disagrees with hand, not timed: {problem}"]

    times = time_calls(fns, args, opts.seconds, opts.repeats)
    print(f"\n{case.name}  (checked against hand to rtol {case.rtol:g})")
    print(f"  {'':10s} {'ms/call':>10s} {'x hand':>8s}")
    for label in ("hand", "symback", "jax", "torch", "autograd"):
        if label in times:
            print(f"  {label:10s} {times[label]:10.4f} {times[label] / times['hand']:8.2f}")
        else:
            first, *rest = rows[label]
            print(f"  {label:10s} {first}")
            for line in rest:
                print(f"  {'':10s}   {line}")
    print_symback_ratios(times)
    return symback_ok


def print_symback_ratios(times: dict) -> None:
    if "symback" not in times:
        print("  symback not timed: no ratios to the peers")
        return
    peers = [p for p in ("jax", "torch", "autograd") if p in times]
    ratios = ", ".join(f"/ {p} = {times['symback'] / times[p]:.2f}x" for p in peers)
    print(f"  symback {ratios or '(no peer ran)'}")


def main(argv=None) -> None:
    opts = _parse_args(argv)
    if opts.quick:
        opts.seconds, opts.repeats = 0.03, 2
    check_hand(opts.seed)
    built, failed = build_all(opts.threads)

    xla = os.environ.get("XLA_FLAGS", "") or "XLA default"
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{library_versions()}")
    print(f"threads: {opts.threads} (BLAS/OpenMP variables = {os.environ.get('OMP_NUM_THREADS')}, "
          f"torch.set_num_threads({opts.threads}), XLA_FLAGS: {xla})")
    print(f"best of {opts.repeats} interleaved loops of ~{opts.seconds:g} s; "
          f"hand-written gradient = central differences on the tiny case: ok")

    all_ok = all([run_case(case, built, failed, opts) for case in CASES])
    if not all_ok:
        raise BenchmarkError("FAIL: symback's gradient disagrees with the hand-written one (see above)")


if __name__ == "__main__":
    main()
