"""Compile time of symback's grad() on random chains of 100, 1000 and 10000 statements.

    python benchmarks/bench_compile.py [--sizes 100 1000 10000] [--seed 0]

(run.py prints the same numbers as its third table, without the phases.)

Each size runs in a fresh Python subprocess, so SymPy's caches and
symback's per-shape caches from one size do not help the next:

    cold   wall clock of the first grad(chain) in that process (after
           importing symback, which is timed separately as "import")
    warm   wall clock of a second grad(chain) of the same function in the
           same process (every shape already derived and printed)

and prints seconds and seconds per 1000 statements, so that linear growth
shows as a flat per-1000 column. A breakdown of the warm compile by
pipeline phase (parse, derive, reverse, optimize, emit, compile), in CPU
seconds (a shared machine inflates the wall clock), follows; it uses
symback's internal modules and is skipped if they are not as expected,
and runs them as grad() does, with Python's cycle collector paused.
Target (issue 12): 10,000 statements under 1 s; the check reads CPU seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET_N, TARGET_SECONDS = 10_000, 1.0  # issue 12: 10,000 statements in under 1 s


def worker(n: int, seed: int) -> dict:
    """Run in the subprocess: time import, cold and warm grad(chain) of n statements."""
    sys.path.insert(0, HERE)
    import harness
    import programs
    harness.use_this_checkout()  # time the symback of this checkout

    chain = programs.load_module(programs.make_chain(n, seed), f"bench_compile_chain_{n}_{seed}").chain

    t0 = time.perf_counter()
    from symback import grad
    t_import = time.perf_counter() - t0

    t0, c0 = time.perf_counter(), time.process_time()
    g = grad(chain)
    t_cold, c_cold = time.perf_counter() - t0, time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    grad(chain)
    t_warm, c_warm = time.perf_counter() - t0, time.process_time() - c0

    # CPU seconds beside the wall clock: on a machine shared with other jobs, the
    # wall clock also counts the time the process waited for a core
    result = {"n": n, "import": t_import, "cold": t_cold, "warm": t_warm, "cold_cpu": c_cold, "warm_cpu": c_warm,
              "source_lines": g.source.count("\n")}

    try:  # warm, by phase, in CPU seconds (symback internals: optional)
        from symback.compile import compile_source
        from symback.derive import derive
        from symback.emit import emit
        from symback.api import check_wrt
        from symback.optimize import optimize
        from symback.parse import parse
        from symback.reverse import reverse

        phases = {}

        def timed(phase, run):
            start = time.process_time()
            out = run()
            phases[phase] = time.process_time() - start
            return out

        # as grad() runs them: with the cycle collector paused (api._collector_paused), where it has one
        from symback import api
        paused = getattr(api, "_collector_paused", contextlib.nullcontext)
        with paused():
            parsed = timed("parse", lambda: parse(chain))
            derived = timed("derive", lambda: derive(parsed))
            gradient = timed("reverse", lambda: reverse(derived, check_wrt(derived, None), False))
            gradient = timed("optimize", lambda: optimize(gradient))
            source = timed("emit", lambda: emit(gradient))
            timed("compile", lambda: compile_source(source, "grad_chain", "bench"))
        result["phases"] = phases
    except Exception as err:  # noqa: BLE001
        result["phases_error"] = repr(err)
    return result


def run_size(n: int, seed: int) -> dict:
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", str(n), "--seed", str(seed)],
                          capture_output=True, text=True,
                          env=dict(os.environ, SYMBACK_NO_CACHE="1"))  # compile every time, write no cache
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"FAIL: compiling the {n}-statement chain failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)

    if opts.worker is not None:
        print(json.dumps(worker(opts.worker, opts.seed)))
        return

    import sympy
    print(f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.machine()}, "
          f"SymPy {sympy.__version__}; one fresh process per size, chain seed {opts.seed}")
    print(f"\n  {'statements':>10s} {'import s':>9s} {'cold s':>9s} {'cold s/1k':>10s} "
          f"{'warm s':>9s} {'warm s/1k':>10s} {'cold cpu':>9s} {'warm cpu':>9s} {'out lines':>10s}")
    results = []
    for n in opts.sizes:
        r = run_size(n, opts.seed)
        results.append(r)
        print(f"  {n:10d} {r['import']:9.3f} {r['cold']:9.3f} {r['cold'] / n * 1000:10.3f} "
              f"{r['warm']:9.3f} {r['warm'] / n * 1000:10.3f} {r['cold_cpu']:9.3f} {r['warm_cpu']:9.3f} "
              f"{r['source_lines']:10d}", flush=True)

    if all("phases" in r for r in results):
        names = list(results[0]["phases"])
        print(f"\n  warm, by phase (CPU s):\n  {'statements':>10s} " + " ".join(f"{p:>9s}" for p in names))
        for r in results:
            print(f"  {r['n']:10d} " + " ".join(f"{r['phases'][p]:9.3f}" for p in names))
    else:
        for r in results:
            if "phases_error" in r:
                print(f"  (no phase breakdown for n={r['n']}: {r['phases_error']})")

    for r in results:
        if r["n"] == TARGET_N:
            ok = "ok" if r["cold_cpu"] < TARGET_SECONDS else "MISSED"
            print(f"\n  {TARGET_N} statements: {r['cold_cpu']:.2f} CPU s cold, {r['warm_cpu']:.2f} warm "
                  f"(target < {TARGET_SECONDS:g} s cold: {ok})")


if __name__ == "__main__":
    main()
