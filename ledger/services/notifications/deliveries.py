"""Sending what is queued, with retries and backoff, never holding a lock while the network is slow.

Each due delivery is *claimed* in a short transaction: its ``next_attempt_at`` moves forward by a
lease with a conditional UPDATE that only one worker can win (on PostgreSQL the loser's UPDATE
waits for the winner's row lock and then finds the row no longer due; on SQLite transactions
take the write lock first). The message is sent outside any transaction, and the outcome and the
attempt are written in another short one. A failure waits 1 min, 5 min, 30 min, 2 h, then 12 h;
after the sixth failed try the delivery is ``failed``. A worker that dies between sending and
recording leaves the lease to expire, so the message goes again: at least once, never lost.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from ledger.extensions import db
from ledger.models.notification import (
    Delivery,
    DeliveryAttempt,
    DeliveryChannel,
    DeliveryStatus,
    WebhookEndpoint,
)
from ledger.services.notifications.channels import Channel, OutgoingMessage

log = logging.getLogger(__name__)

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
LEASE = timedelta(minutes=2)
MAX_PER_PASS = 500


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    channel: str
    message: OutgoingMessage
    attempts: int


def _claim_next(now: datetime) -> Claimed | None:
    """Take the earliest due pending delivery for this worker, or None when nothing is due."""
    try:
        row = db.session.execute(
            select(Delivery.id, Delivery.next_attempt_at)
            .where(Delivery.status == DeliveryStatus.PENDING.value, Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(1)
        ).first()
        if row is None:
            db.session.rollback()
            return None
        won = cast(
            CursorResult[Any],
            db.session.execute(
                update(Delivery)
                .where(
                    Delivery.id == row.id,
                    Delivery.status == DeliveryStatus.PENDING.value,
                    Delivery.next_attempt_at == row.next_attempt_at,
                )
                .values(next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        claimed = None
        if won == 1:
            delivery = db.session.get(Delivery, row.id, populate_existing=True)
            assert delivery is not None
            secret = None
            if delivery.endpoint_id is not None:
                endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
                secret = endpoint.secret if endpoint is not None else None
            claimed = Claimed(
                delivery.id,
                delivery.channel,
                OutgoingMessage(delivery.recipient, delivery.subject, delivery.body, secret),
                delivery.attempts,
            )
        db.session.commit()
        return claimed if won == 1 else _claim_next(now)
    except Exception:
        db.session.rollback()
        raise


def _record(claimed: Claimed, now: datetime, error: str | None) -> None:
    number = claimed.attempts + 1
    values: dict[str, object] = {"attempts": number}
    if error is None:
        values.update(status=DeliveryStatus.SENT.value, sent_at=now, last_error=None)
    elif number > len(BACKOFF):
        values.update(status=DeliveryStatus.FAILED.value, last_error=error[:500])
    else:
        values.update(next_attempt_at=now + BACKOFF[number - 1], last_error=error[:500])
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == claimed.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.add(
        DeliveryAttempt(
            delivery_id=claimed.id,
            number=number,
            attempted_at=now,
            ok=error is None,
            detail=("sent" if error is None else error)[:500],
        )
    )
    db.session.commit()


def deliver_due(now: datetime, channels: dict[str, Channel]) -> tuple[int, int]:
    """Send every delivery due at ``now``; returns (sent, failed tries)."""
    sent = failed = 0
    for _ in range(MAX_PER_PASS):
        claimed = _claim_next(now)
        if claimed is None:
            break
        error: str | None = None
        try:
            channel = channels[claimed.channel]
            channel.send(claimed.message)
        except Exception as problem:  # any failure of a channel is retried, never raised to the caller
            error = str(problem) or type(problem).__name__
            log.warning("delivery %s (%s) failed: %s", claimed.id, claimed.channel, error)
        try:
            _record(claimed, now, error)
        except Exception:
            db.session.rollback()
            raise
        if error is None:
            sent += 1
        else:
            failed += 1
    return sent, failed


CHANNELS = tuple(c.value for c in DeliveryChannel)
