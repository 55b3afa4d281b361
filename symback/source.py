"""Find a function's source: callable -> its `def` as an ast node, located.

inspect finds the text (from the file, or from linecache for code typed in
a notebook, which IPython keeps there); we parse it with the standard
library's `ast` and remember how to turn the parsed, dedented positions
back into absolute lines and columns of the user's file.
"""

from __future__ import annotations

import ast
import dataclasses
import dis
import inspect
import re
import textwrap
import types
from dataclasses import dataclass
from itertools import compress

from .errors import Loc, NoSource, UnsupportedSyntax, UsageError


@dataclass(frozen=True)
class Source:
    """A function's parsed definition and where it sits in its file."""

    fn: types.FunctionType  # for a nested def, the function that holds it
    node: ast.FunctionDef
    file: str
    first_line: int       # absolute line of the first source line we parsed
    indent: int           # columns dedent removed
    lines: tuple[str, ...]  # the source lines, as written
    calls: tuple[tuple[str, int], ...] = ()  # lowered inline: the chain of calls that led here (Loc.calls)

    def loc(self, node: ast.AST | None = None) -> Loc:
        """The absolute location of `node` (default: the def line)."""
        node = node or self.node
        rel = getattr(node, "lineno", self.node.lineno)
        text = self.lines[rel - 1] if 0 < rel <= len(self.lines) else ""
        col = getattr(node, "col_offset", 0) + self.indent
        end_col = None
        if getattr(node, "end_lineno", None) == rel and getattr(node, "end_col_offset", None) is not None:
            end_col = node.end_col_offset + self.indent
        return Loc(self.file, self.first_line + rel - 1, col, end_col, text.rstrip("\n"), self.calls)

    def inner(self, node: ast.FunctionDef) -> "Source":
        """A def written inside this one (or a lambda, as a def): parsed with
        this text, so its positions map to the file as this one's do; `fn`
        stays the function whose code holds it, for its globals and closure."""
        return dataclasses.replace(self, node=node)


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """ast.iter_child_nodes(node) as a list, in the same order, at a third of the
    cost (no generators)."""
    out = []
    for field in node._fields:
        value = getattr(node, field, None)
        if isinstance(value, ast.AST):
            out.append(value)
        elif isinstance(value, list):
            out += [item for item in value if isinstance(item, ast.AST)]
    return out


class Walked:
    """Every node of a def, walked once as ast.walk does (breadth first), and
    indexed by type. Before lowering a def, parse looks at its nodes several
    times (the names it mentions, its scopes, its list parameters, NumPy);
    on a 10,000-statement body each look reads only the types it asks for,
    not every node again."""

    def __init__(self, node: ast.AST):
        self.node = node
        self.order = [node]  # every node, the def first: list(ast.walk(node))
        self.by_type: dict[type, list[ast.AST]] = {}
        # one loop, child_nodes written out: this runs once per node of the def
        order, by_type, AST = self.order, self.by_type, ast.AST
        for sub in order:  # grows as it goes: the children queue behind the nodes before them
            found = by_type.get(type(sub))
            if found is None:
                by_type[type(sub)] = [sub]
            else:
                found.append(sub)
            for field in sub._fields:
                value = getattr(sub, field, None)
                if isinstance(value, AST):
                    order.append(value)
                elif isinstance(value, list):
                    order += [item for item in value if isinstance(item, AST)]

    def of(self, *kinds: type) -> list[ast.AST]:
        """The nodes of these exact types (not subclasses): each type's in walk
        order, type after type, so only for looks whose result does not depend
        on the order between types."""
        out: list[ast.AST] = []
        for kind in kinds:
            out += self.by_type.get(kind, ())
        return out

    def inside(self, kinds) -> bool:
        """Whether a node other than the def itself has one of these exact types."""
        return any(len(self.by_type.get(kind, ())) > (kind is type(self.node)) for kind in kinds)


def read_source(fn: object) -> Source:
    """Locate and parse the definition of `fn`, or say why it cannot be done."""
    if not callable(fn):
        raise UsageError(f"expected a Python function, got {type(fn).__name__} {fn!r:.60}",
                         hint="pass the function itself, e.g. grad(cost), not cost(...)")
    # Never inspect.unwrap: a decorator's wrapper (2 * fn(x)) computes something
    # else than the function it wraps. We differentiate the function given.
    if isinstance(fn, types.MethodType):
        raise UsageError(f"{fn.__qualname__} is a bound method",
                         hint="differentiate a plain function; pass the object's fields as arguments")
    if not isinstance(fn, types.FunctionType):
        name = getattr(fn, "__name__", type(fn).__name__)
        raise NoSource(f"{name} is a {type(fn).__name__}, not a Python function, so it has no source to read",
                       function=name, hint="differentiate a function written with def in a .py file or notebook")
    if getattr(fn, "__symback_gradient__", False):
        raise UsageError(f"{fn.__name__} is a gradient symback generated; higher derivatives "
                         "(the gradient of a gradient) are not supported yet",
                         function=fn.__name__, hint="differentiate the original function, "
                         f"{getattr(fn.__wrapped__, '__name__', 'f')}, once")
    name = fn.__code__.co_name  # the def's own name (functools.wraps may have changed __name__)
    file = fn.__code__.co_filename
    if name == "<lambda>":
        raise UnsupportedSyntax("lambda functions are not supported", function=name,
                                loc=Loc(file, fn.__code__.co_firstlineno),
                                hint="write the function with def")
    try:
        # inspect.getsourcelines(fn.__code__), in two steps: the file's lines, then the block
        all_lines, start = inspect.findsource(fn.__code__)
    except (OSError, TypeError) as err:
        raise NoSource(f"no source code is available ({err})", function=name,
                       loc=Loc(file, fn.__code__.co_firstlineno),
                       hint="symback reads the function's source: define it in a .py file or a notebook "
                            "cell, not at a plain interactive prompt or with exec()") from err
    first_line = max(start + 1, 1)
    try:
        lines, module, indent = def_lines(all_lines, start)
    except SyntaxError as err:
        raise NoSource(f"its source could not be parsed on its own ({err.msg})", function=name,
                       loc=Loc(file, first_line), hint="define the function with def at the start of a line") from err
    defs = [node for node in module.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs or defs[0].name != name:
        raise NoSource("its source text does not start with its def", function=name, loc=Loc(file, first_line),
                       hint="define the function with def in a .py file or notebook cell")
    node = defs[0]
    dedented = textwrap.dedent("".join(lines))
    if not _same_code(fn.__code__, dedented, parsed=module):
        raise NoSource(f"the source in {file} no longer matches the function that runs (the file was "
                       "edited after it was imported)", function=name, loc=Loc(file, first_line),
                       hint="reload the module (importlib.reload) or restart Python, so that the "
                            "function runs the code symback reads")
    source = Source(fn, node, file, first_line, indent, tuple(lines))
    if isinstance(node, ast.AsyncFunctionDef):
        raise UnsupportedSyntax("async functions are not supported", function=name, loc=source.loc(node),
                                hint="write a plain def")
    return source


def def_lines(all_lines: list[str], start: int) -> tuple[list[str], ast.Module, int]:
    """The lines of the def at all_lines[start] (what inspect.getsourcelines gives),
    the module ast.parse makes of them dedented, and the columns dedent removed.
    SyntaxError if they do not parse on their own."""
    lines = _block_by_indent(all_lines, start)
    text = "".join(lines)
    try:
        module = ast.parse(textwrap.dedent(text))
    except SyntaxError:
        block = inspect.getblock(all_lines[start:])  # what tokenizing finds, where indentation misled us
        if block == lines:
            raise
        lines, text = block, "".join(block)
        module = ast.parse(textwrap.dedent(text))
    else:
        lines = _with_trailing_comments(module, all_lines, start, lines, _indent_of(text) - _indent_of(textwrap.dedent(text)))
        text = "".join(lines)
    return lines, module, _indent_of(text) - _indent_of(textwrap.dedent(text))


_DEF = re.compile(r"\s*(async\s+)?def\s")


def _block_by_indent(lines: list[str], start: int) -> list[str]:
    """The def at lines[start] (decorators first): up to its last code line before
    a line indented no deeper than the def. inspect.getblock tokenizes the whole
    def for this (a quarter of a second for 10,000 lines); when indentation
    misleads (a string or bracket continued at the margin), the text does not
    parse and read_source asks inspect.getblock instead."""
    first = lines[start]
    indent = len(first) - len(first.lstrip())
    at = start
    while at < len(lines) and not (_DEF.match(lines[at]) and len(lines[at]) - len(lines[at].lstrip()) == indent):
        at += 1  # past the decorators
    if at == len(lines):
        return inspect.getblock(lines[start:])
    last = at + 1
    for i in range(at + 1, len(lines)):
        line = lines[i]
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue  # blank lines and comments belong to no block
        if len(line) - len(stripped) <= indent:
            break
        last = i + 1
    return lines[start:last]


def _with_trailing_comments(module: ast.Module, all_lines: list[str], start: int, lines: list[str],
                            indent: int) -> list[str]:
    """`lines` and the comment lines after it indented at least as deep as the body,
    as inspect.getblock keeps them (so the text, and its hash, are what they were)."""
    defs = [node for node in module.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs or defs[0].body[0].lineno == defs[0].lineno:
        return lines  # no body of its own lines: a one-line def
    body_col = defs[0].body[0].col_offset + indent
    end = start + len(lines)
    last = end
    for i in range(end, len(all_lines)):
        stripped = all_lines[i].lstrip()
        if stripped and not stripped.startswith("#"):
            break
        if stripped and len(all_lines[i]) - len(stripped) >= body_col:
            last = i + 1
    return lines + all_lines[end:last]


def _indent_of(text: str) -> int:
    for line in text.splitlines():
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


# The operations a fingerprint compares (by opcode, from the raw bytecode):
# the same in a def compiled alone and inside its module, unlike the loads
# (3.11 calls `math.sin(...)` with LOAD_ATTR when `math` is imported in the
# same file, else LOAD_METHOD) and the jumps that depend on them.
_OPERATIONS = frozenset(code for name, code in dis.opmap.items()
                        if name in ("BINARY_OP", "COMPARE_OP", "IS_OP", "CONTAINS_OP")
                        or name.startswith(("UNARY_", "BINARY_")))
_KEEP = bytes(1 if code in _OPERATIONS else 0 for code in range(256))


def _same_code(code: types.CodeType, text: str, parsed: ast.Module | None = None) -> bool:
    """Whether `text` (a def) compiles to what `code` runs: the same names,
    constants and operations in the same order. False when the file was
    edited after the module was imported; True when we cannot tell.
    `parsed`: the text as ast.parse made it, compiled as it is where the def
    needs no enclosing scope (so a 10,000-line def is not parsed twice)."""
    if parsed is not None and not code.co_freevars:
        source = parsed
    else:
        scope = f"def __symback_scope__():\n    {' = '.join(code.co_freevars)} = None\n" if code.co_freevars else ""
        source = scope + (textwrap.indent(text, "    ") if scope else text)
    try:
        module = compile(source, code.co_filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return True
    found = _find_code(module, code.co_name)
    return found is None or _fingerprint(found) == _fingerprint(code)


def _find_code(code: types.CodeType, name: str) -> types.CodeType | None:
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_name == name:
                return const
            inner = _find_code(const, name)
            if inner is not None:
                return inner
    return None


def _fingerprint(code: types.CodeType) -> tuple:
    """What a def compiles to, as far as it shows the source: its names,
    constants and operations (an edit like x**4 -> x**3 or a + b -> a - b)."""
    raw = code.co_code
    opcodes, args = raw[::2], raw[1::2]
    kept = opcodes.translate(_KEEP)  # 1 where the opcode is an operation: C speed on 10,000-line defs
    ops = (bytes(compress(opcodes, kept)), bytes(compress(args, kept)))
    consts = tuple(_fingerprint(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts)
    return (code.co_argcount, code.co_kwonlyargcount, code.co_varnames, code.co_names, consts, ops)
