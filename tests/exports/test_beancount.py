"""The Beancount export: bean-check accepts it and Beancount's balances are the ledger's own."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from beancount.core import data
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.database import unit_of_work
from ledger.errors import Conflict, Forbidden, NotFound
from ledger.exports import beancount as beancount_export
from ledger.exports.beancount import BeancountExport
from ledger.extensions import db
from ledger.models import Organisation, User
from ledger.services.access import Actor
from ledger.services.books_export import export_beancount
from ledger.services.trial_balance import trial_balance
from tests.builders import draft_report, paid_fund, receipt_pdf
from tests.conftest import DemoWorld

BEAN_CHECK = Path(sys.executable).with_name("bean-check")
TRICKY = 'Interest "Q1" from C:\\bank\\statement\n第二行 second line'
ACTIVITY_PDF = receipt_pdf("activity")
OFFICE_PDF = receipt_pdf("office")


@pytest.fixture(autouse=True)
def _no_pickle_cache() -> Iterator[None]:
    """Beancount caches a slow load next to the file; keep the exported folders as written."""
    loader.initialize(use_cache=False)
    yield
    loader.initialize(use_cache=True)


def _actor(app: Flask, username: str) -> Actor:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None
        return Actor.of(user)


def _upload(client: FlaskClient, world: DemoWorld, pdf: bytes) -> str:
    organisation = world.member_organisation["member01"]
    response = client.post(
        f"/api/v1/organisations/{organisation}/receipts",
        data={"file": (io.BytesIO(pdf), "receipt.pdf")},
        content_type="multipart/form-data",
        headers=world.auth("member01"),
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["sha256"])


def _line(client: FlaskClient, world: DemoWorld, category: str, amount: str, pdf: bytes) -> dict[str, Any]:
    return {
        "category_code": category,
        "amount": amount,
        "incurred_on": "2026-03-10",
        "payee": '康乐家政 "Kangle" Home Services',
        "description": "上门服务 home visits",
        "receipt_sha256": _upload(client, world, pdf),
    }


@pytest.fixture
def books(client: FlaskClient, world: DemoWorld) -> dict[str, Any]:
    """member01's books: a restricted lottery grant paid (Jan), a report approved (Mar), an
    adjustment of three lines with an awkward description (Apr) and its reversal (May); January
    and February (no postings) closed."""
    organisation = world.member_organisation["member01"]
    fund = paid_fund(client, world)
    lines = [
        _line(client, world, "ACTIVITY", "3200.00", ACTIVITY_PDF),
        _line(client, world, "OFFICE", "300.00", OFFICE_PDF),
    ]
    report = draft_report(client, world, fund, lines)
    url = f"/api/v1/expense-reports/{report['id']}"
    assert client.post(f"{url}/submit", headers=world.auth("member01")).status_code == 200
    approved = client.post(f"{url}/approve", headers=world.auth("finance1"))
    assert approved.status_code == 200, approved.get_json()
    adjustment = client.post(
        f"/api/v1/organisations/{organisation}/journal-entries",
        json={
            "date": "2026-04-20",
            "description": TRICKY,
            "lines": [
                {"account_code": "5201", "side": "debit", "amount": "100.00", "fund_id": fund["id"]},
                {"account_code": "5101", "side": "debit", "amount": "50.50"},
                {"account_code": "1002", "side": "credit", "amount": "150.50", "fund_id": fund["id"]},
            ],
            "cash_flow_line": "goods_services_paid",
        },
        headers=world.keyed("finance1"),
    )
    assert adjustment.status_code == 201, adjustment.get_json()
    reversal = client.post(
        f"/api/v1/journal-entries/{adjustment.get_json()['id']}/reversal",
        json={"date": "2026-05-05", "reason": 'booked twice "by mistake"'},
        headers=world.auth("finance2"),
    )
    assert reversal.status_code == 201, reversal.get_json()
    for month in (1, 2):
        closed = client.post(
            f"/api/v1/organisations/{organisation}/periods/2026/{month}/close", headers=world.auth("finance1")
        )
        assert closed.status_code == 200, closed.get_json()
    return {
        "organisation": uuid.UUID(organisation),
        "fund": fund,
        "report": report,
        "adjustment": adjustment.get_json(),
        "reversal": reversal.get_json(),
    }


def _export(
    app: Flask, directory: Path, username: str = "finance1", organisation: uuid.UUID | None = None
) -> BeancountExport:
    actor = _actor(app, username)
    with app.app_context():
        return export_beancount(actor, directory, organisation)


def _credit_code(app: Flask, organisation: uuid.UUID) -> str:
    with app.app_context():
        found = db.session.get(Organisation, organisation)
        assert found is not None
        return found.credit_code


def _load(path: Path) -> tuple[list[data.Directive], dict[str, Any]]:
    entries, errors, options = loader.load_file(str(path))
    assert errors == [], errors
    return list(entries), dict(options)


def _bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BEAN_CHECK), "--no-cache", str(path)], capture_output=True, text=True, check=False, timeout=120
    )


def _transactions(entries: list[data.Directive]) -> dict[str, data.Transaction]:
    return {e.meta["journal_entry"]: e for e in entries if isinstance(e, data.Transaction)}


def _beancount_balances(entries: list[data.Directive], as_of: date) -> dict[tuple[str, str], Decimal]:
    """(chart code, currency) -> Beancount's balance over the transactions up to ``as_of``."""
    codes = {e.account: e.meta["code"] for e in entries if isinstance(e, data.Open)}
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction) and entry.date <= as_of:
            for posting in entry.postings:
                assert posting.units is not None
                assert isinstance(posting.units.number, Decimal)
                sums[(codes[posting.account], posting.units.currency)] += posting.units.number
    return dict(sums)


def _ledger_balances(app: Flask, organisation: uuid.UUID, as_of: date) -> dict[tuple[str, str], Decimal]:
    actor = _actor(app, "auditor")
    with app.app_context():
        rows = trial_balance(actor, organisation, as_of).rows
    return {(row.account_code, row.currency): row.balance.to_decimal() for row in rows}


def test_bean_check_accepts_every_file(app: Flask, books: dict[str, Any], tmp_path: Path) -> None:
    result = _export(app, tmp_path / "books")
    assert result.organisations == 15  # the demo's 12 registered and 3 filed
    assert len(result.files) == 15
    assert result.transactions == 5
    assert result.documents == 2
    for path in result.files:
        checked = _bean_check(path)
        assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", ""), path
    own = tmp_path / "books" / f"{_credit_code(app, books['organisation'])}.beancount"
    assert own in result.files
    text = own.read_text(encoding="utf-8")
    assert 'option "operating_currency" "CNY"' in text
    assert '  name_zh: "银行存款"' in text


def test_beancount_balances_equal_the_trial_balance(
    app: Flask, books: dict[str, Any], tmp_path: Path
) -> None:
    result = _export(app, tmp_path / "books", organisation=books["organisation"])
    entries, options = _load(result.files[0])
    with app.app_context():
        organisation = db.session.get(Organisation, books["organisation"])
        assert organisation is not None
        assert options["title"] == organisation.name
    for as_of in (date(2026, 1, 31), date(2026, 3, 15), date(2026, 4, 30), date(2026, 12, 31)):
        assert _beancount_balances(entries, as_of) == _ledger_balances(app, books["organisation"], as_of)
    end = _beancount_balances(entries, date(2026, 12, 31))
    assert end[("1002", "CNY")] == Decimal("36500.00")
    assert end[("4401", "CNY")] == Decimal("-40000.00")

    # Balance assertions after each month with postings and each closed month (February has none).
    assertions = sorted({e.date for e in entries if isinstance(e, data.Balance)})
    assert assertions == [date(2026, m, 1) for m in (2, 3, 4, 5, 6)]
    at_march = {
        (e.account.split(":")[1][:4], e.amount.currency): e.amount.number
        for e in entries
        if isinstance(e, data.Balance) and e.date == date(2026, 3, 1)
    }
    assert at_march == _ledger_balances(app, books["organisation"], date(2026, 2, 28))


def test_account_names_follow_the_chart(app: Flask, books: dict[str, Any], tmp_path: Path) -> None:
    result = _export(app, tmp_path / "books", organisation=books["organisation"])
    entries, _options = _load(result.files[0])
    opens = {e.account: e for e in entries if isinstance(e, data.Open)}
    assert sorted(opens) == [
        "Assets:1002-BankDeposits",
        "Expenses:5101-ProgramBusinessActivityCosts",
        "Expenses:5201-ManagementAndAdministrativeExpenses",
        "Income:4401-GovernmentGrantRevenue",
    ]
    bank = opens["Assets:1002-BankDeposits"]
    assert (bank.meta["code"], bank.meta["name_zh"], bank.meta["chart"]) == ("1002", "银行存款", "NPO-2005")
    assert bank.currencies == ["CNY"]
    assert {e.date for e in opens.values()} == {date(2026, 1, 16)}


def test_receipts_are_documents_with_their_original_bytes(
    app: Flask, books: dict[str, Any], tmp_path: Path
) -> None:
    result = _export(app, tmp_path / "books", organisation=books["organisation"])
    entries, _options = _load(result.files[0])
    documents = sorted((e for e in entries if isinstance(e, data.Document)), key=lambda e: e.account)
    assert result.documents == 2
    assert [(d.date, d.account) for d in documents] == [
        (date(2026, 3, 10), "Expenses:5101-ProgramBusinessActivityCosts"),
        (date(2026, 3, 10), "Expenses:5201-ManagementAndAdministrativeExpenses"),
    ]
    code = _credit_code(app, books["organisation"])
    report = books["report"]["id"]
    (approval,) = [t for t in _transactions(entries).values() if t.meta["source"] == "expense_approved"]
    for line, document, original in zip((1, 2), documents, (ACTIVITY_PDF, OFFICE_PDF), strict=True):
        path = Path(document.filename)
        assert path.parent == tmp_path / "books" / "documents" / code
        # Named by date, organisation, report and line, as people look for them.
        assert path.name == f"2026-03-10.{code}.report-{report[:8]}.line-{line}.pdf"
        assert path.read_bytes() == original
        assert document.meta["expense_report"] == report
        # Linked to the transaction that recorded the expenses they support.
        assert document.links == approval.links == {f"entry-{approval.meta['journal_entry']}"}
    # The directive names the file relative to the .beancount file, so the folder can move.
    text = result.files[0].read_text(encoding="utf-8")
    assert f'document Expenses:5201-ManagementAndAdministrativeExpenses "documents/{code}/' in text


def test_restricted_revenue_and_its_release_carry_fund_and_restriction(
    app: Flask, books: dict[str, Any], tmp_path: Path
) -> None:
    result = _export(app, tmp_path / "books", organisation=books["organisation"])
    entries, _options = _load(result.files[0])
    fund = books["fund"]
    tag = "fund-" + fund["reference"]
    by_source = defaultdict(list)
    for transaction in _transactions(entries).values():
        by_source[transaction.meta["source"]].append(transaction)
    (paid,) = by_source["disbursement_paid"]
    assert tag in paid.tags
    revenue = {p.account: p for p in paid.postings}["Income:4401-GovernmentGrantRevenue"]
    assert revenue.units.number == Decimal("-40000.00")
    assert revenue.meta["restriction"] == "restricted"
    assert revenue.meta["fund"] == fund["reference"]
    (release,) = by_source["restricted_release"]
    assert tag in release.tags
    assert release.meta["source_id"] == books["report"]["id"]
    assert {(p.account, p.units.number, p.meta["restriction"], p.meta["fund"]) for p in release.postings} == {
        # Released in the year the grant was received: reclassified within the revenue account.
        ("Income:4401-GovernmentGrantRevenue", Decimal("3500.00"), "restricted", fund["reference"]),
        ("Income:4401-GovernmentGrantRevenue", Decimal("-3500.00"), "unrestricted", fund["reference"]),
    }
    (spent,) = by_source["expense_approved"]
    assert all("restriction" not in p.meta and p.meta["fund"] == fund["reference"] for p in spent.postings)


def test_reversals_and_adjustments_keep_their_signs(
    app: Flask, books: dict[str, Any], tmp_path: Path
) -> None:
    result = _export(app, tmp_path / "books", organisation=books["organisation"])
    entries, _options = _load(result.files[0])
    transactions = _transactions(entries)
    adjustment = transactions[books["adjustment"]["id"]]
    reversal = transactions[books["reversal"]["id"]]

    def units(transaction: data.Transaction) -> list[tuple[str, Decimal]]:
        return [(p.account.split(":")[1][:4], p.units.number) for p in transaction.postings]

    assert units(adjustment) == [
        ("5201", Decimal("100.00")),
        ("5101", Decimal("50.50")),
        ("1002", Decimal("-150.50")),
    ]
    assert units(reversal) == [
        ("5201", Decimal("-100.00")),
        ("5101", Decimal("-50.50")),
        ("1002", Decimal("150.50")),
    ]
    assert adjustment.meta["source"] == "adjustment"
    assert "source_id" not in adjustment.meta
    assert (reversal.meta["source"], reversal.meta["source_id"]) == ("reversal", books["adjustment"]["id"])
    assert reversal.narration == 'Reversal: booked twice "by mistake"'
    # The line without a fund has no fund metadata, and the entry is tagged by the fund it has.
    assert [("fund" in p.meta) for p in adjustment.postings] == [True, False, True]
    assert adjustment.tags == {"fund-" + books["fund"]["reference"]}


def test_quotes_backslashes_and_newlines_survive(app: Flask, books: dict[str, Any], tmp_path: Path) -> None:
    result = _export(app, tmp_path / "books", organisation=books["organisation"])
    checked = _bean_check(result.files[0])
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
    entries, _options = _load(result.files[0])
    assert _transactions(entries)[books["adjustment"]["id"]].narration == TRICKY
    text = result.files[0].read_text(encoding="utf-8")
    assert '"Interest \\"Q1\\" from C:\\\\bank\\\\statement\\n第二行 second line"' in text
    assert beancount_export.quote("a\tb\x00c\r") == '"a\\tb c\\r"'
    assert beancount_export.fund_tag("福彩 2026/01.A_b") == "fund----2026/01.A_b"


def test_an_organisation_member_exports_only_their_own_books(
    app: Flask, world: DemoWorld, books: dict[str, Any], tmp_path: Path
) -> None:
    own = books["organisation"]
    other = uuid.UUID(world.member_organisation["member02"])
    with pytest.raises(Forbidden):
        _export(app, tmp_path / "other", "member01", other)
    with pytest.raises(Forbidden):
        _export(app, tmp_path / "unknown", "member01", uuid.uuid4())
    assert not (tmp_path / "other").exists()

    result = _export(app, tmp_path / "mine", "member01")
    assert result.files == [tmp_path / "mine" / f"{_credit_code(app, own)}.beancount"]
    assert (result.organisations, result.transactions, result.documents) == (1, 5, 2)
    assert {p.name for p in (tmp_path / "mine").iterdir()} == {"documents", result.files[0].name}
    single = _export(app, tmp_path / "single", "member01", own)
    assert single.files[0].read_bytes() == result.files[0].read_bytes()

    # Admins manage the service but do not read the books; an unknown organisation is not found.
    with pytest.raises(Forbidden):
        _export(app, tmp_path / "admin", "admin")
    with pytest.raises(NotFound):
        _export(app, tmp_path / "unknown", "auditor", uuid.uuid4())


def test_the_export_is_deterministic_and_refuses_a_non_empty_folder(
    app: Flask, books: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _export(app, tmp_path / "first")
    second = _export(app, tmp_path / "second", "auditor")

    def contents(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    assert contents(tmp_path / "first") == contents(tmp_path / "second")
    assert len(contents(tmp_path / "first")) == 15 + 2
    assert first == BeancountExport(
        [tmp_path / "first" / p.name for p in second.files], 15, second.transactions, second.documents
    )

    before = contents(tmp_path / "first")
    with pytest.raises(Conflict, match="not empty"):
        _export(app, tmp_path / "first")
    assert contents(tmp_path / "first") == before
    (tmp_path / "empty").mkdir()
    assert _export(app, tmp_path / "empty").organisations == 15

    monkeypatch.setattr(beancount_export, "PROGRESS_EVERY", 2)
    reported: list[int] = []
    actor = _actor(app, "finance1")
    with app.app_context():
        export_beancount(actor, tmp_path / "progress", books["organisation"], reported.append)
    assert reported == [2, 4]


def test_the_demo_books_export_and_check(app: Flask, world: DemoWorld, tmp_path: Path) -> None:
    """The whole demo (three funds, every report state, January closed) bean-checks and adds up."""
    from ledger.demo_funds import create_demo_funds

    with app.app_context(), unit_of_work():
        create_demo_funds({user: uuid.UUID(org) for user, org in world.member_organisation.items()})
    result = _export(app, tmp_path / "demo", "auditor")
    assert result.transactions > 0
    assert result.documents > 0
    for path, organisation in zip(result.files, world.organisation_ids, strict=True):
        checked = _bean_check(path)
        assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", ""), path
        entries, _options = _load(path)
        for as_of in (date(2026, 1, 31), date(2026, 4, 15), date(2026, 12, 31)):
            assert _beancount_balances(entries, as_of) == _ledger_balances(
                app, uuid.UUID(organisation), as_of
            )
