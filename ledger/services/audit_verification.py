"""Verifying the audit trail held in the database, and replaying it against the tables.

The stored canonical bytes are re-hashed (stored leaf hashes are compared, never trusted), the
chain and every signed checkpoint are checked exactly as the offline verifier checks a bundle,
the Merkle nodes that proofs are served from must give the same root, the balances taken when
each month was closed must still equal its postings, and the states rebuilt from the trail must
equal what the tables hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ledger.audit import store
from ledger.audit.cosignature import CosignatureVerifier
from ledger.audit.log_verifier import TrustedCheckpoint
from ledger.audit.merkle import root_from_nodes, root_keys
from ledger.audit.note import NoteVerifier
from ledger.audit.parallel_verifier import Parallelism, verify_log_in_ranges
from ledger.audit.report import Trust, VerificationReport
from ledger.audit.row_ranges import StoredRows
from ledger.audit.trail import load_nodes, read_head
from ledger.config import current_settings
from ledger.extensions import db
from ledger.models.audit import AuditEntry, AuditQueueItem
from ledger.replay.compare import RowDifference, TrailTables, changes_replay, table_differences
from ledger.services.periods import period_balance_problems
from ledger.services.receipts import receipt_file_problems
from ledger.services.witnessing import cosigned_checkpoint_notes


@dataclass(frozen=True)
class DatabaseVerification:
    report: VerificationReport
    problems: list[str] = field(default_factory=list)
    differences: list[RowDifference] = field(default_factory=list)
    differing_rows: int = 0
    queued: int = 0

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.problems and not self.differences

    def lines(self) -> list[str]:
        if not self.report.ok:
            return [self.report.failure_line()]
        if self.problems or self.differences:
            lines = [f"FAIL {problem}" for problem in self.problems]
            lines += [f"FAIL replay: {d.line()}" for d in self.differences[:1]]
            lines += [f"  also {d.line()}" for d in self.differences[1:]]
            if self.differing_rows > len(self.differences):
                lines.append(f"  ... {self.differing_rows} rows differ in all")
            return lines
        lines = list(self.report.summary_lines())
        lines.append("replay: every table rebuilt from the trail equals the database, row by row")
        if self.queued:
            lines.append(
                f"note: {self.queued} entries are queued and not yet in the log (`ledger audit sequence`)"
            )
        return lines


def verify_database(
    anchors: list[NoteVerifier] | None = None,
    progress: Callable[[int], None] | None = None,
    trusted: Sequence[TrustedCheckpoint] = (),
    *,
    receipts: bool = True,
    receipt_progress: Callable[[int], None] | None = None,
    witnesses: Sequence[CosignatureVerifier] = (),
    witness_quorum: int = 0,
    workers: int | None = None,
) -> DatabaseVerification:
    """Verify the log, replay it against the tables and (unless ``receipts`` is False) check every
    stored receipt file against the digest the trail recorded when it was written. ``workers``:
    see :func:`verify_log_only`."""
    settings = current_settings()
    replay = TrailTables()
    report = verify_log_only(
        replay,
        anchors,
        progress,
        trusted,
        witnesses=witnesses,
        witness_quorum=witness_quorum,
        workers=workers,
    )
    if not report.ok:
        return DatabaseVerification(report)
    problems = _head_and_node_problems(report) + period_balance_problems() + replay.problems
    if receipts:
        problems += receipt_file_problems(replay.receipt_files, receipt_progress)
    queued = int(db.session.scalar(select(func.count()).select_from(AuditQueueItem)) or 0)
    differences, differing = table_differences(
        db.session.connection(), replay, store.entry_at, store.parsed_entries, settings.secret_key
    )
    return DatabaseVerification(report, problems, differences, differing, queued)


def verify_log_only(
    replay: TrailTables,
    anchors: list[NoteVerifier] | None = None,
    progress: Callable[[int], None] | None = None,
    trusted: Sequence[TrustedCheckpoint] = (),
    *,
    witnesses: Sequence[CosignatureVerifier] = (),
    witness_quorum: int = 0,
    workers: int | None = None,
) -> VerificationReport:
    """Verify the stored log as the offline verifier would, feeding each entry to ``replay``.

    A large log is verified in ranges by ``workers`` processes (default: the cores available),
    each reading its rows over its own connection; only the entries the replay uses come back.
    """
    settings = current_settings()
    trust = Trust.ANCHORED if anchors else Trust.BUNDLE_KEYS
    verifiers = anchors or [NoteVerifier.from_vkey(key.vkey) for key in store.signing_keys()]
    return verify_log_in_ranges(
        *_row_ranges(),
        store.iter_entries,
        # With witness keys, the checkpoints as served: each with its stored cosignature lines.
        cosigned_checkpoint_notes() if witnesses else store.checkpoint_notes(),
        verifiers,
        settings.log_origin,
        parallelism=Parallelism.from_environment(workers),
        trust=trust,
        progress=progress,
        on_entry=replay.add,
        wanted=changes_replay,
        on_restart=replay.clear,
        trusted=trusted,
        witnesses=witnesses,
        witness_quorum=witness_quorum,
    )


def _row_ranges() -> tuple[StoredRows | None, int | None]:
    """The log's rows for worker processes, and how many there are, when they are exactly seq
    1..n of a database other processes can open (not an in-memory SQLite)."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None, None
    count, first, last = db.session.execute(
        select(func.count(), func.min(AuditEntry.seq), func.max(AuditEntry.seq))
    ).one()
    if count and (first != 1 or last != count):
        return None, None  # a gap or a stray seq: the one-process run names it
    return StoredRows(url.render_as_string(hide_password=False)), int(count)


def _head_and_node_problems(report: VerificationReport) -> list[str]:
    """The head row and the stored Merkle nodes (what proofs are served from) must match the entries."""
    try:
        head = read_head()
    except ValueError as error:
        return [f"head: {error}"]
    size = report.entries_checked
    if head.size != size:
        return [f"head: the log's head says {head.size} entries, the table holds {size}"]
    if size == 0:
        return []
    problems = []
    # The entries' stored leaf hashes were just checked against their bytes, so this one is sound.
    last = db.session.scalar(select(AuditEntry.leaf_hash).where(AuditEntry.seq == size))
    if last is None or head.last_leaf_hash != bytes(last):
        problems.append("head: its last leaf hash is not the last entry's")
    frontier_root = root_from_nodes(size, head.frontier).hex()
    if frontier_root != report.log_root_hex:
        problems.append(
            f"head: its frontier gives root {frontier_root}, the entries give {report.log_root_hex}"
        )
    nodes_root = root_from_nodes(size, load_nodes(root_keys(size))).hex()
    if nodes_root != report.log_root_hex:
        problems.append(
            f"merkle nodes: the stored nodes give root {nodes_root}, the entries give {report.log_root_hex}"
        )
    return problems
