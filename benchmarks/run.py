"""Every benchmark of symback in one run: per-call times, one-time costs, compile-time growth.

    python benchmarks/run.py                 # everything, about 6 minutes
    python benchmarks/run.py --quick         # a smoke run: short loops, small programs
    python benchmarks/run.py --write-docs    # and rewrite docs/benchmarks.md with the tables

Suites (--suites, default all three):

    scalar    neuron4, 10-D Rosenbrock, a 200-statement chain, a physics step,
              softmax cross-entropy, a 10,000-step loop (programs.py)
    arrays    the NumPy MLP loss of bench_arrays.py: 784-128-10 in float64 and
              float32, 3-10-2 in float64
    compile   symback's compile time at 100, 1,000 and 10,000 statements,
              one fresh process per size (bench_compile.py)

For each function of the scalar and array suites, every implementation
(f itself, the hand-written value and gradient, symback.value_and_grad, and
each peer: autograd, JAX jit, PyTorch, SymPy lambdify with cse=True,
Tangent) is built, its one-time cost measured (build + first call), its
value and gradient checked against the hand-written ones, and then all are
timed in one interleaved run. A wrong gradient, symback's or a peer's, is
a FAIL row, and the run ends with a non-zero status (and writes no docs).
A peer that is not installed is skipped with its install command.

Prints three tables (Markdown): per-call medians with ratios to f and to
the hand-written gradient; one-time costs; compile-time growth.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402  (imports no NumPy: the threads are pinned first)

COLUMNS = ("f", "hand", "symback", "autograd", "jax", "torch", "lambdify", "tangent")
PEERS = COLUMNS[2:]
DOCS = os.path.join(harness.ROOT, "docs", "benchmarks.md")
ONE_TIME = {"symback": "symback compile", "autograd": "autograd first call",
            "jax": "JAX trace + jit", "torch": "torch first call",
            "lambdify": "lambdify build", "tangent": "Tangent build"}


FULL = {"seconds": 0.1, "repeats": 15, "budget": 20.0, "chain": 200, "steps": 10_000, "sizes": [100, 1000, 10_000]}
QUICK = {"seconds": 0.005, "repeats": 3, "budget": 2.0, "chain": 20, "steps": 100, "sizes": [100, 300]}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suites", default="scalar,arrays,compile",
                        help="comma-separated: scalar, arrays, compile (default all)")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help=f"comma-separated, from {', '.join(PEERS)} (default all)")
    parser.add_argument("--programs", default="",
                        help="comma-separated words: only the functions whose name contains one")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: " + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in QUICK.items()
                                                       if k not in ("chain", "steps", "sizes"))
                        + ", a 20-statement chain, a 100-step loop, compile sizes 100 and 300")
    parser.add_argument("--seconds", type=float, help=f"length of one timing loop (default {FULL['seconds']})")
    parser.add_argument("--repeats", type=int, help="timing loops per function; the median is "
                        f"reported (default {FULL['repeats']})")
    parser.add_argument("--budget", type=float, help="seconds of timing per function and case at most, "
                        f"with at least 3 loops (default {FULL['budget']:g})")
    parser.add_argument("--build-limit", type=float, default=60.0,
                        help="give up on a build after this many seconds (default 60)")
    parser.add_argument("--threads", type=int, default=1, help="threads for every library (default 1)")
    parser.add_argument("--chain", type=int, help="statements in the chain (default 200)")
    parser.add_argument("--steps", type=int, help="iterations of the loop (default 10,000)")
    parser.add_argument("--sizes", type=int, nargs="+",
                        help="statements for the compile-time table (default 100 1000 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write-docs", nargs="?", const=DOCS, default=None, metavar="PATH",
                        help=f"write the tables to PATH (default {os.path.relpath(DOCS, os.getcwd())})")
    opts = parser.parse_args(argv)
    for key, value in (QUICK if opts.quick else FULL).items():
        if getattr(opts, key) is None:  # an option given explicitly wins over --quick
            setattr(opts, key, value)
    opts.suites = [s for s in opts.suites.split(",") if s]
    opts.peers = [p for p in opts.peers.split(",") if p]
    for s in opts.suites:
        if s not in ("scalar", "arrays", "compile"):
            parser.error(f"unknown suite {s!r}")
    for p in opts.peers:
        if p not in PEERS:
            parser.error(f"unknown peer {p!r}; the peers are {', '.join(PEERS)}")
    opts.programs = [w for w in opts.programs.split(",") if w]
    return opts


# --- results -----------------------------------------------------------------


@dataclass
class Cell:
    """One implementation on one function: its time per call, or why there is none."""
    timing: harness.Timing | None = None
    one_time: float | None = None    # build + first call, seconds
    note: str | None = None          # why not timed
    tag: str = ""                    # short form of the note for the tables
    wrong: bool = False              # its gradient disagrees with the hand-written one


@dataclass
class Case:
    name: str
    unit: str                        # "us" or "ms"
    cells: dict[str, Cell] = field(default_factory=dict)


def _skip(reason: str, tag: str) -> Cell:
    return Cell(note=reason, tag=tag)


def run_case(name: str, unit: str, f, hand, args, want, builders: dict, mismatch, opts) -> Case:
    """Build, check and time every implementation of one function.

    builders: {peer: zero-argument callable returning the peer's
    value-and-gradient function}; it may raise ImportError (not installed),
    peers.NotRun (not run by design) or anything else (not supported).
    """
    import peers as peer_builders
    case = Case(name, unit)
    fns = {"f": f, "hand": hand}
    case.cells["f"], case.cells["hand"] = Cell(), Cell()
    for peer in PEERS:
        if peer not in opts.peers:
            case.cells[peer] = _skip("not selected (--peers)", "")
            continue
        try:
            t0 = time.perf_counter()
            with harness.time_limit(opts.build_limit):
                fn = builders[peer]()
                t_build = time.perf_counter() - t0
                t_first, got = harness.time_once(fn, *args)
        except ImportError as err:
            case.cells[peer] = _skip(f"not installed ({err.name or err}): {peer_builders.INSTALL[peer]}", "n/i")
            continue
        except peer_builders.NotRun as err:
            case.cells[peer] = _skip(str(err), "n/r")
            continue
        except harness.TimeLimit as err:
            case.cells[peer] = _skip(f"build or first call: {err}", "t/o")
            continue
        except Exception as err:  # noqa: BLE001
            case.cells[peer] = _skip(f"not supported: {harness.error_text(err)}", "err")
            continue
        problem = mismatch(got, want)
        if problem:
            case.cells[peer] = Cell(note=f"FAIL, gradient wrong, not timed: {problem}", tag="FAIL", wrong=True,
                                    one_time=t_build + t_first)
            continue
        case.cells[peer] = Cell(one_time=t_build + t_first)
        fns[peer] = fn
    for label, timing in harness.time_calls(fns, args, opts.seconds, opts.repeats, opts.budget).items():
        case.cells[label].timing = timing
    return case


def scalar_cases(opts) -> list[Case]:
    import peers
    import programs
    suite = programs.scalar_suite(opts.chain, opts.seed, opts.steps)
    if opts.programs:
        suite = [p for p in suite if any(w in p.name for w in opts.programs)]
    cases = []
    for program in suite:
        want = program.hand(*program.args)
        problem = _hand_vs_differences(program, want)
        if problem:
            raise harness.BenchmarkError(f"FAIL {program.name}: the hand-written gradient {problem}")
        if not harness.close(want[0], program.f(*program.args), 1e-12, 1e-300):
            raise harness.BenchmarkError(f"FAIL {program.name}: the hand-written value differs from f")
        builders = {peer: (lambda peer=peer: peers.build(peer, program, opts.threads)) for peer in PEERS}
        case = run_case(program.name, "us", program.f, program.hand, program.args, want, builders,
                        lambda got, want: harness.mismatch_scalar(got, want, 1e-9), opts)
        cases.append(case)
        print(f"  {program.name}: done", file=sys.stderr, flush=True)
    return cases


def _hand_vs_differences(program, want) -> str | None:
    """None if the hand-written gradient equals f's central differences (rel 1e-5)."""
    fd = harness.central_differences(program.f, program.args, program.wrt)
    floor = 1e-10 * (1.0 + abs(want[0]))  # rounding of the differences themselves
    for i, (g, d) in zip(program.wrt, zip(harness.as_floats(want[1]), fd)):
        if not harness.close(g, d, 1e-5, floor):
            return f"in parameter {i} is {g!r}, central differences give {d!r} (rel 1e-5)"
    return None


def array_cases(opts) -> list[Case]:
    try:
        import bench_arrays as arrays
    except ImportError as err:
        print(f"arrays suite skipped: {err} (pip install numpy)", file=sys.stderr)
        return []
    import peers
    arrays.check_hand(opts.seed)
    built: dict[str, object] = {}

    def builder(peer):
        def build():
            if peer in arrays.NOT_RUN:
                raise peers.NotRun(arrays.NOT_RUN[peer])
            if peer not in built:  # one build for all cases: later cases pay the first call only
                built[peer] = arrays.BUILDERS[peer](opts.threads)
            return built[peer]
        return build

    cases = []
    for spec in arrays.CASES:
        if opts.programs and not any(w in spec.name for w in opts.programs):
            continue
        args = arrays.make_args(spec, opts.seed)
        want = arrays.mlp_value_and_grad_hand(*args)
        builders = {peer: builder(peer) for peer in PEERS}
        case = run_case(spec.name, "ms", arrays.mlp_loss, arrays.mlp_value_and_grad_hand, args, want, builders,
                        lambda got, want, rtol=spec.rtol: arrays.mismatch(got, want, rtol), opts)
        cases.append(case)
        print(f"  {spec.name}: done", file=sys.stderr, flush=True)
    return cases


def warm_up(opts) -> None:
    """Import each library and run it once on a tiny function, so that one-time
    costs are the function's, not the library's start-up."""
    import peers
    import programs
    program = programs.warm_up_program()
    for peer in opts.peers:
        try:
            fn = peers.build(peer, program, opts.threads)
            fn(*program.args)
        except Exception:  # noqa: BLE001  (reported where it matters, on the suite's functions)
            pass


# --- tables ------------------------------------------------------------------


def _columns(cases: list[Case]) -> list[str]:
    """f, hand, then the peers that were selected."""
    return [c for c in COLUMNS if any(case.cells[c].note != "not selected (--peers)" for case in cases)]


def per_call_tables(cases: list[Case], unit: str) -> str:
    cols = _columns(cases)
    times, vs_hand, vs_f = [], [], []
    for case in cases:
        t_f, t_hand = case.cells["f"].timing.median, case.cells["hand"].timing.median
        row_t, row_h, row_f = [case.name], [case.name], [case.name]
        for c in cols:
            cell = case.cells[c]
            if cell.timing is None:
                for row in (row_t, row_h, row_f):
                    row.append(cell.tag or "-")
                continue
            row_t.append(harness.fmt_time(cell.timing.median, unit))
            row_h.append(harness.fmt_ratio(cell.timing.median / t_hand))
            row_f.append(harness.fmt_ratio(cell.timing.median / t_f))
        times.append(row_t)
        vs_hand.append(row_h)
        vs_f.append(row_f)
    header = ["function"] + cols
    unit_name = "µs" if unit == "us" else "ms"
    return "\n\n".join([
        f"Median time per call, {unit_name}:\n\n" + harness.markdown_table(header, times),
        "Ratio to the hand-written value and gradient (lower is faster):\n\n"
        + harness.markdown_table(header, vs_hand),
        "Ratio to f alone:\n\n" + harness.markdown_table(header, vs_f),
    ])


def one_time_table(cases: list[Case]) -> str:
    cols = [c for c in _columns(cases) if c in ONE_TIME]
    rows = []
    for case in cases:
        row = [case.name]
        for c in cols:
            cell = case.cells[c]
            row.append(harness.fmt_time(cell.one_time, "ms") if cell.one_time is not None else (cell.tag or "-"))
        rows.append(row)
    return harness.markdown_table(["function"] + [ONE_TIME[c] for c in cols], rows)


def notes(cases: list[Case]) -> str:
    """Every cell without a time, and why."""
    lines = []
    for case in cases:
        for c in COLUMNS:
            cell = case.cells[c]
            if cell.note and cell.note != "not selected (--peers)":
                lines.append(f"- {case.name}, {c}: {cell.note}")
    return "\n".join(lines)


def compile_table(results: list[dict]) -> str:
    rows = [[f"{r['n']:,}", f"{r['import']:.2f}", f"{r['cold']:.2f}", f"{r['cold_cpu']:.2f}",
             f"{r['cold_cpu'] / r['n'] * 1000:.3f}", f"{r['warm']:.2f}", f"{r['warm_cpu']:.2f}",
             f"{r['warm_cpu'] / r['n'] * 1000:.3f}", f"{r['source_lines']:,}"] for r in results]
    return harness.markdown_table(["statements", "import symback s", "cold s", "cold CPU s", "cold CPU s / 1,000",
                                   "warm s", "warm CPU s", "warm CPU s / 1,000", "generated lines"], rows)


# --- the run -----------------------------------------------------------------


@dataclass
class Report:
    command: str
    opts: argparse.Namespace
    machine: dict
    scalar: list[Case]
    arrays: list[Case]
    compile: list[dict]
    load_after: str = ""

    @property
    def failed(self) -> bool:
        return any(cell.wrong for case in self.scalar + self.arrays for cell in case.cells.values())

    def tables(self) -> str:
        parts = []
        if self.scalar or self.arrays:
            parts.append("## 1. Time per call\n")
            if self.scalar:
                parts.append("### Scalar functions\n\n" + per_call_tables(self.scalar, "us") + "\n")
            if self.arrays:
                parts.append("### NumPy arrays (value and gradient in W1, b1, W2, b2)\n\n"
                             + per_call_tables(self.arrays, "ms") + "\n")
            parts.append("## 2. One-time costs\n\nBuild plus first call, ms, each library already "
                         "imported and run once on a tiny function:\n\n"
                         + one_time_table(self.scalar + self.arrays) + "\n")
            why = notes(self.scalar + self.arrays)
            if why:
                parts.append("### Cells without a number\n\n" + why + "\n")
        if self.compile:
            parts.append("## 3. symback compile time by program size\n\nRandom chains (programs.py), "
                         "one fresh process per size; cold = the first `grad` in the process, warm = a "
                         "second `grad` of the same function; wall clock (s) and CPU time of the process "
                         "(CPU s), which does not count waiting for a core on a busy machine:\n\n" + compile_table(self.compile) + "\n")
        return "\n".join(parts)

    def machine_text(self) -> str:
        m = dict(self.machine)
        if self.load_after:
            m["load average at the end"] = self.load_after
        return "\n".join(f"- {k}: {v}" for k, v in m.items())


def main(argv=None) -> Report:
    argv = list(sys.argv[1:] if argv is None else argv)
    opts = parse_args(argv)
    # Disk caches of generated gradients (symback's, where there is one, and Tangent's)
    # would turn a build into a load from an earlier run: measure the build, and leave
    # the user's caches alone. (JAX's persistent compilation cache is off by default.)
    os.environ["SYMBACK_NO_CACHE"] = "1"
    os.environ["TANGENT_DISK_CACHE"] = "0"
    harness.pin_threads(opts.threads)
    harness.use_this_checkout()
    command = " ".join(["python benchmarks/run.py", *argv])
    machine = harness.machine()
    print(f"{command}\n\n{harness.threads_description(opts.threads)}; timing loops of ~{opts.seconds:g} s, "
          f"median of {opts.repeats} (at most {opts.budget:g} s per function)\n", flush=True)

    scalar = arrays = []
    compile_results: list[dict] = []
    if "scalar" in opts.suites or "arrays" in opts.suites:
        warm_up(opts)
    if "scalar" in opts.suites:
        scalar = scalar_cases(opts)
    if "arrays" in opts.suites:
        arrays = array_cases(opts)
    if "compile" in opts.suites:
        import bench_compile
        compile_results = [bench_compile.run_size(n, opts.seed) for n in opts.sizes]
        print("  compile sizes: done", file=sys.stderr, flush=True)

    report = Report(command, opts, machine, scalar, arrays, compile_results, harness.machine_load())
    print(report.tables())
    print("Machine:\n" + report.machine_text())
    if report.failed:
        raise harness.BenchmarkError("FAIL: a gradient disagrees with the hand-written one (see the notes); "
                                     "docs not written")
    if opts.write_docs:
        import docs_page
        docs_page.write(opts.write_docs, report)
        print(f"\nwrote {opts.write_docs}")
    return report


if __name__ == "__main__":
    main()
