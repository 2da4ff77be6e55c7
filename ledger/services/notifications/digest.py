"""The daily digest: one mail a day, for those who chose it, listing what still waits for them.

On the first pass of a business day (China's calendar, ``business_dates``) a person with
``email_mode = digest`` gets a mail listing their unread notifications from before that day, if
at least one of them is new since their last digest: an unchanged pile is not mailed again and
again. The delivery's key holds the day, so a day never gets two digests.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ledger.business_dates import business_today, start_of_day
from ledger.extensions import db
from ledger.models.notification import (
    Delivery,
    DeliveryChannel,
    EmailMode,
    Notification,
    NotificationPreference,
)
from ledger.services.notifications.texts import absolute, digest_mail, message_of

DIGEST_LIMIT = 50


def queue_digests(now: datetime, public_url: str) -> int:
    """Queue today's digest for each person who chose it and has something new; returns how many."""
    today = business_today(now)
    day_start = start_of_day(today)
    preferences = db.session.scalars(
        select(NotificationPreference).where(
            NotificationPreference.email_mode == EmailMode.DIGEST.value,
            NotificationPreference.email.is_not(None),
        )
    ).all()
    queued = 0
    for preference in preferences:
        user_id = preference.user_id
        prefix = f"digest:{user_id}:"
        if db.session.scalar(select(Delivery.id).where(Delivery.dedup_key == f"{prefix}{today.isoformat()}")):
            continue
        last = db.session.scalar(
            select(func.max(Delivery.dedup_key)).where(Delivery.dedup_key.startswith(prefix))
        )
        waiting = list(
            db.session.scalars(
                select(Notification)
                .where(
                    Notification.user_id == user_id,
                    Notification.read_at.is_(None),
                    Notification.created_at < day_start,
                )
                .order_by(Notification.created_at.desc(), Notification.id)
                .limit(DIGEST_LIMIT)
            )
        )
        since = None
        if last is not None:
            since = start_of_day(datetime.fromisoformat(last.removeprefix(prefix)).date())
        if not waiting or (since is not None and all(n.created_at < since for n in waiting)):
            continue
        items = [(message_of(n), absolute(public_url, n.link)) for n in waiting]
        subject, body = digest_mail(items, absolute(public_url, "/notifications"), preference.language)
        db.session.add(
            Delivery(
                channel=DeliveryChannel.EMAIL.value,
                dedup_key=f"{prefix}{today.isoformat()}",
                user_id=user_id,
                event="digest",
                recipient=preference.email,
                subject=subject,
                body=body,
                next_attempt_at=now,
                created_at=now,
            )
        )
        queued += 1
    db.session.flush()
    return queued
