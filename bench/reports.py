"""reports: trial balance and budget-vs-actual with 1,000,000 postings on PostgreSQL.

Postings are spread over 1,000 organisations (a national programme has many small ones); the
trial balance is timed for a typical organisation and for one very large organisation (100,000
postings, the worst case). Budget vs actual is timed for a fund with 20,000 approved report
lines. The baseline is one indexed primary-key lookup in the same run. Target: <= 50 ms median each.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable
from datetime import date

from sqlalchemy import select, text

from bench.__main__ import Result
from bench._support import fresh_app, generate_postings, load_demo, median, say
from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import Organisation, PeriodStatus
from ledger.models.user import Role
from ledger.services import fund_reports, periods, trial_balance
from ledger.services.access import Actor

POSTINGS = int(os.environ.get("BENCH_REPORT_POSTINGS", "1000000"))
ORGANISATIONS = 1000
LARGE_SHARE = 100_000
TARGET_MS = 50.0
SAMPLES = 100


def _timed(operation: Callable[[], object]) -> float:
    timings = []
    for _ in range(SAMPLES):
        began = time.perf_counter()
        operation()
        timings.append((time.perf_counter() - began) * 1000)
        db.session.rollback()
    return median(timings)


def _generate(large: uuid.UUID, others: list[uuid.UUID]) -> None:
    generate_postings(POSTINGS // 2, LARGE_SHARE // 2, large, others)
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def run() -> list[Result]:
    results: list[Result] = []
    with fresh_app() as app, app.app_context():
        load_demo()
        community = db.session.scalar(text("SELECT id FROM community LIMIT 1"))
        say(f"creating {ORGANISATIONS} organisations ...")
        db.session.execute(
            text(
                "INSERT INTO organisation (id, name, credit_code, registration_type, community_id, created_at, version) "
                "SELECT gen_random_uuid(), 'bench ' || g, lpad(g::text, 18, '0'), 'social_group', :c, now(), 1 "
                "FROM generate_series(1, :n) AS g"
            ),
            {"c": community, "n": ORGANISATIONS},
        )
        db.session.commit()
        organisations = list(
            db.session.scalars(select(Organisation.id).where(Organisation.name.like("bench %")))
        )
        large, others = organisations[0], organisations[1:]
        began = time.perf_counter()
        say(f"generating {POSTINGS:,} postings ({LARGE_SHARE:,} in one large organisation) ...")
        _generate(large, others)
        say(f"generated in {time.perf_counter() - began:.0f}s")
        officer = Actor(uuid.uuid4(), "bench", Role.FINANCE_OFFICER)
        rng = random.Random(7)
        lookup = _timed(lambda: db.session.get(Organisation, rng.choice(others)) and db.session.expunge_all())
        typical = _timed(lambda: trial_balance.trial_balance(officer, rng.choice(others), date(2026, 12, 31)))
        worst_open = _timed(lambda: trial_balance.trial_balance(officer, large, date(2026, 12, 31)))
        say("closing January to October of the large organisation (each close stores its balances) ...")
        for month in range(1, 11):  # months that have ended: November 2026 closes from 1 December
            with unit_of_work():
                periods.set_period_status(officer, large, 2026, month, PeriodStatus.CLOSED, None, None)
        worst = _timed(lambda: trial_balance.trial_balance(officer, large, date(2026, 12, 31)))
        fund_id = db.session.scalar(text("SELECT id FROM fund WHERE kind = 'lottery_grant'"))
        say("adding 20,000 approved report lines to the demo's lottery grant ...")
        db.session.execute(
            text(
                """
                INSERT INTO expense_report (id, fund_id, organisation_id, title, interim, status, filed_by,
                                            created_at, comments, version)
                SELECT md5('r' || g)::uuid, f.id, f.organisation_id, 'bench ' || g, false, 'approved', 'bench',
                       now(), '[]', 1
                FROM fund f, generate_series(1, 200) AS g WHERE f.id = :fund
                """
            ),
            {"fund": fund_id},
        )
        db.session.execute(
            text(
                """
                INSERT INTO expense_line (id, report_id, number, category_code, amount_minor, incurred_on, payee, description)
                SELECT gen_random_uuid(), r.id, n, (ARRAY['ACTIVITY','PERSONNEL','OFFICE'])[1 + n % 3], 1,
                       DATE '2026-03-01', 'bench', 'bench'
                FROM expense_report r, generate_series(1, 100) AS n WHERE r.title LIKE 'bench %'
                """
            )
        )
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        vs_actual = _timed(lambda: fund_reports.budget_vs_actual(officer, fund_id))
    say(
        f"median: lookup {lookup:.2f} ms, trial balance {typical:.2f} ms (typical), {worst_open:.2f} ms "
        f"({LARGE_SHARE:,} postings, every month open), {worst:.2f} ms (January to October closed), "
        f"budget vs actual {vs_actual:.2f} ms"
    )
    results.append(
        Result(
            "reports",
            f"trial balance, {LARGE_SHARE:,} postings, no month closed, median ms",
            worst_open,
            "ms",
            "(for comparison)",
            worst_open / lookup,
        )
    )
    for figure, value in (
        ("trial balance, typical organisation, median ms", typical),
        (f"trial balance, {LARGE_SHARE:,} postings, Jan-Oct closed, median ms", worst),
        ("budget vs actual, median ms", vs_actual),
    ):
        results.append(
            Result("reports", figure, value, "ms", f"<= {TARGET_MS} ms", value / lookup, value <= TARGET_MS)
        )
    results.insert(0, Result("reports", "organisation lookup, median ms", lookup, "ms", "baseline"))
    return results
