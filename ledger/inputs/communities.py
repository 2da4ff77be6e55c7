"""Input for communities: a leaf of the administrative tree, named by its 12-digit code."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema
from ledger.models.community import CommunityKind


class CommunityCreateSchema(StrictSchema):
    code = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=32),
        metadata={
            "description": "The 12-digit division code (统计用区划代码) of a community-level division "
            "(居委会 or 村委会) in a loaded division list",
            "example": "420102012001",
        },
    )
    division_list = ma.fields.String(
        validate=ma.validate.Length(min=1, max=32),
        metadata={
            "description": "The division list's version; the latest list holding the code when omitted"
        },
    )
    name = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "The division's name when omitted"},
    )
    kind = ma.fields.Enum(
        CommunityKind,
        by_value=True,
        metadata={"description": "From the division's urban-rural class (1xx urban, 2xx rural) when omitted"},
    )


class CommunityUpdateSchema(CommunityCreateSchema):
    """The same fields, each optional: only those sent change (a new code moves the community)."""
