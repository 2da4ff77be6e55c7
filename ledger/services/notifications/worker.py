"""One pass of the notifier (``run_once``), and the loop that keeps running it.

A pass reads the audit trail after its cursor and stores the notifications the new entries give,
with their mail and webhook calls (one transaction per batch, the cursor row locked first so that
two workers never read the same entries); adds the calendar's reminders; queues the day's digests;
then sends everything due; and, with ``LEDGER_PUBLISH_OCDS=auto``, publishes the OCDS releases the
new entries imply. ``ledger notify run`` loops; in development the pages' first request
starts the same loop in a thread (``start_thread``), so ``make run`` shows notifications.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from ledger.business_dates import business_today
from ledger.config import current_settings
from ledger.errors import NotConfigured
from ledger.extensions import db
from ledger.models.audit import AuditEntry
from ledger.models.notification import DeliveryChannel, NotifierCursor
from ledger.services.access import Actor
from ledger.services.notifications import reminders
from ledger.services.notifications.channels import Channel, EmailChannel, OutboxChannel, WebhookChannel
from ledger.services.notifications.deliveries import deliver_due
from ledger.services.notifications.digest import queue_digests
from ledger.services.notifications.events import People, notices_for
from ledger.services.notifications.store import queue_webhooks, store_notices
from ledger.services.ocds_publication import publish_ocds

log = logging.getLogger(__name__)

CURSOR = "audit"
PUBLISHED_CURSOR = "ocds"
BATCH = 200
EVERY_SECONDS = 5.0
EXTENSION = "ledger.notifier"
_starting = threading.Lock()


@dataclass(frozen=True)
class PassReport:
    entries_read: int
    notifications: int
    reminders: int
    digests: int
    sent: int
    failed_tries: int
    published: int = 0


def default_channels() -> dict[str, Channel]:
    settings = current_settings()
    mail: Channel = (
        EmailChannel(settings.smtp_url, settings.mail_from) if settings.smtp_url else OutboxChannel()
    )
    return {DeliveryChannel.EMAIL.value: mail, DeliveryChannel.WEBHOOK.value: WebhookChannel()}


def _head_seq() -> int:
    return db.session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0


def _locked_cursor(name: str = CURSOR, start: int | None = None) -> NotifierCursor:
    """Reader ``name``'s cursor, locked so that two workers never do the same pass; a missing one
    (a database rebuilt without the migrations, or a new reader) starts at ``start`` or the head."""
    cursor = db.session.scalar(select(NotifierCursor).where(NotifierCursor.name == name).with_for_update())
    if cursor is None:
        cursor = NotifierCursor(name=name, seq=_head_seq() if start is None else start)
        db.session.add(cursor)
        db.session.flush()
    return cursor


def derive_from_trail(now: datetime, public_url: str) -> tuple[int, int]:
    """Notifications and webhook calls for the entries after the cursor; returns (entries, notifications)."""
    read = added = 0
    while True:
        try:
            cursor = _locked_cursor()
            entries = list(
                db.session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.seq > cursor.seq)
                    .order_by(AuditEntry.seq)
                    .limit(BATCH)
                )
            )
            if not entries:
                db.session.commit()
                return read, added
            notices = notices_for(entries, People())
            added += store_notices(notices, now, public_url)
            queue_webhooks(
                entries, {n.source_seq: n for n in notices if n.source_seq is not None}, now, public_url
            )
            cursor.seq = entries[-1].seq
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        read += len(entries)
        if len(entries) < BATCH:
            return read, added


def remind(now: datetime, public_url: str) -> int:
    """Store the reminders every source gives for today's business date (each key once per person)."""
    today = business_today(now)
    try:
        found = [r for source in reminders.SOURCES for r in source.reminders(today)]
        added = store_notices(found, now, public_url)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return added


def digests(now: datetime, public_url: str) -> int:
    try:
        queued = queue_digests(now, public_url)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return queued


def publish(now: datetime) -> int:
    """With ``LEDGER_PUBLISH_OCDS=auto``: when the trail has moved since the last look, publish
    the releases the contracts' state now implies (none twice); returns how many went out.

    In production without the publication settings nothing is published: the pass logs why and
    goes on with its other work, as ``ledger export ocds`` would refuse."""
    if current_settings().publish_ocds != "auto":
        return 0
    try:
        cursor = _locked_cursor(PUBLISHED_CURSOR, start=0)  # a first look publishes what is due
        head = _head_seq()
        if head <= cursor.seq:
            db.session.commit()
            return 0
        written = publish_ocds(Actor.publisher(), now)
        cursor.seq = head
        db.session.commit()
    except NotConfigured as refusal:
        db.session.rollback()
        log.warning("open data is not published automatically: %s", refusal.errors)
        return 0
    except Exception:
        db.session.rollback()
        raise
    return len(written)


def run_once(now: datetime | None = None, channels: dict[str, Channel] | None = None) -> PassReport:
    """One pass: derive from the trail, remind, queue digests, send what is due at ``now``, publish."""
    now = now or datetime.now(UTC)
    public_url = current_settings().public_url
    read, added = derive_from_trail(now, public_url)
    reminded = remind(now, public_url)
    queued = digests(now, public_url)
    sent, failed = deliver_due(now, channels if channels is not None else default_channels())
    published = publish(now)
    return PassReport(read, added, reminded, queued, sent, failed, published)


def run_forever(app: Any, every: float = EVERY_SECONDS, stopping: threading.Event | None = None) -> None:
    """Run a pass every ``every`` seconds until ``stopping`` is set; a failed pass is logged and retried."""
    stopping = stopping or threading.Event()
    while not stopping.is_set():
        with app.app_context():
            try:
                report = run_once()
                if report.notifications or report.sent or report.failed_tries or report.published:
                    log.info("notifier: %s", report)
            except Exception:
                log.exception("the notifier's pass failed; it runs again shortly")
            finally:
                db.session.remove()
        stopping.wait(every)


def start_thread(app: Any) -> None:
    """Start this process's notifier thread once (development: ``ledger run``)."""
    with _starting:
        state = app.extensions.setdefault(EXTENSION, {"pid": 0, "thread": None})
        thread = state["thread"]
        if thread is not None and state["pid"] == os.getpid() and thread.is_alive():
            return
        state["pid"] = os.getpid()
        state["stopping"] = threading.Event()
        state["thread"] = threading.Thread(
            target=run_forever,
            args=(app, EVERY_SECONDS, state["stopping"]),
            name="ledger-notifier",
            daemon=True,
        )
        state["thread"].start()
