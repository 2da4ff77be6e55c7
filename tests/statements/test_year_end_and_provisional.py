"""Year-end closing leaves the statements as they were; provisional marking; the official PDF layout."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Any

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import User
from ledger.models.books import EntrySource, JournalEntry, Side
from ledger.models.fund import Fund
from ledger.money import Money
from ledger.services import books
from ledger.services.access import Actor
from ledger.statements.render import render_statement
from tests.builders import (
    MEMBER,
    hand_built_books,
    known_year,
    pay_first_tranche,
    post_adjustment,
    restricted_grant,
)
from tests.conftest import DemoWorld
from tests.helpers import (
    activity_text,
    attached_statement,
    balance_sheet_text,
    checkpoint_stamp,
    organisation_figures_between,
)

FUNDER = "武汉市民政局 Wuhan Civil Affairs Bureau"


def _finance_officer() -> Actor:
    user = db.session.scalar(select(User).where(User.username == "finance1"))
    assert user is not None
    return Actor.of(user)


def _line(code: str, side: Side, amount: str, fund: uuid.UUID | None, restriction: str) -> books.PostingLine:
    return books.PostingLine(code, side, Money.parse(amount, "CNY"), fund, restriction)


# --- year-end closing --------------------------------------------------------------------------


def test_the_year_end_closing_changes_neither_statement(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    organisation = known_year(client, world)
    before = organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31")
    before_next = organisation_figures_between(app, organisation, "2027-01-01", "2027-12-31")
    before_day = organisation_figures_between(app, organisation, "2026-12-31", "2026-12-31")

    # The 2026 balances of the known year (see known_year): unrestricted revenue 4101 2,000.00,
    # 4401 19,500.00 (released), 4601 12.50 = 21,512.50; restricted 4401 19,500.00; expenses 5101
    # 18,000.00, 5201 2,000.00, 5301 25.00 = 20,025.00. Closed as the year-end service would, except
    # that the expenses and the restricted revenue close in one entry: Dr 3101 and Cr 3102 side
    # by side must not read as a reclassification of net assets (line 40).
    with app.app_context(), unit_of_work():
        organisation_id = uuid.UUID(organisation)
        fund = db.session.scalars(select(Fund.id).where(Fund.organisation_id == organisation_id)).one()
        actor = _finance_officer()
        closing: list[JournalEntry] = []
        for description, lines in (
            (
                "年末结转 revenue to unrestricted net assets",
                [
                    _line("4101", Side.DEBIT, "2000.00", None, "unrestricted"),
                    _line("4401", Side.DEBIT, "19500.00", fund, "unrestricted"),
                    _line("4601", Side.DEBIT, "12.50", None, "unrestricted"),
                    _line("3101", Side.CREDIT, "21512.50", None, "unrestricted"),
                ],
            ),
            (
                "年末结转 expenses and restricted revenue",
                [
                    _line("3101", Side.DEBIT, "20025.00", None, "unrestricted"),
                    _line("5101", Side.CREDIT, "18000.00", None, "unrestricted"),
                    _line("5201", Side.CREDIT, "2000.00", None, "unrestricted"),
                    _line("5301", Side.CREDIT, "25.00", None, "unrestricted"),
                    _line("4401", Side.DEBIT, "19500.00", fund, "restricted"),
                    _line("3102", Side.CREDIT, "19500.00", fund, "restricted"),
                ],
            ),
        ):
            closing.append(
                books.post_journal_entry(
                    actor,
                    organisation_id,
                    date(2026, 12, 31),
                    description,
                    lines,
                    source=EntrySource.YEAR_END_CLOSE,
                    source_id="2026",
                    into_closed_period=True,
                )
            )
        closing_ids = [entry.id for entry in closing]

    after = organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31")
    for statement in ("balance_sheet", "activities", "cash_flows"):
        assert after[statement] == before[statement], statement
    assert organisation_figures_between(app, organisation, "2027-01-01", "2027-12-31") == before_next
    assert organisation_figures_between(app, organisation, "2026-12-31", "2026-12-31") == before_day
    # The same figures, by hand: 45 = revenue 21,512.50 / 19,500.00 − expenses 20,025.00 / 0.00.
    assert activity_text(after, 11) == ("21512.50", "19500.00", "41012.50")
    assert activity_text(after, 35) == ("20025.00", "0.00", "20025.00")
    assert activity_text(after, 40) == ("0.00", "0.00", "0.00")
    assert activity_text(after, 45) == ("1487.50", "19500.00", "20987.50")
    assert after["activities"]["other_net_asset_movements"] == {
        "unrestricted": "0.00",
        "restricted": "0.00",
        "total": "0.00",
    }
    # 101: 500.00 (2025 dues, not closed) + 21,512.50 − 20,025.00 = 1,987.50; 105: 19,500.00.
    assert balance_sheet_text(after, "liabilities_and_net_assets", 101) == ("500.00", "1987.50")
    assert balance_sheet_text(after, "liabilities_and_net_assets", 105) == ("0.00", "19500.00")
    assert after["balance_sheet"]["balanced"] is True
    # The day of the closing holds no activity at all.
    day = organisation_figures_between(app, organisation, "2026-12-31", "2026-12-31")
    assert activity_text(day, 11) == ("0.00", "0.00", "0.00")
    assert activity_text(day, 45) == ("0.00", "0.00", "0.00")
    # 2027 opens at 2026's close, with nothing of the closing in its activity.
    following = organisation_figures_between(app, organisation, "2027-01-01", "2027-12-31")
    assert balance_sheet_text(following, "liabilities_and_net_assets", 101) == ("1987.50", "1987.50")
    assert balance_sheet_text(following, "liabilities_and_net_assets", 105) == ("19500.00", "19500.00")

    # Reopening the year reverses the closing entries; that is no activity either.
    with app.app_context(), unit_of_work():
        actor = _finance_officer()
        for entry_id in closing_ids:
            entry = db.session.get(JournalEntry, entry_id)
            assert entry is not None
            books.post_journal_entry(
                actor,
                entry.organisation_id,
                date(2026, 12, 31),
                "Reversal: year reopened",
                books.mirrored_lines(entry),
                source=EntrySource.REVERSAL,
                source_id=str(entry.id),
                reverses=entry,
                into_closed_period=True,
            )
    reopened = organisation_figures_between(app, organisation, "2026-01-01", "2026-12-31")
    for statement in ("balance_sheet", "activities", "cash_flows"):
        assert reopened[statement] == before[statement], statement


# --- provisional -------------------------------------------------------------------------------


def _today(monkeypatch: pytest.MonkeyPatch, today: date) -> None:
    monkeypatch.setattr("ledger.services.statements.business_today", lambda: today)


def _marking(figures: dict[str, Any]) -> tuple[bool, list[str], list[str]]:
    return figures["provisional"], figures["provisional_reasons"], figures["open_months"]


def _organisation_json(
    client: FlaskClient, world: DemoWorld, organisation: str, period: str
) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/organisations/{organisation}/statements/financial?period={period}",
        headers=world.auth("finance1"),
    )
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _close(client: FlaskClient, world: DemoWorld, organisation: str, year: int, month: int) -> None:
    closed = client.post(
        f"/api/v1/organisations/{organisation}/periods/{year}/{month}/close", headers=world.auth("finance1")
    )
    assert closed.status_code == 200, closed.get_json()


def test_a_statement_is_provisional_until_its_period_ends_and_its_months_close(
    client: FlaskClient, world: DemoWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    organisation = world.member_organisation[MEMBER]
    for on in ("2025-11-10", "2025-12-10", "2026-02-10"):
        post_adjustment(client, world, organisation, on, "捐赠 donation", [("1002", "debit", "100.00"), ("4101", "credit", "100.00")], cash_flow_line="donations_received")  # fmt: skip
    fund = restricted_grant(client, world, "1000.00")
    pay_first_tranche(client, world, fund, "2026-01-16")

    _today(monkeypatch, date(2026, 11, 28))
    # 2026 has not ended, and January (the payment) and February (the donation) are open.
    year = _organisation_json(client, world, organisation, "2026-01..2026-12")
    assert _marking(year) == (True, ["period_not_ended", "months_open"], ["2026-01", "2026-02"])
    # 2025 has ended, but November and December are open.
    assert _marking(_organisation_json(client, world, organisation, "2025-01..2025-12")) == (
        True,
        ["months_open"],
        ["2025-11", "2025-12"],
    )
    _close(client, world, organisation, 2025, 11)
    _close(client, world, organisation, 2025, 12)
    assert _marking(_organisation_json(client, world, organisation, "2025-01..2025-12")) == (False, [], [])
    # Months nobody posted to have no period row and do not count.
    assert _marking(_organisation_json(client, world, organisation, "2025-03..2025-10")) == (False, [], [])
    # A period whose last day is today has not ended; the next day it has.
    _today(monkeypatch, date(2025, 12, 31))
    assert _marking(_organisation_json(client, world, organisation, "2025-01..2025-12")) == (
        True,
        ["period_not_ended"],
        [],
    )
    _today(monkeypatch, date(2026, 1, 1))
    assert _marking(_organisation_json(client, world, organisation, "2025-01..2025-12")) == (False, [], [])

    # The fund-use statement looks at the fund's organisation's books; the lottery disclosure at
    # those of every organisation a lottery grant of the funder went to.
    _today(monkeypatch, date(2026, 11, 28))
    fund_use = client.get(
        f"/api/v1/funds/{fund['id']}/statements/fund-use?period=2026-01..2026-12",
        headers=world.auth("finance1"),
    ).get_json()
    assert _marking(fund_use) == (True, ["period_not_ended", "months_open"], ["2026-01", "2026-02"])
    query = {"funder": FUNDER, "year": 2026}
    lottery = client.get(
        "/api/v1/statements/lottery-disclosure", query_string=query, headers=world.auth("auditor")
    ).get_json()
    assert _marking(lottery) == (True, ["period_not_ended", "months_open"], ["2026-01", "2026-02"])

    _today(monkeypatch, date(2027, 3, 1))
    _close(client, world, organisation, 2026, 1)
    _close(client, world, organisation, 2026, 2)
    fund_use = client.get(
        f"/api/v1/funds/{fund['id']}/statements/fund-use?period=2026-01..2026-12",
        headers=world.auth("finance1"),
    ).get_json()
    assert _marking(fund_use) == (False, [], [])
    lottery = client.get(
        "/api/v1/statements/lottery-disclosure", query_string=query, headers=world.auth("auditor")
    ).get_json()
    assert _marking(lottery) == (False, [], [])
    assert _marking(_organisation_json(client, world, organisation, "2026-01..2026-12")) == (False, [], [])


# --- the PDF -----------------------------------------------------------------------------------


def _pages(pdf: bytes) -> list[pypdf.PageObject]:
    return list(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_the_three_forms_in_their_official_layout(client: FlaskClient, world: DemoWorld) -> None:
    organisation = hand_built_books(client, world)
    url = f"/api/v1/organisations/{organisation}/statements/financial"
    response = client.post(url, json={"period": "2026-01..2026-12"}, headers=world.auth("finance1"))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    pdf = response.data
    pages = _pages(pdf)
    texts = [page.extract_text() for page in pages]
    # 01 lies across its page; 02 and 03 stand upright.
    width, height = pages[0].mediabox.width, pages[0].mediabox.height
    assert width > height
    assert all(page.mediabox.width < page.mediabox.height for page in pages[1:])
    # Each form under its own title, with its number, the organisation, the date and the unit.
    for page, title, form, when in (
        (texts[0], "资产负债表", "会民非01表", "2026年12月31日"),
        (texts[1], "业务活动表", "会民非02表", "2026年度"),
        (texts[2], "现金流量表", "会民非03表", "2026年度"),
    ):
        for shown in (title, form, when, "编制单位", "单位：元", "行次"):
            assert shown in page, (form, shown)
        for signature in ("单位负责人", "主管会计工作的负责人", "会计机构负责人", "复核", "制表", "盖章"):
            assert signature in page, (form, signature)
    for head in ("资产", "年初数", "期末数", "负债和净资产"):
        assert head in texts[0], head
    for head in ("项目", "本年累计数", "非限定性", "限定性", "合计"):
        assert head in texts[1], head
    assert "金额" in texts[2]
    text = "\n".join(texts)
    # 03's figures (see tests/statements/test_cash_flow.py): 61 = 1,070.00, 44 = −80.00.
    for shown in ("1,070.00", "-80.00", "1,150.00", "现金及现金等价物净增加额", "Cash-flow statement"):
        assert shown in text, shown
    # The period runs until 31 December (or its months are still open): marked on every page.
    assert all("临时报表" in page for page in texts)
    assert "未结账 · 临时报表 / Provisional: the books of this period are not closed" in texts[0]

    # The same books at the same checkpoint give the same bytes.
    document = attached_statement(pdf)
    assert document["figures"]["cash_flows"]["reconciled"] is True
    assert document["figures"]["provisional"] is True
    again = render_statement(
        "organisation.html",
        document["figures"],
        checkpoint_stamp(document),
        title_zh="会计报表",
        title_en="Financial statements",
    )
    assert again == pdf
    metadata = pypdf.PdfReader(io.BytesIO(pdf)).xmp_metadata
    assert metadata is not None
    assert 'pdfaid:part="3"' in metadata.rdf_root.toxml()

    # English first; and a past half-year with no open month is no provisional statement.
    english = client.post(
        url, json={"period": "2025-01..2025-06", "lang": "en"}, headers=world.auth("finance1")
    )
    assert english.status_code == 200
    english_text = "\n".join(page.extract_text() for page in _pages(english.data))
    for shown in (
        "Balance sheet",
        "Statement of activities",
        "Cash-flow statement",
        "30 June 2025",
        "January–June 2025",
    ):
        assert shown in english_text, shown
    assert "Head of organisation" in english_text
    assert "临时报表" not in english_text
    assert attached_statement(english.data)["figures"]["provisional"] is False
