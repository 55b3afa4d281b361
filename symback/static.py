"""A function from a .py file, found without running the file.

Generating a gradient must not run someone else's code, so `symback
generate` and `symback explain` do not import the user's module. They parse
it with `ast` and build the module's namespace from what can be known
without executing anything the user wrote:

- `import math`, `import math as m`, `from math import exp, pi as PI`;
- module-level numbers: `NAME = <expr>` (or annotated) where the expression
  is arithmetic over numbers, math functions and constants, and numbers
  defined above it;
- every top-level `def`, compiled on its own with its decorators and
  annotations dropped and its defaults replaced by their numeric values, so
  creating the function object runs nothing (its body runs only if called,
  and symback never calls it: it reads its source).

Any other binding (other imports, calls, classes, names bound inside an
`if`, `for` or `try` at module level) becomes an `Unresolved` marker that
says where it was bound; parse refuses a function that reads one and
suggests `--import`, which imports the module the ordinary way.
"""

from __future__ import annotations

import ast
import importlib.util
import math
import operator
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from .errors import Loc, NoSource, UsageError


@dataclass(frozen=True)
class Unresolved:
    """A module-level name whose value static resolution cannot know."""

    name: str
    loc: Loc
    why: str


def load_function(path: str, name: str, *, run_module: bool = False) -> types.FunctionType:
    """The function `name` defined at the top level of the file `path`.

    With run_module, the file is imported (its top-level code runs) and the
    function is taken from it; otherwise it is resolved statically.
    """
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"no such file: {path}", hint="give the path of a .py file, e.g. model.py:cost")
    text = _read(file)
    tree = _parse(text, path)
    if run_module:
        return _imported(file, name)
    namespace = _namespace(tree, text, path, file.stem)  # the path as given: messages show it so
    found = namespace.get(name)
    if isinstance(found, types.FunctionType):
        return found
    defined = sorted(k for k, v in namespace.items() if isinstance(v, types.FunctionType))
    if isinstance(found, Unresolved):
        raise UsageError(f"{name} in {path} is not a plain top-level def ({found.why} at line {found.loc.line})",
                         hint="name a function defined with def at the top level of the file, "
                              "or pass --import to import the module")
    listed = ", ".join(defined) if defined else "none"
    raise UsageError(f"{path} defines no top-level function {name!r} (functions there: {listed})",
                     hint="check the name after the colon in PATH:FUNC")


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read {file}: {err}", hint="give a readable UTF-8 .py file") from err


def _parse(text: str, path: str) -> ast.Module:
    try:
        return ast.parse(text, filename=path)
    except SyntaxError as err:
        line = err.lineno or 0
        shown = text.splitlines()[line - 1] if 0 < line <= len(text.splitlines()) else ""
        raise NoSource(f"the file has a syntax error: {err.msg}",
                       loc=Loc(path, line, max((err.offset or 1) - 1, 0), None, shown),
                       hint="fix the syntax error; the file must be valid Python") from err


def _imported(file: Path, name: str) -> types.FunctionType:
    """Import the file as a module (runs its top-level code) and take `name`."""
    module_name = f"_symback_user_{file.stem}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(file.resolve().parent))  # its own sibling imports work as when run
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as err:  # the user's module failed or exited: report it, it is not ours
        raise UsageError(f"importing {file} raised {type(err).__name__}: {err}",
                         hint="fix the module, or drop --import to resolve it without running it") from err
    finally:
        sys.path.remove(str(file.resolve().parent))
    found = getattr(module, name, None)
    if not isinstance(found, types.FunctionType):
        raise UsageError(f"{file} defines no function {name!r}", hint="check the name after the colon in PATH:FUNC")
    return found


def _namespace(tree: ast.Module, text: str, file: str, module: str) -> dict[str, object]:
    lines = text.splitlines()
    namespace: dict[str, object] = {"__name__": module, "__file__": file}

    def loc(node: ast.AST) -> Loc:
        line = getattr(node, "lineno", 0)
        return Loc(file, line, getattr(node, "col_offset", 0), None, lines[line - 1] if 0 < line <= len(lines) else "")

    def unresolved(names, node: ast.AST, why: str) -> None:
        for bound in names:
            namespace[bound] = Unresolved(bound, loc(node), why)

    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                bound = alias.asname or alias.name.split(".")[0]
                module_object = _known_module(alias.name if alias.asname else bound)
                if module_object is not None:
                    namespace[bound] = module_object
                else:
                    unresolved([bound], stmt, f"import {alias.name}")
        elif isinstance(stmt, ast.ImportFrom):
            module_object = _known_module(stmt.module) if not stmt.level else None
            if stmt.module == "math" and not stmt.level and [a.name for a in stmt.names] == ["*"]:
                namespace.update((k, v) for k, v in vars(math).items() if not k.startswith("_"))
                continue
            for alias in stmt.names:
                bound = alias.asname or alias.name
                if module_object is not None and hasattr(module_object, alias.name):
                    namespace[bound] = getattr(module_object, alias.name)
                elif alias.name != "*":
                    unresolved([bound], stmt, f"from {'.' * stmt.level}{stmt.module or ''} import {alias.name}")
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = _number(stmt.value, namespace) if stmt.value is not None else None
            for target in targets:
                names = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
                if isinstance(target, ast.Name) and value is not None:
                    namespace[target.id] = value
                else:
                    unresolved(names, stmt, f"{target.id if isinstance(target, ast.Name) else 'it'} "
                                            "is not assigned a number computable without running the file")
        elif isinstance(stmt, ast.FunctionDef):
            namespace[stmt.name] = _define(stmt, namespace, file) or Unresolved(
                stmt.name, loc(stmt), "a default value is neither a number nor a literal")
        else:  # class, if, for, try, with, an expression...: bindings inside are not known
            kind = _KINDS.get(type(stmt), "a top-level statement")
            unresolved(_bound_names(stmt), stmt, f"it is bound inside {kind}")
    return namespace


def _known_module(name: str | None) -> types.ModuleType | None:
    """The modules symback knows the functions of: math, and NumPy (imported
    here, if installed; it runs no user code) with its linalg."""
    if name == "math":
        return math
    if name in ("numpy", "numpy.linalg"):
        try:
            import numpy
        except ImportError:
            return None  # then `np` is unresolved, and a use of it says why
        return numpy if name == "numpy" else numpy.linalg
    return None


def _define(node: ast.FunctionDef, namespace: dict, file: str) -> types.FunctionType | None:
    """The function object for `node`, made without running any user code."""
    args = node.args
    defaults = [_default(d, namespace) for d in args.defaults]
    kw_defaults = [None if d is None else _default(d, namespace) for d in args.kw_defaults]
    if any(d is _UNKNOWN for d in defaults + kw_defaults):
        return None
    bare = ast.FunctionDef(
        name=node.name,
        args=ast.arguments(
            posonlyargs=[ast.arg(a.arg) for a in args.posonlyargs],
            args=[ast.arg(a.arg) for a in args.args],
            vararg=args.vararg and ast.arg(args.vararg.arg),
            kwonlyargs=[ast.arg(a.arg) for a in args.kwonlyargs],
            kw_defaults=[None if k is None else ast.Constant(d) for d, k in zip(kw_defaults, args.kw_defaults)],
            kwarg=args.kwarg and ast.arg(args.kwarg.arg),
            defaults=[ast.Constant(d) for d in defaults]),
        body=node.body, decorator_list=[], returns=None, type_comment=None)
    if sys.version_info >= (3, 12):
        bare.type_params = []
    ast.copy_location(bare, node)
    module = ast.fix_missing_locations(ast.Module(body=[bare], type_ignores=[]))
    scope: dict = {}
    # defining a def with constant defaults and no decorators runs none of its body
    exec(compile(module, file, "exec"), namespace, scope)  # noqa: S102
    return scope[node.name]


_UNKNOWN = object()


def _default(node: ast.AST, namespace: dict) -> object:
    """A parameter's default: a number computable here, or a literal (None, a string...)."""
    number = _number(node, namespace)
    if number is not None:
        return number
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNKNOWN
    return value if isinstance(value, (str, bytes, bool, complex, type(None))) else _UNKNOWN


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_BUILTINS = {"abs": abs, "min": min, "max": max, "float": float, "int": int, "round": round}


def _number(node: ast.AST, namespace: dict) -> int | float | None:
    """The value of a constant numeric expression, or None if it is not one."""
    try:
        value = _evaluate(node, namespace)
    except (ArithmeticError, ValueError, TypeError, OverflowError):
        return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _evaluate(node: ast.AST, namespace: dict):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand, namespace)
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left, namespace), _evaluate(node.right, namespace)
        if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int) and abs(right) > 64:
            raise ValueError("an integer power too large to evaluate here")
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.Name):
        value = namespace.get(node.id, _BUILTINS.get(node.id))
        if isinstance(value, (int, float)) or callable(value):
            return value
        raise ValueError(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and namespace.get(node.value.id) is math:
        return getattr(math, node.attr)
    if isinstance(node, ast.Call) and not node.keywords:
        func = _evaluate(node.func, namespace)
        if func in _BUILTINS.values() or getattr(func, "__module__", None) == "math" or func in vars(math).values():
            return func(*(_evaluate(arg, namespace) for arg in node.args))
    raise ValueError(ast.dump(node))


_KINDS = {ast.If: "an if block", ast.For: "a for loop", ast.While: "a while loop", ast.Try: "a try block",
          ast.With: "a with block", ast.ClassDef: "a class", ast.AsyncFunctionDef: "an async def"}


def _bound_names(stmt: ast.stmt) -> list[str]:
    names = []
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [alias.asname or alias.name.split(".")[0] for alias in node.names]
    return names
