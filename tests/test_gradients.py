"""symback's gradients of the corpus in programs.py against finite differences."""

import inspect
import math

import pytest

import programs
from programs import SCALAR, sample_args
from reference import assert_grads_close, central_differences
from symback import grad, value_and_grad

SEEDS = [0, 1, 2]


def _positional(fn):
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in inspect.signature(fn).parameters.values() if p.kind in kinds]


def _grad(make, fn):
    """make(fn) differentiated by the positional parameters, which the numeric
    reference varies; keyword-only ones are covered by test_keyword_only_parameters."""
    positional = _positional(fn)
    if len(positional) == len(inspect.signature(fn).parameters):
        return make(fn)
    return make(fn, wrt=tuple(positional))


SINGLE = [fn for fn in SCALAR if len(_positional(fn)) == 1]
MULTI = [fn for fn in SCALAR if len(_positional(fn)) > 1]


def by_name(fns):
    return pytest.mark.parametrize("fn", fns, ids=[fn.__name__ for fn in fns])


seeds = pytest.mark.parametrize("seed", SEEDS)


@by_name(SCALAR)
@seeds
def test_grad_matches_finite_differences(fn, seed):
    """grad(fn) agrees with central differences at sampled points."""
    args = sample_args(fn, seed)
    assert_grads_close(_grad(grad, fn)(*args), central_differences(fn, args), fn, args)


@by_name(SCALAR)
@seeds
def test_value_and_grad(fn, seed):
    """value_and_grad returns fn's own value and the same gradient."""
    args = sample_args(fn, seed)
    value, grads = _grad(value_and_grad, fn)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    assert_grads_close(grads, central_differences(fn, args), fn, args)


@by_name(SINGLE)
def test_single_parameter_gives_bare_float(fn):
    """With one positional parameter the gradient is a float, not a tuple."""
    args = sample_args(fn, 0)
    g = grad(fn)(*args)
    assert type(g) is float, f"{fn.__name__}: grad returned {type(g).__name__} {g!r}"
    value, g2 = value_and_grad(fn)(*args)
    assert type(g2) is float and type(value) is float


@by_name(MULTI)
def test_multi_parameter_gives_tuple_of_floats(fn):
    """Several parameters give a tuple of plain Python floats, one per parameter."""
    args = sample_args(fn, 0)
    g = _grad(grad, fn)(*args)
    assert isinstance(g, tuple) and len(g) == len(args), f"{fn.__name__}: got {g!r}"
    assert all(type(x) is float for x in g), f"{fn.__name__}: types {[type(x).__name__ for x in g]}"


def test_keyword_only_parameters_are_differentiated_by_default():
    """The default wrt is every parameter, keyword-only ones included."""
    def positional(x, y, k, shift):
        return programs.keyword_only(x, y, k=k, shift=shift)
    args = sample_args(programs.keyword_only, 0)
    full = (*args, 2.0, 0.5)
    assert_grads_close(grad(programs.keyword_only)(*args), central_differences(positional, full),
                       programs.keyword_only, full, params=["x", "y", "k", "shift"])


ZERO_PARTIALS = [
    (programs.unused_parameter, 1),
    (programs.dead_code_uses_parameter, 1),
    (programs.returns_parameter, 0),
    (programs.returns_constant, 0),
    (programs.floordiv_only, 0),
]


@pytest.mark.parametrize("fn, index", ZERO_PARTIALS, ids=[fn.__name__ for fn, _ in ZERO_PARTIALS])
def test_partials_that_are_exactly_zero(fn, index):
    """A parameter that cannot change the output gets exactly 0.0."""
    g = grad(fn)(*sample_args(fn, 0))
    partial = g[index] if isinstance(g, tuple) else g
    assert partial == 0.0 and type(partial) is float, f"{fn.__name__}: got {g!r}"


# --------------------------------------------------------------------------
# wrt: a name, an index, or a tuple of them
# --------------------------------------------------------------------------

WRT_CASES = [
    (programs.neuron4, "w1"),
    (programs.neuron4, 9),
    (programs.neuron4, ("w1", "b4")),
    (programs.neuron4, ("b4", "w1")),  # results come in parameter order
    (programs.neuron4, (0, "a0", 3)),
    (programs.black_scholes_call, "sigma"),
    (programs.black_scholes_call, ("S", "T", "r")),
    (programs.gaussian_logpdf, (2, 0)),
    (programs.mod_vars, "b"),
    (programs.keyword_only, "y"),
    (programs.unused_parameter, "y"),
    (programs.collision_named_params, ("x_bar", "_t1")),
    (programs.swap_parameters, 1),
]


def _wrt_indices(fn, wrt):
    """The positional indices `wrt` selects, in parameter order."""
    params = _positional(fn)
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    return sorted(params.index(w) if isinstance(w, str) else w for w in items)


@pytest.mark.parametrize("fn, wrt", WRT_CASES, ids=[f"{fn.__name__}-{wrt}" for fn, wrt in WRT_CASES])
@pytest.mark.parametrize("how", ["grad", "value_and_grad"])
def test_wrt_subset(fn, wrt, how):
    """grad(fn, wrt=...) gives the selected partials: bare for one, else a tuple."""
    args = sample_args(fn, 1)
    full = central_differences(fn, args)
    idx = _wrt_indices(fn, wrt)
    names = [_positional(fn)[i] for i in idx]
    want = tuple(full[i] for i in idx)
    if how == "grad":
        got = grad(fn, wrt=wrt)(*args)
    else:
        value, got = value_and_grad(fn, wrt=wrt)(*args)
        assert value == pytest.approx(fn(*args), rel=1e-12)
    if isinstance(wrt, tuple):
        assert isinstance(got, tuple) and len(got) == len(idx), f"got {got!r}"
    else:
        assert type(got) is float, f"got {got!r}"
    assert_grads_close(got, want, fn, args, params=names)


def test_decorator_forms():
    """grad works as @grad, as @grad(wrt=...) and as grad(wrt=...)(f)."""

    @grad
    def g_all(x, y):
        return x * math.sin(y)

    @grad(wrt="y")
    def g_y(x, y):
        return x * math.sin(y)

    @value_and_grad
    def vg(x, y):
        return x * math.sin(y)

    def f(x, y):
        return x * math.sin(y)

    x, y = 1.3, -0.4
    want = central_differences(f, (x, y))
    assert_grads_close(g_all(x, y), want, f, (x, y))
    assert_grads_close(g_y(x, y), want[1], f, (x, y), params=["y"])
    assert_grads_close(grad(wrt=0)(f)(x, y), want[0], f, (x, y), params=["x"])
    value, grads = vg(x, y)
    assert value == pytest.approx(f(x, y), rel=1e-12)
    assert_grads_close(grads, want, f, (x, y))
