"""statements: rendering the fund-use statement, against WeasyPrint laying out the same HTML alone.

The demo's lottery grant is given approved expense reports with 100 and then 2,000 lines on
PostgreSQL. The figure is the whole statement: reading the figures from the books, the Jinja
template, and WeasyPrint writing PDF/A-3b with the figures attached. The floor, in the same run,
is WeasyPrint turning the very same final HTML into a plain PDF. Target: <= 1.2 x the floor.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, text

from bench.__main__ import Result
from bench._support import fresh_app, load_demo, median, say
from ledger.extensions import db
from ledger.models import Fund
from ledger.services.statement_figures.fund_use import fund_use_figures
from ledger.statements.period import StatementPeriod
from ledger.statements.render import CheckpointStamp, render_statement, statement_html

TARGET = 1.2
SIZES = (100, 2000)
RUNS = 3
PERIOD = StatementPeriod.parse("2026-01..2026-12")
TITLES = {"title_zh": "资金使用情况表", "title_en": "Fund-use statement"}
CHECKPOINT = CheckpointStamp(
    1000, "ab" * 32, "0a1b2c3d", datetime(2026, 11, 27, 10, tzinfo=UTC), "bench/audit"
)


def _timed(operation: Callable[[], object]) -> float:
    timings = []
    for _ in range(RUNS):
        began = time.perf_counter()
        operation()
        timings.append(time.perf_counter() - began)
        db.session.rollback()
    return median(timings)


def _add_lines(fund: Fund, count: int) -> None:
    """Approved reports of 50 lines each, booked like the demo's own approved report."""
    entry = db.session.scalar(
        text(
            "SELECT journal_entry_id FROM expense_report WHERE fund_id = :fund AND status = 'approved' "
            "AND journal_entry_id IS NOT NULL LIMIT 1"
        ),
        {"fund": fund.id},
    )
    db.session.execute(
        text(
            "DELETE FROM expense_line WHERE report_id IN (SELECT id FROM expense_report WHERE title LIKE 'bench %')"
        )
    )
    db.session.execute(text("DELETE FROM expense_report WHERE title LIKE 'bench %'"))
    reports = (count + 49) // 50
    db.session.execute(
        text(
            """
            INSERT INTO expense_report (id, fund_id, organisation_id, title, interim, status, filed_by, created_at,
                                        comments, journal_entry_id, version)
            SELECT md5('statement' || g)::uuid, f.id, f.organisation_id, 'bench 第' || g || '号报销单', false,
                   'approved', 'bench', now(), '[]', :entry, 1
            FROM fund f, generate_series(1, :reports) AS g WHERE f.id = :fund
            """
        ),
        {"fund": fund.id, "entry": entry, "reports": reports},
    )
    db.session.execute(
        text(
            """
            INSERT INTO expense_line (id, report_id, number, category_code, amount_minor, incurred_on, payee,
                                      description)
            SELECT gen_random_uuid(), md5('statement' || (1 + (n - 1) / 50))::uuid, 1 + (n - 1) % 50,
                   (ARRAY['ACTIVITY','PERSONNEL','OFFICE'])[1 + n % 3], 1000 + n, DATE '2026-03-01' + (n % 200),
                   '社区服务供应商 Supplier ' || n, '活动物资 activity supplies, item ' || n
            FROM generate_series(1, :count) AS n
            """
        ),
        {"count": count},
    )
    db.session.commit()


def run() -> list[Result]:
    import weasyprint

    results: list[Result] = []
    with fresh_app() as app, app.app_context():
        load_demo()
        fund = db.session.scalar(select(Fund).where(Fund.kind == "lottery_grant"))
        assert fund is not None
        for size in SIZES:
            say(f"giving the lottery grant {size:,} approved expense lines ...")
            _add_lines(fund, size)
            fund = db.session.get(Fund, fund.id)
            assert fund is not None
            figures = fund_use_figures(fund, PERIOD)
            html = statement_html("fund_use.html", figures, CHECKPOINT, **TITLES)
            say(f"{len(figures['vouchers']):,} voucher lines; timing {RUNS} renders of each ...")

            def whole(fund_id: object = fund.id) -> bytes:
                current = db.session.get(Fund, fund_id)
                assert current is not None
                return render_statement(
                    "fund_use.html", fund_use_figures(current, PERIOD), CHECKPOINT, **TITLES
                )

            floor = _timed(lambda html=html: weasyprint.HTML(string=html).write_pdf())
            statement = _timed(whole)
            say(f"{size:,} lines: statement {statement:.2f} s, WeasyPrint alone {floor:.2f} s")
            ratio = statement / floor
            results.append(Result("statements", f"WeasyPrint alone, {size:,} lines, s", floor, "s", "floor"))
            results.append(
                Result(
                    "statements",
                    f"fund-use statement, {size:,} lines, s",
                    statement,
                    "s",
                    f"<= {TARGET} x",
                    ratio,
                    ratio <= TARGET,
                )
            )
    return results
