"""source.Walked: a def's nodes walked once, as ast.walk walks them, and indexed by type."""

import ast
import inspect

import programs
from symback.source import Walked


def _defs():
    tree = ast.parse(inspect.getsource(programs))
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]


def test_order_is_ast_walks():
    for node in _defs():
        assert Walked(node).order == list(ast.walk(node)), node.name


def test_of_gives_each_type_in_walk_order():
    for node in _defs():
        walked = Walked(node)
        walk = list(ast.walk(node))
        for kind in (ast.Name, ast.Call, ast.BinOp):
            assert walked.of(kind) == [sub for sub in walk if type(sub) is kind]
        assert walked.of(ast.Name, ast.Call) == walked.of(ast.Name) + walked.of(ast.Call)


def test_inside_leaves_out_the_def_itself():
    outer = ast.parse("def f(x):\n    return x\n").body[0]
    nested = ast.parse("def f(x):\n    def g(y):\n        return y\n    return g(x)\n").body[0]
    assert not Walked(outer).inside({ast.FunctionDef, ast.Lambda})
    assert Walked(nested).inside({ast.FunctionDef})
    assert Walked(outer).inside({ast.Return})
