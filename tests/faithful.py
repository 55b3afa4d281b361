"""The faithfulness check of issue 9, shared by test_faithful.py and test_wrappers_and_messages.py.

For f and a point, value_and_grad(f) and grad(f) must run f's own computation:

- `value_and_grad(f)(*args)[0]` is `f(*args)` exactly (or both NaN), or both
  raise the same exception type;
- `grad(f)(*args)` is `value_and_grad(f)(*args)[1]` exactly, or raises f's
  exception type;
- where f is smooth at the point, the gradient matches central differences.

The reference is f itself and tests/reference.py, never symback's output.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import math
import signal
import sys

import pytest

from reference import assert_grads_close, central_differences
from symback import grad, value_and_grad

FORBIDDEN_IN_MESSAGES = ("zoo", "__a", "Piecewise", "simplify in circles", "RecursionError",
                         "recursion depth")


def same(got, want) -> bool:
    """Exactly equal, NaN equal to NaN, lists and tuples element by element."""
    if isinstance(want, (list, tuple)):
        return (isinstance(got, (list, tuple)) and len(got) == len(want)
                and all(same(g, w) for g, w in zip(got, want)))
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    return got == want


def _chosen(f, wrt) -> list[int]:
    """Indices of the differentiated positional parameters (wrt as grad takes it)."""
    names = f.__code__.co_varnames[:f.__code__.co_argcount]
    if wrt is None:
        return list(range(len(names)))
    specs = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    return sorted(names.index(s) if isinstance(s, str) else s % len(names) for s in specs)


def numeric_gradient(f, args, wrt=None) -> tuple[list[float], list[str]]:
    """Central differences in every float of the wrt arguments, lists flattened.

    Returns the flat partials and their names ("x", "xs[1]", ...).
    """
    names = f.__code__.co_varnames[:f.__code__.co_argcount]
    slots = []  # (argument index, element index or None)
    for i in _chosen(f, wrt):
        if isinstance(args[i], list):
            slots += [(i, j) for j in range(len(args[i]))]
        else:
            slots.append((i, None))

    def flat_f(*values):
        moved = copy.deepcopy(list(args))
        for (i, j), v in zip(slots, values):
            if j is None:
                moved[i] = v
            else:
                moved[i][j] = v
        return f(*moved)

    start = [args[i] if j is None else args[i][j] for i, j in slots]
    labels = [names[i] if j is None else f"{names[i]}[{j}]" for i, j in slots]
    return list(central_differences(flat_f, start)) if slots else [], labels


def flatten_grads(grads, f, wrt=None) -> list[float]:
    """symback's gradient (a bare value for one parameter, else a tuple) as a flat list."""
    chosen = _chosen(f, wrt)
    parts = [grads] if len(chosen) == 1 else list(grads)
    assert len(parts) == len(chosen), (grads, chosen)
    flat = []
    for part in parts:
        flat += list(part) if isinstance(part, list) else [part]
    return flat


def check_faithful(f, *args, wrt=None, smooth=True, rtol=1e-6, atol=1e-6):
    """The core check of issue 9 at one point; returns the gradient (None if f raises).

    smooth=False skips the comparison with central differences (a kink, a jump
    or an edge of f's domain at this point).
    """
    raised = None
    try:
        want = f(*copy.deepcopy(args))
    except Exception as err:  # noqa: BLE001 - whatever f raises, the gradient must raise too
        raised = err
    both = value_and_grad(f, wrt=wrt)
    only = grad(f, wrt=wrt)
    if raised is not None:
        with pytest.raises(type(raised)):
            both(*copy.deepcopy(args))
        with pytest.raises(type(raised)):
            only(*copy.deepcopy(args))
        return None
    value, grads = both(*copy.deepcopy(args))
    assert same(value, want), f"value_and_grad value {value!r} but f returns {want!r}"
    alone = only(*copy.deepcopy(args))
    assert same(alone, grads), f"grad gives {alone!r} but value_and_grad gives {grads!r}"
    if smooth:
        numeric, labels = numeric_gradient(f, args, wrt)
        assert_grads_close(flatten_grads(grads, f, wrt), numeric, f, args, rtol=rtol, atol=atol,
                           params=labels)
    return grads


def check_raises_like_f(f, *args, wrt=None):
    """f raises at args: grad and value_and_grad raise the same exception type."""
    with pytest.raises(Exception) as info:
        f(*args)
    check_faithful(f, *args, wrt=wrt)
    return info.type


class TooSlow(BaseException):
    """Raised by `deadline`: a BaseException so that no `except Exception` swallows it."""


@contextlib.contextmanager
def deadline(seconds: float, what: str):
    """Fail (not hang) when the block runs longer than `seconds` (POSIX, main thread)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise TooSlow(f"{what} took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except TooSlow as err:
        pytest.fail(str(err))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_module(tmp_path, monkeypatch, name: str, text: str):
    """Write `text` to tmp_path/name.py and import it (so inspect.getsource can read it)."""
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def assert_clean_message(err, filename: str, line: int):
    """A refusal names the file and absolute line and shows no SymPy internals."""
    message = str(err)
    assert f"{filename}:{line}" in message, message
    for word in FORBIDDEN_IN_MESSAGES:
        assert word not in message, f"{word!r} in the message:\n{message}"
