"""ir.Function -> the same Function with a Rule (value + local partials) per statement.

The local partial on each edge is `sympy.diff` of the statement's expression
by each operand. Differentiating and rewriting are done once per *shape*,
over placeholder symbols, and cached for the process: a fresh `sympy.diff`
costs milliseconds, so doing it per statement would make 10,000 statements
take minutes; with the cache they cost one dictionary look-up each.

Partials are rewritten to reuse what the forward pass already holds:

1. the statement's own value: d exp(x)/dx is exp(x), i.e. RESULT;
2. for a value like a = 1/(1 + exp(-z)), whose partial still needs exp(-z),
   invert a = 1/(1 + exp(-z)) for exp(-z) and substitute: a*(1 - a), the
   sigmoid derivative a student knows. Accepted only if the result is a
   polynomial (no new division, so no new singularity);
3. whatever costly subexpression is left that the value also computes
   (exp, sin, sqrt, ...) becomes a temp computed once in the forward pass.

Every rewrite is checked numerically against the plain derivative at
sample points before it is kept: a rewrite that cannot be confirmed is
dropped, never trusted.
"""

from __future__ import annotations

import random
from dataclasses import replace

import sympy as sp

from . import ir, mathlib
from .errors import NotDifferentiable

_RULES: dict[ir.Shape, ir.Rule] = {}  # shape (interned) -> its rule, for this process


def derive(function: ir.Function) -> ir.Function:
    """Attach the Rule of its shape to every statement of `function`."""
    return replace(function, body=_derive_block(function.body, function.name))


def _derive_block(stmts: tuple[ir.Stmt, ...], name: str) -> tuple[ir.Stmt, ...]:
    out = []
    for stmt in stmts:
        if isinstance(stmt, ir.If):
            out.append(replace(stmt, then=_derive_block(stmt.then, name), orelse=_derive_block(stmt.orelse, name)))
            continue
        if isinstance(stmt, (ir.Item, ir.Length)):
            out.append(stmt)  # element access: its partial is 1 by construction, no SymPy needed
            continue
        if isinstance(stmt, ir.Loop):
            cond = _derive_block((stmt.cond,), name)[0] if stmt.cond is not None else None
            out.append(replace(stmt, body=_derive_block(stmt.body, name), cond=cond))
            continue
        rule = _RULES.get(stmt.shape)
        if rule is None:
            try:
                rule = rule_for(stmt.shape)
            except NotDifferentiable as err:
                raise NotDifferentiable(err.what, function=name, loc=stmt.loc, hint=err.hint) from None
            _RULES[stmt.shape] = rule
        out.append(replace(stmt, rule=rule))
    return tuple(out)


def is_condition(expr: sp.Basic) -> bool:
    """True for comparisons and their and/or/not (not for a Symbol, which SymPy also calls Boolean)."""
    return expr.is_Relational or isinstance(expr, (sp.logic.boolalg.BooleanFunction, sp.logic.boolalg.BooleanAtom))


def rule_for(shape: ir.Shape) -> ir.Rule:
    """The value, temps and partials of one shape, over its placeholders."""
    expr = shape.expr
    if is_condition(expr):  # a branch condition: steers, carries no gradient
        return ir.Rule((), expr, (sp.S.Zero,) * shape.arity)
    symbols = [mathlib.placeholder(i) for i in range(shape.arity)]
    # factor_terms: 2*(a - y), not 2*a - 2*y; exact, and cheap on one shape
    plain = [_same_calls(sp.factor_terms(_real(_diff(expr, symbol))), expr) for symbol in symbols]
    for partial in plain:
        if partial.has(sp.Derivative, sp.Subs):
            raise NotDifferentiable(f"SymPy cannot differentiate {expr}",
                                    hint="rewrite the expression with supported functions")
    points = _sample_points(symbols)
    partials = [_reuse_value(p, expr, points) for p in plain]
    partials = _solve_for_inner(partials, plain, expr, points)
    value, temps, partials = _share_temps(expr, partials)
    return ir.Rule(tuple(temps), value, tuple(partials))


class _RealAbs(sp.Function):
    """|u| for a u known to be real. SymPy's Abs cannot always prove that (in
    |x - log(x*x + c)| the log might be complex for c < 0, where Python raises)
    and then differentiates it through re() and im() into an unprintable tangle."""

    def fdiff(self, argindex=1):
        return sp.sign(self.args[0])


def _diff(expr: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
    try:
        if not expr.has(sp.Abs):
            return expr.diff(symbol)
        return expr.replace(sp.Abs, _RealAbs).diff(symbol).replace(_RealAbs, sp.Abs)
    except RecursionError:  # SymPy rebuilding nested Piecewise conditions can go round in circles
        raise NotDifferentiable("SymPy could not differentiate this expression (its conditional "
                                "expressions simplify in circles)",
                                hint="write the conditional expression as an if/else statement") from None


def _real(expr: sp.Expr) -> sp.Expr:
    """A partial tidied for real floats. Drops re() and im(): every value here
    is real (Python raises rather than go complex), but SymPy cannot always
    prove it, e.g. for d|a - (b if c else d)|. And writes v*sign(v) as |v|."""
    if expr.has(sp.re, sp.im):
        expr = expr.replace(sp.re, lambda arg: arg).replace(sp.im, lambda arg: sp.S.Zero)
    for sign in expr.atoms(sp.sign):  # d(v*|v|)/dv = v*sign(v) + |v|: v*sign(v) is |v|, also at 0
        expr = expr.subs(sign.args[0] * sign, sp.Abs(sign.args[0]))
    return expr


def _same_calls(partial: sp.Expr, expr: sp.Expr) -> sp.Expr:
    """Write calls in `partial` exactly as `expr` writes them. factor_terms
    turns exp(-w*x - b) into exp(-(w*x + b)): the same number, but no longer
    recognisably the value's own subexpression, to reuse or rewrite."""
    def plain_call(node) -> bool:  # a call on numbers (not a Piecewise of conditions)
        return isinstance(node, sp.Function) and all(isinstance(arg, sp.Expr) for arg in node.args)

    def canonical(node):
        if any(sp.count_ops(arg) > 40 for arg in node.args):
            return node  # expanding a large argument can take long: only an identical call matches
        return node.func(*(sp.expand(arg) for arg in node.args))

    calls = {}
    for call in expr.atoms(sp.Function):
        if plain_call(call):
            calls.setdefault(canonical(call), call)
    if not calls:
        return partial
    return partial.replace(lambda node: plain_call(node) and node not in calls.values() and canonical(node) in calls,
                           lambda node: calls[canonical(node)])


def _reuse_value(partial: sp.Expr, expr: sp.Expr, points: list[dict]) -> sp.Expr:
    """Write `partial` in terms of RESULT where it contains the value itself."""
    if expr.is_Symbol or expr.is_Number:
        return partial
    rewritten = partial.subs(expr, ir.RESULT).xreplace({expr: ir.RESULT})
    if rewritten == partial or not _agrees(rewritten, partial, expr, points):
        return partial
    return rewritten


def _solve_for_inner(partials: list[sp.Expr], plain: list[sp.Expr], expr: sp.Expr,
                     points: list[dict]) -> list[sp.Expr]:
    """If the partials need one costly inner term c of the value, try c = g(RESULT)."""
    needed = [c for c in _costly(expr) if any(p.has(c) for p in partials)]
    if len(needed) != 1 or sp.count_ops(expr) > 12 or expr.has(sp.Piecewise):
        return partials
    inner = needed[0]
    solution = _invert_mobius(expr, inner)
    if solution is None:
        return partials
    out = []
    allowed = list(expr.free_symbols) + [ir.RESULT]
    for partial, original in zip(partials, plain):
        if not partial.has(inner):
            out.append(partial)
            continue
        candidate = sp.simplify(partial.subs(inner, solution))
        if candidate.is_polynomial(*allowed) and _agrees(candidate, original, expr, points):
            out.append(candidate)
        else:
            out.append(partial)
    return out


def _invert_mobius(expr: sp.Expr, inner: sp.Expr) -> sp.Expr | None:
    """inner in terms of RESULT, if expr = (p*inner + q)/(r*inner + s).

    That form (sigmoid 1/(1 + exp(-z)), c*exp(x), ...) inverts with one
    division and no search: a general sympy.solve can take minutes or
    gigabytes on an innocent-looking statement, so we do not call it.
    """
    u = sp.Dummy("u", real=True)
    numer, denom = sp.fraction(sp.together(expr.xreplace({inner: u})))
    if numer.has(inner) or denom.has(inner):
        return None  # inner also occurs in another form (e.g. exp(2x) beside exp(x))
    try:
        top, bottom = sp.Poly(numer, u), sp.Poly(denom, u)
    except sp.PolynomialError:
        return None
    if top.degree() > 1 or bottom.degree() > 1 or (top.degree() < 1 and bottom.degree() < 1):
        return None
    p, q = top.coeff_monomial(u), top.coeff_monomial(1)
    r, s = bottom.coeff_monomial(u), bottom.coeff_monomial(1)
    # R*(r*u + s) = p*u + q  =>  u = (q - R*s)/(R*r - p)
    return (q - ir.RESULT * s) / (ir.RESULT * r - p)


def _share_temps(expr: sp.Expr, partials: list[sp.Expr]):
    """Pull costly subexpressions the partials need out as temps of the value."""
    temps: list[tuple[sp.Symbol, sp.Expr]] = []
    mapping: dict[sp.Expr, sp.Symbol] = {}
    value = expr
    for node in _costly(expr):
        node_now = node.xreplace(mapping)  # inner temps already replaced
        if not any(p.has(node_now) for p in partials):
            continue
        temp = sp.Symbol(f"__t{len(temps)}", real=True)
        temps.append((temp, node_now))
        mapping[node] = temp
        value = value.xreplace({node_now: temp})
        partials = [p.xreplace({node_now: temp}) for p in partials]
    return value, temps, partials


def _costly(expr: sp.Expr) -> list[sp.Expr]:
    """Function calls, roots and denominators in `expr`, innermost first, each
    once; not expr itself. Worth computing once if a partial needs them too."""
    denominators = {p.base for p in expr.atoms(sp.Pow) if p.exp.is_negative and p.base.is_Add}
    # Never hoist out of a branch of `a if c else b`: Python evaluates one side only.
    guarded = {node for piecewise in expr.atoms(sp.Piecewise) for node in sp.preorder_traversal(piecewise)}
    seen: list[sp.Expr] = []
    for node in sp.postorder_traversal(expr):
        if node is expr or node == expr or node in seen or node in guarded:
            continue
        if isinstance(node, (mathlib.Step, mathlib.StrictStep)):
            continue
        if isinstance(node, sp.Function) or (node.is_Pow and not node.exp.is_Integer) or node in denominators:
            seen.append(node)
    return seen


def _sample_points(symbols: list[sp.Symbol]) -> list[dict]:
    """Deterministic points of mixed sign, away from 0 and from ties."""
    rng = random.Random(len(symbols))
    points = []
    for _ in range(4):
        points.append({s: rng.choice((-1, 1)) * rng.uniform(0.15, 0.95) for s in symbols})
    points.append({s: rng.uniform(0.15, 0.95) for s in symbols})
    return points


def _agrees(candidate: sp.Expr, reference: sp.Expr, expr: sp.Expr, points: list[dict]) -> bool:
    """True if candidate == reference wherever both are real at the sample
    points (RESULT standing for expr there), and they are at one point at least."""
    confirmed = 0
    for point in points:
        want = mathlib.evaluate(reference, point)
        if want is None:
            continue
        result = mathlib.evaluate(expr, point)
        got = mathlib.evaluate(candidate, {**point, ir.RESULT: result}) if result is not None else None
        if got is None or abs(got - want) > 1e-9 * max(1.0, abs(want)):
            return False
        confirmed += 1
    return confirmed > 0
