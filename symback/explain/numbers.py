"""The chain rule at one point: every value, partial and adjoint as a number.

`evaluate(function, point)` runs the function's IR on the point, statement by
statement in program order, the way the generated forward pass does: each
statement's value from its shape tree as the user wrote it (printed to Python
by pyprint and run on floats, never SymPy's rewrite), each local partial
from derive's rule at the operands' values. Loops run their real number of
iterations and branches take the side the point takes, so every statement
that runs leaves one record: its value and the partial on each edge into it.
Sweeping the records backwards, output first, gives every adjoint
(operand_bar += partial * target_bar) and so the gradient.

Values are tracked per *instance*: `r` in a loop is a new number each
iteration, and its adjoint is that iteration's. A list's entries are
instances of their own, so `x = xs[i]` is an edge from the element xs[i].
"""

from __future__ import annotations

import builtins
import dataclasses
import math
from dataclasses import dataclass, field

import sympy as sp

from .. import ir, mathlib
from ..derive import is_condition
from ..errors import InternalError, UsageError
from ..pyprint import python_text


@dataclass(frozen=True)
class Step:
    """One edge of the reverse sweep, in sweep order: operand_bar += partial * target_bar."""
    target: str            # node id: the SSA value's ident (ir.Value.ident), as used for graph nodes
    operand: str           # node id of the operand (a parameter's ident for a parameter)
    partial: float         # the local partial ∂target/∂operand evaluated at this point (this iteration)
    target_bar: float      # target's adjoint when it is swept
    operand_bar: float     # operand's adjoint after this step
    line: int              # absolute source line of target's statement
    iteration: tuple[int, ...] = ()  # iteration numbers (0-based) of the enclosing loops, outermost first
    element: tuple[int, ...] | None = None  # the operand is this entry of the list `operand` (xs[i]: (i,))
    copy: bool = False     # a merge after an if, or a loop variable carried on: partial 1, no arithmetic
    operand_node: int = 0  # the operand's instance (see Visit.node): a list's entry is its element's
    target_node: int = 0   # the target's instance


@dataclass(frozen=True)
class Visit:
    """One value as the run made it: a statement in a loop makes one each iteration."""
    ident: str                       # node id, as Step.target
    line: int
    iteration: tuple[int, ...]
    value: object                    # a number, a bool (a test), an int (a count), a list
    node: int | None                 # this instance, for adjoints (None: no gradient flows through it)
    edges: tuple[tuple[int, str, tuple[int, ...] | None, float], ...]  # (operand node, operand id, element, partial)
    copy: bool = False               # a merge or a carried loop variable: partial 1
    adjoint: float | None = None     # d output / d this instance; None where it does not reach the output


@dataclass(frozen=True)
class Evaluation:
    point: dict[str, object]             # the arguments, by parameter name
    output: float                        # f's value there
    values: dict[str, object]            # node id -> forward value (for a value inside a loop: its last iteration's)
    iterations: dict[str, list]          # node id of a value inside a loop -> its value at each iteration, in order
    steps: tuple[Step, ...]              # the whole reverse sweep, in order (output end first)
    gradient: dict[str, object]          # parameter name -> d output/d parameter (float; list of floats for a list parameter)
    visits: tuple[Visit, ...] = ()       # every value made, in the order the run made them
    params: dict[str, object] = field(default_factory=dict)  # parameter name -> its node (a nested list for a list)
    output_node: int | None = None       # the node of the returned value


_BUILTINS = {f"__b_{name}": getattr(builtins, name) for name in mathlib.BUILTINS}


def evaluate(function: ir.Function, point: dict[str, object], wrt: tuple[ir.Value, ...],
             folds: tuple = ()) -> Evaluation:
    """Run `function` (parsed and derived) at `point` and sweep its adjoints back.
    `folds` (folds.Fold): builtin calls parse lowered into loops, each recorded as
    one value made from the values it reads (see _Run.fold)."""
    if function.arrays:
        raise UsageError(f"numbers at a point are not available for {function.name}, which uses NumPy",
                         hint="read the rules in str(explain(f)), or compute the gradient with grad(f)")
    run = _Run(function)
    run.folds = {id(fold.stmts[0]): fold for fold in folds}
    for param in function.params:
        run.bind(param.value, point[param.value.ident])
    run.block(function.body)
    result = function.result
    if not isinstance(result, ir.Value):
        output, out_inst = (result.value if isinstance(result, ir.Const) else 0.0), None
    else:
        output, out_inst = run.env[result], run.inst.get(result)
    steps, adjoint = run.sweep(out_inst)
    gradient = {param.ident: _shaped(run.param_inst[param], adjoint) for param in wrt}
    visits = tuple(dataclasses.replace(visit, adjoint=adjoint.get(visit.node)) if visit.node in adjoint else visit
                   for visit in run.visits)
    return Evaluation(dict(point), output, {v.ident: run.env[v] for v in run.env}, run.iterations, tuple(steps),
                      gradient, visits, {p.value.ident: run.param_inst[p.value] for p in function.params}, out_inst)


def _shaped(inst, adjoint: dict[int, float]):
    """The adjoints of a parameter's instances, in the parameter's shape (a list for a list)."""
    if isinstance(inst, list):
        return [_shaped(entry, adjoint) for entry in inst]
    if inst is None:
        return 0.0
    return adjoint.get(inst, 0.0)


class _Run:
    """One run of the IR: values, instances and the records of what ran."""

    def __init__(self, function: ir.Function):
        self.function = function
        self.env: dict[ir.Value, object] = {}
        self.inst: dict[ir.Value, object] = {}     # value -> its instance (a nested list for a list; None: no gradient)
        self.param_inst: dict[ir.Value, object] = {}
        self.visits: list[Visit] = []
        self.next = 0
        self.iteration: tuple[int, ...] = ()
        self.iterations: dict[str, list] = {}
        self.folds: dict[int, object] = {}

    def new(self) -> int:
        self.next += 1
        return self.next

    def bind(self, value: ir.Value, arg) -> None:
        self.env[value] = arg
        self.param_inst[value] = self.inst[value] = self._instances(arg)

    def _instances(self, arg):
        """A node per number of an argument (an int's too: it is differentiated as a float would be)."""
        if isinstance(arg, (list, tuple)):
            return [self._instances(entry) for entry in arg]
        return self.new()

    def set(self, value: ir.Value, number, inst, line: int, edges=(), copy: bool = False) -> None:
        """value = number: a new instance `inst` (made by `edges`), or None where no gradient flows."""
        self.env[value] = number
        self.inst[value] = inst
        if self.iteration:
            self.iterations.setdefault(value.ident, []).append(number)
        self.visits.append(Visit(value.ident, line, self.iteration, number, inst if isinstance(inst, int) else None,
                                 tuple(edges), copy))

    def operand(self, operand: ir.Operand):
        if isinstance(operand, ir.Const):
            return operand.value
        if operand is ir.UNBOUND or operand not in self.env:
            raise InternalError(f"{operand} has no value where {self.function.name} reads it")
        return self.env[operand]

    # --- statements ---------------------------------------------------------

    def block(self, stmts) -> None:
        stmts, k = tuple(stmts), 0
        while k < len(stmts):
            fold = self.folds.get(id(stmts[k]))
            if fold is not None:
                self.fold(fold)
                k += len(fold.stmts)
                continue
            stmt = stmts[k]
            k += 1
            method = getattr(self, "stmt_" + type(stmt).__name__, None)
            if method is None:
                raise UsageError(f"numbers at a point are not available for {type(stmt).__name__} statements",
                                 loc=getattr(stmt, "loc", None),
                                 hint="compute the gradient with grad(f)")
            method(stmt)

    def fold(self, fold) -> None:
        """max(ys), sum(e for x in xs): the loop parse made, run as it is, recorded as one
        value. Its partial by each number it reads is the chain rule through the loop's
        own records (the loop's sweep, at this point): for max, 1 at the element where
        the maximum is first found and 0 elsewhere, as the generated gradient has it."""
        outer, self.visits = self.visits, []
        for stmt in fold.stmts:
            getattr(self, "stmt_" + type(stmt).__name__)(stmt)  # a fold inside runs as a fold (block)
        inner, self.visits = self.visits, outer
        result = fold.result
        inst = self.inst.get(result)
        line = fold.loop.loc.line
        if not isinstance(inst, int):  # any(...), all(...): a test, no gradient
            self.set(result, self.env[result], None, line)
            return
        made = {visit.node for visit in inner if visit.node is not None}
        adjoint, reads = {inst: 1.0}, {}
        for visit in reversed(inner):
            bar = adjoint.get(visit.node)
            if bar is None:
                continue
            for node, ident, element, partial in visit.edges:
                if node in made:
                    adjoint[node] = adjoint.get(node, 0.0) + partial * bar
                else:
                    key = (node, ident, element)
                    reads[key] = reads.get(key, 0.0) + partial * bar
        # a first value set further up (sum's 0 before a slice of xs): back through its record too
        early = {stmt.target.ident for stmt in fold.early}
        for key in [key for key in reads if key[1] in early]:
            bar = reads.pop(key)
            record = next(visit for visit in reversed(self.visits) if visit.node == key[0])
            inner.insert(0, record)
            for node, ident, element, partial in record.edges:
                reads[(node, ident, element)] = reads.get((node, ident, element), 0.0) + partial * bar
            made.add(key[0])
        for node, ident, element, _ in (edge for visit in inner for edge in visit.edges):  # read order
            key = (node, ident, element)
            if node not in made and key not in reads:
                reads[key] = 0.0  # read, but no gradient reaches it (not the maximum)
        order = {key: n for n, key in enumerate(dict.fromkeys(
            (node, ident, element) for visit in inner for node, ident, element, _ in visit.edges))}
        edges = [(node, ident, element, partial) for (node, ident, element), partial in
                 sorted(reads.items(), key=lambda item: order.get(item[0], 0))]
        self.set(result, self.env[result], self.new(), line, edges)

    def stmt_Assign(self, stmt: ir.Assign) -> None:
        args = [self.operand(arg) for arg in stmt.args]
        temps = []
        for temp in stmt.rule.temps:
            temps.append(_run_tree(temp.tree, args, temps, stmt))
        value = _run_tree(stmt.rule.value, args, temps, stmt)
        if is_condition(stmt.shape.expr):
            self.set(stmt.target, value, None, stmt.loc.line)  # a test: it steers, no gradient flows through it
            return
        env = {mathlib.placeholder(i): float(a) for i, a in enumerate(args) if _is_number(a)}
        env.update({mathlib.temp_symbol(j): float(t) for j, t in enumerate(temps) if _is_number(t)})
        if _is_number(value):
            env[ir.RESULT] = float(value)
        edges, seen = [], set()
        for i, arg in enumerate(stmt.args):
            if not isinstance(arg, ir.Value) or arg in seen or not isinstance(self.inst.get(arg), int):
                continue
            seen.add(arg)
            partial = math.fsum(_number(stmt.rule.partials[j], env) for j, other in enumerate(stmt.args)
                                if other == arg)
            edges.append((self.inst[arg], arg.ident, None, partial))
        self.set(stmt.target, value, self.new(), stmt.loc.line, edges)

    def stmt_Item(self, stmt: ir.Item) -> None:
        index = int(self.operand(stmt.index))
        seq, inst = self.env[stmt.seq], self.inst[stmt.seq]
        value, entry, where = seq[index], inst[index], (index,)
        if stmt.field is not None:
            value, entry, where = value[stmt.field], entry[stmt.field], (index, stmt.field)
        if isinstance(entry, int):
            element = where if index >= 0 else (len(seq) + index,) + where[1:]
            self.set(stmt.target, value, self.new(), stmt.loc.line, [(entry, stmt.seq.ident, element, 1.0)])
        else:
            self.set(stmt.target, value, entry, stmt.loc.line)  # a row of a list of lists: the same entries

    def stmt_Length(self, stmt: ir.Length) -> None:
        self.set(stmt.target, len(self.env[stmt.seq]), None, stmt.loc.line)

    def stmt_NewList(self, stmt: ir.NewList) -> None:
        values = [self.operand(e) for e in stmt.elements]
        insts = [self.inst.get(e) if isinstance(e, ir.Value) else None for e in stmt.elements]
        if stmt.times is not None:
            times = int(self.operand(stmt.times))
            values, insts = values * times, insts * times
        self.set(stmt.target, values, insts, stmt.loc.line)

    def stmt_Append(self, stmt: ir.Append) -> None:
        self.env[stmt.seq].append(self.operand(stmt.element))
        self.inst[stmt.seq].append(self.inst.get(stmt.element) if isinstance(stmt.element, ir.Value) else None)

    def stmt_SetItem(self, stmt: ir.SetItem) -> None:
        index = int(self.operand(stmt.index))
        self.env[stmt.seq][index] = self.operand(stmt.element)
        self.inst[stmt.seq][index] = self.inst.get(stmt.element) if isinstance(stmt.element, ir.Value) else None

    def stmt_Slice(self, stmt: ir.Slice) -> None:
        bounds = slice(*(None if b is None else int(self.operand(b)) for b in stmt.bounds))
        self.set(stmt.target, list(self.env[stmt.seq][bounds]), list(self.inst[stmt.seq][bounds]), stmt.loc.line)

    def stmt_ListCall(self, stmt: ir.ListCall) -> None:
        seqs = [self.env[seq] for seq in stmt.seqs]
        value = float(getattr(math, stmt.fn)(*seqs))
        edges = []
        for k, seq in enumerate(stmt.seqs):
            for j, entry in enumerate(self.inst[seq]):
                if not isinstance(entry, int):
                    continue
                if stmt.fn == "fsum":
                    partial = 1.0
                elif stmt.fn == "sumprod":
                    partial = float(seqs[1 - k][j])
                else:  # dist(p, q): (p[j] - q[j]) / dist, and its negative for q
                    partial = (seqs[0][j] - seqs[1][j]) / value * (1.0 if k == 0 else -1.0)
                edges.append((entry, seq.ident, (j,), partial))
        self.set(stmt.target, value, self.new(), stmt.loc.line, edges)

    def stmt_Raise(self, stmt: ir.Raise) -> None:
        raise UsageError(f"{self.function.name} raises at this point (line {stmt.loc.line}: "
                         f"{stmt.loc.text.strip()})", loc=stmt.loc,
                         hint="choose a point where the function returns a value")

    def stmt_If(self, stmt: ir.If) -> None:
        taken = bool(self.env[stmt.cond])
        self.block(stmt.then if taken else stmt.orelse)
        for merge in stmt.merges:
            self.copy(merge.target, merge.then if taken else merge.orelse, stmt.loc.line)

    def copy(self, target: ir.Value, source: ir.Operand, line: int) -> None:
        """target = source: a merge, or a loop variable carried on (an edge of partial 1)."""
        if source is ir.UNBOUND or (isinstance(source, ir.Value) and source not in self.env):
            self.env.pop(target, None)  # unassigned here, as in f: reading it would raise
            self.inst.pop(target, None)
            return
        inst = self.inst.get(source) if isinstance(source, ir.Value) else None
        if isinstance(inst, int):
            self.set(target, self.operand(source), self.new(), line, [(inst, source.ident, None, 1.0)], copy=True)
        else:
            self.set(target, self.operand(source), inst, line)

    def stmt_Loop(self, stmt: ir.Loop) -> None:
        line, outer = stmt.loc.line, self.iteration
        self.iteration = outer + (0,)
        for carry in stmt.carried:
            self.copy(carry.head, carry.init, line)
        count = 0
        indices = iter(range(*(int(self.operand(b)) for b in stmt.bounds))) if stmt.cond is None else None
        while True:
            self.iteration = outer + (count,)
            if indices is not None:
                index = next(indices, None)
                if index is None:
                    break
                self.set(stmt.index, index, None, line)
            else:
                self.stmt_Assign(stmt.cond)
                if not self.env[stmt.cond.target]:
                    break
            self.block(stmt.body)
            count += 1
            self.iteration = outer + (count,)
            updates = [(carry.head, carry.update) for carry in stmt.carried]
            for head, update in updates:
                self.copy(head, update, line)
            if stmt.exit is not None and self.operand(stmt.exit):
                break
        self.iteration = outer
        if stmt.count is not None:
            self.set(stmt.count, count, None, line)

    # --- the sweep ----------------------------------------------------------

    def sweep(self, output: int | None) -> tuple[list[Step], dict[int, float]]:
        """The reverse sweep over the records, output first: every adjoint."""
        adjoint: dict[int, float] = {} if output is None else {output: 1.0}
        steps = []
        for visit in reversed(self.visits):
            if visit.node not in adjoint:
                continue  # reaches no output
            bar = adjoint[visit.node]
            for inst, ident, element, partial in visit.edges:
                adjoint[inst] = adjoint.get(inst, 0.0) + partial * bar
                steps.append(Step(visit.ident, ident, partial, bar, adjoint[inst], visit.line,
                                  visit.iteration, element, visit.copy, inst, visit.node))
        return steps, adjoint


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_compiled: dict[tuple, object] = {}


def _run_tree(tree: tuple, args: list, temps: list, stmt: ir.Assign):
    """A shape tree on numbers, as the generated forward pass runs it (Python's own operations)."""
    code = _compiled.get(tree)
    if code is None:
        text, _ = python_text(tree)
        code = _compiled[tree] = compile(text, f"<{text}>", "eval")
    names = {**_BUILTINS, "math": math, "isinstance": isinstance}
    names.update((f"__a{i}", a) for i, a in enumerate(args))
    names.update((f"__t{j}", t) for j, t in enumerate(temps))
    try:
        return eval(code, names)  # noqa: S307 -- our own printed tree, over numbers only
    except (ArithmeticError, ValueError) as err:
        raise UsageError(f"line {stmt.loc.line} fails at this point: {type(err).__name__}: {err}",
                         loc=stmt.loc, hint="choose a point where the function returns a value") from None


_lambdified: dict[sp.Expr, object] = {}


def _number(partial: sp.Expr, env: dict[sp.Symbol, float]) -> float:
    """A local partial at the point, in floats; nan where it has no finite value (x**0.5 at 0)."""
    if partial.is_Number:
        return float(partial)
    value = mathlib.evaluate(partial, env)
    if value is not None:
        return value
    symbols = sorted(partial.free_symbols, key=str)
    fn = _lambdified.get(partial)
    if fn is None:
        python = {cls.__name__: cls.python for cls in _subclasses(mathlib._PythonFunction)}
        fn = _lambdified[partial] = sp.lambdify(symbols, partial, modules=[python, "math"])
    try:
        return float(fn(*(env[s] for s in symbols)))
    except (ArithmeticError, ValueError, TypeError, KeyError):
        return math.nan


def _subclasses(cls) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub] + _subclasses(sub)
    return out
