"""Input for organisations."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema
from ledger.models.organisation import RegistrationType


class OrganisationCreateSchema(StrictSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    credit_code = ma.fields.String(
        required=True,
        validate=ma.validate.Length(max=64),
        metadata={
            "description": "Unified Social Credit Code (GB 32100-2015)",
            "example": "51420000MJH200395N",
        },
    )
    registration_type = ma.fields.Enum(RegistrationType, by_value=True, required=True)
    community_id = ma.fields.UUID(required=True)


class OrganisationUpdateSchema(OrganisationCreateSchema):
    """The same fields, each optional: only those sent change."""
