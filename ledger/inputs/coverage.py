"""Input for coverage: the node of the tree to show and the date to count on (the API and the page)."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema, date_in_range


class CoverageQuerySchema(StrictSchema):
    node = ma.fields.String(
        validate=ma.validate.Length(min=1, max=32),
        metadata={
            "description": "The 12-digit division code of the node to show (its children are the rows); "
            "the top of your area when omitted",
            "example": "420116000000",
        },
    )
    as_of = ma.fields.Date(
        validate=date_in_range,
        metadata={"description": "Count the organisations active on this date (today in China when omitted)"},
    )
