"""Every failure a user can cause, as one tree of exceptions, plus Loc.

    SymbackError
    ├── UsageError          grad() called wrongly: not a function, bad wrt
    ├── NoSource            the function has no Python source to read
    ├── UnsupportedSyntax   parse: a statement or expression we do not lower
    ├── UnsupportedCall     parse: a call to something we cannot differentiate
    ├── NotDifferentiable   derive: an expression with no usable derivative
    └── InternalError       our bug: says "please report", shows the IR

A message names where (function, file, absolute line), shows the line with
the construct underlined, says what is wrong and what to do instead:

    symback: cannot differentiate cost() at model.py:14
        total = sum(w * x for x in xs)
                    ^^^^^^^^^^^^^^^^^
    generator expressions are not supported; write a for loop that adds to a running total.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Loc:
    """A place in the user's source: absolute line, 0-based columns."""

    file: str
    line: int
    col: int = 0
    end_col: int | None = None
    text: str = ""  # the whole source line, as written
    # in an inlined helper: (helper name, absolute line of the call) pairs, outermost call first
    calls: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def excerpt(self) -> str:
        """The source line with the construct underlined, or '' if unknown."""
        if not self.text.strip():
            return ""
        stripped = self.text.rstrip()
        indent = len(stripped) - len(stripped.lstrip())
        end = self.end_col if self.end_col is not None else len(stripped)
        end = min(max(end, self.col + 1), len(stripped))
        start = max(self.col, indent)
        carets = " " * (start - indent) + "^" * max(end - start, 1)
        return f"    {stripped[indent:]}\n    {carets}"


class SymbackError(Exception):
    """Base of every error symback raises for a problem in the user's input."""

    def __init__(self, what: str, *, function: str | None = None,
                 loc: Loc | None = None, hint: str = ""):
        self.what = what
        self.function = function
        self.loc = loc
        self.hint = hint
        self.callers: list[tuple[str, Loc]] = []  # (function, call site), innermost first
        super().__init__(self._message())

    def called_from(self, function: str, loc: Loc) -> "SymbackError":
        """Note that the failing function was reached by a call in `function` at `loc`."""
        self.callers.append((function, loc))
        self.args = (self._message(),)
        return self

    def one_line(self) -> str:
        """The message on one line, for a command line: where, what, what to do."""
        where = f"{self.loc.file}:{self.loc.line}: " if self.loc else ""
        if self.function:
            where += f"cannot differentiate {self.function}(): "
        hint = self.hint.split("\n")[0]
        text = where + self.what + ("; " + hint if hint else "")
        if self.callers:
            function, loc = self.callers[-1]
            text += f" (called from {function}() at {loc})"
        return text

    def _message(self) -> str:
        head = "symback: "
        if self.function and self.loc:
            head += f"cannot differentiate {self.function}() at {self.loc}"
        elif self.function:
            head += f"cannot differentiate {self.function}()"
        elif self.loc:
            head += f"error at {self.loc}"
        else:
            head = "symback: error"
        lines = [head]
        if self.loc and self.loc.excerpt():
            lines.append(self.loc.excerpt())
        tail = self.what
        if self.hint:
            tail += "; " + self.hint
        lines.append(tail if tail.endswith(".") else tail + ".")
        for function, loc in self.callers:
            lines.append(f"  (called from {function}() at {loc}: {loc.text.strip()})")
        return "\n".join(lines)


class UsageError(SymbackError):
    """symback's API was called with something it cannot use."""


class NoSource(SymbackError):
    """The function's source text cannot be found (builtin, prompt, exec)."""


class UnsupportedSyntax(SymbackError):
    """A statement or expression that symback does not lower."""


class UnsupportedCall(SymbackError):
    """A call to a function symback does not know how to differentiate."""


class NotDifferentiable(SymbackError):
    """An expression whose derivative does not exist or cannot be printed."""


class InternalError(SymbackError):
    """A bug in symback itself, not in the user's code."""

    def __init__(self, what: str, *, function: str | None = None,
                 loc: Loc | None = None, ir: str = ""):
        hint = "this is a bug in symback: please report it with the function that triggered it"
        if ir:
            hint += "\nIR at the time:\n" + ir
        super().__init__(what, function=function, loc=loc, hint=hint)
