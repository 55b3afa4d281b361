"""issue 11: lists as values inside the function.

Lists the function builds (displays, comprehensions, append, slices), lists
passed to and returned from helpers, max/min of a list, any/all, math.fsum,
math.prod and math.dist. Every gradient is checked by check_faithful
(tests/faithful.py): the value is f's exactly, and the gradient matches
central differences where f is smooth, or raises f's exception where f does.
"""

import copy
import math

import pytest

from faithful import check_faithful, check_raises_like_f
from symback import SymbackError, UnsupportedSyntax, grad, value_and_grad


def display(a, b):
    v = [a, b * b, 2.0]
    return v[0] * v[1] + sum(v) * v[-1]


def built_by_comprehension(xs, w):
    sq = [w * x * x for x in xs if x > 0]
    return sq[0] + sum(sq) / len(sq)


def appended_in_a_loop(xs, w):
    out = []
    for x in xs:
        out.append(math.sin(w * x))
    return sum(o * o for o in out)


def recurrence_on_the_last_element(xs, a):
    """out[-1] while out grows: the sweep must read the element f read then."""
    out = [xs[0]]
    for t in range(1, len(xs)):
        out.append(a * out[-1] + xs[t])
    return out[-1] + 0.5 * sum(out)


def appended_in_branches(xs):
    out = []
    for x in xs:
        if x > 0:
            out.append(x * x)
        else:
            out.append(-x)
    return out[-1] * out[0] + len(out)


def growing_and_read_from_the_end(xs):
    acc = []
    for i, x in enumerate(xs):
        acc.append(x * i)
        if len(acc) > 2:
            acc.append(acc[-2] * acc[-3])
    return sum(acc)


def slices_of_a_growing_list(xs):
    out = []
    for x in xs:
        out.append(x)
        tail = out[-2:]
        out.append(sum(tail) * 0.5)
    return sum(out)


def a_new_list_each_iteration(xs, w):
    t = 0.0
    for x in xs:
        row = [x * w, x + w, w]
        t += row[0] * row[1] - row[-1]
    return t


def slices(xs):
    evens, odds = xs[::2], xs[1::2]
    return sum(p * q for p, q in zip(evens, odds)) + sum(xs[-2:]) * xs[0] + sum(xs[::-1][:2])


def differences(xs):
    return sum((b - a) ** 2 for a, b in zip(xs[:-1], xs[1:]))


def reversed_recurrence(xs):
    t = 0.0
    for x in xs[::-1]:
        t = t * 0.5 + x
    return t


def de_mean(xs):
    m = mean(xs)
    return [x - m for x in xs]


def mean(xs):
    return sum(xs) / len(xs)


def variance(xs):
    d = de_mean(xs)
    return sum(v * v for v in d) / (len(d) - 1)


def sum_of_squares(vs):
    s = 0.0
    for v in vs:
        s += v * v
    return s


def lists_passed_to_a_helper(xs, w):
    return sum_of_squares([x * w for x in xs]) + sum_of_squares(xs[1:]) + sum_of_squares([w, 2.0 * w])


def extremes(xs, w):
    ys = [w * x for x in xs]
    return max(ys) - min(ys) + max(xs) * min(xs)


def fsum_and_prod(xs, w):
    return math.fsum(w * x for x in xs) + math.prod(x + w for x in xs) + math.prod(xs, start=w) + math.fsum(xs)


def any_and_all(xs, w):
    if any(x > 1.0 for x in xs) and all(x > -5.0 for x in xs):
        return w * sum(xs)
    return w * w


def flags_as_values(xs, w):
    big = any(x > 2.0 for x in xs)
    return w * sum(xs) if big else w


def distance(p, q):
    return math.dist(p, q) + math.fsum(p)


def an_alias_appends(xs, w):
    ys = [w * x for x in xs]
    zs = ys
    zs.append(w)
    return sum(ys)


def max_of_an_empty_list(xs):
    ys = [x for x in xs if x > 100.0]
    return max(ys)


def index_out_of_range(xs):
    ys = [x * x for x in xs]
    return ys[3]


CASES = [
    (display, (1.5, -0.5)), (built_by_comprehension, ([1.0, -2.0, 3.0], 0.7)),
    (appended_in_a_loop, ([0.3, 1.1, -0.4], 1.3)), (recurrence_on_the_last_element, ([1.0, 2.0, -1.0, 0.5], 0.6)),
    (appended_in_branches, ([1.0, -2.0, 3.0],)), (growing_and_read_from_the_end, ([1.0, 2.0, 3.0, 0.5],)),
    (slices_of_a_growing_list, ([1.0, 2.0, 3.0],)), (a_new_list_each_iteration, ([1.0, 2.0, -0.5], 0.7)),
    (slices, ([1.0, 2.0, 3.0, 4.0, 5.0],)), (differences, ([1.0, 3.0, 2.0, 5.0],)),
    (reversed_recurrence, ([1.0, 2.0, 3.0],)), (variance, ([1.0, 2.0, 4.0, 7.0],)),
    (lists_passed_to_a_helper, ([1.0, -2.0, 0.5], 0.3)), (extremes, ([1.0, 3.0, 2.0], 0.5)),
    (fsum_and_prod, ([1.0, 2.0, -0.5], 0.3)), (any_and_all, ([1.0, 2.0], 0.3)), (any_and_all, ([0.5, 0.2], 0.3)),
    (flags_as_values, ([1.0, 2.5], 0.3)), (flags_as_values, ([1.0, 1.5], 0.3)),
    (distance, ([1.0, 2.0, -1.0], [0.5, -1.0, 2.0])), (an_alias_appends, ([1.0, 2.0], 0.3)),
]


@pytest.mark.parametrize("f, args", CASES, ids=[f.__name__ for f, _ in CASES])
def test_lists_as_values(f, args):
    check_faithful(f, *args)


@pytest.mark.parametrize("f, args, error", [
    (max_of_an_empty_list, ([1.0, 2.0],), ValueError), (index_out_of_range, ([1.0, 2.0],), IndexError),
    (variance, ([1.0],), ZeroDivisionError),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_the_gradient_raises_where_f_raises(f, args, error):
    assert check_raises_like_f(f, *args) is error


def test_the_generated_code_builds_the_lists_as_f_does():
    source = value_and_grad(recurrence_on_the_last_element).source
    assert "out.append(" in source and "out[-1]" in source
    assert "out_bar.pop()" in source  # the sweep shrinks the adjoint as the list grew
    assert "symback" not in source.split('"""')[-1]
    source = grad(differences).source
    assert "xs[:-1]" in source and "xs[1:]" in source


# --- what stays refused ---------------------------------------------------------

def list_changed_across_iterations(xs):
    for k in range(2):
        xs = [x * 0.9 + 0.1 * k for x in xs]
    return sum(xs)


def list_chosen_by_a_branch(a, b, c):
    if c > 0:
        v = [a, b]
    else:
        v = [b, a * a]
    return v[0] * 2.0 + v[1]


def appends_to_the_callers_list(xs):
    xs.append(1.0)
    return sum(xs)


def sorts_in_place(xs):
    ys = [x for x in xs]
    ys.sort()
    return ys[0]


def list_of_lists(a, b):
    m = [[a, b], [b, a]]
    return m[0][1]


def returns_a_list(xs):
    return [x * 2.0 for x in xs]


def list_as_a_number(xs):
    ys = xs[1:]
    return ys * 2.0


@pytest.mark.parametrize("f, words, line", [
    (list_changed_across_iterations, "xs is a list assigned in an if/else or a loop", 2),
    (list_chosen_by_a_branch, "v is a list assigned in an if/else or a loop", 5),
    (appends_to_the_callers_list, "changes a list the caller passed in", 1),
    (sorts_in_place, "ys.sort(...) changes a list in place", 2),
    (list_of_lists, "a list built of lists", 1),
    (returns_a_list, "returns a list: a gradient needs one scalar output", 1),
    (list_as_a_number, "ys is a list, used here as a number", 2),
], ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_refusals_name_the_line_and_what_to_write(f, words, line):
    with pytest.raises(SymbackError) as info:
        grad(f)
    message = str(info.value)
    assert words in message, message
    assert info.value.loc.line == f.__code__.co_firstlineno + line, message
    assert info.value.hint


# --- lists of lists as parameters ---------------------------------------------------

def matvec_norm(A, x):
    y = [sum(a * b for a, b in zip(row, x)) for row in A]
    return sum(v * v for v in y)


def corners(A, w):
    return A[0][1] * A[1][0] * w + len(A[0]) + sum(A[1]) + max(A[-1])


def transposed_products(A):
    t = 0.0
    for i in range(len(A)):
        for j in range(len(A[i])):
            t += A[i][j] * A[j][i] * (i + 1)
    return t


def row_helper(A):
    return sum(sum_of_squares(row) for row in A) + sum_of_squares(A[0][1:])


def _nudged(args, k, path, h):
    copied = copy.deepcopy(list(args))
    place = copied[k]
    for step in path[:-1]:
        place = place[step]
    place[path[-1]] += h
    return copied


def _central(f, args, h=1e-6):
    """Central differences in every float of every argument, nested lists kept nested."""
    def walk(k, value, path):
        if isinstance(value, list):
            return [walk(k, item, path + (i,)) for i, item in enumerate(value)]
        if not path:
            up, down = list(args), list(args)
            up[k] += h
            down[k] -= h
        else:
            up, down = _nudged(args, k, path, h), _nudged(args, k, path, -h)
        return (f(*up) - f(*down)) / (2 * h)
    return tuple(walk(k, value, ()) for k, value in enumerate(args))


def _close(got, want):
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_close, got, want))
    return math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-6)


@pytest.mark.parametrize("f, args", [
    (matvec_norm, ([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], [0.3, -0.7])),
    (corners, ([[1.0, 2.0], [3.0, -1.0]], 0.7)),
    (transposed_products, ([[1.0, 2.0], [3.0, -1.0]],)),
    (row_helper, ([[1.0, 2.0, -1.0], [3.0, -1.0, 0.5]],)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_lists_of_lists_as_parameters(f, args):
    value, grads = value_and_grad(f)(*copy.deepcopy(args))
    assert value == f(*copy.deepcopy(args))
    grads = grads if len(args) > 1 else (grads,)
    want = _central(f, args)
    assert all(_close(g, w) for g, w in zip(grads, want)), (grads, want)
    assert grad(f)(*copy.deepcopy(args)) == (grads if len(args) > 1 else grads[0])


def three_levels(T):
    return T[0][0][0] * 2.0


def test_three_levels_are_refused():
    with pytest.raises(UnsupportedSyntax, match="two levels deep") as info:
        grad(three_levels)
    assert info.value.loc.line == three_levels.__code__.co_firstlineno + 1


def nested_clauses(xs, ys):
    pairs = [x * y for x in xs for y in ys if x > y]
    weighted = [i * x for i, x in enumerate(xs, start=1)]
    return sum(pairs) + sum(weighted) + max(x - y for x in xs for y in ys)


def test_comprehensions_with_several_for_clauses():
    check_faithful(nested_clauses, [1.0, 2.0, -0.5], [0.5, 1.5])


def names_like_the_generated_ones(xs, row, _j):
    _g = [x * row for x in xs]
    _e1 = [_j, row * 2.0]
    out = []
    for _x1 in xs[1:]:
        out.append(_x1 * _e1[1])
    _seq1 = max(_g) + min(out)
    _found1 = any(v > 1.0 for v in _g)
    zip = 2.0
    return _seq1 * zip + (1.0 if _found1 else 0.0) + math.fsum(_g[::-1]) + _e1[0]


def row_names(A, _row, row2):
    xs_part = [a * row2 for a in A[0]]
    n_xs_part = len(xs_part)
    return sum(xs_part) * n_xs_part + A[1][0] * _row


def test_user_names_never_clash_with_the_generated_ones():
    check_faithful(names_like_the_generated_ones, [1.0, 2.0, 0.5], 0.7, 0.3)
    value, grads = value_and_grad(row_names)([[1.0, 2.0], [3.0, 4.0]], 0.5, 1.5)
    assert value == row_names([[1.0, 2.0], [3.0, 4.0]], 0.5, 1.5)
    want = _central(row_names, ([[1.0, 2.0], [3.0, 4.0]], 0.5, 1.5))
    assert all(_close(g, w) for g, w in zip(grads, want)), (grads, want)


def grown_while_short(x):
    out = [x]
    while len(out) < 4:
        out.append(out[-1] * 0.5 + x)
    return sum(out)


def left_early(xs, w):
    out = []
    for x in xs:
        if x * w > 2.0:
            break
        out.append(x * w)
    return sum(out) + len(out)


def truth_of_a_built_list(xs, w):
    ys = [x for x in xs if x > 1.0]
    if ys:
        return sum(ys) * w
    return w


def guarded_any(xs, x):
    if x != 0 and any(1.0 / x > v for v in xs):
        return x * 2.0
    return x * x


def guarded_max(xs, w):
    if xs and max(xs) > 1.0:
        return w * max(xs)
    return w


@pytest.mark.parametrize("f, args", [
    (grown_while_short, (0.7,)), (left_early, ([1.0, 2.0, 3.0], 0.9)), (truth_of_a_built_list, ([1.5, 2.0], 0.5)),
    (truth_of_a_built_list, ([0.25, 0.5], 0.5)), (guarded_any, ([1.0, 2.0], 0.3)), (guarded_any, ([1.0, 2.0], -0.3)),
    (guarded_max, ([], 0.5)), (guarded_max, ([1.5, 2.0], 0.5)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_lists_in_tests_and_loops(f, args):
    check_faithful(f, *args)


def test_a_guard_before_any_keeps_python_s_order():
    """x != 0 and any(1 / x ...): at x = 0 nothing divides, in f and in the gradient."""
    value, (xs_bar, x_bar) = value_and_grad(guarded_any)([1.0, 2.0], 0.0)
    assert value == 0.0 and x_bar == 0.0 and xs_bar == [0.0, 0.0]


def copies(xs, w):
    ys = list(xs)
    ys.append(w)
    zs = xs.copy()
    zs.append(w * w)
    t = 0.0
    for v in reversed(xs):
        t = t * w + v
    squares = list(v * v for v in xs)
    return sum(ys) * sum(zs) + t + sum(squares) + sum(reversed([w, 2.0 * w]))


def test_copies_and_reversed():
    check_faithful(copies, [1.0, 2.0, -0.5], 0.7)
    source = grad(copies).source
    assert "ys = xs[:]" in source and "squares = []" in source


# --- ys[i] = v and ys[i] += v in a list the function built ----------------------

def matvec_into_zeros(A, x):
    y = [0.0] * len(A)
    for i in range(len(A)):
        for j in range(len(x)):
            y[i] += A[i][j] * x[j]
    return sum(v * v for v in y)


def overwritten(xs, w):
    """Reads before a write see the old element; its adjoint must not get the new one's."""
    ys = [w] * len(xs)
    a = ys[0] * 2.0
    for i, x in enumerate(xs):
        ys[i] = ys[i] * x + a
    ys[-1] = ys[0] * ys[-1]
    return sum(ys) + a


def interleaved(xs, w):
    counts = len(xs) * [0.0, 1.0]
    for k, x in enumerate(xs):
        counts[2 * k] = x * w
        counts[2 * k + 1] += x
    return math.fsum(counts) + counts[1] * counts[0]


def smoothed_in_place(xs, a):
    ys = list(xs)
    for t in range(1, len(ys)):
        ys[t] = a * ys[t - 1] + (1.0 - a) * ys[t]
    return ys[-1] + sum(ys)


def written_out_of_range(xs):
    ys = [0.0] * 2
    ys[len(xs)] = xs[0]
    return ys[0]


def assigns_to_the_callers_list(xs):
    xs[0] = 2.0
    return sum(xs)


def dist_of_a_written_list(p, q):
    ys = list(p)
    d = math.dist(ys, q)
    ys[0] = 0.0
    return d + ys[0]


@pytest.mark.parametrize("f, args", [
    (overwritten, ([1.0, 2.0, -0.5], 0.7)), (interleaved, ([1.0, 2.0], 0.5)),
    (smoothed_in_place, ([1.0, 2.0, 0.5, 3.0], 0.3)),
], ids=lambda v: getattr(v, "__name__", None) or "")
def test_elements_replaced(f, args):
    check_faithful(f, *args)


def test_elements_replaced_in_a_list_of_zeros():
    args = ([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], [0.3, -0.7])
    value, grads = value_and_grad(matvec_into_zeros)(*copy.deepcopy(args))
    assert value == matvec_into_zeros(*copy.deepcopy(args))
    want = _central(matvec_into_zeros, args)
    assert all(_close(g, w) for g, w in zip(grads, want)), (grads, want)
    source = grad(matvec_into_zeros).source
    assert "y = [0.0] * " in source and "y_bar[i] = 0.0" in source


def test_a_write_out_of_range_raises_as_in_f():
    assert check_raises_like_f(written_out_of_range, [1.0, 2.0, 3.0]) is IndexError


@pytest.mark.parametrize("f, words, line", [
    (assigns_to_the_callers_list, "assigning to xs[0] changes a list the caller passed in", 1),
    (dist_of_a_written_list, "math.dist of a list whose elements are assigned", 2),
], ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_writes_that_stay_refused(f, words, line):
    with pytest.raises(SymbackError) as info:
        grad(f)
    assert words in str(info.value), str(info.value)
    assert info.value.loc.line == f.__code__.co_firstlineno + line


def joined(xs, w):
    ys = xs + [w, 2.0 * w]
    zs = [w] + xs[1:]
    ys += [w * w]
    zs.extend(ys)
    return sum(v * v for v in zs) + ys[-1]


def extends_the_callers_list(xs, w):
    xs += [w]
    return sum(xs)


def test_lists_joined_and_extended():
    check_faithful(joined, [1.0, 2.0, -0.5], 0.7)
    with pytest.raises(UnsupportedSyntax, match="changes a list the caller passed in") as info:
        grad(extends_the_callers_list)
    assert info.value.loc.line == extends_the_callers_list.__code__.co_firstlineno + 1
