"""The command line: `symback generate`, `symback explain` and `symback cache` (also `python -m symback`).

Exit codes: 0 done (or, with --check, the file is current); 1 the file is
stale or missing (--check); 2 bad input: a one-line message naming the
problem and where, no traceback unless --debug.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from . import __version__
from .errors import SymbackError, UsageError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SymbackError as err:
        if args.debug:
            traceback.print_exc()
        print(f"symback: error: {err.one_line()}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symback", description="Reverse-mode gradients of plain Python functions, as Python source.")
    parser.add_argument("--version", action="version", version=f"symback {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser(
        "generate", help="write a standalone module with the gradients of functions in .py files",
        description="Write grad_FUNC and value_and_grad_FUNC for each PATH:FUNC into one standalone "
                    "module (stdout without -o). The file is read, not run, unless --import.")
    gen.add_argument("targets", nargs="+", metavar="PATH:FUNC", help="a file and a top-level function in it")
    gen.add_argument("-o", "--output", metavar="OUT.py", help="write the module here instead of stdout")
    gen.add_argument("--check", action="store_true",
                     help="write nothing; exit 0 if OUT.py is current, 1 with the reason if missing or stale")
    _common(gen)
    gen.set_defaults(run=_generate)

    exp = commands.add_parser(
        "explain", help="show the computation graph, the local partial on every edge and the chain rule",
        description="Show each value, its expression, the local partial on each incoming edge and the "
                    "chain-rule paths to each input. The file is read, not run, unless --import.")
    exp.add_argument("target", metavar="PATH:FUNC", help="a file and a top-level function in it")
    exp.add_argument("--format", choices=("text", "latex", "dot", "html"),
                     help="text (default), LaTeX (a standalone document), a Graphviz dot graph, or one "
                          "self-contained HTML page (graph, table and, with --at, a step-through of the "
                          "reverse sweep)")
    exp.add_argument("-o", "--output", metavar="FILE", help="write the --format output to FILE instead of stdout")
    exp.add_argument("--png", metavar="FILE", help="draw the graph into FILE as PNG (needs Graphviz's dot)")
    exp.add_argument("--svg", metavar="FILE", help="draw the graph into FILE as SVG (needs Graphviz's dot)")
    exp.add_argument("--at", metavar="NAME=VALUE,...",
                     help="numbers at this point: every value, local partial and adjoint, e.g. "
                          "--at w=0.5,b=0.1 or --at 'xs=[1.0, 2.0],w=0.5' (a list in brackets)")
    _common(exp)
    exp.set_defaults(run=_explain)

    cache = commands.add_parser(
        "cache", help="show or clear the cache of generated gradients",
        description="grad() keeps the gradients it generates on disk, so that a later process loads "
                    "them without SymPy. `info` shows where and how much; `clear` removes them.")
    cache.add_argument("action", choices=("info", "clear"), help="info: location, entries, size; clear: remove all")
    cache.add_argument("--debug", action="store_true", help="show the traceback of an error")
    cache.set_defaults(run=_cache)
    return parser


def _common(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--wrt", metavar="A,B", help="differentiate only these parameters (default: all)")
    sub.add_argument("--import", dest="run_module", action="store_true",
                     help="import the module (runs its top-level code) to resolve what reading it cannot")
    sub.add_argument("--debug", action="store_true", help="show the traceback of an error")


def _wrt(args) -> tuple[str, ...] | None:
    if not args.wrt:
        return None
    names = tuple(name.strip() for name in args.wrt.split(",") if name.strip())
    if not names:
        raise UsageError(f"--wrt {args.wrt!r} names no parameter", hint="give names separated by commas, e.g. --wrt w,b")
    return names


def _point(text: str) -> dict:
    """--at 'w=0.5,xs=[1.0, 2.0]' -> {'w': 0.5, 'xs': [1.0, 2.0]}: commas inside brackets belong to a list."""
    import ast
    parts, depth, start = [], 0, 0
    for k, char in enumerate(text):
        depth += {"[": 1, "(": 1, "]": -1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:k])
            start = k + 1
    parts.append(text[start:])
    syntax = "write --at NAME=NUMBER,... with lists in brackets, e.g. --at 'w=0.5,xs=[1.0, 2.0]'"
    point = {}
    for part in (p.strip() for p in parts):
        if not part:
            continue
        name, equals, value = part.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise UsageError(f"--at: {part!r} is not NAME=VALUE", hint=syntax)
        try:
            point[name] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise UsageError(f"--at: the value of {name} ({value.strip()!r}) is not a number or a list of numbers",
                             hint=syntax) from None
    if not point:
        raise UsageError("--at names no parameter", hint=syntax)
    return point


def _generate(args) -> int:
    from .generate import generate_module, parse_target, staleness  # SymPy: only for these commands
    targets = [parse_target(spec) for spec in args.targets]
    wrt = _wrt(args)
    command = " ".join(["symback generate", *map(str, targets)]
                       + (["-o", Path(args.output).as_posix()] if args.output else [])
                       + (["--wrt", ",".join(wrt)] if wrt else [])
                       + (["--import"] if args.run_module else []))
    if args.check and not args.output:
        raise UsageError("--check needs -o OUT.py, the file to check", hint="add -o with the generated file")
    text = generate_module(targets, wrt, run_module=args.run_module, command=command)
    if args.check:
        reason = staleness(Path(args.output), text)
        if reason:
            print(f"symback: {reason} (run: {command})", file=sys.stderr)
            return 1
        print(f"symback: {args.output} is up to date")
        return 0
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        defined = ", ".join(f"grad_{t.name}, value_and_grad_{t.name}" for t in targets)
        print(f"symback: wrote {args.output} ({defined})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _explain(args) -> int:
    from .explain import explain
    from .generate import parse_target
    from .static import load_function
    target = parse_target(args.target)
    explanation = explain(load_function(target.path, target.name, run_module=args.run_module), wrt=_wrt(args))
    if args.at is not None:
        explanation = explanation.at(**_point(args.at))
    return _write_explanation(args, explanation)


def _write_explanation(args, explanation) -> int:
    """The pictures (--png, --svg) and the --format output (stdout, or -o FILE)."""
    from .explain import dot
    for fmt, path in (("png", args.png), ("svg", args.svg)):
        if path:
            picture = dot.render(explanation.to_dot(), fmt, what=f"--{fmt}")
            _write(path, picture)
            print(f"symback: wrote {path}", file=sys.stderr)
    if (args.png or args.svg) and args.format is None and not args.output:
        return 0  # only the pictures were asked for
    if args.format == "latex":  # a whole document: `pdflatex` compiles it as it is
        text = explanation.latex_document()
    elif args.format == "dot":
        text = explanation.to_dot()
    elif args.format == "html":
        from .explain.html import page
        text = page(explanation)
    else:
        text = str(explanation)
    if args.output:
        _write(args.output, text.encode("utf-8"))
        print(f"symback: wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}", hint="choose a file in a directory you can write to") from None


def _cache(args) -> int:
    from . import cache
    if args.action == "clear":
        root, _ = cache.location()
        removed = cache.clear()
        print(f"symback: removed {removed} cached gradient{'s' if removed != 1 else ''} from {root}")
        return 0
    state = cache.info()
    chosen = {"default": "the default", "XDG_CACHE_HOME": "from $XDG_CACHE_HOME",
              cache.DIR_VARIABLE: f"from ${cache.DIR_VARIABLE}"}.get(state["chosen_by"], state["chosen_by"])
    if state["disabled_by"]:
        status = f"off ({state['disabled_by']})"
    elif not state["usable"]:
        status = "off: the directory is not private to this user (owned by another, or writable by others)"
    else:
        status = "on"
    print(f"location  {state['location']} ({chosen})")
    print(f"status    {status}")
    print(f"entries   {state['entries']} gradient{'s' if state['entries'] != 1 else ''} "
          f"of {state['functions']} function{'s' if state['functions'] != 1 else ''}")
    print(f"size      {_size(state['bytes'])}")
    return 0


def _size(n: int) -> str:
    for unit in ("bytes", "kB", "MB"):
        if n < 1000 or unit == "MB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def main_exit() -> None:
    """The `symback` console script."""
    sys.exit(main())
