"""Python source -> a live function, registered with linecache.

The generated code is compiled under a filename of its own and its text is
put in linecache, so a traceback through a gradient shows the generated
line that failed, and inspect.getsource works on it.
"""

from __future__ import annotations

import linecache
import types


def compile_source(source: str, name: str, origin: str) -> types.FunctionType:
    """Execute `source` (a module defining `name`) and return that function.

    `origin` says where the gradient came from, e.g. "model.py:12"; it is
    part of the filename shown in tracebacks.
    """
    filename = f"<symback {name} from {origin}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace: dict = {"__name__": f"symback.generated.{name}"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]
