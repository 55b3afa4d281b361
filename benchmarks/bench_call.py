"""Time per call of symback's generated gradients against f and a hand-written gradient.

    python benchmarks/bench_call.py

For neuron4 (3Blue1Brown's four-layer network) and a random 200-statement
chain, times one call of

    f                        the function alone
    symback value_and_grad   value_and_grad(f)
    symback grad             grad(f)
    hand value_and_grad      the hand-written value and gradient (programs.py)
    autograd / jax / torch   value and gradient, only if already installed

as the best of 7 interleaved repeats of timeit loops of ~0.2 s, and prints
microseconds per call and ratios. Targets: value_and_grad / f <= 3x,
value_and_grad / hand <= 1.3x.

Before timing, symback's gradient must agree with the hand-written one
(relative 1e-9) and the hand-written one with central differences of f
(relative 1e-5); otherwise the script stops with an error.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import platform
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import programs  # noqa: E402

from symback import grad, value_and_grad  # noqa: E402

TARGET_VS_F = 3.0
TARGET_VS_HAND = 1.3
REL_SYMBACK_HAND = 1e-9
REL_HAND_FD = 1e-5


class BenchmarkError(SystemExit):
    pass


# --- checks ------------------------------------------------------------------


def _as_tuple(g) -> tuple[float, ...]:
    return tuple(g) if isinstance(g, (tuple, list)) else (g,)


def _close(a: float, b: float, rel: float, floor: float) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b)) + floor


def central_differences(f, args) -> tuple[float, ...]:
    """Fourth-order central differences of f at args, one parameter at a time."""
    out = []
    for i, x in enumerate(args):
        h = 1e-3 * max(1.0, abs(x))

        def at(dx):
            shifted = list(args)
            shifted[i] = x + dx
            return f(*shifted)

        out.append((-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h))
    return tuple(out)


def check(name: str, f, args, hand, candidates: dict) -> None:
    """Stop loudly unless every candidate agrees with hand, and hand with f's differences."""
    value = f(*args)
    hand_value, hand_grads = hand(*args)
    hand_grads = _as_tuple(hand_grads)
    scale = max(abs(g) for g in hand_grads)
    if not _close(hand_value, value, REL_SYMBACK_HAND, 1e-300):
        raise BenchmarkError(f"FAIL {name}: hand-written value {hand_value!r} != f {value!r}")

    fd = central_differences(f, args)
    floor = 1e-10 * (1.0 + abs(value))  # rounding of the differences themselves
    for i, (g, d) in enumerate(zip(hand_grads, fd)):
        if not _close(g, d, REL_HAND_FD, floor):
            raise BenchmarkError(f"FAIL {name}: hand-written gradient [{i}] = {g!r} but central "
                                 f"differences give {d!r} (rel {REL_HAND_FD})")

    for label, fn in candidates.items():
        got_value, got_grads = fn(*args)
        got_grads = _as_tuple(got_grads)
        if not _close(got_value, value, REL_SYMBACK_HAND, 1e-300):
            raise BenchmarkError(f"FAIL {name}: {label} value {got_value!r} != f {value!r}")
        if len(got_grads) != len(hand_grads):
            raise BenchmarkError(f"FAIL {name}: {label} returned {len(got_grads)} gradients, "
                                 f"expected {len(hand_grads)}")
        for i, (g, h) in enumerate(zip(got_grads, hand_grads)):
            if not _close(g, h, REL_SYMBACK_HAND, 1e-14 * scale):
                raise BenchmarkError(f"FAIL {name}: {label} gradient [{i}] = {g!r} but the "
                                     f"hand-written one is {h!r} (rel {REL_SYMBACK_HAND})")


# --- timing ------------------------------------------------------------------


def _loop_length(timer: timeit.Timer, seconds: float) -> int:
    """Calls per timing loop so that one loop takes about `seconds`."""
    number, t = 1, timer.timeit(1)
    while t < 0.02:  # grow the loop until it is long enough to scale from
        number *= 10
        t = timer.timeit(number)
    return max(1, round(number * seconds / t))


def time_calls(fns: dict, args, seconds: float, repeats: int) -> dict[str, float]:
    """Best time of one call of each function, in microseconds.

    The repeats are interleaved (f, vg, grad, hand, f, vg, ...) so that a
    burst of load on the machine hits every function alike; the best of
    the repeats is the least disturbed one.
    """
    timers = {label: timeit.Timer("fn(*args)", globals={"fn": fn, "args": args}) for label, fn in fns.items()}
    numbers = {label: _loop_length(timer, seconds) for label, timer in timers.items()}
    best = {label: math.inf for label in fns}
    for _ in range(repeats):
        for label, timer in timers.items():
            best[label] = min(best[label], timer.timeit(numbers[label]) / numbers[label] * 1e6)
    return best


# --- optional peers (never installed by this script) -------------------------


def _module_with(math_import: str, source: str, name: str):
    source = source.replace("import math\n", math_import + "\n", 1)
    return programs.load_module(source, name)


def peers(name: str, source: str, fname: str, nargs: int) -> dict:
    """{label: value_and_grad-like callable} for each peer that imports; {label: reason} if not."""
    found, skipped = {}, {}
    try:
        import autograd  # noqa: F401
        f = getattr(_module_with("import autograd.numpy as math", source, f"peer_autograd_{name}"), fname)
        found["autograd value_and_grad"] = autograd.value_and_grad(f, argnum=list(range(nargs)))
    except ImportError:
        skipped["autograd"] = "not installed"
    except Exception as err:  # noqa: BLE001
        skipped["autograd"] = f"error: {err!r}"

    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        f = getattr(_module_with("import jax.numpy as math", source, f"peer_jax_{name}"), fname)
        jitted = jax.jit(jax.value_and_grad(f, argnums=tuple(range(nargs))))

        def jax_vg(*args, _f=jitted):
            value, grads = jax.block_until_ready(_f(*args))
            return float(value), tuple(float(g) for g in grads)

        jax_vg(*([0.5] * nargs))  # compile outside the timing
        found["jax jit(value_and_grad)"] = jax_vg
    except ImportError:
        skipped["jax"] = "not installed"
    except Exception as err:  # noqa: BLE001
        skipped["jax"] = f"error: {err!r}"

    try:
        import torch
        f = getattr(_module_with("import torch as math", source, f"peer_torch_{name}"), fname)

        def torch_vg(*args, _f=f):
            ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
            out = _f(*ts)
            grads = torch.autograd.grad(out, ts, allow_unused=True)
            return out.item(), tuple(0.0 if g is None else g.item() for g in grads)

        found["torch autograd"] = torch_vg
    except ImportError:
        skipped["torch"] = "not installed"
    except Exception as err:  # noqa: BLE001
        skipped["torch"] = f"error: {err!r}"
    return found, skipped


# --- the benchmark -----------------------------------------------------------


def bench(name: str, f, hand, args, source: str, fname: str, seconds: float, repeats: int) -> None:
    vg = value_and_grad(f)
    g = grad(f)

    def g_as_vg(*a):
        return f(*a), g(*a)

    peer_fns, skipped = peers(name, source, fname, len(args))
    good_peers = {}
    check(name, f, args, hand, {"symback value_and_grad": vg, "symback grad (with f for the value)": g_as_vg})
    for label, fn in peer_fns.items():
        try:
            check(name, f, args, hand, {label: fn})
            good_peers[label] = fn
        except BenchmarkError as err:
            skipped[label] = f"disagrees, not timed: {err}"

    rows = [("f", f), ("symback value_and_grad", vg), ("symback grad", g), ("hand value_and_grad", hand)]
    rows += list(good_peers.items())
    times = time_calls(dict(rows), args, seconds, repeats)
    t_f, t_hand = times["f"], times["hand value_and_grad"]

    print(f"\n{name}  ({len(args)} parameters; checks passed: symback = hand to rel {REL_SYMBACK_HAND:g}, "
          f"hand = central differences to rel {REL_HAND_FD:g})")
    print(f"  {'':26s} {'us/call':>10s} {'x f':>8s} {'x hand':>8s}")
    for label, _ in rows:
        t = times[label]
        print(f"  {label:26s} {t:10.2f} {t / t_f:8.2f} {t / t_hand:8.2f}")
    for label, reason in skipped.items():
        print(f"  {label:26s} skipped ({reason})")
    t_vg = times["symback value_and_grad"]
    ok_f = "ok" if t_vg / t_f <= TARGET_VS_F else "MISSED"
    ok_h = "ok" if t_vg / t_hand <= TARGET_VS_HAND else "MISSED"
    print(f"  value_and_grad / f    = {t_vg / t_f:5.2f}x  (target <= {TARGET_VS_F:g}x: {ok_f})")
    print(f"  value_and_grad / hand = {t_vg / t_hand:5.2f}x  (target <= {TARGET_VS_HAND:g}x: {ok_h})")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="statements in the random chain (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=0.2, help="length of one timing loop")
    parser.add_argument("--repeats", type=int, default=7, help="timing loops; the best is reported")
    opts = parser.parse_args(argv)

    import sympy
    print(f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.machine()}, "
          f"SymPy {sympy.__version__}; best of {opts.repeats} loops of ~{opts.seconds:g} s")

    neuron_source = "import math\n\n\n" + inspect.getsource(programs.neuron4)
    bench("neuron4", programs.neuron4, programs.neuron4_hand, programs.NEURON4_ARGS,
          neuron_source, "neuron4", opts.seconds, opts.repeats)

    chain, hand = programs.load_chain(opts.n, opts.seed)
    bench(f"chain n={opts.n} seed={opts.seed}", chain, hand, programs.CHAIN_ARGS,
          programs.make_chain(opts.n, opts.seed), "chain", opts.seconds, opts.repeats)


if __name__ == "__main__":
    main()
