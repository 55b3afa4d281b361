"""explain's pictures (dot, --png, --svg, _repr_svg_): left to right, no node
floating, loops, branches and helper calls as labelled boxes, every edge
labelled with its local partial; at a point, values and adjoints that agree
with central differences of the function, never with symback's own output.
Graphviz is a system tool: tests that draw skip where its dot is absent."""

import html
import inspect
import math
import pathlib
import re
import shutil
import subprocess

import pytest

from reference import central_differences
from symback import UsageError, explain
from symback.cli import main
from symback.explain import dot
import explain_corpus
from test_control_corpus import CASES

EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"
needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None,
                                    reason="Graphviz's dot is not installed (apt install graphviz)")


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def cost(w, b, a0, y):
    z = w * a0 + b
    a = sigmoid(z)
    return (a - y) ** 2


def loss(w, b, xs, ys):
    total = 0.0
    for i in range(len(xs)):  # the per-example loss over a list
        total += (w * xs[i] + b - ys[i]) ** 2
    return total / len(xs)


def huber(x, d):
    r = abs(x)
    if r <= d:
        out = 0.5 * x * x
    else:
        out = d * (r - 0.5 * d)
    return out


SEED = [  # the function, a point, and the floats central differences vary
    (cost, dict(w=0.5, b=0.1, a0=1.0, y=0.0)),
    (loss, dict(w=0.5, b=0.1, xs=[1.0, -2.0], ys=[0.0, 0.5])),
    (huber, dict(x=0.3, d=1.0)),
    (huber, dict(x=-2.5, d=1.0)),
]


def flat_gradient(fn, point: dict) -> dict:
    """d fn / d each float parameter at `point`, by central differences (a list, or
    a list of lists: entry by entry, in the same shape); an int (a count, a number
    of steps) is held fixed."""
    varied = {name: v for name, v in point.items() if not isinstance(v, int)}

    def leaves(v) -> list:
        return [x for entry in v for x in leaves(entry)] if isinstance(v, list) else [v]

    def rebuild(shape, xs, k: int):
        """(shape filled from xs[k:], the next k)."""
        if not isinstance(shape, list):
            return xs[k], k + 1
        out = []
        for entry in shape:
            filled, k = rebuild(entry, xs, k)
            out.append(filled)
        return out, k

    flat = [x for v in varied.values() for x in leaves(v)]

    def f(*xs):
        args, k = dict(point), 0
        for name, shape in varied.items():
            args[name], k = rebuild(shape, list(xs), k)
        return fn(**args)
    diffs = central_differences(f, flat)
    out, k = {}, 0
    for name, shape in varied.items():
        out[name], k = rebuild(shape, list(diffs), k)
    return out


def line_of(fn, text: str) -> int:
    """The absolute line of the first source line of `fn` that contains `text`."""
    lines, first = inspect.getsourcelines(fn)
    return first + next(k for k, line in enumerate(lines) if text in line)


# --- the shape of the picture -------------------------------------------------------

@pytest.mark.parametrize("fn", explain_corpus.FUNCTIONS, ids=lambda f: f.__name__)
def test_no_node_floats(fn):
    """Every node but an unused parameter is on an edge, and every value computed
    from others has its incoming edges (a test or a loop index over constant
    bounds reads nothing: it only has edges out)."""
    explanation = explain(fn)
    pic = dot.picture(explanation)
    into = {e.target for e in pic.edges}
    touched = {i for e in pic.edges for i in (e.operand, e.target)}
    for ident, node in pic.nodes.items():
        if node.kind == "param" or (node.kind == "output" and len(pic.nodes) == 1 + len(explanation.function.params)):
            continue  # a parameter f does not use; f returns a constant
        assert ident in touched, (fn.__name__, ident, node.lines)
        if node.kind == "value":
            assert ident in into, (fn.__name__, ident, node.lines)


def test_every_edge_that_carries_gradient_is_labelled_with_its_local_partial():
    explanation = explain(cost)
    pic = dot.picture(explanation)
    labels = {(e.operand, e.target): e.lines[0] for e in pic.edges if e.kind != "steers"}
    shown = {(e.operand.ident, e.target.ident) for e in explanation.edges}
    assert set(labels) == shown
    assert labels["z", "a"] == "a*(1 - a)" and labels["w", "z"] == "a0", labels
    assert all(not e.lines for e in pic.edges if e.kind == "steers")


def test_a_condition_is_drawn_with_what_it_reads_and_steers_dashed():
    pic = dot.picture(explain(huber))
    steers = {(e.operand, e.target) for e in pic.edges if e.kind == "steers"}
    cond = next(i for i, n in pic.nodes.items() if n.lines[0] == "r <= d")  # the test as written
    assert {("r", cond), ("d", cond), (cond, "out_2")} <= steers, steers
    text = dot.to_dot(explain(huber))
    assert re.search(rf'"r" -> "{cond}" \[style=dashed', text), text


def test_loops_branches_and_helpers_are_labelled_boxes():
    loop_box = dot.picture(explain(loss)).boxes
    assert [b.kind for b in loop_box] == ["loop"]
    assert loop_box[0].label == f"for i in range(len(xs)):   (line {line_of(loss, 'for i in')})"
    assert {"total_2", "i"} <= set(loop_box[0].nodes)

    sides = dot.picture(explain(huber)).boxes
    assert [b.label.split("   ")[0] for b in sides] == ["if r <= d:", "else"]
    assert sides[0].nodes == ["out"] and sides[1].nodes == ["out_1"]

    helper = dot.picture(explain(cost)).boxes
    called = line_of(cost, "a = sigmoid(z)")
    assert [b.kind for b in helper] == ["helper"]
    assert helper[0].label == f"sigmoid(), line {line_of(sigmoid, 'return')}, called from line {called}"
    assert helper[0].nodes == ["a"]
    text = dot.to_dot(explain(cost))
    assert 'subgraph "cluster_box-sigmoid' in text and "label=\"sigmoid()" in text


def test_a_helper_called_in_a_loop_is_a_box_inside_the_loops_box():
    fn = next(fn for fn, _ in CASES if fn.__name__ == "layered_network")
    (loop,) = dot.picture(explain(fn)).boxes
    assert loop.kind == "loop" and [b.kind for b in loop.boxes] == ["helper"]
    assert loop.boxes[0].label.startswith("sigmoid(), line ")


@needs_graphviz
@pytest.mark.parametrize("fn", [cost, loss, huber], ids=lambda f: f.__name__)
def test_graphviz_lays_it_out_left_to_right(fn):
    """Every edge but a loop's way back goes rightwards; the inputs are leftmost."""
    pic = dot.picture(explain(fn))
    plain = subprocess.run(["dot", "-Tplain"], input=dot.dot_text(pic).encode(), capture_output=True,
                           check=True).stdout.decode()
    x = {}
    for line in plain.splitlines():
        parts = line.split()
        if parts[0] == "node":
            x[parts[1].strip('"')] = float(parts[2])
    params = [i for i, n in pic.nodes.items() if n.kind == "param"]
    assert max(x[p] for p in params) < min(x[i] for i in pic.nodes if i not in params)
    for e in pic.edges:
        if e.kind != "carry":
            assert x[e.operand] < x[e.target], (e.operand, e.target)


# --- numbers at a point -------------------------------------------------------------

def _label_number(lines: list[str], prefix: str) -> float:
    (line,) = [line for line in lines if line.startswith(prefix)]
    return float(line[len(prefix):].split()[0].rstrip(","))


@pytest.mark.parametrize("fn, point", SEED, ids=lambda x: getattr(x, "__name__", ""))
def test_at_a_point_each_parameter_shows_its_value_and_the_gradient(fn, point):
    pic = dot.picture(explain(fn).at(**point))
    want = flat_gradient(fn, point)
    for name, value in point.items():
        node = pic.nodes[name]
        if isinstance(value, list):
            shown = node.lines[-1].split(" = ", 1)[1].strip("[]").split(", ")
            assert [float(s) for s in shown] == pytest.approx(want[name], rel=1e-3, abs=1e-4), name
        else:
            assert _label_number(node.lines, "= ") == pytest.approx(value, rel=1e-3)
            assert _label_number(node.lines, f"{name}_bar = ") == pytest.approx(want[name], rel=1e-3, abs=1e-4)


def test_at_a_point_values_and_what_flows_back_on_each_edge():
    point = dict(w=0.5, b=0.1, a0=1.0, y=0.0)
    pic = dot.picture(explain(cost).at(**point))
    z = 0.5 * 1.0 + 0.1
    a = 1 / (1 + math.exp(-z))
    assert _label_number(pic.nodes["z"].lines, "= ") == pytest.approx(z, rel=1e-3)
    assert _label_number(pic.nodes["a"].lines, "= ") == pytest.approx(a, rel=1e-3)
    # what flows back into z from a is dcost/dz: a central difference of cost in z
    dz = central_differences(lambda z: (sigmoid(z) - 0.0) ** 2, [z])[0]
    edge = next(e for e in pic.edges if (e.operand, e.target) == ("z", "a"))
    assert edge.lines[0].startswith("a*(1 - a) = ")
    assert _label_number(edge.lines, "ḡ = ") == pytest.approx(dz, rel=1e-3)


def test_the_side_not_taken_is_grey_and_sends_nothing_back():
    pic = dot.picture(explain(huber).at(x=0.3, d=1.0))
    assert pic.nodes["out"].ran and not pic.nodes["out_1"].ran
    into_else = [e for e in pic.edges if e.target == "out_1"]
    assert into_else and all(not e.ran and not any(x.startswith("ḡ") for x in e.lines) for e in into_else)
    assert _label_number(pic.nodes["d"].lines, "d_bar = ") == 0.0
    assert 'color="#bbbbbb"' in dot.dot_text(pic)


def test_in_a_loop_a_node_shows_each_iterations_value():
    point = dict(w=0.5, b=0.1, xs=[1.0, 2.0, -1.0], ys=[0.0, 1.0, 0.5])
    pic = dot.picture(explain(loss).at(**point))
    residual = next(n for n in pic.nodes.values() if n.kind == "value" and "total_2" == n.id)
    shown = [float(s) for s in residual.lines[residual.lines.index(next(
        x for x in residual.lines if x.startswith("= ")))][2:].split(", ")]
    totals, total = [], 0.0
    for x, y in zip(point["xs"], point["ys"]):
        total += (0.5 * x + 0.1 - y) ** 2
        totals.append(total)
    assert shown == pytest.approx(totals, rel=1e-3)


# --- Graphviz, notebooks and the command line ---------------------------------------

def test_repr_svg_is_none_without_graphviz_so_a_notebook_shows_the_latex(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    explanation = explain(cost)
    assert explanation._repr_svg_() is None
    assert explanation._repr_html_() is None  # so Jupyter falls back to the LaTeX
    assert explanation._repr_latex_().startswith("$$")


@needs_graphviz
def test_repr_svg_draws_the_picture():
    svg = html.unescape(explain(cost).at(w=0.5, b=0.1, a0=1.0, y=0.0)._repr_svg_())  # dot writes - as &#45;
    assert "<svg" in svg and "a*(1 - a) = 0.2288" in svg and "sigmoid(), line" in svg


@needs_graphviz
def test_a_notebook_shows_the_picture_inline():
    """Jupyter ranks text/html above text/latex above image/svg+xml: the picture goes as HTML."""
    page = explain(cost)._repr_html_()
    assert page.startswith('<div class="symback-explain"><svg') and page.endswith("</svg>\n</div>")
    assert "<?xml" not in page and "<!DOCTYPE" not in page


def test_render_without_graphviz_says_to_install_it(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(UsageError, match=r"--svg needs Graphviz's dot program.*install Graphviz"):
        dot.render("digraph {}", "svg", what="--svg")


def test_odd_text_is_quoted_for_dot():
    assert dot._q('say "hi" \\ there') == '"say \\"hi\\" \\\\ there"'
    assert dot._label(["a", 'b"c']) == '"a\\nb\\"c"'


@needs_graphviz
def test_cli_svg_png_and_output_file(tmp_path, capsys):
    neuron = f"{EXAMPLES / 'neuron.py'}:cost"
    svg, png, out = tmp_path / "g.svg", tmp_path / "g.png", tmp_path / "g.dot"
    assert main(["explain", neuron, "--svg", str(svg), "--png", str(png)]) == 0
    assert capsys.readouterr().out == ""  # only the pictures were asked for
    assert "<svg" in svg.read_text() and png.read_bytes().startswith(b"\x89PNG")
    assert main(["explain", neuron, "--format", "dot", "-o", str(out)]) == 0
    assert out.read_text().startswith('digraph "cost" {')


def test_cli_svg_without_graphviz_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["explain", f"{EXAMPLES / 'neuron.py'}:cost", "--svg", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--svg needs Graphviz" in err and "install Graphviz" in err, err


def test_cli_output_to_an_unwritable_place_is_one_line(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir" / "e.txt"
    assert main(["explain", f"{EXAMPLES / 'neuron.py'}:cost", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot write {target}" in err, err
