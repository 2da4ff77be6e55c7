"""The pages offer what ``available_actions`` says, and nothing else; what they offer works.

Each demo person's fund, report and books pages are read with the Flask test client: the forms on
a page (where they post, and the value of their buttons) are exactly the ones the actions of the
things on it call for. ``tests/funds/test_available_actions.py`` shows that those actions are
exactly the ones the services accept; here a few are posted as a person would.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import and_, or_, select

from ledger.demo_funds import actor_named
from ledger.extensions import db
from ledger.models import ExpenseReport
from ledger.models.books import AccountingPeriod
from ledger.models.disbursement import Disbursement
from ledger.models.fund import BudgetRevision, Fund
from ledger.models.requirement import Requirement
from ledger.services import expense_lines, year_end
from ledger.services.actions import Action, available_actions, navigation
from tests.conftest import DemoWorld
from tests.helpers import DEMO_PEOPLE as PEOPLE
from tests.helpers import add_decisions_to_the_demo, csrf_token_of, signed_in_client, table_counts

TEMPLATES = Path(__file__).resolve().parents[2] / "ledger" / "templates" / "web"

Offer = tuple[str, str | None]  # where a form posts, and the value of the button pressed (if named)


def _forms(html: str) -> set[Offer]:
    """Every form a page offers, as (where it posts, button value); signing out and downloads
    (read-only, posted only to carry the CSRF token) aside."""
    offers: set[Offer] = set()
    for action, body in re.findall(
        r'<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>(.*?)</form>', html, re.S
    ):
        if action == "/logout" or action.split("?")[0].endswith(".xlsx"):
            continue
        values = re.findall(r'<button[^>]*name="(?:action|decision)"[^>]*value="([^"]+)"', body)
        offers |= {(action, value) for value in values} if values else {(action, None)}
    return offers


def _fund_offers(username: str, fund: Fund) -> tuple[set[Offer], bool]:
    """The forms the fund page should show ``username``, and whether it links to the books."""
    actor = actor_named(username)
    actions = available_actions(actor, fund)
    at = f"/funds/{fund.id}"
    single = {
        Action.SET_BUDGET: f"{at}/budget",
        Action.SET_TRANCHES: f"{at}/tranches",
        Action.START_REPORT: f"{at}/reports",
        Action.PROPOSE_REVISION: f"{at}/revisions",
        Action.PREPARE_DISBURSEMENT: f"{at}/disbursements",
        Action.ISSUE_STATEMENTS: f"{at}/statement",
    }
    offers: set[Offer] = {(path, None) for action, path in single.items() if action in actions}
    if Action.ISSUE_STATEMENTS in actions:
        offers.add((f"/organisations/{fund.organisation_id}/statement", None))
    offers |= {
        (f"{at}/status", action.value)
        for action in actions
        if action.value in ("activate", "suspend", "resume", "close")
    }
    for disbursement in db.session.scalars(select(Disbursement).where(Disbursement.fund_id == fund.id)):
        # The page has no cancel button (the API cancels): approve and pay are its forms.
        done = available_actions(actor, disbursement)
        offers |= {
            (f"/disbursements/{disbursement.id}/{action.value}", None)
            for action in (Action.APPROVE, Action.PAY)
            if action in done
        }
    for revision in db.session.scalars(select(BudgetRevision).where(BudgetRevision.fund_id == fund.id)):
        offers |= {
            (f"/revisions/{revision.id}/decide", action.value)
            for action in available_actions(actor, revision)
        }
    if Action.ADD_REQUIREMENT in actions:
        offers.add((f"{at}/requirements", None))
    # The fund's requirements and its organisation's annual reports (no fund), each with its forms.
    shown = or_(
        Requirement.fund_id == fund.id,
        and_(Requirement.fund_id.is_(None), Requirement.organisation_id == fund.organisation_id),
    )
    paths = {Action.MARK_DONE: "done", Action.CHANGE_REQUIREMENT: "change", Action.WITHDRAW: "withdrawal"}
    for requirement in db.session.scalars(select(Requirement).where(shown)):
        offers |= {
            (f"/requirements/{requirement.id}/{paths[action]}", None)
            for action in available_actions(actor, requirement)
        }
    return offers, Action.BOOKS in actions


def _report_offers(username: str, report: ExpenseReport) -> set[Offer]:
    actor = actor_named(username)
    actions = available_actions(actor, report)
    at = f"/reports/{report.id}"
    # A finance officer records each line's invoice as verified, one button per line.
    offers: set[Offer] = {
        (f"{at}/lines/{line.number}/invoice-verification", None)
        for line in report.lines
        if expense_lines.may_verify_invoice(actor, report, line)
    }
    if Action.EDIT_LINES in actions:
        offers.add((f"{at}/lines", None))
        offers |= {(f"{at}/lines/{line.number}/remove", None) for line in report.lines}
    if Action.SUBMIT in actions:
        offers.add((f"{at}/submit", None))
    offers |= {
        (f"{at}/decide", a.value) for a in (Action.APPROVE, Action.RETURN, Action.REJECT) if a in actions
    }
    if Action.VOID in actions:
        offers.add((f"{at}/void", None))
    return offers


def _books_offers(username: str, organisation_id: uuid.UUID) -> tuple[set[Offer], set[str]]:
    """The books page's forms for ``username``, and its links to close a year."""
    actor = actor_named(username)
    at = f"/organisations/{organisation_id}"
    offers: set[Offer] = set()
    closing_links = set()
    for period in db.session.scalars(
        select(AccountingPeriod).where(AccountingPeriod.organisation_id == organisation_id)
    ):
        for action in available_actions(actor, period):
            if action is Action.CLOSE:  # closing a month is confirmed on its own page first
                closing_links.add(f"{at}/periods/{period.year}/{period.month}/close")
            else:
                offers.add((f"{at}/periods/{period.year}/{period.month}", action.value))
    for state in year_end.year_states(actor, organisation_id):
        actions = available_actions(actor, state)
        if Action.REOPEN in actions:
            offers.add((f"{at}/years/{state.year}/reopen", None))
        if Action.CLOSE in actions:
            closing_links.add(f"{at}/years/{state.year}/close")
    return offers, closing_links


@pytest.mark.parametrize("username", PEOPLE)
def test_each_page_offers_exactly_the_available_actions(
    app: Flask, funded_world: DemoWorld, username: str
) -> None:
    add_decisions_to_the_demo(funded_world)
    client = signed_in_client(app, username)
    with app.app_context():
        visible = list(db.session.scalars(select(Fund)))
        pages_read = 0
        for fund in visible:
            response = client.get(f"/funds/{fund.id}")
            if response.status_code == 403:
                continue
            html = response.get_data(as_text=True)
            offers, books = _fund_offers(username, fund)
            assert _forms(html) == offers, fund.reference
            books_link = f'href="/organisations/{fund.organisation_id}/books"'
            assert (books_link in html) == books, fund.reference
            pages_read += 1
            if books:
                page = client.get(f"/organisations/{fund.organisation_id}/books").get_data(as_text=True)
                expected, closing_links = _books_offers(username, fund.organisation_id)
                assert _forms(page) == expected
                linked = re.findall(r'href="([^"]+/(?:years/\d+|periods/\d+/\d+)/close)"', page)
                assert set(linked) == closing_links
        for report in db.session.scalars(select(ExpenseReport)):
            response = client.get(f"/reports/{report.id}")
            if response.status_code == 403:
                continue
            assert _forms(response.get_data(as_text=True)) == _report_offers(username, report), report.title
            pages_read += 1
    assert pages_read > 0


@pytest.mark.parametrize("username", PEOPLE)
def test_the_navigation_offers_the_places_a_person_may_go(
    app: Flask, world: DemoWorld, username: str
) -> None:
    client = signed_in_client(app, username)
    with app.app_context():
        places = navigation(actor_named(username))
    home = client.get("/").get_data(as_text=True)
    nav = re.search(r"<nav.*?</nav>", home, re.S)
    assert nav
    for place in (Action.QUEUE, Action.AUDIT, Action.ADMIN, Action.COVERAGE):
        assert (f'href="/{place.value}"' in nav.group(0)) == (place in places), place
    assert ('href="/#funds"' in nav.group(0)) == (Action.FUNDS in places)
    # The audit trail and administration answer those who are offered them, and only those.
    assert (client.get("/audit").status_code == 200) == (Action.AUDIT in places)
    assert (client.get("/admin/communities").status_code == 200) == (Action.ADMIN in places)


def test_a_supervisor_reads_their_area_and_is_offered_nothing_to_write(
    app: Flask, funded_world: DemoWorld
) -> None:
    """江岸区's supervisor: funds, reports, books, the audit trail and coverage; no form on any of them."""
    add_decisions_to_the_demo(funded_world)
    client = signed_in_client(app, "jiangan.supervisor")
    with app.app_context():
        places = navigation(actor_named("jiangan.supervisor"))
    assert {Action.FUNDS, Action.BOOKS, Action.AUDIT, Action.COVERAGE} <= places
    assert not places & {Action.QUEUE, Action.ADMIN, Action.ATTEST}
    home = client.get("/").get_data(as_text=True)
    funds = sorted(set(re.findall(r'href="(/funds/[0-9a-f-]{36})"', home)))
    assert funds, "the supervisor sees the funds of 江岸区"
    pages = ["/", "/queue", "/audit", "/audit/entries", "/coverage", *funds]
    for fund in funds:
        page = client.get(fund).get_data(as_text=True)
        pages += re.findall(r'href="(/organisations/[0-9a-f-]{36}/books)"', page)
        pages += re.findall(r'href="(/reports/[0-9a-f-]{36})"', page)
    assert any(page.endswith("/books") for page in pages)
    for path in sorted(set(pages)):
        response = client.get(path)
        assert response.status_code == 200, path
        assert _forms(response.get_data(as_text=True)) == set(), path
    assert client.get("/admin/communities").status_code == 403


def test_the_preparer_is_not_offered_approval_and_is_refused_it(app: Flask, funded_world: DemoWorld) -> None:
    add_decisions_to_the_demo(funded_world)
    with app.app_context():
        prepared = db.session.scalars(select(Disbursement).where(Disbursement.status == "prepared")).one()
        fund_page, approve = f"/funds/{prepared.fund_id}", f"/disbursements/{prepared.id}/approve"
    preparer, other = signed_in_client(app, "finance1"), signed_in_client(app, "finance2")
    assert (approve, None) not in _forms(preparer.get(fund_page).get_data(as_text=True))
    before = table_counts(app)
    refused = preparer.post(approve, data={"csrf_token": csrf_token_of(preparer, fund_page)})
    assert refused.status_code == 403
    assert table_counts(app) == before
    assert (approve, None) in _forms(other.get(fund_page).get_data(as_text=True))
    approved = other.post(approve, data={"csrf_token": csrf_token_of(other, fund_page)})
    assert approved.status_code == 302
    # Now the preparer may pay it (paying is not approving), and the page says so.
    pay = f"/disbursements/{prepared.id}/pay"
    assert (pay, None) in _forms(preparer.get(fund_page).get_data(as_text=True))
    paid = preparer.post(
        pay,
        data={
            "csrf_token": csrf_token_of(preparer, fund_page),
            "bank_reference": "ICBC-1",
            "paid_on": "2026-11-02",
        },
    )
    assert paid.status_code == 302, paid.get_data(as_text=True)[:500]
    with app.app_context():
        assert db.session.get(Disbursement, prepared.id).status == "paid"  # type: ignore[union-attr]


def test_the_proposer_is_not_offered_the_decision_and_is_refused_it(
    app: Flask, funded_world: DemoWorld
) -> None:
    add_decisions_to_the_demo(funded_world)
    with app.app_context():
        finance1 = actor_named("finance1")
        revision = db.session.scalars(
            select(BudgetRevision).where(BudgetRevision.proposed_by == str(finance1.user_id))
        ).one()
        fund_page, decide = f"/funds/{revision.fund_id}", f"/revisions/{revision.id}/decide"
    proposer, other = signed_in_client(app, "finance1"), signed_in_client(app, "finance2")
    assert not {
        offer for offer in _forms(proposer.get(fund_page).get_data(as_text=True)) if offer[0] == decide
    }
    before = table_counts(app)
    refused = proposer.post(
        decide, data={"csrf_token": csrf_token_of(proposer, fund_page), "decision": "approve"}
    )
    assert refused.status_code == 403
    assert table_counts(app) == before
    assert (decide, "approve") in _forms(other.get(fund_page).get_data(as_text=True))
    decided = other.post(decide, data={"csrf_token": csrf_token_of(other, fund_page), "decision": "approve"})
    assert decided.status_code == 302
    with app.app_context():
        assert db.session.get(BudgetRevision, revision.id).status == "approved"  # type: ignore[union-attr]


def test_offered_month_closings_work_and_the_others_are_refused(app: Flask, funded_world: DemoWorld) -> None:
    """Months close in order: only the earliest open month that has ended is offered."""
    organisation = funded_world.member_organisation["member01"]
    books = f"/organisations/{organisation}/books"
    officer = signed_in_client(app, "finance1")
    confirm_links = re.findall(
        r'href="([^"]+/periods/\d+/\d+/close)"', officer.get(books).get_data(as_text=True)
    )
    assert len(confirm_links) == 1, confirm_links
    assert _forms(officer.get(books).get_data(as_text=True)) & {(confirm_links[0], "close")} == set()
    # The confirmation shows the month and posts the close.
    confirmation = officer.get(confirm_links[0])
    assert confirmation.status_code == 200
    closings = [path for path, value in _forms(confirmation.get_data(as_text=True)) if value == "close"]
    assert closings == [confirm_links[0].removesuffix("/close")]
    with app.app_context():
        open_months = [
            f"{books.removesuffix('/books')}/periods/{p.year}/{p.month}"
            for p in db.session.scalars(
                select(AccountingPeriod)
                .where(
                    AccountingPeriod.organisation_id == uuid.UUID(organisation),
                    AccountingPeriod.status == "open",
                )
                .order_by(AccountingPeriod.year, AccountingPeriod.month)
            )
        ]
    assert closings[0] == open_months[0]
    token = csrf_token_of(officer, books)
    before = table_counts(app)
    for later in open_months[1:]:
        assert officer.post(later, data={"csrf_token": token, "action": "close"}).status_code in (409, 422)
        assert officer.get(f"{later}/close").status_code in (409, 422)
    assert table_counts(app) == before
    assert officer.post(closings[0], data={"csrf_token": token, "action": "close"}).status_code == 302
    # A member reads the books and is offered nothing on them.
    member = signed_in_client(app, "member01")
    assert _forms(member.get(books).get_data(as_text=True)) == set()


def test_an_admin_is_offered_activation_only_once_the_budget_adds_up(
    app: Flask, funded_world: DemoWorld
) -> None:
    add_decisions_to_the_demo(funded_world)
    with app.app_context():
        draft = db.session.scalars(select(Fund).where(Fund.reference == "TEST-DRAFT-1")).one()
        fund_page = f"/funds/{draft.id}"
    admin = signed_in_client(app, "admin")
    token = csrf_token_of(admin, fund_page)
    # Less budget than the award: no Activate button, and activating is refused.
    assert (
        admin.post(f"{fund_page}/budget", data={"csrf_token": token, "lines.ACTIVITY": "900.00"}).status_code
        == 302
    )
    assert (f"{fund_page}/status", "activate") not in _forms(admin.get(fund_page).get_data(as_text=True))
    assert (
        admin.post(f"{fund_page}/status", data={"csrf_token": token, "action": "activate"}).status_code == 409
    )
    admin.post(f"{fund_page}/budget", data={"csrf_token": token, "lines.ACTIVITY": "1000.00"})
    assert (f"{fund_page}/status", "activate") in _forms(admin.get(fund_page).get_data(as_text=True))
    assert (
        admin.post(f"{fund_page}/status", data={"csrf_token": token, "action": "activate"}).status_code == 302
    )
    offers = _forms(admin.get(fund_page).get_data(as_text=True))
    assert (f"{fund_page}/status", "suspend") in offers
    assert (f"{fund_page}/budget", None) not in offers  # an active fund's budget changes by revision


def test_no_template_decides_by_role_or_works_around_jinja() -> None:
    """Templates display ``actions``; who may do what is the services' (``services/actions.py``)."""
    forbidden = re.compile(r"\brole\s*(?:==|!=|\bin\b|\bnot in\b)|\.update\(|\.append\(|\{%-?\s*set\s+_\s*=")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(TEMPLATES.glob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if forbidden.search(line)
    ]
    assert not found, found
