"""Optimistic concurrency: an edit names the version it was based on, or it is refused."""

from __future__ import annotations

from ledger.errors import PreconditionFailed
from ledger.messages import translatable
from ledger.models.base import Versioned


def check_version(entity: Versioned, expected_version: int | None) -> None:
    """``expected_version`` None means the client sent ``If-Match: *`` (any version)."""
    if expected_version is not None and entity.version != expected_version:
        raise PreconditionFailed(
            translatable(
                "You edited version %(expected)s, but it is now at version %(current)s; "
                "fetch it again and reapply your change.",
                expected=expected_version,
                current=entity.version,
            )
        )
