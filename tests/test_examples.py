"""Every example runs, and does what it says."""

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted(pathlib.Path(__file__).parent.parent.joinpath("examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path):
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "def " in done.stdout  # each example prints a generated gradient


def test_training_lowers_the_cost():
    sys.path.insert(0, str(EXAMPLES[0].parent))
    try:
        import train_neuron4
    finally:
        sys.path.pop(0)
    first, last = train_neuron4.train(steps=300)
    assert last < first / 100


def test_readme_shows_the_real_output_of_the_neuron_example():
    readme = EXAMPLES[0].parent.parent.joinpath("README.md").read_text()
    shown = readme.split("prints\n\n```python\n", 1)[1].split("```", 1)[0]
    neuron = next(p for p in EXAMPLES if p.name == "neuron.py")
    done = subprocess.run([sys.executable, str(neuron)], capture_output=True, text=True, timeout=120, check=True)
    assert shown.strip() in done.stdout
