"""Input for the audit entries browser: where to go on from, and what to show (the page's GET form)."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema, date_in_range
from ledger.messages import translatable

# The families of actions the browser filters by (the part of an action before the dot, grouped).
ENTRY_KINDS = (
    "expense_report",
    "disbursement",
    "fund",
    "organisation",
    "community",
    "people",
    "books",
    "other",
)


class AuditEntriesQuerySchema(StrictSchema):
    after = ma.fields.Integer(
        validate=ma.validate.Range(min=0, max=2**62),
        metadata={"description": "Show entries after this seq (0 or omitted: from the start of the log)"},
    )
    organisation = ma.fields.UUID(metadata={"description": "Only entries about this organisation"})
    fund = ma.fields.UUID(metadata={"description": "Only entries about this fund"})
    kind = ma.fields.String(
        validate=ma.validate.OneOf(ENTRY_KINDS), metadata={"description": "Only actions of this family"}
    )
    date_from = ma.fields.Date(validate=date_in_range, metadata={"description": "Recorded on or after (UTC)"})
    date_to = ma.fields.Date(validate=date_in_range, metadata={"description": "Recorded on or before (UTC)"})

    @ma.validates_schema
    def dates_in_order(self, data: dict[str, object], **kwargs: object) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start is not None and end is not None and start > end:  # type: ignore[operator]
            raise ma.ValidationError({"date_to": [translatable("must not be before the start date")]})
