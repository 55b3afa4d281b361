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
* `rosenbrock10`, `physics`, `softmax_xent`, `fall`: the rest of the scalar
  suite (10-D Rosenbrock, three Euler steps of a projectile with drag, a
  softmax cross-entropy through a stable logsumexp, a loop of `steps`
  Euler steps), each with its `_hand` value and gradient.
* `ScalarProgram`, `scalar_suite()`: the scalar suite as the benchmarks run
  it, with what each peer library needs changed to run the same function.
* `load_module(source, name)`: import a module from source text through a
  real file, so `inspect.getsource` (which symback needs) works.

This file does not import symback.
"""

from __future__ import annotations

import atexit
import importlib.util
import inspect
import math
import os
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Callable

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


# --- 10-D Rosenbrock ------------------------------------------------------------


def rosenbrock10(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9):
    total = 100 * (x1 - x0 ** 2) ** 2 + (1 - x0) ** 2
    total += 100 * (x2 - x1 ** 2) ** 2 + (1 - x1) ** 2
    total += 100 * (x3 - x2 ** 2) ** 2 + (1 - x2) ** 2
    total += 100 * (x4 - x3 ** 2) ** 2 + (1 - x3) ** 2
    total += 100 * (x5 - x4 ** 2) ** 2 + (1 - x4) ** 2
    total += 100 * (x6 - x5 ** 2) ** 2 + (1 - x5) ** 2
    total += 100 * (x7 - x6 ** 2) ** 2 + (1 - x6) ** 2
    total += 100 * (x8 - x7 ** 2) ** 2 + (1 - x7) ** 2
    total += 100 * (x9 - x8 ** 2) ** 2 + (1 - x8) ** 2
    return total


def rosenbrock10_hand(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9):
    """(rosenbrock10(...), (dx0, ..., dx9)), by hand.

    Term i is 100 t_i^2 + u_i^2 with t_i = x_{i+1} - x_i^2, u_i = 1 - x_i:
    it adds -400 x_i t_i - 2 u_i to dx_i and 200 t_i to dx_{i+1}.
    """
    t0, t1, t2 = x1 - x0 * x0, x2 - x1 * x1, x3 - x2 * x2
    t3, t4, t5 = x4 - x3 * x3, x5 - x4 * x4, x6 - x5 * x5
    t6, t7, t8 = x7 - x6 * x6, x8 - x7 * x7, x9 - x8 * x8
    u0, u1, u2, u3, u4 = 1 - x0, 1 - x1, 1 - x2, 1 - x3, 1 - x4
    u5, u6, u7, u8 = 1 - x5, 1 - x6, 1 - x7, 1 - x8
    value = (100 * (t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3 + t4 * t4 + t5 * t5 + t6 * t6 + t7 * t7 + t8 * t8)
             + u0 * u0 + u1 * u1 + u2 * u2 + u3 * u3 + u4 * u4 + u5 * u5 + u6 * u6 + u7 * u7 + u8 * u8)
    return value, (
        -400 * x0 * t0 - 2 * u0,
        200 * t0 - 400 * x1 * t1 - 2 * u1,
        200 * t1 - 400 * x2 * t2 - 2 * u2,
        200 * t2 - 400 * x3 * t3 - 2 * u3,
        200 * t3 - 400 * x4 * t4 - 2 * u4,
        200 * t4 - 400 * x5 * t5 - 2 * u5,
        200 * t5 - 400 * x6 * t6 - 2 * u6,
        200 * t6 - 400 * x7 * t7 - 2 * u7,
        200 * t7 - 400 * x8 * t8 - 2 * u8,
        200 * t8,
    )


ROSENBROCK10_ARGS = (0.5, -0.3, 0.8, 1.1, -0.6, 0.2, 0.9, -1.2, 0.4, 0.7)


# --- a physics step ------------------------------------------------------------


def physics(x, y, vx, vy, k, dt):
    """Three explicit-Euler steps of a projectile with quadratic drag; the squared miss of (10, 0)."""
    s = math.sqrt(vx * vx + vy * vy)
    d = k * s
    vx = vx * (1 - dt * d)
    vy = vy * (1 - dt * d) - 9.81 * dt
    x = x + dt * vx
    y = y + dt * vy
    s = math.sqrt(vx * vx + vy * vy)
    d = k * s
    vx = vx * (1 - dt * d)
    vy = vy * (1 - dt * d) - 9.81 * dt
    x = x + dt * vx
    y = y + dt * vy
    s = math.sqrt(vx * vx + vy * vy)
    d = k * s
    vx = vx * (1 - dt * d)
    vy = vy * (1 - dt * d) - 9.81 * dt
    x = x + dt * vx
    y = y + dt * vy
    return (x - 10.0) ** 2 + y ** 2


def physics_hand(x, y, vx, vy, k, dt):
    """(physics(...), (dx, dy, dvx, dvy, dk, ddt)), by hand.

    Step i: s = |v|, c = 1 - dt k s, v' = c v - (0, g dt), p' = p + dt v'.
    The miss e = p3 - (10, 0) gives every position the adjoint 2e. Going
    back a step: v'_bar gains dt 2e, c_bar = v'_bar . v, and
    v_bar = c v'_bar - dt k c_bar v / s (through s = |v|).
    """
    g = 9.81
    vx0, vy0 = vx, vy
    s1 = math.sqrt(vx0 * vx0 + vy0 * vy0)
    c1 = 1 - dt * k * s1
    vx1, vy1 = vx0 * c1, vy0 * c1 - g * dt
    s2 = math.sqrt(vx1 * vx1 + vy1 * vy1)
    c2 = 1 - dt * k * s2
    vx2, vy2 = vx1 * c2, vy1 * c2 - g * dt
    s3 = math.sqrt(vx2 * vx2 + vy2 * vy2)
    c3 = 1 - dt * k * s3
    vx3, vy3 = vx2 * c3, vy2 * c3 - g * dt
    ex = x + dt * (vx1 + vx2 + vx3) - 10.0   # the miss
    ey = y + dt * (vy1 + vy2 + vy3)
    value = ex * ex + ey * ey

    px, py = 2 * ex, 2 * ey                   # adjoints of every position
    dt_bar = px * (vx1 + vx2 + vx3) + py * (vy1 + vy2 + vy3)
    # each v_i reaches the miss through p (dt each step from i on) and through v_{i+1}
    ax, ay = dt * px, dt * py                 # v3's adjoint
    c_bar = ax * vx2 + ay * vy2               # step 3
    dt_bar -= ay * g + c_bar * k * s3
    k_bar = -c_bar * dt * s3
    s_bar = -c_bar * dt * k / s3
    ax, ay = ax * c3 + s_bar * vx2 + dt * px, ay * c3 + s_bar * vy2 + dt * py
    c_bar = ax * vx1 + ay * vy1               # step 2
    dt_bar -= ay * g + c_bar * k * s2
    k_bar -= c_bar * dt * s2
    s_bar = -c_bar * dt * k / s2
    ax, ay = ax * c2 + s_bar * vx1 + dt * px, ay * c2 + s_bar * vy1 + dt * py
    c_bar = ax * vx0 + ay * vy0               # step 1
    dt_bar -= ay * g + c_bar * k * s1
    k_bar -= c_bar * dt * s1
    s_bar = -c_bar * dt * k / s1
    ax, ay = ax * c1 + s_bar * vx0, ay * c1 + s_bar * vy0
    return value, (px, py, ax, ay, k_bar, dt_bar)


PHYSICS_ARGS = (0.0, 1.0, 8.0, 6.0, 0.05, 0.1)


# --- softmax cross-entropy -----------------------------------------------------


def softmax_xent(z0, z1, z2, z3, y0, y1, y2, y3):
    """Cross-entropy of softmax(z) against the distribution y, through a stable logsumexp."""
    m = max(z0, z1, z2, z3)
    lse = m + math.log(math.exp(z0 - m) + math.exp(z1 - m) + math.exp(z2 - m) + math.exp(z3 - m))
    return -(y0 * (z0 - lse) + y1 * (z1 - lse) + y2 * (z2 - lse) + y3 * (z3 - lse))


def softmax_xent_hand(z0, z1, z2, z3, y0, y1, y2, y3):
    """(softmax_xent(...), (dz0, ..., dz3, dy0, ..., dy3)), by hand: dz = p sum(y) - y, dy = lse - z."""
    m = max(z0, z1, z2, z3)
    e0, e1, e2, e3 = math.exp(z0 - m), math.exp(z1 - m), math.exp(z2 - m), math.exp(z3 - m)
    s = e0 + e1 + e2 + e3
    lse = m + math.log(s)
    l0, l1, l2, l3 = lse - z0, lse - z1, lse - z2, lse - z3
    w = (y0 + y1 + y2 + y3) / s
    value = y0 * l0 + y1 * l1 + y2 * l2 + y3 * l3
    return value, (e0 * w - y0, e1 * w - y1, e2 * w - y2, e3 * w - y3, l0, l1, l2, l3)


SOFTMAX_XENT_ARGS = (0.3, -1.2, 2.1, 0.8, 0.1, 0.0, 0.7, 0.2)


# --- a 10,000-iteration loop ---------------------------------------------------


def fall(v0, drag, dt, steps):
    """Height after `steps` explicit-Euler steps of a body with quadratic drag."""
    h = 0.0
    v = v0
    for _ in range(steps):
        a = -9.81 - drag * v * abs(v)
        h += v * dt
        v += a * dt
    return h


def fall_hand(v0, drag, dt, steps):
    """(fall(...), (dv0, ddrag, ddt)), by hand: reverse mode over a list of the velocities."""
    h = 0.0
    v = v0
    vs = []
    for _ in range(steps):
        vs.append(v)
        a = -9.81 - drag * v * abs(v)
        h += v * dt
        v += a * dt
    h_bar, v_bar = 1.0, 0.0
    drag_bar = dt_bar = 0.0
    for k in range(steps - 1, -1, -1):
        vk = vs[k]
        a = -9.81 - drag * vk * abs(vk)
        a_bar = v_bar * dt
        dt_bar += v_bar * a + h_bar * vk
        drag_bar -= a_bar * vk * abs(vk)
        v_bar = v_bar + h_bar * dt - a_bar * drag * 2 * abs(vk)
    return h, (v_bar, drag_bar, dt_bar)


FALL_ARGS = (12.0, 0.05, 1e-4, 10_000)


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


# --- the scalar suite ----------------------------------------------------------

# fall for JAX, written as a JAX user writes a loop: jit cannot run a Python
# loop over a traced bound, and unrolling 10,000 steps would take minutes to
# compile. The number of steps is a static argument, so fori_loop is a scan,
# which reverse mode differentiates.
FALL_JAX = '''import jax
import jax.numpy as math


def fall(v0, drag, dt, steps):
    def step(_, hv):
        h, v = hv
        a = -9.81 - drag * v * abs(v)
        return h + v * dt, v + a * dt
    h, _ = jax.lax.fori_loop(0, steps, step, (0.0, v0))
    return h
'''

# torch refuses `v += ...` on v0, a leaf tensor that requires grad
FALL_TORCH = {"torch": (("h += v * dt", "h = h + v * dt"), ("v += a * dt", "v = v + a * dt"))}

# max(z0, z1, z2, z3) as JAX, Tangent and SymPy users write it
_MAX4 = "max(z0, z1, z2, z3)"
SOFTMAX_MAX = {
    "jax": ((_MAX4, "math.maximum(math.maximum(z0, z1), math.maximum(z2, z3))"),),
    "tangent": ((_MAX4, "math.maximum(math.maximum(z0, z1), math.maximum(z2, z3))"),),
    "lambdify": ((_MAX4, "math.Max(z0, z1, z2, z3)"),),
}


@dataclass(frozen=True)
class ScalarProgram:
    """One function of the scalar suite, its hand-written gradient and how peers run it.

    `source` is a module defining `f` that starts with `import math`; a peer
    runs it with that line replaced by its own NumPy-like module bound to
    `math` (`import torch as math`, ...), after the text replacements in
    `rewrites[peer]`, or runs `sources[peer]` instead. `not_for[peer]` says
    why a peer is not run on it at all.
    """
    name: str
    f: Callable
    hand: Callable  # (*args) -> (value, gradient in the parameters of wrt)
    args: tuple
    wrt: tuple[int, ...]
    source: str
    rewrites: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    not_for: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return "".join(c if c.isalnum() else "_" for c in self.name)

    def source_for(self, peer: str, math_import: str) -> str:
        if peer in self.sources:
            return self.sources[peer]
        source = self.source
        for old, new in self.rewrites.get(peer, ()):
            assert old in source, (self.name, old)
            source = source.replace(old, new)
        assert source.startswith("import math\n"), self.name
        return math_import + "\n" + source[len("import math\n"):]


def warm(x, y):
    return x * math.sin(y) + 1 / (1 + math.exp(-x))


def warm_hand(x, y):
    s = 1 / (1 + math.exp(-x))
    return x * math.sin(y) + s, (math.sin(y) + s * (1 - s), x * math.cos(y))


def _module_text(fn: Callable) -> str:
    return "import math\n\n\n" + inspect.getsource(fn)


def warm_up_program() -> ScalarProgram:
    """A tiny function each library is run on once before anything is measured."""
    return ScalarProgram("warm-up", warm, warm_hand, (0.3, 0.7), (0, 1), _module_text(warm))


def scalar_suite(chain_n: int = 200, seed: int = 0, steps: int = 10_000) -> list[ScalarProgram]:
    """The scalar programs, in the order of the tables."""
    chain, chain_hand = load_chain(chain_n, seed)
    return [
        ScalarProgram("neuron4 (3Blue1Brown, 4 layers)", neuron4, neuron4_hand, NEURON4_ARGS,
                      tuple(range(10)), _module_text(neuron4)),
        ScalarProgram("rosenbrock, 10-D", rosenbrock10, rosenbrock10_hand, ROSENBROCK10_ARGS,
                      tuple(range(10)), _module_text(rosenbrock10)),
        ScalarProgram(f"chain, {chain_n} statements", chain, chain_hand, CHAIN_ARGS,
                      (0, 1, 2, 3), make_chain(chain_n, seed)),
        ScalarProgram("physics, 3 Euler steps with drag", physics, physics_hand, PHYSICS_ARGS,
                      tuple(range(6)), _module_text(physics)),
        ScalarProgram("softmax cross-entropy (logsumexp)", softmax_xent, softmax_xent_hand,
                      SOFTMAX_XENT_ARGS, tuple(range(8)), _module_text(softmax_xent), rewrites=SOFTMAX_MAX),
        ScalarProgram(f"loop, {steps:,} Euler steps", fall, fall_hand, FALL_ARGS[:3] + (steps,),
                      (0, 1, 2), _module_text(fall), sources={"jax": FALL_JAX}, rewrites=FALL_TORCH,
                      not_for={"lambdify": f"not run: the loop unrolls to one expression of {steps:,} nested steps"}),
    ]
