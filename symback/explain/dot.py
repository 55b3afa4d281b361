"""The explanation as a picture a student reads left to right: a Graphviz digraph.

Nodes are the parameters (ellipses, on the left) and the SSA values (boxes;
the value's ident is the node id); the output has a double border. Every edge
that carries gradient is labelled with its local partial. What only steers
the computation (a branch condition, a loop index, a length, a loop's
bounds) is a dashed grey edge without a label: no gradient flows along it,
but leaving it out would leave the condition, the index and the length
floating unconnected, and a student would not see what decides the branch.
Loops, the two sides of a branch and inlined helper calls are labelled boxes
(Graphviz clusters) around their values.

With an Evaluation (`explain(f).at(...)`) each node shows its value and its
final adjoint, and each edge a second line, ḡ: what flows back along it
(partial × the adjoint of the edge's target), summed over a loop's iterations.

`picture` lays the drawing out as plain data (a Picture), `to_dot` prints it
as dot, and html.py draws the same Picture without Graphviz where it is
absent. `render` runs Graphviz's dot program.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import textwrap
from dataclasses import dataclass, field

import sympy as sp

from .. import ir
from ..derive import is_condition
from ..errors import UsageError
from . import notation

_WRAP = 44  # label lines longer than this wrap: a box as wide as a long carry text is unreadable


@dataclass
class Node:
    id: str                   # the SSA value's ident (a parameter's name)
    name: str                 # as the table names it (the output by the function's name)
    lines: list[str]          # the label, line by line
    kind: str                 # "param", "value", "output", "steer" (condition, index, count) or "const"
    ran: bool = True          # False: a value on the side of a branch not taken at the evaluation point
    value: str | None = None  # its value at the evaluation point, formatted
    adjoint: str | None = None  # its adjoint once the sweep is done, formatted


@dataclass
class Edge:
    operand: str
    target: str
    lines: list[str]          # the local partial, then (with an evaluation) ḡ
    kind: str                 # "partial", "carry" (a loop's value into its next iteration) or "steers"
    ran: bool = True          # False: into a value on the side of a branch not taken at the evaluation point


@dataclass
class Box:
    id: str
    label: str
    kind: str                 # "loop", "branch" or "helper"
    nodes: list[str] = field(default_factory=list)  # node ids directly inside
    boxes: list["Box"] = field(default_factory=list)
    key: tuple = ()           # for a helper: its calls prefix, so one call is one box


@dataclass
class Picture:
    name: str
    nodes: dict[str, Node]    # in program order: parameters first
    edges: list[Edge]
    boxes: list[Box]          # the outermost ones
    loose: list[str]          # node ids in no box

    @staticmethod
    def node_id(ident: str) -> str:
        """The SVG element id of a node (idents are identifiers: no '-' in them)."""
        return f"node-{ident}"

    @staticmethod
    def edge_id(operand: str, target: str) -> str:
        return f"edge-{operand}-{target}"


def picture(explanation) -> Picture:
    """The nodes, edges and boxes of `explanation`'s graph (see the module docstring)."""
    fn = explanation.function
    evaluation = getattr(explanation, "evaluation", None)
    sweep = _Sweep(evaluation)
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    root = Box("", "", "root")

    def add(node: Node, box: Box) -> None:
        if node.id in nodes:  # a list appended to twice: one node, each statement a line
            nodes[node.id].lines[1:1] = node.lines[:1]
            return
        if evaluation is not None and node.kind != "steer":
            node.ran = node.kind == "param" or node.id in evaluation.values
            if node.ran:
                node.lines += sweep.node_lines(node)
        nodes[node.id] = node
        box.nodes.append(node.id)

    for param in fn.params:
        add(Node(param.value.ident, param.value.ident, [param.value.ident], "param"), root)

    structure = _Structure(fn)
    output = explanation.output.ident if explanation.output is not None else None

    rows = {row.target.ident for row in explanation.rows if row.target is not None}

    def steering(ident: str, box: Box, label: str = "") -> None:
        """A value that only steers and has no row of its own (a branch's test, a
        length, a loop's bound): a dashed node, with what it reads in turn."""
        stmt = structure.defined.get(ident)
        if ident in nodes or ident in rows or stmt is None or not hasattr(stmt, "loc"):
            return  # drawn already, or a row of the table (drawn where the table has it)
        if not structure.steering.get(ident):
            return  # a constant test (`while True` with a break): nothing steers it
        label = label or f"{ident} = {structure.text(ident)}"  # named: what reads it may say n_xs
        add(Node(ident, ident, _wrapped([label, f"line {stmt.loc.line}"]), "steer"), box)
        for read in structure.steering.get(ident, ()):
            steering(read, box)
        if not structure.visible(structure.steering[ident], nodes):
            # it reads only bookkeeping the picture leaves out (max()'s flag that it has seen
            # an element): drawn, it would float; the box it steers says what it tests
            del nodes[ident]
            box.nodes.remove(ident)

    stack: list[tuple[int, Box, int]] = []  # (depth of the heading, box, calls open when it opened)
    for row in explanation.rows:
        calls = tuple(getattr(row, "calls", ()))
        while stack and stack[-1][0] >= row.depth:
            stack.pop()
        if row.heading:
            parent = _inside(root, stack, calls, explanation)
            opened = structure.open(row, parent, steering)
            if opened is not None:
                stack.append((row.depth, opened, len(calls)))
                stmt = row.stmt
                if isinstance(stmt, ir.Loop) and stmt.index is not None:
                    index = stmt.index.ident
                    add(Node(index, index, [index, f"loop index, line {row.line}"], "steer"), opened)
                if isinstance(stmt, ir.Loop) and stmt.cond is not None:  # while: its test is in the loop
                    steering(stmt.cond.target.ident, opened, _test(row.heading))
            continue
        if row.target is None:
            continue
        box = _inside(root, stack, calls, explanation)
        ident = row.target.ident
        name = explanation.name(row.target)
        text = getattr(row, "shown", "") or _definition(explanation, row.definition)
        # a value that carries no gradient but reads something (a condition, a count, min of two
        # lengths) steers; one that reads nothing is a constant
        steer = bool(structure.steering.get(ident)) and (
            row.target in explanation.indices or getattr(row, "kind", "") == "condition"
            or (isinstance(row.definition, sp.Basic) and is_condition(row.definition)) or not row.edges)
        kind = "output" if ident == output else "steer" if steer else "value" if row.edges else "const"
        lines = [text if steer and ident.startswith("_") else f"{name} = {text}", f"line {row.line}"]
        add(Node(ident, name, _wrapped(lines), kind), box)
        for edge in row.edges:
            key = (edge.operand.ident, edge.target.ident)
            lines = [_partial(explanation, edge)]
            ran = evaluation is None or (ident in evaluation.values and (
                edge.operand.ident in evaluation.values or edge.operand.ident in evaluation.point))
            if evaluation is not None and ran:
                lines = sweep.edge_lines(key, lines[0])
            kind = "carry" if key in structure.carries else "partial"
            edges.append(Edge(key[0], key[1], lines, kind, ran))

    drawn = {(e.operand, e.target) for e in edges}
    for target, read in structure.steering.items():
        if target not in nodes:
            continue
        for operand in structure.visible(read, nodes):
            if (operand, target) not in drawn and operand != target:
                drawn.add((operand, target))
                edges.append(Edge(operand, target, [], "steers"))
    _drop_unread_indices(nodes, edges, root, structure.index_ids)
    return Picture(fn.name, nodes, edges, root.boxes, root.nodes)


def _drop_unread_indices(nodes: dict, edges: list, box: Box, indices: set[str]) -> None:
    """A loop index nothing reads, over constant bounds (`for _ in range(6)`), would float: leave it out."""
    touched = {i for e in edges for i in (e.operand, e.target)}
    for ident in [i for i in box.nodes if i in indices and i not in touched]:
        box.nodes.remove(ident)
        del nodes[ident]
    for inner in box.boxes:
        _drop_unread_indices(nodes, edges, inner, indices)


class _Structure:
    """What the rows do not say and the IR does: the statement defining each
    value, what each value reads (gradient or not), and the edges that carry a
    value into a loop's next iteration."""

    def __init__(self, fn: ir.Function):
        loops = list(ir.loops(fn.body))
        self.carries = {(c.update.ident, c.head.ident) for loop in loops for c in loop.carried
                        if isinstance(c.update, ir.Value)}
        self.steering: dict[str, list[str]] = {}   # node id -> ids it reads
        self.defined: dict[str, object] = {}       # node id -> the statement that makes it
        self.index_ids = {loop.index.ident for loop in loops if loop.index is not None}
        self._count = 0
        for item in ir.walk(fn.body):
            target = getattr(item, "target", None)
            if isinstance(target, ir.Value):
                self._reads(target, ir.reads(item))
                self.defined.setdefault(target.ident, item)
        for stmt in _statements(fn.body):
            if isinstance(stmt, ir.If):
                for merge in stmt.merges:  # the condition picks the side
                    self._reads(merge.target, (stmt.cond,))
            elif isinstance(stmt, ir.Loop) and stmt.index is not None:
                self._reads(stmt.index, stmt.bounds)

    def _reads(self, target: ir.Value, read) -> None:
        self.steering.setdefault(target.ident, []).extend(v.ident for v in read if isinstance(v, ir.Value))

    def visible(self, read: list[str], nodes) -> list[str]:
        """The nodes behind what a value reads: a value the table folds away (the copy
        in `n = len(xs)`, the index arithmetic in `xs[i - 1]`) stands for what it reads."""
        out, todo, seen = [], list(read), set()
        while todo:
            ident = todo.pop(0)
            if ident in seen:
                continue
            seen.add(ident)
            if ident in nodes:
                out.append(ident)
            else:
                todo.extend(self.steering.get(ident, ()))
        return out

    def text(self, ident: str) -> str:
        """A steering value without a row, as the user would write it."""
        stmt = self.defined[ident]
        if isinstance(stmt, ir.Length):
            return f"len({stmt.seq})"
        if isinstance(stmt, ir.Assign):
            return notation.text(stmt.expr)
        return str(stmt).split(" = ", 1)[-1]

    def open(self, row, parent: Box, steering) -> Box | None:
        """The box a heading row opens inside `parent` (a loop, or one side of a
        branch), with the values that steer it drawn before it; None for a raise."""
        self._count += 1
        name, stmt = f"box{self._count}", row.stmt
        if isinstance(stmt, ir.Loop):
            for bound in stmt.bounds:
                if isinstance(bound, ir.Value):
                    steering(bound.ident, parent)
            opened = Box(name, f"{row.heading}   (line {row.line})", "loop")
        elif isinstance(stmt, ir.If) and row.kind in ("if", "elif"):
            steering(stmt.cond.ident, parent, _test(row.heading))
            opened = Box(name, f"{row.heading}   (line {row.line})", "branch")
        elif isinstance(stmt, ir.If) and row.kind == "else":
            opened = Box(name, f"else   (the other side of line {row.line})", "branch")
        else:
            return None
        parent.boxes.append(opened)
        return opened


def _test(heading: str) -> str:
    """`r <= d` from `if r <= d:` (or elif, while)."""
    return heading.split(" ", 1)[-1].rstrip().rstrip(":") if " " in heading else heading


def _statements(stmts):
    """Every statement, nested ones included, in program order (an If before its sides)."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, ir.If):
            yield from _statements(stmt.then)
            yield from _statements(stmt.orelse)
        elif isinstance(stmt, ir.Loop):
            yield from _statements(stmt.body)


def _inside(root: Box, stack, calls: tuple, explanation) -> Box:
    """The box a row goes in: the open loops and branches, with the helper calls
    it comes from nested where they were made (a helper called in a loop is
    inside the loop's box; a loop in a helper inside the helper's)."""
    box, done = root, 0
    for _, opened, open_calls in stack:
        for j in range(done + 1, open_calls + 1):
            box = _helper(box, calls[:j], explanation)
        box, done = opened, max(done, open_calls)
    for j in range(done + 1, len(calls) + 1):
        box = _helper(box, calls[:j], explanation)
    return box


def _helper(parent: Box, calls: tuple, explanation) -> Box:
    for box in parent.boxes:
        if box.kind == "helper" and box.key == calls:
            return box
    name, line = calls[-1]
    lines = sorted({r.line for r in explanation.rows if tuple(getattr(r, "calls", ()))[:len(calls)] == calls})
    where = "" if not lines else f", line {lines[0]}" if len(lines) == 1 else f", lines {lines[0]}-{lines[-1]}"
    box = Box(f"box-{'-'.join(f'{n}{k}' for n, k in calls)}", f"{name}(){where}, called from line {line}",
              "helper", key=calls)
    parent.boxes.append(box)
    return box


# --- text on the picture ----------------------------------------------------

def _definition(explanation, definition) -> str:
    return explanation._text(definition)


def _partial(explanation, edge) -> str:
    return notation.text(explanation._shown(edge.partial))


def _wrapped(lines: list[str]) -> list[str]:
    return [part for line in lines for part in (textwrap.wrap(line, _WRAP) or [""])]


def _number(x) -> str:
    """A value as a student reads it: four significant digits."""
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, (list, tuple)):
        shown = ", ".join(_number(v) for v in x[:4])
        return f"[{shown}{', …' if len(x) > 4 else ''}]"
    try:
        return f"{float(x):.4g}"
    except (TypeError, ValueError):
        return str(x)


class _Sweep:
    """What the reverse sweep left on each node and edge, read off Evaluation.steps."""

    def __init__(self, evaluation):
        self.evaluation = evaluation
        # node id -> iteration -> its adjoint once the sweep is done (one entry outside loops)
        self.adjoints: dict[str, dict[tuple, float]] = {}
        # (operand, target) -> what flowed back, one (iteration, list entry, amount) per step
        self.flows: dict[tuple[str, str], list[tuple[tuple, tuple | None, float]]] = {}
        self.partials: dict[tuple[str, str], list[float]] = {}
        if evaluation is None:
            return
        for step in evaluation.steps:
            self.adjoints.setdefault(step.target, {}).setdefault(step.iteration, step.target_bar)
            if step.element is None:  # a list's entries are shown as the list's gradient
                self.adjoints.setdefault(step.operand, {})[step.iteration] = step.operand_bar
            key = (step.operand, step.target)
            self.flows.setdefault(key, []).append((step.iteration, step.element, step.partial * step.target_bar))
            self.partials.setdefault(key, []).append(step.partial)

    def node_lines(self, node: Node) -> list[str]:
        """The node's value and adjoint at the point: each iteration's, in order, inside a loop."""
        ev = self.evaluation
        runs = ev.iterations.get(node.id)
        if node.kind == "param":
            node.value = _number(ev.point.get(node.id))
        elif runs and len(runs) > 1:
            node.value = _numbers(runs)
        else:
            node.value = _number(ev.values[node.id])
        lines = [f"= {node.value}"]
        if node.kind == "param":
            if node.id in ev.gradient:  # differentiated: the sum of what came back, 0 if nothing did
                node.adjoint = _number(ev.gradient[node.id])
        elif node.id in self.adjoints:
            bars = self.adjoints[node.id]
            # in the order of running: iterations first, then the value after the loop (no iteration)
            order = sorted(bars, key=lambda k: (not k, k))
            node.adjoint = _number(bars[order[0]]) if len(order) == 1 else _numbers([bars[k] for k in order])
        if node.adjoint is not None:
            lines.append(f"{node.name}_bar = {node.adjoint}")
        return lines

    def edge_lines(self, key: tuple[str, str], partial: str) -> list[str]:
        """The partial with its number, then ḡ: what flowed back along the edge."""
        flows = self.flows.get(key)
        if not flows:
            return [partial, "ḡ = 0"]
        numbers = self.partials[key]
        plain = _is_number_text(partial)
        first = f"{partial} = {_number(numbers[0])}" if len(set(numbers)) == 1 and not plain else partial
        flows = sorted(flows, key=lambda flow: flow[0])  # in iteration order
        if flows[0][1] is not None:  # into entries of a list
            return [first, "ḡ = " + _entries([(f"[{', '.join(map(str, e))}]", x) for _, e, x in flows])]
        if len(flows) == 1:
            return [first, f"ḡ = {_number(flows[0][2])}"]
        return [first, f"ḡ = {_number(math.fsum(x for _, _, x in flows))}   (sum of {len(flows)} iterations)"]


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbers(xs) -> str:
    shown = ", ".join(_number(x) for x in xs[:4])
    return shown + (", …" if len(xs) > 4 else "")


def _entries(pairs) -> str:
    shown = ", ".join(f"{_number(x)} → {where}" for where, x in pairs[:3])
    return shown + (", …" if len(pairs) > 3 else "")


# --- dot ----------------------------------------------------------------------

_NODE_STYLE = {
    "param": 'shape=ellipse, style=filled, fillcolor="#dbe9f6"',
    "value": 'style="rounded,filled", fillcolor="#ffffff"',
    "output": 'style="rounded,filled,bold", fillcolor="#fdebd0", peripheries=2',
    "steer": 'style="rounded,dashed", color="#888888", fontcolor="#555555"',
    "const": 'style="rounded,filled", fillcolor="#f2f2f2"',
}
_BOX_STYLE = {  # statements in a subgraph: separated by ';'
    "loop": 'style="rounded,filled"; fillcolor="#fff8e1"; color="#c9a227"',
    "branch": 'style="rounded,dashed"; color="#7f8c8d"',
    "helper": 'style="rounded,filled"; fillcolor="#e8f5e9"; color="#4caf50"',
}
_EDGE_STYLE = {
    "partial": [],
    "carry": ["constraint=false", "style=bold", 'color="#c9a227"'],  # back to the loop's head: not a rank
    "steers": ["style=dashed", 'color="#999999"', "arrowhead=empty"],
}


def to_dot(explanation) -> str:
    """The computation as a Graphviz digraph (see the module docstring)."""
    return dot_text(picture(explanation))


def dot_text(pic: Picture, ids: bool = False) -> str:
    """`pic` in dot; with `ids`, each node and edge carries the SVG element id
    html.py highlights it by (Picture.node_id, Picture.edge_id)."""
    lines = [f"digraph {_q(pic.name)} {{", "    rankdir=LR;", "    compound=true;",
             '    node [shape=box, fontname="Helvetica", fontsize=11];',
             '    edge [fontname="Helvetica", fontsize=10];',
             '    graph [fontname="Helvetica", fontsize=11];']

    def node(ident: str, indent: str) -> None:
        n = pic.nodes[ident]
        grey = ', color="#bbbbbb", fontcolor="#999999", style="rounded,dashed"' if not n.ran else ""
        at = f"id={_q(Picture.node_id(ident))}, " if ids else ""
        lines.append(f"{indent}{_q(ident)} [{at}label={_label(n.lines)}, "
                     f"{_NODE_STYLE[n.kind]}{grey}];")

    def box(b: Box, indent: str) -> None:
        lines.append(f"{indent}subgraph {_q('cluster_' + b.id)} {{")
        lines.append(f"{indent}    {f'id={_q(b.id)}; ' if ids else ''}label={_label([b.label])}; labeljust=l; {_BOX_STYLE[b.kind]};")
        for ident in b.nodes:
            node(ident, indent + "    ")
        for inner in b.boxes:
            box(inner, indent + "    ")
        lines.append(f"{indent}}}")

    params = [i for i in pic.loose if pic.nodes[i].kind == "param"]
    if params:  # inputs in one column on the left
        lines.append("    { rank=source; " + " ".join(f"{_q(i)};" for i in params) + " }")
    for ident in pic.loose:
        node(ident, "    ")
    for b in pic.boxes:
        box(b, "    ")
    for e in pic.edges:
        attributes = ([f"label={_label(e.lines)}"] if e.lines else []) + _EDGE_STYLE[e.kind]
        if not e.ran:
            attributes += ['color="#bbbbbb"', 'fontcolor="#999999"', "style=dashed"]
        if ids:
            attributes.insert(0, f"id={_q(Picture.edge_id(e.operand, e.target))}")
        lines.append(f"    {_q(e.operand)} -> {_q(e.target)}" + (f" [{', '.join(attributes)}]" if attributes else "")
                     + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    """A dot quoted string: backslashes and quotes escaped, so a label shows what it says."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _label(lines: list[str]) -> str:
    return '"' + "\\n".join(_q(line)[1:-1] for line in lines) + '"'


# --- Graphviz -----------------------------------------------------------------

def graphviz() -> str | None:
    """The path of Graphviz's dot program, or None where it is not installed."""
    return shutil.which("dot")


def render(dot: str, fmt: str, what: str = "drawing the graph") -> bytes:
    """`dot` drawn by Graphviz as `fmt` ("svg" or "png"); UsageError if dot is absent or fails."""
    program = graphviz()
    if program is None:
        raise UsageError(f"{what} needs Graphviz's dot program, which is not installed",
                         hint="install Graphviz (apt install graphviz, brew install graphviz, conda install "
                              "graphviz), or write the graph with --format dot and draw it elsewhere")
    done = subprocess.run([program, f"-T{fmt}"], input=dot.encode("utf-8"), capture_output=True, timeout=120)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"Graphviz's dot failed{': ' + message[-1] if message else ''}",
                         hint="run with --format dot and try dot yourself; if the graph is wrong, please report it")
    return done.stdout


def to_svg(explanation) -> str | None:
    """The picture as SVG text, or None where Graphviz is absent (a notebook then shows the LaTeX)."""
    if graphviz() is None:
        return None
    return render(to_dot(explanation), "svg").decode("utf-8")
