"""The witness's own database: the logs it follows and the latest checkpoint it cosigned for each.

A small SQLite file, read and written with the standard library's ``sqlite3`` (the witness shares
nothing with the ledger's database or models)::

    witness_log_key     origin, vkey          the log keys trusted for each origin (0x01 note keys
                                              named after the origin; several after a rotation)
    witness_checkpoint  origin, size, root,   the latest checkpoint cosigned for the origin, as
                        note, cosigned_at     served to auditors (log signature + cosignature)
    witness_refusal     origin, sizes,        requests with a valid log signature that were refused
                        status, reason,       (inconsistent proof, different root at the same size):
                        request               possible evidence of a misbehaving log, kept as sent

Checking the old size against the stored one and storing the new checkpoint happen in one
``BEGIN IMMEDIATE`` transaction, so two concurrent requests can never roll the record back
(the race the specification warns about).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ledger.audit.note import NoteVerifier

SCHEMA = """
CREATE TABLE IF NOT EXISTS witness_log_key (
    origin TEXT NOT NULL,
    vkey TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (origin, vkey)
);
CREATE TABLE IF NOT EXISTS witness_checkpoint (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_refusal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    received_at TEXT NOT NULL,
    old_size INTEGER NOT NULL,
    size INTEGER NOT NULL,
    status INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request TEXT NOT NULL
);
"""


class WitnessStateError(Exception):
    """The witness database is missing or not a witness database."""


@dataclass(frozen=True)
class CosignedCheckpoint:
    """The latest checkpoint the witness cosigned for one log."""

    origin: str
    size: int
    root: bytes
    note: str
    """The checkpoint with the log's signature(s) and this witness's cosignature."""
    cosigned_at: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class WitnessState:
    """The witness database at ``path`` (one connection per operation; safe across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, path: Path) -> WitnessState:
        """Create the database (or add missing tables to an existing one)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        state = cls(path)
        with state._connect() as connection:
            connection.executescript(SCHEMA)
        return state

    @classmethod
    def open(cls, path: Path) -> WitnessState:
        """An existing witness database; raises :class:`WitnessStateError`."""
        if not path.is_file():
            raise WitnessStateError(f"{path} does not exist: create it with `ledger witness init`")
        state = cls(path)
        try:
            with state._connect() as connection:
                tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as error:
            raise WitnessStateError(f"{path} is not a witness database: {error}") from None
        if not {"witness_log_key", "witness_checkpoint", "witness_refusal"} <= tables:
            raise WitnessStateError(f"{path} is not a witness database (run `ledger witness init`)")
        return state

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            yield connection
        finally:
            connection.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the database's write lock from its start."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    # --- logs ------------------------------------------------------------------------

    def add_log_key(self, vkey: str) -> NoteVerifier:
        """Trust ``vkey`` (a log's Ed25519 note key) for the origin it is named after."""
        verifier = NoteVerifier.from_vkey(vkey)
        with self.transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO witness_log_key (origin, vkey, added_at) VALUES (?, ?, ?)",
                (verifier.name, verifier.vkey, _now()),
            )
        return verifier

    def log_verifiers(self, origin: str) -> list[NoteVerifier]:
        """The keys trusted for ``origin`` (empty: the witness does not follow that log)."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT vkey FROM witness_log_key WHERE origin = ? ORDER BY added_at, vkey", (origin,)
            ).fetchall()
        return [NoteVerifier.from_vkey(row[0]) for row in rows]

    def origins(self) -> list[str]:
        with self._connect() as connection:
            rows = connection.execute("SELECT DISTINCT origin FROM witness_log_key ORDER BY origin")
            return [row[0] for row in rows]

    # --- cosigned checkpoints ---------------------------------------------------------

    def latest(self, origin: str) -> CosignedCheckpoint | None:
        with self._connect() as connection:
            return self.latest_in(connection, origin)

    @staticmethod
    def latest_in(connection: sqlite3.Connection, origin: str) -> CosignedCheckpoint | None:
        row = connection.execute(
            "SELECT origin, size, root, note, cosigned_at FROM witness_checkpoint WHERE origin = ?",
            (origin,),
        ).fetchone()
        if row is None:
            return None
        return CosignedCheckpoint(row[0], int(row[1]), bytes(row[2]), row[3], int(row[4]))

    @staticmethod
    def store_in(connection: sqlite3.Connection, checkpoint: CosignedCheckpoint) -> None:
        connection.execute(
            "INSERT INTO witness_checkpoint (origin, size, root, note, cosigned_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
            "note = excluded.note, cosigned_at = excluded.cosigned_at",
            (checkpoint.origin, checkpoint.size, checkpoint.root, checkpoint.note, checkpoint.cosigned_at),
        )

    @staticmethod
    def record_refusal_in(
        connection: sqlite3.Connection,
        origin: str,
        old_size: int,
        size: int,
        status: int,
        reason: str,
        request: str,
    ) -> None:
        """Keep a refused request whose log signature verified (possible proof of a forked log)."""
        connection.execute(
            "INSERT INTO witness_refusal (origin, received_at, old_size, size, status, reason, request) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (origin, _now(), old_size, size, status, reason, request),
        )

    def refusals(self, origin: str) -> list[tuple[int, int, int, str]]:
        """``(old size, size, status, reason)`` of the refused requests for ``origin``, oldest first."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT old_size, size, status, reason FROM witness_refusal WHERE origin = ? ORDER BY id",
                (origin,),
            ).fetchall()
        return [(int(a), int(b), int(c), str(d)) for a, b, c, d in rows]
