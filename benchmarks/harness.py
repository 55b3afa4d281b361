"""What every benchmark script shares: threads, timing, checks, the machine, tables.

* `pin_threads(n)` before NumPy, JAX or torch is imported, `pin_torch(torch, n)`
  after: every library then computes on the same number of threads.
* `time_calls(fns, args, seconds, repeats)`: the median time of one call of
  each function, repeats interleaved so that load on the machine hits all alike.
* `close`, `central_differences`, `check_value_and_grads`: the checks run
  before anything is timed; `BenchmarkError` stops a script with `FAIL ...`.
* `machine()`: the CPU, the cores, the load, Python and library versions, the date.
* `markdown_table(header, rows)`: the tables printed and written to docs/benchmarks.md.

This file imports neither symback nor NumPy (so that the threads can be
pinned first).
"""

from __future__ import annotations

import contextlib
import datetime
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import timeit
from dataclasses import dataclass
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use_this_checkout() -> None:
    """Import symback from the checkout these benchmarks are in, not from another install."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)


class BenchmarkError(SystemExit):
    """A check failed: the script stops with this message and a non-zero status."""


# --- threads -----------------------------------------------------------------

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def pin_threads(n: int) -> None:
    """Give every BLAS and XLA n threads.

    Has to run before the first `import numpy` (and jax): the BLAS reads these
    variables once, when it loads. torch's count is set by pin_torch.
    """
    if "numpy" in sys.modules:
        print("warning: numpy was imported before the threads were pinned; "
              "its BLAS may use more threads", file=sys.stderr)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(n)
    if n == 1 and XLA_ONE_THREAD not in os.environ.get("XLA_FLAGS", ""):
        # XLA has no flag for a count other than 1; above 1 it uses its default pool
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + XLA_ONE_THREAD).strip()


def pin_torch(torch, n: int) -> None:
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(n)
    except RuntimeError:  # already set, or parallel work already started
        pass


def threads_description(n: int) -> str:
    xla = os.environ.get("XLA_FLAGS", "") or "XLA default"
    return (f"{n} thread(s) for every library: {', '.join(THREAD_VARIABLES)} = {n}, "
            f"torch.set_num_threads({n}), XLA_FLAGS: {xla}")


# --- timing ------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median and the best of the timing loops."""
    median: float
    best: float
    loops: int
    calls_per_loop: int


def _loop_length(timer: timeit.Timer, seconds: float) -> tuple[int, float]:
    """(calls per timing loop so that one loop takes about `seconds`, seconds per call)."""
    number, t = 1, timer.timeit(1)
    while t < min(0.02, seconds):  # grow the loop until it is long enough to scale from
        number *= 10
        t = timer.timeit(number)
    return max(1, round(number * seconds / t)), t / number


def time_calls(fns: dict, args, seconds: float, repeats: int, budget: float = math.inf) -> dict[str, Timing]:
    """Median time of one call of each function (Timing, in seconds).

    Each function runs in loops of about `seconds` (one call, if a call is
    longer); the loops are interleaved (f, hand, symback, ..., then the same
    again starting one further along), so that a burst of load on the
    machine hits every function alike, and no function always runs right
    after the same other one. A function whose loops would take longer than
    `budget` seconds in all runs fewer loops, at least 3. timeit turns the
    garbage collector off during each loop, for every function alike.
    """
    timers = {label: timeit.Timer("fn(*args)", globals={"fn": fn, "args": args}) for label, fn in fns.items()}
    numbers, quota = {}, {}
    for label, timer in timers.items():
        numbers[label], per_call = _loop_length(timer, seconds)
        affordable = budget / (per_call * numbers[label])
        quota[label] = max(3, repeats if affordable >= repeats else int(affordable))
    labels = list(fns)
    samples: dict[str, list[float]] = {label: [] for label in labels}
    for r in range(max(quota.values())):
        shift = r % len(labels)
        for label in labels[shift:] + labels[:shift]:
            if len(samples[label]) < quota[label]:
                samples[label].append(timers[label].timeit(numbers[label]) / numbers[label])
    return {label: Timing(statistics.median(s), min(s), len(s), numbers[label]) for label, s in samples.items()}


class TimeLimit(Exception):
    """A build ran past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise TimeLimit in the block after `seconds` (main thread, POSIX; else no limit).

    The Python code of a library (SymPy's diff, say) is interrupted between
    two bytecodes; a long call into C finishes first.
    """
    if seconds <= 0 or not hasattr(signal, "setitimer") or not threading_main():
        yield
        return

    def expire(signum, frame):
        raise TimeLimit(f"gave up after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def threading_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def time_once(fn, *args) -> tuple[float, object]:
    """(seconds, result) of one call."""
    t0 = timeit.default_timer()
    result = fn(*args)
    return timeit.default_timer() - t0, result


# --- checks ------------------------------------------------------------------


def close(a: float, b: float, rel: float, floor: float) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b)) + floor


def central_differences(f, args, wrt) -> tuple[float, ...]:
    """Fourth-order central differences of f at args in each parameter of wrt."""
    out = []
    for i in wrt:
        x = args[i]
        h = 1e-3 * (abs(x) or 1.0)  # relative: a time step of 1e-4 needs a smaller h than 1e-3

        def at(dx):
            shifted = list(args)
            shifted[i] = x + dx
            return f(*shifted)

        out.append((-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h))
    return tuple(out)


def as_floats(grads) -> tuple[float, ...]:
    grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
    return tuple(float(g) for g in grads)


def mismatch_scalar(got, want, rel: float) -> str | None:
    """None if (value, grads) `got` agrees with `want` to a relative `rel`, else what differs.

    Each gradient entry gets an absolute floor of 1e-14 times the largest
    entry, so that entries that are zero up to rounding are not held to a
    relative error.
    """
    value, grads = got
    want_value, want_grads = want
    want_grads = as_floats(want_grads)
    if not close(float(value), float(want_value), rel, 1e-300):
        return f"value {float(value)!r}, hand-written {float(want_value)!r}"
    grads = as_floats(grads)
    if len(grads) != len(want_grads):
        return f"{len(grads)} gradients, hand-written {len(want_grads)}"
    scale = max(abs(g) for g in want_grads)
    for i, (g, w) in enumerate(zip(grads, want_grads)):
        if not close(g, w, rel, 1e-14 * scale):
            return f"gradient [{i}] = {g!r}, hand-written {w!r} (rel {rel:g})"
    return None


def error_text(err: BaseException) -> str:
    """`Type: first line` of an exception, and its last line if it says more."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = f"{type(err).__name__}: {lines[0] if lines else ''}"
    if len(lines) > 1:
        text += f" ... {lines[-1]}"
    return text


# --- the machine -------------------------------------------------------------


def _cpuinfo() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str:
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "symback"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + (" with uncommitted changes to symback/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def numpy_description() -> str | None:
    """NumPy's version and its BLAS, if NumPy is installed."""
    if _version("numpy") is None:
        return None
    import numpy as np
    text = f"NumPy {np.__version__}"
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        text += f" ({blas['name']} {blas.get('version', '')})".replace(" )", ")")
    except Exception:  # noqa: BLE001  (older NumPy: no dict mode)
        pass
    return text


PEER_DISTRIBUTIONS = ("autograd", "jax", "jaxlib", "torch", "tangent-ad")


def machine_load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine() -> dict[str, str]:
    """What the numbers were measured on, as {what: description}."""
    cpu = _cpuinfo()
    model = cpu.get("model name") or platform.processor() or platform.machine()
    hypervisor = " (virtual machine)" if "hypervisor" in cpu.get("flags", "").split() else ""
    load = machine_load()
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
        memory = f", {mem_kb / 2 ** 20:.1f} GiB memory"
    except (OSError, ValueError, IndexError):
        memory = ""
    import sympy
    libraries = [f"SymPy {sympy.__version__}"]
    if numpy_description():
        libraries.append(numpy_description())
    for dist in PEER_DISTRIBUTIONS:
        libraries.append(f"{dist} {_version(dist) or 'not installed'}")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": f"{model}{hypervisor}, {os.cpu_count()} logical cores{memory}",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "symback": f"{_version('symback') or '?'} from {ROOT} at commit {_git_commit()}",
        "libraries": ", ".join(libraries),
        "load average (1, 5, 15 min) at the start": load,
    }


# --- tables ------------------------------------------------------------------


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, columns padded so that it also reads as plain text."""
    widths = [max(len(str(row[i])) for row in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    return "\n".join([line(header), "| " + " | ".join("-" * w for w in widths) + " |"] + [line(r) for r in rows])


def fmt_time(seconds: float, unit: str) -> str:
    """seconds in us or ms with 3 significant digits."""
    value = seconds * (1e6 if unit == "us" else 1e3)
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def fmt_ratio(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"
