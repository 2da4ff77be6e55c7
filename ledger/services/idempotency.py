"""Idempotency keys: a retried write that moves money returns what the first attempt did.

A client sends an ``Idempotency-Key`` header with every request that moves money (a
disbursement, a refund, a manual adjustment). The key is stored with what the request created,
together with a fingerprint of the request. A retry with the same key and the same request gets
the first result; the same key with a different request is a conflict, because the client has
reused a key by mistake and must not be told the new request happened. Keys are per person, so
two officers cannot collide.

The fingerprint is SHA-256 over the RFC 8785 canonical bytes of the request's meaningful fields,
so the same request always hashes the same whatever the JSON key order or spacing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.audit.canonical import canonical_bytes
from ledger.errors import Conflict, ValidationFailed
from ledger.messages import translatable

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class IdempotencyClaim:
    """A request's key and the fingerprint of what it asks for."""

    key: str
    fingerprint: str


def claim_key(key: str | None, request: Mapping[str, object], what: str) -> IdempotencyClaim:
    """Check the header's key and fingerprint ``request``; ``what`` names the write, for the error."""
    if key is None:
        raise ValidationFailed.field(HEADER, f"send an {HEADER} header with each new {what}")
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed.field(HEADER, f"send a key of 1 to {MAX_KEY_LENGTH} characters")
    return IdempotencyClaim(key, hashlib.sha256(canonical_bytes(request)).hexdigest())


def require_same_request(stored_fingerprint: str | None, claim: IdempotencyClaim, what: str) -> None:
    """A key already used: refuse it for a request that differs from the first one."""
    if stored_fingerprint != claim.fingerprint:
        raise Conflict(
            f"This {HEADER} was used for a different request; use a new key for a new {what}.",
            errors={HEADER: [translatable("was used for a different request")]},
        )


def header_parameter() -> dict[str, Any]:
    """The OpenAPI description of the required header."""
    return {
        "name": HEADER,
        "in": "header",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        "description": "the same key with the same body returns the first result; with another body, 409",
    }
