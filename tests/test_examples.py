"""Every example runs and does what it says, and the docs show real output.

Docs are checked by running them: in README.md and docs/*.md, a ```console
block is a shell transcript (`$ command`, then its output; a line `...`
stands for any number of lines) and a ```pycon block is a doctest. Each file's
blocks run in order, in a temporary directory holding a copy of examples/,
so commands see the paths a reader at the repository root sees and files
they write land in the copy.
"""

import contextlib
import doctest
import functools
import io
import pathlib
import re
import shlex
import shutil
import statistics
import subprocess
import sys

import pytest

from symback.cli import main as symback_main

EXAMPLES_DIR = pathlib.Path(__file__).parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
# Scripts are the examples meant to be run: they have a main block. The others
# are modules the scripts use, and are exercised through them.
SCRIPTS = [p for p in EXAMPLES if 'if __name__ == "__main__":' in p.read_text()]


@functools.lru_cache(maxsize=None)
def run(path: pathlib.Path) -> subprocess.CompletedProcess:
    """Run an example once per test session, as `python examples/X.py` from the repo root."""
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120,
                          cwd=EXAMPLES_DIR.parent)


def example(name: str):
    """Import examples/NAME.py as a module."""
    sys.path.insert(0, str(EXAMPLES_DIR))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)


def test_every_example_is_a_script_or_used_by_one():
    # model.py has no main on purpose: it is the plain model that
    # generated_workflow.py runs `symback generate` on.
    assert sorted(p.name for p in EXAMPLES if p not in SCRIPTS) == ["model.py"]
    assert "model.py" in (EXAMPLES_DIR / "generated_workflow.py").read_text()


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_example_runs(path):
    done = run(path)
    assert done.returncode == 0, done.stderr
    assert "def " in done.stdout  # each example prints a generated gradient


def test_training_lowers_the_cost():
    first, last = example("train_neuron4").train(steps=300)
    assert last < first / 100


@pytest.mark.parametrize("data", [
    [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0],  # mean 5, population std 2
    example("fit_gaussian").sample(),
    example("fit_gaussian").sample(n=100, mu=-2.0, sigma=0.8, seed=1),
], ids=["textbook", "default-sample", "other-sample"])
def test_gaussian_fit_finds_the_mean_and_population_std(data):
    mu, sigma, value = example("fit_gaussian").fit(data)
    assert mu == pytest.approx(statistics.fmean(data), abs=1e-9)
    assert sigma == pytest.approx(statistics.pstdev(data), abs=1e-9)


def test_gaussian_fit_prints_the_fit_next_to_the_closed_form():
    lines = run(EXAMPLES_DIR / "fit_gaussian.py").stdout.splitlines()
    fitted = next(line for line in lines if line.startswith("fitted"))
    closed = next(line for line in lines if line.startswith("closed form"))
    assert fitted.split("mu =")[1].split("(")[0].split() == closed.split("mu =")[1].split()


def test_generated_workflow(tmp_path):
    result = example("generated_workflow").workflow(tmp_path)
    assert result["w"] == pytest.approx(2.0, abs=1e-4) and result["b"] == pytest.approx(1.0, abs=1e-4)
    assert result["huber_slopes"] == {-3.0: -1.0, -0.5: -0.5, 0.0: 0.0, 0.5: 0.5, 3.0: 1.0}
    assert (result["fresh"], result["stale"]) == (0, 1)
    assert "def grad_huber(r):" in result["source"] and "def value_and_grad_loss(" in result["source"]
    assert "symback" not in result["source"].split('"""', 2)[2].split("def ")[0]  # imports: no symback
    # the repository's own model.py was not touched
    assert "total += r * r" in (EXAMPLES_DIR / "model.py").read_text()


def test_readme_shows_the_real_output_of_the_neuron_example():
    readme = EXAMPLES_DIR.parent.joinpath("README.md").read_text()
    shown = readme.split("prints\n\n```python\n", 1)[1].split("```", 1)[0]
    done = run(EXAMPLES_DIR / "neuron.py")
    assert done.returncode == 0, done.stderr
    assert shown.strip() in done.stdout


# --- the docs show real output ----------------------------------------------

# a console or pycon block, or a python block that a hidden comment names as a file to write
BLOCK = re.compile(r"^(?:<!-- file: (\S+) -->\n```python|```(console|pycon))\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOCS = [p for p in [EXAMPLES_DIR.parent / "README.md", *sorted((EXAMPLES_DIR.parent / "docs").glob("*.md"))]
        if BLOCK.search(p.read_text())]


def shell(command: str) -> str:
    """What `command` prints in a shell (stdout and stderr), for the commands docs use:
    symback (run in-process: the same main() as the console script), python, cat;
    with `; echo $?`, the exit code after it."""
    command, echo = (command[:-len("; echo $?")], True) if command.endswith("; echo $?") else (command, False)
    argv = shlex.split(command)
    if argv[0] == "symback":
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                code = symback_main(argv[1:])
            except SystemExit as exit:  # --help, --version, argparse errors
                code = exit.code
        text = out.getvalue()
    elif argv[0] == "python" and len(argv) == 2 and (EXAMPLES_DIR / pathlib.Path(argv[1]).name).is_file():
        done = run(EXAMPLES_DIR / pathlib.Path(argv[1]).name)  # an example, already run by test_example_runs
        text, code = done.stdout + done.stderr, done.returncode
    elif argv[0] == "python":
        done = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, timeout=120)
        text, code = done.stdout + done.stderr, done.returncode
    elif argv[0] == "cat" and len(argv) == 2:
        text, code = pathlib.Path(argv[1]).read_text(), 0
    else:
        raise AssertionError(f"docs run only symback, python and cat commands, not: {command}")
    return text + (f"{code}\n" if echo else "")


def transcript(block: str) -> list[tuple[str, str]]:
    """A console block as (command, expected output) pairs."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        else:
            assert pairs, f"console block output before any $ command: {line!r}"
            pairs[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in pairs]


def matches(expected: str, actual: str) -> bool:
    """Line by line, trailing spaces ignored; a line '...' stands for any number of lines."""
    def lines(text):
        return [line.rstrip() for line in text.strip("\n").splitlines()]
    pattern = "".join(r"(?:.*\n)*?" if line == "..." else re.escape(line) + "\n" for line in lines(expected))
    return re.fullmatch(pattern, "".join(line + "\n" for line in lines(actual))) is not None


@pytest.mark.parametrize("doc", DOCS, ids=[p.name if p.parent.name != "docs" else "docs/" + p.name for p in DOCS])
def test_docs_show_real_output(doc, tmp_path, monkeypatch):
    blocks = BLOCK.findall(doc.read_text())
    shutil.copytree(EXAMPLES_DIR, tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "examples"))
    globs: dict = {}
    for file, kind, block in blocks:
        if file:
            pathlib.Path(file).write_text(block)
        elif kind == "console":
            for command, expected in transcript(block):
                actual = shell(command)
                assert matches(expected, actual), f"{doc.name}: $ {command}\n--- shown ---\n{expected}\n--- real ---\n{actual}"
        else:
            test = doctest.DocTestParser().get_doctest(block, globs, doc.name, str(doc), 0)
            report: list[str] = []
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
            runner.run(test, out=report.append, clear_globs=False)
            assert runner.failures == 0, "".join(report)
            globs = test.globs  # DocTest copied them: the next block sees this one's names


def test_spirals_network_learns_the_spirals():
    """The multi-neuron example: a 2-16-16-2 tanh network on two interleaved spirals."""
    first, last, accuracy, params = example("spirals").train(steps=1500)
    assert last < first / 10
    assert accuracy >= 0.95
    assert [p.shape for p in params] == [(2, 16), (16,), (16, 16), (16,), (16, 2), (2,)]
