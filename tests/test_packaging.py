"""What `pip install .` puts on a user's machine: every subpackage of symback.

An editable install (what the tests run on) finds any module in the tree, so
a subpackage left out of pyproject.toml would only break a plain install:
the README's first command. This reads the setuptools configuration and
checks it against the tree."""

import fnmatch
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).parent.parent


def test_a_plain_install_includes_every_subpackage():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "symback").rglob("__init__.py")}
    assert {"symback", "symback.optimize", "symback.explain"} <= on_disk
    if "packages" in config and isinstance(config["packages"], list):
        installed = set(config["packages"])
    else:
        found = config.get("packages", {}).get("find", {})  # setuptools' find: include/exclude name patterns
        installed = {name for name in on_disk
                     if any(fnmatch.fnmatchcase(name, pattern) for pattern in found.get("include", ["*"]))
                     and not any(fnmatch.fnmatchcase(name, pattern) for pattern in found.get("exclude", ()))}
    assert on_disk <= installed, f"left out of a plain install: {sorted(on_disk - installed)}"
