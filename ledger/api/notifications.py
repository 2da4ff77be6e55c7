"""Notifications API: your notifications and settings; webhooks and their delivery log (admins)."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from ledger.api.common import (
    CREATED_ID,
    Blueprint,
    ResponseSchema,
    created_links,
    if_match_version,
    link,
    page_request,
    reader_language,
)
from ledger.api.security import API_PREFIX, current_actor
from ledger.config import current_settings
from ledger.inputs.notifications import NotificationQuerySchema, PreferencesSchema, WebhookCreateSchema
from ledger.messages import in_language
from ledger.models.notification import Notification
from ledger.services import notification_preferences, webhooks
from ledger.services.notifications import inbox
from ledger.services.notifications.texts import absolute, message_of

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix=API_PREFIX,
    description="Notifications of what waits for you, your notification settings, and webhooks.",
)


class SubjectSchema(ResponseSchema):
    type = ma.fields.String()
    id = ma.fields.String()


class NotificationSchema(ResponseSchema):
    id = ma.fields.UUID()
    event = ma.fields.String()
    message = ma.fields.String(metadata={"description": "in the language Accept-Language prefers (zh or en)"})
    subject = ma.fields.Nested(SubjectSchema)
    organisation_id = ma.fields.UUID(allow_none=True)
    link = ma.fields.String(metadata={"description": "the page of the thing it is about"})
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)


def _shown(notification: Notification, lang: str, public_url: str) -> dict[str, Any]:
    return {
        "id": notification.id,
        "event": notification.event,
        "message": in_language(message_of(notification), lang),
        "subject": {"type": notification.subject_type, "id": notification.subject_id},
        "organisation_id": notification.organisation_id,
        "link": absolute(public_url, notification.link),
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, query: dict[str, Any], pagination_parameters: PaginationParameters) -> list[dict[str, Any]]:
        """Your notifications, newest first (unread=true: only those not read yet)"""
        page = inbox.list_notifications(
            current_actor(), page_request(pagination_parameters), unread_only=query["unread"]
        )
        pagination_parameters.item_count = page.total
        lang, public_url = reader_language(), current_settings().public_url
        return [_shown(n, lang, public_url) for n in page.items]


@blp.route("/notifications/<uuid:notification_id>/read")
class NotificationRead(MethodView):
    @blp.response(204)
    def post(self, notification_id: uuid.UUID) -> None:
        """Mark one of your notifications read"""
        inbox.mark_read(current_actor(), notification_id)


@blp.route("/notifications/read-all")
class NotificationsReadAll(MethodView):
    @blp.response(204)
    def post(self) -> None:
        """Mark all your notifications read"""
        inbox.mark_all_read(current_actor())


class PreferencesOutSchema(ResponseSchema):
    email = ma.fields.String(allow_none=True)
    email_mode = ma.fields.String()
    language = ma.fields.String()
    version = ma.fields.Integer()


@blp.route("/me/notification-preferences")
class Preferences(MethodView):
    @blp.response(200, PreferencesOutSchema)
    def get(self) -> Any:
        """Your notification settings (version 0: never set)"""
        return notification_preferences.get_preferences(current_actor())

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesOutSchema)
    def put(self, data: dict[str, Any]) -> Any:
        """Change your notification settings (send If-Match with the version you read to guard against a stale write)"""
        return notification_preferences.set_preferences(
            current_actor(),
            email=data["email"],
            email_mode=data["email_mode"],
            language=data["language"],
            expected_version=_if_match(),
        )


def _if_match() -> int | None:
    """Optional here: a person's own settings; when sent, a stale one is refused (412)."""
    if request.headers.get("If-Match") is None:
        return None
    return if_match_version()


class WebhookSchema(ResponseSchema):
    id = ma.fields.UUID()
    url = ma.fields.String()
    event_types = ma.fields.List(ma.fields.String())
    is_active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()


class RegisteredWebhookSchema(WebhookSchema):
    secret = ma.fields.String(
        metadata={"description": "shown only now: keep it to verify the Ledger-Signature header"}
    )


class AttemptSchema(ResponseSchema):
    number = ma.fields.Integer()
    attempted_at = ma.fields.AwareDateTime()
    ok = ma.fields.Boolean()
    detail = ma.fields.String()


class DeliverySchema(ResponseSchema):
    id = ma.fields.UUID()
    event = ma.fields.String()
    status = ma.fields.String()
    attempts = ma.fields.List(ma.fields.Nested(AttemptSchema))
    next_attempt_at = ma.fields.AwareDateTime()
    created_at = ma.fields.AwareDateTime()
    sent_at = ma.fields.AwareDateTime(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    body = ma.fields.String()


@blp.route("/webhooks")
class Webhooks(MethodView):
    @blp.response(200, WebhookSchema(many=True))
    def get(self) -> Any:
        """Registered webhooks (admins of the whole deployment)"""
        return webhooks.list_webhooks(current_actor())

    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, RegisteredWebhookSchema)
    @created_links(
        retried=False,
        deliveries=link("get", f"{API_PREFIX}/webhooks/{{endpoint_id}}/deliveries", endpoint_id=CREATED_ID),
        remove=link("delete", f"{API_PREFIX}/webhooks/{{endpoint_id}}", endpoint_id=CREATED_ID),
    )
    def post(self, data: dict[str, Any]) -> Any:
        """Register a webhook; the answer holds its signing secret, shown this once"""
        made = webhooks.register_webhook(current_actor(), data["url"], data["event_types"])
        endpoint = made.endpoint
        return {
            "id": endpoint.id,
            "url": endpoint.url,
            "event_types": endpoint.event_types,
            "is_active": endpoint.is_active,
            "created_at": endpoint.created_at,
            "secret": made.secret,
        }


@blp.route("/webhooks/<uuid:endpoint_id>")
class WebhookById(MethodView):
    @blp.response(204)
    def delete(self, endpoint_id: uuid.UUID) -> None:
        """Stop calling a webhook (its delivery log is kept)"""
        webhooks.remove_webhook(current_actor(), endpoint_id)


@blp.route("/webhooks/<uuid:endpoint_id>/deliveries")
class WebhookDeliveries(MethodView):
    @blp.response(200, DeliverySchema(many=True))
    def get(self, endpoint_id: uuid.UUID) -> Any:
        """A webhook's latest deliveries, newest first, with every try"""
        return [
            {
                "id": logged.delivery.id,
                "event": logged.delivery.event,
                "status": logged.delivery.status,
                "attempts": logged.attempts,
                "next_attempt_at": logged.delivery.next_attempt_at,
                "created_at": logged.delivery.created_at,
                "sent_at": logged.delivery.sent_at,
                "last_error": logged.delivery.last_error,
                "body": logged.delivery.body,
            }
            for logged in webhooks.delivery_log(current_actor(), endpoint_id)
        ]
