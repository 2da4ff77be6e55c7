"""Bearer tokens: random secrets shown once, kept only as SHA-256 digests, with expiry.

A token has 256 bits of randomness, so a fast hash is enough to keep a database reader from
using it (no dictionary to try); the prefix ``cfl_`` lets secret scanners recognise leaked ones.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ledger.audit.canonical import format_timestamp
from ledger.config import current_settings
from ledger.extensions import db
from ledger.models.base import utcnow
from ledger.models.user import ApiToken, User
from ledger.services.access import Actor
from ledger.services.audit_subjects import record_event

TOKEN_PREFIX = "cfl_"  # noqa: S105 (a public prefix, not a secret)


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token; ``secret`` is never stored and cannot be shown again."""

    token_id: str
    secret: str
    expires_at: datetime


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(
    actor: Actor, user: User, *, purpose: str = "login", ttl: timedelta | None = None
) -> IssuedToken:
    """Issue a token for ``user``; the trail records that it was issued, never its secret."""
    settings = current_settings()
    lifetime = ttl if ttl is not None else timedelta(hours=settings.token_ttl_hours)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, token_hash=digest(secret), expires_at=utcnow() + lifetime, purpose=purpose)
    db.session.add(token)
    db.session.flush()
    record_event(
        actor,
        "token.issued",
        "token",
        token.id,
        {"user_id": str(user.id), "purpose": purpose, "expires_at": format_timestamp(token.expires_at)},
    )
    return IssuedToken(token_id=str(token.id), secret=secret, expires_at=token.expires_at)


def user_for_token(secret: str) -> tuple[User, ApiToken] | None:
    """The active user a valid, unexpired, unrevoked token belongs to, else None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        return None
    # Token, user and memberships in one round trip: every authenticated request starts here.
    token = (
        db.session.execute(
            select(ApiToken)
            .where(ApiToken.token_hash == digest(secret))
            .options(joinedload(ApiToken.user).joinedload(User.memberships))
        )
        .unique()
        .scalar_one_or_none()
    )
    if token is None or token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    if not token.user.is_active:
        return None
    return token.user, token


def revoke_token(actor: Actor, token: ApiToken) -> None:
    token.revoked_at = utcnow()
    db.session.flush()
    record_event(actor, "token.revoked", "token", token.id, {"user_id": str(token.user_id)})


def revoke_all_tokens(user: User) -> int:
    """Revoke every live token of ``user`` (on password change or when disabled)."""
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
