"""The cash-flow statement (现金流量表, 会民非03表) of hand-built books, line by line.

Every expected amount below is worked out by hand in the comments, never by the code under test.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.cash_flow import CASH_FLOW_LINES
from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import User
from ledger.models.books import EntrySource, JournalEntry, Posting
from ledger.replay.capture import forget_rows
from ledger.services.access import Actor
from ledger.services.statement_figures.cash_flow import (
    CASH_FLOW_FORM,
    CASH_FLOW_ROWS,
    LINE_NUMBERS,
    cash_flow_statement,
)
from tests.builders import (
    MEMBER,
    file_and_approve_report,
    hand_built_books,
    pay_first_tranche,
    report_line,
    restricted_grant,
    reverse_entry,
)
from tests.conftest import DemoWorld
from tests.helpers import organisation_figures_between

# Every 行次 of 会民非03表, in the order of the form.
CASH_FLOW_LINE_NUMBERS = [
    *(1, 2, 3, 4, 5, 8, 13, 14, 15, 16, 19, 23, 24),
    *(25, 26, 27, 30, 34, 35, 36, 39, 43, 44),
    *(45, 48, 50, 51, 52, 55, 58, 59),
    *(60, 61),
]


def _rows(figures: dict[str, Any]) -> dict[int, str]:
    """03's numbered rows: line -> amount string."""
    return {row["line"]: row["amount"] for row in figures["cash_flows"]["rows"] if row["line"] is not None}


def _all_zero_but(**nonzero: str) -> dict[int, str]:
    """Every line of 03 as "0.00" except the ones given as ``l<line>="amount"``."""
    expected = dict.fromkeys(CASH_FLOW_LINE_NUMBERS, "0.00")
    for name, amount in nonzero.items():
        expected[int(name[1:])] = amount
    return expected


def test_the_cash_flow_statement_of_hand_built_books(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    organisation = hand_built_books(client, world)
    figures = organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31")
    cash_flows = figures["cash_flows"]
    assert cash_flows["form"] == CASH_FLOW_FORM == "会民非03表"
    # Operating inflows: 1 donations 500.00 + 200.00 − 200.00 reversed = 500.00; 5 the grant
    # 1,000.00; 13 = 500.00 + 1,000.00 = 1,500.00.
    # Operating outflows: 15 staff 100.00; 16 goods and services 200.00; 19 the refund 50.00 (the
    # petty-cash transfer is +30.00 − 30.00 = 0.00 on it); 23 = 100.00 + 200.00 + 50.00 = 350.00;
    # 24 = 1,500.00 − 350.00 = 1,150.00.
    # Investing: 35 the laptop 80.00; 43 = 80.00; 44 = 0.00 − 80.00 = −80.00.
    # 61 = 1,150.00 − 80.00 + 0.00 + 0.00 = 1,070.00.
    assert _rows(figures) == _all_zero_but(
        l1="500.00",
        l5="1000.00",
        l13="1500.00",
        l15="100.00",
        l16="200.00",
        l19="50.00",
        l23="350.00",
        l24="1150.00",
        l35="80.00",
        l43="80.00",
        l44="-80.00",
        l61="1070.00",
    )
    # 货币资金: 100.00 at the start; 100.00 + 1,000.00 + 500.00 + 200.00 − 200.00 − 300.00 − 80.00
    # − 50.00 = 1,170.00 at the end (the 30.00 only moved from 1002 to 1001).
    assert cash_flows["opening_cash"] == "100.00"
    assert cash_flows["closing_cash"] == "1170.00"
    assert cash_flows["cash_change"] == "1070.00"
    assert cash_flows["reconciled"] is True
    sheet = {row["line"]: row for row in figures["balance_sheet"]["assets"]}
    assert (sheet[1]["opening"], sheet[1]["closing"]) == ("100.00", "1170.00")
    # On its own (reading the cash balances itself) the statement is the same.
    with app.app_context():
        alone = cash_flow_statement(uuid.UUID(organisation), date(2026, 1, 1), date(2026, 12, 31), "CNY")
    assert alone == cash_flows

    # January and February only: 1 = 500.00 + 200.00 − 200.00 = 500.00, 5 = 1,000.00;
    # 61 = 1,500.00, and 货币资金 goes from 100.00 to 1,600.00.
    early = organisation_figures_between(app, organisation, "2026-01-01", "2026-02-28")
    assert _rows(early) == _all_zero_but(
        l1="500.00", l5="1000.00", l13="1500.00", l24="1500.00", l61="1500.00"
    )
    assert (early["cash_flows"]["opening_cash"], early["cash_flows"]["closing_cash"]) == ("100.00", "1600.00")
    assert early["cash_flows"]["reconciled"] is True

    # The day of the reversal alone: it takes 200.00 off line 1, it is no payment on line 19.
    day = organisation_figures_between(app, organisation, "2026-02-20", "2026-02-20")
    assert _rows(day) == _all_zero_but(l1="-200.00", l13="-200.00", l24="-200.00", l61="-200.00")
    assert (day["cash_flows"]["opening_cash"], day["cash_flows"]["closing_cash"]) == ("1800.00", "1600.00")

    # 2025: the dues 100.00 on line 2, from nothing to 100.00.
    before = organisation_figures_between(app, organisation, "2025-01-01", "2025-12-31")
    assert _rows(before) == _all_zero_but(l2="100.00", l13="100.00", l24="100.00", l61="100.00")
    assert before["cash_flows"]["reconciled"] is True


def test_undone_events_and_adjustments_from_before_cash_flow_lines(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    """A voided report and a returned payment come off their own lines; old adjustments by direction."""
    organisation = world.member_organisation[MEMBER]
    budget = {
        "ACTIVITY": "50000.00",
        "PERSONNEL": "20000.00",
        "FRINGE": "10000.00",
        "LABOUR": "10000.00",
        "OFFICE": "10000.00",
    }
    fund = restricted_grant(client, world, "2000.00", budget)
    disbursement = pay_first_tranche(client, world, fund, "2026-01-16")
    lines = [
        report_line(client, world, "PERSONNEL", "120.00"),
        report_line(client, world, "FRINGE", "30.00"),
        report_line(client, world, "LABOUR", "10.00"),
        report_line(client, world, "OFFICE", "45.00"),
    ]
    report = file_and_approve_report(client, world, fund, MEMBER, lines)
    voided = client.post(
        f"/api/v1/expense-reports/{report['id']}/void",
        json={"date": "2026-04-02", "reason": "receipts were duplicates"},
        headers=world.auth("finance1"),
    )
    assert voided.status_code == 200, voided.get_json()
    returned = client.post(
        f"/api/v1/disbursements/{disbursement}/reversal",
        json={"date": "2026-04-03", "reason": "account closed"},
        headers=world.auth("finance1"),
    )
    assert returned.status_code == 200, returned.get_json()

    # Two adjustments posted before journal entries had a cash-flow line (written as such rows
    # were): 40.00 of sundry income into the bank, and 15.00 of other expenses paid in cash.
    with app.app_context(), unit_of_work():
        actor = Actor.of(db.session.scalars(select(User).where(User.username == "finance1")).one())
        legacy: list[uuid.UUID] = []
        for on, lines_ in (
            (date(2026, 5, 6), [("1002", "debit", 4000), ("4901", "credit", 4000)]),
            (date(2026, 5, 7), [("5401", "debit", 1500), ("1001", "credit", 1500)]),
        ):
            entry = JournalEntry(
                organisation_id=uuid.UUID(organisation),
                entry_date=on,
                description="legacy adjustment",
                source=EntrySource.ADJUSTMENT.value,
                chart_version="NPO-2005",
                posting_count=2,
                created_by=actor.audit_identity["id"],
            )
            db.session.add(entry)
            db.session.flush()
            for number, (code, side, amount) in enumerate(lines_, start=1):
                db.session.add(
                    Posting(
                        journal_entry_id=entry.id,
                        line=number,
                        organisation_id=entry.organisation_id,
                        entry_date=on,
                        account_code=code,
                        side=side,
                        amount_minor=amount,
                        currency="CNY",
                    )
                )
            legacy.append(entry.id)
        forget_rows(db.session)  # rows as an older version wrote them, outside this trail format
    # The 40.00 is reversed later; the reversal keeps the original's line 8 with a minus sign.
    reverse_entry(client, world, str(legacy[0]), "2026-07-01")

    # Staff costs are PERSONNEL 120.00 + FRINGE 30.00 = 150.00 (Form 990 lines 7 and 9); LABOUR
    # 10.00 (劳务费, paid to non-employees: Form 990 line 11g) and OFFICE 45.00 are goods and
    # services, 55.00. Each came back on the void's day.
    # Whole year: 5 = 2,000.00 − 2,000.00 = 0.00; 15 = 150.00 − 150.00 = 0.00; 16 = 55.00 − 55.00
    # = 0.00; 8 = 40.00 − 40.00 = 0.00; 19 = 15.00 (the legacy payment, by its direction).
    # 23 = 15.00; 24 = −15.00; 61 = −15.00 (cash: 0.00 → −15.00, petty cash overdrawn).
    year = organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31")
    assert _rows(year) == _all_zero_but(l19="15.00", l23="15.00", l24="-15.00", l61="-15.00")
    assert year["cash_flows"]["reconciled"] is True
    # January to March: the payment and the report, before either was undone.
    # 5 = 2,000.00; 13 = 2,000.00; 15 = 150.00; 16 = 55.00; 23 = 205.00; 24 = 1,795.00; 61 = 1,795.00.
    first_quarter = organisation_figures_between(app, organisation, "2026-01-01", "2026-03-31")
    assert _rows(first_quarter) == _all_zero_but(
        l5="2000.00", l13="2000.00", l15="150.00", l16="55.00", l23="205.00", l24="1795.00", l61="1795.00"
    )
    # April: the void and the returned payment come off the lines they were on.
    # 5 = −2,000.00; 13 = −2,000.00; 15 = −150.00; 16 = −55.00; 23 = −205.00;
    # 24 = −2,000.00 − (−205.00) = −1,795.00; 61 = −1,795.00 (cash 1,795.00 → 0.00).
    april = organisation_figures_between(app, organisation, "2026-04-01", "2026-04-30")
    assert _rows(april) == _all_zero_but(
        l5="-2000.00",
        l13="-2000.00",
        l15="-150.00",
        l16="-55.00",
        l23="-205.00",
        l24="-1795.00",
        l61="-1795.00",
    )
    assert (april["cash_flows"]["opening_cash"], april["cash_flows"]["closing_cash"]) == ("1795.00", "0.00")
    # May: the legacy receipt on 8 (40.00) and payment on 19 (15.00); 13 = 40.00; 23 = 15.00;
    # 24 = 25.00; 61 = 25.00.
    may = organisation_figures_between(app, organisation, "2026-05-01", "2026-05-31")
    assert _rows(may) == _all_zero_but(
        l8="40.00", l13="40.00", l19="15.00", l23="15.00", l24="25.00", l61="25.00"
    )
    # July: the reversal of the legacy receipt: −40.00 on line 8, not 40.00 on line 19.
    july = organisation_figures_between(app, organisation, "2026-07-01", "2026-07-31")
    assert _rows(july) == _all_zero_but(l8="-40.00", l13="-40.00", l24="-40.00", l61="-40.00")
    for figures in (first_quarter, april, may, july):
        assert figures["cash_flows"]["reconciled"] is True


def test_the_form_has_every_row_in_order_with_bilingual_labels(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    figures = organisation_figures_between(
        app, world.member_organisation[MEMBER], "2026-01-01", "2026-12-31"
    )  # empty books
    rows = figures["cash_flows"]["rows"]
    assert [r["line"] for r in rows if r["line"] is not None] == CASH_FLOW_LINE_NUMBERS
    assert [r["label_zh"] for r in rows if r["line"] is None] == [
        "一、业务活动产生的现金流量：",
        "二、投资活动产生的现金流量：",
        "三、筹资活动产生的现金流量：",
    ]
    labels = {r["line"]: r["label_zh"] for r in rows}
    assert labels[1] == "接受捐赠收到的现金"
    assert labels[5] == "政府补助收到的现金"
    assert labels[13] == labels[34] == labels[50] == "现金流入小计"
    assert labels[15] == "支付给员工以及为员工支付的现金"
    assert labels[16] == "购买商品、接受服务支付的现金"
    assert labels[23] == labels[43] == labels[58] == "现金流出小计"
    assert labels[24] == "业务活动产生的现金流量净额"
    assert labels[44] == "投资活动产生的现金流量净额"
    assert labels[59] == "筹资活动产生的现金流量净额"
    assert labels[60] == "四、汇率变动对现金的影响额"
    assert labels[61] == "五、现金及现金等价物净增加额"
    for row in rows:
        assert row["label_en"]
        assert (row["amount"] is None) == (row["line"] is None)
    assert _rows(figures) == _all_zero_but()
    assert figures["cash_flows"]["reconciled"] is True
    # Every line a finance officer can choose has its 行次, and each 行次 is printed once.
    assert {line.key for line in CASH_FLOW_LINES} == set(LINE_NUMBERS)
    assert sorted(row.line for row in CASH_FLOW_ROWS if row.line is not None) == CASH_FLOW_LINE_NUMBERS
