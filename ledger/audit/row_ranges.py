"""The audit log's rows read by ranges of seq, each worker process with its own connection.

Used by ``ledger audit verify`` to verify the database's log in parallel
(:mod:`ledger.audit.parallel_verifier`). Plain SQLAlchemy Core on the database URL: a worker
process has no application, and the parent's pooled connections must not cross a process.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from ledger.audit.log_verifier import StoredRange

_ENTRIES_IN_RANGE = text(
    "SELECT seq, canonical, leaf_hash FROM audit_entry WHERE seq >= :first AND seq <= :last ORDER BY seq"
)
_engines: dict[str, Engine] = {}


@dataclass(frozen=True)
class StoredRows:
    """The ``audit_entry`` rows of the database at ``url`` (with its password: it crosses to a
    worker process of this machine, never to a log)."""

    url: str

    def stored(self, first: int, last: int) -> StoredRange:
        engine = _engines.get(self.url)
        if engine is None:
            engine = _engines[self.url] = create_engine(self.url, poolclass=NullPool)
        # Only reading (``ledger.database.READ_ONLY``; this module stays free of the app): on SQLite,
        # not the write lock the service's transactions begin with.
        with engine.connect().execution_options(read_only=True) as connection:
            rows = connection.execute(_ENTRIES_IN_RANGE, {"first": first, "last": last}).all()
        return StoredRange(
            [int(seq) for seq, _, _ in rows],
            [bytes(canonical) for _, canonical, _ in rows],
            [bytes(stored) for _, _, stored in rows],
        )

    def __repr__(self) -> str:
        return "StoredRows(<database url>)"
