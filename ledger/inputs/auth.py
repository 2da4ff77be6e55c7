"""Input for signing in."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema


class LoginSchema(StrictSchema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=256))
