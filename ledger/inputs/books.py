"""Input for the books: adjustments, closing and reopening months and years."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma

from ledger.cash_flow import CASH_FLOW_KEYS
from ledger.inputs.common import StrictSchema, date_in_range, refuse_money_numbers_at
from ledger.models.books import Side
from ledger.services import books as service

MONEY_EXAMPLE = {"example": "1250.00", "description": "a decimal string; never a JSON number"}


class PostingLineCreateSchema(StrictSchema):
    account_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=16))
    side = ma.fields.Enum(Side, by_value=True, required=True)
    amount = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=32), metadata=MONEY_EXAMPLE
    )
    fund_id = ma.fields.UUID(load_default=None, allow_none=True)
    restriction = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf(service.RESTRICTIONS),
        metadata={"description": "restricted or unrestricted; required on a restricted fund's revenue lines"},
    )


class JournalEntryCreateSchema(StrictSchema):
    entry_date = ma.fields.Date(required=True, data_key="date")
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    currency = ma.fields.String(load_default="CNY", validate=ma.validate.Length(equal=3))
    lines = ma.fields.List(
        ma.fields.Nested(PostingLineCreateSchema),
        required=True,
        validate=ma.validate.Length(min=2, max=service.MAX_LINES),
    )
    cash_flow_line = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf(sorted(CASH_FLOW_KEYS)),
        metadata={"description": "the cash-flow statement's line; required when the entry moves cash"},
    )

    @ma.pre_load
    def refuse_numbers_as_money(self, data: Any, **kwargs: Any) -> Any:
        refuse_money_numbers_at(data, [("lines", "[]", "amount")])
        return data

    @ma.validates("entry_date")
    def date_in_range(self, value: date, **kwargs: Any) -> None:
        date_in_range(value)


class PeriodReopenSchema(StrictSchema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


class PeriodCloseSchema(StrictSchema):
    force = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "admins only: close although an earlier month is open (needs a reason)"},
    )
    reason = ma.fields.String(
        load_default=None, validate=ma.validate.Length(min=1, max=500), metadata={"description": "recorded"}
    )


class YearReopenSchema(StrictSchema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
