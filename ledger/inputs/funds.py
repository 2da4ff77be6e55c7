"""Input for funds: the terms of a draft fund, its budget, and budget revisions."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma

from ledger.inputs.common import MONEY, StrictSchema, date_in_range, refuse_money_numbers_at
from ledger.models.fund import FundKind
from ledger.services import funds as service
from ledger.services.amounts import parse_amount


class MilestoneSchema(StrictSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    due_date = ma.fields.Date(required=True)
    amount = ma.fields.String(required=True, metadata=MONEY)


class FundCreateSchema(StrictSchema):
    kind = ma.fields.Enum(FundKind, by_value=True, required=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    reference = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "grant number, or the contract number of a procurement contract"},
    )
    funder_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    funder_credit_code = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=64)
    )
    organisation_id = ma.fields.UUID(required=True)
    funding_division_code = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=12),
        metadata={
            "description": "The funding body's node of the administrative tree (12-digit division code); "
            "the fund goes only to organisations under it. The drafting admin's node when omitted.",
            "example": "420102000000",
        },
    )
    currency = ma.fields.String(load_default="CNY", validate=ma.validate.Length(equal=3))
    award = ma.fields.String(required=True, metadata=MONEY)
    period_start = ma.fields.Date(required=True)
    period_end = ma.fields.Date(required=True)
    restricted = ma.fields.Boolean(load_default=True)
    restriction_purpose = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=500)
    )
    revenue_account = ma.fields.String(
        load_default=service.DEFAULT_REVENUE_ACCOUNT, validate=ma.validate.Length(max=16)
    )
    admin_cost_cap_percent = ma.fields.String(
        load_default=None,
        allow_none=True,
        metadata={"example": "10", "description": "a percentage, as a string"},
    )
    banned_categories = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=32)), load_default=list
    )
    milestones = ma.fields.List(
        ma.fields.Nested(MilestoneSchema), load_default=list, validate=ma.validate.Length(max=100)
    )
    disclosure_deadline = ma.fields.Date(load_default=None, allow_none=True)
    awarded_on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        validate=date_in_range,
        metadata={"description": "the day the award was decided; the period's start when omitted"},
    )
    signed_on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        validate=date_in_range,
        metadata={
            "description": "the day the agreement was signed (not before the award); the award's day when omitted"
        },
    )
    label_required = ma.fields.Boolean(load_default=None, allow_none=True)

    @ma.pre_load
    def refuse_money_numbers(self, data: Any, **kwargs: Any) -> Any:
        refuse_money_numbers_at(data, [("award",), ("milestones", "[]", "amount")])
        return data

    @ma.validates("period_start")
    def start_in_range(self, value: date, **kwargs: Any) -> None:
        date_in_range(value)

    @ma.validates("period_end")
    def end_in_range(self, value: date, **kwargs: Any) -> None:
        date_in_range(value)


class FundUpdateSchema(FundCreateSchema):
    """The same fields, each optional: only those sent change (draft funds only).

    Optional at the top level only: a milestone sent is a whole milestone (name, due date and
    amount), as when the fund is created.
    """


UPDATE_FIELDS_OPTIONAL = tuple(FundCreateSchema().fields)


class BudgetSetSchema(StrictSchema):
    lines = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=32)),
        values=ma.fields.String(metadata=MONEY),
        required=True,
        metadata={"description": "category code -> amount", "example": {"TRAVEL": "12000.00"}},
    )

    @ma.pre_load
    def refuse_money_numbers(self, data: Any, **kwargs: Any) -> Any:
        refuse_money_numbers_at(data, [("lines", "*")])
        return data


class RevisionCreateSchema(StrictSchema):
    changes = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=32)),
        values=ma.fields.String(),
        required=True,
        metadata={
            "description": "category code -> signed change; they must net to zero",
            "example": {"TRAVEL": "-500.00", "PRINTING": "500.00"},
        },
    )
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))

    @ma.pre_load
    def refuse_money_numbers(self, data: Any, **kwargs: Any) -> Any:
        refuse_money_numbers_at(data, [("changes", "*")])
        return data


class RevisionDecisionSchema(StrictSchema):
    note = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))


def fund_terms_changes(data: dict[str, Any], currency: str) -> dict[str, Any]:
    """Loaded fund input as FundTerms fields (amounts and percentages parsed), for the API and the pages."""
    changes = {k: v for k, v in data.items() if k != "currency"}
    if "award" in changes:
        changes["award"] = parse_amount(changes["award"], currency, "award")
    if "admin_cost_cap_percent" in changes:
        changes["admin_cost_cap_percent"] = service.parse_percent(
            changes["admin_cost_cap_percent"], "admin_cost_cap_percent"
        )
    if "banned_categories" in changes:
        changes["banned_categories"] = tuple(changes["banned_categories"])
    if "milestones" in changes:
        changes["milestones"] = tuple(
            {**m, "due_date": m["due_date"].isoformat()} for m in changes["milestones"]
        )
    return changes
