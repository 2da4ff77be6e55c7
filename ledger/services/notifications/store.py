"""Keeping notices as notifications, once per person and change, and queueing what is sent.

A person who chose a mail for each notification (``email_mode = each``) gets a ``delivery`` row
with the mail already written in their language; the worker sends it later. Webhook endpoints
subscribed to an audit action get a signed-call ``delivery`` each. Both are keyed so that
storing the same notice twice (a pass run again) queues nothing twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from ledger.audit.canonical import format_timestamp
from ledger.extensions import db
from ledger.models.audit import AuditEntry
from ledger.models.notification import (
    Delivery,
    DeliveryChannel,
    EmailMode,
    Notification,
    NotificationPreference,
    WebhookEndpoint,
)
from ledger.services.notifications.events import Notice
from ledger.services.notifications.texts import absolute, event_mail


def preference_of(user_id: uuid.UUID) -> NotificationPreference | None:
    return db.session.get(NotificationPreference, user_id)


def store_notices(notices: Iterable[Notice], now: datetime, public_url: str) -> int:
    """Add a notification per notice and recipient not told yet; queue their mail. Returns how many."""
    added = 0
    for notice in notices:
        if not notice.recipients:
            continue
        told = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    Notification.dedup_key == notice.dedup_key, Notification.user_id.in_(notice.recipients)
                )
            )
        )
        for user_id in sorted(notice.recipients - told):
            db.session.add(
                Notification(
                    user_id=user_id,
                    event=notice.event,
                    subject_type=notice.subject_type,
                    subject_id=notice.subject_id,
                    organisation_id=notice.organisation_id,
                    params=dict(notice.params),
                    link=notice.link,
                    dedup_key=notice.dedup_key,
                    source_seq=notice.source_seq,
                    created_at=now,
                )
            )
            _queue_mail(user_id, notice, now, public_url)
            added += 1
    db.session.flush()
    return added


def _queue_mail(user_id: uuid.UUID, notice: Notice, now: datetime, public_url: str) -> None:
    preference = preference_of(user_id)
    if preference is None or preference.email_mode != EmailMode.EACH.value or not preference.email:
        return
    subject, body = event_mail(
        notice.event, notice.params, absolute(public_url, notice.link), preference.language
    )
    db.session.add(
        Delivery(
            channel=DeliveryChannel.EMAIL.value,
            dedup_key=f"mail:{user_id}:{notice.dedup_key}",
            user_id=user_id,
            event=notice.event,
            recipient=preference.email,
            subject=subject,
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
    )


def queue_webhooks(
    entries: Iterable[AuditEntry], notices: dict[int, Notice], now: datetime, public_url: str
) -> int:
    """A signed call to every active endpoint subscribed to each entry's action. Returns how many."""
    endpoints = list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.is_active.is_(True))))
    if not endpoints:
        return 0
    queued = 0
    for entry in entries:
        for endpoint in endpoints:
            if entry.action not in endpoint.event_types:
                continue
            notice = notices.get(entry.seq)
            payload = {
                "id": f"{endpoint.id}:{entry.seq}",
                "event": entry.action,
                "seq": entry.seq,
                "occurred_at": entry.ts,
                "subject": {"type": entry.subject_type, "id": entry.subject_id},
                "organisation_id": str(notice.organisation_id) if notice and notice.organisation_id else None,
                "link": absolute(public_url, notice.link) if notice else None,
                "sent_for": format_timestamp(now),
            }
            db.session.add(
                Delivery(
                    channel=DeliveryChannel.WEBHOOK.value,
                    dedup_key=f"webhook:{endpoint.id}:{entry.seq}",
                    endpoint_id=endpoint.id,
                    event=entry.action,
                    recipient=endpoint.url,
                    subject=entry.action,
                    body=json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            queued += 1
    db.session.flush()
    return queued
