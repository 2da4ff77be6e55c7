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

from sqlalchemy import ColumnElement, ScalarSelect, String, Table, func, select
from sqlalchemy import cast as cast_to
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
    # Every authenticated request starts here, so it is one round trip: the token, its user with
    # memberships and scopes, and the latest row the trail recorded for it (queued or appended).
    found = (
        db.session.execute(
            select(ApiToken, _latest_queued(), _latest_appended())
            .where(ApiToken.token_hash == digest(secret))
            .options(
                joinedload(ApiToken.user).joinedload(User.memberships),
                joinedload(ApiToken.user).joinedload(User.scopes),
            )
        )
        .unique()
        .one_or_none()
    )
    if found is None:
        return None
    token, queued, appended = found
    if token.revoked_at is not None or token.expires_at <= utcnow():
        return None
    if not token.user.is_active:
        return None
    if not _matches_its_trail_entry(token, queued, appended):
        log.warning("token %s refused: its row differs from what the audit trail recorded", token.id)
        return None
    return token.user, token


_TOKEN_TABLE = cast(Table, ApiToken.__table__)


def _token_subject_id() -> ColumnElement[str]:
    """The token's id as the trail writes it (``str(uuid)``), computed in the query.

    PostgreSQL keeps a native uuid, whose text form is that; SQLite keeps the 32 hex digits,
    which get their hyphens back here.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return cast_to(ApiToken.id, String)
    hexadecimal = cast_to(ApiToken.id, String)
    parts = [func.substr(hexadecimal, start, length) for start, length in _UUID_GROUPS]
    joined: ColumnElement[str] = parts[0]
    for part in parts[1:]:
        joined = joined + "-" + part
    return joined


_UUID_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


def _latest_queued() -> ScalarSelect[bytes]:
    """The data of the token's latest entry still queued for the log (None when none is)."""
    return (
        select(AuditQueueItem.data)
        .where(AuditQueueItem.subject_type == "token", AuditQueueItem.subject_id == _token_subject_id())
        .order_by(AuditQueueItem.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _latest_appended() -> ScalarSelect[bytes]:
    """The canonical bytes of the token's latest entry in the log (None when none is)."""
    return (
        select(AuditEntry.canonical)
        .where(AuditEntry.subject_type == "token", AuditEntry.subject_id == _token_subject_id())
        .order_by(AuditEntry.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


def _matches_its_trail_entry(token: ApiToken, queued: bytes | None, appended: bytes | None) -> bool:
    """The token's row equals the row its latest ``token.*`` audit entry carries.

    Checked on every request, not cached: a revoked token revived in the table must stop
    working in every process at once, and the trail's row comes with the token's own read.
    A queued entry is newer than any appended one.
    """
    values = {c.name: getattr(token, c.key) for c in _TOKEN_TABLE.columns}
    image = row_image(_TOKEN_TABLE, values, current_settings().secret_key)
    return _recorded_row(str(token.id), queued, appended) == image


def _recorded_row(token_id: str, queued: bytes | None, appended: bytes | None) -> Mapping[str, Any] | None:
    if queued is not None:
        entry = {"data": json.loads(bytes(queued))}  # a queued entry is its data alone
    elif appended is not None:
        entry = json.loads(bytes(appended))
    else:
        return None
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
