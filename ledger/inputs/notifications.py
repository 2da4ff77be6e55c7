"""Input for notifications: a person's settings, a webhook to register, the list's filter."""

from __future__ import annotations

import marshmallow as ma

from ledger.inputs.common import StrictSchema
from ledger.models.notification import EmailMode
from ledger.services.notifications.events import WEBHOOK_EVENTS


class PreferencesSchema(StrictSchema):
    email = ma.fields.Email(load_default=None, allow_none=True, validate=ma.validate.Length(max=254))
    email_mode = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf([m.value for m in EmailMode]),
        metadata={
            "description": "off: in the app only; each: a mail per notification; digest: one mail a day"
        },
    )
    language = ma.fields.String(required=True, validate=ma.validate.OneOf(["zh", "en"]))


class NotificationQuerySchema(StrictSchema):
    unread = ma.fields.Boolean(load_default=False)

    class Meta:
        unknown = ma.EXCLUDE  # page and page_size are read by the pager


class WebhookCreateSchema(StrictSchema):
    url = ma.fields.String(required=True, validate=ma.validate.Length(min=8, max=2000))
    event_types = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(WEBHOOK_EVENTS)),
        required=True,
        validate=ma.validate.Length(min=1, max=len(WEBHOOK_EVENTS)),
    )
