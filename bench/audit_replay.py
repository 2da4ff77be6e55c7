"""audit_replay: ``ledger audit verify`` with the row replay, against verifying the log alone.

A realistic database is built through the service code on PostgreSQL: the demo (people, places,
funds, reports, disbursements), then ``BENCH_REPLAY_ENTRIES`` journal entries (default 10,000)
of 2 to 4 postings each, posted by a finance officer with ``post_journal_entry`` over the
demo's organisations. Each entry's audit entry carries the rows it wrote.

Write phase: the first ``BENCH_REPLAY_WRITES`` entries (default 500) are posted one per
transaction, as a request posts them (the commit appends the entry to the log); the rest in
transactions of 50 entries, to build the database in a reasonable time. Both rates are printed.

Verification is measured at N/2 and at N entries, on the same database grown in between:

- baseline: the log alone, ``verify_log`` over ``store.iter_entries()`` with the stored
  checkpoints, exactly as ``verify_database`` calls it but without the replay;
- the figure: ``verify_database(receipts=False)``: the same, plus the replay (per row, the seq
  and digest of its image), the head and stored nodes, the month-close balances, and reading
  every replayed table in key order to compare each row with its digest.

The ratio is the figure's entries/s over the baseline's. Memory: ``tracemalloc``'s peak during
``verify_database`` and during the baseline (separate, untimed calls: tracing slows Python down),
at N/2 and at N. Both include the page of up to 10,000 entries ``iter_entries`` reads at a time;
the difference is what the replay adds, shown per replayed row at each size and between the two
sizes: it should grow with the rows, not worse. The database must verify before anything is
timed.

Runs against the committed code too (no row capture, the older replay), to compare before and
after: figures that need the row replay are then left out.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text

import ledger
from bench.__main__ import Result
from bench._support import fresh_app, load_demo, say
from ledger.audit import store
from ledger.audit.log_verifier import verify_log
from ledger.audit.note import NoteVerifier
from ledger.audit.report import Trust
from ledger.config import current_settings
from ledger.database import unit_of_work
from ledger.demo_funds import actor_named, cny
from ledger.extensions import db
from ledger.models import Organisation
from ledger.models.books import Side
from ledger.services.access import Actor
from ledger.services.audit_verification import verify_database
from ledger.services.books import PostingLine, post_journal_entry

# The committed code before the row replay has no ``ledger/replay``. Look for it beside the
# ``ledger`` imported: a plain import could find it in another checkout through the editable
# install's finder when the benchmark runs from a git worktree of an older commit.
ROW_REPLAY = (Path(ledger.__file__).parent / "replay" / "tables.py").is_file()

ENTRIES = int(os.environ.get("BENCH_REPLAY_ENTRIES", "10000"))
WRITES = int(os.environ.get("BENCH_REPLAY_WRITES", "500"))
BATCH = 50


def _lines(i: int) -> tuple[list[PostingLine], str | None]:
    """The i-th entry's lines: 2, 3 or 4 postings, with and without cash, amounts varying."""
    a = cny(f"{100 + (i * 37) % 9000}.{i % 100:02d}")
    b = cny(f"{10 + (i * 11) % 500}.50")
    kind = i % 3
    if kind == 0:  # a grant received: 2 postings
        return [PostingLine("1002", Side.DEBIT, a), PostingLine("4401", Side.CREDIT, a)], "grants_received"
    if kind == 1:  # costs accrued: 3 postings
        return [
            PostingLine("5101", Side.DEBIT, a),
            PostingLine("5201", Side.DEBIT, b),
            PostingLine("2202", Side.CREDIT, a + b),
        ], None
    return [  # costs paid, part in cash, part payable: 4 postings
        PostingLine("5101", Side.DEBIT, a),
        PostingLine("5301", Side.DEBIT, b),
        PostingLine("1002", Side.CREDIT, a),
        PostingLine("2202", Side.CREDIT, b),
    ], "goods_services_paid"


def _post(actor: Actor, organisations: list[uuid.UUID], i: int) -> None:
    lines, cash_flow_line = _lines(i)
    # February to December: the demo closes January for one organisation.
    when = date(2026, 2 + i % 11, 1 + (i // 11) % 28)
    post_journal_entry(
        actor,
        organisations[i % len(organisations)],
        when,
        f"凭证 {i} bench entry",
        lines,
        cash_flow_line=cash_flow_line,
    )


def _post_entries(actor: Actor, organisations: list[uuid.UUID], first: int, count: int, per_tx: int) -> float:
    """Post entries first .. first+count-1, ``per_tx`` to a transaction; entries/s."""
    began = time.perf_counter()
    done = 0
    while done < count:
        with unit_of_work():
            for i in range(first + done, first + min(done + per_tx, count)):
                _post(actor, organisations, i)
        done = min(done + per_tx, count)
        if done % 2000 == 0 or done == count:
            say(f"  posted {first + done:,} entries ({done / (time.perf_counter() - began):,.0f}/s)")
    return count / (time.perf_counter() - began)


def _log_only() -> int:
    """The baseline: the log verified alone, as ``verify_database`` calls it, without the replay."""
    settings = current_settings()
    verifiers = [NoteVerifier.from_vkey(key.vkey) for key in store.signing_keys()]
    report = verify_log(
        store.iter_entries(),
        store.checkpoint_notes(),
        verifiers,
        settings.log_origin,
        trust=Trust.BUNDLE_KEYS,
    )
    if not report.ok:
        raise RuntimeError("the log does not verify: " + report.failure_line())
    return report.entries_checked


def _best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of ``runs`` timed calls, in seconds (the machine is shared and noisy)."""
    times = []
    for _ in range(runs):
        db.session.rollback()  # each call starts from a fresh snapshot
        gc.collect()
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def _replayed_rows() -> int | None:
    if not ROW_REPLAY:
        return None
    from ledger.replay.tables import replayed_tables

    return sum(
        int(db.session.scalar(select(func.count()).select_from(table)) or 0) for table in replayed_tables()
    )


def _verify() -> None:
    result = verify_database(receipts=False)
    if not result.ok:
        raise RuntimeError("the database does not verify: " + " ".join(result.lines()))


def _peak(work: Callable[[], object]) -> int:
    """``tracemalloc``'s peak, in bytes, during one call of ``work``."""
    db.session.rollback()
    gc.collect()
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        # The replay streams the tables with ``execution_options(yield_per=...)`` on the session's
        # own connection, which keeps the option: a write later in the same transaction fails on
        # PostgreSQL ("DECLARE CURSOR FOR INSERT"). A new transaction takes a new connection.
        db.session.rollback()


def _measure(label: str) -> dict[str, float]:
    """Time the baseline and the full verification, and the peak memory of each."""
    db.session.rollback()
    _verify()  # it must verify before anything is timed (and this warms the caches)
    entries = int(db.session.scalar(text("SELECT count(*) FROM audit_entry")) or 0)
    rows = _replayed_rows()
    log_s = _best_of(3, _log_only)
    full_s = _best_of(3, _verify)
    log_peak = _peak(_log_only)
    peak = _peak(_verify)
    figures = {"entries": entries, "log_s": log_s, "full_s": full_s, "peak": peak, "log_peak": log_peak}
    rows_text = ""
    if rows is not None:
        figures["rows"] = rows
        rows_text = f", {rows:,} rows ({rows / log_s:,.0f} / {rows / full_s:,.0f} rows/s)"
    say(
        f"{label}: {entries:,} entries{rows_text}: log alone {log_s:.2f}s ({entries / log_s:,.0f}/s), "
        f"verify with replay {full_s:.2f}s ({entries / full_s:,.0f}/s), ratio {log_s / full_s:.2f}; "
        f"peak traced memory: verify {peak / 2**20:.1f} MiB, log alone {log_peak / 2**20:.1f} MiB"
        + (f", the replay's {(peak - log_peak) / rows:,.0f} bytes per replayed row" if rows else "")
    )
    return figures


def _entry_sizes() -> str:
    count, average = db.session.execute(
        text("SELECT count(*), avg(length(canonical)) FROM audit_entry WHERE action = 'journal_entry.posted'")
    ).one()
    return f"{count:,} journal_entry.posted entries, {float(average or 0):,.0f} bytes each on average"


def run() -> list[Result]:
    half = ENTRIES // 2
    writes = min(WRITES, half)
    results: list[Result] = []
    with fresh_app() as app, app.app_context():
        say("loading the demo ...")
        load_demo()
        actor = actor_named("finance1")
        organisations = sorted(db.session.scalars(select(Organisation.id)))
        say(f"posting {writes:,} entries one per transaction (as requests do) ...")
        single = _post_entries(actor, organisations, 0, writes, 1)
        say(f"posting {half - writes:,} more, {BATCH} per transaction ...")
        batched = _post_entries(actor, organisations, writes, half - writes, BATCH)
        say(f"write: {single:,.1f} entries/s one per transaction, {batched:,.1f}/s {BATCH} per transaction")
        say(_entry_sizes())
        small = _measure(f"N/2 = {half:,}")
        say(f"posting {ENTRIES - half:,} more entries, {BATCH} per transaction ...")
        _post_entries(actor, organisations, half, ENTRIES - half, BATCH)
        large = _measure(f"N = {ENTRIES:,}")
        say(_entry_sizes())

    results.append(Result("audit_replay", "journal entries posted/s, 1 per transaction", single, "/s", "-"))
    results.append(
        Result("audit_replay", f"journal entries posted/s, {BATCH} per transaction", batched, "/s", "-")
    )
    for size, figures in ((half, small), (ENTRIES, large)):
        log_rate = figures["entries"] / figures["log_s"]
        full_rate = figures["entries"] / figures["full_s"]
        results.append(
            Result("audit_replay", f"log alone entries/s ({size:,} posted)", log_rate, "/s", "baseline")
        )
        results.append(
            Result(
                "audit_replay",
                f"verify with replay entries/s ({size:,} posted)",
                full_rate,
                "/s",
                "-",
                full_rate / log_rate,
            )
        )
        if "rows" in figures:
            results.append(
                Result(
                    "audit_replay",
                    f"rows compared/s ({figures['rows']:,.0f} rows)",
                    figures["rows"] / figures["full_s"],
                    "/s",
                    "-",
                )
            )
        results.append(
            Result(
                "audit_replay",
                f"log alone peak traced memory ({size:,} posted)",
                figures["log_peak"] / 2**20,
                "MiB",
                "baseline",
            )
        )
        results.append(
            Result(
                "audit_replay",
                f"verify peak traced memory ({size:,} posted)",
                figures["peak"] / 2**20,
                "MiB",
                "-",
                figures["peak"] / figures["log_peak"],
            )
        )
    if "rows" in small and "rows" in large:
        replay_small = small["peak"] - small["log_peak"]
        replay_large = large["peak"] - large["log_peak"]
        per_row = replay_large / large["rows"]
        marginal = (replay_large - replay_small) / (large["rows"] - small["rows"])
        say(
            f"memory the replay adds: {replay_small / 2**20:.1f} MiB for {small['rows']:,.0f} rows, "
            f"{replay_large / 2**20:.1f} MiB for {large['rows']:,.0f} rows: {per_row:,.0f} bytes per "
            f"replayed row at N, {marginal:,.0f} per row added from N/2 to N"
        )
        results.append(Result("audit_replay", "replay's peak bytes per replayed row (N)", per_row, "B", "-"))
        results.append(
            Result("audit_replay", "replay's peak bytes per row added, N/2 to N", marginal, "B", "-")
        )
    return results
