"""explain's HTML page: one self-contained file (nothing fetched), every name
escaped, and, in a real headless browser, a step-through of the reverse sweep
whose final adjoints agree with central differences of the function.

The browser tests drive Debian's chromium through chromedriver with the W3C
WebDriver protocol (plain HTTP and JSON, so urllib is enough: no Selenium).
They skip, saying why, where chromium or chromedriver is not installed
(apt install chromium chromium-driver). SYMBACK_SCREENSHOT=1 also saves
docs/images/explain-page.png, the screenshot in the docs.
"""

import base64
import inspect
import html.parser
import json
import math
import os
import pathlib
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from symback import explain
from symback.cli import main
from symback.explain import dot, html as page_module
from symback.static import load_function
import explain_corpus
from test_explain_pictures import SEED, cost, flat_gradient, needs_graphviz

ROOT = pathlib.Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"


def odd(λ, ŷ):
    total = 0.0
    for _ in range(2):
        total += (λ - ŷ) ** 2
    return total


class _Tags(html.parser.HTMLParser):
    """Every start tag of a page, with its attributes, and the text of its scripts."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self.text, self._in_script = [], [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)


def _parsed(text: str) -> _Tags:
    tags = _Tags()
    tags.feed(text)
    return tags


# --- the page as text -------------------------------------------------------------

@pytest.mark.parametrize("graphviz", [True, False], ids=["graphviz", "layered"])
def test_the_page_is_self_contained(graphviz, monkeypatch):
    if not graphviz:
        monkeypatch.setattr(dot, "graphviz", lambda: None)
    elif dot.graphviz() is None:
        pytest.skip("Graphviz's dot is not installed (apt install graphviz)")
    text = page_module.page(explain(cost).at(w=0.5, b=0.1, a0=1.0, y=0.0))
    tags = _parsed(text)
    names = [tag for tag, _ in tags.tags]
    assert "link" not in names and "img" not in names and "iframe" not in names
    assert all("src" not in attrs for _, attrs in tags.tags), "a script or image fetched from elsewhere"
    assert not [a for _, attrs in tags.tags for k, a in attrs.items()
                if k in ("href", "xlink:href") and a and not a.startswith("#")]
    assert "@import" not in text and "url(http" not in text
    # the only addresses are XML namespace names, which are never fetched
    assert set(__import__("re").findall(r"https?://[^\s\"'<>]+", text)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


@pytest.mark.parametrize("graphviz", [True, False], ids=["graphviz", "layered"])
def test_every_node_and_edge_has_the_element_id_the_script_highlights(graphviz, monkeypatch):
    if not graphviz:
        monkeypatch.setattr(dot, "graphviz", lambda: None)
    elif dot.graphviz() is None:
        pytest.skip("Graphviz's dot is not installed (apt install graphviz)")
    fn, point = SEED[1]  # the loop
    explanation = explain(fn).at(**point)
    ids = {attrs.get("id") for _, attrs in _parsed(page_module.page(explanation)).tags}
    pic = dot.picture(explanation)
    assert {dot.Picture.node_id(i) for i in pic.nodes} <= ids
    assert {dot.Picture.edge_id(e.operand, e.target) for e in pic.edges} <= ids
    assert {dot.Picture.edge_id(s.operand, s.target) for s in explanation.evaluation.steps} <= ids


ODD_DIR = """</script><b>bold?</b> & "quotes" 'too'"""


def _odd_function(tmp_path):
    """`odd` read from a file in a directory whose name is markup: the page names that file."""
    folder = tmp_path / ODD_DIR.replace("/", "∕")  # a name cannot hold '/': the look-alike U+2215
    folder.mkdir()
    source = folder / "odd.py"
    source.write_text(inspect.getsource(odd), encoding="utf-8")
    return load_function(source, "odd"), folder


@pytest.mark.parametrize("graphviz", [True, False], ids=["graphviz", "layered"])
def test_names_and_paths_are_escaped_everywhere(graphviz, monkeypatch, tmp_path):
    if not graphviz:
        monkeypatch.setattr(dot, "graphviz", lambda: None)
    elif dot.graphviz() is None:
        pytest.skip("Graphviz's dot is not installed (apt install graphviz)")
    fn, folder = _odd_function(tmp_path)
    tags = _parsed(page_module.page(explain(fn).at(λ=1.5, ŷ=0.25)))
    assert "b" not in [tag for tag, _ in tags.tags], "the file's name became markup"
    assert any(str(folder) in text for text in tags.text)  # shown as it is, as text
    (data,) = [s for s in tags.scripts if s.lstrip().startswith("{")]
    assert "</" not in data
    steps = json.loads(data)["steps"]
    assert {s["operand_name"] for s in steps} >= {"λ", "ŷ"}


def test_without_a_point_the_page_is_the_graph_and_the_table():
    text = page_module.page(explain(cost))
    tags = _parsed(text)
    assert "script" not in [tag for tag, _ in tags.tags]
    assert "--at" in text and "∂a/∂z" in text and "a*(1 - a)" in text


def test_cli_writes_the_page(tmp_path, capsys):
    out = tmp_path / "cost.html"
    assert main(["explain", f"{EXAMPLES / 'neuron.py'}:cost", "--format", "html", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "cost(w, b, a0, y)" in text
    assert f"wrote {out}" in capsys.readouterr().err


@pytest.mark.parametrize("fn, args", explain_corpus.POINTS,
                         ids=[f"{fn.__name__}{i}" for i, (fn, _) in enumerate(explain_corpus.POINTS)])
def test_every_corpus_page_carries_a_sweep_that_ends_at_the_gradient(fn, args):
    """The page's data, replayed as page.js replays it, ends at each parameter's gradient."""
    explanation = explain(fn)
    point = dict(zip([p.value.ident for p in explanation.function.params], args))
    at = explanation.at(**point)
    data = page_module._sweep_data(at, dot.picture(at))
    by_instance = {step["node"]: step["operand_bar_value"] for step in data["steps"]}  # the last word on each
    want = flat_gradient(fn, point)
    for name, value in point.items():
        if isinstance(value, int):
            continue  # a count: no gradient
        node = data["nodes"][name]
        if node["entries"] is not None:
            got = [by_instance.get(instance, 0.0) for instance in node["entries"]]
            assert got == pytest.approx(_flatten(want[name]), rel=1e-4, abs=1e-6), name
        else:
            assert by_instance.get(at.evaluation.params[name], 0.0) == pytest.approx(want[name], rel=1e-4,
                                                                                       abs=1e-6), name


def _flatten(x) -> list:
    return [y for entry in x for y in _flatten(entry)] if isinstance(x, (list, tuple)) else [x]


# --- in a real browser ----------------------------------------------------------------

def _browser() -> tuple[str, str] | None:
    binary = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                  None)
    driver = shutil.which("chromedriver")
    return (binary, driver) if binary and driver else None


class WebDriver:
    """Just enough of the W3C WebDriver protocol to load a page, click and read it."""

    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C name of an element reference

    def __init__(self, binary: str, driver: str):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self._call("GET", "/status")["ready"]:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError("chromedriver did not start")
            time.sleep(0.1)
        options = {"binary": binary, "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                              "--disable-dev-shm-usage", "--window-size=1300,1100"]}
        session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}})
        self.session = f"/session/{session['sessionId']}"

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as err:
            raise AssertionError(f"WebDriver {method} {path}: {err.read().decode()[:500]}") from None

    def open(self, path: pathlib.Path) -> None:
        self._call("POST", f"{self.session}/url", {"url": path.resolve().as_uri()})

    def click(self, css: str) -> None:
        element = self._call("POST", f"{self.session}/element", {"using": "css selector", "value": css})
        self._call("POST", f"{self.session}/element/{element[self.ELEMENT]}/click", {})

    def run(self, script: str, *args):
        return self._call("POST", f"{self.session}/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self) -> bytes:
        return base64.b64decode(self._call("GET", f"{self.session}/screenshot"))

    def quit(self) -> None:
        try:
            self._call("DELETE", self.session)
        finally:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    found = _browser()
    if found is None:
        pytest.skip("no headless browser: install chromium and chromium-driver (apt install chromium "
                    "chromium-driver) to run the page in a browser")
    driver = WebDriver(*found)
    yield driver
    driver.quit()


_STATE = """
const current = document.querySelector('#graph .edge.current');
return {count: document.getElementById('step-count').textContent,
        edge: current ? current.id : null,
        text: document.getElementById('step-text').textContent,
        backward: document.getElementById('step-backward').disabled};
"""

_BARS = """
const out = {};
for (const cell of document.querySelectorAll('td.bar')) {
  out[cell.id.slice(4)] = {text: cell.textContent, value: JSON.parse(cell.getAttribute('data-value'))};
}
return out;
"""


def _walk_the_sweep(browser, path, fn, point):
    explanation = explain(fn).at(**point)
    path.write_text(page_module.page(explanation), encoding="utf-8")
    browser.open(path)
    steps = explanation.evaluation.steps
    assert browser.run(_STATE)["count"] == f"step 0 of {len(steps)}"
    for k, step in enumerate(steps, 1):
        browser.click("#step-backward")
        state = browser.run(_STATE)
        assert state["count"] == f"step {k} of {len(steps)}"
        assert state["edge"] == dot.Picture.edge_id(step.operand, step.target), k  # the edge is highlighted
        assert "_bar +=" in state["text"] and "is now" in state["text"], state["text"]
    assert browser.run(_STATE)["backward"], "step backward stays enabled after the last step"
    bars = browser.run(_BARS)
    want = flat_gradient(fn, point)
    for name in point:
        got = bars[name]["value"]
        assert got == pytest.approx(want[name], rel=1e-5, abs=1e-7), name
        shown = [float(x) for x in bars[name]["text"].strip("[]").split(", ")]
        assert shown == pytest.approx(want[name] if isinstance(got, list) else [want[name]], rel=1e-3, abs=1e-4)
    return steps


@pytest.mark.parametrize("fn, point", SEED, ids=[f"{fn.__name__}{i}" for i, (fn, _) in enumerate(SEED)])
def test_stepping_backward_through_the_page_ends_at_the_gradient(browser, tmp_path, fn, point):
    _walk_the_sweep(browser, tmp_path / "page.html", fn, point)


def test_step_forward_and_reset_undo_the_sweep(browser, tmp_path):
    fn, point = SEED[0]
    steps = _walk_the_sweep(browser, tmp_path / "page.html", fn, point)
    browser.click("#step-forward")
    state = browser.run(_STATE)
    assert state["count"] == f"step {len(steps) - 1} of {len(steps)}"
    assert state["edge"] == dot.Picture.edge_id(steps[-2].operand, steps[-2].target)
    browser.click("#reset")
    assert browser.run(_STATE)["count"] == f"step 0 of {len(steps)}"
    bars = browser.run(_BARS)
    assert bars["w"]["value"] is None and bars["w"]["text"] == "—"
    assert bars[explain(fn).output.ident]["text"] == "1"  # the output's adjoint is known from the start


def test_the_page_works_without_graphviz(browser, tmp_path, monkeypatch):
    monkeypatch.setattr(dot, "graphviz", lambda: None)
    fn, point = SEED[1]
    _walk_the_sweep(browser, tmp_path / "layered.html", fn, point)


def test_the_page_with_odd_names_runs(browser, tmp_path):
    fn, folder = _odd_function(tmp_path)
    path = tmp_path / "odd.html"
    path.write_text(page_module.page(explain(fn).at(λ=1.5, ŷ=0.25)), encoding="utf-8")
    browser.open(path)
    assert browser.run("return document.querySelector('h1').textContent") == "odd(λ, ŷ)"
    assert browser.run("return document.querySelector('header .where').textContent").startswith(str(folder))
    _walk_the_sweep(browser, tmp_path / "odd2.html", odd, dict(λ=1.5, ŷ=0.25))


@needs_graphviz
def test_screenshot_for_the_docs(browser, tmp_path):
    """SYMBACK_SCREENSHOT=1: docs/images/explain-page.png, examples/neuron.py's cost
    half way through its sweep (run from the repository's root, so the page names
    the file as examples/neuron.py)."""
    if os.environ.get("SYMBACK_SCREENSHOT") != "1":
        pytest.skip("set SYMBACK_SCREENSHOT=1 to refresh docs/images/explain-page.png")
    path = tmp_path / "cost.html"
    explanation = explain(load_function(EXAMPLES / "neuron.py", "cost")).at(w=0.5, b=0.1, a0=1.0, y=0.0)
    path.write_text(page_module.page(explanation), encoding="utf-8")
    browser.open(path)
    for _ in range(3):
        browser.click("#step-backward")
    image = browser.screenshot()
    assert image.startswith(b"\x89PNG")
    target = ROOT / "docs" / "images" / "explain-page.png"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(image)


def test_finite_numbers_only_in_the_data():
    assert page_module._finite([1.0, math.nan, math.inf, 2]) == [1.0, None, None, 2.0]


def test_the_pages_assets_are_installed_with_the_package():
    """html.py reads page.js and page.css at run time: a plain install must carry them."""
    import tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    data = config.get("package-data", {}).get("symback.explain", [])
    for asset in ("page.js", "page.css"):
        assert asset in data and (ROOT / "symback" / "explain" / asset).is_file(), asset
