"""One organisation's year, with every figure an accountant signs worked out by hand.

member01's organisation runs three funds in 2025, all through the services as the roles would:

* L, a welfare-lottery grant (restricted, 4401), award 10,000.00, budget ACTIVITY 6,000.00,
  PERSONNEL 3,000.00, OFFICE 1,000.00, admin cap 10 %; tranche 6,000.00 paid 2025-02-10.
  R1 (ACTIVITY 1,200.00 + OFFICE 300.00, 2025-04-10) is returned once, then approved.
  R2 (PERSONNEL 800.00, 2025-05-20) is approved and voided on 2025-06-15.
* I, an incubation fund (restricted, 4401), award 5,000.00, budget ACTIVITY 4,000.00,
  SUPPLIES 1,000.00; tranche 5,000.00 paid 2025-03-01. R3 (ACTIVITY 2,000.00, 2025-06-01) is
  approved; 500.00 moves from SUPPLIES to ACTIVITY (10 % of the award: no approval needed).
  1,000.00 refunded 2025-11-10, returned by the bank 2025-11-20, refunded again 2025-12-10.
* P, a procurement contract (unrestricted, 4301), award 8,000.00, budget CONTRACTED 8,000.00;
  tranche 8,000.00 paid 2025-03-05. R4 (CONTRACTED 5,000.00, 2025-07-01) is approved.

The working, by hand:

  cash 1002 = 6,000 + 5,000 + 8,000 (received) − 1,500 − 2,000 − 5,000 (spent; R2 nets 0)
              − 1,000 (refunds: 1,000 − 1,000 + 1,000) = 9,500.00
  4401: restricted received 11,000; released in the same year within 4401: L 1,500, I 2,000
        (R2's 800 released and put back); I's refund debits 1,000 restricted
        → restricted 6,500 (L 4,500 + I 2,000), unrestricted 3,500, total credit 10,000
  4301: 8,000 unrestricted
  5101 = 1,200 + 2,000 + 5,000 = 8,200; 5201 = 300 (OFFICE is a management category)
  业务活动表 2025: revenue 非限定 11,500, 限定 6,500, 合计 18,000; expenses 8,500;
        line 40 = 0 (every restriction met in the year the grant was received);
        line 45 = 非限定 11,500 − 8,500 = 3,000, 限定 6,500, 合计 9,500
  资产负债表 2025-12-31: 货币资金 9,500 = 非限定性净资产 3,000 + 限定性净资产 6,500
  L at 2025-12-31: received 6,000, spent 1,500, refunded 0, held 4,500; admin 300 = 3.00 % of
        the award (cap 10.00 %); restricted net assets 4,500
  I at 2025-12-31: received 5,000, spent 2,000, refunded 1,000, held 2,000; RNA 2,000
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from ledger.database import unit_of_work
from ledger.demo_funds import active_fund, actor_named, cny, file_report, pay_tranche
from ledger.models.books import PeriodStatus
from ledger.models.disbursement import TrancheCondition
from ledger.models.fund import FundKind
from ledger.services import (
    budget_revisions,
    disbursements,
    expense_decisions,
    expense_reports,
    periods,
)
from ledger.services.audit_verification import verify_database
from ledger.services.pagination import PageRequest
from tests.conftest import DemoWorld

FUNDER_L = "武汉市民政局（福彩公益金）"


@dataclass(frozen=True)
class Year:
    organisation: uuid.UUID
    lottery: uuid.UUID
    incubation: uuid.UUID
    procurement: uuid.UUID
    first_refund: uuid.UUID


def _fund(
    organisation: uuid.UUID, kind: FundKind, reference: str, award: str, budget: dict[str, str], **terms: Any
) -> uuid.UUID:
    return active_fund(
        actor_named("admin"),
        organisation,
        kind,
        f"{reference} title",
        reference,
        terms.pop("funder", "江岸区民政局"),
        award,
        budget,
        [(terms.pop("tranche"), date(2025, 2, 1), TrancheCondition.NONE)],
        period_start=date(2025, 1, 1),
        period_end=terms.pop("period_end", date(2025, 12, 31)),
        **terms,
    )


def _approve(member: str, report: uuid.UUID) -> None:
    expense_decisions.submit_report(actor_named(member), report, None)
    expense_decisions.approve_report(actor_named("finance1"), report, None)


def _live_the_year(app: Flask, world: DemoWorld) -> Year:
    organisation = uuid.UUID(world.member_organisation["member01"])
    with app.app_context(), unit_of_work():
        lottery = _fund(
            organisation,
            FundKind.LOTTERY_GRANT,
            "L-2025",
            "10000.00",
            {"ACTIVITY": "6000.00", "PERSONNEL": "3000.00", "OFFICE": "1000.00"},
            tranche="6000.00",
            funder=FUNDER_L,
            period_end=date(2026, 12, 31),
            admin_cost_cap_percent=Decimal("10"),
            restriction_purpose="居家养老 home care",
            disclosure_deadline=date(2026, 6, 30),
        )
        incubation = _fund(
            organisation,
            FundKind.INCUBATION_FUND,
            "I-2025",
            "5000.00",
            {"ACTIVITY": "4000.00", "SUPPLIES": "1000.00"},
            tranche="5000.00",
            restriction_purpose="孵化 incubation",
        )
        procurement = _fund(
            organisation,
            FundKind.PROCUREMENT_CONTRACT,
            "P-2025",
            "8000.00",
            {"CONTRACTED": "8000.00"},
            tranche="8000.00",
            restricted=False,
            revenue_account="4301",
        )
        pay_tranche(lottery, 1, date(2025, 2, 10), "year-l-1")
        pay_tranche(incubation, 1, date(2025, 3, 1), "year-i-1")
        pay_tranche(procurement, 1, date(2025, 3, 5), "year-p-1")

        april = date(2025, 4, 10)
        r1 = file_report(
            "member01",
            lottery,
            "R1",
            [
                ("ACTIVITY", "1200.00", april, "康乐家政", "助浴"),
                ("OFFICE", "300.00", april, "晨光文具", "表格"),
            ],
        )
        expense_decisions.submit_report(actor_named("member01"), r1, None)
        expense_decisions.return_report(actor_named("finance1"), r1, "请补充签到表", None)
        _approve("member01", r1)
        r2 = file_report(
            "member01", lottery, "R2", [("PERSONNEL", "800.00", date(2025, 5, 20), "社工", "劳务")]
        )
        _approve("member01", r2)
        expense_decisions.void_report(
            actor_named("finance2"), r2, date(2025, 6, 15), "重复报销 claimed twice", None
        )
        r3 = file_report(
            "member01", incubation, "R3", [("ACTIVITY", "2000.00", date(2025, 6, 1), "场地", "活动")]
        )
        _approve("member01", r3)
        budget_revisions.propose_budget_revision(
            actor_named("member01"),
            incubation,
            {"SUPPLIES": cny("-500.00"), "ACTIVITY": cny("500.00")},
            "more activities",
            "year-revision-1",
        )
        r4 = file_report(
            "member01",
            procurement,
            "R4",
            [("CONTRACTED", "5000.00", date(2025, 7, 1), "康复中心", "康复训练")],
        )
        _approve("member01", r4)
        first = disbursements.refund_unspent(
            actor_named("finance1"), incubation, cny("1000.00"), date(2025, 11, 10), "退款-1", "year-refund-1"
        )
        disbursements.reverse_refund(
            actor_named("finance1"),
            incubation,
            first.entry.id,
            date(2025, 11, 20),
            "账户信息有误 wrong account",
        )
        disbursements.refund_unspent(
            actor_named("finance1"), incubation, cny("1000.00"), date(2025, 12, 10), "退款-2", "year-refund-2"
        )
        first_refund = first.entry.id
        for month in range(1, 13):
            periods.set_period_status(
                actor_named("finance1"), organisation, 2025, month, PeriodStatus.CLOSED, None, None
            )
    return Year(organisation, lottery, incubation, procurement, first_refund)


def _get(client: FlaskClient, world: DemoWorld, url: str) -> Any:
    response = client.get(url, headers=world.auth("finance1"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_year_of_three_funds_gives_the_figures_worked_out_by_hand(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    year = _live_the_year(app, world)
    organisation = year.organisation

    trial = _get(client, world, f"/api/v1/organisations/{organisation}/trial-balance?as_of=2025-12-31")
    assert {row["account_code"]: row["balance"] for row in trial["rows"]} == {
        "1002": "9500.00",
        "4301": "-8000.00",
        "4401": "-10000.00",
        "5101": "8200.00",
        "5201": "300.00",
    }

    lottery = _get(client, world, f"/api/v1/funds/{year.lottery}/summary")
    assert {k: lottery[k] for k in lottery if k not in ("fund_id", "tranches")} == {
        "currency": "CNY",
        "status": "active",
        "awarded": "10000.00",
        "disbursed": "6000.00",
        "spent": "1500.00",
        "refunded": "0.00",
        "unspent": "4500.00",
        "unspent_cash": "4500.00",
        "pending": "0.00",
        "admin_costs": "300.00",
        "admin_cost_percent": "3.00",
        "admin_cost_cap_percent": "10.00",
        "admin_cost_within_cap": True,
        "restricted_net_assets": "4500.00",
    }
    incubation = _get(client, world, f"/api/v1/funds/{year.incubation}/summary")
    assert (
        incubation["disbursed"],
        incubation["spent"],
        incubation["refunded"],
        incubation["unspent_cash"],
    ) == (
        "5000.00",
        "2000.00",
        "1000.00",
        "2000.00",
    )
    assert incubation["restricted_net_assets"] == "2000.00"
    procurement = _get(client, world, f"/api/v1/funds/{year.procurement}/summary")
    assert (procurement["spent"], procurement["unspent_cash"], procurement["restricted_net_assets"]) == (
        "5000.00",
        "3000.00",
        "0.00",
    )

    # R2 was voided: PERSONNEL counts nothing. ACTIVITY 1,200 / 6,000 = 20.00 %; OFFICE 30.00 %.
    executed = _get(client, world, f"/api/v1/funds/{year.lottery}/budget-vs-actual")["categories"]
    assert [
        (c["category_code"], c["revised_budget"], c["approved"], c["remaining"], c["executed_percent"])
        for c in executed
    ] == [
        ("ACTIVITY", "6000.00", "1200.00", "4800.00", "20.00"),
        ("OFFICE", "1000.00", "300.00", "700.00", "30.00"),
        ("PERSONNEL", "3000.00", "0.00", "3000.00", "0.00"),
    ]
    # I's revision moved 500.00: ACTIVITY 2,000 / 4,500 = 44.44 %.
    executed = _get(client, world, f"/api/v1/funds/{year.incubation}/budget-vs-actual")["categories"]
    assert [
        (c["category_code"], c["budget"], c["revised_budget"], c["executed_percent"]) for c in executed
    ] == [
        ("ACTIVITY", "4000.00", "4500.00", "44.44"),
        ("SUPPLIES", "1000.00", "500.00", "0.00"),
    ]
    # The agreed budget holds from the fund's first day, though it was typed in later.
    budget = _get(client, world, f"/api/v1/funds/{year.lottery}/budget?as_of=2025-06-30")
    assert budget["lines"] == {"ACTIVITY": "6000.00", "OFFICE": "1000.00", "PERSONNEL": "3000.00"}

    use = _get(client, world, f"/api/v1/funds/{year.lottery}/statements/fund-use?period=2025-01..2025-12")
    assert use["received"] == {"this_period": "6000.00", "cumulative": "6000.00"}
    assert [
        (
            c["code"],
            c["budget"],
            c["revised_budget"],
            c["this_period"],
            c["cumulative"],
            c["remaining"],
            c["executed_percent"],
        )
        for c in use["categories"]
    ] == [
        ("ACTIVITY", "6000.00", "6000.00", "1200.00", "1200.00", "4800.00", "20.00"),
        ("OFFICE", "1000.00", "1000.00", "300.00", "300.00", "700.00", "30.00"),
        ("PERSONNEL", "3000.00", "3000.00", "0.00", "0.00", "3000.00", "0.00"),
    ]
    assert use["spending"] == {"this_period": "1500.00", "cumulative": "1500.00", "budget": "10000.00"}
    assert use["admin_costs"] == {
        "cumulative": "300.00",
        "percent": "3.00",
        "cap_percent": "10.00",
        "within_cap": True,
    }
    assert use["unspent"] == {
        "received": "6000.00",
        "spent": "1500.00",
        "refunded": "0.00",
        "balance": "4500.00",
        "other_cash": "0.00",
        "held_in_bank": "4500.00",
    }
    assert [(v["report"], v["amount"], v["voided_on"]) for v in use["vouchers"]] == [
        ("R1", "1200.00", None),
        ("R1", "300.00", None),
        ("R2", "800.00", "2025-06-15"),
    ]
    # The second half of the year, for I: the money came in March; one refund stands.
    use = _get(client, world, f"/api/v1/funds/{year.incubation}/statements/fund-use?period=2025-07..2025-12")
    assert use["received"] == {"this_period": "0.00", "cumulative": "5000.00"}
    assert use["spending"]["this_period"] == "0.00"
    assert (use["unspent"]["refunded"], use["unspent"]["balance"], use["unspent"]["held_in_bank"]) == (
        "1000.00",
        "2000.00",
        "2000.00",
    )

    disclosure = _get(client, world, f"/api/v1/statements/lottery-disclosure?funder={FUNDER_L}&year=2025")
    assert {
        k: disclosure["scale"][k] for k in ("awarded", "paid_in_year", "spent_in_year", "executed_percent")
    } == {
        "awarded": "10000.00",
        "paid_in_year": "6000.00",
        "spent_in_year": "1500.00",
        "executed_percent": "15.00",
    }
    assert disclosure["scale"]["approved_reports_in_year"] == 1
    assert [(c["code"], c["amount"], c["percent"]) for c in disclosure["spending_by_category"]] == [
        ("ACTIVITY", "1200.00", "80.00"),
        ("OFFICE", "300.00", "20.00"),
    ]

    statements = _get(
        client, world, f"/api/v1/organisations/{organisation}/statements/financial?period=2025-01..2025-12"
    )
    activities = {
        row["line"]: (row["unrestricted"], row["restricted"], row["total"])
        for row in statements["activities"]["rows"]
        if row["line"]
    }
    assert activities[3] == ("8000.00", "0.00", "8000.00")
    assert activities[5] == ("3500.00", "6500.00", "10000.00")
    assert activities[11] == ("11500.00", "6500.00", "18000.00")
    assert activities[12] == ("8200.00", "0.00", "8200.00")
    assert activities[21] == ("300.00", "0.00", "300.00")
    assert activities[35] == ("8500.00", "0.00", "8500.00")
    assert activities[40] == ("0.00", "0.00", "0.00")
    assert activities[45] == ("3000.00", "6500.00", "9500.00")
    sheet = {
        row["line"]: row["closing"]
        for side in ("assets", "liabilities_and_net_assets")
        for row in statements["balance_sheet"][side]
        if row["line"]
    }
    assert (sheet[1], sheet[60], sheet[101], sheet[105], sheet[110], sheet[120]) == (
        "9500.00",
        "9500.00",
        "3000.00",
        "6500.00",
        "9500.00",
        "9500.00",
    )
    # 会民非03表: grants 6,000 + 5,000 (line 5), the contract 8,000 (line 3); paid for goods and
    # services 1,200 + 300 + 2,000 + 5,000 (line 16; R2's staff cost paid and put back: line 15
    # nets 0); refunds 1,000 (line 19); net 19,000 − 9,500 = 9,500 = the change in cash.
    flows = {row["line"]: row["amount"] for row in statements["cash_flows"]["rows"] if row["line"]}
    assert (
        flows[3],
        flows[5],
        flows[13],
        flows[15],
        flows[16],
        flows[19],
        flows[23],
        flows[24],
        flows[61],
    ) == (
        "8000.00",
        "11000.00",
        "19000.00",
        "0.00",
        "8500.00",
        "1000.00",
        "9500.00",
        "9500.00",
        "9500.00",
    )
    assert statements["cash_flows"]["reconciled"] is True
    assert statements["provisional"] is False  # 2025 is over and every month of it is closed

    # The trail replays every table it touched: voided reports, reversed refunds, closed months.
    with app.app_context():
        result = verify_database()
    assert result.ok, result.lines()


def test_the_next_year_opens_from_the_closed_one(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    """2025 is closed; in 2026 money carried in restricted net assets is spent, refunded and put back.

    Closing 2025 (年末结转): 4401 非限定 3,500 + 4301 8,000 → 3101 11,500; expenses 8,500 → 3101;
    4401 限定 6,500 → 3102. So 3101 = 3,000 and 3102 = 6,500, and no revenue or expense is left.

    2026, money received in 2025 (so it sits in 3102, not in this year's revenue):
      R5, L ACTIVITY 700.00 on 2026-02-15: Dr 5101 / Cr 1002 700; release Dr 3102 / Cr 3101 700.
      I refunds 1,000.00 on 2026-03-01: Dr 5201 管理费用 1,000 / Cr 1002; Dr 3102 / Cr 3101 1,000.
      R3 (I, approved 2025-06-01) is voided on 2026-04-01: Cr 5101 / Dr 1002 2,000, and its 2025
        release, closed into net assets since, comes back as Dr 3101 / Cr 3102 2,000.
    1002 = 9,500 − 700 − 1,000 + 2,000 = 9,800; 3101 = 3,000 + 700 + 1,000 − 2,000 = 2,700;
    3102 = 6,500 − 700 − 1,000 + 2,000 = 6,800; 5101 = 700 − 2,000 = −1,300; 5201 = 1,000.
    业务活动表 2026: expenses 5101 −1,300, 5201 1,000, total −300; line 40 = 700 + 1,000 − 2,000
    = −300 (非限定 −300, 限定 +300); line 45 = 非限定 0 − (−300) − 300 = 0, 限定 300, 合计 300,
    which is 110 moving from 9,500 to 9,800. Cash flows: line 16 = 700 − 2,000 = −1,300, line 19
    = 1,000, net +300.
    """
    year = _live_the_year(app, world)
    organisation = year.organisation
    closed = client.post(
        f"/api/v1/organisations/{organisation}/years/2025/close", headers=world.auth("finance1")
    )
    assert closed.status_code == 200, closed.get_json()
    trial = _get(client, world, f"/api/v1/organisations/{organisation}/trial-balance?as_of=2025-12-31")
    assert {row["account_code"]: row["balance"] for row in trial["rows"]} == {
        "1002": "9500.00",
        "3101": "-3000.00",
        "3102": "-6500.00",
        "4301": "0.00",
        "4401": "0.00",
        "5101": "0.00",
        "5201": "0.00",
    }
    # Closing moves balances; it does not change what the year's statements say.
    statements = _get(
        client, world, f"/api/v1/organisations/{organisation}/statements/financial?period=2025-01..2025-12"
    )
    activities = {r["line"]: r["total"] for r in statements["activities"]["rows"] if r["line"]}
    assert (activities[11], activities[35], activities[45]) == ("18000.00", "8500.00", "9500.00")

    with app.app_context(), unit_of_work():
        r5 = file_report(
            "member01", year.lottery, "R5", [("ACTIVITY", "700.00", date(2026, 2, 15), "康乐家政", "助浴")]
        )
        _approve("member01", r5)
        disbursements.refund_unspent(
            actor_named("finance1"),
            year.incubation,
            cny("1000.00"),
            date(2026, 3, 1),
            "退款-3",
            "year-refund-3",
        )
        r3 = next(
            r.id
            for r in expense_reports.list_reports(
                actor_named("finance1"), PageRequest(1, 50), fund_id=year.incubation
            ).items
        )
        expense_decisions.void_report(
            actor_named("finance2"), r3, date(2026, 4, 1), "场地未使用 venue not used", None
        )

    trial = _get(client, world, f"/api/v1/organisations/{organisation}/trial-balance?as_of=2026-10-31")
    assert {row["account_code"]: row["balance"] for row in trial["rows"]} == {
        "1002": "9800.00",
        "3101": "-2700.00",
        "3102": "-6800.00",
        "4301": "0.00",
        "4401": "0.00",
        "5101": "-1300.00",
        "5201": "1000.00",
    }
    statements = _get(
        client, world, f"/api/v1/organisations/{organisation}/statements/financial?period=2026-01..2026-10"
    )
    activities = {
        r["line"]: (r["unrestricted"], r["restricted"], r["total"])
        for r in statements["activities"]["rows"]
        if r["line"]
    }
    assert activities[11] == ("0.00", "0.00", "0.00")
    assert activities[12] == ("-1300.00", "0.00", "-1300.00")
    assert activities[21] == ("1000.00", "0.00", "1000.00")
    assert activities[35] == ("-300.00", "0.00", "-300.00")
    assert activities[40] == ("-300.00", "300.00", "0.00")
    assert activities[45] == ("0.00", "300.00", "300.00")
    sheet = {
        row["line"]: (row["opening"], row["closing"])
        for side in ("assets", "liabilities_and_net_assets")
        for row in statements["balance_sheet"][side]
        if row["line"]
    }
    assert (sheet[1], sheet[101], sheet[105], sheet[110]) == (
        ("9500.00", "9800.00"),
        ("3000.00", "3000.00"),
        ("6500.00", "6800.00"),
        ("9500.00", "9800.00"),
    )
    flows = {row["line"]: row["amount"] for row in statements["cash_flows"]["rows"] if row["line"]}
    assert (flows[16], flows[19], flows[23], flows[61]) == ("-1300.00", "1000.00", "-300.00", "300.00")
    # The months of 2026 are not closed: the statement says it is provisional.
    assert statements["provisional"] is True
    assert "months_open" in statements["provisional_reasons"]

    lottery = _get(client, world, f"/api/v1/funds/{year.lottery}/summary")
    assert (lottery["spent"], lottery["unspent_cash"], lottery["restricted_net_assets"]) == (
        "2200.00",
        "3800.00",
        "3800.00",
    )
    incubation = _get(client, world, f"/api/v1/funds/{year.incubation}/summary")
    assert (
        incubation["spent"],
        incubation["refunded"],
        incubation["unspent"],
        incubation["unspent_cash"],
        incubation["restricted_net_assets"],
    ) == ("0.00", "2000.00", "3000.00", "3000.00", "3000.00")
    with app.app_context():
        result = verify_database()
    assert result.ok, result.lines()
