"""Which tables the audit trail rebuilds, how a row is written into an entry, and what is left out.

Every row of a replayed table that a request writes travels in that request's audit entry as a
*row image*: the row's columns as JSON (ids and dates as strings, money in integer minor units,
timestamps in the trail's fixed format). Replaying the images in ``seq`` order rebuilds each
table exactly, so ``ledger audit verify`` can compare it with the database row by row and field
by field. The few fields that must not be copied into a public trail are replaced by a keyed
fingerprint (``FINGERPRINTED``); the tables that are not replayed at all are listed in
``NOT_REPLAYED`` with the reason. A test fails when a model gains a table or column that is in
neither list, so nothing new slips past the replay unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Date, Table, Uuid

from ledger.audit.canonical import format_timestamp, parse_timestamp
from ledger.models import Base
from ledger.models.base import UTCDateTime

Image = dict[str, Any]

# Tables the trail does not rebuild, and why. Everything else in the schema is replayed.
NOT_REPLAYED: dict[str, str] = {
    "audit_entry": "the trail itself: its chain, Merkle tree and signed checkpoints are what verify checks",
    "audit_queue": "entries waiting for their place in the log; each becomes an audit_entry row",
    "audit_head": "the log's head (size, last leaf hash, frontier): verify recomputes it from the entries",
    "audit_checkpoint": "signed checkpoints: each is checked by its signature and the root it names",
    "merkle_node": "the tree's stored nodes: verify recomputes the root from the entries and compares",
    "login_throttle": "counts wrong passwords in a row; grants nothing and is written by failed "
    "sign-ins, which on purpose leave no audit entry",
    "witness_cosignature": "witnesses' cosignatures of checkpoints: each is checked by its own signature",
    "notification": "derived from the audit trail by the notifier; rebuilt by running it again (read "
    "marks are kept with them: they grant nothing)",
    "notifier_cursor": "how far the notifier has read the trail; derived, rebuilt by running it again",
    "delivery": "mail and webhook calls derived from the trail; delivery is operational and grants nothing",
    "delivery_attempt": "each try of a delivery; operational, grants nothing",
    "outbox_mail": "development mail kept instead of sent; operational, grants nothing",
}


@dataclass(frozen=True)
class Fingerprinted:
    """A secret column replaced in the trail by an HMAC under the instance's secret key.

    The fingerprint binds the secret to its row (``bound_to`` columns), so a value copied from
    another row, or planted without the key, gives a different fingerprint.
    """

    column: str
    field: str
    bound_to: tuple[str, ...]
    reason: str


FINGERPRINTED: dict[str, Fingerprinted] = {
    "app_user": Fingerprinted(
        "password_hash",
        "password_fingerprint",
        ("id",),
        "a password hash in a public trail would let anyone guess passwords offline",
    ),
    "api_token": Fingerprinted(
        "token_hash",
        "token_fingerprint",
        ("id", "user_id"),
        "the token's keyed digest; the trail holds a fingerprint bound to the token row and its user",
    ),
    "webhook_endpoint": Fingerprinted(
        "secret",
        "secret_fingerprint",
        ("id",),
        "the secret webhook deliveries are signed with; in a public trail anyone could forge them",
    ),
}

# What a row rebuilt without the instance's secret holds in a fingerprinted column: "!" and the
# fingerprint, unique per row (token digests are unique) and matching no password or token.
UNUSABLE_PREFIX = "!"


def replayed_tables() -> list[Table]:
    """Every replayed table, parents before children (the order rows can be inserted in)."""
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_REPLAYED]


def table_named(name: str) -> Table | None:
    table = Base.metadata.tables.get(name)
    return table if table is not None and name not in NOT_REPLAYED else None


def fingerprint(secret_key: str, table: str, bound: Mapping[str, Any], secret_value: str) -> str:
    """HMAC-SHA-256 of the secret value and the row it belongs to, under the instance's key."""
    message = "\x00".join([table, *(str(bound[c]) for c in sorted(bound)), secret_value])
    key = hashlib.sha256(("ledger row fingerprint\x00" + secret_key).encode("utf-8")).digest()
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _json_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime) or isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bool | int | str | list | dict):
        return value
    raise TypeError(f"{column.table.name}.{column.name}: {type(value).__name__} has no trail form")


def row_image(table: Table, values: Mapping[str, Any], secret_key: str) -> Image:
    """The row as the trail records it: every column as JSON, secrets as fingerprints."""
    image = {c.name: _json_value(c, values.get(c.name)) for c in table.columns}
    hidden = FINGERPRINTED.get(table.name)
    if hidden is not None:
        secret_value = image.pop(hidden.column)
        bound = {c: image[c] for c in hidden.bound_to}
        image[hidden.field] = (
            fingerprint(secret_key, table.name, bound, secret_value) if secret_value is not None else None
        )
    return image


def row_key(table: Table, image: Mapping[str, Any]) -> tuple[str, ...]:
    """The row's primary key as strings, in the key columns' order."""
    return tuple(str(image.get(c.name)) for c in table.primary_key.columns)


def _python_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    column_type = column.type
    if isinstance(column_type, UTCDateTime):
        return parse_timestamp(value)
    if isinstance(column_type, Uuid):
        return uuid.UUID(value)
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    if isinstance(column_type, JSON):
        return value
    return value


def row_values(table: Table, image: Mapping[str, Any]) -> dict[str, Any]:
    """The column values to insert for a row image (the inverse of ``row_image``).

    A fingerprinted column gets ``UNUSABLE_PREFIX`` and the fingerprint: a table rebuilt from the
    trail alone holds no password or token that works.
    """
    hidden = FINGERPRINTED.get(table.name)
    values = {}
    for column in table.columns:
        if hidden is not None and column.name == hidden.column:
            values[column.name] = UNUSABLE_PREFIX + str(image.get(hidden.field))
        else:
            values[column.name] = _python_value(column, image.get(column.name))
    return values
