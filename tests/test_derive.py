"""derive: one rule per shape; partials rewritten to reuse forward values, and checked."""

import sympy as sp

from symback import ir, mathlib
from symback.derive import rule_for
from symback.parse import shape_of

X, Y = ("arg", 0), ("arg", 1)
x, y = mathlib.placeholder(0), mathlib.placeholder(1)
R = ir.RESULT


def rule(tree):
    return rule_for(shape_of(tree))


def test_exp_partial_is_the_value_itself():
    r = rule(("call", "exp", X))
    assert r.partials == (R,)
    assert r.temps == ()


def test_sigmoid_partial_is_a_polynomial_in_the_value():
    sigmoid = ("bin", "/", ("num", 1), ("bin", "+", ("num", 1), ("call", "exp", ("neg", X))))
    r = rule(sigmoid)
    assert sp.expand(r.partials[0] - R * (1 - R)) == 0
    assert r.temps == ()


def test_tanh_and_sqrt_reuse_the_value():
    assert rule(("call", "tanh", X)).partials == (1 - R ** 2,)
    assert rule(("call", "sqrt", X)).partials == (1 / (2 * R),)


def test_shared_costly_subexpressions_become_temps():
    r = rule(("bin", "*", ("call", "sin", X), ("call", "cos", X)))
    assert [temp.expr for temp in r.temps] == [sp.sin(x), sp.cos(x)]  # in the order Python evaluates them
    # the value is the user's product, of the temps
    assert r.value == ("bin", "*", ("temp", 0), ("temp", 1))
    assert [temp.tree for temp in r.temps] == [("call", "sin", X), ("call", "cos", X)]
    assert not r.partials[0].has(sp.sin, sp.cos)


def test_no_rewrite_that_would_add_a_division():
    # d(y*sin(x))/dy = sin(x); sin(x) = value/y would divide by y, which may be 0
    r = rule(("bin", "*", Y, ("call", "sin", X)))
    partial_y = r.partials[1]
    assert not partial_y.has(R)
    temp, = [t for t in r.temps if t.expr == sp.sin(x)]
    assert partial_y == temp.symbol


def test_python_floor_division_and_modulo():
    floordiv = rule(("bin", "//", X, Y))
    assert floordiv.partials == (0, 0)
    mod = rule(("bin", "%", X, Y))
    assert mod.partials[0] == 1
    assert mod.partials[1].has(mathlib.FloorDiv)


def test_rules_are_cached_per_shape():
    from symback.derive import derive
    from symback.parse import parse

    def twice(a, b):
        c = a * b + 1
        d = b * c + 1
        return d
    body = derive(parse(twice)).body
    assert body[0].rule is body[1].rule
