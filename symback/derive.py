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

Float literals that are whole numbers (and a factor 0.5) are in the shape
exactly (see mathlib.exact_literal), so 1.0 and 1 give the same partials;
in them, such a literal prints as written again (2*(x - 10.0)), 0 and 1 aside.

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
        if isinstance(stmt, (ir.Item, ir.Length, ir.ArrayOp, ir.Raise, *ir.LIST_STMTS)):
            out.append(stmt)  # element access, lists: partial 1; array operations: a rule of arrays.RULES
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
    if shape.tree[0] in mathlib.CONDITIONS:  # a branch condition: steers, carries no gradient
        return ir.Rule((), shape.tree, (sp.S.Zero,) * shape.arity)
    expr = shape.expr
    symbols = [mathlib.placeholder(i) for i in range(shape.arity)]
    # factor_terms: 2*(a - y), not 2*a - 2*y; exact, and cheap on one shape
    plain = [_same_calls(_tidy(_real(_diff(expr, symbol))), expr) for symbol in symbols]
    for partial in plain:
        if partial.has(sp.Derivative, sp.Subs):
            raise NotDifferentiable(f"SymPy cannot differentiate {expr}",
                                    hint="rewrite the expression with supported functions")
    points = _sample_points(symbols)
    partials = [_reuse_value(p, expr, points) for p in plain]
    partials = _solve_for_inner(partials, plain, expr, points)
    temps, value, partials = _hoist(shape.tree, partials, symbols)
    written = {int(v) for v in _whole_float_literals(shape.tree) if v > 1}
    partials = [_as_written(p, written) for p in partials]
    return ir.Rule(temps, value, tuple(partials))


def _whole_float_literals(tree: tuple) -> list[float]:
    """The float literals of a tree that SymPy read as integers (10.0 as 10), outside powers."""
    if tree[0] == "num":
        return [abs(tree[1])] if isinstance(tree[1], float) and tree[1].is_integer() else []
    if tree[0] in mathlib.LEAVES:
        return []
    children = mathlib.children(tree)[:1] if tree[0] == "bin" and tree[1] == "**" else mathlib.children(tree)
    return [v for child in children for v in _whole_float_literals(child)]


def _as_written(partial: sp.Expr, written: set[int]) -> sp.Expr:
    """The partial with each integer that is one of the statement's float literals
    (10.0, read as 10) a float again, as the user wrote it: 2*(x - 10.0) for
    (x - 10.0)**2, but a*(1 - a) for 1.0/(1.0 + exp(-z)) (0 and 1 stay: no float
    is needed to say them). Rebuilt unevaluated, so a float factor does not
    distribute over a sum; never inside an exponent (x**2 stays a square)."""
    if not written:
        return partial
    if partial.is_Integer:
        return sp.Float(int(partial)) if abs(int(partial)) in written else partial
    if partial.is_Add or partial.is_Mul:
        args = [_as_written(arg, written) for arg in partial.args]
        return partial if args == list(partial.args) else partial.func(*args, evaluate=False)
    if partial.is_Pow:
        base = _as_written(partial.base, written)
        return partial if base == partial.base else sp.Pow(base, partial.exp, evaluate=False)
    return partial


def _tidy(partial: sp.Expr) -> sp.Expr:
    """factor_terms (2*(a - y), not 2*a - 2*y), unless that cancels a variable
    from the denominator: d/dx atan2(i*x, 1.5*i) is 1.5*i**2/(i**2*x**2 +
    2.25*i**2), and 1.5/(x**2 + 2.25) is not its value at i = 0 (where f is flat
    in x): the partial keeps the division f's own formula has there."""
    tidy = sp.factor_terms(partial)
    if sp.denom(partial).free_symbols - sp.denom(tidy).free_symbols:
        return partial
    return tidy


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
    needed = [c for c in _inner_calls(expr) if any(p.has(c) for p in partials)]
    if len(needed) != 1 or sp.count_ops(expr) > 12 or expr.has(sp.Piecewise):
        return partials
    inner = needed[0]
    solution = _invert_mobius(expr, inner)
    if solution is None:
        return partials
    out = []
    for partial, original in zip(partials, plain):
        if not partial.has(inner):
            out.append(partial)
            continue
        substituted = partial.subs(inner, solution)
        if not substituted.free_symbols <= {ir.RESULT}:
            # another operand stays (x beside sqrt(x)): no form in the value alone,
            # and SymPy's simplify can take minutes looking for one
            out.append(partial)
            continue
        candidate = sp.simplify(substituted)
        # Only a form in the value alone: a*(1 - a). One that also reads an
        # operand recovers the inner term by cancellation (exp(x) as s - c for
        # s = c + exp(x)), which loses all precision when c is large.
        if candidate.free_symbols <= {ir.RESULT} and candidate.is_polynomial(ir.RESULT) \
                and _agrees(candidate, original, expr, points):
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


def _hoist(tree: tuple, partials: list[sp.Expr], symbols: list[sp.Symbol]):
    """Pull the costly subexpressions the partials need out of the value as
    temps, computed once, before the statement; returns (temps, value tree,
    partials in terms of the temps).

    Only subexpressions Python always evaluates are hoisted (never one side
    of `a if c else b` or the right of `and`), and the temps keep Python's
    order of evaluation: whatever could raise before a temp in the
    statement is hoisted ahead of it, so the gradient fails where f fails,
    with the same exception.
    """
    nodes = list(_evaluated(tree))  # (path, subtree), innermost first, in evaluation order
    forms: dict[tuple, sp.Dummy] = {}  # chosen path -> the symbol the partials use for it
    mapping: dict[sp.Expr, sp.Dummy] = {}  # SymPy form of a chosen subtree -> that symbol
    chosen: list[tuple] = []
    for path, sub in nodes:
        if sub[0] in mathlib.LEAVES or sub[0] == "ind" or not path:
            continue  # a comparison as a number is a bool: its partial prints as 1.0 or 0.0 instead
        original = mathlib.to_sympy(sub, symbols)
        form = original.xreplace(mapping)  # as the partials have it: inner temps put in
        if not _costly(form, partials) or not any(p.has(form) for p in partials):
            continue
        symbol = sp.Dummy()  # renamed to temp_symbol(j) once the order is known
        forms[path] = symbol
        mapping[original] = symbol
        partials = [p.xreplace({form: symbol}) for p in partials]
        chosen.append(path)
    if not chosen:
        return (), tree, partials
    # Every operation that may raise and finishes before a temp starts is
    # hoisted ahead of it, each on its own (1/x, math.log(y)), in order.
    order = {path: k for k, (path, _) in enumerate(nodes)}
    first = _first_positions(nodes)
    earlier = {other for path in chosen for other, sub in nodes
               if order[other] < first[path] and mathlib.raises_itself(sub)}
    paths = sorted(set(chosen) | earlier, key=order.__getitem__)
    temps, renames = [], {}
    for j, path in enumerate(paths):
        sub = _replace(_at(tree, path), {p[len(path):]: ("temp", k) for k, p in enumerate(paths[:j])
                                         if p[:len(path)] == path and p != path})
        symbol = mathlib.temp_symbol(j)
        expr = mathlib.to_sympy(sub, symbols)
        temps.append(ir.Temp(symbol, sub, expr))
        if path in chosen:
            renames[forms[path]] = symbol
    value = _replace(tree, {p: ("temp", j) for j, p in enumerate(paths)})
    partials = [p.xreplace(renames) for p in partials]
    return tuple(temps), value, partials


def _evaluated(tree: tuple, path: tuple = ()):
    """(path, subtree) of every subtree Python always evaluates when it
    evaluates `tree`, in the order it finishes them (children first)."""
    for k, child in enumerate(mathlib.children(tree)[:mathlib.unguarded(tree)]):
        yield from _evaluated(child, path + (k,))
    yield path, tree


def _first_positions(nodes: list) -> dict[tuple, int]:
    """path -> the position in `nodes` where evaluating that subtree starts."""
    first: dict[tuple, int] = {}
    for k, (path, _) in enumerate(nodes):
        for depth in range(len(path) + 1):
            first.setdefault(path[:depth], k)
    return first


def _at(tree: tuple, path: tuple) -> tuple:
    for k in path:
        tree = mathlib.children(tree)[k]
    return tree


def _replace(tree: tuple, at: dict[tuple, tuple]) -> tuple:
    """`tree` with the subtree at each path of `at` replaced (paths relative to tree)."""
    if () in at:
        return at[()]
    if not at:
        return tree
    kids = mathlib.children(tree)
    offset = len(tree) - len(kids)
    out = list(tree)
    for k, child in enumerate(kids):
        inner = {path[1:]: sub for path, sub in at.items() if path[0] == k}
        if inner:
            out[offset + k] = _replace(child, inner)
    return tuple(out)


def _costly(form: sp.Expr, partials: list[sp.Expr]) -> bool:
    """Worth computing once if a partial needs it too: a function call, a
    root or other non-integer power, or a sum the partials divide by."""
    if isinstance(form, (mathlib.Step, mathlib.StrictStep)):
        return False
    if isinstance(form, sp.Function) or (form.is_Pow and not form.exp.is_Integer):
        return True
    if form.is_Add:
        return any(p.base == form and p.exp.is_negative for partial in partials for p in partial.atoms(sp.Pow))
    return False


def _inner_calls(expr: sp.Expr) -> list[sp.Expr]:
    """Function calls and non-integer powers inside `expr` (not expr itself)."""
    return [node for node in sp.postorder_traversal(expr)
            if node != expr and (isinstance(node, sp.Function) or (node.is_Pow and not node.exp.is_Integer))
            and not isinstance(node, (mathlib.Step, mathlib.StrictStep))]


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
