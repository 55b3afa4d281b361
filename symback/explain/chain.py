"""The chain rule for each input, as terms of products, ready to print.

Three forms, one idea: d out/d p is a sum of products of local partials.

- paths: for code without loops, every path from p to the output, its
  local partials along it (`∂z/∂w · ∂a/∂z · ∂cost/∂a`); at a point, the
  path through the side each branch took, each factor a number.
- uses: for loops (or too many paths), one term per edge leaving p: the
  local partial times the adjoint of the value it feeds,
  `Σ_i ∂r⁽ⁱ⁾/∂w · ∂loss/∂r⁽ⁱ⁾`, the sum running over the loop's iterations
  and a branch's side written as the condition it needs (`[|r| <= d]`);
  at a point, one term per iteration that ran (the first and last few).

Text and LaTeX print the same Chains (text.py, latex.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import sympy as sp

from .. import ir
from .numbers import Evaluation

MAX_PATHS = 12   # paths listed per input; past this the uses form is shown
MAX_TERMS = 12   # terms listed at a point: the first and last few iterations


@dataclass(frozen=True)
class Factor:
    """∂target/∂operand (a local partial), or ∂out/∂target (an adjoint: `adjoint`)."""
    target: str
    operand: str
    iteration: tuple = ()            # numbers at a point; letters in the symbolic form
    partial: sp.Expr | None = None   # the local partial's formula
    number: float | None = None
    adjoint: bool = False


@dataclass(frozen=True)
class Term:
    factors: tuple[Factor, ...]
    sums: tuple[str, ...] = ()                       # Σ over these letters
    conditions: tuple[tuple[str, str, bool], ...] = ()  # (text, LaTeX, holds): the branch sides it needs
    value: float | None = None


@dataclass
class Chain:
    """d out / d param, written as the sum of `terms`."""
    param: str                       # as shown: w, xs[i], xs[0]
    terms: list[Term]
    form: str                        # "paths" or "uses"
    total: float | None = None       # at a point: the gradient
    left_out: int = 0                # terms not listed (counted)
    loops: list[tuple[str, str]] = field(default_factory=list)  # (letter, the loop's heading and line)


class Chains:
    """Builds the Chains of an Explanation (see Explanation.chains)."""

    def __init__(self, explanation):
        self.x = explanation
        self.model = explanation.model
        self.looped = any(row.kind == "loop" for row in self.model.rows)
        self.ident_name = {}
        for value in self._values():
            self.ident_name[value.ident] = explanation.name(value)

    def _values(self):
        fn = self.x.function
        yield from (p.value for p in fn.params)
        for item in ir.walk(fn.body):
            yield item.target
        for loop in ir.loops(fn.body):
            if loop.index is not None:
                yield loop.index

    def shown(self, ident: str) -> str:
        return self.ident_name.get(ident, ident)

    # --- without numbers ----------------------------------------------------------

    def symbolic(self, param: ir.Value) -> list[Chain]:
        if self.x.straight:
            paths = self.x.paths(param)
            if len(paths) <= MAX_PATHS:
                terms = [Term(tuple(self._edge_factor(e) for e in path if self._shows(e))) for path in paths]
                return [Chain(param.ident, terms, "paths", left_out=max(0, self.x._count_paths(param) - MAX_PATHS))]
        return self._uses(param)

    def _branched(self) -> bool:
        return not self.x.straight and not self.looped

    def _shows(self, edge) -> bool:
        """An edge worth a factor: not a copy (merge, carried variable) nor reading an element into its own name."""
        row_kind = self._kind.get(edge.target)
        if row_kind in ("merge", "carry"):
            return False
        if edge.element is not None and self.x.name(edge.target) == f"{self.x.name(edge.operand)}[{edge.element}]":
            return False
        return True

    @property
    def _kind(self) -> dict:
        if not hasattr(self, "_kinds"):
            self._kinds = {row.target: row.kind for row in self.model.rows if row.target is not None}
        return self._kinds

    def _edge_factor(self, edge, iteration=()) -> Factor:
        operand = self.x.name(edge.operand) + (f"[{edge.element}]" if edge.element is not None else "")
        return Factor(self.x.name(edge.target), operand, iteration, self.x._shown(edge.partial))

    def _uses(self, param: ir.Value) -> list[Chain]:
        """d out/d param = Σ over the edges leaving param of ∂t/∂param · ∂out/∂t."""
        out = self.x.out_label
        chains: dict[str, Chain] = {}
        for row in self.model.rows:
            for edge in row.edges:
                if edge.operand != param:
                    continue
                letters = tuple(self.model.letters[id(loop)] for loop in row.loops)
                head = param.ident + (f"[{edge.element}]" if edge.element is not None else "")
                sums = tuple(letter for letter in letters if letter != edge.element)
                target = self.x.name(row.target)
                factors = [Factor(target, head, letters, self.x._shown(edge.partial)),
                           Factor(out, target, letters, adjoint=True)]
                if row.kind == "carry":  # the loop's variable starts as param: its value in the first iteration
                    letters = letters[:-1] + (0,)
                    sums = sums[:-1]
                    factors = [Factor(out, target, letters, adjoint=True)]
                elif row.target == self.x.output:
                    factors = factors[:1]  # d out/d out is 1
                elif row.kind == "merge":
                    factors = factors[1:]  # a copy: partial 1
                elif edge.element is not None and target == head:  # xs[i] read into an expression: itself
                    factors = [Factor(out, target, (), adjoint=True)]
                conditions = tuple((*self.model.condition(stmt), side) for stmt, side in row.branches)
                chain = chains.setdefault(head, Chain(head, [], "uses"))
                chain.terms.append(Term(tuple(factors), sums, conditions))
                for loop in row.loops:
                    entry = (self.model.letters[id(loop)], f"line {loop.loc.line}: {_head(loop)}")
                    if entry not in chain.loops:
                        chain.loops.append(entry)
        return list(chains.values()) or [Chain(param.ident, [], "uses")]

    # --- at a point ----------------------------------------------------------------

    def at(self, param: ir.Value, evaluation: Evaluation) -> list[Chain]:
        node = evaluation.params[param.ident]
        if isinstance(node, list):
            return self._list_at(param, evaluation, node)
        total = evaluation.gradient.get(param.ident)
        if not self.looped:
            paths = self._paths_at(node, evaluation)
            if paths is not None:
                terms = [self._path_term(path) for path in paths]
                return [Chain(param.ident, terms, "paths", total)]
        return [self._uses_at(param.ident, lambda step: step.operand_node == node, evaluation, total)]

    def _list_at(self, param: ir.Value, evaluation: Evaluation, nodes: list) -> list[Chain]:
        chains = []
        gradient = evaluation.gradient.get(param.ident)
        for k in _shown_indices(len(nodes)):
            total = gradient[k] if isinstance(gradient, list) else None
            inside = set(_flat(nodes[k]))  # the entry's node, or those of a tuple or row at k
            chains.append(self._uses_at(f"{param.ident}[{k}]", lambda step, inside=inside: step.operand_node in inside,
                                        evaluation, total if not isinstance(total, list) else None))
        if len(nodes) > len(_shown_indices(len(nodes))):
            chains[-1].left_out = len(nodes) - len(_shown_indices(len(nodes)))
        return chains

    def _uses_at(self, head: str, picks, evaluation: Evaluation, total) -> Chain:
        out = self.x.out_label
        steps = [step for step in reversed(evaluation.steps) if picks(step)]  # program order
        terms = []
        for step in steps:
            operand = f"{self.shown(step.operand)}[{']['.join(map(str, step.element))}]" \
                if step.element is not None and step.operand == head.split("[")[0] else head
            target = self.shown(step.target)
            factors = [Factor(target, operand, step.iteration, self._partial_of(step), step.partial),
                       Factor(out, target, step.iteration, None, step.target_bar, adjoint=True)]
            if step.element is not None and target.startswith(f"{self.shown(step.operand)}["):  # ws[0] itself
                factors = [Factor(out, operand, (), None, step.target_bar, adjoint=True)]
            elif step.target_node == evaluation.output_node:
                factors = factors[:1]  # d out/d out is 1
            terms.append(Term(tuple(factors), value=step.partial * step.target_bar))
        chain = Chain(head, terms, "uses", total if total is not None else math.fsum(t.value for t in terms))
        if len(terms) > MAX_TERMS:
            keep = MAX_TERMS - 3
            chain.left_out = len(terms) - MAX_TERMS
            chain.terms = terms[:keep] + [None] + terms[-3:]  # None: where the left-out terms go
        return chain

    def _partial_of(self, step) -> sp.Expr | None:
        """The formula of the edge a step (or a path's edge) runs along."""
        if not hasattr(self, "_formulas"):
            self._formulas = {(edge.target.ident, edge.operand.ident): edge.partial
                              for row in self.model.rows for edge in row.edges}
        partial = self._formulas.get((step.target, step.operand))
        return None if partial is None else self.x._shown(partial)

    def _paths_at(self, param_node: int, evaluation: Evaluation) -> list[list] | None:
        """Every path of the run from the parameter to the output, as (visit, edge) lists; None if too many."""
        by_node = {visit.node: visit for visit in evaluation.visits if visit.node is not None}
        out = evaluation.output_node
        if out is None:
            return []
        count: dict[int, int] = {param_node: 1}
        for visit in evaluation.visits:  # in program order: operands before targets
            if visit.node is not None:
                count[visit.node] = count.get(visit.node, 0) + sum(count.get(e[0], 0) for e in visit.edges)
        if count.get(out, 0) > MAX_PATHS:
            return None
        paths: list[list] = []

        def walk(node: int, suffix: list) -> None:
            if node == param_node:
                paths.append(suffix)
                return
            visit = by_node.get(node)
            if visit is None:
                return
            for edge in visit.edges:
                if count.get(edge[0], 0):
                    walk(edge[0], [(visit, edge)] + suffix)

        walk(out, [])
        return paths

    def _path_term(self, path: list) -> Term:
        factors, value = [], 1.0
        for visit, (node, ident, element, partial) in path:
            value *= partial
            target = self.shown(visit.ident)
            operand = self.shown(ident) + (f"[{']['.join(map(str, element))}]" if element is not None else "")
            if element is not None and target == operand:
                continue
            factors.append(Factor(target, operand, visit.iteration,
                                  self._partial_of(_StepLike(visit.ident, ident)), partial))
        return Term(tuple(factors), value=value)


@dataclass(frozen=True)
class _StepLike:
    target: str
    operand: str


def _flat(node) -> list:
    return [leaf for entry in node for leaf in _flat(entry)] if isinstance(node, list) else [node]


def _shown_indices(n: int) -> list[int]:
    return list(range(n)) if n <= 6 else [0, 1, 2, n - 2, n - 1]


def _head(loop: ir.Loop) -> str:
    from .model import statement_head
    return statement_head(loop.loc.text)


def superscript(iteration: tuple) -> str:
    """(0,) -> ⁽⁰⁾, ('i', 'j') -> ⁽ⁱ,ʲ⁾; () -> ''."""
    if not iteration:
        return ""
    parts = [str(part) for part in iteration]
    if all(all(ch in _SUPER for ch in part) for part in parts):
        return "⁽" + ",".join("".join(_SUPER[ch] for ch in part) for part in parts) + "⁾"
    return "^(" + ",".join(parts) + ")"


_SUPER = dict(zip("0123456789ijklmnprstuvwxyzabcdefghoj-", "⁰¹²³⁴⁵⁶⁷⁸⁹ⁱʲᵏˡᵐⁿᵖʳˢᵗᵘᵛʷˣʸᶻᵃᵇᶜᵈᵉᶠᵍʰᵒʲ⁻"))
