"""grad and value_and_grad: the pipeline, run once per function, behind a decorator.

    parse -> derive -> reverse -> optimize -> emit -> compile

All SymPy work happens here, when the gradient is made; calling the result
runs only the generated Python. A gradient made once is kept on disk
(cache.py): a later process loads it without parsing f or importing SymPy,
so the pipeline's modules are imported only when something is compiled.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
import types
from typing import TYPE_CHECKING, Callable

from . import cache as disk
from .compile import compile_source
from .errors import InternalError, SymbackError, UsageError

if TYPE_CHECKING:  # bound at run time by _pipeline(), on the first compile
    from . import ir
    from .derive import derive
    from .emit import emit_parts, module_text
    from .optimize import optimize
    from .parse import parse
    from .reverse import reverse

_PIPELINE = ("parse", "derive", "reverse", "optimize", "emit_parts", "module_text")


def _pipeline() -> None:
    """Import the compiler (and with it SymPy) on first use. A name already
    bound here (a test may replace emit_parts) is kept."""
    if all(name in globals() for name in _PIPELINE):
        return
    from .derive import derive
    from .emit import emit_parts, module_text
    from .optimize import optimize
    from .parse import parse
    from .reverse import reverse
    for name, value in (("parse", parse), ("derive", derive), ("reverse", reverse), ("optimize", optimize),
                        ("emit_parts", emit_parts), ("module_text", module_text)):
        globals().setdefault(name, value)


def __getattr__(name: str):
    if name in _PIPELINE:  # symback.api.parse and the like, as before they were lazy
        _pipeline()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def grad(f: Callable | None = None, *, wrt=None, has_aux: bool = False, cache: bool = True):
    """The gradient of `f`, as a new plain-Python function with f's signature.

    Use as `@grad`, `@grad(wrt=...)`, or `grad(f, wrt=...)`. `wrt` is a
    parameter name, an index, or a tuple of them (default: every parameter).
    The result returns one float for one differentiated parameter, else a
    tuple of floats in parameter order. Its generated source is `.source`.
    With has_aux=True, f returns (loss, aux): the gradient is of loss, and
    the result returns (gradient, aux), as JAX's grad does.

    The generated code is cached on disk and reused by later processes
    (see docs/reference.md, "The gradient cache"); cache=False compiles
    afresh and neither reads nor writes the cache.
    """
    if f is None:
        return functools.partial(grad, wrt=wrt, has_aux=has_aux, cache=cache)
    return _make(f, wrt, with_value=False, has_aux=has_aux, use_cache=cache)


def value_and_grad(f: Callable | None = None, *, wrt=None, has_aux: bool = False, cache: bool = True):
    """Like grad, but the new function returns (f(...), gradient); with
    has_aux=True, ((loss, aux), gradient)."""
    if f is None:
        return functools.partial(value_and_grad, wrt=wrt, has_aux=has_aux, cache=cache)
    return _make(f, wrt, with_value=True, has_aux=has_aux, use_cache=cache)


_PAUSES = 0  # pipelines running now (threads, or generate_parts inside _make), under _PAUSE_LOCK
_PAUSE_LOCK = threading.Lock()
_COLLECTOR_WAS_ON = False


@contextlib.contextmanager
def _collector_paused():
    """Python's cycle collector off while the compiler runs, as it was after.

    The pipeline builds millions of small tuples and SymPy objects that live
    until it finishes (the IR of a 10,000-statement function and its trees);
    each collection of the older generations walks every one of them again,
    a quarter of the compile time of such a function. Nothing here relies on
    the collector: what cycles the pipeline leaves are collected once it is
    back on. The first pipeline to start turns it off, the last to finish
    turns it back on (if it was on), so threads and nested calls agree."""
    global _PAUSES, _COLLECTOR_WAS_ON
    with _PAUSE_LOCK:
        if _PAUSES == 0:
            _COLLECTOR_WAS_ON = gc.isenabled()
            gc.disable()
        _PAUSES += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _PAUSES -= 1
            if _PAUSES == 0 and _COLLECTOR_WAS_ON:
                gc.enable()


def gradient_ir(f: Callable, wrt=None, with_value: bool = False, has_aux: bool = False) -> ir.Gradient:
    """Run parse, derive, reverse and optimize on `f`: the IR that emit prints."""
    _pipeline()
    function = derive(parse(f, has_aux=has_aux))
    return optimize(reverse(function, check_wrt(function, wrt), with_value))


def _cached(step: Callable, *args):
    """A step of the cache, or None if it fails: the cache may only ever save
    work; whatever goes wrong in it (an odd global, a full disk), grad compiles."""
    try:
        return step(*args)
    except Exception:  # noqa: BLE001
        return None


def _make(f: Callable, wrt, with_value: bool, has_aux: bool = False, use_cache: bool = True) -> types.FunctionType:
    directory = _cached(disk.store) if use_cache else None
    key = _cached(disk.key, f, wrt, with_value, has_aux) if directory is not None else None
    deps = None
    if key is not None:
        entry = _cached(disk.load, directory, key, f)
        if entry is not None:
            compiled = _cached(compile_source, entry["source"], entry["name"], entry["origin"])
            if compiled is not None:
                return _finish(compiled, f, entry["source"], entry["name"], entry["doc"])
        deps = _cached(disk.dependencies, f)  # before parsing: what parse will read, as it is now
    with _collector_paused():
        gradient, name, imports, body = generate_parts(f, wrt, with_value, has_aux)
        function = gradient.function
        source = module_text(imports, body)
        origin = f"{function.file}:{function.line}"
        try:
            compiled = compile_source(source, name, origin)
        except Exception as err:  # the generated code does not compile: our bug
            raise InternalError(f"{type(err).__name__} in the compile stage: {err}",
                                function=function.name, ir=f"{gradient}\n\n{source}") from err
    doc = compiled.__doc__
    if function.doc:
        import inspect
        doc = inspect.cleandoc(compiled.__doc__ or "") + "\n\n" + function.doc
    if deps is not None:
        _cached(disk.save, directory, key, f, deps, name, origin, doc, source)
    return _finish(compiled, f, source, name, doc)


def _finish(compiled: types.FunctionType, f: Callable, source: str, name: str, doc: str | None) -> types.FunctionType:
    """The gradient as grad returns it, compiled now or loaded from the cache."""
    compiled.source = source
    compiled.__wrapped__ = f
    compiled.__symback_gradient__ = True  # grad(grad(f)) is refused, not silently grad(f)
    compiled.__qualname__ = name
    compiled.__module__ = getattr(f, "__module__", None)
    compiled.__doc__ = doc
    return compiled


def generate_parts(f: Callable, wrt, with_value: bool, has_aux: bool = False) -> tuple[ir.Gradient, str, list[str], str]:
    """The gradient IR, the generated function's name, its import lines and its def."""
    _pipeline()
    stage, gradient = "parse", None
    try:
        with _collector_paused():
            gradient = gradient_ir(f, wrt, with_value, has_aux)
            stage = "emit"
            name = ("value_and_grad_" if with_value else "grad_") + gradient.function.name
            imports, body = emit_parts(gradient, name)
    except SymbackError:
        raise
    except Exception as err:  # anything else is our bug, not the user's: say so
        raise InternalError(f"{type(err).__name__} in the {stage} stage: {err}",
                            function=getattr(f, "__name__", None),
                            ir=str(gradient) if gradient is not None else "") from err
    return gradient, name, imports, body


def check_wrt(function: ir.Function, wrt: object) -> tuple[ir.Value, ...]:
    """Resolve a wrt spec (name, index, or a tuple of them) to parameters, in order."""
    params = [p.value for p in function.params]
    if wrt is None:
        return tuple(params)
    specs = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    if not specs:
        raise UsageError("wrt is empty", function=function.name,
                         hint="name at least one parameter to differentiate with respect to")
    chosen = set()
    listed = ", ".join(p.name for p in params)
    for spec in specs:
        if isinstance(spec, bool) or not isinstance(spec, (int, str)):
            raise UsageError(f"wrt entries must be parameter names or indices, got {spec!r}",
                             function=function.name, hint=f"the parameters are: {listed}")
        if isinstance(spec, int):
            if not -len(params) <= spec < len(params):
                raise UsageError(f"wrt index {spec} is out of range for {len(params)} parameters",
                                 function=function.name, hint=f"the parameters are: {listed}")
            chosen.add(params[spec])
        else:
            match = [p for p in params if p.name == spec]
            if not match:
                raise UsageError(f"wrt names {spec!r}, which is not a parameter of {function.name}",
                                 function=function.name, hint=f"the parameters are: {listed}")
            chosen.add(match[0])
    return tuple(p for p in params if p in chosen)

