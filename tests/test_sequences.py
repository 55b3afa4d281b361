"""Lists of floats as parameters: for x in xs, xs[i], len, zip, enumerate, sum.
The gradient for a list parameter is a list of the same length."""

import math

import pytest

from symback import UnsupportedSyntax, grad, value_and_grad


def numeric_gradient(fn, args, h=1e-6):
    """Central differences for every float, inside lists too (lists give lists)."""
    out = []
    for k, arg in enumerate(args):
        def at(value, k=k):
            moved = list(args)
            moved[k] = value
            return fn(*moved)
        if isinstance(arg, int) and not isinstance(arg, bool):
            out.append(0.0)  # an int steers (a loop count): no derivative to take
        elif isinstance(arg, list):
            parts = []
            for j in range(len(arg)):
                up, down = list(arg), list(arg)
                up[j] += h
                down[j] -= h
                parts.append((at(up) - at(down)) / (2 * h))
            out.append(parts)
        else:
            out.append((at(arg + h) - at(arg - h)) / (2 * h))
    return out


def assert_close(got, want, tol=1e-6):
    got = list(got) if isinstance(got, tuple) else [got]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if isinstance(w, list):
            assert isinstance(g, list) and len(g) == len(w), (g, w)
            assert g == pytest.approx(w, rel=tol, abs=tol)
        else:
            assert g == pytest.approx(w, rel=tol, abs=tol)


def training_cost(w, b, xs, ys):
    """Mean squared error of one sigmoid neuron over a list of training examples."""
    total = 0.0
    for x, y in zip(xs, ys):
        a = 1 / (1 + math.exp(-(w * x + b)))
        total += (a - y) ** 2
    return total / len(xs)


def weighted_squares(ws, xs):
    s = 0.0
    for i, x in enumerate(xs):
        s += ws[i] * x * x
    return s + sum(ws)


def ends(xs):
    return xs[0] * xs[len(xs) - 1] + sum(xs)


def horner_list(coeffs, x):
    acc = 0.0
    for c in coeffs:
        acc = acc * x + c
    return acc


def by_index(xs, k):
    n = len(xs)
    s = 0.0
    for i in range(1, n):
        d = xs[i] - xs[i - 1]
        s += d * d * k
    return s


def unused_list(x, xs):
    return x * 2.0


CASES = [
    (training_cost, (0.5, 0.1, [1.0, 2.0, -1.0], [0.0, 1.0, 1.0])),
    (weighted_squares, ([0.5, 0.2, -0.3], [1.0, 3.0, 0.5])),
    (ends, ([0.5, 0.2, 4.0],)),
    (horner_list, ([1.0, -2.0, 0.5, 3.0], 0.7)),
    (by_index, ([0.3, 1.1, -0.4, 2.0], 1.5)),
    (unused_list, (0.3, [1.0, 2.0])),
]


@pytest.mark.parametrize("fn, args", CASES, ids=[fn.__name__ for fn, _ in CASES])
def test_gradient_with_list_parameters(fn, args):
    assert_close(grad(fn)(*args), numeric_gradient(fn, args))
    value, grads = value_and_grad(fn)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    assert_close(grads, numeric_gradient(fn, args))


def test_list_gradient_has_the_lists_length_and_zeros_where_unused():
    got = grad(unused_list)(0.3, [1.0, 2.0, 3.0])
    assert got == (2.0, [0.0, 0.0, 0.0])


def test_loop_over_a_list_stays_a_loop():
    source = grad(training_cost).source
    assert "for _i1 in range(n_zip):" in source
    assert "for _i1 in reversed(range(n_zip)):" in source
    assert "xs_bar[_i1] += x_bar" in source


def list_as_number(xs):
    return xs[0] + xs * 2.0


def test_a_list_used_as_a_number_is_refused():
    with pytest.raises(UnsupportedSyntax, match=r"xs is a list, used here as a number.*sum\(xs\)"):
        grad(list_as_number)
