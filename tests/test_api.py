"""The user-facing API: grad and value_and_grad, their forms, wrt, and what they return."""

import inspect
import linecache
import math

import pytest

from symback import grad, value_and_grad


def central(fn, args, i, h=1e-6):
    up, down = list(args), list(args)
    up[i] += h
    down[i] -= h
    return (fn(*up) - fn(*down)) / (2 * h)


def cost(w, b, a0, y):
    """Squared error of one sigmoid neuron."""
    z = w * a0 + b
    a = 1 / (1 + math.exp(-z))
    return (a - y) ** 2


ARGS = (0.5, 0.1, 1.0, 0.0)


def test_grad_returns_a_tuple_in_parameter_order():
    got = grad(cost)(*ARGS)
    assert isinstance(got, tuple) and len(got) == 4
    for i, g in enumerate(got):
        assert g == pytest.approx(central(cost, ARGS, i), rel=1e-6)


def test_decorator_forms():
    @grad
    def plain(x, y):
        return x * y

    @grad(wrt="y")
    def with_wrt(x, y):
        return x * y

    assert plain(2.0, 3.0) == (3.0, 2.0)
    assert with_wrt(2.0, 3.0) == 2.0


@pytest.mark.parametrize("wrt, picked", [
    ("w", [0]), (0, [0]), (-1, [3]), (("w", "b"), [0, 1]), (("b", "w"), [0, 1]),
    ((3, "a0"), [2, 3]), (["y"], [3]),
])
def test_wrt_forms(wrt, picked):
    got = grad(cost, wrt=wrt)(*ARGS)
    want = [central(cost, ARGS, i) for i in picked]
    if len(picked) == 1:
        assert isinstance(got, float)
        assert got == pytest.approx(want[0], rel=1e-6)
    else:
        assert got == pytest.approx(tuple(want), rel=1e-6)


def test_one_parameter_gives_a_float():
    def square(x):
        return x * x
    got = grad(square)(3.0)
    assert isinstance(got, float) and got == 6.0


def test_value_and_grad():
    value, grads = value_and_grad(cost)(*ARGS)
    assert value == pytest.approx(cost(*ARGS), rel=1e-15)
    assert grads == pytest.approx(grad(cost)(*ARGS), rel=1e-15)
    value, dw = value_and_grad(cost, wrt="w")(*ARGS)
    assert dw == pytest.approx(central(cost, ARGS, 0), rel=1e-6)


def test_attributes_of_the_result():
    g = grad(cost)
    assert g.__wrapped__ is cost
    assert g.__name__ == "grad_cost"
    assert "Gradient of cost(w, b, a0, y)" in g.__doc__
    assert "Squared error of one sigmoid neuron." in g.__doc__
    assert g.source.startswith("import math\n")
    assert "def grad_cost(w, b, a0, y):" in g.source
    assert list(inspect.signature(g).parameters) == ["w", "b", "a0", "y"]
    assert value_and_grad(cost).__name__ == "value_and_grad_cost"


def test_calls_by_keyword_and_defaults_and_keyword_only():
    def f(x, y=2.0, *, k=3.0):
        return x * y * k + y

    g = grad(f, wrt=("x", "y"))
    assert g(1.5) == pytest.approx((6.0, 1.5 * 3.0 + 1.0))
    assert g(1.5, k=1.0) == pytest.approx((2.0, 2.5))
    assert g(x=1.5, y=1.0, k=2.0) == pytest.approx((2.0, 4.0))
    assert grad(f, wrt="k")(1.5) == pytest.approx(3.0)


def test_positional_only_parameters():
    def f(x, /, y):
        return x * y
    assert grad(f)(2.0, 5.0) == (5.0, 2.0)


def test_no_sympy_work_at_call_time(monkeypatch):
    g = grad(cost)
    import sympy
    monkeypatch.setattr(sympy, "diff", None)
    monkeypatch.setattr(sympy.Expr, "diff", None)
    assert g(*ARGS) == pytest.approx(tuple(central(cost, ARGS, i) for i in range(4)), rel=1e-6)
    assert "sympy" not in g.__globals__ and "symback" not in g.__globals__


NOTEBOOK_CELL = '''\
import math

def neuron(w, x):
    z = w * x
    return math.tanh(z)
'''


def test_function_typed_in_a_notebook_cell():
    # IPython keeps each cell's source in linecache under a name like this one;
    # that is what inspect (and so symback) reads.
    filename = "<ipython-input-7-0123456789ab>"
    linecache.cache[filename] = (len(NOTEBOOK_CELL), None, NOTEBOOK_CELL.splitlines(True), filename)
    namespace = {}
    exec(compile(NOTEBOOK_CELL, filename, "exec"), namespace)
    g = grad(namespace["neuron"])
    assert g(0.3, 2.0) == pytest.approx((2.0 * (1 - math.tanh(0.6) ** 2), 0.3 * (1 - math.tanh(0.6) ** 2)))


def test_real_ipython_cell():
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    shell = interactiveshell.InteractiveShell.instance()
    try:
        result = shell.run_cell(NOTEBOOK_CELL + "from symback import grad\ng = grad(neuron)\nout = g(0.3, 2.0)\n")
        result.raise_error()
        out = shell.user_ns["out"]
    finally:
        interactiveshell.InteractiveShell.clear_instance()
    assert out == pytest.approx((2.0 * (1 - math.tanh(0.6) ** 2), 0.3 * (1 - math.tanh(0.6) ** 2)))


def soft_threshold(x, *, t=0.5):
    """Shrink x towards 0 by t."""
    return x * x * t


def test_docstring_calls_keyword_only_parameters_by_name():
    g = grad(soft_threshold)
    assert "Gradient of soft_threshold(x, t=t) with respect to x, t." in g.__doc__
    assert g.__doc__.endswith("\n\nShrink x towards 0 by t."), repr(g.__doc__)
    assert "\n    \n" not in g.__doc__ and "\n \n" not in g.__doc__
