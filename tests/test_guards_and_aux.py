"""issue 11, first part: validation guards (raise, assert), a returned 1-tuple, has_aux.

Every gradient here is checked by check_faithful (tests/faithful.py): the
value equals f's, grad equals value_and_grad's gradient, the gradient equals
central differences where f is smooth, and where f raises the gradient
raises the same exception type.
"""

import math

import pytest

from faithful import check_faithful, check_raises_like_f
from guarded import checked  # it asserts: pytest would rewrite that assert in a test file
from symback import SymbackError, grad, value_and_grad


def either(x):
    if x < 0:
        raise ValueError("negative")
    else:
        return math.sqrt(x)


def last_resort(x):
    if x > 1.0:
        return x * x
    raise ValueError("too small")


def weighted_mean(xs, ws):
    if len(xs) != len(ws):
        raise ValueError("lengths differ")
    s = 0.0
    for i in range(len(xs)):
        if ws[i] < 0.0:
            raise ValueError(f"ws[{i}] = {ws[i]} is negative")
        s += xs[i] * ws[i]
    return s / len(xs)


def assigned_then_raises(x):
    if x > 5.0:
        y = x * 2.0
        raise OverflowError("x is too large")
    else:
        y = x * 3.0
    return y * y


def guard_in_a_helper(x):
    return 2.0 * positive_log(x) + x


def positive_log(v):
    if v <= 0.0:
        raise ValueError("log of a non-positive number")
    return math.log(v)


@pytest.mark.parametrize("f, args", [
    (checked, (2.0, 3.0)), (checked, (0.5, -1.5)), (either, (4.0,)), (last_resort, (2.0,)),
    (weighted_mean, ([1.0, 2.0, 0.5], [3.0, 4.0, 1.0])), (assigned_then_raises, (1.5,)), (guard_in_a_helper, (0.7,)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_guards_where_f_returns(f, args):
    check_faithful(f, *args)


@pytest.mark.parametrize("f, args, error", [
    (checked, (-1.0, 3.0), ValueError), (checked, (2.0, 0.0), AssertionError), (either, (-4.0,), ValueError),
    (last_resort, (0.5,), ValueError), (weighted_mean, ([1.0], [3.0, 4.0]), ValueError),
    (weighted_mean, ([1.0, 2.0], [3.0, -4.0]), ValueError), (assigned_then_raises, (6.0,), OverflowError),
    (guard_in_a_helper, (-1.0,), ValueError),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_guards_raise_what_f_raises(f, args, error):
    assert check_raises_like_f(f, *args) is error


def test_the_message_is_f_s_own():
    with pytest.raises(ValueError, match=r"ws\[1\] = -4.0 is negative"):
        grad(weighted_mean)([1.0, 2.0], [3.0, -4.0])
    with pytest.raises(ValueError, match="x must be positive, got -1.0"):
        value_and_grad(checked)(-1.0, 3.0)


class CustomError(Exception):
    pass


def raises_a_custom_error(x):
    if x < 0:
        raise CustomError("no")
    return x


def bare_raise(x):
    if x < 0:
        raise
    return x


def always_raises(x):
    raise ValueError("never")


@pytest.mark.parametrize("f, words", [
    (raises_a_custom_error, "built-in exceptions"), (bare_raise, "bare raise"), (always_raises, "every path"),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_raises_symback_cannot_print_are_refused_with_the_line(f, words):
    with pytest.raises(SymbackError) as info:
        grad(f)
    assert words in str(info.value) and "test_guards_and_aux.py:" in str(info.value)


# --- return value, ------------------------------------------------------------------

def deap_fitness(x, y):
    return (x - 1.0) ** 2 + math.sin(y),


def test_a_one_tuple_is_differentiated_as_its_element():
    value, grads = value_and_grad(deap_fitness)(2.0, 0.5)
    assert value == deap_fitness(2.0, 0.5)  # the 1-tuple, as f returns it
    assert grads == pytest.approx((2.0, math.cos(0.5)), rel=1e-12)
    assert grad(deap_fitness)(2.0, 0.5) == grads


# --- has_aux ------------------------------------------------------------------------

def loss_and_stats(w, xs, ys):
    total = 0.0
    hits = 0
    for i in range(len(xs)):
        p = w * xs[i]
        total += (p - ys[i]) ** 2
        if abs(p - ys[i]) < 0.5:
            hits += 1
    return total / len(xs), {"hits": hits, "n": len(xs)}


def branchy(x):
    if x > 0:
        return x * x, "positive"
    return -x, "not positive"


def test_has_aux_passes_the_aux_through_as_jax_does():
    args = (0.7, [1.0, 2.0, 3.0], [1.0, 1.0, 2.5])
    loss, aux = loss_and_stats(*args)
    (value, got_aux), g = value_and_grad(loss_and_stats, wrt="w", has_aux=True)(*args)
    assert value == loss and got_aux == aux
    want = sum(2 * (0.7 * x - y) * x for x, y in zip(args[1], args[2])) / 3
    assert g == pytest.approx(want, rel=1e-12)
    assert grad(loss_and_stats, wrt="w", has_aux=True)(*args) == (g, aux)


def test_has_aux_on_several_return_paths():
    assert grad(branchy, has_aux=True)(2.0) == (4.0, "positive")
    assert grad(branchy, has_aux=True)(-2.0) == (-1.0, "not positive")
    assert value_and_grad(branchy, has_aux=True)(-2.0) == ((2.0, "not positive"), -1.0)


def not_a_pair(x):
    return x * x


def test_has_aux_needs_a_pair():
    with pytest.raises(SymbackError, match="must give a pair"):
        grad(not_a_pair, has_aux=True)


# --- integers: round, int, math.floor/ceil/trunc ---------------------------------------

def bucket(xs, x):
    i = int(x * 2.0)
    j = math.floor(x)
    k = round(x * 3.0)
    return xs[i] * x + xs[j] * x * x + k * x + math.ceil(x) - math.trunc(-x) + round(x, 1)


@pytest.mark.parametrize("x", [1.3, 0.7, 1.6])
def test_integers_have_a_zero_gradient_and_index_lists(x):
    check_faithful(bucket, [1.0, 2.0, 3.0, 4.0], x)


def test_integers_raise_where_python_does():
    assert check_raises_like_f(bucket, [1.0, 2.0], float("inf")) is OverflowError


# --- truth values, comparisons as values, isinstance -----------------------------------

def flagged(x, safe_mode):
    if safe_mode:
        return math.sqrt(abs(x))
    return x * x


def stored_comparison(x, y):
    positive = x > 0
    if positive:
        return x * y
    return (x > y) * x + y


def empty_guard(xs, c):
    if not xs:
        return c
    return sum(xs) * c


def typed(x, n):
    if not isinstance(n, int):
        raise TypeError("n must be an int")
    if isinstance(x, (int, float)):
        return x ** n
    return 0.0


@pytest.mark.parametrize("f, args", [
    (flagged, (2.0, 1)), (flagged, (-2.0, 0)), (stored_comparison, (2.0, 3.0)), (stored_comparison, (-2.0, 3.0)),
    (stored_comparison, (-2.0, -3.0)), (empty_guard, ([], 0.5)), (empty_guard, ([1.0, 2.0], 0.5)), (typed, (1.5, 3)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_truth_values_stored_comparisons_and_isinstance(f, args):
    check_faithful(f, *args, wrt=0)


def test_a_comparison_used_as_a_number_has_a_float_gradient():
    g = grad(stored_comparison)(-2.0, -3.0)
    assert g == (1.0, 1.0) and type(g[0]) is float


def test_isinstance_guards_raise_as_f_does():
    assert check_raises_like_f(typed, 1.5, 2.0, wrt=0) is TypeError
