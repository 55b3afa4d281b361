"""A persistent cache of generated gradients: compile once, load in later processes without SymPy.

    grad(f) ──key──▶ <cache dir>/gradients-1/<key>/<variant>.json ──hit──▶ compile_source(text)
                                                                  ──miss──▶ parse … emit, then save

A gradient depends on f's source and code, on every helper it inlines (and
theirs), on the module constants and closure values those read, on the
options (wrt, has_aux, with_value) and on the versions of symback, SymPy and
Python. Which helpers and constants f reads is known only by parsing it,
which a hit must not do, so the key has two levels:

- the *key* hashes what can be read off f without parsing: its source text,
  its code object (which also catches a file edited after it was imported),
  its defaults, the options and the versions. It names a directory.
- each *variant* in that directory lists its dependencies: a path of names
  from f (`helper`, `helper.SCALE`, `np`) and a fingerprint of what the path
  resolves to now (a number's type and repr, a helper's source and code, a
  module's name and version). A lookup resolves every path again, as Python
  would (closure, globals, builtins), and uses the variant only if every
  fingerprint matches. The dependencies are every global and closure name
  the code of f and of each helper loads: a superset of what parse reads.

An entry is executed only if it is a regular file owned by the user, its JSON
is well formed, its key and versions are this process's, its dependencies
match and the SHA-256 of its source is the one recorded; anything else is a
miss (and is overwritten by the next save). Writes go to a temporary file in
the same directory, then os.replace: a reader sees a whole entry or none.

This module imports no part of the compiler: a hit costs no SymPy import.
"""

from __future__ import annotations

import builtins
import json
import linecache
import os
import sys
import types
from pathlib import Path

try:  # CPython's own SHA-256: hashlib would load OpenSSL, 10 ms of a 50 ms start-up
    from _sha256 import sha256
except ImportError:  # pragma: no cover - Python 3.12 renamed it; other Pythons
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256

FORMAT = 1
SUBDIR = f"gradients-{FORMAT}"  # under the cache root: only this is ours to clear
VARIANTS = 8                    # variants kept per key (e.g. a constant that takes several values)
MAX_DEPENDENCIES = 5000         # more than this and f is not cached (the walk is a tree, see dependencies)

DIR_VARIABLE = "SYMBACK_CACHE_DIR"
OFF_VARIABLE = "SYMBACK_NO_CACHE"


class Uncacheable(Exception):
    """f (or something it reads) has no stable fingerprint: compile it, cache nothing."""


# --- where ------------------------------------------------------------------

def location() -> tuple[Path, str]:
    """The cache root and what chose it (the environment variable, or the default)."""
    if os.environ.get(DIR_VARIABLE):
        return Path(os.environ[DIR_VARIABLE]).expanduser(), DIR_VARIABLE
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "symback" / "Cache", "LOCALAPPDATA"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec: a relative value is ignored
        return Path(xdg) / "symback", "XDG_CACHE_HOME"
    return Path.home() / ".cache" / "symback", "default"


def disabled_by() -> str | None:
    """The environment setting that turns the cache off, or None."""
    value = os.environ.get(OFF_VARIABLE, "")
    if value and value != "0":
        return f"{OFF_VARIABLE}={value}"
    return None


def _private(path: Path, create: bool) -> bool:
    """Whether `path` is a directory only this user can write (made 0700 if `create`)."""
    try:
        if create:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
    except OSError:
        return False
    if not os.path.isdir(path):
        return False
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        return False  # someone else's, or writable by others: never read from it
    return True


def store(create: bool = True) -> Path | None:
    """The directory entries live in, or None if the cache is off or unusable."""
    if disabled_by():
        return None
    root, _ = location()
    if not _private(root, create):
        return None
    entries = root / SUBDIR
    return entries if _private(entries, create) else None


# --- the key ------------------------------------------------------------------

def _sha(text: str) -> str:
    return sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


_STATIC: list[str] = []


def _versions() -> str:
    """symback (its version and a hash of its own source, so an edited checkout
    is a new compiler), SymPy (read from its files, not imported) and Python."""
    if not _STATIC:
        from . import __version__
        here = os.path.dirname(os.path.abspath(__file__))
        digest = sha256()
        for folder, dirs, files in sorted(os.walk(here)):  # symback/optimize/ is the compiler too
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    with open(path, "rb") as handle:
                        digest.update(os.path.relpath(path, here).encode() + b"\0" + handle.read() + b"\0")
        _STATIC.append(f"symback {__version__} {digest.hexdigest()[:32]}; sympy {_sympy_version()}; "
                       f"python {sys.version} {sys.implementation.cache_tag}")
    return _STATIC[0]


def _sympy_version() -> str:
    """A hash of SymPy's release.py (its __version__), found without importing
    SymPy, the same way whether or not this process has imported it."""
    import importlib.util
    try:
        loaded = sys.modules.get("sympy")
        spec = loaded.__spec__ if loaded is not None else importlib.util.find_spec("sympy")
    except (ImportError, ValueError, AttributeError):
        return "missing"
    if spec is None or not spec.submodule_search_locations:
        return "missing"
    release = Path(list(spec.submodule_search_locations)[0]) / "release.py"
    try:
        return _sha(release.read_text(encoding="utf-8"))[:16]  # holds __version__
    except OSError:
        return "unknown"


def _code_hash(code: types.CodeType) -> str:
    """Everything a code object is: bytecode, constants (nested code, recursively),
    names, positions. Equal only for the same text compiled the same way."""
    parts = [code.co_filename, code.co_name, getattr(code, "co_qualname", ""), repr(code.co_firstlineno),
             repr((code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_flags)),
             repr(code.co_names), repr(code.co_varnames), repr(code.co_freevars), repr(code.co_cellvars),
             code.co_code.hex(), getattr(code, "co_linetable", b"").hex(),
             getattr(code, "co_exceptiontable", b"").hex()]
    for const in code.co_consts:
        parts.append(_code_hash(const) if isinstance(const, types.CodeType) else _const(const))
    return _sha("\0".join(parts))


def _const(value: object) -> str:
    if isinstance(value, (tuple, frozenset)):
        items = [_const(item) for item in value]
        return f"{type(value).__name__}({','.join(sorted(items) if isinstance(value, frozenset) else items)})"
    return f"{type(value).__name__}:{value!r}"


def _lines(code: types.CodeType, module_globals: dict) -> str:
    """The source text of the def, from its first line (decorators included) to
    its last; Uncacheable if Python has no text for it (exec, a prompt)."""
    linecache.checkcache(code.co_filename)  # as inspect does: a file edited since is read again
    lines = linecache.getlines(code.co_filename, module_globals)
    last = _last_line(code)
    if not lines or len(lines) < last:
        raise Uncacheable(f"no source for {code.co_name}")
    return "".join(lines[code.co_firstlineno - 1:last])


def _last_line(code: types.CodeType) -> int:
    last = code.co_firstlineno
    for _, _, line in code.co_lines():
        if line is not None and line > last:
            last = line
    if hasattr(code, "co_positions"):
        for _, end, _, _ in code.co_positions():
            if end is not None and end > last:
                last = end
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            last = max(last, _last_line(const))
    return last


def _function_print(fn: types.FunctionType) -> str:
    """A helper's (or f's) source, code and defaults."""
    code = fn.__code__
    defaults = ",".join(fingerprint(d) for d in fn.__defaults__ or ())
    kwdefaults = ",".join(f"{k}={fingerprint(v)}" for k, v in sorted((fn.__kwdefaults__ or {}).items()))
    return _sha("\0".join((_code_hash(code), _lines(code, fn.__globals__), defaults, kwdefaults)))


def key(fn: object, wrt: object, with_value: bool, has_aux: bool) -> str | None:
    """The first-level key of grad(fn, ...): None if fn cannot be cached (not a
    plain function, no source, a wrt that grad will refuse)."""
    if type(fn) is not types.FunctionType or getattr(fn, "__symback_gradient__", False):
        return None
    specs = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    if not all(s is None or (isinstance(s, (int, str)) and not isinstance(s, bool)) for s in specs):
        return None
    try:
        this = _function_print(fn)
    except Uncacheable:
        return None
    options = json.dumps({"wrt": wrt if not isinstance(wrt, list) else tuple(wrt), "with_value": with_value,
                          "has_aux": has_aux})
    return _sha("\0".join((f"symback-cache {FORMAT}", _versions(), fn.__qualname__, this, options)))[:40]


# --- dependencies -------------------------------------------------------------

_ABSENT, _UNBOUND = object(), object()


def _resolve(fn: types.FunctionType, name: str) -> object:
    """`name` in `fn`, as Python (and parse) resolves it: closure, globals, builtins."""
    code = fn.__code__
    if name in code.co_freevars:
        cell = fn.__closure__[code.co_freevars.index(name)]
        try:
            return cell.cell_contents
        except ValueError:
            return _UNBOUND
    if name in fn.__globals__:
        return fn.__globals__[name]
    return vars(builtins).get(name, _ABSENT)


def _in_numpy(module: object) -> bool:
    return isinstance(module, str) and (module == "numpy" or module.startswith("numpy."))


def _is_helper(obj: object) -> bool:
    """A Python function parse may inline (NumPy's own are not walked into)."""
    return type(obj) is types.FunctionType and not _in_numpy(getattr(obj, "__module__", None))


def _numpy_version() -> str:
    numpy = sys.modules.get("numpy")
    return str(getattr(numpy, "__version__", "?"))


def fingerprint(obj: object, depth: int = 0, memo: dict | None = None) -> str:
    """What parse could read from `obj`, as a short string; Uncacheable for an
    object we cannot describe (parse refuses those anyway, but we do not guess).
    `memo` (id -> fingerprint) spares re-hashing a helper met on several paths."""
    if memo is not None and _is_helper(obj):
        if id(obj) not in memo:
            memo[id(obj)] = fingerprint(obj, depth)
        return memo[id(obj)]
    if depth > 20:
        raise Uncacheable("nested too deeply")
    if obj is _ABSENT:
        return "absent"
    if obj is _UNBOUND:
        return "unbound"
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    if obj is None or isinstance(obj, bool):
        return repr(obj)
    if isinstance(obj, int):
        return f"{kind}:{int(obj)!r}"
    if isinstance(obj, float):
        return f"{kind}:{float(obj)!r}"
    if isinstance(obj, (complex, str, bytes)):
        return f"{kind}:{obj!r}"
    if type(obj) in (tuple, list) and len(obj) <= 1000:
        return f"{kind}[{','.join(fingerprint(item, depth + 1) for item in obj)}]"
    if type(obj) is dict and len(obj) <= 1000:
        items = sorted(f"{fingerprint(k, depth + 1)}:{fingerprint(v, depth + 1)}" for k, v in obj.items())
        return f"dict{{{','.join(items)}}}"
    if isinstance(obj, types.ModuleType):
        version = f" {_numpy_version()}" if obj.__name__.split(".")[0] == "numpy" else ""
        if sys.modules.get(obj.__name__) is not obj:
            raise Uncacheable(f"a module named {obj.__name__} that is not the one imported under that name")
        return f"module:{obj.__name__}{version}"
    name = getattr(obj, "__name__", None)
    if isinstance(name, str) and getattr(builtins, name, None) is obj:
        return f"builtin:{name}"
    if _is_helper(obj):
        return f"function:{obj.__module__}.{obj.__qualname__}:{_function_print(obj)[:32]}"
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", name)
    numpy = _in_numpy(type(obj).__module__) or _in_numpy(module)
    if numpy and type(obj).__name__ == "ndarray":
        data = obj.tobytes() if obj.dtype != object else None
        if data is None:
            raise Uncacheable("an object array")
        return f"ndarray:{obj.dtype.str}:{obj.shape}:{sha256(data).hexdigest()[:32]}"
    if numpy and hasattr(obj, "item") and getattr(obj, "shape", None) == ():
        return f"{kind}:{obj.item()!r} {_numpy_version()}"  # np.float32(2.0) and the like
    if (isinstance(obj, type) or callable(obj)) and _importable(obj, module, qualname):
        # a class, math.exp, np.exp, a NumPy dispatcher: parse goes by identity, which
        # its module and name decide (and NumPy's version, for NumPy's)
        version = f" {_numpy_version()}" if numpy else ""
        return f"object:{kind}:{module}.{qualname}{version}"
    raise Uncacheable(f"a {kind}")


def _importable(obj: object, module: object, qualname: object) -> bool:
    """Whether `obj` is what its module and qualified name lead to (math.exp is;
    an object that only carries those names is not)."""
    if not (isinstance(module, str) and isinstance(qualname, str)):
        return False
    found = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found is obj


def _free_names(fn: types.FunctionType) -> list[str]:
    """The global names fn's code (and code nested in it) loads, its closure's, and
    the names its source reads that are no scope's local: parse reads the source,
    which may say more than the code (python -O drops asserts from the code)."""
    import ast
    import dis
    import inspect

    from .source import def_lines
    code = fn.__code__
    names: set[str] = set(code.co_freevars)
    local: set[str] = set()
    todo = [code]
    while todo:
        current = todo.pop()
        local.update(current.co_varnames + current.co_cellvars)
        for instruction in dis.get_instructions(current):
            if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(instruction.argval, str):
                names.add(instruction.argval)
        todo += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    try:  # the text parse reads (see source.read_source)
        _, tree, _ = def_lines(*inspect.findsource(code))
    except (OSError, TypeError, SyntaxError, ValueError) as err:
        raise Uncacheable(f"the source of {code.co_name} does not parse on its own") from err
    if not (tree.body and isinstance(tree.body[0], ast.FunctionDef)):
        raise Uncacheable(f"the source of {code.co_name} is not a def")
    for stmt in tree.body[0].body:  # not its decorators: @grad is no dependency of f
        names.update(node.id for node in ast.walk(stmt) if isinstance(node, ast.Name) and node.id not in local)
    return sorted(names)


def dependencies(fn: types.FunctionType) -> list[list]:
    """[[path, fingerprint], ...]: every name f's code loads, and in each helper it
    reaches, the names that helper's code loads, by path from f. A tree (a helper
    reached two ways is checked both ways); a cycle stops at the repeat."""
    out: list[list] = []
    memo: dict = {}
    todo: list[tuple[tuple[str, ...], types.FunctionType, tuple[int, ...]]] = [((), fn, (id(fn),))]
    while todo:
        path, current, ancestors = todo.pop(0)
        for name in _free_names(current):
            obj = _resolve(current, name)
            out.append([list(path + (name,)), fingerprint(obj, memo=memo)])
            if len(out) > MAX_DEPENDENCIES:
                raise Uncacheable("too many dependencies")
            if _is_helper(obj) and id(obj) not in ancestors:
                todo.append((path + (name,), obj, ancestors + (id(obj),)))
    return out


def _matches(fn: types.FunctionType, deps: object) -> bool:
    """Whether every recorded path still resolves to what it did."""
    if not isinstance(deps, list):
        return False
    seen: dict[tuple, object] = {(): fn}
    memo: dict = {}
    for dep in deps:
        if not (isinstance(dep, list) and len(dep) == 2 and isinstance(dep[0], list) and dep[0]
                and isinstance(dep[1], str)):
            return False
        path = tuple(dep[0])
        owner = seen.get(path[:-1])
        if not _is_helper(owner):
            return False
        obj = _resolve(owner, path[-1])
        try:
            if fingerprint(obj, memo=memo) != dep[1]:
                return False
        except Uncacheable:
            return False
        seen[path] = obj
    return True


# --- entries ------------------------------------------------------------------

def load(directory: Path, key: str, fn: types.FunctionType) -> dict | None:
    """The entry for `key` whose dependencies match fn now, or None (a miss)."""
    folder = directory / key
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith(".")]
    except OSError:
        return None
    for name in sorted(names):
        entry = _read(folder / name)
        if entry is not None and entry["key"] == key and _matches(fn, entry["deps"]):
            return entry
    return None


_FIELDS = {"format": int, "versions": str, "key": str, "function": str, "deps": list, "name": str,
           "origin": str, "doc": (str, type(None)), "source": str, "source_sha256": str}


def _read(path: Path) -> dict | None:
    """A well-formed entry of ours, or None: never raises for a bad file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            import stat
            if not stat.S_ISREG(st.st_mode):
                return None
            if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
                return None  # not ours: never executed
            entry = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or any(not isinstance(entry.get(f), t) for f, t in _FIELDS.items()):
        return None
    if entry["format"] != FORMAT or entry["versions"] != _versions():
        return None
    if _sha(entry["source"]) != entry["source_sha256"]:
        return None  # corrupted (or edited): the text is not what was generated
    return entry


def save(directory: Path, key: str, fn: types.FunctionType, deps: list, name: str, origin: str,
         doc: str | None, source: str) -> Path | None:
    """Write the entry atomically; None (and nothing written) if that fails."""
    entry = {"format": FORMAT, "versions": _versions(), "key": key,
             "function": f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}:{fn.__qualname__}",
             "deps": deps, "name": name, "origin": origin, "doc": doc, "source": source,
             "source_sha256": _sha(source)}
    text = json.dumps(entry, sort_keys=True, indent=0)
    folder = directory / key
    variant = _sha(json.dumps(deps, sort_keys=True))[:24]
    import tempfile
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)  # 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, folder / f"{variant}.json")
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        _prune(folder)
    except OSError:
        return None
    return folder / f"{variant}.json"


def _prune(folder: Path) -> None:
    """Keep the newest VARIANTS entries of one key."""
    try:
        found = [(p.stat().st_mtime, p) for p in folder.glob("*.json") if not p.name.startswith(".")]
    except OSError:
        return
    for _, path in sorted(found, reverse=True)[VARIANTS:]:
        try:
            path.unlink()
        except OSError:
            pass


# --- info and clear (symback cache ...) ----------------------------------------------

def info() -> dict:
    """Where the cache is, whether it is on, its entries and their size in bytes."""
    root, chosen = location()
    entries = root / SUBDIR
    count = size = 0
    keys = set()
    if entries.is_dir():
        for path in entries.glob("*/*.json"):
            if path.name.startswith("."):
                continue
            try:
                size += path.stat().st_size
            except OSError:
                continue
            count += 1
            keys.add(path.parent.name)
    usable = disabled_by() is None and (not root.exists() or _private(root, create=False))
    return {"location": root, "chosen_by": chosen, "disabled_by": disabled_by(), "usable": usable,
            "entries": count, "functions": len(keys), "bytes": size}


def clear() -> int:
    """Remove every entry (and our folders); the number of entries removed."""
    root, _ = location()
    entries = root / SUBDIR
    removed = 0
    if not entries.is_dir():
        return 0
    for folder in entries.iterdir():
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in folder.iterdir():
            if path.suffix == ".json" and path.is_file():
                try:
                    path.unlink()
                except OSError:
                    continue
                removed += not path.name.startswith(".")
        try:
            folder.rmdir()
        except OSError:
            pass
    try:
        entries.rmdir()
    except OSError:
        pass
    return removed
