"""explain: the SSA table, local partials, chain-rule paths, substituted gradient,
LaTeX and dot output; checked against central differences, never against symback."""

import math
import pathlib
import shutil
import sys

import pytest
import sympy as sp

import programs
from reference import central_differences
from symback import Explanation, UsageError, explain, mathlib
from symback.cli import main

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"


def cost(w, b, a0, y):
    z = w * a0 + b
    a = 1 / (1 + math.exp(-z))
    return (a - y) ** 2


def fan(x, y):
    u = x * x
    v = math.sin(x) * y
    return u * v + u


def looped(x, n):
    s = 0.0
    for i in range(n):
        if x > 0:
            s += x * i
        else:
            s -= x
    return s


def test_neuron_shows_the_chain_rule_a_student_knows():
    text = str(explain(cost))
    # dC/dw(L) = a(L-1) · σ'(z(L)) · 2(a(L) - y), in the function's own names
    assert "dcost/dw = ∂z/∂w · ∂a/∂z · ∂cost/∂a\n         = a0 · a*(1 - a) · 2*(a - y)" in text, text
    assert "∂a/∂z     a*(1 - a)   (= exp(-z)/(1 + exp(-z))**2)" in text, text  # σ' beside its textbook form
    assert "z      w*a0 + b" in text, text  # as written, not as SymPy reorders it


def test_the_table_gives_absolute_source_lines():
    first = cost.__code__.co_firstlineno
    table = str(explain(cost)).splitlines()
    assert any(line.startswith(f"{first + 1:>4}  z ") for line in table), table
    assert any(line.startswith(f"{first + 3:>4}  cost ") for line in table), table


def _values_at(explanation: Explanation, args) -> dict:
    """Every SSA value's number at `args`, by evaluating the definitions in order."""
    env = {p.value.symbol: float(a) for p, a in zip(explanation.function.params, args)}
    for row in explanation.rows:
        if row.target is not None and isinstance(row.definition, sp.Expr):
            env[row.target.symbol] = mathlib.evaluate(row.definition, env)
    return env


STRAIGHT = [cost, fan, programs.neuron4, programs.gaussian_logpdf, programs.black_scholes_call,
            programs.haversine, programs.fabs_and_abs, programs.min_max_three]


def _args(fn, seed):
    return programs.sample_args(fn, seed) if fn not in (cost, fan) else (0.5, 0.1, 1.0, 0.2)[:fn.__code__.co_argcount]


@pytest.mark.parametrize("fn", STRAIGHT, ids=lambda f: f.__name__)
def test_every_local_partial_matches_a_central_difference_of_its_definition(fn):
    explanation = explain(fn)
    env = _values_at(explanation, _args(fn, 1))
    for row in explanation.rows:
        operands = [e.operand.symbol for e in row.edges]

        def definition(*point):
            return mathlib.evaluate(row.definition, {**env, **dict(zip(operands, point))})
        numeric = central_differences(definition, [env[s] for s in operands]) if operands else ()
        for edge, want in zip(row.edges, numeric):
            got = mathlib.evaluate(edge.partial, env)
            assert got == pytest.approx(want, rel=1e-6, abs=1e-8), (fn.__name__, str(edge))


@pytest.mark.parametrize("fn", STRAIGHT, ids=lambda f: f.__name__)
def test_substituted_gradient_matches_central_differences(fn):
    gradient = explain(fn).gradient()
    params = [p for p in fn.__code__.co_varnames[:fn.__code__.co_argcount]]
    assert list(gradient) == params
    args = _args(fn, 2)
    symbols = [sp.Symbol(p) for p in params]  # gradient() is over plain symbols
    want = central_differences(fn, args)
    for name, expr, expected in zip(params, gradient.values(), want):
        got = mathlib.evaluate(expr, dict(zip(symbols, map(float, args))))
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-8), name


def test_paths_sum_over_every_route_from_input_to_output():
    explanation = explain(fan)
    x, y = (p.value for p in explanation.function.params)
    routes = [[(e.operand.ident, e.target.ident) for e in path] for path in explanation.paths(x)]
    assert sorted(routes) == [[("x", "u"), ("u", "out")], [("x", "v"), ("v", "out")]]
    assert len(explanation.paths(y)) == 1
    text = str(explanation)
    assert "dfan/dx = ∂u/∂x · ∂fan/∂u" in text and "+ ∂v/∂x · ∂fan/∂v" in text, text


def test_partials_map_each_edge_to_its_sympy_expression():
    partials = explain(cost).partials
    a, z, y = sp.symbols("a z y", real=True)
    assert set(partials) == {("z", "w"), ("z", "a0"), ("z", "b"), ("a", "z"), ("cost", "a"), ("cost", "y")}
    assert sp.expand(partials["a", "z"] - a * (1 - a)) == 0
    assert sp.expand(partials["cost", "y"] - 2 * (y - a)) == 0


def test_wrt_restricts_the_chain_rule():
    text = str(explain(cost, wrt=("w",)))
    assert "dcost/dw =" in text and "dcost/db =" not in text


def test_latex_and_dot():
    explanation = explain(cost)
    latex = explanation._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    assert r"\frac{\partial a}{\partial z} &= a \left(1 - a\right)" in latex, latex
    dot = explanation.to_dot()
    edges = [line for line in dot.splitlines() if "->" in line]
    assert len(edges) == len(explanation.partials)
    assert '"z" -> "a" [label="a*(1 - a)"];' in dot, dot
    assert dot.startswith('digraph "cost" {') and dot.rstrip().endswith("}")


def test_branches_and_loops_are_shown_with_their_structure():
    explanation = explain(looped)
    text = str(explanation)
    # the user's own loop and condition, never parse's internal names (issue 13)
    assert "for i in range(n):" in text and "    if x > 0:" in text and "else:" in text, text
    assert "_cond" not in text and "_i1" not in text, text
    assert "dlooped/dx = Σ_i [x > 0] ∂s_2⁽ⁱ⁾/∂x · ∂looped/∂s_2⁽ⁱ⁾" in text, text  # a sum over the iterations
    assert not any(e.operand.ident == "i" for e in explanation.edges)  # the index carries no gradient
    with pytest.raises(UsageError, match="branches or loops"):
        explanation.gradient()


def test_cli_explain_text_latex_dot(capsys):
    neuron = str(EXAMPLES / "neuron.py")
    assert main(["explain", f"{neuron}:cost"]) == 0
    assert "= a0 · a*(1 - a) · 2*(a - y)" in capsys.readouterr().out
    assert main(["explain", f"{neuron}:cost", "--format", "latex"]) == 0
    latex = capsys.readouterr().out  # a whole document, which pdflatex compiles as it is
    assert latex.startswith("\\documentclass{article}") and "\\begin{align*}" in latex, latex
    assert main(["explain", f"{neuron}:cost", "--format", "dot"]) == 0
    assert '"a" -> "out"' in capsys.readouterr().out


def test_cli_png_says_clearly_when_graphviz_is_missing(capsys, tmp_path, monkeypatch):
    neuron = str(EXAMPLES / "neuron.py")
    target = tmp_path / "graph.png"
    if shutil.which("dot") is None:
        assert main(["explain", f"{neuron}:cost", "--png", str(target)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Graphviz" in err, err
    else:
        assert main(["explain", f"{neuron}:cost", "--png", str(target)]) == 0
        assert target.read_bytes().startswith(b"\x89PNG")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["explain", f"{neuron}:cost", "--png", str(target)]) == 2
    assert "Graphviz" in capsys.readouterr().err


def test_cli_explain_bad_target_is_one_line(capsys):
    assert main(["explain", "no_such_file.py:f"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symback: error:") and err.count("\n") == 1 and "no such file" in err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))


def test_paths_take_a_parameter_name_and_refuse_an_unknown_one():
    explanation = explain(fan)
    assert len(explanation.paths("x")) == 2
    with pytest.raises(UsageError, match="'q' is not a parameter of fan"):
        explanation.paths("q")


def test_gradient_is_over_plain_symbols_so_subs_by_name_works():
    dw = explain(cost).gradient()["w"]
    got = float(dw.subs({"w": 0.5, "b": 0.1, "a0": 1.0, "y": 0.0}))
    assert got == pytest.approx(central_differences(lambda w: cost(w, 0.1, 1.0, 0.0), (0.5,))[0], rel=1e-6)


def twice(x):
    u = x * x
    return u + x


def test_every_path_shows_its_values():
    text = str(explain(twice))
    assert "dtwice/dx = ∂u/∂x · ∂twice/∂u\n          = 2*x · 1\n          + ∂twice/∂x\n          = 1" in text, text
