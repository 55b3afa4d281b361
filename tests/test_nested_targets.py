"""Loops and comprehensions whose target unpacks nested tuples: the target is
matched against what enumerate, zip and lists yield, at any depth
(`for i, (x, y) in enumerate(zip(xs, ys))`); a target of another shape is a
located refusal that shows the shape to write."""

import copy
import inspect
import math
import os

import pytest

from reference import central_differences
from symback import SymbackError, UnsupportedSyntax, grad, value_and_grad

HERE = os.path.basename(__file__)


def enumerate_zip(xs, ys):
    t = 0.0
    for i, (x, y) in enumerate(zip(xs, ys)):
        t += i * x * y
    return t


def zip_of_enumerate(xs, ys):
    t = 0.0
    for (i, x), y in zip(enumerate(xs, start=2), ys):
        t += i * x * math.sin(y)
    return t


def three_deep(xs, ys, zs, k):
    t = 0.0
    for i, (x, (y, z)) in enumerate(zip(xs, zip(ys, zs)), k):
        t += i * x * y + z * z
    return t


def two_counters(xs, ys):
    t = 0.0
    for (i, x), (j, y) in zip(enumerate(xs), enumerate(ys, start=3)):
        t += i * x + j * y
    return t + i * j  # the targets keep their last values after the loop


def comprehension(xs, ys):
    return sum(i * x * y for i, (x, y) in enumerate(zip(xs, ys)))


def list_targets(xs, ys):
    return sum(x * y for [x, [y]] in zip(xs, zip(ys)))


def pairs(params, xs):
    t = 0.0
    for i, (w, b) in enumerate(params):
        t += (i + 1) * w * b
    for (w, b), x in zip(params, xs):
        t += w * x + b
    return t


def same_name_twice(xs, ys):
    t = 0.0
    for x, x in zip(xs, ys):  # noqa: B007 -- Python binds left to right: x is ys[i]
        t += x * x
    return t


CASES = [
    (enumerate_zip, ([1.0, 2.0, 3.0], [0.5, -1.0])),  # zip stops at the shortest
    (zip_of_enumerate, ([1.0, 2.0, 3.0], [0.5, -1.0, 2.0])),
    (three_deep, ([1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [0.1, 0.2, 0.3, 0.4], 1)),
    (two_counters, ([1.0, 2.0, 3.0], [0.5, -1.0])),
    (comprehension, ([1.0, 2.0, 3.0], [0.5, -1.0, 4.0])),
    (list_targets, ([1.0, 2.0], [3.0, 4.0])),
    (pairs, ([[1.0, 2.0], [3.0, -1.0]], [0.5, 0.25, 7.0])),
    (same_name_twice, ([1.0, 2.0], [3.0, -4.0])),
]


def slots(value, path=()):
    """Paths to every float in value (lists of lists too); ints steer, no slot."""
    if isinstance(value, list):
        return [slot for k, item in enumerate(value) for slot in slots(item, (*path, k))]
    return [path] if isinstance(value, float) else []


def numeric(fn, args):
    """Central differences in every float of args, in order, nested lists flattened."""
    where = slots(list(args))

    def moved(*values):
        new = copy.deepcopy(list(args))
        for path, v in zip(where, values):
            *outer, last = path
            holder = new
            for k in outer:
                holder = holder[k]
            holder[last] = v
        return fn(*new)

    start = []
    for path in where:
        value = list(args)
        for k in path:
            value = value[k]
        start.append(value)
    return list(central_differences(moved, start))


def flat(grads, args):
    """symback's gradient, in the order of slots(args) (an int's zero left out)."""
    out = []
    for g, a in zip(grads, args):
        if isinstance(a, list):
            out += flat(g, a)
        elif isinstance(a, float):
            out.append(g)
    return out


@pytest.mark.parametrize("fn, args", CASES, ids=[fn.__name__ for fn, _ in CASES])
def test_nested_targets_match_f_and_central_differences(fn, args):
    value, grads = value_and_grad(fn)(*args)
    assert value == fn(*args)
    want = numeric(fn, args)
    got = flat(grads, args)
    assert len(got) == len(want) > 0, grads
    assert got == pytest.approx(want, rel=1e-6, abs=1e-6)


def test_the_loop_stays_one_loop_over_the_shortest_list():
    source = grad(enumerate_zip).source
    # the sweep's loop only: the forward one computes nothing the gradient reads (issue 12)
    assert "for i in reversed(range(n_zip)):" in source and source.count("for ") == 1
    assert "xs_bar[i] +=" in source and "ys_bar[i] +=" in source


def wrong_count(xs, ys):
    t = 0.0
    for i, x, y in enumerate(zip(xs, ys)):
        t += x
    return t


def tuple_not_unpacked(xs, ys):
    t = 0.0
    for p in zip(xs, ys):
        t += 1.0
    return t


def comprehension_wrong_count(xs, ys):
    return sum(x for (x, y, z) in zip(xs, ys))


def count_unpacked(xs):
    t = 0.0
    for (i, j), x in enumerate(xs):
        t += x
    return t


def range_inside(xs):
    t = 0.0
    for i, (a, b) in enumerate(range(3)):
        t += a
    return t


def starred(xs):
    t = 0.0
    for i, *a in enumerate(xs):
        t += i
    return t


def pair_nested_too_deep(params):
    t = 0.0
    for w, (b, c) in params:
        t += w
    return t


def range_unpacked(xs):
    t = 0.0
    for i, x in range(3):
        t += i
    return t


REFUSALS = [
    (wrong_count, r"unpacks 3 values, but enumerate\(zip\(xs, ys\)\) gives 2.*for i, \(x, y\) in enumerate",
     "for i, x, y"),
    (tuple_not_unpacked, r"p would be a tuple of 2 values.*for x, y in zip\(xs, ys\)", "for p in"),
    (comprehension_wrong_count, r"unpacks 3 values, but zip\(xs, ys\) gives 2", "sum(x for"),
    (count_unpacked, r"count from enumerate\(xs\) is an integer.*for i, x in enumerate\(xs\)", "for (i, j)"),
    (range_inside, r"range\(\.\.\.\) inside enumerate or zip is not supported", "enumerate(range"),
    (starred, r"starred loop targets are not supported", "for i, *a"),
    (pair_nested_too_deep, r"loop target is not supported over the list params", "for w, (b, c)"),
    (range_unpacked, r"range\(\.\.\.\) gives integers.*for i in range\(n\)", "for i, x in range"),
]


@pytest.mark.parametrize("fn, pattern, snippet", REFUSALS, ids=[case[0].__name__ for case in REFUSALS])
def test_a_target_of_the_wrong_shape_is_a_located_refusal(fn, pattern, snippet):
    with pytest.raises(UnsupportedSyntax, match=pattern) as info:
        grad(fn)
    lines, start = inspect.getsourcelines(fn)
    line = start + next(i for i, text in enumerate(lines) if snippet in text)
    message = str(info.value)
    assert isinstance(info.value, SymbackError)
    assert message.startswith(f"symback: cannot differentiate {fn.__name__}() at "), message
    assert f"{HERE}:{line}" in message, message
    assert info.value.loc.line == line
    assert info.value.hint
