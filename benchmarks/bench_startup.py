"""Start-up cost of a script that uses symback: cold (nothing cached) and cached.

    python benchmarks/bench_startup.py [--runs 15]

Each run is a fresh Python process that imports symback and makes the
gradients of a small model (`examples/model.py`-like: a neuron whose
sigmoid is a helper reading a module constant, and a 4-layer chain), then
calls them once. Three configurations:

    cold     an empty cache directory (every gradient is compiled: SymPy)
    cached   the same directory after a first run (every gradient loads)
    no-cache SYMBACK_NO_CACHE=1

For each it reports the median over --runs processes of

    in-process  `import symback` + the grad() calls, timed inside the process
                (wall clock, and the process's CPU time: on a busy machine the
                difference is time spent waiting for a CPU)
    wall        the whole process, from the parent (Python's own start-up included)
    sympy       whether SymPy was imported

and, as a floor, the wall time of `python -c pass`. The processes write
bytecode caches (.pyc) to a temporary directory, as an installed package has
them, and one untimed run fills it first. Target (issue 12): in-process
import + grad on a cached function within 50 ms, with no SymPy import.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_MS = 50.0

MODEL = '''\
import math

SLOPE = 1.0


def sigmoid(z):
    return 1 / (1 + math.exp(-SLOPE * z))


def cost(w, b, a0, y):
    z = w * a0 + b
    a = sigmoid(z)
    return (a - y) ** 2


def chain(w1, w2, w3, w4, b1, b2, b3, b4, x, y):
    a1 = sigmoid(w1 * x + b1)
    a2 = sigmoid(w2 * a1 + b2)
    a3 = sigmoid(w3 * a2 + b3)
    a4 = sigmoid(w4 * a3 + b4)
    return (a4 - y) ** 2
'''

SCRIPT = '''\
import sys, time
t0, c0 = time.perf_counter(), time.process_time()
import symback
import bench_model
g_cost = symback.grad(bench_model.cost)
g_chain = symback.value_and_grad(bench_model.chain)
t1, c1 = time.perf_counter(), time.process_time()
g_cost(0.5, 0.1, 1.0, 0.0)
g_chain(*[0.5] * 8, 1.0, 0.0)
print(f"{(t1 - t0) * 1000:.3f} {(c1 - c0) * 1000:.3f} {'sympy' in sys.modules}")
'''


def run(workdir: str, env: dict) -> tuple[float, float, float, bool]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "script.py"], cwd=workdir, env=env, capture_output=True, text=True)
    wall = (time.perf_counter() - t0) * 1000
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"FAIL: the benchmark script failed (exit {done.returncode})")
    inside, cpu, sympy = done.stdout.split()
    return float(inside), float(cpu), wall, sympy == "True"


def floor(env: dict, runs: int) -> float:
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        walls.append((time.perf_counter() - t0) * 1000)
    return statistics.median(walls)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="processes per configuration (default 15)")
    parser.add_argument("--json", action="store_true", help="print the medians as JSON")
    opts = parser.parse_args(argv)

    work = tempfile.mkdtemp(prefix="symback-startup-")
    try:
        with open(os.path.join(work, "bench_model.py"), "w") as handle:
            handle.write(MODEL)
        with open(os.path.join(work, "script.py"), "w") as handle:
            handle.write(SCRIPT)
        base = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])))
        base.pop("SYMBACK_NO_CACHE", None)
        # as a user's Python runs: with bytecode caches (here in a directory of our own)
        base.pop("PYTHONDONTWRITEBYTECODE", None)
        base["PYTHONPYCACHEPREFIX"] = os.path.join(work, "pycache")
        run(work, dict(base, SYMBACK_CACHE_DIR=os.path.join(work, "warm-up")))  # writes the .pyc files
        results = {}
        # cold: a fresh, empty cache directory for every run
        samples = []
        for i in range(opts.runs):
            env = dict(base, SYMBACK_CACHE_DIR=os.path.join(work, f"cold-{i}"))
            samples.append(run(work, env))
        results["cold"] = samples
        # cached: one directory, filled by a first (untimed) run
        env = dict(base, SYMBACK_CACHE_DIR=os.path.join(work, "warm"))
        run(work, env)
        results["cached"] = [run(work, env) for _ in range(opts.runs)]
        env = dict(base, SYMBACK_NO_CACHE="1")
        results["no-cache"] = [run(work, env) for _ in range(opts.runs)]
        python_floor = floor(base, opts.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    medians = {name: {"in_process_ms": statistics.median(s[0] for s in samples),
                      "in_process_cpu_ms": statistics.median(s[1] for s in samples),
                      "wall_ms": statistics.median(s[2] for s in samples),
                      "sympy_imported": any(s[3] for s in samples)}
               for name, samples in results.items()}
    medians["python -c pass"] = {"wall_ms": python_floor}
    if opts.json:
        print(json.dumps(medians, indent=2))
        return
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"median of {opts.runs} fresh processes each; two gradients (a neuron and a 4-layer chain "
          f"through one helper)")
    print(f"\n  {'':14s} {'in-process ms':>14s} {'(CPU ms)':>9s} {'wall ms':>9s}  sympy imported")
    for name in ("cold", "cached", "no-cache"):
        m = medians[name]
        print(f"  {name:14s} {m['in_process_ms']:14.1f} {m['in_process_cpu_ms']:9.1f} {m['wall_ms']:9.1f}  "
              f"{'yes' if m['sympy_imported'] else 'no'}")
    print(f"  {'python -c pass':14s} {'':14s} {'':9s} {python_floor:9.1f}")
    cached = medians["cached"]
    ok = cached["in_process_ms"] < TARGET_MS and not cached["sympy_imported"]
    print(f"\n  cached: import symback + grad in {cached['in_process_ms']:.1f} ms, SymPy "
          f"{'imported' if cached['sympy_imported'] else 'not imported'} "
          f"(target < {TARGET_MS:g} ms without SymPy: {'ok' if ok else 'MISSED'})")


if __name__ == "__main__":
    main()
