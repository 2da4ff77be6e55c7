"""ladder: how the read paths grow with the data, at 10k, 100k and 1M audit entries and postings.

For each size N (``BENCH_LADDER_SIZES``, comma-separated, default ``10000,100000,1000000``) a
fresh PostgreSQL database is given a generated audit log of N entries (``bench/_large_log.py``),
the reference data and the demo (recorded through the sequencer on top of that log), N postings in
N/2 balanced entries spread over max(10, N/1,000) organisations with one large organisation
holding 10% of them, and N/50 approved expense-report lines (4 a report, N/200 reports, so the
first page of the list is full at every size) on the demo's lottery grant. Each figure is the
median of repeated calls through the same functions the API calls, database reads included:
inclusion and consistency proofs against the latest signed checkpoint, the trial balance of a
typical and of the large organisation (every month open, then January to October closed), budget
vs actual of that grant, and the first page of the two list endpoints as the API serves them (the
Flask test client with a bearer token: the expense reports as a finance officer, the audit entries
as an auditor). The baseline, measured at every size, is one primary-key lookup of an audit entry.
Each database is dropped before the next size is built.

Target: flat or logarithmic growth, i.e. cost at the largest N <= 3 x cost at the smallest
(log2(1M) / log2(10k) is about 1.5; the rest is allowance for noise). The medians go to
``docs/ladder.json`` and the chart to ``docs/ladder.png`` (``bench/_plot.py``).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import Flask
from sqlalchemy import select, text

from bench.__main__ import Result
from bench._large_log import fresh_large_log
from bench._plot import plot_ladder, size_label
from bench._support import bench_token, generate_postings, load_demo, median, say
from ledger.audit import store
from ledger.audit.merkle import verify_inclusion
from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import AuditEntry, Organisation, PeriodStatus
from ledger.models.user import Role
from ledger.services import fund_reports, periods, trial_balance
from ledger.services.access import Actor

SIZES = tuple(
    int(size) for size in os.environ.get("BENCH_LADDER_SIZES", "10000,100000,1000000").split(",") if size
)
SAMPLES = 100
GROWTH_LIMIT = 3.0
POSTINGS_PER_ORGANISATION = 1000
MIN_ORGANISATIONS = 10
LARGE_SHARE_DIVISOR = 10  # the large organisation holds 1/10 of the postings
ENTRIES_PER_LINE = 50  # N/50 approved report lines ...
LINES_PER_REPORT = 4  # ... in reports of 4 lines (N/200 reports: a full first page at 10k)
AS_OF = date(2026, 12, 31)
REPORT_PAGE_SIZE = 50  # the API's defaults (ledger/api/expense_reports.py, ledger/api/audit.py)
ENTRY_PAGE_SIZE = 100
DOCS = Path(__file__).resolve().parents[1] / "docs"

LOOKUP = "PK lookup: audit entry by seq"
INCLUSION = "inclusion proof"
CONSISTENCY = "consistency proof"
TRIAL_TYPICAL = "trial balance, typical org"
TRIAL_LARGE_OPEN = "trial balance, 10% org, all open"
TRIAL_LARGE_CLOSED = "trial balance, 10% org, Jan-Oct closed"
BUDGET = "budget vs actual (N/50 lines)"
REPORT_LIST = "GET /expense-reports page 1"
ENTRY_LIST = "GET /audit/entries page 1"
OPERATIONS = (
    LOOKUP,
    INCLUSION,
    CONSISTENCY,
    TRIAL_TYPICAL,
    TRIAL_LARGE_OPEN,
    TRIAL_LARGE_CLOSED,
    BUDGET,
    REPORT_LIST,
    ENTRY_LIST,
)


@dataclass(frozen=True)
class Fixture:
    """What the measurements need to know about one size's database."""

    tree_size: int
    large: uuid.UUID
    others: list[uuid.UUID]
    fund_id: uuid.UUID
    reports: int
    officer_token: str
    auditor_token: str


def _median_ms(operation: Callable[[], object], after: Callable[[], object] | None = None) -> float:
    """Median wall time of ``SAMPLES`` calls; ``after`` (untimed) runs after each call."""
    timings = []
    for _ in range(SAMPLES):
        began = time.perf_counter()
        operation()
        timings.append((time.perf_counter() - began) * 1000)
        if after is not None:
            after()
    return median(timings)


def _organisations(count: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    community = db.session.scalar(text("SELECT id FROM community LIMIT 1"))
    db.session.execute(
        text(
            "INSERT INTO organisation (id, name, credit_code, registration_type, community_id, created_at, version) "
            "SELECT gen_random_uuid(), 'bench ' || g, lpad(g::text, 18, '0'), 'social_group', :c, now(), 1 "
            "FROM generate_series(1, :n) AS g"
        ),
        {"c": community, "n": count},
    )
    db.session.commit()
    organisations = list(
        db.session.scalars(
            select(Organisation.id).where(Organisation.name.like("bench %")).order_by(Organisation.name)
        )
    )
    return organisations[0], organisations[1:]


def _postings(count: int, large: uuid.UUID, others: list[uuid.UUID]) -> None:
    """``count`` postings in balanced two-line entries, one entry in ``LARGE_SHARE_DIVISOR`` in ``large``."""
    entries = count // 2
    generate_postings(entries, entries // LARGE_SHARE_DIVISOR, large, others)


def _report_lines(fund_id: uuid.UUID, reports: int) -> None:
    """``reports`` approved reports of ``LINES_PER_REPORT`` lines each, filed a minute apart."""
    db.session.execute(
        text(
            """
            INSERT INTO expense_report (id, fund_id, organisation_id, title, interim, status, filed_by,
                                        created_at, comments, version)
            SELECT md5('r' || g)::uuid, f.id, f.organisation_id, 'bench ' || g, false, 'approved', 'bench',
                   now() - g * interval '1 minute', '[]', 1
            FROM fund f, generate_series(1, :reports) AS g WHERE f.id = :fund
            """
        ),
        {"fund": fund_id, "reports": reports},
    )
    db.session.execute(
        text(
            """
            INSERT INTO expense_line (id, report_id, number, category_code, amount_minor, incurred_on, payee, description)
            SELECT gen_random_uuid(), r.id, n, (ARRAY['ACTIVITY','PERSONNEL','OFFICE'])[1 + n % 3], 1,
                   DATE '2026-03-01', 'bench', 'bench'
            FROM expense_report r, generate_series(1, :lines) AS n WHERE r.title LIKE 'bench %'
            """
        ),
        {"lines": LINES_PER_REPORT},
    )
    db.session.commit()


def _populate(app: Flask, size: int) -> Fixture:
    """Add the demo, organisations, postings and report lines to ``app``'s log of ``size`` entries."""
    with app.app_context():
        began = time.perf_counter()
        load_demo()
        say(f"loaded the demo on top of the log in {time.perf_counter() - began:.0f}s")
        organisations = max(MIN_ORGANISATIONS, size // POSTINGS_PER_ORGANISATION)
        large, others = _organisations(organisations)
        began = time.perf_counter()
        say(
            f"generating {size:,} postings over {organisations:,} organisations "
            f"({size // LARGE_SHARE_DIVISOR:,} in the large one) ..."
        )
        _postings(size, large, others)
        say(f"generated in {time.perf_counter() - began:.0f}s")
        fund_id = db.session.scalar(text("SELECT id FROM fund WHERE kind = 'lottery_grant'"))
        assert fund_id is not None
        reports = max(1, size // (ENTRIES_PER_LINE * LINES_PER_REPORT))
        say(f"adding {reports * LINES_PER_REPORT:,} approved report lines in {reports:,} reports ...")
        _report_lines(fund_id, reports)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        officer_token, auditor_token = bench_token("finance1"), bench_token("auditor")
        checkpoint = store.latest_checkpoint()
        assert checkpoint is not None
        tree_size, root = checkpoint.size, bytes(checkpoint.root)
        # Correctness first: proofs over the generated log and the demo's entries verify.
        rng = random.Random(size)
        for seq in [1, tree_size, *rng.sample(range(1, tree_size + 1), 8)]:
            proof = store.inclusion_proof(seq, tree_size)
            verify_inclusion(proof.leaf_index, tree_size, proof.leaf_hash, proof.hashes, root)
        total = db.session.scalar(text("SELECT size FROM audit_head"))
        db.session.rollback()
    say(f"log: {total:,} entries, latest signed checkpoint at {tree_size:,}")
    return Fixture(tree_size, large, others, fund_id, reports, officer_token, auditor_token)


def _measure_services(app: Flask, fixture: Fixture) -> dict[str, float]:
    officer = Actor(uuid.uuid4(), "bench", Role.FINANCE_OFFICER)
    rng = random.Random(2026)
    size = fixture.tree_size
    figures: dict[str, float] = {}

    def measure(name: str, operation: Callable[[], object]) -> None:
        figures[name] = _median_ms(operation, db.session.rollback)
        say(f"{name}: {figures[name]:.2f} ms")

    with app.app_context():
        measure(LOOKUP, lambda: db.session.get(AuditEntry, rng.randint(1, size)) and db.session.expunge_all())
        measure(INCLUSION, lambda: store.inclusion_proof(rng.randint(1, size), size))
        measure(CONSISTENCY, lambda: store.consistency_proof(rng.randint(1, size - 1), size))
        measure(
            TRIAL_TYPICAL, lambda: trial_balance.trial_balance(officer, rng.choice(fixture.others), AS_OF)
        )
        measure(TRIAL_LARGE_OPEN, lambda: trial_balance.trial_balance(officer, fixture.large, AS_OF))
        measure(BUDGET, lambda: fund_reports.budget_vs_actual(officer, fixture.fund_id))
        began = time.perf_counter()
        for month in range(1, 11):  # months that have ended: November 2026 closes from 1 December
            with unit_of_work():
                periods.set_period_status(
                    officer, fixture.large, 2026, month, PeriodStatus.CLOSED, None, None
                )
        say(f"closed January to October of the large organisation in {time.perf_counter() - began:.1f}s")
        measure(TRIAL_LARGE_CLOSED, lambda: trial_balance.trial_balance(officer, fixture.large, AS_OF))
    return figures


def _measure_pages(app: Flask, fixture: Fixture) -> dict[str, float]:
    """The list pages through the test client, outside any app context (each request has its own)."""
    client = app.test_client()
    pages = {
        REPORT_LIST: ("/api/v1/expense-reports", fixture.officer_token),
        ENTRY_LIST: ("/api/v1/audit/entries", fixture.auditor_token),
    }
    figures: dict[str, float] = {}
    for name, (url, token) in pages.items():
        headers = {"Authorization": f"Bearer {token}"}
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True))
        body = response.get_json()
        if isinstance(body, list):  # a pager's page: the total is in its header
            shown, total = len(body), json.loads(response.headers["X-Pagination"])["total"]
            assert shown == min(REPORT_PAGE_SIZE, total), (url, shown, total)
        else:
            shown, total = len(body["entries"]), body["tree_size"]
            assert shown == min(ENTRY_PAGE_SIZE, total), (url, shown, total)

        def get(url: str = url, headers: dict[str, str] = headers) -> None:
            assert client.get(url, headers=headers).status_code == 200

        figures[name] = _median_ms(get)
        say(f"{name}: {figures[name]:.2f} ms ({shown} of {total:,} items)")
    return figures


def _write(sizes: list[int], series: dict[str, list[float]]) -> None:
    DOCS.mkdir(exist_ok=True)
    figures = {"sizes": sizes, "samples_per_figure": SAMPLES, "median_ms": series}
    (DOCS / "ladder.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    plot_ladder(sizes, series, DOCS / "ladder.png")
    say(f"wrote {DOCS / 'ladder.json'} and {DOCS / 'ladder.png'}")


def _results(sizes: list[int], series: dict[str, list[float]]) -> list[Result]:
    results = []
    for name in OPERATIONS:
        values = series[name]
        for index, (size, value) in enumerate(zip(sizes, values, strict=True)):
            figure = f"{name} @ {size_label(size)}"
            if index < len(sizes) - 1:
                results.append(Result("ladder", figure, value, "ms", "-"))
                continue
            growth = value / values[0]
            if name == LOOKUP:
                results.append(Result("ladder", figure, value, "ms", "baseline", growth))
            else:
                results.append(
                    Result("ladder", figure, value, "ms", "flat or log", growth, growth <= GROWTH_LIMIT)
                )
    return results


def run() -> list[Result]:
    sizes = sorted(SIZES)
    series: dict[str, list[float]] = {name: [] for name in OPERATIONS}
    for size in sizes:
        began = time.perf_counter()
        say(f"== N = {size:,}: generating the audit log ...")
        with fresh_large_log(size) as app:
            fixture = _populate(app, size)
            figures = {**_measure_services(app, fixture), **_measure_pages(app, fixture)}
        for name in OPERATIONS:
            series[name].append(figures[name])
        say(f"N = {size:,} built, measured and dropped in {time.perf_counter() - began:.0f}s")
    _write(sizes, series)
    return _results(sizes, series)
