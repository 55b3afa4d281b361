"""grad pauses Python's cycle collector while it compiles (api._collector_paused):
it must leave the collector as it found it, whatever happens."""

import gc
import math

import pytest

from symback import grad
from symback.errors import SymbackError


def cost(w, b, a0, y):
    z = w * a0 + b
    a = 1 / (1 + math.exp(-z))
    return (a - y) ** 2


def reads_a_file(path):
    return len(open(path).read())


@pytest.fixture
def collector():
    was_on = gc.isenabled()
    yield
    if was_on:
        gc.enable()
    else:
        gc.disable()


def test_on_after_compiling(collector):
    gc.enable()
    grad(cost, cache=False)
    assert gc.isenabled()


def test_on_after_a_refusal(collector):
    gc.enable()
    with pytest.raises(SymbackError):
        grad(reads_a_file, cache=False)
    assert gc.isenabled()


def test_off_stays_off(collector):
    gc.disable()
    grad(cost, cache=False)
    assert not gc.isenabled()
