"""ir.Gradient -> Python source text: the forward pass, then the adjoints.

Expressions are printed by templates (see templates.py), once per shape
(over placeholders, cached) and instantiated per statement by renaming the
placeholders to the statement's names, which costs a regex substitution,
not a SymPy print; what optimize rewrote prints from its expression tree. The output imports only what it uses (`math`), never
symback or SymPy, names adjoints after the source variables (`z_bar`) and
shared subexpressions `_t1`, `_t2`, and is the same bytes for the same
input.
"""

from __future__ import annotations

import math
import re

from . import arrays, ir, mathlib
from .names import Namer
from .shapes import shapes
from .templates import (Template, _array_template, _source_template, _temp_template, _truth_operands,
                        _value_template, contribution_template)


def emit(gradient: ir.Gradient, name: str | None = None) -> str:
    """The source of a module defining the gradient function."""
    return module_text(*emit_parts(gradient, name))


def module_text(imports: list[str], body: str) -> str:
    """A module of the import lines (and helper defs, see emit_parts) and one function's def."""
    return "".join(part + "\n\n\n" for part in module_head(imports)) + body


def module_head(imports: list[str]) -> list[str]:
    """The import lines, sorted, as one part; then each helper def (an entry of
    `imports` that starts with `def `), in the order given."""
    lines = sorted(line for line in imports if not line.startswith("def "))
    return (["\n".join(lines)] if lines else []) + [line for line in imports if line.startswith("def ")]


def emit_parts(gradient: ir.Gradient, name: str | None = None) -> tuple[list[str], str]:
    """The import lines the gradient function needs (and the defs of the
    arrays.HELPERS it calls, as entries starting with `def `), and its def."""
    return _Emitter(gradient, name).parts()


def _push_at(loop: ir.Loop, tape: tuple) -> int:
    """Where in the body the forward loop pushes its iteration's values: right
    after the last statement that makes one of them (heads and the index exist
    from the start), so that updates after it may overwrite their heads."""
    made_at = {}
    for k, stmt in enumerate(loop.body):
        for item in ir.walk((stmt,)):
            made_at[item.target] = k
        for inner in ir.loops((stmt,)):
            made_at.update((carry.head, k) for carry in inner.carried)
            if inner.count is not None:
                made_at[inner.count] = k
    own = {carry.head for carry in loop.carried} | {loop.index}
    return max((made_at[item if isinstance(item, ir.Value) else item[0]] + 1 for item in tape
                if (item if isinstance(item, ir.Value) else item[0]) not in own), default=0)


def _updates_in_place(loop: ir.Loop, carry: ir.Carry, tape: tuple) -> bool:
    """Whether `h_1 = h_1 + ...` can replace `h_2 = h_1 + ...; ...; h_1 = h_2`:
    the update is made by a top-level statement after the push, nothing after it
    in the body reads the head's old value, and the sweep does not need the update.

    The maker may be an if whose merge is the update (`if c: t = ...`, the
    other side keeping t): then the side that keeps the head copies nothing,
    which is also what lets a variable with no value before the loop stay
    unbound until assigned, as in Python. Inside that if, only the statements
    making the merged values may read the head (they read it before writing)."""
    if carry.update in tape:
        return False
    body = list(loop.body)
    makers = [k for k, stmt in enumerate(body) if (isinstance(stmt, ir.Assign) and stmt.target == carry.update)
              or (isinstance(stmt, ir.If) and carry.update in [m.target for m in stmt.merges])]
    if len(makers) != 1 or any(c.update == carry.head or c.init == carry.update for c in loop.carried):
        return False
    maker = body[makers[0]]
    if isinstance(maker, ir.If):
        merge = next(m for m in maker.merges if m.target == carry.update)
        sides = {merge.then, merge.orelse}
        if any(carry.head in ir.reads(item) for item in ir.walk((maker,))
               if item is not merge and getattr(item, "target", None) not in sides) \
                or any(loop.count is not None or carry.head in loop.bounds for loop in ir.loops((maker,))):
            return False
    if carry.head in tape and makers[0] < _push_at(loop, tape):
        return False
    later = body[makers[0] + 1:]
    reads = {source for item in ir.walk(tuple(later)) for source in ir.reads(item)}
    reads |= {stmt.cond for stmt in later if isinstance(stmt, ir.If)}
    reads |= {b for stmt in later if isinstance(stmt, ir.Loop) for b in stmt.bounds}
    reads |= {c.update for c in loop.carried if c is not carry} | ({loop.exit} if loop.exit else set())
    return carry.head not in reads


def _merge_aliases(gradient: ir.Gradient) -> dict[ir.Value, ir.Value]:
    """Values a branch makes only to hand to a merge (`s_2 = s_1 + x; s_4 = s_2`):
    print them under the merge's name (`s_4 = s_1 + x`), and their adjoints too,
    so that neither the branch nor its reverse has a copy line. Safe when the
    value feeds exactly one merge and the reverse's first write to its adjoint
    is the merge's `s_2_bar = s_4_bar` (which then disappears)."""
    first_write: dict[ir.Value, object] = {}
    for adj in ir.walk_adjoints(gradient.backward):
        if isinstance(adj, (ir.Accumulate, ir.Flow, ir.Zero)):
            first_write.setdefault(adj.operand, adj)
    alias: dict[ir.Value, ir.Value] = {}

    def visit(stmts) -> None:
        for stmt in stmts:
            if isinstance(stmt, ir.Loop):
                visit(stmt.body)
            elif isinstance(stmt, ir.If):
                visit(stmt.then)
                visit(stmt.orelse)
                for side, pick in ((stmt.then, lambda m: m.then), (stmt.orelse, lambda m: m.orelse)):
                    made = {item.target for item in side if isinstance(item, ir.Assign)} | \
                        {m.target for item in side if isinstance(item, ir.If) for m in item.merges}
                    fed = [pick(m) for m in stmt.merges]
                    for merge in stmt.merges:
                        value = pick(merge)
                        if value not in made or fed.count(value) != 1:
                            continue
                        write = first_write.get(value)
                        if write is None or (isinstance(write, ir.Flow) and write.first
                                             and write.source == merge.target):
                            alias[value] = merge.target

    visit(gradient.forward)
    for value in list(alias):  # nested branches: s_2 -> s_4 -> s_6
        while alias[value] in alias:
            alias[value] = alias[alias[value]]
    return alias


_NUMBER_ANNOTATIONS = frozenset({"float", "int", "numbers.Real", "Real", "SupportsFloat"})

_BUILTINS_USED = frozenset(mathlib.BUILTINS | {"range", "reversed", "len", "isinstance", "list", "tuple", "zip", "sum"})


class _Emitter:
    def __init__(self, gradient: ir.Gradient, name: str | None):
        self.g = gradient
        fn = gradient.function
        self.fn = fn
        prefix = "value_and_grad" if gradient.with_value else "grad"
        self.name = name or f"{prefix}_{fn.name}"
        idents = {p.value.ident for p in fn.params} | {item.target.ident for item in ir.walk(fn.body)} | \
            {loop.count.ident for loop in ir.loops(fn.body) if loop.count is not None} | \
            {loop.index.ident for loop in ir.loops(fn.body) if loop.index is not None}
        self.namer = Namer(fn.reserved | idents | {self.name})
        # `math` in the output is the module, unless the source uses it as a variable.
        self.math = "math" if "math" not in idents else self.namer.fresh("math")
        self.arrays = fn.arrays  # NumPy code: any value may be an array
        self.np = "np" if "np" not in idents else self.namer.fresh("np")
        self.helpers: set[str] = set()  # arrays.HELPERS the adjoints call
        # their names in the output: their own, unless f has a variable of that name
        self.helper_names = {name: self.namer.fresh(name) if name in idents else name
                             for name in (*arrays.HELPERS, *mathlib.HELPERS)}
        self.shapes = shapes(fn) if fn.arrays else None  # where no _sum_to is needed
        params = {p.value for p in fn.params}
        self.tuple_lists = {item.seq for item in ir.walk(fn.body) if isinstance(item, ir.Item) and item.field is not None}
        # lists of lists (their rows are lists too): a zero adjoint of the same shape
        self.nested_lists = {item.seq for item in ir.walk(fn.body) if isinstance(item, ir.Item)
                             and item.target in fn.sequences}
        self.indexed_params = {item.args[0] for item in ir.walk(fn.body)  # params[0]: maybe a list of arrays
                               if isinstance(item, ir.ArrayOp) and item.op == "index" and item.args[0] in params}
        self.modules: set[str] = set()
        self.bars: dict[ir.Value, str] = {}
        self.temps: dict[ir.Value, dict[str, str]] = {}  # statement -> its temps' names
        self.tapes: dict[int, tuple[str, tuple]] = {}  # id(loop) -> (tape name, what it holds)
        self.counted: set[ir.Value] = set()  # iteration counts the sweep reads
        self.in_place: dict[ir.Value, str] = {}  # loop updates written straight into their head
        self.used = {source for item in ir.walk(fn.body) for source in ir.reads(item)} | {fn.result} | \
            {bound for loop in ir.loops(fn.body) for bound in loop.bounds}
        # read only by `if p:` (a list's truth or a number's): its gradient is of either kind
        tested, other = set(), set()
        for item in ir.walk(fn.body):
            if isinstance(item, ir.Assign):
                only, anywhere = _truth_operands(item.shape.tree)
                tested |= {item.args[k] for k in only}
                other |= {item.args[k] for k in anywhere}
            else:
                other |= set(ir.reads(item))
        self.tested_only = tested - other
        self.alias = _merge_aliases(gradient)
        self.same_adjoint = dict(gradient.same_adjoint)
        for value in list(self.same_adjoint):  # x1 -> x2 -> x3: x3's variable
            while self.same_adjoint[value] in self.same_adjoint:
                self.same_adjoint[value] = self.same_adjoint[self.same_adjoint[value]]
        self.same_temp = dict(gradient.same_temp)
        self.rewritten = dict(gradient.rewritten)
        self.lets: dict[int, str] = {}  # optimize's shared subexpressions: index -> name
        self.swept = {adj.cond for adj in ir.walk_adjoints(gradient.backward) if isinstance(adj, ir.BackIf)}
        # A copy the output adds (a merge's `i_3 = i_1`, a loop's `i_2 = i_1`) of a value
        # f may not have assigned would raise where f reads nothing: such values start
        # as None where f leaves them unassigned (f itself fails on any later read).
        copied = {side for item in ir.walk(fn.body) if isinstance(item, ir.Merge) for side in (item.then, item.orelse)} | \
            {part for item in ir.walk(fn.body) if isinstance(item, ir.Carry) for part in (item.init, item.update)}
        self.none_first = copied & gradient.unbound
        self.maybe_none = self._maybe_none(gradient)
        # The builtins the output calls, under their own names unless the function
        # has a variable of that name: then under an alias made at module level.
        self.shadowed = {name: self.namer.fresh(f"_{name}") for name in sorted(_BUILTINS_USED & idents)}
        self.builtins = {f"b_{name}": self.shadowed.get(name, name) for name in mathlib.BUILTINS}
        for adj in ir.walk_adjoints(gradient.backward):
            if isinstance(adj, ir.BackLoop) and adj.tape:
                self.tapes[id(adj.loop)] = (self.namer.fresh("_tape_", first=1), adj.tape)
            if isinstance(adj, ir.BackLoop) and adj.loop.count is not None:
                self.counted.add(adj.loop.count)

    def _none_heads(self, loop: ir.Loop) -> set[ir.Value]:
        """Heads of `loop` with no value before it that start as None (see forward_loop)."""
        tape = self.tapes.get(id(loop))
        taped = tape[1] if tape else ()
        read_inside = {source for item in ir.walk(loop.body) for source in ir.reads(item)} | \
            {carry.update for carry in loop.carried} | set(taped)
        return {carry.head for carry in loop.carried if carry.init is ir.UNBOUND and (
            carry.head in self.none_first or carry.head in read_inside and not (
                _updates_in_place(loop, carry, taped) and carry.head not in taped))}

    def _maybe_none(self, gradient: ir.Gradient) -> frozenset[ir.Value]:
        """Values that may hold the None the output gives a variable f left unassigned,
        and what copies them on: where f reads one, the output checks it (`unassigned`)."""
        out = {head for loop in ir.loops(gradient.forward) for head in self._none_heads(loop)} | \
            {item.target for item in ir.walk(gradient.forward) if isinstance(item, ir.Merge)
             and item.target in self.none_first and ir.UNBOUND in (item.then, item.orelse)}
        items = list(ir.walk(gradient.forward))
        while True:
            size = len(out)
            for item in items:
                if isinstance(item, ir.Carry) and (item.init in out or item.update in out):
                    out.add(item.head)
                elif isinstance(item, ir.Merge) and (item.then in out or item.orelse in out):
                    out.add(item.target)
                elif isinstance(item, ir.Assign) and item.shape.tree == ("arg", 0) and item.args[0] in out:
                    out.add(item.target)
            if len(out) == size:
                return frozenset(out)

    def unassigned(self, values, indent: str) -> list[str]:
        """Where f reads a variable it may not have assigned, and the output may hold
        None for it: raise as f does, whatever the read (a copy, `==`, a return)."""
        lines = []
        for value in dict.fromkeys(v for v in values if v in self.maybe_none):
            lines += [f"{indent}if {self.operand(value)} is None:  # {self.fn.name} never assigned {value.name}",
                      f"{indent}    raise UnboundLocalError(\"cannot access local variable '{value.name}' "
                      f"where it is not associated with a value\")"]
        return lines

    def parts(self) -> tuple[list[str], str]:
        body = self.body()
        imports = []
        if "math" in self.modules:
            imports.append("import math" if self.math == "math" else f"import math as {self.math}")
        if "numpy" in self.modules or self.helpers:
            imports.append(f"import numpy as {self.np}")
        # the helpers the adjoints call are module-level defs, listed after the imports
        imports += [self.renamed(re.sub(r"\bnp\.", f"{self.np}.", helper))
                    for helper in arrays.helper_definitions(self.helpers)]
        # and those the partials call (_digamma), recorded as modules by the Printer
        imports += [self.renamed(re.sub(r"\bmath\.", f"{self.math}.", text.strip("\n")))
                    for name, text in mathlib.HELPERS.items() if name in self.modules]
        return imports, body

    def body(self) -> str:
        fn = self.fn
        lines = [f"def {self.name}({self.signature()}):"]
        lines += [f"    {line}" if line else "" for line in self.docstring()]
        # every tape starts empty once: a loop nested in another fills its tape across all outer iterations
        lines += [f"    {name} = []" for name, _ in self.tapes.values()]
        lines += self.forward_block(self.g.forward, "    ")
        value = self.operand(fn.result)
        lines += self.unassigned([fn.result] + ([fn.aux] if fn.aux is not None else []), "    ")
        if self.arrays and isinstance(fn.result, ir.Value) and fn.result not in self.shapes.scalars:
            # a gradient is of a number: an array's would be of the sum of its entries, silently
            lines += [f"    if {self.np}.ndim({value}) != 0:",
                      f"        raise TypeError(f\"{fn.name} returned an array of shape {{{self.np}.shape({value})}}: "
                      f"a gradient is of a number; return a loss (np.sum(...), np.mean(...))\")"]
            self.modules.add("numpy")
        if not self.g.with_value and fn.result in self.g.unbound and fn.result not in self.maybe_none:
            # f returns a variable it may never assign
            lines.append(f"    {value}  # may raise, as in {fn.name}")
        if self.g.with_value and isinstance(fn.result, ir.Value) and value in self.swept_names():
            # the sweep restores this name iteration by iteration: keep the final value first
            saved = self.namer.fresh(f"{value}_final")
            lines.append(f"    {saved} = {value}")
            value = saved
        lines += self.backward_block(self.g.backward, "    ")
        grads = [self.gradient_of(v) for v in self.g.wrt]
        grads_text = grads[0] if len(grads) == 1 else ", ".join(grads)
        aux = self.operand(fn.aux) if fn.aux is not None else None
        if fn.aux is not None:  # has_aux: f's (value, aux)
            value = f"({value}, {aux})"
        elif fn.one_tuple:  # f returns (value,)
            value = f"({value},)"
        if self.g.with_value:
            grads_text = grads[0] if len(grads) == 1 else f"({grads_text})"
            lines.append(f"    return {value}, {grads_text}")
        elif aux is not None:
            grads_text = grads[0] if len(grads) == 1 else f"({grads_text})"
            lines.append(f"    return {grads_text}, {aux}")
        else:
            lines.append(f"    return {grads_text}")
        text = "\n".join(lines)
        aliases = [f"{alias} = {name}  # {fn.name} has a variable named {name}"
                   for name, alias in self.shadowed.items() if re.search(rf"\b{alias}\b", text)]
        return "\n".join(aliases + ["", "", ""] if aliases else []) + text + "\n"

    def swept_names(self) -> set[str]:
        """The names a reversed loop assigns in the sweep, as printed: what its tape
        restores, what it recomputes, and its index (a merge inside a loop and
        the loop's result can print as one name)."""
        names: set[str] = set()
        for adj in ir.walk_adjoints(self.g.backward):
            if isinstance(adj, ir.BackLoop):
                values = [v for v in adj.tape if isinstance(v, ir.Value)] + [adj.loop.index]
                values += [getattr(stmt, "target", None) for stmt in adj.recompute]
                names.update(self.operand(v) for v in values if isinstance(v, ir.Value))
        return names

    def signature(self) -> str:
        parts = []
        kinds = [p.kind for p in self.fn.params]
        for i, param in enumerate(self.fn.params):
            if param.kind == "keyword_only" and (i == 0 or kinds[i - 1] != "keyword_only"):
                parts.append("*")
            parts.append(param.value.ident + (f"={param.default}" if param.default is not None else ""))
            if param.kind == "positional_only" and (i + 1 == len(kinds) or kinds[i + 1] != "positional_only"):
                parts.append("/")
        return ", ".join(parts)

    def docstring(self) -> list[str]:
        fn = self.fn
        # as the function is called: keyword-only parameters by name
        params = ", ".join(p.value.ident if p.kind != "keyword_only" else f"{p.value.ident}={p.value.ident}"
                           for p in fn.params)
        wrt = ", ".join(v.ident for v in self.g.wrt)
        grads = ", ".join(f"d{fn.name}/d{v.ident}" for v in self.g.wrt)
        if len(self.g.wrt) > 1:
            grads = f"({grads})"
        returns = f"({fn.name}({params}), {grads})" if self.g.with_value else \
            f"({grads}, aux)" if fn.aux is not None else grads
        file = fn.file.replace("\\", "/").rsplit("/", 1)[-1]
        what = "Value and gradient" if self.g.with_value else "Gradient"
        return ['"""' + f"{what} of {fn.name}({params}) with respect to {wrt}.",
                "",
                f"Returns {returns}.",
                f"Generated by symback from {fn.name} in {file}:{fn.line}.",
                '"""']

    # --- statements ---------------------------------------------------------

    def names_for(self, stmt: ir.Assign) -> dict[str, str]:
        names = dict(self.builtins)
        names.update((f"a{i}", self.operand(arg)) for i, arg in enumerate(stmt.args))
        names["r"] = self.operand(stmt.target)
        return names

    def forward_block(self, stmts: tuple[ir.Stmt, ...], indent: str) -> list[str]:
        lines = []
        for stmt in stmts:
            if isinstance(stmt, ir.Loop):
                lines += self.forward_loop(stmt, indent)
                continue
            if not isinstance(stmt, ir.If):
                lines += self.unassigned(ir.reads(stmt), indent)
            if isinstance(stmt, ir.Item):
                at = f"[{stmt.field}]" if stmt.field is not None else ""
                lines.append(f"{indent}{self.operand(stmt.target)} = {stmt.seq.ident}[{self.index(stmt.index)}]{at}")
                continue
            if isinstance(stmt, ir.ArrayOp):
                lines.append(f"{indent}{self.operand(stmt.target)} = {self.array_forward(stmt)}")
                continue
            if isinstance(stmt, ir.Guard):  # what may raise in a statement nobody reads: its divisions
                shown = self.render(_source_template(stmt.stmt.shape.tree), self.names_for(stmt.stmt))
                lines += [f"{indent}1.0 / {self.operand(d)}  # may raise, as {shown} in {self.fn.name}"
                          for d in stmt.divisors]
                continue
            if isinstance(stmt, ir.Raise):  # f's own raise, its message from this path's variables
                names = {f"a{i}": self.operand(arg) for i, arg in enumerate(stmt.args)}
                lines.append(f"{indent}raise {self.render(_array_template(stmt.source), names)}")
                continue
            if isinstance(stmt, ir.Length):
                lines.append(f"{indent}{self.operand(stmt.target)} = {self.builtin('len')}({stmt.seq.ident})")
                continue
            if isinstance(stmt, ir.LIST_STMTS):
                lines.append(indent + self.list_forward(stmt))
                continue
            if not isinstance(stmt, ir.If):
                lines += [indent + line for line in self.forward(stmt)]
                continue
            lines += self.forward_if(stmt, indent)
        return lines

    def list_forward(self, stmt) -> str:
        """A statement that builds a list, as the user wrote it."""
        if isinstance(stmt, ir.NewList):
            times = f" * {self.operand(stmt.times)}" if stmt.times is not None else ""
            return f"{stmt.target.ident} = [{', '.join(map(self.operand, stmt.elements))}]{times}"
        if isinstance(stmt, ir.Append):
            return f"{stmt.seq.ident}.append({self.operand(stmt.element)})"
        if isinstance(stmt, ir.SetItem):
            return f"{stmt.seq.ident}[{self.index(stmt.index)}] = {self.operand(stmt.element)}"
        if isinstance(stmt, ir.ListCall):
            self.modules.add("math")
            return f"{stmt.target.ident} = {self.math}.{stmt.fn}({', '.join(seq.ident for seq in stmt.seqs)})"
        return f"{stmt.target.ident} = {stmt.seq.ident}[{self.slice_text(stmt.bounds)}]"

    def index(self, operand: ir.Operand) -> str:
        """An index or a slice's bound: xs[-1], not xs[(-1)]."""
        return repr(operand.value) if isinstance(operand, ir.Const) else self.operand(operand)

    def slice_text(self, bounds: tuple) -> str:
        lower, upper, step = ("" if bound is None else self.index(bound) for bound in bounds)
        return f"{lower}:{upper}" + (f":{step}" if step else "")

    def list_backward(self, adj, indent: str) -> list[str]:
        """An element's adjoint out of its list's, or a slice's or sum's adjoint into a list's."""
        if isinstance(adj, ir.Unlist):
            seq = self.bar(adj.seq)
            taken = f"{seq}.pop()" if adj.index is None else f"{seq}[{self.index(adj.index)}]"
            if adj.period is not None:  # [a, b] * n: a's adjoint is the sum of every other entry from 0
                taken = f"{self.builtin('sum')}({seq}[{self.index(adj.index)}::{adj.period}])"
            lines = [] if adj.operand is None and adj.clear else \
                [indent + (taken if adj.operand is None else self.add_to(adj.operand, taken, adj.first))]
            if adj.clear:
                lines.append(f"{indent}{taken} = 0.0")
            return lines
        at = self.namer.fresh("_j")
        if isinstance(adj, ir.SliceAccumulate):  # the slice's positions in the list, as long as it is here
            seq, part = self.bar(adj.site.seq), self.bar(adj.site.target)
            g = self.namer.fresh("_g")
            return [f"{indent}for {at}, {g} in {self.builtin('zip')}({self.builtin('range')}({self.builtin('len')}"
                    f"({seq}))[{self.slice_text(adj.site.bounds)}], {part}):",
                    f"{indent}    {seq}[{at}] += {g}"]
        site = adj.site  # a ListCall: the partial in element `at` of seqs[index]
        seq, outer = self.bar(site.seqs[adj.index]), "1.0" if adj.seed else self.bar(site.target)
        if site.fn == "fsum":
            added = outer
        elif site.fn == "sumprod":
            other = site.seqs[1 - adj.index].ident
            added = f"{other}[{at}]" if adj.seed else f"{outer} * {other}[{at}]"
        else:  # dist(p, q): (p[j] - q[j]) / dist, and its negative for q
            p, q = (seq.ident for seq in site.seqs[::1 if adj.index == 0 else -1])
            added = f"({p}[{at}] - {q}[{at}]) / {site.target.ident}" + ("" if adj.seed else f" * {outer}")
        return [f"{indent}for {at} in {self.builtin('range')}({self.builtin('len')}({seq})):",
                f"{indent}    {seq}[{at}] += {added}"]

    def forward_if(self, stmt: ir.If, indent: str) -> list[str]:
        """if/elif/else: an else that is only the next test and its if prints
        as `elif` (a chain of 100 elifs must not nest 100 levels deep: Python
        allows 100 at most). The test is recorded with := if the sweep needs it."""
        inner = indent + "    "
        arms, test = [], stmt.cond.ident
        while True:
            arms.append((test, self.forward_block(stmt.then, inner) + self.merge_copies(stmt, "then", inner)))
            copies = self.merge_copies(stmt, "orelse", inner)
            chained = stmt.orelse[1] if len(stmt.orelse) == 2 and not copies and isinstance(stmt.orelse[1], ir.If) \
                and isinstance(stmt.orelse[0], ir.Assign) and stmt.orelse[0].target == stmt.orelse[1].cond \
                and not stmt.orelse[0].rule.temps and not self.maybe_none.intersection(stmt.orelse[0].args) else None
            if chained is None:
                return self.arms(arms, self.forward_block(stmt.orelse, inner) + copies, indent)
            test_stmt, stmt = stmt.orelse[0], chained
            test = self.render(_value_template(test_stmt.rule), self.names_for(test_stmt))
            if test_stmt.target in self.swept or test_stmt.target in self.used or \
                    any(test_stmt.target in tape for _, tape in self.tapes.values()):
                test = f"({test_stmt.target.ident} := {test})"

    def merge_copies(self, stmt: ir.If, side: str, indent: str) -> list[str]:
        """`target = value` at the end of one side, for each merge that needs it."""
        out = []
        for merge in stmt.merges:
            value = getattr(merge, side)
            if value is ir.UNBOUND and merge.target in self.none_first:
                out.append(f"{indent}{self.operand(merge.target)} = None  # unassigned in f here, copied on")
            # unbound on this side: not assigned, as in Python; or made under the merged name already
            elif value is not ir.UNBOUND and self.operand(merge.target) != self.operand(value):
                out.append(f"{indent}{self.operand(merge.target)} = {self.operand(value)}")
        return out

    def forward_loop(self, loop: ir.Loop, indent: str) -> list[str]:
        inner = indent + "    "
        lines = [f"{indent}{carry.head.ident} = {self.operand(carry.init)}" for carry in loop.carried
                 if carry.init is not ir.UNBOUND]
        tape = self.tapes.get(id(loop))
        counter = loop.count.ident if loop.count in self.counted else None
        if tape:  # a taped value made in a branch is pushed on every iteration, taken or not
            top = {stmt.target for stmt in loop.body if not isinstance(stmt, (ir.If, ir.Loop))} | \
                {carry.head for carry in loop.carried} | {loop.index} | \
                {m.target for stmt in loop.body if isinstance(stmt, ir.If) for m in stmt.merges} | \
                {carry.head for stmt in loop.body if isinstance(stmt, ir.Loop) for carry in stmt.carried} | \
                {stmt.count for stmt in loop.body if isinstance(stmt, ir.Loop)}
            lines += [f"{indent}{self.operand(item)} = None" for item in tape[1]
                      if isinstance(item, ir.Value) and item not in top]
            lines += [f"{indent}{self.temps_of_branch(item)} = None" for item in tape[1]
                      if not isinstance(item, ir.Value) and item[0] not in top]
        if counter:
            lines.append(f"{indent}{counter} = 0")
        if loop.cond is None:
            lines += self.unassigned(loop.bounds, indent)
            bounds = ", ".join(self.operand(b) for b in loop.bounds)
            lines.append(f"{indent}for {loop.index.ident} in {self.builtin('range')}({bounds}):")
        else:
            test = self.render(_value_template(loop.cond.rule), self.names_for(loop.cond))
            lines.append(f"{indent}while {test}:")
        none_heads = self._none_heads(loop)
        for carry in loop.carried:
            in_place = _updates_in_place(loop, carry, tape[1] if tape else ())
            if in_place:
                self.in_place[carry.update] = carry.head.ident
            if carry.head in none_heads:
                # No value before the loop, but copied or pushed on every iteration,
                # assigned or not: None until it is (only code that f itself fails
                # on, reading it unassigned, can tell the difference).
                lines.insert(len(lines) - 1, f"{indent}{carry.head.ident} = None")
        push_at = _push_at(loop, tape[1]) if tape else len(loop.body)
        body = self.forward_block(loop.body[:push_at], inner)
        if tape:
            items = self.tape_items(tape[1])
            pushed = items[0] if len(items) == 1 else f"({', '.join(items)})"
            body.append(f"{inner}{tape[0]}.append({pushed})")  # this iteration's values, for the sweep
        body += self.forward_block(loop.body[push_at:], inner)
        if counter:
            body.append(f"{inner}{counter} += 1")
        body += [f"{inner}{carry.head.ident} = {carry.update.ident}" for carry in loop.carried
                 if carry.update not in self.in_place]
        if loop.exit is not None:
            body.append(f"{inner}if {self.operand(loop.exit)}:")
            body.append(f"{inner}    break")
        return lines + (body or [f"{inner}pass"])

    def temps_of_branch(self, item: tuple) -> str:
        """The name a statement's temp will get; named now, before the loop that makes it."""
        names = self.temps.setdefault(item[0], {})
        return names.setdefault(f"t{item[1]}", self.namer.temp())

    def tape_items(self, tape: tuple) -> list[str]:
        """The names a loop's tape holds, each once: a branch's value and the merge
        after it may print as one name (the same variable: stored once, restored once)."""
        return list(dict.fromkeys(self.operand(item) if isinstance(item, ir.Value)
                                  else self.temps[item[0]][f"t{item[1]}"] for item in tape))

    def arms(self, arms: list[tuple[str, list[str]]], orelse: list[str], indent: str) -> list[str]:
        """if test: ... elif test: ... else: ..., leaving out what is empty
        (not a test that records a condition with :=, which the sweep reads)."""
        if not orelse and not any(lines for _, lines in arms) and not any(":=" in test for test, _ in arms[1:]):
            return []
        if len(arms) == 1 and not arms[0][1]:
            return [f"{indent}if not {arms[0][0]}:", *orelse]
        lines = []
        for k, (test, body) in enumerate(arms):
            lines += [f"{indent}{'elif' if k else 'if'} {test}:", *(body or [f"{indent}    pass"])]
        if orelse:
            lines += [f"{indent}else:", *orelse]
        return lines

    def backward_block(self, stmts: tuple, indent: str) -> list[str]:
        lines = []
        for adj in stmts:
            if isinstance(adj, ir.BackLoop):
                for update, head in adj.aliases:
                    if update not in self.in_place and any(isinstance(inner, ir.Flow) and inner.operand == update
                                                           for inner in adj.body):
                        # one variable could serve both (reverse._in_place), but the forward pass
                        # prints the update as a value of its own (`v_2 = ...; v_1 = v_2`): so do the
                        # adjoints (`v_2_bar = v_1_bar`), named as the reader sees the values
                        continue
                    self.bars[update] = self.bar(head)
                inner = indent + "    "
                if adj.loop.count is None:
                    bounds = ", ".join(self.operand(b) for b in adj.loop.bounds)
                    lines.append(f"{indent}for {adj.loop.index.ident} in "
                                 f"{self.builtin('reversed')}({self.builtin('range')}({bounds})):")
                else:  # as many iterations as the forward loop ran (while, or left by break)
                    lines.append(f"{indent}for {self.namer.fresh('_k')} in {self.builtin('range')}({adj.loop.count.ident}):")
                tape = self.tapes.get(id(adj.loop))
                if tape:
                    lines.append(f"{inner}{', '.join(self.tape_items(tape[1]))} = {tape[0]}.pop()")
                for stmt in adj.recompute:  # cheaper to redo than to store
                    lines += self.forward_block((stmt,), inner)
                lines += self.backward_block(adj.body, inner) or [f"{inner}pass"]
            elif isinstance(adj, ir.BackIf):
                inner = indent + "    "
                arms = [(adj.cond.ident, self.backward_block(adj.then, inner))]
                while True:  # an else that is only the next if: elif, as in the forward pass
                    printed = [inner_adj for inner_adj in adj.orelse if not self.silent(inner_adj)]
                    if len(printed) != 1 or not isinstance(printed[0], ir.BackIf):
                        break
                    adj = printed[0]
                    arms.append((adj.cond.ident, self.backward_block(adj.then, inner)))
                lines += self.arms(arms, self.backward_block(adj.orelse, inner), indent)
            elif isinstance(adj, ir.Flow):
                if self.silent(adj):
                    assert adj.first, f"an aliased adjoint would be added to itself: {adj}"
                    continue  # s_2_bar = s_4_bar with one name for both (see _merge_aliases)
                lines.append(indent + self.add_to(adj.operand, '1.0' if adj.seed else self.bar(adj.source), adj.first))
            elif isinstance(adj, ir.Zero):
                lines.append(f"{indent}{self.bar(adj.operand)} = {self.zero_like(adj.operand)}")
            elif isinstance(adj, ir.ZeroList) and self.arrays:  # a list, a list of arrays, or an array
                lines.append(f"{indent}{self.bar(adj.seq)} = {self.helper('_zeros_like')}({adj.seq.ident})")
            elif isinstance(adj, ir.ZeroList) and adj.seq in self.nested_lists:
                lines.append(f"{indent}{self.bar(adj.seq)} = {self.nested_zeros(adj.seq)}")
            elif isinstance(adj, ir.RowAdjoint):  # the same list: adding to row_bar[j] adds to A_bar[i][j]
                lines.append(f"{indent}{self.bar(adj.row)} = {self.bar(adj.seq)}[{self.index(adj.index)}]")
            elif isinstance(adj, ir.ZeroList) and adj.seq in self.tuple_lists:  # for a, b in pairs
                lines.append(f"{indent}{self.bar(adj.seq)} = [[0.0] * {self.builtin('len')}(pair) for pair in "
                             f"{adj.seq.ident}]")
            elif isinstance(adj, ir.ZeroList):
                lines.append(f"{indent}{self.bar(adj.seq)} = [0.0] * {self.builtin('len')}({adj.seq.ident})")
            elif isinstance(adj, ir.ArrayAccumulate):
                lines.append(indent + self.array_accumulate(adj))
            elif isinstance(adj, (ir.Unlist, ir.SliceAccumulate, ir.ListCallAccumulate)):
                lines += self.list_backward(adj, indent)
            elif isinstance(adj, ir.ItemAccumulate):
                added = "1.0" if adj.seed else self.bar(adj.source)
                at = f"[{adj.field}]" if adj.field is not None else ""
                lines.append(f"{indent}{self.bar(adj.seq)}[{self.index(adj.index)}]{at} += {added}")
            elif isinstance(adj, ir.Let):
                name = self.lets[adj.index] = self.namer.temp()
                lines.append(f"{indent}{name} = {self.tree_text(adj.expr)}")
            else:
                lines.append(indent + self.accumulate(adj))
        return lines

    def tree_text(self, tree: tuple, stmt: ir.Assign | None = None, spaced: bool = False) -> str:
        """An expression tree optimize made, with this function's names."""
        def leaf(node):
            kind = node[0]
            if kind in ("v", "c"):
                return self.operand(node[1])
            if kind == "tmp":
                return self.temps[node[1]][f"t{node[2]}"]
            if kind == "bar":
                return self.bar(node[1])
            return self.lets[node[1]]
        return ir.expr_text(self._named(tree), leaf, spaced)

    def _named(self, tree: tuple) -> tuple:
        """Calls and names of a tree as this output spells them: its math and
        numpy modules, builtins and helpers (recorded as used)."""
        kind = tree[0]
        if kind == "name":
            return ("name", self._spelled(tree[1]))
        if kind == "call":
            return ("call", self._spelled(tree[1]), *(self._named(part) for part in tree[2:]))
        if kind in ("bin", "un", "cmp", "bool"):
            return (*tree[:2], *(self._named(part) for part in tree[2:]))
        if kind == "if":
            return ("if", *(self._named(part) for part in tree[1:]))
        return tree

    def _spelled(self, name: str) -> str:
        if name.startswith("math."):
            self.modules.add("math")
            return f"{self.math}.{name[5:]}"
        if name.startswith("np."):
            self.modules.add("numpy")
            return f"{self.np}.{name[3:]}"
        if name.startswith("__b_"):
            return self.builtins[name[2:]]
        if name in mathlib.HELPERS:
            self.modules |= {name, "math"}
            return self.renamed(name + "(")[:-1]
        return name

    def silent(self, adj) -> bool:
        """An adjoint flow between two names for one variable: it prints nothing."""
        return isinstance(adj, ir.Flow) and not adj.seed and self.bar(adj.operand) == self.bar(adj.source)

    def forward(self, stmt: ir.Assign) -> list[str]:
        rule = stmt.rule
        names = self.names_for(stmt)
        lines = []
        named = self.temps.get(stmt.target, {})  # named already if a loop tapes them
        for index, temp in enumerate(rule.temps):
            same = self.same_temp.get((stmt.target, index))
            if same is not None:  # computed by an earlier statement already (optimize)
                made = names if same[0] == stmt.target else self.temps[same[0]]
                names[temp.symbol.name[2:]] = made[f"t{same[1]}"]
                continue
            name = named.get(f"t{index}") or self.namer.temp()
            lines.append(f"{name} = {self.render(_temp_template(rule, index), names)}")
            names[temp.symbol.name[2:]] = name
        self.temps[stmt.target] = {k: v for k, v in names.items() if k.startswith("t")}
        if stmt.target in self.rewritten:  # reads what an earlier statement computed (optimize)
            lines.append(f"{self.operand(stmt.target)} = {self.tree_text(self.rewritten[stmt.target], spaced=True)}")
        elif stmt.target not in self.g.unused:
            lines.append(f"{self.operand(stmt.target)} = {self.render(_value_template(rule), names)}")
        elif mathlib.can_raise(rule.value) or any(arg in self.g.unbound for arg in stmt.args):
            # nothing reads it, but f fails here for some inputs: so must we
            lines.append(f"{self.render(_value_template(rule), names)}  # may raise, as in {self.fn.name}")
        return lines

    def accumulate(self, acc: ir.Accumulate) -> str:
        stmt = acc.site
        names = self.names_for(stmt)
        names.update(self.temps.get(stmt.target, {}))
        if not acc.seed:
            names["zbar"] = self.bar(stmt.target)
        if acc.mirror:  # the same product was just assigned to another adjoint
            operand, sign = acc.mirror
            text = ("-" if sign < 0 else "") + self.bar(operand)
        elif acc.expr is not None:  # rewritten by optimize
            text = self.tree_text(acc.expr, stmt)
        else:
            text = self.render(contribution_template(acc, self.arrays), names)
        if self.arrays and self.shapes.needs_sum(acc.operand, stmt):
            # NumPy may have broadcast this operand to a larger shape: sum its adjoint back
            sign = "-" if text.startswith("-") else ""
            text = f"{sign}{self.helper('_sum_to')}({text[len(sign):]}, {self.operand(acc.operand)})"
        return self.add_to(acc.operand, text, acc.first)

    def render(self, template: Template, names: dict[str, str]) -> str:
        self.modules |= template.modules
        text = template.fill(names)
        if self.math != "math" and "math" in template.modules:
            text = re.sub(r"\bmath\.", f"{self.math}.", text)
        if self.np != "np" and "numpy" in template.modules:
            text = re.sub(r"\bnp\.", f"{self.np}.", text)
        if not template.modules.isdisjoint(mathlib.HELPERS):  # a partial calls _digamma
            text = self.renamed(text)
        return text

    def array_forward(self, stmt: ir.ArrayOp) -> str:
        """target = the user's reduction, product, reshape or shape query."""
        return self.render(_array_template(stmt.source), {f"a{i}": self.operand(arg) for i, arg in enumerate(stmt.args)})

    def array_accumulate(self, acc: ir.ArrayAccumulate) -> str:
        """operand_bar (+)= the rule of the operation for this operand."""
        site = acc.site
        names = {f"a{i}": self.operand(arg) for i, arg in enumerate(site.args)}
        names.update(r=self.operand(site.target), g="1.0" if acc.seed else self.bar(site.target))
        names["arrays"] = "(" + "".join(f"{self.operand(arg)}, " for arg in site.sources).rstrip(" ") + ")"
        text = arrays.grad_text(site.op, acc.index, dict(site.options))
        self.helpers.update(name for name in arrays.HELPERS if f"{name}(" in text)
        text = self.renamed(text)
        text = self.render(_array_template(text), names)
        return self.add_to(acc.operand, text, acc.first)

    def add_to(self, operand: ir.Value, text: str, first: bool) -> str:
        """operand_bar = text, or adds it. An array adjoint is never added to in
        place: it may be the same array object as another adjoint."""
        bar = self.bar(operand)
        if first:
            return f"{bar} = {text}"
        if operand in self.indexed_params:  # may be a list of arrays: add entry by entry
            return f"{bar} = {self.helper('_add')}({bar}, {text})"
        if self.arrays:
            if text.startswith("-"):
                return f"{bar} = {bar} - {text[1:]}"
            return f"{bar} = {bar} + {text}"
        if text.startswith("-"):  # product() puts '-' only in front of the whole product
            return f"{bar} -= {text[1:]}"
        return f"{bar} += {text}"

    def builtin(self, name: str) -> str:
        """How the output calls builtin `name`: by name, or by its alias if shadowed."""
        return self.shadowed.get(name, name)

    def bar(self, value: ir.Value) -> str:
        """The adjoint's variable: the value's name as the forward pass prints it, plus
        `_bar` (v_1_bar for a loop's update written into its head v_1)."""
        value = self.same_adjoint.get(value, value)  # a copy optimize forwarded
        value = self.alias.get(value, value)
        name = self.bars.get(value)
        if name is None:
            name = self.namer.adjoint(self.in_place.get(value, value.ident))
            self.bars[value] = name
        return name

    def nested_zeros(self, seq: ir.Value) -> str:
        """Zeros shaped like a list of lists."""
        row = self.namer.fresh("row")
        return f"[[0.0] * {self.builtin('len')}({row}) for {row} in {seq.ident}]"

    def gradient_of(self, param: ir.Value) -> str:
        if param in self.g.zero:
            if param in self.nested_lists:
                return self.nested_zeros(param)
            if param in self.fn.sequences:
                return f"[0.0] * {self.builtin('len')}({param.ident})"
            if self.arrays:  # an array's gradient is an array of its shape and dtype
                return self.zero_like(param)
            if param not in self.used or param in self.tested_only:  # it may be a list or a number
                declared = self.declared_kind(param)
                if declared == "list":
                    return f"[0.0] * {self.builtin('len')}({param.ident})"
                if declared is None:
                    return (f"([0.0] * {self.builtin('len')}({param.ident}) if {self.builtin('isinstance')}"
                            f"({param.ident}, ({self.builtin('list')}, {self.builtin('tuple')})) else 0.0)")
            return "0.0"
        if param == self.g.unit:
            return "1.0"
        if self.arrays and param not in self.fn.sequences:  # float32 in, float32 out; a float for a float
            return f"{self.helper('_like')}({self.bar(param)}, {param.ident})"
        return self.bar(param)

    def declared_kind(self, value: ir.Value) -> str | None:
        """"number" or "list" where the signature says which a parameter f never
        reads is (`dt: float`, `xs: list[float]`, `dt=0.1`), else None."""
        param = next(p for p in self.fn.params if p.value == value)
        annotation = (param.annotation or "").replace(" ", "")
        if annotation in _NUMBER_ANNOTATIONS:
            return "number"
        if re.fullmatch(r"(typing\.)?(list|List|tuple|Tuple|Sequence)(\[.*\])?", annotation):
            return "list"
        if param.default is not None and re.fullmatch(r"-?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|float\('-?(inf|nan)'\)",
                                                      param.default):
            return "number"  # a number by default: the gradient of the number it is
        return None

    def helper(self, name: str) -> str:
        """A helper of arrays.HELPERS the output calls: defined in the module, by this name."""
        self.helpers.add(name)
        return self.helper_names[name]

    def renamed(self, text: str) -> str:
        """Helper calls in a rule's text or a helper's definition, under their names here."""
        if all(alias == name for name, alias in self.helper_names.items()):
            return text
        return re.sub(r"\b(_[a-z_]+)(?=\()", lambda m: self.helper_names.get(m.group(1), m.group(1)), text)

    def zero_like(self, value: ir.Value) -> str:
        """A zero adjoint: 0.0, or zeros of a parameter's shape in NumPy code (it may be
        what the gradient returns)."""
        if self.arrays and value in {p.value for p in self.fn.params}:
            return f"{self.helper('_zeros_like')}({value.ident})"
        return "0.0"

    def operand(self, operand: ir.Operand) -> str:
        if isinstance(operand, ir.Value):
            operand = self.alias.get(operand, operand)
            return self.in_place.get(operand, operand.ident)
        value = operand.value
        if isinstance(value, float) and not math.isfinite(value):
            return f"{self.builtin('float')}('{value}')"
        text = repr(value)
        return f"({text})" if value < 0 else text
