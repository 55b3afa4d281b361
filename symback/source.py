"""Find a function's source: callable -> its `def` as an ast node, located.

inspect finds the text (from the file, or from linecache for code typed in
a notebook, which IPython keeps there); we parse it with the standard
library's `ast` and remember how to turn the parsed, dedented positions
back into absolute lines and columns of the user's file.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from dataclasses import dataclass

from .errors import Loc, NoSource, UnsupportedSyntax, UsageError


@dataclass(frozen=True)
class Source:
    """A function's parsed definition and where it sits in its file."""

    fn: types.FunctionType
    node: ast.FunctionDef
    file: str
    first_line: int       # absolute line of the first source line we parsed
    indent: int           # columns dedent removed
    lines: tuple[str, ...]  # the source lines, as written

    def loc(self, node: ast.AST | None = None) -> Loc:
        """The absolute location of `node` (default: the def line)."""
        node = node or self.node
        rel = getattr(node, "lineno", self.node.lineno)
        text = self.lines[rel - 1] if 0 < rel <= len(self.lines) else ""
        col = getattr(node, "col_offset", 0) + self.indent
        end_col = None
        if getattr(node, "end_lineno", None) == rel and getattr(node, "end_col_offset", None) is not None:
            end_col = node.end_col_offset + self.indent
        return Loc(self.file, self.first_line + rel - 1, col, end_col, text.rstrip("\n"))


def read_source(fn: object) -> Source:
    """Locate and parse the definition of `fn`, or say why it cannot be done."""
    if not callable(fn):
        raise UsageError(f"expected a Python function, got {type(fn).__name__} {fn!r:.60}",
                         hint="pass the function itself, e.g. grad(cost), not cost(...)")
    fn = inspect.unwrap(fn)
    if isinstance(fn, types.MethodType):
        raise UsageError(f"{fn.__qualname__} is a bound method",
                         hint="differentiate a plain function; pass the object's fields as arguments")
    if not isinstance(fn, types.FunctionType):
        name = getattr(fn, "__name__", type(fn).__name__)
        raise NoSource(f"{name} is a {type(fn).__name__}, not a Python function, so it has no source to read",
                       function=name, hint="differentiate a function written with def in a .py file or notebook")
    name = fn.__name__
    file = fn.__code__.co_filename
    if name == "<lambda>":
        raise UnsupportedSyntax("lambda functions are not supported", function=name,
                                loc=Loc(file, fn.__code__.co_firstlineno),
                                hint="write the function with def")
    try:
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as err:
        raise NoSource(f"no source code is available ({err})", function=name,
                       loc=Loc(file, fn.__code__.co_firstlineno),
                       hint="symback reads the function's source: define it in a .py file or a notebook "
                            "cell, not at a plain interactive prompt or with exec()") from err
    first_line = max(first_line, 1)
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = _indent_of(text) - _indent_of(dedented)
    try:
        module = ast.parse(dedented)
    except SyntaxError as err:
        raise NoSource(f"its source could not be parsed on its own ({err.msg})", function=name,
                       loc=Loc(file, first_line), hint="define the function with def at the start of a line") from err
    defs = [node for node in module.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs or defs[0].name != name:
        raise NoSource("its source text does not start with its def", function=name, loc=Loc(file, first_line),
                       hint="define the function with def in a .py file or notebook cell")
    node = defs[0]
    source = Source(fn, node, file, first_line, indent, tuple(lines))
    if isinstance(node, ast.AsyncFunctionDef):
        raise UnsupportedSyntax("async functions are not supported", function=name, loc=source.loc(node),
                                hint="write a plain def")
    return source


def _indent_of(text: str) -> int:
    for line in text.splitlines():
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0
