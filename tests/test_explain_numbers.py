"""explain(f).at(...): the numbers at a point (issue 13). Every gradient the
evaluation gives, and every sum of path products or per-iteration terms it
prints, is checked against central differences of f itself, never against
symback's own gradient; the output against f's own value."""

import math
import re

import pytest

import explain_corpus as corpus
from reference import central_differences
from symback import UsageError, explain
from symback.cli import main
from symback.explain.chain import Chains


def _names(fn):
    return fn.__code__.co_varnames[:fn.__code__.co_argcount]


def _leaves(value, path=()):
    """(path, float) for every float in an argument (inside lists and tuples too)."""
    if isinstance(value, (list, tuple)):
        for k, entry in enumerate(value):
            yield from _leaves(entry, path + (k,))
    elif isinstance(value, float):
        yield path, value


def _replaced(value, path, new):
    if not path:
        return new
    out = list(value)
    out[path[0]] = _replaced(value[path[0]], path[1:], new)
    return type(value)(out) if isinstance(value, tuple) else out


def _numeric(fn, args, k, path):
    """d f / d (the float at `path` inside argument k), by central differences of f."""
    def moved(t):
        changed = list(args)
        changed[k] = _replaced(args[k], path, t)
        return fn(*changed)
    x = args[k]
    for step in path:
        x = x[step]
    return central_differences(moved, (x,))[0]


def _at(got, path):
    for step in path:
        got = got[step]
    return got


def _close(got, want):
    return math.isfinite(got) and abs(got - want) <= 1e-6 + 1e-5 * abs(want)


@pytest.mark.parametrize("fn, args", corpus.POINTS, ids=[f"{fn.__name__}{i}" for i, (fn, _) in enumerate(corpus.POINTS)])
def test_every_gradient_at_a_point_matches_central_differences(fn, args):
    evaluation = corpus.explained(fn, args).evaluation
    assert evaluation.output == pytest.approx(fn(*args), rel=1e-12, abs=1e-15)  # the run computes what f does
    problems = []
    for k, name in enumerate(_names(fn)[:len(args)]):  # not a parameter left to its default
        for path, _ in _leaves(args[k]):
            got, want = _at(evaluation.gradient[name], path), _numeric(fn, args, k, path)
            if not _close(got, want):
                problems.append(f"d/d{name}{list(path) or ''}: explain {got!r} vs numeric {want!r}")
    assert not problems, f"{fn.__name__}{args}: " + "; ".join(problems)


@pytest.mark.parametrize("fn, args", corpus.POINTS, ids=[f"{fn.__name__}{i}" for i, (fn, _) in enumerate(corpus.POINTS)])
def test_the_printed_terms_sum_to_the_gradient(fn, args):
    """Each path's product (or each iteration's term) is the product of its factors,
    and the terms add up to the derivative central differences give."""
    x = corpus.explained(fn, args)
    chains = Chains(x)
    for k, param in enumerate(x.wrt[:len(args)]):
        for chain in chains.at(param, x.evaluation):
            terms = [t for t in chain.terms if t is not None]
            for term in terms:
                assert term.value == pytest.approx(math.prod(f.number for f in term.factors), rel=1e-12, abs=1e-300) \
                    or any(f.number is None for f in term.factors)
            if chain.left_out:
                continue  # some terms are elided from the listing: their sum is the total shown
            path = tuple(int(p) for p in chain.param[len(param.ident):].strip("[]").split("][") if p)
            if not isinstance(args[k], (float, list, tuple)) or not isinstance(_at(args[k], path), float):
                continue  # an int steers: no derivative to compare
            want = _numeric(fn, args, k, path)
            assert _close(math.fsum(t.value for t in terms), want), (fn.__name__, chain.param, terms, want)


def test_the_steps_sweep_each_edge_once_and_sum_to_the_gradient():
    x = explain(corpus.loss).at(w=0.5, b=0.1, xs=[1.0, 2.0, 3.0], ys=[0.5, 1.0, 2.0])
    steps = x.evaluation.steps
    # three iterations, each with the edges into r: w, x, b, y
    assert sorted(s.iteration for s in steps if s.target == "r" and s.operand == "w") == [(0,), (1,), (2,)]
    for name in ("w", "b"):
        assert math.fsum(s.partial * s.target_bar for s in steps if s.operand == name) == \
            pytest.approx(x.evaluation.gradient[name], rel=1e-12)
    # an element's edge names its list and the entry: ∂x/∂xs[i]
    assert {s.element for s in steps if s.operand == "xs"} == {(0,), (1,), (2,)}
    assert steps[0].target == "out" and steps[0].target_bar == 1.0  # the sweep starts at the output


def test_neuron_at_a_point_reads_like_the_video():
    text = str(explain(corpus.cost).at(w=0.5, b=0.1, a0=1.0, y=0.0))
    assert "at w=0.5, b=0.1, a0=1.0, y=0.0: cost = " in text, text
    z = 0.5 * 1.0 + 0.1
    a = 1 / (1 + math.exp(-z))
    line = next(line for line in text.splitlines() if line.startswith("dcost/dw = "))
    # dC/dw = a0 · σ'(z) · 2(a - y): each factor a number, their product the derivative
    assert "= ∂z/∂w · ∂a/∂z · ∂cost/∂a" in line.replace("dcost/dw ", ""), line
    numbers = [float(n) for n in line.split("=")[-2].split("·")]
    assert numbers == pytest.approx([1.0, a * (1 - a), 2 * (a - 0.0)], rel=1e-5)
    want = central_differences(lambda w: corpus.cost(w, 0.1, 1.0, 0.0), (0.5,))[0]
    assert float(line.split("=")[-1]) == pytest.approx(want, rel=1e-5)


def test_a_loop_is_shown_iteration_by_iteration_and_its_sum_over_them():
    text = str(explain(corpus.loss).at(w=0.5, b=0.1, xs=[1.0, 2.0, 3.0], ys=[0.5, 1.0, 2.0]))
    assert "for x, y in zip(xs, ys):   (3 iterations)" in text, text
    assert all(f"    i = {k}:" in text for k in range(3)), text
    assert "dloss/dw = Σ_i ∂r⁽ⁱ⁾/∂w · ∂loss/∂r⁽ⁱ⁾" in text, text
    assert "∂r⁽²⁾/∂w · ∂loss/∂r⁽²⁾" in text and "dloss/dxs[1] = ∂x⁽¹⁾/∂xs[1] · ∂loss/∂x⁽¹⁾" in text, text


def test_many_iterations_show_the_first_and_last_few():
    text = str(explain(corpus.decay).at(x=5.0, rate=0.7))
    assert "(11 iterations)" in text and "... 6 more iterations ..." in text, text
    assert "    i = 2:" in text and "    i = 3:" not in text and "    i = 10:" in text, text


@pytest.mark.parametrize("r, taken", [(0.3, "if abs(r) <= d:   (true: taken)"), (-2.0, "else:   (taken)")])
def test_a_branch_at_a_point_is_the_side_taken(r, taken):
    text = str(explain(corpus.huber).at(r=r, d=1.0))
    assert taken in text, text
    table = text.split("Chain rule")[0]
    assert ("∂out_1/∂r" in table) == (r == -2.0) and ("∂out/∂r" in table) == (r == 0.3), table


def test_a_helper_is_named_with_the_line_of_its_call():
    call = corpus.neuron.__code__.co_firstlineno + 2
    text = str(explain(corpus.neuron).at(w=0.5, b=0.1, x=1.0))
    assert f"in sigmoid(), called from line {call}:" in text, text


def test_at_refuses_a_missing_an_extra_and_a_non_numeric_argument():
    x = explain(corpus.cost)
    with pytest.raises(UsageError, match="no value for 'y', a parameter of cost"):
        x.at(w=0.5, b=0.1, a0=1.0)
    with pytest.raises(UsageError, match="'q' is not a parameter of cost"):
        x.at(w=0.5, b=0.1, a0=1.0, y=0.0, q=1.0)
    with pytest.raises(UsageError, match="w='a' is not a number"):
        x.at(w="a", b=0.1, a0=1.0, y=0.0)


def divides(x, y):
    return x / y


def raises(x):
    if x > 1.0:
        raise ValueError("x too big")
    return x * x


def test_a_point_where_f_fails_is_a_usage_error_naming_the_line():
    with pytest.raises(UsageError, match=r"line \d+ fails at this point: ZeroDivisionError"):
        explain(divides).at(x=1.0, y=0.0)
    with pytest.raises(UsageError, match=r"raises at this point \(line \d+: raise ValueError"):
        explain(raises).at(x=2.0)
    assert explain(raises).at(x=0.5).evaluation.gradient["x"] == pytest.approx(1.0)


def test_cli_at_with_a_list(capsys, tmp_path):
    source = tmp_path / "model.py"
    source.write_text("def loss(w, xs):\n    total = 0.0\n    for x in xs:\n        total += (w * x) ** 2\n"
                      "    return total\n")
    assert main(["explain", f"{source}:loss", "--at", "w=0.5,xs=[1.0, 2.0]"]) == 0
    out = capsys.readouterr().out
    want = central_differences(lambda w: sum((w * x) ** 2 for x in (1.0, 2.0)), (0.5,))[0]
    block = out.split("dloss/dw = ", 1)[1].split("\n\n", 1)[0]
    assert "Σ_i ∂" in block and "(2 iterations)" in out, out
    total = [line for line in block.splitlines() if re.fullmatch(r"\s+= -?[\d.e+-]+", line)]
    assert float(total[-1].split("=")[-1]) == pytest.approx(want, rel=1e-5), out  # the terms' sum


@pytest.mark.parametrize("at, message", [
    ("w=0.5,xs=[1.0,", "the value of xs"), ("w", "'w' is not NAME=VALUE"), ("w=0.5", "no value for 'xs'"),
    ("w=0.5,xs=[1.0],q=2", "'q' is not a parameter"), ("w=abc,xs=[1.0]", "the value of w"),
])
def test_cli_at_errors_are_one_line_naming_the_parameter(capsys, tmp_path, at, message):
    source = tmp_path / "model.py"
    source.write_text("def loss(w, xs):\n    return w * xs[0]\n")
    assert main(["explain", f"{source}:loss", "--at", at]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symback: error:") and err.count("\n") == 1 and message in err, err
