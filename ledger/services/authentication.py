"""Signing in: checking a password, throttling guessers, and issuing a bearer token.

After ``login_max_failures`` wrong passwords in a row an account is locked for a while that
doubles with each further failure, up to ``login_lockout_max_seconds``. Attempts during the lock
are refused without checking the password and do not extend it, so a stranger hammering a
username can delay its owner by at most the maximum lock, never lock them out for good.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ledger.database import persist_even_if_request_fails
from ledger.errors import TooManyRequests, Unauthenticated
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import utcnow
from ledger.models.user import User
from ledger.services.access import Actor
from ledger.services.login_throttle import clear_login_failures, note_login_failure, seconds_locked
from ledger.services.passwords import password_matches, spend_equal_time
from ledger.services.tokens import IssuedToken, issue_token

WRONG_CREDENTIALS = "The username or password is wrong."


@dataclass(frozen=True)
class LoginResult:
    user: User
    token: IssuedToken


def login(username: str, password: str) -> LoginResult:
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        spend_equal_time(password)
        raise Unauthenticated(WRONG_CREDENTIALS)
    wait = seconds_locked(user, utcnow())
    if wait:
        raise TooManyRequests(
            translatable("Too many wrong passwords; try again in %(seconds)s seconds.", seconds=wait),
            retry_after_seconds=wait,
        )
    if not password_matches(user.password_hash, password) or not user.is_active:
        note_login_failure(user)
        # The failure count must survive the rollback that an error response normally causes.
        persist_even_if_request_fails()
        raise Unauthenticated(WRONG_CREDENTIALS)
    clear_login_failures(user)
    token = issue_token(Actor.of(user), user, purpose="login")
    return LoginResult(user=user, token=token)
