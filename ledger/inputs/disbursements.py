"""Input for disbursements: tranche schedules, payments prepared and paid, cancellations, refunds."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from ledger.inputs.common import MONEY, StrictSchema, date_in_range, refuse_money_numbers_at
from ledger.models.disbursement import DisbursementKind, TrancheCondition


class TrancheCreateSchema(StrictSchema):
    amount = ma.fields.String(required=True, metadata=MONEY)
    due_date = ma.fields.Date(required=True, validate=date_in_range)
    condition = ma.fields.Enum(TrancheCondition, by_value=True, load_default=TrancheCondition.NONE)


class ScheduleSetSchema(StrictSchema):
    tranches = ma.fields.List(
        ma.fields.Nested(TrancheCreateSchema), required=True, validate=ma.validate.Length(max=60)
    )

    @ma.pre_load
    def refuse_money_numbers(self, data: Any, **kwargs: Any) -> Any:
        refuse_money_numbers_at(data, [("tranches", "[]", "amount")])
        return data


class DisbursementCreateSchema(StrictSchema):
    kind = ma.fields.Enum(DisbursementKind, by_value=True, required=True)
    amount = ma.fields.String(required=True, metadata=MONEY)
    memo = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    tranche_id = ma.fields.UUID(load_default=None, allow_none=True)

    @ma.pre_load
    def refuse_money_numbers(self, data: Any, **kwargs: Any) -> Any:
        refuse_money_numbers_at(data, [("amount",)])
        return data


class PaySchema(StrictSchema):
    bank_reference = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    paid_on = ma.fields.Date(required=True, validate=date_in_range)


class CancelSchema(StrictSchema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))


class RefundSchema(StrictSchema):
    amount = ma.fields.String(required=True, metadata=MONEY)
    refunded_on = ma.fields.Date(required=True, validate=date_in_range)
    bank_reference = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))

    @ma.pre_load
    def refuse_money_numbers(self, data: Any, **kwargs: Any) -> Any:
        refuse_money_numbers_at(data, [("amount",)])
        return data
