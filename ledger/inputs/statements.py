"""Input for statements: the period and the language of a statement to issue."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema


class PeriodQuerySchema(StrictSchema):
    period = ma.fields.String(
        required=True,
        metadata={"description": "months 2026-01..2026-12, or days 2026-01-01..2026-06-30"},
    )


def _lang_field() -> ma.fields.String:
    return ma.fields.String(
        load_default="zh",
        validate=ma.validate.OneOf(("zh", "en")),
        metadata={"description": "the primary language; the other is shown beside it"},
    )


class StatementCreateSchema(PeriodQuerySchema):
    lang = _lang_field()


class DisclosureQuerySchema(StrictSchema):
    funder = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    year = ma.fields.Integer(required=True, validate=ma.validate.Range(min=2000, max=2100))


class DisclosureCreateSchema(DisclosureQuerySchema):
    lang = _lang_field()


class AttestationCreateSchema(StrictSchema):
    lang = _lang_field()
