"""The generated-file workflow: gradients as a file you keep next to your model.

Run it: python examples/generated_workflow.py

Instead of calling grad() when your program starts, run `symback generate`
once, keep its output (model_grad.py) with your code, and import it like
any module: it needs neither symback nor SymPy. `symback generate --check`
(in CI, say) exits 1 when the model changed and the file must be
regenerated.

This script does it all in a temporary directory, on a copy of
examples/model.py, so the repository is never modified:

1. symback generate model.py:loss model.py:huber -o model_grad.py
2. import model_grad and fit a line with value_and_grad_loss
3. symback generate ... --check      -> exit code 0: the file is current
4. edit the copy of model.py, --check again -> exit code 1: stale
"""

import importlib.util
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
GENERATE = ["generate", "model.py:loss", "model.py:huber", "-o", "model_grad.py"]


def symback(args: list[str], cwd: pathlib.Path) -> subprocess.CompletedProcess:
    """Run the symback command line, as you would in a shell, in `cwd`."""
    return subprocess.run([sys.executable, "-m", "symback", *args], cwd=cwd, capture_output=True, text=True)


def load(path: pathlib.Path):
    """Import a .py file as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fit_line(value_and_grad_loss, xs, ys, steps=200, rate=0.1):
    """Gradient descent on the mean squared error of w*x + b; returns (w, b, loss)."""
    w, b = 0.0, 0.0
    for _ in range(steps):
        value, (dw, db, _dxs, _dys) = value_and_grad_loss(w, b, xs, ys)
        w, b = w - rate * dw, b - rate * db
    return w, b, value


def workflow(work: pathlib.Path) -> dict:
    """Run the four steps in the directory `work`; return what each produced."""
    shutil.copy(HERE / "model.py", work / "model.py")

    done = symback(GENERATE, work)
    assert done.returncode == 0, done.stderr
    print("running: symback " + " ".join(GENERATE))
    print(done.stderr, end="")

    model_grad = load(work / "model_grad.py")
    xs = [0.0, 1.0, 2.0, 3.0, 4.0]
    ys = [1.0, 3.0, 5.0, 7.0, 9.0]  # y = 2x + 1
    w, b, value = fit_line(model_grad.value_and_grad_loss, xs, ys)
    print(f"\nfitted line: y = {w:.4f}*x + {b:.4f}  (mean squared error {value:.2e})")
    slopes = {r: model_grad.grad_huber(r) for r in (-3.0, -0.5, 0.0, 0.5, 3.0)}
    print("dhuber/dr:", ", ".join(f"{s:g} at r={r:g}" for r, s in slopes.items()))

    fresh = symback([*GENERATE, "--check"], work)
    print(f"\nrunning: symback {' '.join(GENERATE)} --check")
    print(fresh.stdout + fresh.stderr + f"exit code {fresh.returncode}")

    source = (work / "model.py").read_text()
    old, new = "total += r * r", "total += abs(r)"  # the model changes: now a mean absolute error
    assert old in source
    (work / "model.py").write_text(source.replace(old, new))
    stale = symback([*GENERATE, "--check"], work)
    print(f"\nediting loss in model.py: {old}  ->  {new}")
    print(f"running: symback {' '.join(GENERATE)} --check")
    print(stale.stdout + stale.stderr + f"exit code {stale.returncode}")

    return {"w": w, "b": b, "huber_slopes": slopes, "fresh": fresh.returncode, "stale": stale.returncode,
            "source": (work / "model_grad.py").read_text()}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        result = workflow(pathlib.Path(tmp))
    print("\nThe generated model_grad.py:\n")
    print(result["source"])
