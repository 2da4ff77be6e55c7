"""Input for requirements: adding one, changing its due date or who answers for it, marking it
done or withdrawing it, and the list's filter."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma

from ledger.inputs.common import StrictSchema, date_in_range
from ledger.models.requirement import RequirementKind, ResponsibleRole
from ledger.services.requirements import RequirementState

_YEAR = ma.validate.Range(min=2000, max=2100)


class RequirementCreateSchema(StrictSchema):
    kind = ma.fields.Enum(RequirementKind, by_value=True, required=True)
    due_on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "required, except for a lottery disclosure (30 June of the next year) "
            "and an annual report (31 May of the next year)"
        },
    )
    title = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "the kind's own title when left out"},
    )
    covers_year = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=_YEAR,
        metadata={"description": "the year a lottery disclosure or an annual report covers"},
    )
    tranche_id = ma.fields.UUID(
        load_default=None, allow_none=True, metadata={"description": "the tranche whose condition this is"}
    )
    responsible_role = ma.fields.Enum(
        ResponsibleRole,
        by_value=True,
        load_default=None,
        allow_none=True,
        metadata={"description": "who acts: the kind's usual side when left out"},
    )
    responsible_user_id = ma.fields.UUID(load_default=None, allow_none=True)

    @ma.validates("due_on")
    def due_in_range(self, value: date | None, **kwargs: Any) -> None:
        if value is not None:
            date_in_range(value)


class RequirementChangeSchema(StrictSchema):
    """Only the fields sent change."""

    due_on = ma.fields.Date()
    title = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    responsible_role = ma.fields.Enum(ResponsibleRole, by_value=True)
    responsible_user_id = ma.fields.UUID(allow_none=True)

    @ma.validates("due_on")
    def due_in_range(self, value: date, **kwargs: Any) -> None:
        date_in_range(value)


class RequirementNoteSchema(StrictSchema):
    note = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=500),
        metadata={"description": "how it was met (done), or why it is withdrawn"},
    )


class RequirementQuerySchema(StrictSchema):
    state = ma.fields.Enum(RequirementState, by_value=True, load_default=None)

    class Meta:
        unknown = ma.EXCLUDE  # page and page_size are read by the pager
