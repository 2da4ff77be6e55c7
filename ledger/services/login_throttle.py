"""Counting wrong passwords per account, and the short locks they earn."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select

from ledger.config import current_settings
from ledger.extensions import db
from ledger.models.base import utcnow
from ledger.models.user import LoginThrottle, User


def _throttle(user: User, *, lock: bool = False) -> LoginThrottle:
    statement = select(LoginThrottle).where(LoginThrottle.user_id == user.id)
    throttle = db.session.scalar(statement.with_for_update() if lock else statement)
    if throttle is None:
        throttle = LoginThrottle(user_id=user.id, failed_count=0)
        db.session.add(throttle)
    return throttle


def seconds_locked(user: User, now: datetime) -> int:
    """How long the account stays locked (0 when it is not)."""
    throttle = db.session.get(LoginThrottle, user.id)
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return 0
    return math.ceil((throttle.locked_until - now).total_seconds())


def note_login_failure(user: User) -> None:
    """Count a wrong password; from the limit on, lock for 30 s doubling per failure, capped."""
    settings = current_settings()
    throttle = _throttle(user, lock=True)
    throttle.failed_count += 1
    excess = throttle.failed_count - settings.login_max_failures
    if excess >= 0:
        seconds = min(30 * 2 ** min(excess, 20), settings.login_lockout_max_seconds)
        throttle.locked_until = utcnow() + timedelta(seconds=seconds)
    db.session.flush()


def clear_login_failures(user: User) -> None:
    throttle = db.session.get(LoginThrottle, user.id)
    if throttle is not None and (throttle.failed_count or throttle.locked_until):
        throttle.failed_count = 0
        throttle.locked_until = None
