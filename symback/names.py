"""Every name symback generates, chosen so that none collides with the user's.

A Namer starts from the set of names that must not be taken (every name the
function's source mentions, Python keywords and builtins) and hands out
fresh ones derived from source names: SSA versions `x_1`, `x_2`; adjoints
`x_bar`; shared subexpressions `_t1`, `_t2`. A clash is broken with a
number (`x_bar2`), never a random suffix, so output is deterministic.
"""

from __future__ import annotations

import builtins
import keyword


def python_reserved() -> frozenset[str]:
    """Keywords and builtins: never usable as generated names."""
    return frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


class Namer:
    """Hands out unique identifiers; remembers every name already given."""

    def __init__(self, reserved: frozenset[str] | set[str] = frozenset()):
        self._taken: set[str] = set(reserved) | python_reserved()
        self._avoid: set[str] = set()  # names fresh() must not make, though a user's variable may claim them
        self._next: dict[str, int] = {}  # base -> first number not yet tried: keeps fresh() O(1)

    def avoid(self, names) -> None:
        """Never make these with fresh(): an inlined helper's own variables, which its
        rewritten code (`_ret_1 = ...` for a return inside a loop) must not overwrite.
        Unlike claim(), the caller's variables of those names still keep their names."""
        self._avoid.update(names)

    def is_taken(self, name: str) -> bool:
        return name in self._taken

    def claim(self, name: str) -> str:
        """Take `name` itself (a user's own variable); it must be free to the caller."""
        self._taken.add(name)
        return name

    def fresh(self, base: str, first: int | None = None) -> str:
        """`base` if free, else base2, base3, ... (or base<first>, ... if given)."""
        if first is None and base not in self._taken and base not in self._avoid:
            self._taken.add(base)
            return base
        n = self._next.get(base, 2 if first is None else first)
        while f"{base}{n}" in self._taken or f"{base}{n}" in self._avoid:
            n += 1
        name = f"{base}{n}"
        self._taken.add(name)
        self._next[base] = n + 1
        return name

    def version(self, name: str) -> str:
        """A new SSA version of source variable `name`: name_1, name_2, ..."""
        return self.fresh(f"{name}_", first=1)

    def adjoint(self, ident: str) -> str:
        return self.fresh(f"{ident}_bar")

    def temp(self) -> str:
        return self.fresh("_t", first=1)
