// symback explain: walk the reverse sweep of the page's function one edge at a time.
// The data (id "sweep-data") is written by symback/explain/html.py: the steps in
// sweep order, each `operand_bar += partial * target_bar` with its numbers as text,
// and the nodes whose adjoint the page keeps visible. Text goes in with
// textContent only: names a user picked never become markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("sweep-data").textContent);
  var steps = data.steps, nodes = data.nodes;
  var done = 0;  // how many steps have been applied

  // In the graph, the label line of each node that shows its adjoint ("z_bar = ...").
  var barLine = {};
  Object.keys(nodes).forEach(function (id) {
    var g = document.getElementById(data.node_ids[id]);
    if (!g) { return; }
    var texts = g.getElementsByTagName("text");
    for (var k = 0; k < texts.length; k++) {
      if (texts[k].textContent.indexOf(nodes[id].name + "_bar = ") === 0) { barLine[id] = texts[k]; }
    }
  });

  // Every node's adjoint after the first k steps: {text, value}; a list parameter's
  // entry by entry (its entries' instances, which slices of it share).
  function adjointsAfter(k) {
    var bars = {}, byInstance = {};
    if (data.output !== null && nodes[data.output]) { bars[data.output] = {text: "1", value: 1}; }
    for (var s = 0; s < k; s++) {
      var step = steps[s], bar = {text: step.operand_bar, value: step.operand_bar_value};
      byInstance[step.node] = bar;
      if (!step.element.length && nodes[step.operand]) { bars[step.operand] = bar; }
    }
    Object.keys(nodes).forEach(function (id) {
      var entries = nodes[id].entries;
      if (entries === null || entries === undefined) { return; }
      var list = {texts: [], values: []}, any = false;
      entries.forEach(function (instance, i) {
        if (byInstance[instance]) {
          list.texts[i] = byInstance[instance].text;
          list.values[i] = byInstance[instance].value;
          any = true;
        }
      });
      if (any) { bars[id] = list; }
    });
    return bars;
  }

  // The ḡ line on each edge's label: faint until the sweep has sent something back along it.
  var flowLines = [];
  var edges = document.querySelectorAll("#graph .edge");
  for (var e = 0; e < edges.length; e++) {
    var texts = edges[e].getElementsByTagName("text");
    for (var t = 0; t < texts.length; t++) {
      if (texts[t].textContent.indexOf("ḡ = ") === 0) { flowLines.push({edge: edges[e].id, text: texts[t]}); }
    }
  }

  function listText(bar, length, finished) {
    var parts = [];
    for (var i = 0; i < length; i++) {
      parts.push(bar && bar.texts[i] !== undefined ? bar.texts[i] : (finished ? "0" : "?"));
    }
    return "[" + parts.join(", ") + "]";
  }

  function listValue(bar, length, finished) {
    var out = [];
    for (var i = 0; i < length; i++) {
      out.push(bar && bar.values[i] !== undefined ? bar.values[i] : (finished ? 0 : null));
    }
    return out;
  }

  function line(className, text) {
    var div = document.createElement("div");
    div.className = className;
    div.textContent = text;
    return div;
  }

  function describe(step) {
    var box = document.getElementById("step-text");
    box.textContent = "";
    var where = "line " + step.line;
    if (step.iteration.length) { where += ", iteration " + step.iteration.join(", "); }
    var op = step.operand_name + "_bar", target = step.target_name + "_bar";
    if (step.copy) {
      box.appendChild(line("formula", op + " += " + target));
      box.appendChild(line("numbers", "+= " + step.target_bar + "   (" + step.target_name +
        " is " + step.operand_name + " carried on: a loop variable or the side of a branch taken, partial 1)"));
    } else {
      box.appendChild(line("formula", op + " += ∂" + step.target_name + "/∂" + step.operand_name +
        " · " + target + "      (∂" + step.target_name + "/∂" + step.operand_name + " = " + step.expr + ")"));
      box.appendChild(line("numbers", "+= " + step.partial + " × " + step.target_bar + " = " + step.term));
    }
    box.appendChild(line("result", op + " is now " + step.operand_bar + "      (" + where + ")"));
  }

  function render() {
    var finished = done === steps.length;
    document.getElementById("step-count").textContent = "step " + done + " of " + steps.length;
    document.getElementById("step-backward").disabled = finished;
    document.getElementById("step-forward").disabled = done === 0;
    var marked = document.querySelectorAll(".current, .visited, .current-target, .current-operand");
    for (var m = 0; m < marked.length; m++) {
      marked[m].classList.remove("current", "visited", "current-target", "current-operand");
    }
    for (var s = 0; s < done; s++) {
      var edge = document.getElementById(steps[s].edge);
      if (edge) { edge.classList.add(s === done - 1 ? "current" : "visited"); }
    }
    var swept = {};
    for (var v = 0; v < done; v++) { swept[steps[v].edge] = true; }
    flowLines.forEach(function (flow) {
      flow.text.classList.toggle("pending", !finished && !swept[flow.edge]);
    });
    if (done > 0) {
      var step = steps[done - 1];
      var target = document.getElementById(data.node_ids[step.target] || "");
      var operand = document.getElementById(data.node_ids[step.operand] || "");
      if (target) { target.classList.add("current-target"); }
      if (operand) { operand.classList.add("current-operand"); }
      describe(step);
    } else {
      document.getElementById("step-text").textContent = "The sweep starts at the output, whose adjoint is 1. " +
        "Press “step backward” to send it back along the edges, one at a time.";
    }
    var bars = adjointsAfter(done);
    Object.keys(nodes).forEach(function (id) {
      var node = nodes[id], bar = bars[id], text, value;
      if (node.length !== null) {
        text = bar || finished ? listText(bar, node.length, finished) : "—";
        value = bar || finished ? listValue(bar, node.length, finished) : null;
      } else {
        text = bar ? bar.text : (finished ? "0" : "—");
        value = bar ? bar.value : (finished ? 0 : null);
      }
      var cell = document.getElementById("bar-" + id);
      if (cell) {
        cell.textContent = text;
        cell.setAttribute("data-value", JSON.stringify(value));
      }
      if (barLine[id]) {  // when the sweep is done, the label says what it said first (each iteration's)
        barLine[id].textContent = node.name + "_bar = " + (finished ? node.final : (bar ? text : "?"));
      }
    });
  }

  document.getElementById("step-backward").addEventListener("click", function () {
    if (done < steps.length) { done += 1; render(); }
  });
  document.getElementById("step-forward").addEventListener("click", function () {
    if (done > 0) { done -= 1; render(); }
  });
  document.getElementById("reset").addEventListener("click", function () { done = 0; render(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "ArrowLeft") { document.getElementById("step-backward").click(); }
    if (event.key === "ArrowRight") { document.getElementById("step-forward").click(); }
  });
  render();
}());
