"""A 100,000-iteration loop: time per call of f, symback's value_and_grad and a
hand-written gradient, and the memory the recorded values (the tape) take.

Run: python benchmarks/bench_loop.py [--steps N]
Target (issue 4): value_and_grad within 4x of f.
"""

import argparse
import math
import sys
import timeit
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from programs import load_module  # noqa: E402

from symback import value_and_grad  # noqa: E402

SOURCE = '''
import math


def fall(v0, drag, dt, steps):
    """Height after `steps` explicit-Euler steps of a body with quadratic drag."""
    h = 0.0
    v = v0
    for _ in range(steps):
        a = -9.81 - drag * v * abs(v)
        h += v * dt
        v += a * dt
    return h


def fall_hand(v0, drag, dt, steps):
    """The same, with its gradient written by hand (reverse mode, a list of v)."""
    h = 0.0
    v = v0
    vs = []
    for _ in range(steps):
        vs.append(v)
        a = -9.81 - drag * v * abs(v)
        h += v * dt
        v += a * dt
    h_bar, v_bar = 1.0, 0.0
    v0_bar = drag_bar = dt_bar = 0.0
    for k in range(steps - 1, -1, -1):
        vk = vs[k]
        a = -9.81 - drag * vk * abs(vk)
        a_bar = v_bar * dt
        dt_bar += v_bar * a + h_bar * vk
        drag_bar -= a_bar * vk * abs(vk)
        v_bar = v_bar + h_bar * dt - a_bar * drag * 2 * abs(vk)
    v0_bar = v_bar
    return h, (v0_bar, drag_bar, dt_bar)
'''


def best(fn, args, seconds=0.5, repeats=5):
    number = max(1, int(seconds / max(timeit.timeit(lambda: fn(*args), number=1), 1e-9)))
    return min(timeit.repeat(lambda: fn(*args), number=number, repeat=repeats)) / number


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=100_000)
    steps = parser.parse_args().steps
    module = load_module(SOURCE, "bench_loop_fall")
    vag = value_and_grad(module.fall, wrt=(0, 1, 2))
    args = (12.0, 0.05, 1e-4, steps)

    value, grads = vag(*args)
    hand_value, hand_grads = module.fall_hand(*args)
    for got, want in zip(grads, hand_grads):
        if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
            sys.exit(f"FAIL: symback {grads} vs hand-written {hand_grads}")
    assert math.isclose(value, module.fall(*args), rel_tol=1e-12)

    t_f, t_vag, t_hand = best(module.fall, args), best(vag, args), best(module.fall_hand, args)
    tracemalloc.start()
    vag(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"loop of {steps:,} iterations (explicit Euler with drag); checks passed: symback = hand-written to rel 1e-9")
    print(f"  {'':28}{'ms/call':>10}{'x f':>9}{'x hand':>9}")
    for name, t in (("f", t_f), ("symback value_and_grad", t_vag), ("hand value_and_grad", t_hand)):
        print(f"  {name:28}{t * 1e3:10.2f}{t / t_f:9.2f}{t / t_hand:9.2f}")
    print(f"  value_and_grad / f = {t_vag / t_f:.2f}x  (target <= 4x: {'ok' if t_vag / t_f <= 4 else 'MISSED'})")
    print(f"  peak memory during value_and_grad: {peak:,} bytes = {peak / steps:.1f} bytes per iteration")
    print("  generated loop:")
    source = vag.source
    print("\n".join("    " + line for line in source.splitlines() if "tape" in line or "for _" in line))


if __name__ == "__main__":
    main()
