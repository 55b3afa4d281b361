"""issue 11: sum over generator expressions and list comprehensions.

Each is lowered to the loop Python runs (`total = 0; for x in xs: if c:
total = total + e`), never unrolled; the comprehension's variables are its
own. Checked by check_faithful: the value is f's, grad equals
value_and_grad's gradient, the gradient equals central differences, and
where f raises the gradient raises the same exception.
"""

import math

import pytest

from faithful import check_faithful, check_raises_like_f
from symback import grad


def variance(xs):
    m = sum(xs) / len(xs)
    return sum((x - m) ** 2 for x in xs) / len(xs)


def dot(xs, ys):
    return sum([a * b for a, b in zip(xs, ys)])


def filtered(xs, t):
    return sum(math.exp(t * x) for x in xs if x > 0.0) + sum(x * x for x in xs if x <= 0.0)


def rosenbrock(xs):
    return sum(100.0 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(len(xs) - 1))


def nested(xs, ys):
    return sum(x * y for x in xs for y in ys if x != y)


def with_start(xs, c):
    return sum((c * x for x in xs), 1.5)


def keeps_scope(xs, x):
    s = sum(x * 2.0 for x in xs)
    return s + x


def enumerated(xs, w):
    return sum(w ** i * x for i, x in enumerate(xs))


def inside_a_loop(xs, c):
    total = 0.0
    for k in range(3):
        total += sum((x - c * k) ** 2 for x in xs)
    return total


def in_a_helper(xs, c):
    return 2.0 * squares(xs, c)


def squares(ys, c):
    return sum((y * c) ** 2 for y in ys)


def in_a_branch(xs, c):
    if c > 0:
        return sum(c * x for x in xs)
    return c


@pytest.mark.parametrize("f, args", [
    (variance, ([1.0, 2.0, 4.0],)), (dot, ([1.0, 2.0], [3.0, 0.5])), (filtered, ([1.0, -2.0, 0.5], 0.3)),
    (rosenbrock, ([0.5, 1.2, -0.3, 0.8],)), (nested, ([1.0, 2.0], [0.5, 3.0])), (with_start, ([1.0, 2.0], 0.7)),
    (keeps_scope, ([1.0, 2.0], 5.0)), (enumerated, ([1.0, -2.0, 0.5], 0.7)), (inside_a_loop, ([0.3, -1.1], 0.4)),
    (in_a_helper, ([0.3, -1.1, 2.0], 0.4)), (in_a_branch, ([0.3, -1.1], 0.4)), (in_a_branch, ([0.3], -0.4)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_sums_over_comprehensions(f, args):
    check_faithful(f, *args)


def test_an_empty_comprehension_sums_to_the_int_zero_and_f_s_errors_stay():
    assert check_faithful(dot, [], []) == ([], [])
    assert check_raises_like_f(variance, []) is ZeroDivisionError


def test_the_generated_code_keeps_a_loop():
    source = grad(dot).source
    assert "for " in source and "zip" not in source.split("def grad_dot")[0]
    assert source.count("xs[") <= 4  # one loop, not one term per element


def weighted_pairs(pairs, c):
    total = 0.0
    for x, w in pairs:
        total += w * (x - c) ** 2
    return total


def test_a_loop_over_a_list_of_pairs():
    """`for x, w in pairs`: the gradient of a list of pairs is a list of [d/dx, d/dw] lists."""
    pairs = [(1.0, 0.5), (2.0, 1.5)]
    g_pairs, g_c = grad(weighted_pairs)(pairs, 0.3)
    want = [[2 * 0.5 * 0.7, 0.7 ** 2], [2 * 1.5 * 1.7, 1.7 ** 2]]  # d/dx = 2w(x - c), d/dw = (x - c)**2
    assert [pytest.approx(w, rel=1e-12) for w in want] == g_pairs
    assert g_c == pytest.approx(-2 * 0.5 * 0.7 - 2 * 1.5 * 1.7, rel=1e-12)


# --- min and max of a comprehension ---------------------------------------------------

def largest_square(xs):
    return max(x * x for x in xs)


def smallest_positive(xs, c):
    return min([c * x for x in xs if x > 0.0]) + c


def first_of_ties(xs):
    return max(x for x in xs)


@pytest.mark.parametrize("f, args", [
    (largest_square, ([1.0, -3.0, 2.0],)), (smallest_positive, ([1.0, -3.0, 2.0], 0.5)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_min_and_max_of_a_comprehension(f, args):
    check_faithful(f, *args)


def test_min_and_max_of_nothing_raise_as_python_does():
    assert check_raises_like_f(largest_square, []) is ValueError
    assert check_raises_like_f(smallest_positive, [-1.0], 0.5) is ValueError  # the filter keeps nothing


def test_max_of_a_comprehension_gives_a_tie_to_the_first():
    """Python's max keeps the first of equal values, and so does its gradient (as for max(a, b))."""
    assert grad(first_of_ties)([2.0, 1.0, 2.0]) == [1.0, 0.0, 0.0]
