"""explain in the student's notation (issue 13): no SymPy internals, no names
parse made up, floats as written, LaTeX that a real LaTeX engine compiles."""

import re
import shutil
import subprocess

import pytest
import sympy as sp

import explain_corpus as corpus
from symback import SymbackError, explain, mathlib
from symback.explain import notation

x, w, a, r, d = sp.symbols("x w a r d", real=True)


@pytest.mark.parametrize("expr, text, latex", [
    (x * mathlib.StrictStep(w * x, sp.Float(0.0)), "x*[w*x > 0.0]", r"x \left[w x > 0.0\right]"),
    (mathlib.Step(x, w), "[x >= w]", r"\left[x \geq w\right]"),
    (mathlib.Max(sp.Float(0.0), w * x), "max(0.0, w*x)", r"\max\left(0.0, w x\right)"),
    (mathlib.Min(x, w), "min(x, w)", r"\min\left(x, w\right)"),
    (sp.Abs(r), "|r|", r"\left|r\right|"),
    (mathlib.Indicator(x > 0), "[x > 0]", r"\left[x > 0\right]"),
    (sp.Float(1.5), "1.5", "1.5"),
    (sp.Float(1.0) * r, "r", "r"),
    (-sp.Float(1.0) * d + sp.Abs(r), "-d + |r|", r"- d + \left|r\right|"),
    (a * (1 - a), "a*(1 - a)", r"a \left(1 - a\right)"),
    (sp.Piecewise((r, r < d), (d, True)), "(r if d > r else d)", None),
])
def test_sympy_internals_print_as_mathematics(expr, text, latex):
    assert notation.text(expr) == text
    if latex is not None:
        assert notation.latex(expr) == latex


@pytest.mark.parametrize("name, latex", [
    ("w", "w"), ("cost", r"\mathrm{cost}"), ("total_2", r"\mathrm{total}_{2}"), ("a0", "a_{0}"),
    ("relu_loss", r"\mathrm{relu\_loss}"), ("sigma", r"\sigma"), ("x_1", "x_{1}"),
    ("xs[i]", r"\mathrm{xs}[i]"), ("len(xs)", r"\operatorname{len}\left(\mathrm{xs}\right)"),
])
def test_names_in_latex_multi_letter_upright(name, latex):
    assert notation.shown_latex(name) == latex


def test_escape_makes_any_source_text_safe_inside_text():
    assert notation.escape("a_b #1 50% & $x ^ ~{}\\") == \
        r"a\_b \#1 50\% \& \$x \^{} \~{}\{\}\textbackslash{}"
    assert notation.escape("é") == "?"  # pdflatex's default input reads ASCII


def test_floats_print_as_the_user_wrote_them():
    text = str(explain(corpus.cost_float_literals))
    assert "1.0/(1.0 + exp(-z))" in text, text  # the definition, literal for literal
    assert "1.50000000000000" not in str(explain(corpus.relu_loss))


# SymPy's spellings and parse's own names, which the student never wrote
_INTERNALS = re.compile(r"StrictStep|Step\(|Max\(|Min\(|Abs\(|Piecewise|Heaviside|\d\.\d{10,}|_cond_\d|\b_i\d|"
                        r"\bn_zip\b|\bn_xs\b|__a\d|__t\d|\bPyPow\b|\bFloorDiv\b")


@pytest.mark.parametrize("fn, args", corpus.POINTS, ids=[f"{fn.__name__}{i}" for i, (fn, _) in enumerate(corpus.POINTS)])
def test_no_internals_in_the_text_or_latex(fn, args):
    x, at = corpus.explained(fn), corpus.explained(fn, args)
    for shown in (str(x), x.latex(), str(at), at.latex()):
        found = _INTERNALS.findall(shown)
        assert not found, f"{fn.__name__}: {found} in\n{shown}"


def test_rows_are_in_source_order_and_elements_are_named_as_elements():
    x = explain(corpus.loss)
    lines = [row.line for row in x.rows if row.depth == 0]
    assert lines == sorted(lines), lines  # total = 0.0 (line 7) before the loop (line 8)
    text = str(x)
    assert "∂x/∂xs[i]" in text and "∂x/∂xs " not in text, text
    assert "total_1/len(xs)" in text, text


def test_a_helper_row_carries_its_call():
    x = explain(corpus.neuron)
    call = corpus.neuron.__code__.co_firstlineno + 2
    (row,) = [row for row in x.rows if row.target is not None and row.target.ident == "a"]
    assert row.calls == (("sigmoid", call),)
    assert row.line == corpus.sigmoid.__code__.co_firstlineno + 1  # the helper's own line
    assert f"in sigmoid(), called from line {call}:" in str(x)


def test_ssa_graph_is_explained_where_it_first_appears():
    text = str(explain(corpus.cost))
    first = text.index("SSA graph")
    assert "static single assignment" in text[first:first + 60], text


def test_notebooks_render_latex():
    shown = explain(corpus.huber)._repr_latex_()
    assert shown.startswith("$$\\begin{aligned}") and shown.endswith("\\end{aligned}$$")
    assert r"\mathtt{if\ abs(r)\ <=\ d:}" in shown, shown  # the user's line, as MathJax reads it
    assert r"\frac{d\,\mathrm{huber}}{d\,r}" in shown, shown


# --- LaTeX that compiles --------------------------------------------------------

PDFLATEX = shutil.which("pdflatex")


def _body(document: str) -> str:
    return document.split("\\begin{document}\n", 1)[1].rsplit("\\end{document}", 1)[0]


def _compile(tmp_path, name: str, bodies: list[str]) -> tuple[int, str]:
    head = explain(corpus.cost).latex_document().split("\\begin{document}")[0]
    (tmp_path / f"{name}.tex").write_text(head + "\\begin{document}\n" + "\n\\clearpage\n".join(bodies)
                                          + "\\end{document}\n")
    done = subprocess.run([PDFLATEX, "-halt-on-error", "-interaction=nonstopmode", f"{name}.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout[-3000:]


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed (apt install texlive-latex-base): "
                                             "the LaTeX is checked only by the tests above")
def test_latex_compiles_for_every_function_explain_accepts(tmp_path):
    documents = {}
    for fn in corpus.FUNCTIONS:
        documents[fn.__name__ + str(len(documents))] = corpus.explained(fn).latex_document()
    for k, (fn, args) in enumerate(corpus.POINTS):
        documents[f"{fn.__name__}_at{k}"] = corpus.explained(fn, args).latex_document()
    for fn in corpus.ARRAYS:
        try:
            documents[f"{fn.__name__}_np"] = explain(fn).latex_document()
        except SymbackError:
            continue  # refused by parse, as grad refuses it (test_arrays checks that)
    code, log = _compile(tmp_path, "all", [_body(doc) for doc in documents.values()])
    if code != 0:  # find which ones fail, to name them
        failing = [name for name, doc in documents.items() if _compile(tmp_path, name, [_body(doc)])[0] != 0]
        pytest.fail(f"pdflatex failed on {failing}:\n{log}")
    assert (tmp_path / "all.pdf").stat().st_size > 10_000


def test_float_literals_equal_to_integers_give_the_same_partial():
    plain, floats = explain(corpus.cost), explain(corpus.cost_float_literals)
    assert notation.text(floats.partials["a", "z"]) == notation.text(plain.partials["a", "z"]) == "a*(1 - a)"
