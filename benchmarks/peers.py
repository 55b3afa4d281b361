"""symback and the peer libraries, each made into a value-and-gradient of a scalar program.

    build(peer, program, threads) -> callable(*program.args) -> (value, gradient)

`peer` is one of PEERS. The gradient is in the parameters `program.wrt`,
in order. A library that is not installed raises ImportError (the scripts
report it as skipped, with INSTALL[peer]); a program a peer is not run on
by design raises NotRun; anything else a library raises while building is
reported as the peer not supporting the program.

How each peer is called, as its users call it:

    symback   symback.value_and_grad(f, wrt=...)
    autograd  autograd.value_and_grad(f, argnum=wrt), f over autograd.numpy
    jax       jax.jit(jax.value_and_grad(f, argnums=wrt), static_argnums=<ints>)
              over jax.numpy, x64 enabled; jax.device_get of the result
              (which waits for it), so the caller has NumPy numbers
    torch     a float64 leaf tensor per float argument (requires_grad_),
              f over torch, torch.autograd.grad, .item() of each result
    lambdify  sympy.lambdify(params, (f, gradient), "math", cse=True) of f
              called with SymPy symbols (f over sympy) and sympy.diff
    tangent   tangent.grad(f, wrt=..., preserve_result=True), f over NumPy
              (Tangent differentiates NumPy calls, not math's)

This file imports no library at import time; NumPy and the peers are
imported on first use, after the caller has pinned the threads.
"""

from __future__ import annotations

import warnings

import programs

PEERS = ("symback", "autograd", "jax", "torch", "lambdify", "tangent")

INSTALL = {
    "autograd": 'pip install -e ".[bench]"  (autograd)',
    "jax": 'pip install -e ".[bench]"  (jax[cpu])',
    "torch": 'pip install -e ".[bench]"  (torch==2.13.0; see benchmarks/README.md for the CPU wheel)',
    "tangent": 'pip install -e ".[bench]"  (tangent-ad)',
    "lambdify": "SymPy is a dependency of symback",
}


class NotRun(Exception):
    """This peer is not run on this program, by design (the message says why)."""


def build(peer: str, program: programs.ScalarProgram, threads: int = 1):
    if peer in program.not_for:
        raise NotRun(program.not_for[peer])
    return _BUILDERS[peer](program, threads)


def _load(peer: str, program: programs.ScalarProgram, math_import: str):
    """f from the program's source as `peer` runs it."""
    module = programs.load_module(program.source_for(peer, math_import), f"peer_{peer}_{program.key}")
    return getattr(module, program.f.__name__)


def _static(program: programs.ScalarProgram) -> tuple[int, ...]:
    """The parameters that are not differentiated (integer counts, such as `steps`)."""
    return tuple(i for i in range(len(program.args)) if i not in program.wrt)


def build_symback(program, threads):
    import symback
    return symback.value_and_grad(program.f, wrt=program.wrt)


def build_autograd(program, threads):
    import autograd
    f = _load("autograd", program, "import autograd.numpy as math")
    return autograd.value_and_grad(f, argnum=program.wrt)


def build_jax(program, threads):
    import jax
    jax.config.update("jax_enable_x64", True)  # else float arguments are silently float32
    f = _load("jax", program, "import jax.numpy as math")
    jitted = jax.jit(jax.value_and_grad(f, argnums=program.wrt), static_argnums=_static(program))

    def jax_value_and_grad(*args):
        return jax.device_get(jitted(*args))

    return jax_value_and_grad


def build_torch(program, threads):
    import torch
    from harness import pin_torch
    pin_torch(torch, threads)
    f = _load("torch", program, "import torch as math")
    wrt = program.wrt

    def torch_value_and_grad(*args):
        params = [torch.tensor(args[i], dtype=torch.float64, requires_grad=True) for i in wrt]
        full = list(args)
        for i, p in zip(wrt, params):
            full[i] = p
        out = f(*full)
        grads = torch.autograd.grad(out, params, allow_unused=True)
        return out.item(), tuple(0.0 if g is None else g.item() for g in grads)

    return torch_value_and_grad


def build_lambdify(program, threads):
    import sympy
    f = _load("lambdify", program, "import sympy as math")
    names = list(program.f.__code__.co_varnames[:len(program.args)])
    symbols = sympy.symbols(names, real=True)
    expr = sympy.sympify(f(*symbols))
    grads = tuple(sympy.diff(expr, symbols[i]) for i in program.wrt)
    return sympy.lambdify(symbols, (expr, grads), modules="math", cse=True)


def build_tangent(program, threads):
    import tangent
    f = _load("tangent", program, "import numpy as math")
    with warnings.catch_warnings():  # its generated code says `if 1 is None:`
        warnings.simplefilter("ignore", SyntaxWarning)
        g = tangent.grad(f, wrt=program.wrt, preserve_result=True)

    def tangent_value_and_grad(*args):
        out = g(*args)  # (*gradient, value)
        return out[-1], out[:-1]

    return tangent_value_and_grad


_BUILDERS = {"symback": build_symback, "autograd": build_autograd, "jax": build_jax,
             "torch": build_torch, "lambdify": build_lambdify, "tangent": build_tangent}
