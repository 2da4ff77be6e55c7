"""What every input schema shares: strictness, the NUL check, the business-date window, money as text.

The API loads request bodies and the web pages load their forms through the same schemas, so a
rule written here holds on both; see :mod:`ledger.web.forms`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma

from ledger.errors import MoneyAsNumber

# Business dates outside this range are typing mistakes, not plans.
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2100, 12, 31)

MONEY = {"example": "300000.00", "description": "a decimal string; never a JSON number"}


class StrictSchema(ma.Schema):
    """Refuses unknown fields (a typo is an error, not ignored) and NUL characters in text."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def refuse_nul_characters(self, data: Any, **kwargs: Any) -> Any:
        # PostgreSQL cannot store U+0000 in text; refuse it here, naming the field, rather than
        # letting the database fail later.
        problems = {path: ["must not contain NUL (U+0000) characters"] for path in _paths_with_nul(data)}
        if problems:
            raise ma.ValidationError(problems)
        return data


def _paths_with_nul(value: Any, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            found += [child] if isinstance(key, str) and "\x00" in key else _paths_with_nul(item, child)
        return found
    if isinstance(value, list):
        return [
            p
            for index, item in enumerate(value)
            for p in _paths_with_nul(item, f"{path}.{index}" if path else str(index))
        ]
    return []


def refuse_money_numbers_at(data: Any, paths: list[tuple[str, ...]]) -> None:
    """Money as a JSON number is a 400 naming the field: it may already have been rounded."""
    found: dict[str, list[str]] = {}

    def visit(value: Any, path: tuple[str, ...], name: str) -> None:
        if not path:
            if isinstance(value, int | float) and not isinstance(value, bool):
                found[name] = ['must be a decimal string such as "1250.00", not a JSON number']
            return
        head, rest = path[0], path[1:]
        if head == "*" and isinstance(value, dict):
            for key, item in value.items():
                visit(item, rest, f"{name}.{key}" if name else str(key))
        elif head == "[]" and isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, rest, f"{name}.{index}" if name else str(index))
        elif isinstance(value, dict) and head in value:
            visit(value[head], rest, f"{name}.{head}" if name else head)

    for path in paths:
        visit(data, path, "")
    if found:
        raise MoneyAsNumber("Send amounts as decimal strings, not JSON numbers.", errors=found)


def date_in_range(value: date) -> None:
    """Validator for business dates: refuses dates outside EARLIEST_DATE..LATEST_DATE."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ma.ValidationError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")


class DatedReasonSchema(StrictSchema):
    """The body of an undo: the date it is booked on and why (a reversal, a void, a returned payment)."""

    entry_date = ma.fields.Date(required=True, data_key="date", validate=date_in_range)
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
