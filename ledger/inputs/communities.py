"""Input for communities."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema
from ledger.models.community import CommunityKind


class CommunityCreateSchema(StrictSchema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    kind = ma.fields.Enum(CommunityKind, by_value=True, required=True)
    district = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class CommunityUpdateSchema(CommunityCreateSchema):
    """The same fields, each optional: only those sent change."""
