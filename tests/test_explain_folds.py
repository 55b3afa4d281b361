"""explain shows max(ys), min(ys), sum/math.fsum/math.prod of a list or a generator,
any(...) and all(...) as the student wrote them: one row per call, none of the
loop parse lowers them into (issue 13 follow-up)."""

import math
import re

import pytest

import explain_corpus as corpus
import test_list_values
from reference import central_differences
from symback import explain

# the names parse gives the loops of these builtins and the elements of comprehensions
_LOWERED = re.compile(r"\b(_best\d*|_seen\d*|_item\d*|_e\d+|_found\d*|_every\d*|_list\d+|_fsum\d+|_x\d+|_seq\d+)\b")
_BUILTINS = re.compile(r"\b(max|min|sum|any|all|fsum|prod)\(")

FOLDED = [(fn, args) for fn, args in corpus.POINTS
          if _BUILTINS.search(__import__("inspect").getsource(fn)) and fn.__module__ == "test_list_values"]


def _labels(dot: str) -> str:
    """What the picture shows (labels), not the node ids Graphviz keys them by."""
    return "\n".join(re.findall(r'label=("(?:[^"\\]|\\.)*"|<[^>]*>)', dot))


@pytest.mark.parametrize("fn, args", FOLDED, ids=[f"{fn.__name__}{i}" for i, (fn, _) in enumerate(FOLDED)])
def test_no_lowered_names_in_text_latex_or_picture(fn, args):
    x, at = corpus.explained(fn), corpus.explained(fn, args)
    for shown in (str(x), x.latex(), _labels(x.to_dot()), str(at), at.latex()):
        found = _LOWERED.findall(shown)
        assert not found, f"{fn.__name__}: {found} in\n{shown}"


def test_max_of_a_list_is_one_row_with_an_edge_per_element():
    text = str(explain(test_list_values.extremes))
    assert re.search(r"^ *\d+  max\(ys\) +max\(ys\) +∂max\(ys\)/∂ys\[i\] +\[i is where the maximum is first found\]",
                     text, re.M), text
    assert "ys[i]" in text and not re.search(r"^ *\d+ +if ", text, re.M), text  # no empty-list check


def _fold_partials(x, call):
    """The numbers the table shows for the row of `call`: (operand, element) -> partial."""
    row = next(r for r in x.rows if r.kind == "fold" and r.shown == call)
    visit = next(v for v in x.evaluation.visits if v.ident == row.target.ident)
    return visit.value, {(ident, element): partial for _, ident, element, partial in visit.edges}


@pytest.mark.parametrize("xs", [[1.0, 3.0, -2.0, 0.5], [2.0, -1.0, 2.0, -1.0]])  # the second has ties
def test_max_and_min_partials_match_central_differences(xs):
    x = explain(test_list_values.extremes).at(xs=xs, w=0.5)
    for fn, call in ((max, "max(xs)"), (min, "min(xs)")):
        value, partials = _fold_partials(x, call)
        assert value == fn(xs)
        first = xs.index(fn(xs))  # Python's max and min keep the first of equal values
        if xs.count(fn(xs)) == 1:  # away from a tie, the derivative exists: central differences check it
            want = central_differences(lambda *v: fn(v), xs)
        else:
            want = [1.0 if i == first else 0.0 for i in range(len(xs))]
        assert [partials[("xs", (i,))] for i in range(len(xs))] == pytest.approx(want, abs=1e-6), (call, partials)


def test_sum_and_prod_of_generators_match_central_differences():
    xs, w = [0.5, -1.5, 2.0], 0.7
    x = explain(test_list_values.fsum_and_prod).at(xs=xs, w=w)
    value, partials = _fold_partials(x, "math.prod(x + w for x in xs)")
    assert value == pytest.approx(math.prod(v + w for v in xs))
    by_w = central_differences(lambda w: math.prod(v + w for v in xs), (w,))[0]
    by_xs = central_differences(lambda *v: math.prod(e + w for e in v), xs)
    assert partials[("w", None)] == pytest.approx(by_w, rel=1e-6)
    assert [partials[("xs", (i,))] for i in range(len(xs))] == pytest.approx(by_xs, rel=1e-6)
    value, partials = _fold_partials(x, "math.prod(xs, start=w)")
    assert partials[("w", None)] == pytest.approx(central_differences(lambda w: math.prod(xs, start=w), (w,))[0])


def test_any_is_named_as_written_where_it_steers():
    text = str(explain(test_list_values.flags_as_values))
    assert "any(x > 2.0 for x in xs)" in text and "_found" not in text, text


def test_math_dist_has_its_own_partial_per_element_and_no_single_formula():
    """math.dist(p, q)'s edges were labelled 1 and the substituted gradient said
    d/dp = 2: a list's elements each have a derivative of their own."""
    from symback import UsageError
    e = explain(test_list_values.distance)
    text = str(e)
    assert "(p[j] - q[j])/math.dist(p, q)" in text and "(q[j] - p[j])/math.dist(p, q)" in text
    assert "substituted" not in text
    with pytest.raises(UsageError, match="one formula per element"):
        e.gradient()
    p, q = [1.0, 2.0], [0.5, -1.0]
    at = explain(test_list_values.distance).at(p=p, q=q)
    flat = central_differences(lambda a, b, c, d: test_list_values.distance([a, b], [c, d]), p + q)
    assert at.evaluation.gradient["p"] == pytest.approx(flat[:2], rel=1e-6)
    assert at.evaluation.gradient["q"] == pytest.approx(flat[2:], rel=1e-6)
    assert "0.164399" in str(at)  # ∂dist/∂p[0] = (1 - 0.5)/dist, shown at the point
