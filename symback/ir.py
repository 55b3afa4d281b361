"""The data every stage passes on. Immutable; str() prints any of it.

    Function ::= name params:Param* body:Stmt* result:Operand
    Stmt     ::= Assign | Item | Length | NewList | Append | SetItem | Slice | ListCall | If | Loop
    Item     ::= target:Value '=' seq:Value '[' index:Operand ']'   -- an element of a list
    Length   ::= target:Value '=' 'len(' seq:Value ')'
    NewList  ::= target:Value '=' '[' elements:Operand* ']'      -- a list the function builds
    Append   ::= seq:Value '.append(' element:Operand ')'        -- it grows by one
    SetItem  ::= seq:Value '[' index:Operand ']' '=' element:Operand   -- an element replaced
    Slice    ::= target:Value '=' seq:Value '[' lower ':' upper ':' step ']'
    ListCall ::= target:Value '=' 'math.' fn '(' seqs:Value* ')'   -- fsum, sumprod, dist of lists
    Assign   ::= target:Value '=' shape(args:Operand*)   -- one source statement
    If       ::= 'if' cond:Value then:Stmt* orelse:Stmt* merges:Merge*
    Merge    ::= target:Value '=' then:Operand | orelse:Operand   -- live after the if
    Loop     ::= 'for' index:Value 'in range' bounds:Operand* carried:Carry* body:Stmt*
    Carry    ::= head:Value '=' init:Operand, then update:Value each iteration
    Operand  ::= Value | Const
    Shape    ::= a SymPy expression over placeholders __a0, __a1, ...

A statement's expression is stored as its *shape* (the expression with every
operand replaced by a placeholder, shared by all statements of that form)
plus the operands that fill it. Derivatives and printing are worked out once
per shape and reused for every statement of that shape: that is what keeps
compile time linear and small (see derive.py). `Assign.expr` gives the
statement's expression over the user's own variables when someone wants to
see it.

derive adds a Rule to each Shape's statements; reverse turns a Function into
a Gradient: the forward statements plus adjoint statements, last first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from .errors import Loc


@dataclass(frozen=True)
class Value:
    """One SSA value: a source variable at one assignment."""

    name: str   # the source variable, e.g. "z"
    ident: str  # unique within the function: "z", then "z_1", "z_2", ...

    def __str__(self) -> str:
        return self.ident

    def __hash__(self) -> int:
        # ident is unique within a function, so it alone decides equality's hash;
        # hashing one str (whose hash Python caches) instead of a new tuple matters:
        # the passes hash values hundreds of thousands of times in a long function
        return hash(self.ident)

    @cached_property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.ident, real=True)


@dataclass(frozen=True)
class Const:
    """A numeric constant operand: a literal or a module-level number."""

    value: float

    def __str__(self) -> str:
        return repr(self.value)


class Unbound:
    """No value: a variable not assigned on this path (before a loop that
    assigns it, or on the side of an if that does not). Reading it raises
    UnboundLocalError in the generated code exactly where it does in f."""

    def __str__(self) -> str:
        return "<unbound>"

    def __repr__(self) -> str:
        return "UNBOUND"


UNBOUND = Unbound()

Operand = Value | Const | Unbound


@dataclass(frozen=True, eq=False)
class Shape:
    """An expression form shared by statements; interned, compared by identity.

    `tree` is the hashable form parse produced (see mathlib), `expr` its SymPy
    expression over the placeholders mathlib.placeholder(0..arity-1).
    """

    tree: tuple
    expr: sp.Expr
    arity: int

    def __str__(self) -> str:
        return str(self.expr)

    @cached_property
    def is_real(self) -> bool:
        """False for forms like x/0 or sqrt(-1), which Python would reject."""
        return not self.expr.has(sp.zoo, sp.nan, sp.oo, sp.I)

    def why_not_real(self) -> str:
        """What is wrong with a form that is not real, in the user's terms."""
        if self.expr.has(sp.zoo):
            return "it divides by zero"
        if self.expr.has(sp.I):
            return "it takes a root or logarithm of a negative number"
        return "it is infinite or undefined"


@dataclass(frozen=True, eq=False)
class Temp:
    """A subexpression of a statement computed once, before it, because its
    partials need it too (exp(-z) in a sigmoid's), or because it must run
    before one that does (so the statement still fails where f fails)."""

    symbol: sp.Symbol  # mathlib.temp_symbol(j)
    tree: tuple        # as the user wrote it, over placeholders and earlier temps
    expr: sp.Expr      # its SymPy form, over the same


@dataclass(frozen=True, eq=False)
class Rule:
    """How to compute a shape and its local partials, over placeholders.

    temps     subexpressions hoisted out of the value, in the order Python
              evaluates them;
    value     the shape's tree with the temps put in: what the forward pass
              prints (the user's expression, never SymPy's rewrite of it);
    partials  d value / d placeholder i, in terms of the placeholders, the
              temps and RESULT (the statement's own value), for every i.
    """

    temps: tuple[Temp, ...]
    value: tuple
    partials: tuple[sp.Expr, ...]

    @cached_property
    def symbols(self) -> tuple[frozenset[sp.Symbol], ...]:
        """Per partial, the symbols it reads. SymPy walks the expression on every
        `free_symbols`; the passes ask once per statement, so this is kept per rule."""
        return tuple(frozenset(partial.free_symbols) for partial in self.partials)

    @cached_property
    def zero(self) -> tuple[bool, ...]:
        """Per partial, whether it is 0 (kept per rule: reverse asks once per statement)."""
        return tuple(bool(partial == 0) for partial in self.partials)

    @cached_property
    def undefined(self) -> tuple[bool, ...]:
        """Per partial, whether it has an infinity, nan or i in it (kept per rule, as zero)."""
        return tuple(bool(partial.has(sp.zoo, sp.nan, sp.oo, sp.I)) for partial in self.partials)

    @cached_property
    def needs(self) -> tuple[tuple[frozenset[int], bool], ...]:
        """Per partial: which operands it reads, and whether it reads the
        statement's own value or temps (so the statement must run first)."""
        from .mathlib import placeholder
        temps = {temp.symbol for temp in self.temps}
        out = []
        for free in self.symbols:
            operands = frozenset(i for i in range(len(self.partials)) if placeholder(i) in free)
            out.append((operands, RESULT in free or bool(free & temps)))
        return tuple(out)

    @cached_property
    def mirrors(self) -> dict[int, tuple[tuple[int, int], ...]]:
        """index -> ((j, sign), ...) for earlier partials with partials[index] ==
        sign * partials[j]: for (a - y)**2, d/dy = -d/da, so y_bar = -a_bar."""
        out: dict[int, tuple[tuple[int, int], ...]] = {}
        if len(self.partials) > 8:
            return out
        # Compared structurally after factor_terms (cheap, never expands): a
        # miss costs a little speed, a false match would be a wrong gradient.
        normal = [None if p.is_Number else sp.factor_terms(p) for p in self.partials]
        for i, p in enumerate(normal):
            if p is None:
                continue  # a constant partial costs nothing to print again
            found = tuple((j, sign) for j, q in enumerate(self.partials[:i]) for sign in (1, -1)
                          if normal[j] is not None and sp.factor_terms(sign * q) == p)
            if found:
                out[i] = found
        return out


RESULT = sp.Symbol("__r", real=True)   # stands for the statement's own value
ADJOINT = sp.Symbol("__zbar", real=True)  # stands for the statement's adjoint


@dataclass(frozen=True)
class Assign:
    """target = shape(args): one source statement, or one part of one."""

    target: Value
    shape: Shape
    args: tuple[Operand, ...]
    loc: Loc
    rule: Rule | None = field(default=None, compare=False)

    @property
    def sources(self) -> tuple:
        return self.args

    @property
    def expr(self) -> sp.Expr:
        """The expression over the user's variables (costs SymPy work)."""
        return self.shape.expr.xreplace(self._mapping())

    def partial(self, index: int) -> sp.Expr:
        """d target / d args[index] over the user's variables; needs a rule."""
        partial = self.rule.partials[index]
        for temp in reversed(self.rule.temps):  # temps may use earlier temps
            partial = partial.xreplace({temp.symbol: temp.expr})
        return partial.xreplace({**self._mapping(), RESULT: self.target.symbol})

    def _mapping(self) -> dict:
        from .mathlib import placeholder
        return {placeholder(i): (arg.symbol if isinstance(arg, Value) else sp.Float(arg.value))
                for i, arg in enumerate(self.args)}

    def __str__(self) -> str:
        return f"{self.target} = {self.expr}"


@dataclass(frozen=True)
class Item:
    """target = seq[index]: an element of a list parameter; with `field`, that
    position of a tuple element (`for W, b in params`: W = params[i][0])."""

    target: Value
    seq: Value
    index: Operand
    loc: Loc
    field: int | None = None

    @property
    def sources(self) -> tuple:
        return (self.seq,)   # the index steers; it carries no gradient

    def __str__(self) -> str:
        return f"{self.target} = {self.seq}[{self.index}]" + (f"[{self.field}]" if self.field is not None else "")


@dataclass(frozen=True)
class Length:
    """target = len(seq): an int, with no gradient."""

    target: Value
    seq: Value
    loc: Loc

    @property
    def sources(self) -> tuple:
        return ()            # a length does not depend on the values in the list

    def __str__(self) -> str:
        return f"{self.target} = len({self.seq})"


@dataclass(frozen=True)
class NewList:
    """target = [e0, e1, ...] (times `times`, if given: [0.0] * n): a list the
    function builds (`[]` to append to). Positions never move (a list only
    grows, by Append), so the adjoint of what is at position k is
    target_bar[k]."""

    target: Value
    elements: tuple[Operand, ...]
    loc: Loc
    times: Operand | None = None

    @property
    def sources(self) -> tuple:
        return self.elements

    def __str__(self) -> str:
        return f"{self.target} = [{', '.join(map(str, self.elements))}]" + \
            (f" * {self.times}" if self.times is not None else "")


@dataclass(frozen=True)
class Append:
    """seq.append(element). It makes no value; `target` only names the
    statement. The reverse sweep pops seq's adjoint as this pushed seq, so
    at every point of the sweep seq_bar is as long as seq was there, and an
    index from the end (seq[-1]) means in the sweep what it meant in f."""

    target: Value
    seq: Value
    element: Operand
    loc: Loc

    @property
    def sources(self) -> tuple:
        return (self.element,)  # the gradient flows seq_bar -> element (see reverse._varied)

    def __str__(self) -> str:
        return f"{self.seq}.append({self.element})"


@dataclass(frozen=True)
class SetItem:
    """seq[index] = element, in a list the function built. Like Append it makes
    no value. The sweep takes element's adjoint out of seq_bar[index] and sets
    that to 0.0: reads before this line saw the element it replaced."""

    target: Value
    seq: Value
    index: Operand
    element: Operand
    loc: Loc

    @property
    def sources(self) -> tuple:
        return (self.element,)  # as Append (see reverse._varied)

    def __str__(self) -> str:
        return f"{self.seq}[{self.index}] = {self.element}"


@dataclass(frozen=True)
class Slice:
    """target = seq[lower:upper:step], a new list (bounds None where omitted;
    they steer, they carry no gradient)."""

    target: Value
    seq: Value
    bounds: tuple[Operand | None, Operand | None, Operand | None]
    loc: Loc

    @property
    def sources(self) -> tuple:
        return (self.seq,)

    def __str__(self) -> str:
        lower, upper, step = ("" if b is None else str(b) for b in self.bounds)
        return f"{self.target} = {self.seq}[{lower}:{upper}" + (f":{step}]" if step else "]")


@dataclass(frozen=True)
class ListCall:
    """target = math.<fn>(*seqs), a math function of whole lists: fsum(xs)
    (each element's partial is 1), sumprod(xs, ys) (ys[j] and xs[j]), or
    dist(p, q) ((p[j] - q[j]) / target, and its negative)."""

    target: Value
    fn: str
    seqs: tuple[Value, ...]
    loc: Loc

    @property
    def sources(self) -> tuple:
        return self.seqs

    def __str__(self) -> str:
        return f"{self.target} = math.{self.fn}({', '.join(map(str, self.seqs))})"


@dataclass(frozen=True)
class ArrayOp:
    """target = an operation on arrays that is not elementwise: a reduction, a
    product, a change of shape, a shape query, a constant array. `op` names its
    adjoint rule in arrays.RULES; `source` is the user's expression with the
    operands as __a0, __a1, ... (the forward pass prints it); `options` are the
    static arguments the rule reads, such as (("axis", 1), ("keepdims", True)),
    and ("count", n): the first n operands are arrays with a gradient."""

    target: Value
    op: str
    args: tuple[Operand, ...]
    options: tuple[tuple[str, object], ...]
    source: str
    loc: Loc

    @property
    def sources(self) -> tuple:
        """The operands a gradient flows to: the first `count` (the arrays; the rest
        are shapes and indices)."""
        return self.args[:dict(self.options).get("count", 0)]

    def __str__(self) -> str:
        return f"{self.target} = {_filled(self.source, self.args)}"


@dataclass(frozen=True)
class Raise:
    """raise <exception>, as the user wrote it (`source`, over the variables it
    reads as __a0, __a1, ...): f fails here, and so does the gradient. It makes
    no value; `target` only names the statement (nothing reads it)."""

    target: Value
    args: tuple[Operand, ...]
    source: str
    loc: Loc

    @property
    def sources(self) -> tuple:
        return ()  # no gradient flows through an exception

    def __str__(self) -> str:
        return f"raise {_filled(self.source, self.args)}"


def _filled(source: str, args: tuple) -> str:
    """A statement's source text with its operands in place of __a0, __a1, ..."""
    for i, arg in reversed(list(enumerate(args))):
        source = source.replace(f"__a{i}", str(arg))
    return source


@dataclass(frozen=True)
class Merge:
    """target = then if the branch was taken, else orelse (a phi of SSA)."""

    target: Value
    then: Operand
    orelse: Operand

    def __str__(self) -> str:
        return f"{self.target} = {self.then} | {self.orelse}"

    @property
    def sources(self) -> tuple:
        return (self.then, self.orelse)


@dataclass(frozen=True)
class If:
    """A branch, kept structured: cond is a boolean computed just before it."""

    cond: Value
    then: tuple["Stmt", ...]
    orelse: tuple["Stmt", ...]
    merges: tuple[Merge, ...]
    loc: Loc


@dataclass(frozen=True)
class Carry:
    """A variable a loop updates: head = init before the loop, head = update
    at the end of each iteration; after the loop, head is the last value."""

    head: Value
    init: Operand   # UNBOUND if the variable has no value before the loop
    update: Value   # made in the body (parse adds a copy if needed), or the loop's index

    @property
    def target(self) -> Value:
        return self.head

    @property
    def sources(self) -> tuple:
        return (self.init, self.update)

    def __str__(self) -> str:
        return f"{self.head} = {self.init}, then {self.update}"


@dataclass(frozen=True, eq=False)
class Loop:
    """for index in range(*bounds): body, or while cond: body (index None,
    cond a boolean Assign over the carried heads); structured, never unrolled."""

    index: Value | None
    bounds: tuple[Operand, ...]
    carried: tuple[Carry, ...]
    body: tuple["Stmt", ...]
    loc: Loc
    cond: Assign | None = None
    exit: Operand | None = None   # true at the end of an iteration that hit `break`
    count: Value | None = None    # iterations run, where the range does not say (while, break)


Stmt = Assign | Item | Length | NewList | Append | SetItem | Slice | ListCall | ArrayOp | Raise | If | Loop

LIST_STMTS = (NewList, Append, SetItem, Slice, ListCall)  # statements on lists the function builds


def walk(stmts: tuple[Stmt, ...]):
    """Every Assign, Merge and Carry in `stmts`, branches and loop bodies included."""
    for stmt in stmts:
        if isinstance(stmt, If):
            yield from walk(stmt.then)
            yield from walk(stmt.orelse)
            yield from stmt.merges
        elif isinstance(stmt, Loop):
            yield from stmt.carried
            if stmt.cond is not None:
                yield stmt.cond
            yield from walk(stmt.body)
        else:
            yield stmt


def loops(stmts: tuple[Stmt, ...]):
    """Every Loop in `stmts`, nested ones included, outer first."""
    for stmt in stmts:
        if isinstance(stmt, Loop):
            yield stmt
            yield from loops(stmt.body)
        elif isinstance(stmt, If):
            yield from loops(stmt.then)
            yield from loops(stmt.orelse)


def conds(stmts: tuple[Stmt, ...]) -> set[Value]:
    """The branch conditions in `stmts`, nested ones included."""
    out = set()
    for stmt in stmts:
        if isinstance(stmt, If):
            out |= {stmt.cond} | conds(stmt.then) | conds(stmt.orelse)
        elif isinstance(stmt, Loop):
            out |= conds(stmt.body)
    return out


def reads(item) -> tuple:
    """Every operand an Assign, Item, Length, Merge or Carry reads, gradient or not
    (`sources` leaves out what carries no gradient, such as an index)."""
    if isinstance(item, Item):
        return (item.seq, item.index)
    if isinstance(item, Length):
        return (item.seq,)
    if isinstance(item, ListCall):
        return item.seqs
    if isinstance(item, Append):
        return (item.seq, item.element)
    if isinstance(item, SetItem):
        return (item.seq, item.index, item.element)
    if isinstance(item, NewList):
        return item.elements + ((item.times,) if item.times is not None else ())
    if isinstance(item, Slice):
        return (item.seq, *(bound for bound in item.bounds if bound is not None))
    if isinstance(item, (ArrayOp, Raise)):
        return item.args
    if isinstance(item, Guard):
        return item.divisors
    return item.sources


def format_block(stmts: tuple[Stmt, ...], indent: str = "    ") -> list[str]:
    lines = []
    for stmt in stmts:
        if isinstance(stmt, If):
            lines.append(f"{indent}if {stmt.cond}:".ljust(40) + f"  # line {stmt.loc.line}")
            lines += format_block(stmt.then, indent + "    ") or [f"{indent}    pass"]
            lines.append(f"{indent}else:")
            lines += format_block(stmt.orelse, indent + "    ") or [f"{indent}    pass"]
            lines += [f"{indent}{merge}" for merge in stmt.merges]
        elif isinstance(stmt, Loop):
            bounds = ", ".join(map(str, stmt.bounds))
            head = f"while {stmt.cond}" if stmt.cond else f"for {stmt.index} in range({bounds})"
            counted = f", counted in {stmt.count}" if stmt.count else ""
            lines.append(f"{indent}{head}:".ljust(40) + f"  # line {stmt.loc.line}{counted}")
            lines += [f"{indent}    carry {carry}" for carry in stmt.carried]
            lines += format_block(stmt.body, indent + "    ") or [f"{indent}    pass"]
        else:
            lines.append(f"{indent}{stmt}".ljust(40) + f"  # line {stmt.loc.line}")
    return lines


@dataclass(frozen=True)
class Param:
    """A parameter of the source function."""

    value: Value
    kind: str              # "positional", "positional_only" or "keyword_only"
    default: str | None    # Python source of the default, if any
    annotation: str | None = None  # Python source of the annotation, if any (x: float)


@dataclass(frozen=True)
class Function:
    """A parsed function: straight-line SSA statements and one result."""

    name: str
    file: str
    line: int
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    result: Operand
    doc: str | None = None
    reserved: frozenset[str] = frozenset()  # every name the source mentions
    sequences: frozenset[Value] = frozenset()  # lists: list parameters, and lists the function builds
    sources: tuple[str, ...] = ()  # the text of the function and of each helper it calls, as read
    arrays: bool = False  # uses NumPy: any value may be an array (shapes are known only at run time)
    aux: Operand | None = None  # has_aux: what f returns beside the result, passed through
    one_tuple: bool = False  # f returns (result,): its value is that 1-tuple, its gradient the result's

    def __str__(self) -> str:
        params = ", ".join(str(p.value) for p in self.params)
        lines = [f"def {self.name}({params}):    # {self.file}:{self.line}"]
        lines += format_block(self.body)
        lines.append(f"    return {self.result}")
        return "\n".join(lines)

    def verify(self) -> None:
        """Check the SSA invariants; raise AssertionError on our own bug."""
        defined = {p.value for p in self.params}
        _verify_block(self.body, defined, set())
        for result in (self.result, self.aux):
            if isinstance(result, Value):
                assert result in defined, f"result {result} is not defined"


def _verify_block(stmts, visible: set, everywhere: set) -> None:
    """visible: values readable here; everywhere: all values defined so far (SSA: once each)."""
    def check(operand, where):
        assert not isinstance(operand, Value) or operand in visible, f"{operand} used before it is defined in {where}"
    for stmt in stmts:
        if isinstance(stmt, Loop):
            for bound in stmt.bounds:
                check(bound, "a range")
            inner = set(visible) | {stmt.index} | {carry.head for carry in stmt.carried}
            for carry in stmt.carried:
                check(carry.init, "a loop")
                everywhere.add(carry.head)
            if stmt.cond is not None:
                for arg in stmt.cond.args:
                    assert not isinstance(arg, Value) or arg in inner, f"{arg} undefined in a while test"
            _verify_block(stmt.body, inner, everywhere)
            for carry in stmt.carried:
                assert carry.update in inner, f"update {carry.update} of {carry.head} not made in the loop"
            visible.update(carry.head for carry in stmt.carried)
            if stmt.count is not None:
                assert stmt.count not in everywhere, f"{stmt.count} defined twice"
                everywhere.add(stmt.count)
                visible.add(stmt.count)
            continue
        if isinstance(stmt, If):
            check(stmt.cond, "an if")
            then, orelse = set(visible), set(visible)
            _verify_block(stmt.then, then, everywhere)
            _verify_block(stmt.orelse, orelse, everywhere)
            for merge in stmt.merges:
                for side, scope in ((merge.then, then), (merge.orelse, orelse)):
                    assert not isinstance(side, Value) or side in scope, f"{side} undefined in merge {merge}"
                assert merge.target not in everywhere, f"{merge.target} defined twice"
                everywhere.add(merge.target)
                visible.add(merge.target)
            continue
        if isinstance(stmt, (Item, Length)):
            check(stmt.seq, stmt)
            if isinstance(stmt, Item):
                check(stmt.index, stmt)
        elif isinstance(stmt, (ArrayOp, Raise)):
            for arg in stmt.args:
                check(arg, stmt)
        elif isinstance(stmt, LIST_STMTS):
            for arg in reads(stmt):
                check(arg, stmt)
        else:
            assert len(stmt.args) == stmt.shape.arity, f"arity mismatch in {stmt}"
            for arg in stmt.args:
                check(arg, stmt)
        assert stmt.target not in everywhere, f"{stmt.target} defined twice"
        everywhere.add(stmt.target)
        visible.add(stmt.target)


# --- after reverse -----------------------------------------------------------

@dataclass(frozen=True)
class Accumulate:
    """operand_bar (+)= partial[index] of `site` times site.target's adjoint.

    `first` is the first contribution to operand's adjoint, so it assigns
    rather than adds; `seed` means site.target's adjoint is exactly 1 (it is
    the output), so the product is just the partial. `mirror` = (v, sign)
    says this contribution is sign * v_bar, just assigned from the same
    statement: print that instead of the product again.
    """

    operand: Value
    site: Assign
    index: int
    first: bool
    seed: bool
    mirror: tuple[Value, int] | None = None
    expr: tuple | None = field(default=None, compare=False)  # set by optimize: the contribution as a tree

    def __str__(self) -> str:
        op = "=" if self.first else "+="
        if self.mirror:
            return f"{self.operand}_bar {op} {'-' if self.mirror[1] < 0 else ''}{self.mirror[0]}_bar"
        if self.expr is not None:
            return f"{self.operand}_bar {op} {expr_text(self.expr)}"
        partial = self.site.partial(self.index)
        bar = "" if self.seed else f" * {self.site.target}_bar"
        return f"{self.operand}_bar {op} ({partial}){bar}"


@dataclass(frozen=True)
class Flow:
    """operand_bar (+)= source_bar across a merge (1.0 if source is the output)."""

    operand: Value
    source: Value
    first: bool
    seed: bool

    def __str__(self) -> str:
        return f"{self.operand}_bar {'=' if self.first else '+='} {'1.0' if self.seed else f'{self.source}_bar'}"


@dataclass(frozen=True)
class Zero:
    """operand_bar = 0.0: the branch not taken contributes nothing."""

    operand: Value

    def __str__(self) -> str:
        return f"{self.operand}_bar = 0.0"


@dataclass(frozen=True)
class BackIf:
    """The reverse of an If: the same recorded condition, each branch reversed."""

    cond: Value
    then: tuple["AdjointStmt", ...]
    orelse: tuple["AdjointStmt", ...]


@dataclass(frozen=True)
class BackLoop:
    """The reverse of a Loop: the same range reversed; each iteration first
    restores the values it needs from the tape the forward loop filled."""

    loop: Loop
    tape: tuple          # Values, and (Value, temp index) for a statement's temps
    body: tuple["AdjointStmt", ...]
    aliases: tuple = ()  # (update, head): one adjoint variable for both (accumulators)
    recompute: tuple = ()  # forward Assigns the sweep reruns after the pop instead of storing


@dataclass(frozen=True)
class ItemAccumulate:
    """seq_bar[index] += source_bar: an element's adjoint into its list's
    (+= 1.0 if the element is itself the output: `return xs[0]`)."""

    seq: Value
    index: Operand
    source: Value
    seed: bool = False
    field: int | None = None  # seq_bar[index][field]: a position in a tuple element

    def __str__(self) -> str:
        at = f"[{self.field}]" if self.field is not None else ""
        return f"{self.seq}_bar[{self.index}]{at} += {'1.0' if self.seed else f'{self.source}_bar'}"


@dataclass(frozen=True)
class ArrayAccumulate:
    """operand_bar (+)= the adjoint rule of site.op for its operand `index`,
    given site.target's adjoint (1.0 if `seed`): arrays.RULES[site.op]."""

    operand: Value
    site: ArrayOp
    index: int
    first: bool
    seed: bool = False

    def __str__(self) -> str:
        return f"{self.operand}_bar {'=' if self.first else '+='} {self.site.op}'[{self.index}] of {self.site.target}_bar"


@dataclass(frozen=True)
class ZeroList:
    """seq_bar = [0.0] * len(seq), before any element's adjoint is added."""

    seq: Value

    def __str__(self) -> str:
        return f"{self.seq}_bar = [0.0] * len({self.seq})"


@dataclass(frozen=True)
class Unlist:
    """operand_bar (+)= seq_bar[index]: an element's adjoint out of the list's,
    for an element of a list display; with index None, seq_bar.pop() (the
    reverse of an Append; operand None if the element has no adjoint). With
    `clear` (the reverse of a SetItem), seq_bar[index] = 0.0 after."""

    operand: Value | None
    seq: Value
    index: Operand | None
    first: bool
    clear: bool = False
    period: int | None = None  # [a, b] * n: the sum of every period-th entry from index (period 2)

    def __str__(self) -> str:
        taken = f"{self.seq}_bar.pop()" if self.index is None else f"{self.seq}_bar[{self.index}]"
        text = taken if self.operand is None else f"{self.operand}_bar {'=' if self.first else '+='} {taken}"
        return text + (f"; {taken} = 0.0" if self.clear else "")


@dataclass(frozen=True)
class RowAdjoint:
    """row_bar = seq_bar[index]: the adjoint of a row of a list of lists (row =
    A[i]) is that row of A's adjoint, the same list, so what is added to
    row_bar[j] lands in A_bar[i][j]."""

    row: Value
    seq: Value
    index: Operand

    def __str__(self) -> str:
        return f"{self.row}_bar = {self.seq}_bar[{self.index}]"


@dataclass(frozen=True)
class SliceAccumulate:
    """seq_bar[lower:upper:step] += site.target_bar, element by element."""

    site: Slice

    def __str__(self) -> str:
        return f"{self.site.seq}_bar[slice] += {self.site.target}_bar"


@dataclass(frozen=True)
class ListCallAccumulate:
    """seq_bar[j] += the partial of site (a ListCall) in seqs[index][j], times
    site.target's adjoint (1.0 if seed), for every j."""

    site: ListCall
    index: int
    seed: bool = False

    def __str__(self) -> str:
        return f"{self.site.seqs[self.index]}_bar[each] += d {self.site.fn} of {self.site.target}_bar"


# Expression trees, for adjoint arithmetic optimize has rewritten (emit prints
# them; everything else prints from its shape's template):
#
#     Expr ::= ('v', Value)  ('c', Const)  ('tmp', Value, j)  ('bar', Value)  ('let', k)
#            | ('num', text)  ('name', text)        -- a literal as printed; math.pi
#            | ('bin', op, Expr, Expr)  ('un', op, Expr)  ('call', func, Expr*)
#            | ('if', test, Expr, Expr)  ('cmp', ops, Expr*)  ('bool', 'and'|'or', Expr*)
#
# ('tmp', v, j) is temp j of the statement making v; func is printed as is
# ('math.exp', '__b_abs', '_digamma').

_PRECEDENCE = {"if": 0, "bool_or": 1, "bool_and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6,
               "//": 6, "%": 6, "un": 7, "**": 8}
_SPACED = frozenset({"+", "-", "//", "%"})  # a + b, a*b: as SymPy's printer writes them


def expr_text(tree: tuple, leaf=None, spaced: bool = False) -> str:
    """Python source of an expression tree, with the parentheses it needs and
    no others; `leaf(tree)` names the leaves v, c, tmp, bar and let (default: IR
    names). `spaced`: a * b, as ast.unparse writes the forward pass."""
    return _text(tree, leaf or _leaf_text, _ALL_OPS if spaced else _SPACED)[0]


_ALL_OPS = frozenset(_PRECEDENCE)


def _leaf_text(tree: tuple) -> str:
    kind = tree[0]
    if kind == "v":
        return str(tree[1])
    if kind == "c":
        return f"({tree[1]})" if tree[1].value < 0 else str(tree[1])
    if kind == "tmp":
        return f"{tree[1]}.t{tree[2]}"
    if kind == "bar":
        return f"{tree[1]}_bar"
    return f"_s{tree[1]}"


def _text(tree: tuple, leaf, spaced=_SPACED) -> tuple[str, int]:
    """(text, precedence) of a tree; atoms have precedence 9."""
    kind = tree[0]
    if kind in ("v", "c", "tmp", "bar", "let"):
        return leaf(tree), 9
    if kind in ("num", "name"):
        return tree[1], 9
    if kind == "bin":
        op, prec = tree[1], _PRECEDENCE[tree[1]]
        left, lp = _text(tree[2], leaf, spaced)
        right, rp = _text(tree[3], leaf, spaced)
        if lp < prec or (op == "**" and lp <= prec):  # (a - b)*c; (-a)**2; 2**3**2 is 2**(3**2)
            left = f"({left})"
        if rp < prec or (rp == prec and op != "**"):  # a - (b - c), a/(b*c)
            right = f"({right})"
        return (f"{left} {op} {right}" if op in spaced else f"{left}{op}{right}"), prec
    if kind == "un":
        inner, ip = _text(tree[2], leaf, spaced)
        if tree[1] == "not":
            return f"not {inner if ip > 3 else f'({inner})'}", 3
        return tree[1] + (inner if ip >= 7 else f"({inner})"), 7
    if kind == "call":
        return f"{tree[1]}({', '.join(_text(arg, leaf, spaced)[0] for arg in tree[2:])})", 9
    if kind == "if":
        test, body, orelse = (_text(part, leaf, spaced) for part in tree[1:])
        return (f"{body[0] if body[1] > 0 else f'({body[0]})'} if {test[0] if test[1] > 0 else f'({test[0]})'} "
                f"else {orelse[0]}"), 0
    if kind == "cmp":
        parts = [_text(part, leaf, spaced) for part in tree[2:]]
        out = parts[0][0] if parts[0][1] > 4 else f"({parts[0][0]})"
        for op, (part, prec) in zip(tree[1], parts[1:]):
            out += f" {op} " + (part if prec > 4 else f"({part})")
        return out, 4
    if kind == "bool":
        prec = _PRECEDENCE["bool_" + tree[1]]
        parts = [_text(part, leaf, spaced) for part in tree[2:]]
        return f" {tree[1]} ".join(p if pp > prec else f"({p})" for p, pp in parts), prec
    raise AssertionError(f"unknown expression node {kind!r}")


@dataclass(frozen=True)
class Let:
    """_s<index> = expr: a subexpression several adjoint statements share,
    computed once (optimize). `expr` is an expression tree (optimize/exprs.py)."""

    index: int
    expr: tuple

    def __str__(self) -> str:
        return f"_s{self.index} = {expr_text(self.expr)}"


@dataclass(frozen=True)
class Guard:
    """What may raise in a forward statement whose value nobody reads, when that
    is only division by operands: `stmt`'s divisors, each divided into 1.0, so the
    gradient fails where f fails without computing the numerator (optimize)."""

    stmt: Assign
    divisors: tuple[Operand, ...]

    @property
    def target(self) -> Value:
        return self.stmt.target

    @property
    def loc(self) -> Loc:
        return self.stmt.loc

    @property
    def sources(self) -> tuple:
        return ()

    def __str__(self) -> str:
        return "; ".join(f"1.0 / {d}" for d in self.divisors) + f"  (what may raise in {self.stmt})"


AdjointStmt = Accumulate | Flow | Zero | BackIf | BackLoop | ItemAccumulate | ZeroList | ArrayAccumulate | \
    Unlist | RowAdjoint | SliceAccumulate | ListCallAccumulate | Let


def walk_adjoints(stmts):
    """Every adjoint statement in `stmts`, nested branches and loops included."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, BackIf):
            yield from walk_adjoints(stmt.then)
            yield from walk_adjoints(stmt.orelse)
        elif isinstance(stmt, BackLoop):
            yield from walk_adjoints(stmt.body)


def format_adjoints(stmts, indent: str = "    ") -> list[str]:
    lines = []
    for stmt in stmts:
        if isinstance(stmt, BackLoop):
            bounds = ", ".join(map(str, stmt.loop.bounds))
            lines.append(f"{indent}for {stmt.loop.index} in reversed(range({bounds})):" if stmt.loop.count is None
                         else f"{indent}for each of the {stmt.loop.count} iterations, last first:")
            lines.append(f"{indent}    pop {', '.join(map(str, stmt.tape))}")
            lines += [f"{indent}    recompute {again}" for again in stmt.recompute]
            lines += format_adjoints(stmt.body, indent + "    ")
        elif isinstance(stmt, BackIf):
            lines.append(f"{indent}if {stmt.cond}:")
            lines += format_adjoints(stmt.then, indent + "    ") or [f"{indent}    pass"]
            lines.append(f"{indent}else:")
            lines += format_adjoints(stmt.orelse, indent + "    ") or [f"{indent}    pass"]
        else:
            lines.append(f"{indent}{stmt}")
    return lines


@dataclass(frozen=True)
class Gradient:
    """A function's forward pass and reverse sweep, ready to print.

    forward   statements to run first (all of the source, or only those the
              sweep needs when the value itself is not returned);
    backward  adjoint accumulations, last statement of the source first;
    unused    forward statements run only for their temps, whose value
              itself nobody reads;
    wrt       the differentiated parameters, in parameter order;
    zero      those of wrt whose gradient is identically 0;
    unit      the one of wrt that is itself the result, if any (gradient 1);
    unbound   values that may have no value where read (a variable assigned
              on some paths only): reading one raises, in f and here.
    """

    function: Function
    forward: tuple[Stmt, ...]
    unused: frozenset[Value]
    backward: tuple[AdjointStmt, ...]
    wrt: tuple[Value, ...]
    zero: frozenset[Value]
    unit: Value | None
    with_value: bool
    unbound: frozenset[Value] = frozenset()  # values that may be unbound where read: reading them may raise
    # set by optimize: (v, w) pairs, v's adjoint is w's variable (a copy forwarded);
    # ((v, j), (w, k)): v's temp j is w's temp k, computed once in the forward pass
    same_adjoint: tuple = ()
    same_temp: tuple = ()
    # (v, tree): the statement making v prints tree, its own expression reading
    # what an earlier statement computed already (an expression tree, see Let)
    rewritten: tuple = ()

    def __str__(self) -> str:
        lines = [str(self.function), "  reverse:"]
        lines += format_adjoints(self.backward)
        grads = ", ".join("0.0" if v in self.zero else "1.0" if v == self.unit else f"{v}_bar"
                          for v in self.wrt)
        lines.append(f"    return {grads}")
        return "\n".join(lines)
