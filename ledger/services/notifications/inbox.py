"""A person's notifications as the bell, the notifications page and the API show them.

A person reads only their own, and of those only the ones about organisations they still reach
(a member moved to another organisation no longer reads the old one's). Marking read changes the
derived ``notification`` table only: it grants nothing and leaves no audit entry. The outbox (mail
kept instead of sent, in development) is for admins outside production.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, or_, select, update

from ledger.config import current_settings
from ledger.errors import Forbidden, NotFound
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import utcnow
from ledger.models.notification import Notification, OutboxMail
from ledger.models.user import Role
from ledger.services.access import Actor, visible_organisation_ids
from ledger.services.pagination import Page, PageRequest, fetch_page

OUTBOX_LIMIT = 100


def _mine(actor: Actor) -> list[ColumnElement[bool]]:
    if actor.user_id is None:
        raise Forbidden(
            translatable("Notifications belong to a signed-in person."), code="access.not_a_person"
        )
    conditions: list[ColumnElement[bool]] = [Notification.user_id == actor.user_id]
    visible = visible_organisation_ids(actor)
    if visible is not None:
        conditions.append(
            or_(Notification.organisation_id.is_(None), Notification.organisation_id.in_(visible))
        )
    return conditions


def list_notifications(
    actor: Actor, request: PageRequest, *, unread_only: bool = False
) -> Page[Notification]:
    """The person's notifications, newest first."""
    statement = select(Notification).where(*_mine(actor))
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return fetch_page(statement.order_by(Notification.created_at.desc(), Notification.id), request)


def unread_count(actor: Actor) -> int:
    if actor.user_id is None:
        return 0
    found = db.session.scalar(
        select(func.count()).select_from(Notification).where(*_mine(actor), Notification.read_at.is_(None))
    )
    return int(found or 0)


def mark_read(actor: Actor, notification_id: uuid.UUID, now: datetime | None = None) -> Notification:
    notification = db.session.scalar(
        select(Notification).where(Notification.id == notification_id, *_mine(actor))
    )
    if notification is None:
        raise NotFound(translatable("No such notification."))
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        db.session.flush()
    return notification


def mark_all_read(actor: Actor, now: datetime | None = None) -> int:
    result = db.session.execute(
        update(Notification)
        .where(*_mine(actor), Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    changed = cast(CursorResult[Any], result).rowcount
    return int(changed or 0)


def outbox_available(actor: Actor) -> bool:
    return actor.role is Role.ADMIN and not current_settings().is_production


def outbox(actor: Actor) -> list[OutboxMail]:
    """Mail kept instead of sent (no ``LEDGER_SMTP_URL``), newest first: admins, outside production."""
    if not outbox_available(actor):
        raise NotFound(translatable("There is no outbox here."))
    return list(
        db.session.scalars(
            select(OutboxMail).order_by(OutboxMail.created_at.desc(), OutboxMail.id).limit(OUTBOX_LIMIT)
        )
    )
