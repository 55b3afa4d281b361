"""The benchmark harness runs: a smoke run of benchmarks/run.py with tiny loops.

No timing is asserted here (benchmarks are not tests); this checks that the
one command still builds, checks and reports, and writes its docs page.
Peers that are not installed are reported as skipped by the harness itself.
"""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_run_py_smoke(tmp_path):
    pytest.importorskip("numpy")
    page = tmp_path / "benchmarks.md"
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--seconds", "0.001",
               "--peers", "symback,lambdify", "--programs", "neuron4,loop,3-10-2",
               "--sizes", "20", "--write-docs", str(page)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for heading in ("## 1. Time per call", "## 2. One-time costs", "## 3. symback compile time"):
        assert heading in out
    assert "| neuron4 (3Blue1Brown, 4 layers)" in out and "| 3-10-2, batch 8, float64" in out
    assert "lambdify" in out and "n/r" in out  # the loop is not run through lambdify, by design
    text = page.read_text()
    assert text.startswith("# Benchmarks") and "## The last run" in text and "| 20 " in text
