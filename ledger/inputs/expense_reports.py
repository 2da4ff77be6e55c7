"""Input for expense reports: a new report, its lines, and a reviewer's comment."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ledger.inputs.common import MONEY, StrictSchema, date_in_range, refuse_money_numbers_at
from ledger.services import expense_reports as service


class ReportCreateSchema(StrictSchema):
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    interim = ma.fields.Boolean(
        load_default=False, metadata={"description": "an interim report (a tranche may wait for one)"}
    )


class LineCreateSchema(StrictSchema):
    category_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    amount = ma.fields.String(required=True, metadata=MONEY)
    incurred_on = ma.fields.Date(required=True, validate=date_in_range)
    payee = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    receipt_sha256 = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Regexp(
            r"^[0-9a-f]{64}$", error="must be a receipt's SHA-256 (64 lower-case hex digits)"
        ),
    )


class LinesSetSchema(StrictSchema):
    lines = ma.fields.List(
        ma.fields.Nested(LineCreateSchema), required=True, validate=ma.validate.Length(max=service.MAX_LINES)
    )

    @ma.pre_load
    def refuse_money_numbers(self, data: Any, **kwargs: Any) -> Any:
        refuse_money_numbers_at(data, [("lines", "[]", "amount")])
        return data


class CommentSchema(StrictSchema):
    comment = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1000))
