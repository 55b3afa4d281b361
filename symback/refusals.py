"""What parse refuses, by ast node class: (what it is, what to do instead).

parse raises UnsupportedSyntax with these words for any node it does not
lower, so that a refusal always names the construct and a way around it.
"""

import ast

# node class -> (what it is, what to do instead)
UNSUPPORTED = {
    ast.AsyncFor: ("async for loops", "write straight-line code"),
    ast.With: ("with statements", "move the with block outside the differentiated function"),
    ast.AsyncWith: ("async with statements", "write straight-line code"),
    ast.Try: ("try statements", "move error handling outside the differentiated function"),
    ast.Raise: ("raise statements", "check inputs outside the differentiated function"),
    ast.Assert: ("assert statements", "check inputs outside the differentiated function"),
    ast.Delete: ("del statements", "remove the del"),
    ast.Global: ("global declarations", "pass the value as a parameter"),
    ast.Nonlocal: ("nonlocal declarations", "pass the value as a parameter"),
    ast.Import: ("imports inside the function", "import at module level"),
    ast.ImportFrom: ("imports inside the function", "import at module level"),
    ast.ClassDef: ("class definitions", "define classes outside the differentiated function"),
    ast.Match: ("match statements", "write straight-line code"),
    ast.ListComp: ("list comprehensions used as numbers",
                   "sum(...) the terms (sum(x * x for x in xs)), or name the list and use its elements"),
    ast.SetComp: ("set comprehensions", "write the terms out one by one"),
    ast.DictComp: ("dict comprehensions", "write the terms out one by one"),
    ast.GeneratorExp: ("generator expressions outside sum, min, max, any, all, math.fsum and math.prod",
                       "make it a list comprehension, [... for x in xs], or write a for loop"),
    ast.Lambda: ("lambda expressions used as values", "assign the lambda to a name (g = lambda v: ...) and "
                 "call it, g(x): symback follows a lambda only where it is called"),
    ast.Subscript: ("index expressions (x[i])", "pass the elements as separate parameters"),
    ast.List: ("lists used as numbers", "use an element, xs[i], or sum(xs)"),
    ast.Tuple: ("tuples", "use separate variables"),
    ast.Set: ("sets", "use separate variables"),
    ast.Dict: ("dicts", "use separate variables"),
    ast.JoinedStr: ("f-strings", "differentiate numeric code only"),
    ast.NamedExpr: ("assignment expressions (:=)", "assign in a separate statement"),
    ast.Starred: ("starred expressions", "pass values one by one"),
    ast.Await: ("await expressions", "write straight-line code"),
    ast.Yield: ("yield expressions", "return one value"),
    ast.YieldFrom: ("yield expressions", "return one value"),
}
