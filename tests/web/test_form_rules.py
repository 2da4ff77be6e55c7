"""Every web form refuses what the API refuses, with the API's message, at the field, writing nothing.

Each POST route of the ``web`` blueprint has a row here: a form holding a value the API refuses,
the field the page shows the refusal at, and the API call carrying the same value. The message
expected on the page is the one the API's problem+json gives, so the rule cannot drift between
the two. A route without client input is in ``EXEMPT`` with the reason. A new form without a row
fails ``test_every_web_form_has_a_row``, as a new API route fails the access matrix.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from tests.builders import filed_organisation
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, signed_in_client, table_counts

Ids = dict[str, str]
LONG = "长" * 1000


@dataclass(frozen=True)
class Row:
    """One web form, a value the API refuses, and the API call refusing the same value."""

    user: str  # "anonymous" posts without signing in
    path: Callable[[Ids], str]
    form: Callable[[Ids], dict[str, str]]
    field: str  # where the page shows the refusal
    api_path: Callable[[Ids], str]
    api_body: Callable[[Ids], dict[str, Any]]
    api_field: str = ""  # as the API names it, when the form names it otherwise
    api_method: str = "POST"
    api_headers: Callable[[Ids], dict[str, str]] = field(default=lambda ids: {})
    shown_on: Callable[[Ids], str] = field(default=lambda ids: "/")  # the page the form is on (CSRF)


def _fund_terms(ids: Ids, **changes: str) -> dict[str, str]:
    return {
        "kind": "incubation_fund",
        "title": "孵化资金 rules",
        "reference": "R-rules",
        "funder_name": "区民政局",
        "organisation_id": ids["member01_org"],
        "award": "1000.00",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "restriction_purpose": "社区服务",
        **changes,
    }


def _line(**changes: str) -> dict[str, str]:
    return {
        "category_code": "OFFICE",
        "amount": "1.00",
        "incurred_on": "2026-05-06",
        "payee": "晨光文具",
        "description": "文具 stationery",
        **changes,
    }


ROWS: dict[str, Row] = {
    # A street (后湖街道) is a node of the tree, not a community: refused at the code.
    "/admin/communities": Row(
        "huangpi.admin",
        lambda ids: "/admin/communities",
        lambda ids: {"code": "420102012000", "name": "", "kind": "", "idempotency_key": "rules-community"},
        "code",
        lambda ids: "/api/v1/communities",
        lambda ids: {"code": "420102012000"},
    ),
    "/admin/communities/<uuid:community_id>": Row(
        "admin",
        lambda ids: f"/admin/communities/{ids['community']}",
        lambda ids: {"code": "420102012000", "version": ids["community_version"]},
        "code",
        lambda ids: f"/api/v1/communities/{ids['community']}",
        lambda ids: {"code": "420102012000"},
        api_method="PATCH",
        api_headers=lambda ids: {"If-Match": f'"{ids["community_version"]}"'},
    ),
    "/admin/organisations": Row(
        "admin",
        lambda ids: "/admin/organisations",
        lambda ids: {
            "name": "组织",
            "credit_code": "53420000MJH2448303",
            "registration_type": "club",
            "community_id": ids["community"],
        },
        "registration_type",
        lambda ids: "/api/v1/organisations",
        lambda ids: {
            "name": "组织",
            "credit_code": "53420000MJH2448303",
            "registration_type": "club",
            "community_id": ids["community"],
        },
    ),
    "/admin/organisations/<uuid:organisation_id>/registration": Row(
        "admin",
        lambda ids: f"/admin/organisations/{ids['filed_org']}/registration",
        lambda ids: {"credit_code": "53420000MJH2448303", "registered_on": "1900-01-01", "version": "1"},
        "registered_on",
        lambda ids: f"/api/v1/organisations/{ids['filed_org']}/registration",
        lambda ids: {"credit_code": "53420000MJH2448303", "registered_on": "1900-01-01"},
    ),
    "/admin/organisations/<uuid:organisation_id>/deregistration": Row(
        "admin",
        lambda ids: f"/admin/organisations/{ids['member01_org']}/deregistration",
        lambda ids: {"deregistered_on": "2026-01-01", "reason": LONG, "version": "1"},
        "reason",
        lambda ids: f"/api/v1/organisations/{ids['member01_org']}/deregistration",
        lambda ids: {"deregistered_on": "2026-01-01", "reason": LONG},
    ),
    "/admin/users": Row(
        "admin",
        lambda ids: "/admin/users",
        lambda ids: {"username": "x", "display_name": "X", "role": "auditor", "password": "long-enough-pw"},
        "username",
        lambda ids: "/api/v1/users",
        lambda ids: {"username": "x", "display_name": "X", "role": "auditor", "password": "long-enough-pw"},
    ),
    "/admin/users/<uuid:user_id>": Row(
        "admin",
        lambda ids: f"/admin/users/{ids['member05']}",
        lambda ids: {"role": "wizard"},
        "role",
        lambda ids: f"/api/v1/users/{ids['member05']}",
        lambda ids: {"role": "wizard"},
        api_method="PATCH",
    ),
    "/admin/funds": Row(
        "admin",
        lambda ids: "/admin/funds",
        lambda ids: _fund_terms(ids, period_start="1900-01-01"),
        "period_start",
        lambda ids: "/api/v1/funds",
        lambda ids: _fund_terms(ids, period_start="1900-01-01"),
    ),
    "/funds/<uuid:fund_id>/budget": Row(
        "admin",
        lambda ids: f"/funds/{ids['draft_fund']}/budget",
        lambda ids: {"lines.OFFICE": "1.234"},
        "lines.OFFICE",
        lambda ids: f"/api/v1/funds/{ids['draft_fund']}/budget",
        lambda ids: {"lines": {"OFFICE": "1.234"}},
        api_method="PUT",
    ),
    "/funds/<uuid:fund_id>/tranches": Row(
        "admin",
        lambda ids: f"/funds/{ids['draft_fund']}/tranches",
        lambda ids: {"tranches.1.amount": "500.00", "tranches.1.due_date": "1900-01-01"},
        "tranches.1.due_date",
        lambda ids: f"/api/v1/funds/{ids['draft_fund']}/tranches",
        lambda ids: {"tranches": [{"amount": "500.00", "due_date": "1900-01-01"}]},
        api_field="tranches.0.due_date",
        api_method="PUT",
    ),
    "/login": Row(
        "anonymous",
        lambda ids: "/login",
        lambda ids: {"username": "u" * 65, "password": "whatever"},
        "username",
        lambda ids: "/api/v1/auth/login",
        lambda ids: {"username": "u" * 65, "password": "whatever"},
        shown_on=lambda ids: "/login",
    ),
    "/audit/attestation": Row(
        "auditor",
        lambda ids: "/audit/attestation",
        lambda ids: {"lang": "fr"},
        "lang",
        lambda ids: "/api/v1/audit/attestation",
        lambda ids: {"lang": "fr"},
    ),
    "/funds/<uuid:fund_id>/revisions": Row(
        "member01",
        lambda ids: f"/funds/{ids['member01_fund']}/revisions",
        lambda ids: {"from": "OFFICE", "to": "ACTIVITY", "amount": "1.00", "reason": LONG},
        "reason",
        lambda ids: f"/api/v1/funds/{ids['member01_fund']}/budget-revisions",
        lambda ids: {"changes": {"OFFICE": "-1.00", "ACTIVITY": "1.00"}, "reason": LONG},
    ),
    "/revisions/<uuid:revision_id>/decide": Row(
        "finance1",
        lambda ids: f"/revisions/{ids['revision']}/decide",
        lambda ids: {"decision": "approve", "note": LONG},
        "note",
        lambda ids: f"/api/v1/budget-revisions/{ids['revision']}/approve",
        lambda ids: {"note": LONG},
    ),
    "/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>": Row(
        "finance1",
        lambda ids: f"/organisations/{ids['member01_org']}/periods/2026/1",
        lambda ids: {"action": "reopen", "reason": ""},
        "reason",
        lambda ids: f"/api/v1/organisations/{ids['member01_org']}/periods/2026/1/reopen",
        lambda ids: {"reason": ""},
    ),
    "/organisations/<uuid:organisation_id>/years/<int:year>/reopen": Row(
        "finance1",
        lambda ids: f"/organisations/{ids['member01_org']}/years/2025/reopen",
        lambda ids: {"reason": ""},
        "reason",
        lambda ids: f"/api/v1/organisations/{ids['member01_org']}/years/2025/reopen",
        lambda ids: {"reason": ""},
    ),
    "/funds/<uuid:fund_id>/reports": Row(
        "member01",
        lambda ids: f"/funds/{ids['member01_fund']}/reports",
        lambda ids: {"title": LONG, "idempotency_key": uuid.uuid4().hex},
        "title",
        lambda ids: f"/api/v1/funds/{ids['member01_fund']}/expense-reports",
        lambda ids: {"title": LONG},
    ),
    "/funds/<uuid:fund_id>/requirements": Row(
        "finance1",
        lambda ids: f"/funds/{ids['member01_fund']}/requirements",
        lambda ids: {"kind": "interim_report", "due_on": "1900-01-01"},
        "due_on",
        lambda ids: f"/api/v1/funds/{ids['member01_fund']}/requirements",
        lambda ids: {"kind": "interim_report", "due_on": "1900-01-01"},
        shown_on=lambda ids: f"/funds/{ids['member01_fund']}",
    ),
    "/requirements/<uuid:requirement_id>/done": Row(
        "finance1",
        lambda ids: f"/requirements/{ids['requirement']}/done",
        lambda ids: {"note": LONG},
        "note",
        lambda ids: f"/api/v1/requirements/{ids['requirement']}/done",
        lambda ids: {"note": LONG},
        shown_on=lambda ids: f"/funds/{ids['member01_fund']}",
    ),
    "/requirements/<uuid:requirement_id>/withdrawal": Row(
        "finance1",
        lambda ids: f"/requirements/{ids['requirement']}/withdrawal",
        lambda ids: {"note": LONG},
        "note",
        lambda ids: f"/api/v1/requirements/{ids['requirement']}/withdrawal",
        lambda ids: {"note": LONG},
        shown_on=lambda ids: f"/funds/{ids['member01_fund']}",
    ),
    "/requirements/<uuid:requirement_id>/change": Row(
        "finance1",
        lambda ids: f"/requirements/{ids['requirement']}/change",
        lambda ids: {"due_on": "1900-01-01", "version": ids["requirement_version"]},
        "due_on",
        lambda ids: f"/api/v1/requirements/{ids['requirement']}",
        lambda ids: {"due_on": "1900-01-01"},
        api_method="PATCH",
        api_headers=lambda ids: {"If-Match": f'"{ids["requirement_version"]}"'},
        shown_on=lambda ids: f"/funds/{ids['member01_fund']}",
    ),
    "/funds/<uuid:fund_id>/disbursements": Row(
        "finance1",
        lambda ids: f"/funds/{ids['member01_fund']}/disbursements",
        lambda ids: {
            "kind": "reimbursement",
            "amount": "1.234",
            "memo": "m",
            "idempotency_key": uuid.uuid4().hex,
        },
        "amount",
        lambda ids: f"/api/v1/funds/{ids['member01_fund']}/disbursements",
        lambda ids: {"kind": "reimbursement", "amount": "1.234", "memo": "m"},
    ),
    "/disbursements/<uuid:disbursement_id>/pay": Row(
        "finance1",
        lambda ids: f"/disbursements/{ids['approved_disbursement']}/pay",
        lambda ids: {"bank_reference": "ICBC-1", "paid_on": "1900-01-01"},
        "paid_on",
        lambda ids: f"/api/v1/disbursements/{ids['approved_disbursement']}/pay",
        lambda ids: {"bank_reference": "ICBC-1", "paid_on": "1900-01-01"},
    ),
    "/funds/<uuid:fund_id>/statement": Row(
        "member01",
        lambda ids: f"/funds/{ids['member01_fund']}/statement",
        lambda ids: {"period": "2026-01..2026-03", "lang": "fr"},
        "lang",
        lambda ids: f"/api/v1/funds/{ids['member01_fund']}/statements/fund-use",
        lambda ids: {"period": "2026-01..2026-03", "lang": "fr"},
    ),
    "/organisations/<uuid:organisation_id>/statement": Row(
        "member01",
        lambda ids: f"/organisations/{ids['member01_org']}/statement",
        lambda ids: {"period": "2026-01..2026-03", "lang": "fr"},
        "lang",
        lambda ids: f"/api/v1/organisations/{ids['member01_org']}/statements/financial",
        lambda ids: {"period": "2026-01..2026-03", "lang": "fr"},
    ),
    "/reports/<uuid:report_id>/lines": Row(
        "member01",
        lambda ids: f"/reports/{ids['draft_report']}/lines",
        lambda ids: {**_line(incurred_on="1900-01-01"), "version": ids["draft_report_version"]},
        "incurred_on",
        lambda ids: f"/api/v1/expense-reports/{ids['draft_report']}/lines",
        lambda ids: {"lines": [_line(incurred_on="1900-01-01")]},
        api_field="lines.0.incurred_on",
        api_method="PUT",
        shown_on=lambda ids: f"/reports/{ids['draft_report']}",
    ),
    "/reports/<uuid:report_id>/decide": Row(
        "finance1",
        lambda ids: f"/reports/{ids['submitted_report']}/decide",
        lambda ids: {"decision": "return", "comment": "", "version": ids["submitted_report_version"]},
        "comment",
        lambda ids: f"/api/v1/expense-reports/{ids['submitted_report']}/return",
        lambda ids: {"comment": ""},
        shown_on=lambda ids: f"/reports/{ids['submitted_report']}",
    ),
    "/reports/<uuid:report_id>/void": Row(
        "finance2",
        lambda ids: f"/reports/{ids['approved_report']}/void",
        lambda ids: {"date": "1900-01-01", "reason": "duplicate", "version": ids["approved_report_version"]},
        "date",
        lambda ids: f"/api/v1/expense-reports/{ids['approved_report']}/void",
        lambda ids: {"date": "1900-01-01", "reason": "duplicate"},
        shown_on=lambda ids: f"/reports/{ids['approved_report']}",
    ),
    # Mail wanted but no address given: refused at the address.
    "/notifications/preferences": Row(
        "finance1",
        lambda ids: "/notifications/preferences",
        lambda ids: {"email": "", "email_mode": "each", "language": "zh", "version": "1"},
        "email",
        lambda ids: "/api/v1/me/notification-preferences",
        lambda ids: {"email": None, "email_mode": "each", "language": "zh"},
        api_method="PUT",
        shown_on=lambda ids: "/notifications",
    ),
    "/admin/webhooks": Row(
        "admin",
        lambda ids: "/admin/webhooks",
        lambda ids: {"url": "ftp://example.org/hook", "event_types": "disbursement.paid"},
        "url",
        lambda ids: "/api/v1/webhooks",
        lambda ids: {"url": "ftp://example.org/hook", "event_types": ["disbursement.paid"]},
        shown_on=lambda ids: "/admin/webhooks",
    ),
}

EXEMPT = {
    "/notifications/<uuid:notification_id>/read": "no input: marks it read and opens what it is about",
    "/notifications/read-all": "no input, as the API's read-all takes no body",
    "/admin/webhooks/<uuid:endpoint_id>/remove": "no input, as the API's DELETE takes no body",
    "/logout": "no input: ends the session",
    "/admin/signing-key/rotate": "no input: the button is the whole request",
    "/audit/verify": "no input: verifies the trail now",
    "/disbursements/<uuid:disbursement_id>/approve": "no input, as the API's approve takes no body",
    "/organisations/<uuid:organisation_id>/years/<int:year>/close": "no input: the confirmed close",
    "/funds/<uuid:fund_id>/status": "the button pressed picks one of the API's status endpoints, none takes a body",
    "/reports/<uuid:report_id>/submit": "only the hidden version (see test_a_tampered_version_on_a_report_form...)",
    "/reports/<uuid:report_id>/lines/<int:number>/remove": "only the hidden version (tested as for submit)",
    "/reports/<uuid:report_id>/lines/<int:number>/invoice-verification": "no input, as the API's "
    "invoice-verification takes no body",
    "/admin/imports/<kind>": "a file, not fields: tests/web/test_import_pages.py checks that the page "
    "shows the API's problems for the same file, by row and column",
    "/funds/<uuid:fund_id>/imports/<kind>": "a file, as the admin imports (tests/web/test_import_pages.py)",
    # Downloads post only to carry the CSRF token (each is an audit entry); what they read is in
    # the address's query, as the API's GETs (tests/exports/test_xlsx_downloads.py).
    "/queue.xlsx": "a download: the fund filter in the query, as GET /api/v1/expense-reports.xlsx",
    "/funds/<uuid:fund_id>/budget-vs-actual.xlsx": "a download with no input",
    "/funds/<uuid:fund_id>/summary.xlsx": "a download with no input",
    "/organisations/<uuid:organisation_id>/trial-balance.xlsx": "a download: as_of in the query",
    "/organisations/<uuid:organisation_id>/journal.xlsx": "a download with no input",
    "/coverage.xlsx": "a download: node and as_of in the query, loaded by the coverage page's schema",
}


def web_post_routes(app: Flask) -> set[str]:
    return {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("web.") and "POST" in (rule.methods or set())
    }


def test_every_web_form_has_a_row(app: Flask) -> None:
    routes = web_post_routes(app)
    assert not set(ROWS) & set(EXEMPT)
    assert routes == set(ROWS) | set(EXEMPT), (
        routes - set(ROWS) - set(EXEMPT),
        set(ROWS) | set(EXEMPT) - routes,
    )


def _ids(client: FlaskClient, world: DemoWorld) -> Ids:
    """The things the rows act on, found through the API as the demo world made them."""
    admin, member = world.auth("admin"), world.auth("member01")
    ids: Ids = {"member01_org": world.member_organisation["member01"], "community": world.community_ids[0]}
    users = client.get("/api/v1/users?page_size=500", headers=admin).get_json()
    ids["member05"] = next(u["id"] for u in users if u["username"] == "member05")
    community = client.get(f"/api/v1/communities/{ids['community']}", headers=admin).get_json()
    ids["community_version"] = str(community["version"])
    draft = client.post(
        "/api/v1/funds", json=_fund_terms(ids, reference="R-draft"), headers=world.keyed("admin")
    )
    assert draft.status_code == 201, draft.get_json()
    ids["draft_fund"] = draft.get_json()["id"]
    ids["filed_org"] = filed_organisation(client, world)["id"]
    funds = client.get("/api/v1/funds?page_size=500", headers=admin).get_json()
    ids["member01_fund"] = next(
        f["id"] for f in funds if f["organisation_id"] == ids["member01_org"] and f["status"] == "active"
    )
    for fund in funds:
        revisions = client.get(f"/api/v1/funds/{fund['id']}/budget-revisions", headers=admin).get_json()
        proposed = [r["id"] for r in revisions if r["status"] == "proposed"]
        paid_out = client.get(f"/api/v1/funds/{fund['id']}/disbursements", headers=world.auth("finance1"))
        approved = [d["id"] for d in paid_out.get_json() if d["status"] == "approved"]
        ids.update({"revision": proposed[0]} if proposed else {})
        ids.update({"approved_disbursement": approved[0]} if approved else {})
    due = client.get(f"/api/v1/funds/{ids['member01_fund']}/requirements", headers=admin).get_json()
    still_open = next(r for r in due if r["state"] not in ("done", "withdrawn"))
    ids["requirement"], ids["requirement_version"] = still_open["id"], str(still_open["version"])
    reports = client.get("/api/v1/expense-reports?page_size=500", headers=member).get_json()
    for status in ("draft", "submitted", "approved"):
        report = next(r for r in reports if r["status"] == status)
        ids[f"{status}_report"], ids[f"{status}_report_version"] = report["id"], str(report["version"])
    return ids


def _shown_at(html: str, field_name: str, message: str) -> bool:
    """The message is on the page at the field: beside its input, or listed under its name."""
    text = re.escape(str(escape(message)))
    beside = rf'id="error-{re.escape(field_name.replace(".", "-"))}"[^>]*>{text}</p>'
    listed = rf"<strong>{re.escape(field_name)}</strong>: {text}</li>"
    return bool(re.search(beside, html) or re.search(listed, html))


def test_every_web_form_refuses_what_the_api_refuses_at_the_field(
    app: Flask, funded_world: DemoWorld
) -> None:
    api = app.test_client()
    ids = _ids(api, funded_world)
    clients = {user: signed_in_client(app, user) for user in {r.user for r in ROWS.values()} - {"anonymous"}}
    clients["anonymous"] = app.test_client()
    # In English, the page's words are the API's: the same refusal, character for character (the
    # Chinese rendering of the same messages is tested in test_languages.py).
    for client in clients.values():
        assert client.get("/language/en").status_code == 302
    before = table_counts(app)
    failures = []
    for rule, row in sorted(ROWS.items()):
        headers = {} if row.user == "anonymous" else funded_world.keyed(row.user)
        headers = {**headers, **row.api_headers(ids)}
        answer = api.open(row.api_path(ids), method=row.api_method, json=row.api_body(ids), headers=headers)
        problem = answer.get_json() or {}
        api_field = row.api_field or row.field
        messages = problem.get("errors", {}).get(api_field)
        if not messages:
            failures.append(f"{rule}: the API did not refuse {api_field}: {answer.status_code} {problem}")
            continue
        client = clients[row.user]
        form = {**row.form(ids), "csrf_token": csrf_token_of(client, row.shown_on(ids))}
        page = client.post(row.path(ids), data=form)
        html = page.get_data(as_text=True)
        if page.status_code != answer.status_code:
            failures.append(f"{rule}: the page answered {page.status_code}, the API {answer.status_code}")
        missing = [m for m in messages if not _shown_at(html, row.field, m)]
        if missing:
            failures.append(f"{rule}: {missing} not shown at {row.field}")
    assert not failures, "\n".join(failures)
    assert table_counts(app) == before


def test_a_refused_month_or_year_stays_on_the_books_page_at_its_row(
    app: Flask, funded_world: DemoWorld
) -> None:
    """Reopening January 2026 (closed in the demo) without a reason: the books page again, not an error page."""
    officer = signed_in_client(app, "finance1")
    books = f"/organisations/{funded_world.member_organisation['member01']}/books"
    token = csrf_token_of(officer, books)
    before = table_counts(app)
    page = officer.post(
        f"{books.removesuffix('/books')}/periods/2026/1", data={"csrf_token": token, "action": "reopen"}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="trial-balance"' in html  # the books page itself
    assert 'id="error-reason"' in html  # beside the month's reason field
    assert "2026-01 · <strong>reason</strong>" in html  # and in the summary at the top
    assert table_counts(app) == before
