"""Telling people what waits for them: in-app notifications, mail and webhook deliveries.

Two kinds of table live here. What a person or an admin chose is business state and is replayed
from the audit trail like everything else: ``notification_preference`` (where and how a person
is told) and ``webhook_endpoint`` (another system that is told, with its signing secret).
Everything else is *derived* from the trail by the notifier (``services/notifications``):
``notification`` (what a person sees under the bell), ``notifier_cursor`` (how far the trail has
been read), ``delivery`` and ``delivery_attempt`` (each mail or webhook call and every try of
it) and ``outbox_mail`` (mail kept in the database in development instead of being sent).
Running the notifier again over the trail rebuilds them, so they are not replayed.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, UTCDateTime, UUIDPrimaryKey, Versioned, utcnow


class EmailMode(enum.StrEnum):
    OFF = "off"  # in-app only
    EACH = "each"  # a mail for each notification
    DIGEST = "digest"  # one mail a day listing what waits


class DeliveryChannel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # given up after the last retry


class NotificationPreference(Versioned, Base):
    """How one person wants to be told. No row: in-app only, in Chinese."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        CheckConstraint("email_mode IN ('off', 'each', 'digest')", name="email_mode"),
        CheckConstraint("language IN ('zh', 'en')", name="language"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    email_mode: Mapped[str] = mapped_column(String(8), default=EmailMode.OFF.value)
    language: Mapped[str] = mapped_column(String(2), default="zh")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEndpoint(UUIDPrimaryKey, Base):
    """Another system told of events: its URL, the secret deliveries are signed with, the events."""

    __tablename__ = "webhook_endpoint"

    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(128))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notification(UUIDPrimaryKey, Base):
    """Something that waits for a person (or that they should know), derived from the trail.

    ``dedup_key`` says which change it is about (``seq:42`` for an audit entry, a reminder's own
    key), so that the same change never notifies the same person twice. ``read_at`` is kept here
    although the table is derived: reading marks grant nothing and are not business state.
    """

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("user_id", "dedup_key"),
        Index("ix_notification_user_created", "user_id", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    link: Mapped[str] = mapped_column(String(300))
    dedup_key: Mapped[str] = mapped_column(String(120))
    source_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotifierCursor(Base):
    """How far the notifier has read the audit trail (``seq``); one row per reader (``name``)."""

    __tablename__ = "notifier_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Delivery(UUIDPrimaryKey, Base):
    """One mail or webhook call to make, retried until sent or given up.

    A worker claims a due delivery by moving ``next_attempt_at`` forward (a lease) in a short
    transaction, sends outside any transaction, then records the outcome: no lock is held while
    a mail server or another system is slow, and two workers never send the same one at once.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'webhook')", name="channel"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index("ix_delivery_status_next_attempt_at", "status", "next_attempt_at"),
    )

    channel: Mapped[str] = mapped_column(String(16))
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(2000))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(UUIDPrimaryKey, Base):
    """One try of a delivery: when, and what came of it (the delivery log admins read)."""

    __tablename__ = "delivery_attempt"

    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column()
    detail: Mapped[str] = mapped_column(String(500))


class OutboxMail(UUIDPrimaryKey, Base):
    """A mail kept instead of sent (development without ``LEDGER_SMTP_URL``), for /dev/outbox."""

    __tablename__ = "outbox_mail"

    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
