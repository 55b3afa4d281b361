"""Write every generated gradient of symback's corpora to one text file, to diff two checkouts.

    python tools/snapshot_sources.py OUT.txt

A change meant to leave behaviour alone (a compile-time optimization, a
refactoring) must leave this file byte-identical: run it before and after,
then `diff before.txt after.txt`. For every module-level function of
tests/programs.py, tests/explain_corpus.py, tests/test_*.py,
benchmarks/programs.py (plus chains made by make_chain) and examples/*.py
it records `grad(f).source`, `value_and_grad(f).source` and the parsed IR
as printed, or the refusal's message where symback refuses f.
"""

from __future__ import annotations

import glob
import importlib
import importlib.util
import inspect
import os
import sys
import tempfile
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "benchmarks")]
os.environ["SYMBACK_NO_CACHE"] = "1"

from symback import grad, value_and_grad  # noqa: E402
from symback.errors import SymbackError  # noqa: E402
from symback.parse import parse  # noqa: E402


def _module_from_file(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def modules():
    """(label, module) for every corpus, in a fixed order."""
    yield "tests/programs.py", importlib.import_module("programs")
    yield "tests/explain_corpus.py", importlib.import_module("explain_corpus")
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "test_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        yield os.path.relpath(path, ROOT), importlib.import_module(name)
    yield "benchmarks/programs.py", _module_from_file(os.path.join(ROOT, "benchmarks", "programs.py"),
                                                      "bench_programs")
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*.py"))):
        name = "example_" + os.path.splitext(os.path.basename(path))[0]
        try:
            yield os.path.relpath(path, ROOT), _module_from_file(path, name)
        except BaseException as err:  # an example that runs something heavy or exits on import
            print(f"skipped {path}: {type(err).__name__}: {err}", file=sys.stderr)


def functions():
    """(label, function) for every module-level function the corpora define, then a few chains."""
    for label, module in modules():
        for name, value in sorted(vars(module).items()):
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                yield f"{label}:{name}", value
    # the chains go through files at a fixed path: the generated code's comments name the file
    bench = sys.modules["bench_programs"]
    folder = os.path.join(tempfile.gettempdir(), "symback-snapshot-chains")
    os.makedirs(folder, exist_ok=True)
    for n, seed in ((50, 0), (300, 1), (1000, 2)):
        path = os.path.join(folder, f"chain_{n}_{seed}.py")
        with open(path, "w") as file:
            file.write(bench.make_chain(n, seed))
        yield f"make_chain({n}, {seed})", _module_from_file(path, f"snapshot_chain_{n}_{seed}").chain


def outcome(make) -> str:
    try:
        return make()
    except SymbackError as err:
        return f"refused: {type(err).__name__}: {err}"
    except Exception as err:  # noqa: BLE001 - recorded, so a change in how f fails shows in the diff
        return f"failed: {type(err).__name__}: {err}"


def main(out_path: str) -> None:
    warnings.simplefilter("ignore")
    count = compiled = 0
    with open(out_path, "w") as out:
        for label, fn in functions():
            count += 1
            g = outcome(lambda: grad(fn, cache=False).source)
            compiled += not g.startswith(("refused:", "failed:"))
            out.write(f"=== {label}\n--- parse\n{outcome(lambda: str(parse(fn)))}\n--- grad\n{g}\n")
            out.write(f"--- value_and_grad\n{outcome(lambda: value_and_grad(fn, cache=False).source)}\n")
    print(f"{count} functions, {compiled} compiled by grad, written to {out_path}")


if __name__ == "__main__":
    main(sys.argv[1])
