"""Signing in: checking a password, throttling guessers, and issuing a bearer token.

After ``login_max_failures`` wrong passwords in a row an account is locked for a while that
doubles with each further failure, up to ``login_lockout_max_seconds``. Attempts during the lock
are refused without checking the password and do not extend it, so a stranger hammering a
username can delay its owner by at most the maximum lock, never lock them out for good.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ledger.config import current_settings
from ledger.database import persist_even_if_request_fails
from ledger.errors import TooManyRequests, Unauthenticated
from ledger.extensions import db
from ledger.models.base import utcnow
from ledger.models.user import User
from ledger.services.passwords import password_matches, spend_equal_time
from ledger.services.tokens import IssuedToken, issue_token

WRONG_CREDENTIALS = "The username or password is wrong."


@dataclass(frozen=True)
class LoginResult:
    user: User
    token: IssuedToken


def login(username: str, password: str) -> LoginResult:
    settings = current_settings()
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()).with_for_update())
    if user is None:
        spend_equal_time(password)
        raise Unauthenticated(WRONG_CREDENTIALS)
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        wait = math.ceil((user.locked_until - now).total_seconds())
        raise TooManyRequests(
            f"Too many wrong passwords; try again in {wait} seconds.", retry_after_seconds=wait
        )
    if not password_matches(user.password_hash, password) or not user.is_active:
        user.failed_login_count += 1
        excess = user.failed_login_count - settings.login_max_failures
        if excess >= 0:
            seconds = min(30 * 2 ** min(excess, 20), settings.login_lockout_max_seconds)
            user.locked_until = now + timedelta(seconds=seconds)
        db.session.flush()
        # The failure count must survive the rollback that an error response normally causes.
        persist_even_if_request_fails()
        raise Unauthenticated(WRONG_CREDENTIALS)
    user.failed_login_count = 0
    user.locked_until = None
    token = issue_token(user)
    return LoginResult(user=user, token=token)
