"""An organisation's 资产负债表 and 业务活动表 figures, drawn from books built through the HTTP API."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import ledger
from ledger.database import unit_of_work
from ledger.errors import NotFound, ValidationFailed
from ledger.extensions import db
from ledger.models import User
from ledger.models.books import Side
from ledger.models.reference import Account
from ledger.money import Money
from ledger.services import books
from ledger.services.access import Actor
from ledger.services.statement_figures.organisation import (
    ACTIVITY_LINES,
    ASSET_LINES,
    LIABILITY_LINES,
    UnmappedAccountError,
    account_line_map,
    unmapped_accounts,
)
from tests.builders import (
    MEMBER,
    approve_and_pay_tranche,
    cash_flow_line_for,
    file_and_approve_report,
    fund_with_schedule,
    known_year,
    post_adjustment,
    refund_to_funder,
    report_line,
)
from tests.conftest import DemoWorld
from tests.helpers import activity_text, balance_sheet_text, organisation_figures_between

CHART = Path(ledger.__file__).parent / "reference" / "charts" / "NPO-2005.json"

# Every 行次 of 会民非01表 and 会民非02表 (domain.md section 1.4), in the order of the forms.
ASSET_LINE_NUMBERS = [1, 2, 3, 4, 8, 9, 15, 18, 20, 21, 24, 30, 31, 32, 33, 34, 35, 38, 40, 41, 51, 60]
LIABILITY_LINE_NUMBERS = [61, 62, 63, 65, 66, 71, 72, 74, 78, 80, 81, 84, 88, 90, 91, 100, 101, 105, 110, 120]
ACTIVITY_LINE_NUMBERS = [1, 2, 3, 4, 5, 6, 9, 11, 12, 21, 24, 28, 35, 40, 45]


# --- helpers -----------------------------------------------------------------------------------


def _minor(text: str) -> int:
    return Money.parse(text, "CNY").minor


def _sheet(figures: dict[str, Any]) -> dict[int, tuple[int, int]]:
    """Balance-sheet line -> (opening, closing) in minor units."""
    sheet = figures["balance_sheet"]
    return {
        row["line"]: (_minor(row["opening"]), _minor(row["closing"]))
        for row in sheet["assets"] + sheet["liabilities_and_net_assets"]
        if row["line"] is not None
    }


def _activities(figures: dict[str, Any]) -> dict[int, tuple[int, int, int]]:
    """Activity line -> (unrestricted, restricted, total) in minor units."""
    return {
        row["line"]: (_minor(row["unrestricted"]), _minor(row["restricted"]), _minor(row["total"]))
        for row in figures["activities"]["rows"]
        if row["line"] is not None
    }


def _assert_identities(figures: dict[str, Any]) -> None:
    """The arithmetic every filing validator checks, plus the reconciliation of the two statements."""
    sheet, activity = _sheet(figures), _activities(figures)
    other = figures["activities"]["other_net_asset_movements"]
    assert figures["balance_sheet"]["balanced"] is True
    for column in (0, 1):
        assert sheet[60][column] == sheet[120][column]
        assert sheet[60][column] == sum(sheet[n][column] for n in (20, 30, 40, 41, 51))
        assert sheet[120][column] == sheet[100][column] + sheet[110][column]
        assert sheet[110][column] == sheet[101][column] + sheet[105][column]
        assert sheet[33][column] == sheet[31][column] - sheet[32][column]
    for column in (0, 1, 2):
        assert activity[11][column] == sum(activity[n][column] for n in (1, 2, 3, 4, 5, 6, 9))
        assert activity[35][column] == sum(activity[n][column] for n in (12, 21, 24, 28))
    for line, (unrestricted, restricted, total) in activity.items():
        assert unrestricted + restricted == total, line
    # Expenses are borne by unrestricted net assets; a reclassification nets to zero.
    assert activity[35][1] == 0
    assert activity[40][2] == 0
    assert activity[40][0] == -activity[40][1]
    # 净资产变动额 = 收入合计 − 费用合计 ± 转入/转出, per column.
    assert activity[45][0] == activity[11][0] - activity[35][0] + activity[40][0]
    assert activity[45][1] == activity[11][1] + activity[40][1]
    # ... and it is the movement of the balance sheet's net assets (with any direct postings to
    # 3101/3102 that the 2004 form has no row for).
    moved_101 = sheet[101][1] - sheet[101][0]
    moved_105 = sheet[105][1] - sheet[105][0]
    moved_110 = sheet[110][1] - sheet[110][0]
    assert activity[45][0] + _minor(other["unrestricted"]) == moved_101
    assert activity[45][1] + _minor(other["restricted"]) == moved_105
    assert activity[45][2] + _minor(other["total"]) == moved_110


def _chart_codes() -> dict[str, str]:
    """Code -> class of every account of the NPO-2005 chart file."""
    return {a["code"]: a["class"] for a in json.loads(CHART.read_text(encoding="utf-8"))["accounts"]}


# --- a known year ------------------------------------------------------------------------------


def test_a_year_with_a_restricted_grant_gives_the_expected_figures(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    organisation = known_year(client, world)
    figures = organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31")
    json.dumps(figures)  # plain data only: the API and the PDF attachment serialise it as is

    with app.app_context():
        from ledger.models import Organisation

        known = db.session.get(Organisation, uuid.UUID(organisation))
        assert known is not None
        expected_organisation = {"id": organisation, "name": known.name, "credit_code": known.credit_code}
    assert figures["statement"] == "organisation"
    assert figures["organisation"] == expected_organisation
    assert figures["currency"] == "CNY"
    assert figures["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert figures["balance_sheet"]["opening_date"] == "2025-12-31"
    assert figures["balance_sheet"]["closing_date"] == "2026-12-31"

    assets, right = "assets", "liabilities_and_net_assets"
    assert balance_sheet_text(figures, assets, 1) == (
        "500.00",
        "21987.50",
    )  # 货币资金: 500 cash + 21,487.50 bank
    assert balance_sheet_text(figures, assets, 20) == ("500.00", "21987.50")
    assert balance_sheet_text(figures, assets, 31) == ("0.00", "6000.00")
    assert balance_sheet_text(figures, assets, 32) == ("0.00", "500.00")  # 减：累计折旧, printed positive
    assert balance_sheet_text(figures, assets, 33) == ("0.00", "5500.00")
    assert balance_sheet_text(figures, assets, 40) == ("0.00", "5500.00")
    assert balance_sheet_text(figures, assets, 60) == ("500.00", "27487.50")  # 资产总计
    assert balance_sheet_text(figures, right, 62) == ("0.00", "6000.00")  # 应付款项 (2202)
    assert balance_sheet_text(figures, right, 100) == ("0.00", "6000.00")
    # 3101 0 + 500.00 (2025 dues) + 21,512.50 unrestricted revenue − 20,025.00 expenses
    assert balance_sheet_text(figures, right, 101) == ("500.00", "1987.50")
    # 3102 0 + 19,500.00 restricted revenue (40,000.00 − 19,500.00 released − 1,000.00 refunded)
    assert balance_sheet_text(figures, right, 105) == ("0.00", "19500.00")
    assert balance_sheet_text(figures, right, 110) == ("500.00", "21487.50")
    assert balance_sheet_text(figures, right, 120) == ("500.00", "27487.50")  # 负债和净资产总计

    assert activity_text(figures, 1) == ("2000.00", "0.00", "2000.00")  # 捐赠收入
    assert activity_text(figures, 2) == ("0.00", "0.00", "0.00")  # 2025's dues are not 2026's
    # 政府补助收入: 19,500.00 released to unrestricted; 40,000.00 − 19,500.00 − 1,000.00 refunded
    assert activity_text(figures, 5) == ("19500.00", "19500.00", "39000.00")
    assert activity_text(figures, 6) == ("12.50", "0.00", "12.50")
    assert activity_text(figures, 11) == ("21512.50", "19500.00", "41012.50")  # 收入合计
    assert activity_text(figures, 12) == ("18000.00", "0.00", "18000.00")
    assert activity_text(figures, 21) == ("2000.00", "0.00", "2000.00")  # office 1,500 + depreciation
    assert activity_text(figures, 24) == ("25.00", "0.00", "25.00")
    assert activity_text(figures, 28) == ("0.00", "0.00", "0.00")
    assert activity_text(figures, 35) == ("20025.00", "0.00", "20025.00")  # 费用合计
    assert activity_text(figures, 40) == ("0.00", "0.00", "0.00")  # released within the revenue
    assert activity_text(figures, 45) == ("1487.50", "19500.00", "20987.50")  # 净资产变动额
    assert figures["activities"]["other_net_asset_movements"] == {
        "unrestricted": "0.00",
        "restricted": "0.00",
        "total": "0.00",
    }
    _assert_identities(figures)
    # Without direct postings to net assets, line 45 is exactly the movement of 101, 105 and 110.
    sheet, activity = _sheet(figures), _activities(figures)
    for column, line in ((0, 101), (1, 105), (2, 110)):
        assert activity[45][column] == sheet[line][1] - sheet[line][0]

    # The USD books are a statement of their own.
    dollars = organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31", "USD")
    assert balance_sheet_text(dollars, assets, 1) == ("0.00", "100.00")
    assert activity_text(dollars, 1) == ("100.00", "0.00", "100.00")
    _assert_identities(dollars)


def test_the_full_layout_is_printed_in_order_with_bilingual_labels(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    organisation = world.member_organisation[MEMBER]
    figures = organisation_figures_between(
        app, organisation, "2026-01-01", "2026-12-31"
    )  # empty books: all zero
    sheet = figures["balance_sheet"]
    assert [r["line"] for r in sheet["assets"] if r["line"] is not None] == ASSET_LINE_NUMBERS
    assert [r["line"] for r in sheet["liabilities_and_net_assets"] if r["line"] is not None] == (
        LIABILITY_LINE_NUMBERS
    )
    rows = figures["activities"]["rows"]
    assert [r["line"] for r in rows if r["line"] is not None] == ACTIVITY_LINE_NUMBERS
    for row in sheet["assets"] + sheet["liabilities_and_net_assets"]:
        assert row["label_zh"]
        assert row["label_en"]
        assert row["level"] in {"heading", "item", "subtotal", "total"}
        if row["level"] == "heading":
            assert (row["line"], row["opening"], row["closing"]) == (None, None, None)
        else:
            assert (row["opening"], row["closing"]) == ("0.00", "0.00")
    for row in rows:
        assert row["label_zh"]
        assert row["label_en"]
        if row["level"] == "heading":
            assert (row["line"], row["unrestricted"], row["restricted"], row["total"]) == (None,) * 4
        else:
            assert (row["unrestricted"], row["restricted"], row["total"]) == ("0.00",) * 3
    labels = {r["line"]: (r["label_zh"], r["label_en"]) for r in sheet["liabilities_and_net_assets"]}
    assert labels[101] == ("非限定性净资产", "Unrestricted net assets")
    assert labels[105] == ("限定性净资产", "Restricted net assets")
    assert next(r for r in sheet["assets"] if r["line"] == 60)["label_zh"] == "资产总计"
    assert next(r for r in rows if r["line"] == 40)["label_en"].endswith(
        "Restricted net assets reclassified to unrestricted"
    )
    _assert_identities(figures)


def test_the_forms_write_their_dates_as_the_official_forms_do(app: Flask, world: DemoWorld) -> None:
    organisation = world.member_organisation[MEMBER]
    for start, end, closing, period in (
        ("2026-01-01", "2026-12-31", ("2026年12月31日", "31 December 2026"), ("2026年度", "Year 2026")),
        (
            "2026-01-01",
            "2026-06-30",
            ("2026年6月30日", "30 June 2026"),
            ("2026年1月—6月", "January–June 2026"),
        ),
        ("2026-03-01", "2026-03-31", ("2026年3月31日", "31 March 2026"), ("2026年3月", "March 2026")),
        (
            "2025-09-01",
            "2026-02-28",
            ("2026年2月28日", "28 February 2026"),
            ("2025年9月—2026年2月", "September 2025 – February 2026"),
        ),
        (
            "2026-03-10",
            "2026-06-15",
            ("2026年6月15日", "15 June 2026"),
            ("2026年3月10日—2026年6月15日", "10 March 2026 – 15 June 2026"),
        ),
        ("2026-03-10", "2026-03-10", ("2026年3月10日", "10 March 2026"), ("2026年3月10日", "10 March 2026")),
    ):
        dates = organisation_figures_between(app, organisation, start, end)["dates"]
        assert dates["balance_sheet"] == {"zh": closing[0], "en": closing[1]}, (start, end)
        assert dates["period"] == {"zh": period[0], "en": period[1]}, (start, end)


def test_a_period_opens_where_the_previous_one_closed(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    organisation = known_year(client, world)
    year = _sheet(organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31"))
    after = organisation_figures_between(app, organisation, "2027-01-01", "2027-12-31")
    assert {line: opening for line, (opening, _) in _sheet(after).items()} == {
        line: closing for line, (_, closing) in year.items()
    }
    # Nothing happens in 2027: the statement of activities is all zeros and nothing moves.
    assert all(amounts == (0, 0, 0) for amounts in _activities(after).values())
    assert all(opening == closing for opening, closing in _sheet(after).values())
    _assert_identities(after)

    # Two halves make the year: the second opens at the first's close, and their activities add up.
    first = organisation_figures_between(app, organisation, "2026-01-01", "2026-06-30")
    second = organisation_figures_between(app, organisation, "2026-07-01", "2026-12-31")
    assert {line: o for line, (o, _) in _sheet(second).items()} == {
        line: c for line, (_, c) in _sheet(first).items()
    }
    whole = _activities(organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31"))
    halves = [_activities(first), _activities(second)]
    assert {
        line: tuple(a + b for a, b in zip(halves[0][line], halves[1][line], strict=True)) for line in whole
    } == whole
    for figures in (first, second):
        _assert_identities(figures)
    # A one-day period on the day of the expense report holds exactly its release.
    day = organisation_figures_between(app, organisation, "2026-03-10", "2026-03-10")
    assert activity_text(day, 5) == ("19500.00", "-19500.00", "0.00")
    assert activity_text(day, 40) == ("0.00", "0.00", "0.00")
    assert activity_text(day, 35) == ("19500.00", "0.00", "19500.00")


def test_every_chart_account_feeds_exactly_one_line(app: Flask) -> None:
    chart = _chart_codes()
    assert len(chart) == 48
    with app.app_context():
        loaded = set(db.session.scalars(select(Account.code).where(Account.chart_version == "NPO-2005")))
    assert loaded == set(chart)
    # A new account added to the chart without a line here must fail this test.
    assert unmapped_accounts(chart) == []
    assert unmapped_accounts([*chart, "1999"]) == ["1999"]

    mapping = account_line_map()  # raises if an account had two lines
    assert set(mapping) == set(chart)
    asset_lines = {row.line for row in ASSET_LINES}
    liability_lines = {row.line for row in LIABILITY_LINES}
    activity_lines = {row.line for row in ACTIVITY_LINES}
    for code, kind in chart.items():
        statement, line = mapping[code]
        if kind == "asset":
            assert (statement, line in asset_lines) == ("balance_sheet", True), code
        elif kind in ("liability", "net_assets"):
            assert (statement, line in liability_lines) == ("balance_sheet", True), code
        else:
            assert kind in ("revenue", "expense")
            assert (statement, line in activity_lines) == ("activities", True), code
    # Contra accounts sit on the line they reduce.
    assert mapping["1102"] == ("balance_sheet", 2)
    assert mapping["1131"] == ("balance_sheet", 3)
    assert mapping["1202"] == ("balance_sheet", 8)
    assert mapping["1421"] == ("balance_sheet", 21)
    assert mapping["1502"] == ("balance_sheet", 32)
    assert issubclass(UnmappedAccountError, RuntimeError)


def test_unknown_organisation_and_reversed_period_are_refused(app: Flask, world: DemoWorld) -> None:
    organisation = world.member_organisation[MEMBER]
    with pytest.raises(NotFound):
        organisation_figures_between(app, str(uuid.uuid4()), "2026-01-01", "2026-12-31")
    with pytest.raises(ValidationFailed) as refused:
        organisation_figures_between(app, organisation, "2026-12-31", "2026-01-01")
    assert "period" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31", "XYZ")
    assert "currency" in refused.value.errors


def test_direct_postings_to_net_assets_are_shown_beside_the_form(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    """A hand-posted release counts as line 40; a posting straight into 3101 is no revenue."""
    organisation = world.member_organisation[MEMBER]
    post_adjustment(client, world, organisation, "2026-01-01", "期初 opening balance taken over", [("1002", "debit", "3000.00"), ("3101", "credit", "1000.00"), ("3102", "credit", "2000.00")])  # fmt: skip
    release = post_adjustment(client, world, organisation, "2026-04-01", "限定解除 time restriction expired", [("3102", "debit", "800.00"), ("3101", "credit", "800.00")])  # fmt: skip
    # A release and a correction in one entry: only the shared 300.00 is a reclassification.
    post_adjustment(client, world, organisation, "2026-05-01", "release and correction", [("3102", "debit", "300.00"), ("1002", "debit", "200.00"), ("3101", "credit", "500.00")])  # fmt: skip
    figures = organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31")
    _assert_identities(figures)
    assert activity_text(figures, 11) == ("0.00", "0.00", "0.00")
    assert activity_text(figures, 40) == ("1100.00", "-1100.00", "0.00")
    assert activity_text(figures, 45) == ("1100.00", "-1100.00", "0.00")
    assert figures["activities"]["other_net_asset_movements"] == {
        "unrestricted": "1200.00",
        "restricted": "2000.00",
        "total": "3200.00",
    }
    assert balance_sheet_text(figures, "liabilities_and_net_assets", 101) == ("0.00", "2300.00")
    assert balance_sheet_text(figures, "liabilities_and_net_assets", 105) == ("0.00", "900.00")
    assert balance_sheet_text(figures, "assets", 1) == ("0.00", "3200.00")

    # Reversing the release takes it back off line 40 (a negative reclassification).
    reversal = client.post(
        f"/api/v1/journal-entries/{release['id']}/reversal",
        json={"date": "2026-04-15", "reason": "the restriction had not expired"},
        headers=world.auth("finance1"),
    )
    assert reversal.status_code == 201, reversal.get_json()
    figures = organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31")
    _assert_identities(figures)
    assert activity_text(figures, 40) == ("300.00", "-300.00", "0.00")
    assert activity_text(organisation_figures_between(app, organisation, "2026-04-15", "2026-04-15"), 40) == (
        "-800.00",
        "800.00",
        "0.00",
    )
    assert figures["activities"]["other_net_asset_movements"]["total"] == "3200.00"
    assert balance_sheet_text(figures, "liabilities_and_net_assets", 101) == ("0.00", "1500.00")
    assert balance_sheet_text(figures, "liabilities_and_net_assets", 105) == ("0.00", "1700.00")


# --- random books ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Posted:
    """One posting as the test modelled it: signed debits minus credits, in minor units."""

    on: date
    account: str
    restricted: bool
    amount: int


def _model_sheet(model: list[_Posted], before: date) -> dict[int, int]:
    """The few balance-sheet lines the test recomputes on its own, from postings before ``before``."""
    seen = [p for p in model if p.on < before]

    def debit(prefixes: tuple[str, ...], restricted: bool | None = None) -> int:
        return sum(
            p.amount
            for p in seen
            if p.account.startswith(prefixes) and (restricted is None or p.restricted == restricted)
        )

    return {
        1: debit(("1001", "1002", "1009")),
        60: debit(("1",)),
        100: -debit(("2",)),
        101: -debit(("3101",)) - debit(("4",), restricted=False) - debit(("5",)),
        105: -debit(("3102",)) - debit(("4",), restricted=True),
    }


def _model_activity(model: list[_Posted], start: date, end: date) -> dict[str, int]:
    seen = [p for p in model if start <= p.on <= end]
    return {
        "revenue_unrestricted": -sum(p.amount for p in seen if p.account[0] == "4" and not p.restricted),
        "revenue_restricted": -sum(p.amount for p in seen if p.account[0] == "4" and p.restricted),
        "expenses": sum(p.amount for p in seen if p.account[0] == "5"),
    }


def _finance_officer() -> Actor:
    user = db.session.scalar(select(User).where(User.username == "finance1"))
    assert user is not None
    return Actor.of(user)


def _random_lines(rng: random.Random, codes: list[str]) -> list[tuple[str, Side, int, str | None]]:
    """A balanced entry of 2–4 lines on random accounts; revenue lines get a random restriction."""
    debits = [rng.randint(1, 5_000_000) for _ in range(rng.randint(1, 2))]
    total = sum(debits)
    if rng.random() < 0.5 and total > 1:
        cut = rng.randint(1, total - 1)
        credits = [cut, total - cut]
    else:
        credits = [total]
    lines: list[tuple[str, Side, int, str | None]] = []
    for side, amounts in ((Side.DEBIT, debits), (Side.CREDIT, credits)):
        for amount in amounts:
            code = rng.choice(codes)
            restriction = rng.choice([None, "unrestricted", "restricted"]) if code[0] == "4" else None
            lines.append((code, side, amount, restriction))
    return lines


def test_random_books_keep_the_statements_balanced_and_reconciled(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    rng = random.Random(20260417)
    organisation = world.member_organisation[MEMBER]
    codes = sorted(_chart_codes())
    # Lean on liability, revenue and net-asset accounts so that every part of the layout moves.
    weighted = codes + [c for c in codes if c[0] in "234"] * 2
    model: list[_Posted] = []
    entries: dict[str, list[_Posted]] = {}

    # A restricted grant paid, partly spent (which releases the restriction) and partly refunded.
    fund = fund_with_schedule(client, world)
    approve_and_pay_tranche(client, world, fund, fund["tranches"][0], "ICBC-R", "2026-01-16")
    model += [
        _Posted(date(2026, 1, 16), "1002", False, 4_000_000),
        _Posted(date(2026, 1, 16), "4401", True, -4_000_000),
    ]
    file_and_approve_report(client, world, fund, MEMBER, [report_line(client, world, "ACTIVITY", "5000.00")])
    march = date(2026, 3, 10)
    model += [_Posted(march, "5101", False, 500_000), _Posted(march, "1002", False, -500_000)]
    # Received this year, so released within the revenue account (restricted -> unrestricted).
    model += [_Posted(march, "4401", True, 500_000), _Posted(march, "4401", False, -500_000)]
    # A restriction met on restricted net assets is reclassified by hand (the activity's line 40).
    april = date(2026, 4, 1)
    release = [_Posted(april, "3102", False, 30_000), _Posted(april, "3101", False, -30_000)]
    posted_release = post_adjustment(client, world, organisation, april.isoformat(), "限定解除 restriction met", [("3102", "debit", "300.00"), ("3101", "credit", "300.00")])  # fmt: skip
    model += release
    entries[posted_release["id"]] = release
    refund_to_funder(client, world, fund, "1000.00", "2026-06-01")
    model += [
        _Posted(date(2026, 6, 1), "4401", True, 100_000),
        _Posted(date(2026, 6, 1), "1002", False, -100_000),
    ]

    first_day = date(2025, 9, 1)
    for number in range(120):
        on = first_day + timedelta(days=rng.randint(0, 600))
        lines = _random_lines(rng, weighted)
        posted = [
            _Posted(on, code, restriction == "restricted", amount if side is Side.DEBIT else -amount)
            for code, side, amount, restriction in lines
        ]
        if all(restriction is None for *_, restriction in lines):
            body = [(code, side.value, str(Money("CNY", amount))) for code, side, amount, _ in lines]
            entry_id = post_adjustment(client, world, organisation, on.isoformat(), f"random {number}", body)[
                "id"
            ]
        else:
            # Entries with restricted or explicitly unrestricted revenue go through the service
            # itself; only a restricted fund's money is restricted, so those lines name the grant.
            with app.app_context(), unit_of_work():
                entry, created = books.post_adjustment(
                    _finance_officer(),
                    uuid.UUID(organisation),
                    on,
                    f"random {number}",
                    [
                        books.PostingLine(
                            code,
                            side,
                            Money("CNY", amount),
                            uuid.UUID(fund["id"]) if restriction == "restricted" else None,
                            restriction,
                        )
                        for code, side, amount, restriction in lines
                    ],
                    uuid.uuid4().hex,
                    cash_flow_line_for([(code, side.value, "") for code, side, _, _ in lines]),
                )
                assert created
                entry_id = str(entry.id)
        model += posted
        entries[entry_id] = posted

    # Reverse a few adjustments some days later, via the API.
    # In the order they were posted: entry ids are random, so sorting them would make the run
    # depend on them rather than on the seed.
    for entry_id in rng.sample(list(entries), 12):
        original = entries[entry_id]
        on = original[0].on + timedelta(days=rng.randint(0, 90))
        reversed_ = client.post(
            f"/api/v1/journal-entries/{entry_id}/reversal",
            json={"date": on.isoformat(), "reason": "random reversal"},
            headers=world.auth("finance1"),
        )
        assert reversed_.status_code == 201, reversed_.get_json()
        model += [_Posted(on, p.account, p.restricted, -p.amount) for p in original]

    periods = [
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2025, 9, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2027, 4, 30)),
        (date(2026, 3, 10), date(2026, 3, 10)),
    ]
    for _ in range(8):
        start = first_day + timedelta(days=rng.randint(0, 650))
        periods.append((start, start + timedelta(days=rng.randint(0, 400))))
    reclassified = other_movements = 0
    for start, end in periods:
        figures = organisation_figures_between(app, organisation, start.isoformat(), end.isoformat())
        _assert_identities(figures)
        sheet, activity = _sheet(figures), _activities(figures)
        opening, closing = _model_sheet(model, start), _model_sheet(model, end + timedelta(days=1))
        for line in (1, 60, 100, 101, 105):
            assert sheet[line] == (opening[line], closing[line]), (start, end, line)
        # The cash-flow statement accounts for every movement of cash (line 61 = Δ 货币资金).
        cash_flows = figures["cash_flows"]
        assert cash_flows["reconciled"] is True
        assert _minor(next(r for r in cash_flows["rows"] if r["line"] == 61)["amount"]) == (
            closing[1] - opening[1]
        )
        expected = _model_activity(model, start, end)
        assert activity[11][:2] == (expected["revenue_unrestricted"], expected["revenue_restricted"])
        assert activity[35][0] == expected["expenses"]
        # The next day's statement opens where this one closed.
        following = _sheet(
            organisation_figures_between(
                app, organisation, (end + timedelta(days=1)).isoformat(), "2100-12-31"
            )
        )
        assert {line: o for line, (o, _) in following.items()} == {line: c for line, (_, c) in sheet.items()}
        reclassified += activity[40][0] != 0
        other_movements += figures["activities"]["other_net_asset_movements"]["total"] != "0.00"
    # The seed exercises both a reclassification and direct postings to net assets.
    assert reclassified
    assert other_movements
