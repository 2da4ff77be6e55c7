"""Webhooks: other systems told of events by signed HTTP calls, and the log of every try.

An admin of the whole deployment registers an endpoint (an http(s) URL and the audit actions it
wants); the service makes its signing secret and shows it once. Registering and removing are
recorded in the audit trail; the secret travels there only as a keyed fingerprint
(``replay/tables.py``). The notifier queues a delivery per subscribed entry; each try is kept
(``delivery_attempt``) and admins read them here.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from ledger.errors import Forbidden, NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.notification import Delivery, DeliveryAttempt, WebhookEndpoint
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_event
from ledger.services.notifications.events import WEBHOOK_EVENTS

LOG_LIMIT = 100


@dataclass(frozen=True)
class Registered:
    endpoint: WebhookEndpoint
    secret: str  # shown once, at registration


@dataclass(frozen=True)
class LoggedDelivery:
    delivery: Delivery
    attempts: list[DeliveryAttempt]


def _authorize(actor: Actor) -> None:
    authorize(actor, Permission.MANAGE_WEBHOOKS)
    if not actor.reaches_everything:
        raise Forbidden(
            translatable(
                "Only an administrator of the whole deployment manages webhooks: they hear of every organisation."
            ),
            code="access.outside_scope",
        )


def _state(endpoint: WebhookEndpoint) -> dict[str, object]:
    return {"url": endpoint.url, "event_types": list(endpoint.event_types), "is_active": endpoint.is_active}


def register_webhook(actor: Actor, url: str, event_types: list[str]) -> Registered:
    _authorize(actor)
    try:
        address = urlsplit(url.strip())
        usable = (
            address.scheme in ("http", "https")
            and bool(address.hostname)
            and not (address.username or address.password)
            and address.port != 0  # reading the port also refuses one that is not a number
        )
    except ValueError:  # an unbalanced "[" of an IPv6 address, a port that is not a number
        usable = False
    if not usable:
        raise ValidationFailed.field(
            "url", translatable("Give an http:// or https:// address without a password in it.")
        )
    unknown = sorted(set(event_types) - set(WEBHOOK_EVENTS))
    if unknown or not event_types:
        raise ValidationFailed.field(
            "event_types",
            translatable("Choose events from the list: %(events)s.", events=", ".join(WEBHOOK_EVENTS)),
        )
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        url=url.strip(),
        secret=secret,
        event_types=sorted(set(event_types)),
        is_active=True,
        created_by=actor.audit_identity["id"],
    )
    db.session.add(endpoint)
    db.session.flush()
    record_event(actor, "webhook.registered", "webhook", endpoint.id, {"state": _state(endpoint)})
    return Registered(endpoint, secret)


def list_webhooks(actor: Actor) -> list[WebhookEndpoint]:
    _authorize(actor)
    return list(
        db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id))
    )


def get_webhook(actor: Actor, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    _authorize(actor)
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(translatable("No such webhook."))
    return endpoint


def remove_webhook(actor: Actor, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """Stop calling the endpoint; its log is kept."""
    endpoint = get_webhook(actor, endpoint_id)
    if endpoint.is_active:
        endpoint.is_active = False
        db.session.flush()
        record_event(actor, "webhook.removed", "webhook", endpoint.id, {"state": _state(endpoint)})
    return endpoint


def delivery_log(actor: Actor, endpoint_id: uuid.UUID) -> list[LoggedDelivery]:
    """The endpoint's latest deliveries, newest first, each with every try."""
    endpoint = get_webhook(actor, endpoint_id)
    deliveries = list(
        db.session.scalars(
            select(Delivery)
            .where(Delivery.endpoint_id == endpoint.id)
            .order_by(Delivery.created_at.desc(), Delivery.id)
            .limit(LOG_LIMIT)
        )
    )
    attempts: dict[uuid.UUID, list[DeliveryAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        for attempt in db.session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(attempts))
            .order_by(DeliveryAttempt.number)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return [LoggedDelivery(d, attempts[d.id]) for d in deliveries]
