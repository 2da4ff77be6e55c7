"""Idempotency keys: a retried create returns what the first attempt created.

A client sends an ``Idempotency-Key`` header with every request that moves money (a
disbursement, a refund, a manual adjustment) or creates something (an expense report, a
community, an organisation, a user, a fund, a budget revision). The key is stored with what the request created,
together with a fingerprint of the request. A retry with the same key and the same request gets
the first result; the same key with a different request is a conflict, because the client has
reused a key by mistake and must not be told the new request happened. Keys are per person, so
two officers cannot collide.

The fingerprint is SHA-256 over the RFC 8785 canonical bytes of the request's meaningful fields,
so the same request always hashes the same whatever the JSON key order or spacing.

Reports, disbursements and journal entries keep their key on their own row. Communities,
organisations, users, funds and budget revisions keep it in ``idempotent_create``
(:func:`reserve_key`).
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached

from ledger.audit.canonical import canonical_bytes
from ledger.errors import Conflict, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import UUIDPrimaryKey, utcnow
from ledger.models.idempotency import IdempotentCreate
from ledger.money import Money
from ledger.replay.capture import note_rows

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200

_created = cast(Table, IdempotentCreate.__table__)
_CLAIM = {
    dialect: insert_of(_created)
    .on_conflict_do_nothing(index_elements=["created_by", "idempotency_key"])
    .returning(_created.c.created_by)
    for dialect, insert_of in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


@dataclass(frozen=True)
class IdempotencyClaim:
    """A request's key and the fingerprint of what it asks for."""

    key: str
    fingerprint: str


def claim_key(key: str | None, request: Mapping[str, object], what: str) -> IdempotencyClaim:
    """Check the header's key and fingerprint ``request``; ``what`` names the write, for the error."""
    if key is None:
        raise ValidationFailed.field(
            HEADER, translatable("send an %(header)s header with each new %(what)s", header=HEADER, what=what)
        )
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed.field(
            HEADER, translatable("send a key of 1 to %(limit)s characters", limit=MAX_KEY_LENGTH)
        )
    return IdempotencyClaim(key, hashlib.sha256(canonical_bytes(request)).hexdigest())


def require_same_request(stored_fingerprint: str | None, claim: IdempotencyClaim, what: str) -> None:
    """A key already used: refuse it for a request that differs from the first one."""
    if stored_fingerprint != claim.fingerprint:
        raise Conflict(
            translatable(
                "This %(header)s was used for a different request; use a new key for a new %(what)s.",
                header=HEADER,
                what=what,
            ),
            errors={HEADER: [translatable("was used for a different request")]},
        )


Thing = TypeVar("Thing", bound=UUIDPrimaryKey)


@dataclass(frozen=True)
class Created(Generic[Thing]):
    """What a create made (``created``), or what the first request with the same key made."""

    thing: Thing
    created: bool


def plain(value: object) -> object:
    """``value`` as canonical JSON takes it: enums by value; ids, dates, amounts as text."""
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, uuid.UUID | date | Decimal | Money):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def claim_create(key: str | None, subject_type: str, request: Mapping[str, object]) -> IdempotencyClaim:
    """Check the key of a request creating a ``subject_type``; what it creates is fingerprinted too.

    The subject type is part of the fingerprint, so a key reused to create another kind of thing
    is refused like any other different request.
    """
    fields = {"creates": subject_type, **{name: plain(v) for name, v in request.items()}}
    return claim_key(key, fields, _described(subject_type))


def earlier_create(actor_id: str, claim: IdempotencyClaim, model: type[Thing]) -> Thing | None:
    """What ``actor_id`` created with ``claim``'s key, if the key was used; refused if for another request."""
    row = db.session.get(IdempotentCreate, (actor_id, claim.key))
    if row is None:
        return None
    what = _described(row.subject_type)
    require_same_request(row.request_hash, claim, what)
    thing = db.session.get(model, row.subject_id)
    if thing is None:
        raise Conflict(
            translatable(
                "This %(header)s created a %(what)s that has since been removed; use a new key for a new %(what)s.",
                header=HEADER,
                what=what,
            ),
            errors={HEADER: [translatable("created something since removed")]},
        )
    return thing


@dataclass(frozen=True)
class Reservation(Generic[Thing]):
    """A key claimed for a new thing with this ``id``, or the ``earlier`` thing the key created."""

    id: uuid.UUID
    earlier: Thing | None


def reserve_key(
    actor_id: str, claim: IdempotencyClaim, subject_type: str, model: type[Thing]
) -> Reservation[Thing]:
    """Claim ``claim``'s key for a new ``subject_type`` before anything is checked or written.

    The key's row goes in first, naming the id the new thing will have, so that of two requests
    with one key the second waits at the primary key until the first one ends: if it committed,
    the second gets its thing; if it failed (and rolled back), the second goes on. Checking
    first would let both pass the checks, and the second would then trip over the first's
    unique code or name instead of getting the first's thing. A request refused after this
    rolls back, key included.
    """
    row = IdempotentCreate(
        created_by=actor_id,
        idempotency_key=claim.key,
        request_hash=claim.fingerprint,
        subject_type=subject_type,
        subject_id=uuid.uuid4(),
        created_at=utcnow(),
    )
    # One statement claims the key or finds it taken (and waits, on PostgreSQL, for a request
    # that took it and has not ended); the earlier thing is looked up only then.
    connection = db.session.connection()
    values = {column.key: getattr(row, column.key) for column in _created.columns}
    if connection.execute(_CLAIM[connection.dialect.name], values).first() is None:
        earlier = earlier_create(actor_id, claim, model)
        if earlier is None:  # a key's row is never removed; its thing was (refused above)
            raise RuntimeError("an idempotency key conflicted but names nothing")
        return Reservation(earlier.id, earlier)
    make_transient_to_detached(row)
    db.session.add(row)  # as written: no flush writes it again
    note_rows(db.session, row)  # carried by the create's audit entry, as the ORM's insert would be
    return Reservation(row.subject_id, None)


def _described(subject_type: str) -> str:
    return subject_type.replace("_", " ")


def header_parameter() -> dict[str, Any]:
    """The OpenAPI description of the required header."""
    return {
        "name": HEADER,
        "in": "header",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        "description": "the same key with the same body returns the first result; with another body, 409",
    }
