"""Programs for symback's benchmarks, and their hand-written gradients.

* `neuron4`: the four-layer, one-neuron-per-layer network of 3Blue1Brown's
  backpropagation video, and `neuron4_hand`, its value and gradient written
  the way an expert writes them by hand.
* `make_chain(n, seed)`: the source of a random straight-line function of n
  statements, `chain(x, y, w, b)`, and `make_chain_hand(n, seed)`: the
  source of its value and gradient written by hand (forward pass keeping the
  temporaries a person would keep, then the adjoints in reverse with the
  textbook derivative of each form). The hand-written gradient is produced
  by the simple per-form rules in this file, independently of symback.
* `load_module(source, name)`: import a module from source text through a
  real file, so `inspect.getsource` (which symback needs) works.

This file does not import symback.
"""

from __future__ import annotations

import atexit
import importlib.util
import math
import os
import random
import shutil
import sys
import tempfile

# --- the 3Blue1Brown network -------------------------------------------------


def neuron4(w1, b1, w2, b2, w3, b3, w4, b4, a0, y):
    z1 = w1 * a0 + b1
    a1 = 1 / (1 + math.exp(-z1))
    z2 = w2 * a1 + b2
    a2 = 1 / (1 + math.exp(-z2))
    z3 = w3 * a2 + b3
    a3 = 1 / (1 + math.exp(-z3))
    z4 = w4 * a3 + b4
    a4 = 1 / (1 + math.exp(-z4))
    return (a4 - y) ** 2


def neuron4_hand(w1, b1, w2, b2, w3, b3, w4, b4, a0, y):
    """(neuron4(...), (dw1, db1, dw2, db2, dw3, db3, dw4, db4, da0, dy)), by hand."""
    a1 = 1 / (1 + math.exp(-(w1 * a0 + b1)))
    a2 = 1 / (1 + math.exp(-(w2 * a1 + b2)))
    a3 = 1 / (1 + math.exp(-(w3 * a2 + b3)))
    a4 = 1 / (1 + math.exp(-(w4 * a3 + b4)))
    d = a4 - y
    dz4 = 2 * d * a4 * (1 - a4)
    dz3 = dz4 * w4 * a3 * (1 - a3)
    dz2 = dz3 * w3 * a2 * (1 - a2)
    dz1 = dz2 * w2 * a1 * (1 - a1)
    return d * d, (dz1 * a0, dz1, dz2 * a1, dz2, dz3 * a2, dz3, dz4 * a3, dz4, dz1 * w1, -2 * d)


NEURON4_ARGS = (0.5, 0.1, -0.8, 0.3, 1.2, -0.4, 0.7, 0.2, 1.0, 0.0)


# --- random chains -----------------------------------------------------------

CHAIN_PARAMS = ("x", "y", "w", "b")
CHAIN_ARGS = (0.3, -0.7, 0.9, 0.2)
PARAM_BOUND = 1.0     # |argument| the chain is designed for (CHAIN_ARGS are inside)
VALUE_BOUND = 16.0    # every statement's worst-case |value| stays below this
WINDOW = 8            # operands come from the parameters and the last WINDOW values

# form -> (source template, operands it reads, worst-case |value| from operand bounds)
FORMS = {
    "muladd": ("{a} * {b} + {c}", "abc", lambda B, k: B["a"] * B["b"] + B["c"]),
    "sinmul": ("math.sin({a}) * {b}", "ab", lambda B, k: B["b"]),
    "tanh": ("math.tanh({a} + {k})", "a", lambda B, k: 1.0),
    "divcos": ("{a} / (1.5 + math.cos({b}))", "ab", lambda B, k: 2.0 * B["a"]),
    "subk": ("{a} - {k} * {b}", "ab", lambda B, k: B["a"] + k * B["b"]),
    "gauss": ("math.exp(-{a} * {a}) + {b}", "ab", lambda B, k: 1.0 + B["b"]),
    "sigmoid": ("1 / (1 + math.exp(-{a}))", "a", lambda B, k: 1.0),
    "hypot1": ("math.sqrt(1 + {a} * {a})", "a", lambda B, k: 1.0 + B["a"]),
}


def chain_plan(n: int, seed: int) -> list[tuple[str, dict[str, str], float]]:
    """The random choices of a chain: per statement (form, operand names, k).

    The first operand of each statement is the oldest value in the window
    that nothing has read yet (if there is one), so every statement reaches
    the result: no dead code for a gradient compiler to skip. The other
    operands are drawn from the parameters and the last WINDOW values.
    A draw whose worst-case |value| (from the operands' bounds) would exceed
    VALUE_BOUND is redrawn, so every value stays bounded for any arguments
    with |arg| <= PARAM_BOUND, however long the chain.
    """
    if n < 2:
        raise ValueError("a chain needs at least 2 statements")
    rng = random.Random(seed)
    bounds = {p: PARAM_BOUND for p in CHAIN_PARAMS}
    names = sorted(FORMS)
    unread: set[str] = set()
    plan = []
    for i in range(n):
        pool = list(CHAIN_PARAMS) + [f"v{j}" for j in range(max(0, i - WINDOW), i)]
        unread_in_window = [v for v in pool if v in unread]
        while True:
            form = rng.choice(names)
            _, slots, bound = FORMS[form]
            ops = {slot: rng.choice(pool) for slot in slots}
            if unread_in_window:  # read the oldest unread value: no dead code
                ops["a"] = unread_in_window[0]
            k = round(rng.uniform(0.1, 2.0), 2)
            value_bound = bound({s: bounds[v] for s, v in ops.items()}, k)
            if value_bound <= VALUE_BOUND:
                break
        bounds[f"v{i}"] = value_bound
        unread.difference_update(ops.values())
        unread.add(f"v{i}")
        plan.append((form, ops, k))
    return plan


def make_chain(n: int, seed: int = 0) -> str:
    """Source of a module defining `chain(x, y, w, b)`: n random statements."""
    lines = ["import math", "", "", f"def chain({', '.join(CHAIN_PARAMS)}):"]
    for i, (form, ops, k) in enumerate(chain_plan(n, seed)):
        lines.append(f"    v{i} = " + FORMS[form][0].format(k=k, **ops))
    lines.append(f"    return v{n - 1} + v{n - 2}")
    return "\n".join(lines) + "\n"


def _hand_statement(i: int, form: str, ops: dict[str, str], k: float):
    """Forward lines for v{i} and its local partials [(operand, factor text)].

    The textbook derivative of each form, reusing what the forward pass
    already computed (the value itself, or a kept temporary).
    """
    v = f"v{i}"
    a, b, c = ops.get("a"), ops.get("b"), ops.get("c")
    if form == "muladd":                        # v = a*b + c
        return [f"{v} = {a} * {b} + {c}"], [(a, b), (b, a), (c, None)]
    if form == "sinmul":                        # v = sin(a)*b
        s = f"s{i}"
        return ([f"{s} = math.sin({a})", f"{v} = {s} * {b}"],
                [(a, f"math.cos({a}) * {b}"), (b, s)])
    if form == "tanh":                          # tanh' = 1 - t*t
        return [f"{v} = math.tanh({a} + {k})"], [(a, f"(1 - {v} * {v})")]
    if form == "divcos":                        # v = a/d, d = 1.5 + cos(b)
        d = f"d{i}"
        return ([f"{d} = 1.5 + math.cos({b})", f"{v} = {a} / {d}"],
                [(a, f"1 / {d}"), (b, f"{v} * math.sin({b}) / {d}")])
    if form == "subk":                          # v = a - k*b
        return [f"{v} = {a} - {k} * {b}"], [(a, None), (b, f"-{k}")]
    if form == "gauss":                         # v = e + b, e = exp(-a*a); e' = -2*a*e
        e = f"e{i}"
        return ([f"{e} = math.exp(-{a} * {a})", f"{v} = {e} + {b}"],
                [(a, f"-2 * {a} * {e}"), (b, None)])
    if form == "sigmoid":                       # sigmoid' = s*(1 - s)
        return [f"{v} = 1 / (1 + math.exp(-{a}))"], [(a, f"{v} * (1 - {v})")]
    if form == "hypot1":                        # d sqrt(1 + a*a)/da = a / v
        return [f"{v} = math.sqrt(1 + {a} * {a})"], [(a, f"{a} / {v}")]
    raise ValueError(form)


def _times(factor: str | None, bar: str | None) -> str:
    """factor * bar, leaving out factors of 1 (None)."""
    if factor is None:
        return bar or "1.0"
    if bar is None:
        return factor
    if factor.startswith("1 / "):
        return f"{bar} / {factor[4:]}"
    if factor.startswith("-"):
        return f"-{factor[1:]} * {bar}"
    return f"{factor} * {bar}"


def make_chain_hand(n: int, seed: int = 0) -> str:
    """Source of `chain_hand(x, y, w, b)` -> (chain(...), (dx, dy, dw, db)), by hand."""
    plan = chain_plan(n, seed)
    forward: list[str] = []
    partials = []
    for i, (form, ops, k) in enumerate(plan):
        lines, local = _hand_statement(i, form, ops, k)
        forward += lines
        partials.append(local)

    # Which values reach the result (a person does not backpropagate dead code).
    live = {f"v{n - 1}", f"v{n - 2}"}
    for i in reversed(range(n)):
        if f"v{i}" in live:
            live.update(plan[i][1].values())

    backward: list[str] = []
    has_bar: set[str] = set()
    # Seeds: the result is v{n-1} + v{n-2}; v{n-1}'s adjoint is exactly 1 (left out).
    backward.append(f"v{n - 2}_bar = 1.0")
    has_bar.add(f"v{n - 2}")
    for i in reversed(range(n)):
        v = f"v{i}"
        if v not in live:
            continue
        bar = None if i == n - 1 else f"{v}_bar"
        # merge contributions to an operand that appears twice (a*a + c, ...)
        merged: dict[str, list[str | None]] = {}
        for operand, factor in partials[i]:
            merged.setdefault(operand, []).append(factor)
        for operand, factors in merged.items():
            if len(factors) == 1:
                term = _times(factors[0], bar)
            else:
                total = " + ".join("1" if f is None else f"({f})" if f.startswith("-") else f for f in factors)
                term = _times(f"({total})", bar)
            if operand in has_bar:
                if term.startswith("-"):
                    backward.append(f"{operand}_bar -= {term[1:]}")
                else:
                    backward.append(f"{operand}_bar += {term}")
            else:
                backward.append(f"{operand}_bar = {term}")
                has_bar.add(operand)

    grads = ", ".join(f"{p}_bar" if p in has_bar else "0.0" for p in CHAIN_PARAMS)
    body = forward + [f"value = v{n - 1} + v{n - 2}"] + backward + [f"return value, ({grads})"]
    head = ["import math", "", "", f"def chain_hand({', '.join(CHAIN_PARAMS)}):"]
    return "\n".join(head + ["    " + line for line in body]) + "\n"


# --- loading generated source ------------------------------------------------

_TMPDIR: str | None = None


def load_module(source: str, name: str):
    """Import `source` as module `name` from a real temporary file.

    The file stays on disk until the process exits, so inspect.getsource
    (and therefore symback) can read the functions defined in it.
    """
    global _TMPDIR
    if _TMPDIR is None:
        _TMPDIR = tempfile.mkdtemp(prefix="symback-bench-")
        atexit.register(shutil.rmtree, _TMPDIR, True)
    path = os.path.join(_TMPDIR, f"{name}.py")
    with open(path, "w") as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_chain(n: int, seed: int = 0):
    """(chain, chain_hand) for a chain of n statements."""
    chain = load_module(make_chain(n, seed), f"bench_chain_{n}_{seed}").chain
    hand = load_module(make_chain_hand(n, seed), f"bench_chain_hand_{n}_{seed}").chain_hand
    return chain, hand
