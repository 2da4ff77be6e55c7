"""Input for users: new accounts, changes of role or membership, passwords."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema
from ledger.models.user import Role

WHOLE_DEPLOYMENT = "*"


class ScopeField(ma.fields.String):
    """A node of the administrative tree: a 12-digit division code, or "*" for the whole deployment.

    The length is checked here, before "*" becomes None (a validator would be given the None).
    """

    def _deserialize(self, value: object, attr: str | None, data: object, **kwargs: object) -> str | None:  # type: ignore[override]
        text = ma.validate.Length(min=1, max=12)(super()._deserialize(value, attr, data, **kwargs))
        return None if text == WHOLE_DEPLOYMENT else text

    def _serialize(self, value: str | None, attr: str | None, obj: object, **kwargs: object) -> str | None:
        return WHOLE_DEPLOYMENT if value is None else super()._serialize(value, attr, obj, **kwargs)


def scope_list(**kwargs: object) -> ma.fields.List[str | None]:
    return ma.fields.List(
        ScopeField(metadata={"minLength": 1, "maxLength": 12}),  # type: ignore[arg-type]
        validate=ma.validate.Length(max=50),
        metadata={
            "description": "Staff: the nodes of the administrative tree the role is held at (12-digit "
            'division codes, or "*" for the whole deployment); the creating admin\'s when omitted',
            "example": ["420102012000"],
        },
        **kwargs,  # type: ignore[arg-type]
    )


class UserCreateSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=64))
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.Enum(Role, by_value=True, required=True)
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=256))
    organisation_ids = ma.fields.List(
        ma.fields.UUID(), load_default=list, validate=ma.validate.Length(max=100)
    )
    scopes = scope_list(load_default=list)


class UserRowSchema(UserCreateSchema):
    """A user as a spreadsheet row names them: their organisations by the codes people know (the
    Unified Social Credit Code, or a filed organisation's filing number), not by internal ids
    (``services.import_rows`` finds each, in the importer's area)."""

    organisation_codes = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        load_default=list,
        validate=ma.validate.Length(max=100),
        metadata={"example": ["51420102MJH200395N"]},
    )

    class Meta(UserCreateSchema.Meta):
        exclude = ("organisation_ids",)


class UserUpdateSchema(StrictSchema):
    display_name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.Enum(Role, by_value=True)
    organisation_ids = ma.fields.List(ma.fields.UUID(), validate=ma.validate.Length(max=100))
    scopes = scope_list()
    is_active = ma.fields.Boolean()


class PasswordChangeSchema(StrictSchema):
    current_password = ma.fields.String(load_only=True, validate=ma.validate.Length(max=256))
    new_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=256))
