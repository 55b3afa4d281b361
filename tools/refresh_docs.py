"""Rewrite the output shown in the docs' console blocks with what the commands print now.

Run from the repository root after a change to symback's output:

    python tools/refresh_docs.py [README.md docs/tutorial.md ...]

tests/test_examples.py checks every console block in README.md and docs/*.md
against the real output; this script is its counterpart for fixing them.
Only outputs that no longer match change. One that elides lines with a
single `...` keeps its elision (as many lines before and after it as it
showed); one with several is replaced whole. Review the diff before committing.
"""

import pathlib
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_examples import BLOCK, EXAMPLES_DIR, matches, shell, transcript  # noqa: E402


def refreshed(expected: str, actual: str) -> str:
    if matches(expected, actual):
        return expected.strip("\n")
    shown = expected.strip("\n").splitlines()
    real = [line.rstrip() for line in actual.strip("\n").splitlines()]
    if shown.count("...") != 1:
        return "\n".join(real)
    cut = shown.index("...")
    before, after = cut, len(shown) - cut - 1
    return "\n".join(real[:before] + ["..."] + (real[-after:] if after else []))


def refresh(doc: pathlib.Path) -> bool:
    text = doc.read_text()
    out, last = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(EXAMPLES_DIR, pathlib.Path(tmp) / "examples", ignore=shutil.ignore_patterns("__pycache__"))
        here = pathlib.Path.cwd()
        sys.path.insert(0, str(pathlib.Path(tmp) / "examples"))
        try:
            import os
            os.chdir(tmp)
            for match in BLOCK.finditer(text):
                file, kind, block = match.groups()
                if file:
                    pathlib.Path(file).write_text(block)
                if kind != "console":
                    continue
                start = match.start(3)
                new = "".join(f"$ {command}\n{refreshed(expected, shell(command))}\n"
                              for command, expected in transcript(block))
                out.append(text[last:start] + new)
                last = match.end(3)
        finally:
            os.chdir(here)
            sys.path.pop(0)
    updated = "".join(out) + text[last:]
    if updated != text:
        doc.write_text(updated)
    return updated != text


if __name__ == "__main__":
    docs = [pathlib.Path(p) for p in sys.argv[1:]] or [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for doc in docs:
        if refresh(doc):
            print(f"updated {doc}")
