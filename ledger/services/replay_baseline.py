"""Taking the tables as they are as the replay's starting point: once, in the open, with a reason.

Entries recorded by a version older than row-carrying entries hold no rows, so an instance whose
trail began then fails the replay on every older row. ``ledger audit baseline`` first verifies
the log itself, then records ``replay.baseline`` entries carrying every row on which the tables
and the trail disagree, as the tables hold it now (or as deleted). From then on every change is
replayed exactly. The baseline vouches for whatever the tables held at that moment, so it is
recorded for every auditor to see, with who ran it and why; run it once, right after upgrading,
and keep an export of the trail from before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.audit import store
from ledger.config import current_settings
from ledger.errors import Conflict
from ledger.extensions import db
from ledger.messages import translatable
from ledger.replay.compare import TrailTables, changed_rows
from ledger.services.access import Actor
from ledger.services.audit_subjects import record_event
from ledger.services.audit_verification import verify_log_only

ROWS_PER_ENTRY = 500


@dataclass(frozen=True)
class Baseline:
    rows: int
    entries: int


def _changed_now() -> tuple[list[dict[str, object]], int]:
    """The rows a baseline carries (as the tables hold them), once the log itself verifies."""
    replay = TrailTables()
    report = verify_log_only(replay)
    if not report.ok:
        raise Conflict(
            "The log itself does not verify; a baseline would vouch for it: " + report.failure_line()
        )
    secret = current_settings().secret_key
    changed = changed_rows(db.session.connection(), replay, store.parsed_entries, secret)
    return [{"table": c.table, "key": c.key, "row": c.image} for c in changed], report.entries_checked


def rows_to_baseline() -> int:
    """How many rows a baseline would carry now (nothing is recorded)."""
    return len(_changed_now()[0])


def record_baseline(actor: Actor, reason: str) -> Baseline:
    """Record the rows on which the tables and the trail disagree, as the tables hold them now."""
    if not reason.strip():
        raise Conflict(translatable("Say why the tables are taken as they are (the reason is recorded)."))
    rows, size = _changed_now()
    batches = [rows[i : i + ROWS_PER_ENTRY] for i in range(0, len(rows), ROWS_PER_ENTRY)]
    for number, batch in enumerate(batches, start=1):
        record_event(
            actor,
            "replay.baseline",
            "replay",
            f"baseline-{size}-{number}",
            {"reason": reason.strip(), "part": number, "parts": len(batches), "rows": batch},
        )
    return Baseline(len(rows), len(batches))
