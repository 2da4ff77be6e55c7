"""Each row of an uploaded spreadsheet loaded through the input schema the single-item API loads.

A row is given to the same schema as a JSON body (``CommunityCreateSchema`` for a community,
``TrancheCreateSchema`` for a tranche, ...), so a spreadsheet is refused exactly where the API
would refuse the same values, with the same messages. Cells become the text a client would send:
numbers without a trailing ``.0``, dates as ISO dates, several values split at commas.

Every row is loaded, whatever the rows before it held; each problem names its row and column.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import marshmallow as ma

from ledger.errors import RowProblem
from ledger.imports.kinds import KINDS, ImportKind
from ledger.imports.workbook import Sheet, read_sheet
from ledger.inputs.communities import CommunityCreateSchema
from ledger.inputs.disbursements import TrancheCreateSchema
from ledger.inputs.funds import BudgetSetSchema
from ledger.inputs.organisations import OrganisationRowSchema
from ledger.inputs.users import UserRowSchema
from ledger.messages import Message, recognised, translatable
from ledger.problems import flatten_field_errors
from ledger.services.imports import LoadedRow, ParsedUpload

_SEPARATORS = re.compile(r"[,，、;；\s]+")


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # A number typed in a cell: 1250.5 was typed as 1250.5, not 1250.5000000001.
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _raw(kind: ImportKind, values: dict[str, Any]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        column = kind.column(name)
        text = _text(value)
        if column is not None and column.several:
            raw[name] = [part for part in _SEPARATORS.split(str(text)) if part]
        else:
            raw[name] = text
    return raw


def _message(text: object) -> str:
    """A schema's message as a :class:`Message`, so that it can be shown in either language."""
    if isinstance(text, Message):
        return text
    return recognised(str(text)) or str(text)


_REQUIRED = translatable("Missing data for required field.")


def _budget_row(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A budget line loaded as ``BudgetSetSchema`` loads one of its ``lines``: category -> amount."""
    errors: dict[str, list[str]] = {
        name: [_REQUIRED] for name in ("category_code", "amount") if name not in raw
    }
    if errors:
        return {}, errors
    try:
        loaded = BudgetSetSchema().load({"lines": {raw["category_code"]: raw["amount"]}})
    except ma.ValidationError as refused:
        for path, messages in flatten_field_errors(refused.messages).items():
            # "lines.<code>.key" is about the category, "lines.<code>.value" about the amount.
            errors.setdefault("category_code" if path.endswith(".key") else "amount", []).extend(messages)
        return {}, errors
    ((code, amount),) = loaded["lines"].items()
    return {"category_code": code, "amount": amount}, {}


def _schema_row(schema: ma.Schema) -> Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, list[str]]]]:
    def load(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        try:
            return dict(schema.load(raw)), {}
        except ma.ValidationError as refused:
            # "organisation_ids.2" is a problem of the column organisation_ids.
            errors: dict[str, list[str]] = {}
            for path, messages in flatten_field_errors(refused.messages).items():
                errors.setdefault(path.split(".")[0], []).extend(messages)
            return {}, errors

    return load


_LOADERS: dict[str, Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, list[str]]]]] = {
    "communities": _schema_row(CommunityCreateSchema()),
    "organisations": _schema_row(OrganisationRowSchema()),
    "users": _schema_row(UserRowSchema()),
    "budget": _budget_row,
    "tranches": _schema_row(TrancheCreateSchema()),
}


def _code(message: object) -> str:
    msgid = message.msgid if isinstance(message, Message) else str(message)
    return "field.required" if msgid == _REQUIRED.msgid else "field.invalid"


def load_upload(kind_name: str, content: bytes) -> ParsedUpload:
    """Read ``content`` (refusing a file that is not a plain table) and load every row."""
    kind = KINDS[kind_name]
    sheet: Sheet = read_sheet(content, kind)
    load = _LOADERS[kind.name]
    rows = []
    for number, values in sheet.rows:
        data, errors = load(_raw(kind, values))
        loaded = LoadedRow(number, None if errors else data, [])
        for name, messages in errors.items():
            column = kind.column(name)
            for text in messages:
                message = _message(text)
                loaded.problems.append(
                    RowProblem(
                        number,
                        sheet.letters.get(name) if column else None,
                        name if column else None,
                        _code(message),
                        message,
                        column.header if column else None,
                    )
                )
        rows.append(loaded)
    return ParsedUpload(hashlib.sha256(content).hexdigest(), sheet.letters, rows)
