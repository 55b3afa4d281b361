"""The on-disk gradient cache (issue 12, part 2): a hit never returns a stale gradient.

Every test gets a cache directory of its own (the `store` fixture). A hit is
seen by replacing symback.api.generate_parts (the compiler) with a counter:
a hit does not call it. Every gradient, hit or miss, is checked against
central differences, never against another symback output.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import symback.api
from reference import central_differences
from symback import NoSource, grad, value_and_grad
from symback import cache
from symback.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh cache root for this test; returns it."""
    root = tmp_path / "cache"
    monkeypatch.setenv("SYMBACK_CACHE_DIR", str(root))
    monkeypatch.delenv("SYMBACK_NO_CACHE", raising=False)
    return root


@pytest.fixture
def compiles(monkeypatch):
    """How many times the compiler ran (a cache hit does not run it)."""
    calls = []
    real = symback.api.generate_parts

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)
    monkeypatch.setattr(symback.api, "generate_parts", counting)
    return calls


def entries(root: Path) -> list[Path]:
    return sorted(p for p in (root / cache.SUBDIR).glob("*/*.json") if not p.name.startswith("."))


_LOADED = [0]


def load(directory: Path, name: str, text: str, monkeypatch):
    """Write name.py in `directory` and import it afresh (a new module object each time)."""
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    _LOADED[0] += 1
    spec = importlib.util.spec_from_file_location(f"{name}_{_LOADED[0]}", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def close(got, want, rel=1e-6):
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g == pytest.approx(w, rel=rel, abs=1e-9), (got, want)


MODEL = """\
import math

SCALE = 2.0


def squash(z):
    return SCALE / (1 + math.exp(-z))


def cost(w, b, x, y):
    \"\"\"The squared error of one neuron.\"\"\"
    a = squash(w * x + b)
    return (a - y) ** 2
"""
ARGS = (0.5, -0.2, 1.5, 0.3)


# --- hit and miss -------------------------------------------------------------

def test_second_grad_is_a_hit_with_the_same_gradient(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", MODEL, monkeypatch)
    first = grad(model.cost)
    assert len(compiles) == 1 and len(entries(store)) == 1
    second = grad(model.cost)
    assert len(compiles) == 1, "the second grad() compiled again"
    close(second(*ARGS), central_differences(model.cost, ARGS))
    assert second(*ARGS) == first(*ARGS)
    assert second.source == first.source
    assert second.__doc__ == first.__doc__ and "squared error" in second.__doc__
    assert second.__qualname__ == "grad_cost" and second.__wrapped__ is model.cost
    assert second.__module__ == model.cost.__module__


def test_a_hit_in_a_new_process_imports_no_sympy(store, tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    script = ("import sys, symback, model\n"
              "g = symback.grad(model.cost)\n"
              f"print('sympy' in sys.modules, repr(g(*{ARGS!r})))\n")
    env = dict(os.environ, SYMBACK_CACHE_DIR=str(store),
               PYTHONPATH=os.pathsep.join([str(REPO), str(tmp_path)]))
    runs = [subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=120) for _ in range(2)]
    for done in runs:
        assert done.returncode == 0, done.stderr
    (cold_sympy, cold_value), (hot_sympy, hot_value) = (done.stdout.split(" ", 1) for done in runs)
    assert cold_sympy == "True"   # compiled: SymPy was needed
    assert hot_sympy == "False"   # loaded from the cache: SymPy never imported
    assert hot_value == cold_value


def test_options_are_part_of_the_key(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", MODEL, monkeypatch)
    want = central_differences(model.cost, ARGS)
    close(grad(model.cost)(*ARGS), want)
    close(grad(model.cost, wrt="w")(*ARGS), want[:1])
    close(grad(model.cost, wrt=(0, "x"))(*ARGS), (want[0], want[2]))
    value, grads = value_and_grad(model.cost)(*ARGS)
    assert value == model.cost(*ARGS)
    close(grads, want)
    assert len(compiles) == 4 and len(entries(store)) == 4
    close(grad(model.cost, wrt="w")(*ARGS), want[:1])
    assert value_and_grad(model.cost)(*ARGS)[0] == model.cost(*ARGS)
    assert len(compiles) == 4


def test_has_aux_is_part_of_the_key(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "aux", """\
        def f(x):
            return x * x, x + 1.0
        """, monkeypatch)
    assert grad(model.f, has_aux=True)(3.0) == (6.0, 4.0)
    assert grad(model.f, has_aux=True)(3.0) == (6.0, 4.0)
    assert len(compiles) == 1


# --- a change anywhere is a miss --------------------------------------------------

def test_edited_function_is_a_miss(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", MODEL, monkeypatch)
    grad(model.cost)
    model = load(tmp_path, "model", MODEL.replace("(a - y) ** 2", "(a - y) ** 4"), monkeypatch)
    close(grad(model.cost)(*ARGS), central_differences(model.cost, ARGS))
    assert len(compiles) == 2


def test_edited_helper_is_a_miss(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", MODEL, monkeypatch)
    grad(model.cost)
    model = load(tmp_path, "model", MODEL.replace("math.exp(-z)", "math.exp(-2 * z)"), monkeypatch)
    close(grad(model.cost)(*ARGS), central_differences(model.cost, ARGS))
    assert len(compiles) == 2


def test_helper_in_another_module_edited(store, compiles, tmp_path, monkeypatch):
    """f's own text is the same; only the helper it imports changed."""
    helpers = load(tmp_path, "helpers", "def act(z):\n    return z * z\n", monkeypatch)
    monkeypatch.setitem(sys.modules, "helpers", helpers)
    user = "from helpers import act\n\ndef f(x):\n    return act(x) + x\n"
    model = load(tmp_path, "user", user, monkeypatch)
    assert grad(model.f)(2.0) == pytest.approx(5.0)  # 2x + 1
    helpers = load(tmp_path, "helpers", "def act(z):\n    return z * z * z\n", monkeypatch)
    monkeypatch.setitem(sys.modules, "helpers", helpers)
    model = load(tmp_path, "user", user, monkeypatch)
    assert grad(model.f)(2.0) == pytest.approx(13.0)  # 3x**2 + 1
    assert len(compiles) == 2


def test_module_constant_changed_is_a_miss(store, compiles, tmp_path, monkeypatch):
    """SCALE is read by the helper, not by f: a dependency two levels down."""
    model = load(tmp_path, "model", MODEL, monkeypatch)
    before = grad(model.cost)(*ARGS)
    model.SCALE = 3.0
    after = grad(model.cost)(*ARGS)
    close(after, central_differences(model.cost, ARGS))
    assert after != before and len(compiles) == 2
    model.SCALE = 2.0  # back: the first entry is still there and matches again
    assert grad(model.cost)(*ARGS) == before
    assert len(compiles) == 2 and len(entries(store)) == 2


def test_constant_type_change_is_a_miss(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", "K = 2\n\ndef f(x):\n    return x ** K\n", monkeypatch)
    assert grad(model.f)(3.0) == pytest.approx(6.0)
    model.K = 3
    assert grad(model.f)(3.0) == pytest.approx(27.0)
    model.K = 3.0
    assert grad(model.f)(3.0) == pytest.approx(27.0)
    assert len(compiles) == 3


def test_a_new_global_shadowing_a_builtin_is_a_miss(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", "def f(x):\n    return abs(x) * 2.0\n", monkeypatch)
    assert grad(model.f)(-3.0) == pytest.approx(-2.0)

    def abs(v):  # noqa: A001 - the point of the test
        return v * v
    model.abs = abs
    assert grad(model.f)(-3.0) == pytest.approx(-12.0)  # d(2 x**2) = 4x
    assert len(compiles) == 2


def test_closure_value_changed_is_a_miss(store, compiles):
    def make(k):
        def f(x):
            return k * x * x
        return f
    assert grad(make(2.0))(1.0) == pytest.approx(4.0)
    assert grad(make(2.0))(1.0) == pytest.approx(4.0)
    assert grad(make(5.0))(1.0) == pytest.approx(10.0)
    assert len(compiles) == 2


def test_default_value_changed_is_a_miss(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", "def f(x, k=2.0):\n    return k * x * x\n", monkeypatch)
    assert grad(model.f, wrt="x")(1.0) == pytest.approx(4.0)
    model.f.__defaults__ = (5.0,)
    assert grad(model.f, wrt="x")(1.0) == pytest.approx(10.0)
    assert len(compiles) == 2


def test_helper_default_changed_is_a_miss(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", """\
        def scaled(x, k=2.0):
            return k * x

        def f(x):
            return scaled(x) * x
        """, monkeypatch)
    assert grad(model.f)(1.0) == pytest.approx(4.0)
    model.scaled.__defaults__ = (5.0,)
    assert grad(model.f)(1.0) == pytest.approx(10.0)
    assert len(compiles) == 2


def test_function_moved_down_the_file_is_a_miss(store, compiles, tmp_path, monkeypatch):
    """Tracebacks name the line of f: the entry says where f was."""
    model = load(tmp_path, "model", MODEL, monkeypatch)
    grad(model.cost)
    model = load(tmp_path, "model", "\n\n" + MODEL, monkeypatch)
    g = grad(model.cost)
    assert f"model.py:{model.cost.__code__.co_firstlineno}" in g.__code__.co_filename
    assert len(compiles) == 2


def test_numpy_mode(store, compiles, tmp_path, monkeypatch):
    np = pytest.importorskip("numpy")
    model = load(tmp_path, "arrays", """\
        import numpy as np

        def f(w, x):
            return np.sum(np.tanh(w * x))
        """, monkeypatch)
    w, x = np.array([0.1, 0.2]), np.array([1.0, -2.0])
    first = grad(model.f, wrt="w")(w, x)
    again = grad(model.f, wrt="w")(w, x)
    assert np.allclose(first, x * (1 - np.tanh(w * x) ** 2)) and np.array_equal(first, again)
    assert len(compiles) == 1
    model.np = __import__("math")  # the same text, now over math: a different gradient, or a refusal
    with pytest.raises(Exception):
        grad(model.f, wrt="w")(w, x)
    assert len(compiles) == 2


def test_file_edited_after_import_never_gets_the_new_text(store, compiles, tmp_path, monkeypatch):
    """issue 9's case, with the cache: another import of the edited file cached the new
    gradient; the old code that still runs must not receive it."""
    old = load(tmp_path, "edited", "def f(x):\n    return x * x\n", monkeypatch)
    new = load(tmp_path, "edited", "def f(x):\n    return x * x * x\n", monkeypatch)
    assert grad(new.f)(3.0) == pytest.approx(27.0)
    try:
        g = grad(old.f)
    except NoSource:
        return  # refused: fine
    assert g(3.0) == pytest.approx(6.0)


# --- what is never executed ----------------------------------------------------

def _one_entry(store, tmp_path, monkeypatch):
    model = load(tmp_path, "model", MODEL, monkeypatch)
    grad(model.cost)
    [path] = entries(store)
    return model, path


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "not a dict", "missing field",
                                    "other format", "other versions"])
def test_corrupt_entry_is_rebuilt(store, compiles, tmp_path, monkeypatch, damage):
    model, path = _one_entry(store, tmp_path, monkeypatch)
    text = path.read_text()
    entry = json.loads(text)
    damaged = {"garbage": "\x00\xff{{{", "truncated": text[: len(text) // 2], "empty": "",
               "not a dict": "[1, 2, 3]",
               "missing field": json.dumps({k: v for k, v in entry.items() if k != "source_sha256"}),
               "other format": json.dumps(dict(entry, format=cache.FORMAT + 1)),
               "other versions": json.dumps(dict(entry, versions="symback 0.0.0"))}[damage]
    path.write_bytes(damaged.encode("utf-8", "surrogateescape"))
    close(grad(model.cost)(*ARGS), central_differences(model.cost, ARGS))
    assert len(compiles) == 2
    assert json.loads(path.read_text())["source_sha256"] == entry["source_sha256"]  # rewritten whole


def test_tampered_source_is_never_executed(store, compiles, tmp_path, monkeypatch):
    """The source's hash is checked before exec: text that does not match is not run."""
    model, path = _one_entry(store, tmp_path, monkeypatch)
    entry = json.loads(path.read_text())
    marker = tmp_path / "executed"
    entry["source"] = f"open({str(marker)!r}, 'w').close()\n" + entry["source"]
    path.write_text(json.dumps(entry))
    close(grad(model.cost)(*ARGS), central_differences(model.cost, ARGS))
    assert not marker.exists() and len(compiles) == 2


def test_entry_writable_by_others_is_ignored(store, compiles, tmp_path, monkeypatch):
    model, path = _one_entry(store, tmp_path, monkeypatch)
    path.chmod(0o666)
    grad(model.cost)
    assert len(compiles) == 2


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="chown to another user needs root")
def test_entry_owned_by_another_user_is_ignored(store, compiles, tmp_path, monkeypatch):
    model, path = _one_entry(store, tmp_path, monkeypatch)
    os.chown(path, 12345, 12345)
    grad(model.cost)
    assert len(compiles) == 2


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_directories_are_private_and_entries_not_readable_by_others(store, tmp_path, monkeypatch):
    _, path = _one_entry(store, tmp_path, monkeypatch)
    for directory in (store, store / cache.SUBDIR, path.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_cache_directory_writable_by_others_is_not_used(store, compiles, tmp_path, monkeypatch):
    store.mkdir(mode=0o700)
    store.chmod(0o777)
    model = load(tmp_path, "model", MODEL, monkeypatch)
    close(grad(model.cost)(*ARGS), central_differences(model.cost, ARGS))
    grad(model.cost)
    assert len(compiles) == 2 and not entries(store)
    assert "not private" in _cli(["cache", "info"])[1]


def test_cache_off_by_argument_and_environment(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", MODEL, monkeypatch)
    grad(model.cost, cache=False)
    value_and_grad(model.cost, cache=False)
    assert not store.exists()
    monkeypatch.setenv("SYMBACK_NO_CACHE", "1")
    grad(model.cost)
    assert not store.exists()
    assert len(compiles) == 3
    monkeypatch.setenv("SYMBACK_NO_CACHE", "0")  # 0 means on
    grad(model.cost)
    assert len(entries(store)) == 1
    grad(model.cost, cache=False)  # not read either
    assert len(compiles) == 5


def test_decorator_forms_pass_cache_on(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", MODEL, monkeypatch)
    grad(cache=False)(model.cost)
    grad(wrt="w", cache=False)(model.cost)
    assert not store.exists()


def test_functions_without_source_are_not_cached(store):
    namespace: dict = {}
    exec("def f(x):\n    return x * x\n", namespace)
    with pytest.raises(NoSource):
        grad(namespace["f"])
    assert not store.exists() or not entries(store)


# --- several processes at once --------------------------------------------------------

def test_concurrent_compiles_of_one_function(store, tmp_path):
    """Processes compiling the same gradient at once all get it right, and leave one
    whole entry and no temporary files."""
    (tmp_path / "model.py").write_text(MODEL)
    script = f"import symback, model\nprint(repr(symback.grad(model.cost)(*{ARGS!r})))\n"
    env = dict(os.environ, SYMBACK_CACHE_DIR=str(store), PYTHONPATH=os.pathsep.join([str(REPO), str(tmp_path)]))
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [proc.communicate(timeout=240) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [err for _, err in outputs]
    assert len({out for out, _ in outputs}) == 1
    sys.path.insert(0, str(tmp_path))
    try:
        import model
        close(eval(outputs[0][0]), central_differences(model.cost, ARGS))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("model", None)
    [path] = entries(store)
    assert cache._read(path) is not None
    assert not list((store / cache.SUBDIR).glob("*/.tmp-*"))


WRITER = """\
import sys, types
from pathlib import Path
from symback import cache
directory, key, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
def f(x):
    return x
for i in range(n):
    source = f"# {i}\\n" + "x = 1.0\\n" * (2000 + 37 * (i % 50))
    assert cache.save(directory, key, f, [], "g", "here", None, source) is not None
"""


def test_readers_never_see_a_half_written_entry(store, tmp_path):
    """Two processes rewrite one entry (different lengths) while this one reads it:
    every read is a whole, valid entry."""
    directory = cache.store()
    key = "0" * 40

    def f(x):
        return x
    cache.save(directory, key, f, [], "g", "here", None, "x = 1.0\n")
    [path] = entries(store)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(directory), key, "150"], env=env,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    reads = 0
    while any(w.poll() is None for w in writers) or reads < 50:
        entry = cache._read(path)
        assert entry is not None, "a reader saw a missing or half-written entry"
        reads += 1
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    assert not list(path.parent.glob(".tmp-*"))


# --- the command line ---------------------------------------------------------------

def _cli(argv):
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_cli_info_and_clear(store, tmp_path, monkeypatch):
    model = load(tmp_path, "model", MODEL, monkeypatch)
    grad(model.cost)
    value_and_grad(model.cost)
    code, out, _ = _cli(["cache", "info"])
    assert code == 0
    assert f"location  {store} (from $SYMBACK_CACHE_DIR)" in out
    assert "status    on" in out and "2 gradients of 2 functions" in out
    size = sum(p.stat().st_size for p in entries(store))
    assert f"{size / 1000:.1f} kB" in out
    code, out, _ = _cli(["cache", "clear"])
    assert code == 0 and f"removed 2 cached gradients from {store}" in out
    assert not entries(store)
    assert "0 gradients of 0 functions" in _cli(["cache", "info"])[1]
    monkeypatch.setenv("SYMBACK_NO_CACHE", "1")
    assert "status    off (SYMBACK_NO_CACHE=1)" in _cli(["cache", "info"])[1]


def test_cli_clear_leaves_other_files_alone(store):
    store.mkdir(mode=0o700)
    (store / "notes.txt").write_text("mine")
    assert _cli(["cache", "clear"])[0] == 0
    assert (store / "notes.txt").read_text() == "mine"


def test_cache_command_imports_no_sympy(store):
    done = subprocess.run([sys.executable, "-c", "import sys; from symback.cli import main; main(['cache', 'info']); "
                           "print('sympy' in sys.modules)"], env=dict(os.environ, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("False")


def test_default_location_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("SYMBACK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.location() == (tmp_path / "xdg" / "symback", "XDG_CACHE_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.location() == (tmp_path / "home" / ".cache" / "symback", "default")


def test_a_name_only_an_assert_reads_is_a_dependency(store, tmp_path):
    """python -O drops asserts from f's code, not from the source parse reads: a
    constant only an assert reads must still be checked."""
    (tmp_path / "guarded.py").write_text("LIMIT = 10.0\n\n\ndef f(x):\n    assert x < LIMIT, 'too big'\n"
                                         "    return x * x\n")
    script = ("import sys, guarded, symback\nguarded.LIMIT = float(sys.argv[1])\n"
              "try:\n    print(symback.grad(guarded.f)(5.0))\nexcept AssertionError as err:\n    print(err)\n")
    env = dict(os.environ, SYMBACK_CACHE_DIR=str(store), PYTHONPATH=os.pathsep.join([str(REPO), str(tmp_path)]))
    out = [subprocess.run([sys.executable, "-O", "-c", script, limit], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120) for limit in ("10.0", "10.0", "1.0")]
    assert [done.stdout.strip() for done in out] == ["10.0", "10.0", "too big"], [done.stderr for done in out]


def test_decorated_function_is_cached_without_following_the_decorator(store, tmp_path, monkeypatch):
    model = load(tmp_path, "decorated", """\
        from symback import grad

        @grad
        def f(x):
            return x * x
        """, monkeypatch)
    assert model.f(3.0) == 6.0
    [path] = entries(store)
    paths = [dep[0] for dep in json.loads(path.read_text())["deps"]]
    assert ["grad"] not in paths


def test_versions_are_the_same_before_and_after_sympy_is_imported():
    """A process that imported SymPy itself must find what one that did not wrote."""
    code = ("import sys\nfrom symback import cache\nbefore = cache._sympy_version()\nimport sympy\n"
            "print(before == cache._sympy_version(), 'sympy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["True", "True"], done.stderr


def test_a_module_that_only_looks_like_math_is_not_taken_for_it(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", "import math\n\ndef f(x):\n    return math.sin(x)\n", monkeypatch)
    assert grad(model.f)(0.0) == pytest.approx(1.0)
    import types
    fake = types.ModuleType("math")
    fake.sin = lambda v: v * v
    model.math = fake
    with pytest.raises(Exception):  # symback knows the real math only: refused, never the cached sin's gradient
        grad(model.f)(0.0)
    assert len(compiles) == 2


def test_an_object_the_cache_cannot_describe_only_turns_the_cache_off(store, compiles, tmp_path, monkeypatch):
    """f reads an instance (in code parse never lowers): f compiles, nothing is cached."""
    model = load(tmp_path, "model", """\
        class Config:
            def __repr__(self):
                raise RuntimeError("no repr")

        CONFIG = Config()

        def f(x):
            def unused():
                return CONFIG
            return x * x
        """, monkeypatch)
    assert grad(model.f)(3.0) == pytest.approx(6.0)
    assert grad(model.f)(3.0) == pytest.approx(6.0)
    assert len(compiles) == 2 and not entries(store)


def test_a_cache_that_fails_never_fails_grad(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", MODEL, monkeypatch)

    def broken(*args):
        raise OSError("disk on fire")
    monkeypatch.setattr(cache, "save", broken)
    monkeypatch.setattr(cache, "load", broken)
    close(grad(model.cost)(*ARGS), central_differences(model.cost, ARGS))


def test_a_def_whose_last_line_is_a_bracket_is_cached(store, compiles, tmp_path, monkeypatch):
    model = load(tmp_path, "model", "K = 2.0\n\ndef f(x):\n    return (\n        K * x * x\n    )\n", monkeypatch)
    assert grad(model.f)(1.0) == pytest.approx(4.0)
    assert grad(model.f)(1.0) == pytest.approx(4.0)
    model.K = 3.0
    assert grad(model.f)(1.0) == pytest.approx(6.0)
    assert len(compiles) == 2 and len(entries(store)) == 2
