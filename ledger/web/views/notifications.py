"""The notifications page (with the person's settings), the outbox in development, and webhooks."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from ledger.errors import ValidationFailed
from ledger.inputs.notifications import PreferencesSchema, WebhookCreateSchema
from ledger.services import notification_preferences, webhooks
from ledger.services.audit_browse import action_words
from ledger.services.notifications import inbox
from ledger.services.notifications.events import WEBHOOK_EVENTS
from ledger.services.pagination import PageRequest
from ledger.web.forms import load_form
from ledger.web.session import current_web_actor, signed_in
from ledger.web.views import blueprint

PAGE_SIZE = 50


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    actor = current_web_actor()
    listing = inbox.list_notifications(actor, PageRequest(1, PAGE_SIZE))
    return (
        render_template(
            "web/notifications.html",
            notifications=listing.items,
            total=listing.total,
            preferences=notification_preferences.get_preferences(actor),
            outbox_shown=inbox.outbox_available(actor),
            problems=context.pop("problems", {}),
            form=context.pop("form", {}),
            **context,
        ),
        status,
    )


@blueprint.get("/notifications")
@signed_in
def notifications() -> tuple[str, int]:
    return _page()


@blueprint.post("/notifications/<uuid:notification_id>/read")
@signed_in
def read_notification(notification_id: uuid.UUID) -> Response:
    """Mark it read and go to the thing it is about."""
    notification = inbox.mark_read(current_web_actor(), notification_id)
    return redirect(notification.link)


@blueprint.post("/notifications/read-all")
@signed_in
def read_all_notifications() -> Response:
    inbox.mark_all_read(current_web_actor())
    flash(gettext("All notifications are marked read."))
    return redirect(url_for("web.notifications"))


@blueprint.post("/notifications/preferences")
@signed_in
def change_notification_preferences() -> tuple[str, int] | Response:
    try:
        data = load_form(PreferencesSchema())
        notification_preferences.set_preferences(
            current_web_actor(),
            email=data["email"],
            email_mode=data["email_mode"],
            language=data["language"],
            expected_version=int(request.form.get("version", "0") or 0),
        )
    except ValidationFailed as error:
        return _page(422, problems=error.errors, form=request.form.to_dict())
    flash(gettext("Your notification settings are saved."))
    return redirect(url_for("web.notifications"))


@blueprint.get("/dev/outbox")
@signed_in
def outbox() -> str:
    return render_template("web/outbox.html", mails=inbox.outbox(current_web_actor()))


def _webhooks_page(status: int = 200, **context: Any) -> tuple[str, int]:
    actor = current_web_actor()
    endpoints = webhooks.list_webhooks(actor)
    return (
        render_template(
            "web/webhooks.html",
            endpoints=endpoints,
            logs={e.id: webhooks.delivery_log(actor, e.id) for e in endpoints},
            events=WEBHOOK_EVENTS,
            action_words=action_words,
            problems=context.pop("problems", {}),
            form=context.pop("form", {}),
            **context,
        ),
        status,
    )


@blueprint.get("/admin/webhooks")
@signed_in
def admin_webhooks() -> tuple[str, int]:
    return _webhooks_page()


@blueprint.post("/admin/webhooks")
@signed_in
def register_webhook() -> tuple[str, int]:
    try:
        data = load_form(WebhookCreateSchema())
        made = webhooks.register_webhook(current_web_actor(), data["url"], data["event_types"])
    except ValidationFailed as error:
        return _webhooks_page(422, problems=error.errors, form=request.form.to_dict())
    # The secret is shown this once, on the answer to the form, never again.
    return _webhooks_page(201, new_secret=made.secret, new_id=made.endpoint.id)


@blueprint.post("/admin/webhooks/<uuid:endpoint_id>/remove")
@signed_in
def remove_webhook(endpoint_id: uuid.UUID) -> Response:
    webhooks.remove_webhook(current_web_actor(), endpoint_id)
    flash(gettext("The webhook is removed; its log is kept."))
    return redirect(url_for("web.admin_webhooks"))
