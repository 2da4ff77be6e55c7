"""Input for users: new accounts, changes of role or membership, passwords."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema
from ledger.models.user import Role


class UserCreateSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=64))
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.Enum(Role, by_value=True, required=True)
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=256))
    organisation_ids = ma.fields.List(
        ma.fields.UUID(), load_default=list, validate=ma.validate.Length(max=100)
    )


class UserUpdateSchema(StrictSchema):
    display_name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.Enum(Role, by_value=True)
    organisation_ids = ma.fields.List(ma.fields.UUID(), validate=ma.validate.Length(max=100))
    is_active = ma.fields.Boolean()


class PasswordChangeSchema(StrictSchema):
    current_password = ma.fields.String(load_only=True, validate=ma.validate.Length(max=256))
    new_password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=256))
