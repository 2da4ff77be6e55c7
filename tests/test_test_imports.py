"""Tests share code only through ``tests.conftest``, ``tests.helpers`` and ``tests.builders``.

A test module that imports from another test module ties the two together (renaming a private
helper there breaks tests here) and runs the other module's imports; a shared helper belongs in
``tests/builders.py`` (things made through the API) or ``tests/helpers.py`` (everything else).
A directory may keep helpers of its own beside its tests (``tests/audit/bundle_factory.py``,
its ``conftest.py``), for its own tests only.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SHARED = {"tests.conftest", "tests.helpers", "tests.builders"}


def _package_of(path: Path) -> str:
    return ".".join(("tests", *path.relative_to(TESTS).parent.parts))


def _imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
                names = (
                    [f"{module}.{alias.name}" for alias in node.names] if node.module is None else [module]
                )
                found += [(node.lineno, name) for name in names]
            elif node.module:
                found.append((node.lineno, node.module))
    return found


def forbidden_imports(source: str, package: str) -> list[str]:
    """The imports of test code in ``source`` (a module of ``package``) that break the rule."""
    wrong = []
    for line, module in _imported_modules(source, package):
        if module != "tests" and not module.startswith("tests."):
            continue
        parent, _, name = module.rpartition(".")
        own_helper = parent == package and not name.startswith("test_")
        if module not in SHARED and not own_helper:
            wrong.append(f"line {line}: {module}")
    return wrong


def test_no_test_module_imports_from_another() -> None:
    wrong = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := forbidden_imports(path.read_text(encoding="utf-8"), _package_of(path)))
    }
    assert wrong == {}, "import shared test code from tests.builders or tests.helpers instead"


def test_the_check_sees_every_way_of_importing_another_test_module() -> None:
    package = "tests.books"
    assert forbidden_imports("from tests.funds.test_funds import BUDGET", package) == [
        "line 1: tests.funds.test_funds"
    ]
    assert forbidden_imports("def f():\n    from tests.web import test_pages", package) == [
        "line 2: tests.web"
    ]
    assert forbidden_imports("import tests.trail.conftest", package) == ["line 1: tests.trail.conftest"]
    assert forbidden_imports("from .test_books import x", package) == ["line 1: tests.books.test_books"]
    assert forbidden_imports("from . import test_books", package) == ["line 1: tests.books.test_books"]
    assert forbidden_imports("from ..trail.conftest import tamper", package) == [
        "line 1: tests.trail.conftest"
    ]
    allowed = (
        "from tests.conftest import DemoWorld\nfrom tests.helpers import tamper\n"
        "from tests.builders import paid_fund\nfrom .conftest import x\nfrom .factory import y\n"
        "from ledger.models import User\n"
    )
    assert forbidden_imports(allowed, package) == []
