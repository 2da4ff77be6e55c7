"""Input for organisations: registered or filed (备案), their registration and deregistration."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema, date_in_range
from ledger.models.organisation import FilingCategory, OrganisationStatus, RegistrationType

CREDIT_CODE = {
    "description": "Unified Social Credit Code (GB 32100-2015); a filed organisation has none",
    "example": "51420000MJH200395N",
}


class OrganisationDetailsSchema(StrictSchema):
    """What can be corrected after an organisation is entered (each optional in an update)."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    credit_code = ma.fields.String(
        load_default=None, allow_none=True, validate=ma.validate.Length(max=64), metadata=CREDIT_CODE
    )
    registration_type = ma.fields.Enum(
        RegistrationType,
        by_value=True,
        load_default=None,
        allow_none=True,
        metadata={"description": "required for a registered organisation; a filed one defaults to 'other'"},
    )
    community_id = ma.fields.UUID(required=True)
    filing_number = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=64),
        metadata={"description": "a filed organisation's filing number (备案编号), unique per office"},
    )
    filing_office_code = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=12),
        metadata={
            "description": "12-digit code of the street office or township (街道/乡镇) the organisation is filed with",
            "example": "420102001000",
        },
    )
    filing_category = ma.fields.Enum(
        FilingCategory,
        by_value=True,
        load_default=None,
        allow_none=True,
        metadata={"description": "生活服务类, 公益慈善类, 文体活动类, 专业调处类 or other"},
    )
    money_held_by = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Length(max=200),
        metadata={"description": "the hub or community that holds the organisation's money for it (代管)"},
    )


class OrganisationCreateSchema(OrganisationDetailsSchema):
    status = ma.fields.Enum(
        OrganisationStatus,
        by_value=True,
        load_default=OrganisationStatus.REGISTERED,
        metadata={"description": "'registered' (the default) or 'filed'"},
    )
    registered_on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        validate=date_in_range,
        metadata={"description": "a registered organisation's registration date; today if not given"},
    )
    filed_on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        validate=date_in_range,
        metadata={"description": "a filed organisation's filing date"},
    )


class OrganisationUpdateSchema(OrganisationDetailsSchema):
    """The same fields, each optional: only those sent change. The status changes by registration
    or deregistration, and the dates are the history's."""


class RegistrationSchema(StrictSchema):
    """A filed organisation registers with civil affairs."""

    credit_code = ma.fields.String(required=True, validate=ma.validate.Length(max=64), metadata=CREDIT_CODE)
    registered_on = ma.fields.Date(required=True, validate=date_in_range)
    registration_type = ma.fields.Enum(
        RegistrationType,
        by_value=True,
        load_default=None,
        allow_none=True,
        metadata={"description": "the registration type, if it changes on registration"},
    )


class DeregistrationSchema(StrictSchema):
    """An organisation is deregistered, or its filing withdrawn."""

    deregistered_on = ma.fields.Date(required=True, validate=date_in_range)
    reason = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))


class OrganisationRowSchema(OrganisationCreateSchema):
    """An organisation as a spreadsheet row names it: its community by the 12-digit division code
    people know (``community_code``), not by the community's id (``services.import_rows`` finds the
    community, in the importer's area, as the single-item API checks ``community_id``)."""

    community_code = ma.fields.String(
        required=True,
        validate=ma.validate.Length(equal=12),
        metadata={"example": "420102012001"},
    )

    class Meta(OrganisationCreateSchema.Meta):
        exclude = ("community_id",)
