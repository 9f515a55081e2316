"""The Pipfile pins every package the code imports directly, at the version installed and tested."""

from __future__ import annotations

import ast
import importlib.metadata
import pathlib
import sys

from tests.support import ROOT
from tools.pins import pins

FIRST_PARTY = {"api", "app", "bench", "etl", "ml", "store", "tests", "tools", "web"}


def imported_top_level_modules() -> dict[str, str]:
    """{top-level module: a file importing it} over every tracked Python file of the project."""
    found: dict[str, str] = {}
    root = pathlib.Path(ROOT)
    for entry in (
        "app.py",
        "gunicorn.conf.py",
        "api",
        "bench",
        "etl",
        "ml",
        "store",
        "tests",
        "tools",
        "web",
    ):
        path = root / entry
        for source in [path] if path.is_file() else sorted(path.rglob("*.py")):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module]
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                    else []
                )
                for name in names:
                    found.setdefault(name.split(".")[0], str(source.relative_to(root)))
    return found


def test_every_package_is_pinned_at_the_installed_version():
    pinned = pins()
    assert len(pinned) > 20
    wrong = {
        name: (version, importlib.metadata.version(name))
        for name, version in pinned.items()
        if importlib.metadata.version(name) != version
    }
    assert wrong == {}, "the environment differs from the Pipfile: run `make setup`"


def test_every_directly_imported_package_is_in_the_pipfile():
    distributions = importlib.metadata.packages_distributions()
    pinned = {name.lower().replace("_", "-") for name in pins()}
    missing = {}
    for module, where in imported_top_level_modules().items():
        if module in sys.stdlib_module_names or module in FIRST_PARTY:
            continue
        owners = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not owners & pinned:
            missing[module] = where
    assert missing == {}, "pin these in the Pipfile"
