"""The explanation as one self-contained HTML page: the graph, the table and,
with numbers at a point, a control that walks the reverse sweep.

`page(explanation)` returns the page as text. Everything is inline (the CSS
and script are page.css and page.js beside this module, read at run time and
pasted in; the graph is inline SVG), so the file opens from disk with no
network. The graph is Graphviz's drawing where the dot program is installed,
else a layered drawing computed here (`layered_svg`): the page must work
without Graphviz, and both drawings give each node and edge the same element
ids (dot.Picture.node_id, edge_id), which is all page.js needs.

With an Evaluation, "step backward" applies one Step of the sweep
(operand_bar += partial * target_bar), highlighting its edge and showing
that line with the numbers; "step forward" undoes one; "reset" goes back to
the start, where only the output's adjoint (1) is known. Without one the
page has the graph and the table and says how to get the numbers.

Everything a user named (functions, variables, comments in a loop's line)
is escaped for HTML, and the data for the script is JSON with <, > and &
escaped, so no name can end the script or the page early.
"""

from __future__ import annotations

import html
import json
import math
import re
from importlib import resources

from . import dot, notation

_CHAR = 6.6       # px per character at the fallback drawing's font size (12px Helvetica, on average)
_LINE = 15        # px per text line
_GAP = 28         # px between nodes in a column


def page(explanation) -> str:
    """The whole page as text (UTF-8 when written)."""
    fn = explanation.function
    evaluation = getattr(explanation, "evaluation", None)
    pic = dot.picture(explanation)
    svg = _graphviz_svg(pic) if dot.graphviz() is not None else layered_svg(pic)
    title = f"{fn.name}({', '.join(p.value.ident for p in fn.params)})"
    where = f"{_shown_path(fn.file)}:{fn.line}"
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(fn.name)}: the chain rule, edge by edge</title>",
             f"<style>\n{_asset('page.css')}</style>", "</head>", "<body>",
             f"<header><h1>{_e(title)}</h1><p class=\"where\">{_e(where)}</p>"]
    if evaluation is not None:
        point = ", ".join(f"{name} = {dot._number(value)}" for name, value in evaluation.point.items())
        out = explanation.name(explanation.output) if explanation.output is not None else fn.name
        parts.append(f'<p class="point">at {_e(point)}: <strong>{_e(out)} = {_e(dot._number(evaluation.output))}</strong></p>')
    parts.append("</header>")
    if evaluation is not None:
        parts += _controls(len(evaluation.steps))
    else:
        parts.append('<p class="hint">Numbers and a step-through of the reverse sweep need a point: '
                     "<code>symback explain FILE:FUNC --at w=0.5,... --format html</code>, or "
                     "<code>html.page(explain(f).at(w=0.5, ...))</code>.</p>")
    parts += ['<section id="graph" aria-label="the computation graph">', svg, "</section>",
              '<p class="legend">Each edge is labelled with its local partial'
              + (" and ḡ, what flows back along it (partial × the adjoint of the edge's end)"
                 if evaluation is not None else "")
              + ". Dashed grey edges only steer (a condition, a loop index, a length): no gradient "
                "flows along them. Boxes are loops, the sides of a branch and helper calls.</p>"]
    if evaluation is not None:
        parts += _adjoint_table(explanation, pic)
    parts += _table(explanation, pic)
    if evaluation is not None:
        data = _sweep_data(explanation, pic)
        parts.append(f'<script type="application/json" id="sweep-data">{_json(data)}</script>')
        parts.append(f"<script>\n{_asset('page.js')}</script>")
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


# --- parts of the page ----------------------------------------------------------

def _controls(count: int) -> list[str]:
    return ['<section id="stepper" aria-label="the reverse sweep, one edge at a time">',
            '<div class="buttons">',
            '<button id="step-backward" type="button" title="apply the next edge of the reverse sweep">'
            "⟵ step backward</button>",
            '<button id="step-forward" type="button" title="undo the last edge">step forward ⟶</button>',
            '<button id="reset" type="button">reset</button>',
            f'<span id="step-count">step 0 of {count}</span>',
            "</div>",
            '<div id="step-text" aria-live="polite">The sweep starts at the output, whose adjoint is 1. '
            "Press “step backward” to send it back along the edges, one at a time.</div>",
            "</section>"]


def _adjoint_table(explanation, pic: dot.Picture) -> list[str]:
    """Each node's value and its adjoint so far (page.js keeps the adjoint current)."""
    evaluation = explanation.evaluation
    rows = ['<section id="adjoints"><h2>Values and adjoints</h2>', '<table class="adjoints">',
            "<thead><tr><th>value</th><th>at the point</th><th>adjoint so far</th>"
            "<th>when the sweep is done</th></tr></thead><tbody>"]
    for node in pic.nodes.values():
        if node.kind == "steer" or not node.ran:
            continue
        final = node.adjoint if node.adjoint is not None else "0"
        raw = evaluation.gradient.get(node.id) if node.kind == "param" else None
        rows.append(f'<tr><td class="name">{_e(node.name)}</td><td>{_e(node.value or "")}</td>'
                    f'<td class="bar" id="bar-{_e(node.id)}" data-value="">—</td>'
                    f'<td class="final"{_data_value(raw)}>{_e(final)}</td></tr>')
    rows += ["</tbody></table>", "</section>"]
    return rows


def _table(explanation, pic: dot.Picture) -> list[str]:
    """The table `str(explanation)` prints: each value, its definition, its edges' local partials."""
    evaluation = getattr(explanation, "evaluation", None)
    sweep = dot._Sweep(evaluation)
    head = ["line", "value", "definition", "edge", "local partial"] + (["at the point"] if evaluation else [])
    rows = ['<section id="table"><h2>Each value and the local partial on each edge into it</h2>',
            '<table class="ssa">', "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    width = len(head)
    for row in explanation.rows:
        indent = f' style="padding-left:{0.4 + 1.5 * row.depth:.1f}em"'
        if row.heading:
            rows.append(f'<tr class="heading"><td>{row.line}</td><td colspan="{width - 1}"{indent}>'
                        f"{_e(row.heading)}</td></tr>")
            continue
        name = explanation.name(row.target)
        definition = dot._definition(explanation, row.definition)
        edges = row.edges or (None,)
        for k, edge in enumerate(edges):
            cells = [str(row.line), name, definition] if k == 0 else ["", "", ""]
            if edge is None:
                cells += ["", ""] + ([""] if evaluation else [])
            else:
                label = f"∂{name}/∂{explanation.name(edge.operand)}"
                partial = dot._partial(explanation, edge)
                if edge.textbook is not None:
                    partial += f"   (= {notation.text(explanation._shown(edge.textbook))})"
                cells += [label, partial]
                if evaluation:
                    numbers = sweep.partials.get((edge.operand.ident, edge.target.ident), [])
                    cells.append(dot._numbers(numbers) if len(set(numbers)) > 1 else
                                 dot._number(numbers[0]) if numbers else "")
            first = f"<td{indent}>" if k == 0 else "<td>"
            rows.append("<tr>" + "".join((first if i == 1 else "<td>") + _e(c) + "</td>"
                                         for i, c in enumerate(cells)) + "</tr>")
    rows += ["</tbody></table>", "</section>"]
    return rows


def _sweep_data(explanation, pic: dot.Picture) -> dict:
    """What page.js needs: the steps with their text, and each node's label line to keep current."""
    evaluation = explanation.evaluation
    names = {ident: node.name for ident, node in pic.nodes.items()}
    partial_text = {(e.operand.ident, e.target.ident): dot._partial(explanation, e) for e in explanation.edges}
    steps = []
    for step in evaluation.steps:
        target, operand = names.get(step.target, step.target), names.get(step.operand, step.operand)
        entry = "" if step.element is None else "[" + ", ".join(map(str, step.element)) + "]"
        steps.append({
            "target": step.target, "operand": step.operand, "element": list(step.element or ()),
            "edge": dot.Picture.edge_id(step.operand, step.target),
            "line": step.line, "iteration": list(step.iteration), "copy": step.copy,
            "target_name": target, "operand_name": operand + entry,
            "expr": partial_text.get((step.operand, step.target), ""),
            "partial": dot._number(step.partial), "target_bar": dot._number(step.target_bar),
            "term": dot._number(step.partial * step.target_bar),
            "operand_bar": dot._number(step.operand_bar), "operand_bar_value": _finite(step.operand_bar),
            "node": step.operand_node,  # the instance: a list's entry is the same in the list and its slices
        })
    nodes = {}
    for ident, node in pic.nodes.items():
        if node.kind == "steer" or not node.ran:
            continue
        value = evaluation.point.get(ident) if node.kind == "param" else None
        entries = _flat(evaluation.params.get(ident)) if isinstance(value, (list, tuple)) else None
        nodes[ident] = {"name": node.name, "final": node.adjoint or "0",
                        "length": len(entries) if entries is not None else None, "entries": entries}
    output = explanation.output.ident if explanation.output is not None else None
    return {"steps": steps, "nodes": nodes, "output": output,
            "node_ids": {ident: dot.Picture.node_id(ident) for ident in nodes}}


# --- the graph ------------------------------------------------------------------

def _graphviz_svg(pic: dot.Picture) -> str:
    svg = dot.render(dot.dot_text(pic, ids=True), "svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]                            # no XML prolog or doctype inside HTML
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)       # Graphviz's comments repeat each node's name
    return svg.strip()


def layered_svg(pic: dot.Picture) -> str:
    """A drawing of `pic` without Graphviz: inputs on the left, each value one
    column right of the furthest value it reads; each box a band of its own
    below the loose values of the box around it, so boxes never overlap."""
    rank = _ranks(pic)
    size = {i: (max(len(line) for line in n.lines) * _CHAR * (1.3 if n.kind == "param" else 1) + 20,
                len(n.lines) * _LINE + 12) for i, n in pic.nodes.items()}
    columns = max(rank.values(), default=0) + 1
    width = [0.0] * columns
    for i, r in rank.items():
        width[r] = max(width[r], size[i][0])
    label = [0.0] * columns  # room for the labels of the edges leaving each column
    for e in pic.edges:
        if e.lines and e.operand in rank:
            label[rank[e.operand]] = max(label[rank[e.operand]], max(len(x) for x in e.lines) * _CHAR * 0.9)
    x = [20.0]
    for r in range(1, columns):
        x.append(x[-1] + width[r - 1] + max(60.0, min(label[r - 1], 220.0) + 30))  # a long label may overlap: Graphviz places them properly
    pos: dict[str, tuple[float, float]] = {}
    rects: list[tuple[dot.Box, float, float, float, float]] = []

    def place(members: list[str], boxes: list[dot.Box], top: float) -> float:
        column = [top] * columns
        for i in members:
            r = rank[i]
            pos[i] = (x[r] + (width[r] - size[i][0]) / 2, column[r])
            column[r] += size[i][1] + _GAP
        y = max(column) if members else top
        for box in boxes:
            if not _box_nodes(box):
                continue
            inner_top = y + _LINE + 14
            end = place(box.nodes, box.boxes, inner_top)
            inside = [pos[i] for i in _box_nodes(box)]
            left = min(p[0] for p in inside) - 14
            right = max(p[0] + size[i][0] for i, p in zip(_box_nodes(box), inside)) + 14
            right = max(right, left + len(box.label) * _CHAR + 24)
            rects.append((box, left, y, right, end - _GAP + 12))
            y = end + 12
        return y

    height = place(pic.loose, pic.boxes, 20.0)
    total_width = max((pos[i][0] + size[i][0] for i in pos), default=100) + 40
    total_width = max([total_width] + [r[3] + 20 for r in rects])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width:.0f}" height="{height + 20:.0f}" '
           f'viewBox="0 0 {total_width:.0f} {height + 20:.0f}" class="layered" role="img">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>']
    for box, left, top, right, bottom in sorted(rects, key=lambda r: r[2]):
        out.append(f'<g id="{_e(box.id)}" class="cluster {box.kind}"><rect x="{left:.1f}" y="{top:.1f}" '
                   f'width="{right - left:.1f}" height="{bottom - top:.1f}" rx="8"/>'
                   f'<text x="{left + 8:.1f}" y="{top + _LINE:.1f}">{_e(box.label)}</text></g>')
    for e in pic.edges:
        if e.operand not in pos or e.target not in pos:
            continue
        out.append(_edge_svg(e, pos, size))
    for i, node in pic.nodes.items():
        (left, top), (w, h) = pos[i], size[i]
        shape = (f'<ellipse cx="{left + w / 2:.1f}" cy="{top + h / 2:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}"/>'
                 if node.kind == "param" else
                 f'<rect x="{left:.1f}" y="{top:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6"/>')
        texts = "".join(f'<text x="{left + w / 2:.1f}" y="{top + 6 + _LINE * (k + 0.8):.1f}" '
                        f'text-anchor="middle">{_e(line)}</text>' for k, line in enumerate(node.lines))
        ran = "" if node.ran else " not-run"
        out.append(f'<g id="{_e(dot.Picture.node_id(i))}" class="node {node.kind}{ran}">'
                   f"<title>{_e(node.name)}</title>{shape}{texts}</g>")
    out.append("</svg>")
    return "\n".join(out)


def _edge_svg(e: dot.Edge, pos, size) -> str:
    (ax, ay), (aw, ah) = pos[e.operand], size[e.operand]
    (bx, by), (bw, bh) = pos[e.target], size[e.target]
    start = (ax + aw, ay + ah / 2)
    end = (bx, by + bh / 2)
    if end[0] <= start[0]:  # back to a loop's head, or within one column: loop round below
        start, end = (ax + aw / 2, ay + ah), (bx + bw / 2, by + bh)
        dip = max(start[1], end[1]) + 30
        path = f"M{start[0]:.1f},{start[1]:.1f} C{start[0]:.1f},{dip:.1f} {end[0]:.1f},{dip:.1f} {end[0]:.1f},{end[1]:.1f}"
        middle = ((start[0] + end[0]) / 2, dip - 4)
    else:
        bend = (end[0] - start[0]) / 2
        path = (f"M{start[0]:.1f},{start[1]:.1f} C{start[0] + bend:.1f},{start[1]:.1f} "
                f"{end[0] - bend:.1f},{end[1]:.1f} {end[0]:.1f},{end[1]:.1f}")
        middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 - 4)
    texts = "".join(f'<text x="{middle[0]:.1f}" y="{middle[1] + _LINE * (k - len(e.lines) + 1):.1f}" '
                    f'text-anchor="middle">{_e(line)}</text>' for k, line in enumerate(e.lines))
    ran = "" if e.ran else " not-run"
    return (f'<g id="{_e(dot.Picture.edge_id(e.operand, e.target))}" class="edge {e.kind}{ran}">'
            f'<path d="{path}" marker-end="url(#arrow)"/>{texts}</g>')


def _ranks(pic: dot.Picture) -> dict[str, int]:
    """Each node's column: 0 for what reads nothing, else one more than the furthest it reads.
    Edges into a loop's head from its last iteration do not count (they go back)."""
    into: dict[str, list[str]] = {i: [] for i in pic.nodes}
    for e in pic.edges:
        if e.kind != "carry" and e.operand in into and e.target in into:
            into[e.target].append(e.operand)
    rank: dict[str, int] = {}
    for i in pic.nodes:  # program order: operands come first, except around a loop
        stack, open_ = [i], {i}
        while stack:  # iterative, not recursive: a long function must not hit the recursion limit
            j = stack[-1]
            waiting = [k for k in into[j] if k not in rank and k not in open_]
            if waiting:
                stack.extend(waiting)
                open_.update(waiting)
                continue
            stack.pop()
            rank[j] = max((rank[k] + 1 for k in into[j] if k in rank), default=0)
    last = max(rank.values(), default=0)
    for i, node in pic.nodes.items():
        if node.kind == "output":  # the output on the right, as Graphviz draws it
            rank[i] = last
    return rank


def _box_nodes(box: dot.Box) -> list[str]:
    return box.nodes + [i for inner in box.boxes for i in _box_nodes(inner)]


# --- text -----------------------------------------------------------------------

def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _json(data) -> str:
    """JSON safe inside <script>: no '<', '>' or '&' that could end it or start markup."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _flat(x) -> list:
    """A nested list's entries in order (a list of pairs: each pair's two)."""
    if isinstance(x, (list, tuple)):
        return [y for entry in x for y in _flat(entry)]
    return [x]


def _finite(x):
    """A number for JSON (which has no NaN or infinity): None where it is not finite."""
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x) if math.isfinite(x) else None
    return None


def _data_value(raw) -> str:
    if raw is None:
        return ""
    return f' data-value="{_e(json.dumps(_finite(raw)))}"'


def _shown_path(file: str) -> str:
    from .text import _shown_path as shown  # the table's way of naming a file
    return shown(file)
