"""Every refusal a person can read is made with ``translatable``, so the pages can show it in the
reader's language from the message catalog.

The check reads the source (it runs nothing): in every module under ``ledger/services`` and in
``ledger/receipts.py`` it looks for

(a) an error a person reads (a ``LedgerError`` subclass, or one of the upload and file refusals
    below) made with a plain string or an f-string as its message;
(b) ``errors[...].append("...")`` or ``errors[...].append(f"...")``;
(c) a plain string or f-string in a list that is a value of ``errors={...}`` or is assigned to
    ``errors[...]``;
(d) the helpers that make one field's message (``ValidationFailed.field``, ``problems.add``, the
    books' ``EntryProblem``, the division lists' ``RowProblem``) given a plain string or f-string.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import ledger.services
from ledger.errors import LedgerError

ROOT = Path(__file__).resolve().parents[2]

# Refusals that are not LedgerErrors but are still shown to a person, and the helpers that make a
# field's message: the position of the message among the positional arguments.
OTHER_REFUSALS = {
    "ReceiptRejected": 1,
    "_corrupt": 0,  # ReceiptRejected("corrupt", message)
    "UnreadableFile": 0,
    "ReferenceDataConflict": 0,
    "field": 1,  # ValidationFailed.field(name, message)
    "EntryProblem": 1,  # books: (field, message)
    "RowProblem": 2,  # regions: (row, column, message)
}


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _subclasses(sub)
    return found


def _refusals() -> dict[str, int]:
    """Class name -> index of the positional argument that is the message."""
    for module in pkgutil.walk_packages(ledger.services.__path__, "ledger.services."):
        importlib.import_module(module.name)
    names = {cls.__name__: 0 for cls in _subclasses(LedgerError) | {LedgerError}}
    names.update(OTHER_REFUSALS)
    return names


def _modules() -> list[Path]:
    services = sorted((ROOT / "ledger" / "services").rglob("*.py"))
    return [*services, ROOT / "ledger" / "receipts.py", ROOT / "ledger" / "web" / "csrf.py"]


def _is_text(node: ast.AST | None) -> bool:
    """A literal string or an f-string: English that the catalog never sees."""
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _called_name(call: ast.Call) -> str | None:
    """``Conflict(...)``, ``errors.Conflict(...)`` or ``NotFound.thing(...)``'s class, by name."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_errors_subscript(node: ast.AST) -> bool:
    """``errors[...]`` (or ``self.errors[...]``, ``problems[...]`` is not an error list)."""
    if not isinstance(node, ast.Subscript):
        return False
    target = node.value
    name = (
        target.id
        if isinstance(target, ast.Name)
        else target.attr
        if isinstance(target, ast.Attribute)
        else ""
    )
    return name == "errors"


def _texts_in_list(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.List | ast.Tuple):
        return [element for element in node.elts if _is_text(element)]
    return []


def _problems(source: str, where: str, refusals: dict[str, int]) -> list[str]:
    tree = ast.parse(source, filename=where)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _called_name(node)
            if name in refusals and isinstance(node.func, ast.Name | ast.Attribute):
                position = refusals[name]
                if len(node.args) > position and _is_text(node.args[position]):
                    found.append(f"{where}:{node.lineno}: {name}(...) with an untranslatable message")
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "problems"
                and len(node.args) > 1
                and _is_text(node.args[1])
            ):
                found.append(f"{where}:{node.lineno}: problems.add(...) with an untranslatable message")
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "append"
                and _is_errors_subscript(node.func.value)
                and node.args
                and _is_text(node.args[0])
            ):
                found.append(f"{where}:{node.lineno}: errors[...].append(...) with an untranslatable message")
            for keyword in node.keywords:
                if keyword.arg == "errors" and isinstance(keyword.value, ast.Dict):
                    for value in keyword.value.values:
                        for text in _texts_in_list(value):
                            found.append(
                                f"{where}:{text.lineno}: errors={{...}} with an untranslatable message"
                            )
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_is_errors_subscript(target) for target in targets) and node.value is not None:
                for text in _texts_in_list(node.value):
                    found.append(f"{where}:{text.lineno}: errors[...] = [...] with an untranslatable message")
    return found


def test_every_refusal_is_made_with_translatable() -> None:
    refusals = _refusals()
    assert {"Conflict", "NotFound", "Forbidden", "ValidationFailed", "ReceiptRejected"} <= set(refusals)
    problems = [
        problem
        for path in _modules()
        for problem in _problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), refusals)
    ]
    assert problems == []


def test_the_check_sees_each_kind_of_untranslatable_message() -> None:
    source = (
        "def f(code, errors):\n"
        '    errors["a"].append(f"{code} is wrong")\n'
        '    errors["b"] = ["is wrong"]\n'
        '    raise Conflict(f"{code} exists", errors={"c": ["is taken"]})\n'
        'ReceiptRejected("empty", "the file is empty")\n'
        'ValidationFailed.field("amount", f"must be in {currency}")\n'
        'problems.add("amount", "must be positive")\n'
        'Conflict(translatable("%(code)s exists", code=code), errors={"c": [translatable("is taken")]})\n'
    )
    problems = _problems(source, "example.py", _refusals())
    assert sorted(int(p.split(":")[1]) for p in problems) == [2, 3, 4, 4, 5, 6, 7], problems
