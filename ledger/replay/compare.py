"""Rebuilding every replayed table from the trail and comparing it with the database, field by field.

The replay streams the trail once and keeps, for each row, only the ``seq`` of the entry that
last wrote it and a digest of its image, so memory grows with the number of rows, not entries.
The tables are then read in key order and each row's image compared with its digest. Only for
the rows that differ is the entry read again, to name the field, both values and the ``seq``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

try:
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

from ledger.replay.tables import FINGERPRINTED, Image, replayed_tables, row_image, row_key, table_named

EntryAt = Callable[[int], Mapping[str, Any] | None]
"""Reads the entry with a given ``seq`` again (to show what it says about a row that differs)."""


def _digest(image: Any) -> bytes:
    """16 bytes standing for a row image (any key order): what the replay keeps per row."""
    if orjson is not None:
        text = orjson.dumps(image, option=orjson.OPT_SORT_KEYS)
    else:  # pragma: no cover - the service always has orjson
        text = json.dumps(image, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.blake2b(text, digest_size=16).digest()


def _row_id(table: str, key: Iterable[Any]) -> bytes:
    text = "\x1f".join([table, *(str(k) for k in key)])
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def rows_of(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The row images an entry carries (none in entries recorded before rows were carried)."""
    data = entry.get("data")
    rows = data.get("rows") if isinstance(data, Mapping) else None
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


@dataclass(frozen=True)
class RowDifference:
    """The first field in which a row differs from what the trail says, or a row only one side has."""

    table: str
    key: str
    field: str | None
    trail_value: Any
    table_value: Any
    seq: int | None

    def line(self) -> str:
        where = f"{self.table} {self.key}"
        if self.field is None and self.table_value is None:
            return f"{where}: the trail (seq {self.seq}) wrote this row, the table does not hold it"
        if self.field is None:
            return f"{where}: the table holds this row, no entry of the trail wrote it"
        return (
            f"{where} field {self.field}: the trail (seq {self.seq}) says "
            f"{json.dumps(self.trail_value, ensure_ascii=False)}, the table holds "
            f"{json.dumps(self.table_value, ensure_ascii=False)}"
        )


@dataclass
class TrailTables:
    """The replayed tables as the trail leaves them: row -> (seq that last wrote it, image digest)."""

    rows: dict[bytes, tuple[int, bytes]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # receipt -> SHA-256 of its stored file, as recorded when the file was written
    receipt_files: dict[str, str] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget every entry added (verification in ranges gave up and starts over in one process)."""
        self.rows.clear()
        self.problems.clear()
        self.receipt_files.clear()

    def add(self, entry: Mapping[str, Any]) -> None:
        seq = int(entry.get("seq") or 0)
        for row in rows_of(entry):
            name, key, image = row.get("table"), row.get("key"), row.get("row")
            table = table_named(str(name))
            if (
                table is None
                or not isinstance(key, list)
                or not (image is None or isinstance(image, Mapping))
            ):
                self.problems.append(f"seq {seq}: a row of unknown table {name!r} or without a key")
                continue
            if image is not None:
                if list(row_key(table, image)) != [str(k) for k in key]:
                    self.problems.append(f"seq {seq}: a {name} row's key does not match its image")
                    continue
                self.rows[_row_id(table.name, key)] = (seq, _digest(image))
            else:
                self.rows.pop(_row_id(table.name, key), None)
        self._note_receipt_file(entry)

    def _note_receipt_file(self, entry: Mapping[str, Any]) -> None:
        if _records_a_receipt_file(entry):
            self.receipt_files[str(entry["subject"].get("id"))] = str(entry["data"]["stored_sha256"])


def _records_a_receipt_file(entry: Mapping[str, Any]) -> bool:
    subject, data = entry.get("subject"), entry.get("data")
    return (
        entry.get("action") in ("receipt.uploaded", "receipt.restored")
        and isinstance(data, Mapping)
        and isinstance(subject, Mapping)
        and isinstance(data.get("stored_sha256"), str)
    )


def changes_replay(entry: Mapping[str, Any]) -> bool:
    """Whether :meth:`TrailTables.add` does anything with ``entry`` (it carries rows or records a
    receipt file): a verifier working in ranges sends only these back to be replayed."""
    return bool(rows_of(entry)) or _records_a_receipt_file(entry)


def row_in(entry: Mapping[str, Any], table: str, key: list[str]) -> Mapping[str, Any] | None:
    """The image of one row an entry carries; None when it carries none (or the row's deletion)."""
    for row in rows_of(entry):
        if row.get("table") == table and [str(k) for k in row.get("key") or []] == key:
            image = row.get("row")
            return image if isinstance(image, Mapping) else None
    return None


def _trail_image(entry_at: EntryAt, seq: int, table: str, key: list[str]) -> Mapping[str, Any] | None:
    return row_in(entry_at(seq) or {}, table, key)


def _first_field(
    table: str, key: list[str], image: Mapping[str, Any], trail: Mapping[str, Any] | None, seq: int
) -> RowDifference:
    trail = trail or {}
    # Plain columns first: a fingerprint also changes when the columns it is bound to do.
    hidden = {f.field for f in FINGERPRINTED.values()}
    for name in sorted(image.keys() | trail.keys(), key=lambda n: (n in hidden, n)):
        if image.get(name) != trail.get(name):
            return RowDifference(table, "/".join(key), name, trail.get(name), image.get(name), seq)
    return RowDifference(table, "/".join(key), "(digest)", None, None, seq)


@dataclass(frozen=True)
class ChangedRow:
    """A row on which the tables and the trail disagree."""

    table: str
    key: list[str]
    image: Image | None
    """The table's row; None when only the trail holds it."""
    seq: int | None
    """The entry that last wrote the row in the trail; None when no entry did."""
    trail_image: Mapping[str, Any] | None = None
    """The trail's row, when it was read on the way (rows the tables lack)."""


def changed_rows(
    connection: Connection,
    replay: TrailTables,
    entries: Callable[[], Iterable[Mapping[str, Any]]],
    secret_key: str,
) -> Iterator[ChangedRow]:
    """Every row on which the tables and the trail disagree, streaming; consumes ``replay``.

    ``entries`` is read again only when rows the trail wrote are missing from the tables.
    """
    for table in replayed_tables():
        statement = select(table).order_by(*table.primary_key.columns)
        for values in connection.execute(statement.execution_options(yield_per=2000)).mappings():
            image = row_image(table, dict(values), secret_key)
            key = list(row_key(table, image))
            written = replay.rows.pop(_row_id(table.name, key), None)
            if written is None or written[1] != _digest(image):
                yield ChangedRow(table.name, key, image, written[0] if written else None)
    if not replay.rows:
        return
    for entry in entries():
        for row in rows_of(entry):
            key = [str(k) for k in row.get("key") or []]
            row_id = _row_id(str(row.get("table")), key)
            written = replay.rows.get(row_id)
            if written is not None and written[0] == entry.get("seq"):
                del replay.rows[row_id]
                trail = row.get("row")
                yield ChangedRow(
                    str(row.get("table")),
                    key,
                    None,
                    written[0],
                    trail if isinstance(trail, Mapping) else None,
                )


def table_differences(
    connection: Connection,
    replay: TrailTables,
    entry_at: EntryAt,
    entries: Callable[[], Iterable[Mapping[str, Any]]],
    secret_key: str,
    *,
    limit: int = 10,
) -> tuple[list[RowDifference], int]:
    """The first ``limit`` rows that differ from the trail, and how many differ in all (consumes ``replay``)."""
    found: list[RowDifference] = []
    count = 0
    for changed in changed_rows(connection, replay, entries, secret_key):
        count += 1
        if len(found) >= limit:
            continue
        key = "/".join(changed.key)
        if changed.image is None:
            found.append(RowDifference(changed.table, key, None, changed.trail_image, None, changed.seq))
        elif changed.seq is None:
            found.append(RowDifference(changed.table, key, None, None, changed.image, None))
        else:
            trail = _trail_image(entry_at, changed.seq, changed.table, changed.key)
            found.append(_first_field(changed.table, changed.key, changed.image, trail, changed.seq))
    return found, count
