"""A 100,000-iteration loop: time per call of f, symback's value_and_grad and a
hand-written gradient, and the memory the recorded values (the tape) take.

Run: python benchmarks/bench_loop.py [--steps N]
Target (issue 4): value_and_grad within 4x of f.

The loop is programs.fall (explicit Euler with quadratic drag), the one
run.py's scalar suite runs for 10,000 steps against the peers.
"""

import argparse
import os
import sys
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

harness.use_this_checkout()
import programs  # noqa: E402

from symback import value_and_grad  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=100_000)
    steps = parser.parse_args().steps
    vag = value_and_grad(programs.fall, wrt=(0, 1, 2))
    args = programs.FALL_ARGS[:3] + (steps,)

    problem = harness.mismatch_scalar(vag(*args), programs.fall_hand(*args), 1e-9)
    if problem:
        sys.exit(f"FAIL: symback against the hand-written gradient: {problem}")

    times = harness.time_calls({"f": programs.fall, "symback value_and_grad": vag,
                                "hand value_and_grad": programs.fall_hand}, args, seconds=0.5, repeats=5)
    tracemalloc.start()
    vag(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    t_f, t_vag, t_hand = (times[k].median for k in ("f", "symback value_and_grad", "hand value_and_grad"))
    print(f"loop of {steps:,} iterations (explicit Euler with drag); checks passed: symback = hand-written to rel 1e-9")
    print(f"  {'':28}{'ms/call':>10}{'x f':>9}{'x hand':>9}   (median of 5 interleaved loops)")
    for name, t in (("f", t_f), ("symback value_and_grad", t_vag), ("hand value_and_grad", t_hand)):
        print(f"  {name:28}{t * 1e3:10.2f}{t / t_f:9.2f}{t / t_hand:9.2f}")
    print(f"  value_and_grad / f = {t_vag / t_f:.2f}x  (target <= 4x: {'ok' if t_vag / t_f <= 4 else 'MISSED'})")
    print(f"  peak memory during value_and_grad: {peak:,} bytes = {peak / steps:.1f} bytes per iteration")
    print("  generated loop:")
    print("\n".join("    " + line for line in vag.source.splitlines() if "tape" in line or "for _" in line))


if __name__ == "__main__":
    main()
