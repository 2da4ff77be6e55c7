"""Every XLSX download holds the figures of the JSON beside it, looks alike, and is recorded.

Each download is read back with openpyxl and compared with the JSON of the same request
(figures equal as Decimal), its header row frozen, its money cells formatted as money, and the
file's SHA-256 found in an ``export.downloaded`` audit entry. The demo's figures worked by hand
(ledger/demo_funds.py, 社区居家养老服务项目 FC-WH-2026-017): award 100,000.00; tranches 1 and 2
of 40,000.00 paid, so 80,000.00 disbursed; the Q1 interim report approved, 3,200.00 + 4,500.00 +
380.00 = 8,080.00 spent, of which 3,200.00 on ACTIVITY (budget 60,000.00: 56,800.00 remaining,
3,200 / 60,000 = 5.33 % executed); the April report of 2,600.00 on ACTIVITY waits for a decision.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from ledger.services import spreadsheets
from ledger.services.audit_verification import verify_database
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, csrf_token_of, signed_in_client

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ELDERS = "FC-WH-2026-017"
LOTTERY_FUNDER = "武汉市民政局（福彩公益金）Wuhan Civil Affairs Bureau, welfare lottery fund"


def _fund_id(client: FlaskClient, world: DemoWorld, reference: str = ELDERS) -> str:
    funds = client.get("/api/v1/funds?page_size=100", headers=world.auth("admin")).get_json()
    return next(f["id"] for f in funds if f["reference"] == reference)


def _download(client: FlaskClient, url: str, headers: dict[str, str]) -> tuple[Any, bytes]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == XLSX
    assert response.headers["Content-Disposition"].startswith('attachment; filename="')
    return load_workbook(io.BytesIO(response.data)), response.data


def _recorded(client: FlaskClient, world: DemoWorld) -> list[dict[str, Any]]:
    page = client.get("/api/v1/audit/entries?after=0&limit=1000", headers=world.auth("auditor")).get_json()
    parsed = [json.loads(base64.b64decode(e["canonical"])) for e in page["entries"]]
    return [e for e in parsed if e["action"] == "export.downloaded"]


def _assert_recorded(client: FlaskClient, world: DemoWorld, body: bytes, kind: str) -> dict[str, Any]:
    entry = _recorded(client, world)[-1]
    assert entry["data"]["export"] == kind
    assert entry["data"]["format"] == "xlsx"
    assert entry["data"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert entry["data"]["bytes"] == len(body)
    return entry


def _headers(sheet: Worksheet) -> list[str]:
    return [cell.value for cell in sheet[1]]


def _records(sheet: Worksheet) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def _looks_alike(sheet: Worksheet, money_column: str) -> None:
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.auto_filter.ref is not None
    assert sheet.auto_filter.ref.startswith("A1:")
    money = sheet[f"{money_column}2"].number_format
    assert "#,##0.00" in money
    assert money.startswith("¥")


def test_budget_vs_actual_holds_the_json_figures_and_the_hand_worked_ones(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    world = funded_world
    fund_id = _fund_id(client, world)
    member = world.auth("member01")
    book, body = _download(client, f"/api/v1/funds/{fund_id}/budget-vs-actual.xlsx", member)
    sheet = book.active
    _looks_alike(sheet, "C")
    assert _headers(sheet) == [
        "类别代码",
        "类别名称",
        "原预算",
        "调整后预算",
        "已批准支出",
        "待审核",
        "预算余额",
        "执行率",
    ]
    assert sheet["H2"].number_format == "0.00%"
    rows = {row[0]: row for row in _records(sheet)}
    activity = rows["ACTIVITY"]
    assert [_d(v) for v in activity[2:7]] == [
        Decimal("60000"),
        Decimal("60000"),
        Decimal("3200"),
        Decimal("2600"),
        Decimal("56800"),
    ]
    assert _d(activity[7]) == Decimal("0.0533")
    figures = client.get(f"/api/v1/funds/{fund_id}/budget-vs-actual", headers=member).get_json()
    assert [c["category_code"] for c in figures["categories"]] == list(rows)
    for category in figures["categories"]:
        row = rows[category["category_code"]]
        assert row[1] == category["name_zh"]
        names = ("budget", "revised_budget", "approved", "pending", "remaining")
        assert [_d(v) for v in row[2:7]] == [Decimal(category[n]) for n in names]
        assert _d(row[7]) * 100 == Decimal(category["executed_percent"])
    entry = _assert_recorded(client, world, body, "budget_vs_actual")
    assert entry["subject"] == {"type": "fund", "id": fund_id}
    assert entry["data"]["parameters"] == {"fund_id": fund_id}


def test_headers_are_english_when_the_caller_asks_for_english(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    fund_id = _fund_id(client, funded_world)
    english = {**funded_world.auth("member01"), "Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"}
    book, body = _download(client, f"/api/v1/funds/{fund_id}/budget-vs-actual.xlsx", english)
    assert _headers(book.active)[:4] == [
        "Category code",
        "Category name",
        "Original budget",
        "Revised budget",
    ]
    assert book.active.title == "Budget vs actual"
    assert book.properties.title == "社区居家养老服务项目 Home care for elders: budget vs actual"
    assert _assert_recorded(client, funded_world, body, "budget_vs_actual")["data"]["lang"] == "en"
    # Every word of a workbook is in its language, from the catalog: headers, sheets, statuses, yes/no.
    finance = {**funded_world.auth("finance1"), "Accept-Language": "en"}
    book, _ = _download(client, "/api/v1/expense-reports.xlsx?status=submitted", finance)
    assert book.active.title == "Review queue"
    assert _headers(book.active)[:5] == ["Report ID", "Fund ID", "Title", "Status", "Interim"]
    assert {(r[3], r[4]) for r in _records(book.active)} == {("submitted", "no")}
    chinese = funded_world.auth("finance1")
    book, _ = _download(client, "/api/v1/expense-reports.xlsx?status=submitted", chinese)
    assert book.active.title == "待审核报销"
    assert _headers(book.active)[:5] == ["报告编号", "资金项目编号", "标题", "状态", "中期报告"]
    assert {(r[3], r[4]) for r in _records(book.active)} == {("待审核", "否")}


def test_the_fund_summary_holds_the_json_figures(client: FlaskClient, funded_world: DemoWorld) -> None:
    world = funded_world
    fund_id = _fund_id(client, world)
    finance = world.auth("finance1")
    book, body = _download(client, f"/api/v1/funds/{fund_id}/summary.xlsx", finance)
    overview, tranches = book.worksheets
    _looks_alike(overview, "C")
    _looks_alike(tranches, "C")
    values = {row[0]: row[2] for row in _records(overview)}
    assert (_d(values["awarded"]), _d(values["disbursed"]), _d(values["spent"])) == (
        Decimal("100000"),
        Decimal("80000"),
        Decimal("8080"),
    )
    summary = client.get(f"/api/v1/funds/{fund_id}/summary", headers=finance).get_json()
    for name in (
        "awarded",
        "disbursed",
        "spent",
        "refunded",
        "unspent",
        "unspent_cash",
        "pending",
        "admin_costs",
    ):
        assert _d(values[name]) == Decimal(summary[name]), name
    assert _d(values["restricted_net_assets"]) == Decimal(summary["restricted_net_assets"])
    assert _d(values["admin_cost_percent"]) * 100 == Decimal(summary["admin_cost_percent"])
    assert _d(values["admin_cost_cap_percent"]) * 100 == Decimal(summary["admin_cost_cap_percent"])
    assert overview["C10"].number_format == "0.00%"
    assert [[r[0], r[1].isoformat()[:10], _d(r[2]), _d(r[3])] for r in _records(tranches)] == [
        [t["number"], t["due_date"], Decimal(t["amount"]), Decimal(t["paid"])] for t in summary["tranches"]
    ]
    _assert_recorded(client, world, body, "fund_summary")


def test_the_fund_use_figures_hold_the_json_figures(client: FlaskClient, funded_world: DemoWorld) -> None:
    world = funded_world
    fund_id = _fund_id(client, world)
    member = world.auth("member01")
    query = "period=2026-01..2026-12"
    book, body = _download(client, f"/api/v1/funds/{fund_id}/statements/fund-use.xlsx?{query}", member)
    figures = client.get(f"/api/v1/funds/{fund_id}/statements/fund-use?{query}", headers=member).get_json()
    totals, categories, payments = book.worksheets
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
    values = {row[0]: row[2] for row in _records(totals)}
    assert _d(values["award"]) == Decimal(figures["award"]) == Decimal("100000.00")
    assert _d(values["spending.cumulative"]) == Decimal(figures["spending"]["cumulative"])
    assert _d(values["unspent.balance"]) == Decimal(figures["unspent"]["balance"])
    assert [row[0] for row in _records(categories)] == [c["code"] for c in figures["categories"]]
    for row, category in zip(_records(categories), figures["categories"], strict=True):
        names = ("budget", "revised_budget", "this_period", "cumulative", "remaining")
        assert [_d(v) for v in row[2:7]] == [Decimal(category[n]) for n in names]
    assert "#,##0.00" in categories["C2"].number_format
    assert [_d(row[4]) for row in _records(payments)] == [Decimal(t["amount"]) for t in figures["tranches"]]
    entry = _assert_recorded(client, world, body, "fund_use")
    assert entry["data"]["parameters"]["period"] == "2026-01-01..2026-12-31"


def test_the_trial_balance_holds_the_json_figures(client: FlaskClient, funded_world: DemoWorld) -> None:
    world = funded_world
    organisation = world.member_organisation["member01"]
    auditor = world.auth("auditor")
    url = f"/api/v1/organisations/{organisation}/trial-balance"
    book, body = _download(client, f"{url}.xlsx?as_of=2026-11-01", auditor)
    sheet = book.active
    _looks_alike(sheet, "D")
    figures = client.get(f"{url}?as_of=2026-11-01", headers=auditor).get_json()
    records = _records(sheet)
    accounts, totals = records[: len(figures["rows"])], records[len(figures["rows"]) :]
    assert [row[0] for row in accounts] == [r["account_code"] for r in figures["rows"]]
    for row, expected in zip(accounts, figures["rows"], strict=True):
        assert [_d(row[3]), _d(row[4]), _d(row[5])] == [
            Decimal(expected["debit"]),
            Decimal(expected["credit"]),
            Decimal(expected["balance"]),
        ]
    assert [[row[1], row[2], _d(row[3]), _d(row[4])] for row in totals] == [
        ["合计", currency, Decimal(t["debit"]), Decimal(t["credit"])]
        for currency, t in figures["totals"].items()
    ]
    # By hand: the bank received 80,000.00 (two tranches) and paid 8,080.00 (the approved report).
    bank = next(row for row in accounts if row[0] == "1002")
    assert (_d(bank[3]), _d(bank[4]), _d(bank[5])) == (Decimal("80000"), Decimal("8080"), Decimal("71920"))
    entry = _assert_recorded(client, world, body, "trial_balance")
    assert entry["subject"] == {"type": "organisation", "id": organisation}
    assert entry["data"]["parameters"] == {"organisation_id": organisation, "as_of": "2026-11-01"}


def test_the_journal_holds_every_posting(client: FlaskClient, funded_world: DemoWorld) -> None:
    world = funded_world
    organisation = world.member_organisation["member01"]
    finance = world.auth("finance1")
    url = f"/api/v1/organisations/{organisation}/journal-entries"
    book, body = _download(client, f"{url}.xlsx", finance)
    entries = client.get(f"{url}?page_size=500", headers=finance).get_json()
    expected = [
        (e["id"], p["line"], p["account_code"], p["side"], Decimal(p["amount"]))
        for e in entries
        for p in e["postings"]
    ]
    records = _records(book.active)
    assert [
        (r[1], r[4], r[5], "debit" if r[6] is not None else "credit", _d(r[6] if r[6] is not None else r[7]))
        for r in records
    ] == expected
    assert book.active.freeze_panes == "A2"
    assert "#,##0.00" in book.active["G2"].number_format
    _assert_recorded(client, world, body, "journal")


def test_the_review_queue_and_the_report_list(client: FlaskClient, funded_world: DemoWorld) -> None:
    world = funded_world
    finance = world.auth("finance1")
    book, body = _download(client, "/api/v1/expense-reports.xlsx?status=submitted", finance)
    sheet = book.active
    _looks_alike(sheet, "K")
    queue = client.get("/api/v1/expense-reports?status=submitted&page_size=500", headers=finance).get_json()
    assert [(r[0], r[2], _d(r[10])) for r in _records(sheet)] == [
        (r["id"], r["title"], Decimal(r["total"])) for r in queue
    ]
    assert {r[3] for r in _records(sheet)} == {"待审核"}
    entry = _assert_recorded(client, world, body, "expense_reports")
    assert entry["data"]["parameters"] == {"fund_id": None, "status": "submitted"}
    # The member's list: every report they may see, in the JSON's order.
    member = world.auth("member01")
    book, _ = _download(client, "/api/v1/expense-reports.xlsx", member)
    listed = client.get("/api/v1/expense-reports?page_size=500", headers=member).get_json()
    assert [r[0] for r in _records(book.active)] == [r["id"] for r in listed]
    assert len(listed) == 5


def test_a_list_longer_than_the_limit_is_refused_not_cut(
    client: FlaskClient, funded_world: DemoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 2)
    response = client.get("/api/v1/expense-reports.xlsx", headers=funded_world.auth("admin"))
    problem = assert_problem(response, 422)
    assert problem["code"] == "export.too_many_rows"
    assert "at most 2" in problem["detail"]


def test_the_lottery_disclosure_holds_the_json_figures(client: FlaskClient, funded_world: DemoWorld) -> None:
    world = funded_world
    finance = world.auth("finance1")
    query = f"funder={quote(LOTTERY_FUNDER)}&year=2026"
    book, body = _download(client, f"/api/v1/statements/lottery-disclosure.xlsx?{query}", finance)
    figures = client.get(f"/api/v1/statements/lottery-disclosure?{query}", headers=finance).get_json()
    projects, by_category = book.worksheets
    _looks_alike(projects, "G")
    rows = _records(projects)
    assert [r[0] for r in rows] == [p["reference"] for p in figures["projects"]] == [ELDERS]
    names = ("award", "paid_in_year", "paid_to_date", "spent_in_year", "spent_to_date")
    assert [_d(v) for v in rows[0][6:11]] == [Decimal(figures["projects"][0][n]) for n in names]
    assert [_d(v) for v in rows[0][6:11]] == [
        Decimal(x) for x in ("100000", "80000", "80000", "8080", "8080")
    ]
    assert _d(rows[0][11]) * 100 == Decimal(figures["projects"][0]["executed_percent"]) == Decimal("8.08")
    assert [(r[0], _d(r[2])) for r in _records(by_category)] == [
        (c["code"], Decimal(c["amount"])) for c in figures["spending_by_category"]
    ]
    _assert_recorded(client, world, body, "lottery_disclosure")


def test_coverage_is_recorded_like_the_others(client: FlaskClient, world: DemoWorld) -> None:
    book, body = _download(client, "/api/v1/coverage.xlsx?node=420116000000", world.auth("admin"))
    assert book.active.freeze_panes == "A2"
    assert _assert_recorded(client, world, body, "coverage")["data"]["parameters"]["node"] == "420116000000"
    english = {**world.auth("admin"), "Accept-Language": "en"}
    book, _ = _download(client, "/api/v1/coverage.xlsx?node=420116000000", english)
    assert _headers(book.active)[:3] == ["Name", "Division code", "Number of communities"]


def test_a_member_of_another_organisation_gets_what_the_json_gives(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    world = funded_world
    fund_id = _fund_id(client, world)
    organisation = world.member_organisation["member01"]
    stranger = world.auth("member08")
    paths = [
        f"/api/v1/funds/{fund_id}/budget-vs-actual",
        f"/api/v1/funds/{fund_id}/summary",
        f"/api/v1/funds/{fund_id}/statements/fund-use@?period=2026-01..2026-12",
        f"/api/v1/organisations/{organisation}/trial-balance",
        f"/api/v1/organisations/{organisation}/journal-entries",
        f"/api/v1/statements/lottery-disclosure@?funder={quote(LOTTERY_FUNDER)}&year=2026",
    ]
    before = len(_recorded(client, world))
    for path in paths:
        base, _, query = path.partition("@")
        json_status = client.get(base + query, headers=stranger).status_code
        xlsx_status = client.get(base + ".xlsx" + query, headers=stranger).status_code
        assert json_status in (403, 404), path
        assert xlsx_status == json_status, path
    assert client.get(f"/api/v1/expense-reports.xlsx?fund_id={fund_id}", headers=stranger).status_code in (
        403,
        404,
    )
    assert client.get(f"/api/v1/funds/{fund_id}/summary.xlsx").status_code == 401
    assert len(_recorded(client, world)) == before


def test_the_pages_link_their_downloads(app: Flask, funded_world: DemoWorld) -> None:
    world = funded_world
    browser = signed_in_client(app, "finance1")
    queue = browser.get("/queue").get_data(as_text=True)
    # Each download is a form posting the page's CSRF token (it makes an audit entry), not a link.
    assert 'action="/queue.xlsx"' in queue
    token = csrf_token_of(browser, "/queue")
    download = browser.post("/queue.xlsx", data={"csrf_token": token})
    assert download.status_code == 200
    assert download.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(download.data)).active
    assert _headers(sheet)[2] == "标题"
    fund_id = _fund_id(app.test_client(), world)
    fund_page = browser.get(f"/funds/{fund_id}").get_data(as_text=True)
    assert f'action="/funds/{fund_id}/budget-vs-actual.xlsx"' in fund_page
    assert f'action="/funds/{fund_id}/summary.xlsx"' in fund_page
    organisation = world.member_organisation["member01"]
    books = browser.get(f"/organisations/{organisation}/books?as_of=2026-11-01").get_data(as_text=True)
    assert f'action="/organisations/{organisation}/trial-balance.xlsx?as_of=2026-11-01"' in books
    assert f'action="/organisations/{organisation}/journal.xlsx"' in books
    trial = browser.post(
        f"/organisations/{organisation}/trial-balance.xlsx?as_of=2026-11-01", data={"csrf_token": token}
    )
    assert trial.status_code == 200
    _assert_recorded(app.test_client(), world, trial.data, "trial_balance")
    # Without the token (a request another site makes), nothing is downloaded nor recorded.
    assert browser.post(f"/organisations/{organisation}/journal.xlsx").status_code == 400
    stranger = signed_in_client(app, "member08")
    stranger_token = csrf_token_of(stranger, "/")
    refused = stranger.post(f"/funds/{fund_id}/budget-vs-actual.xlsx", data={"csrf_token": stranger_token})
    assert refused.status_code in (403, 404)


def test_text_that_looks_like_a_formula_stays_text(client: FlaskClient, funded_world: DemoWorld) -> None:
    world = funded_world
    fund_id = _fund_id(client, world)
    made = client.post(
        f"/api/v1/funds/{fund_id}/expense-reports",
        json={"title": '=HYPERLINK("http://example.invalid","x")', "interim": False},
        headers=world.keyed("member01"),
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    book, _ = _download(client, "/api/v1/expense-reports.xlsx?status=draft", world.auth("member01"))
    cells = [row[2] for row in book.active.iter_rows(min_row=2)]
    formula = next(c for c in cells if str(c.value).startswith("="))
    assert formula.data_type == "s"


def test_the_trail_still_verifies_and_replays_after_downloads(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    world = funded_world
    fund_id = _fund_id(client, world)
    _download(client, f"/api/v1/funds/{fund_id}/summary.xlsx", world.auth("member01"))
    _download(client, "/api/v1/expense-reports.xlsx", world.auth("admin"))
    recorded = _recorded(client, world)
    assert len(recorded) == 2
    assert all("rows" not in entry["data"] for entry in recorded)  # a download changes nothing
    with world.app.app_context():
        assert verify_database(receipts=False).ok
