"""Bearer tokens: random secrets shown once, kept only as keyed digests, with expiry.

A token has 256 bits of randomness, so a fast hash is enough to keep a database reader from
using it (no dictionary to try); the prefix ``cfl_`` lets secret scanners recognise leaked ones.

The digest is an HMAC under the instance's secret key, which is not in the database, so whoever
can write the database still cannot make a token of their own choosing work. And a token is
honoured only while its row equals the row its latest audit entry recorded (issue or
revocation): a row planted, revived or handed to another user without the trail is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import joinedload

from ledger.audit.canonical import format_timestamp
from ledger.config import current_settings
from ledger.extensions import db
from ledger.models.audit import AuditEntry, AuditQueueItem
from ledger.models.base import utcnow
from ledger.models.user import ApiToken, User
from ledger.replay.compare import row_in
from ledger.replay.tables import row_image
from ledger.services.access import Actor
from ledger.services.audit_subjects import record_event

log = logging.getLogger(__name__)

TOKEN_PREFIX = "cfl_"  # noqa: S105 (a public prefix, not a secret)


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token; ``secret`` is never stored and cannot be shown again."""

    token_id: str
    secret: str
    expires_at: datetime


def digest(secret: str) -> str:
    """The token's keyed digest, as stored: HMAC-SHA-256 under the instance's secret key."""
    key = hashlib.sha256(("ledger api token\x00" + current_settings().secret_key).encode("utf-8")).digest()
    return hmac.new(key, secret.encode("utf-8"), hashlib.sha256).hexdigest()


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
    if not _matches_its_trail_entry(token):
        log.warning("token %s refused: its row differs from what the audit trail recorded", token.id)
        return None
    return token.user, token


_TOKEN_TABLE = cast(Table, ApiToken.__table__)


def _matches_its_trail_entry(token: ApiToken) -> bool:
    """The token's row equals the row its latest ``token.*`` audit entry carries.

    Checked on every request, not cached: a revoked token revived in the table must stop
    working in every process at once, and one indexed read is cheap beside the request.
    """
    values = {c.name: getattr(token, c.key) for c in _TOKEN_TABLE.columns}
    image = row_image(_TOKEN_TABLE, values, current_settings().secret_key)
    return _latest_recorded_row(str(token.id)) == image


def _latest_recorded_row(token_id: str) -> Mapping[str, Any] | None:
    queued = db.session.scalar(
        select(AuditQueueItem.data)
        .where(AuditQueueItem.subject_type == "token", AuditQueueItem.subject_id == token_id)
        .order_by(AuditQueueItem.id.desc())
        .limit(1)
    )
    if queued is not None:
        entry = {"data": json.loads(bytes(queued))}  # a queued entry is its data alone
    else:
        canonical = db.session.scalar(
            select(AuditEntry.canonical)
            .where(AuditEntry.subject_type == "token", AuditEntry.subject_id == token_id)
            .order_by(AuditEntry.seq.desc())
            .limit(1)
        )
        if canonical is None:
            return None
        entry = json.loads(bytes(canonical))
    return row_in(entry, "api_token", [token_id])


def revoke_token(actor: Actor, token: ApiToken) -> None:
    token.revoked_at = utcnow()
    db.session.flush()
    record_event(actor, "token.revoked", "token", token.id, {"user_id": str(token.user_id)})


def revoke_all_tokens(actor: Actor, user: User) -> int:
    """Revoke every live token of ``user`` (on password change or when disabled)."""
    live = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in live:
        revoke_token(actor, token)
    return len(live)
