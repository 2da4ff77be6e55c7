"""Every API route, for every role, own and foreign organisation: the expected answer.

The cases are checked against the application's URL map, so a new route without a row here
fails ``test_every_route_has_a_row``: no endpoint can be added without deciding who may call it.

The administrative tree adds two callers, each with a table of its own answers (``SUPERVISOR``,
``ABROAD``) that must also name every route. ``jiangan.supervisor`` (supervisor at 江岸区) calls
the same things as the other roles: they are of 百步亭花园社区 in 江岸区, so a supervisor reads them
and writes nothing. ``houhu.finance1`` (finance officer at 后湖街道) calls the same route on a twin
made in 黄陂区, outside their area (``in_huangpi``): they get nothing of it.
"""

from __future__ import annotations

import io
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.business_dates import business_today
from ledger.credit_code import check_character
from ledger.demo import DEMO_PASSWORD
from tests.builders import filed_organisation_body, leaf, receipt_pdf
from tests.conftest import DemoWorld
from tests.helpers import keyed

ROLES = ("anonymous", "member01", "finance1", "auditor", "admin")  # admin last: it may delete
SUPERVISOR = "jiangan.supervisor"
SIBLING = "houhu.finance1"


@dataclass(frozen=True)
class Case:
    """How to call one route and what each caller gets."""

    url: Callable[[FlaskClient, DemoWorld], str]
    expected: dict[str, int]
    body: Callable[[DemoWorld], object] | None = None
    if_match: bool = False
    idempotency_key: bool = False
    upload: bool = False


def _everyone(status: int) -> dict[str, int]:
    return {"anonymous": 401} | {role: status for role in ROLES[1:]}


def _admin_only(status: int) -> dict[str, int]:
    return {"anonymous": 401, "member01": 403, "finance1": 403, "auditor": 403, "admin": status}


def _fixed(path: str) -> Callable[[FlaskClient, DemoWorld], str]:
    return lambda client, world: path


# Things a case makes in both worlds (in_huangpi) need distinct codes.
_made = itertools.count(1)


def _empty_community(client: FlaskClient, world: DemoWorld) -> str:
    body = {"code": leaf(200 + next(_made)), "name": "空社区", "kind": "rural"}
    created = client.post("/api/v1/communities", json=body, headers=world.keyed("admin")).get_json()
    return f"/api/v1/communities/{created['id']}"


def _credit_code(first17: str) -> str:
    return first17 + check_character(first17)


def _memberless_organisation(client: FlaskClient, world: DemoWorld) -> str:
    body = {
        "name": "无成员的组织",
        "credit_code": _credit_code(f"53420000MJH2448{next(_made):02d}"),
        "registration_type": "foundation",
        "community_id": world.community_ids[0],
    }
    created = client.post("/api/v1/organisations", json=body, headers=world.keyed("admin")).get_json()
    return f"/api/v1/organisations/{created['id']}"


def _filed_organisation(client: FlaskClient, world: DemoWorld) -> str:
    body = filed_organisation_body(world, filing_number=f"matrix-{uuid.uuid4().hex}")
    created = client.post("/api/v1/organisations", json=body, headers=world.keyed("admin")).get_json()
    return f"/api/v1/organisations/{created['id']}"


def _user_id(client: FlaskClient, world: DemoWorld, username: str) -> str:
    return str(client.get("/api/v1/auth/me", headers=world.auth(username)).get_json()["id"])


def _new_user(world: DemoWorld) -> object:
    return {
        "username": "matrix-user",
        "display_name": "x",
        "role": "auditor",
        "password": "a-long-enough-password",
    }


def _new_organisation(world: DemoWorld) -> object:
    return {
        "name": "矩阵测试组织",
        "credit_code": "51420000MJH200395N",
        "registration_type": "social_group",
        "community_id": world.community_ids[0],
    }


CASES: dict[tuple[str, str], Case] = {
    ("POST", "/api/v1/auth/login"): Case(
        _fixed("/api/v1/auth/login"),
        {role: 200 for role in ROLES},
        body=lambda world: {"username": "auditor", "password": DEMO_PASSWORD},
    ),
    ("POST", "/api/v1/auth/logout"): Case(_fixed("/api/v1/auth/logout"), _everyone(204)),
    ("GET", "/api/v1/auth/me"): Case(_fixed("/api/v1/auth/me"), _everyone(200)),
    ("GET", "/api/v1/health"): Case(_fixed("/api/v1/health"), {role: 200 for role in ROLES}),
    ("GET", "/api/v1/communities"): Case(_fixed("/api/v1/communities"), _everyone(200)),
    ("POST", "/api/v1/communities"): Case(
        _fixed("/api/v1/communities"),
        _admin_only(201),
        body=lambda world: {"code": "420199001202", "name": "n", "kind": "urban"},
        idempotency_key=True,
    ),
    ("GET", "/api/v1/communities/coverage"): Case(_fixed("/api/v1/communities/coverage"), _everyone(200)),
    ("GET", "/api/v1/coverage"): Case(_fixed("/api/v1/coverage?node=420100000000"), _everyone(200)),
    ("GET", "/api/v1/coverage.xlsx"): Case(_fixed("/api/v1/coverage.xlsx?node=420100000000"), _everyone(200)),
    ("GET", "/api/v1/communities/<uuid:community_id>"): Case(
        lambda client, world: f"/api/v1/communities/{world.community_ids[0]}", _everyone(200)
    ),
    ("PATCH", "/api/v1/communities/<uuid:community_id>"): Case(
        lambda client, world: f"/api/v1/communities/{world.community_ids[0]}",
        _admin_only(200),
        body=lambda world: {"name": "改名"},
        if_match=True,
    ),
    ("DELETE", "/api/v1/communities/<uuid:community_id>"): Case(
        _empty_community, _admin_only(204), if_match=True
    ),
    ("GET", "/api/v1/organisations"): Case(_fixed("/api/v1/organisations"), _everyone(200)),
    ("POST", "/api/v1/organisations"): Case(
        _fixed("/api/v1/organisations"), _admin_only(201), body=_new_organisation, idempotency_key=True
    ),
    ("GET", "/api/v1/organisations/<uuid:organisation_id>"): Case(
        lambda client, world: f"/api/v1/organisations/{world.member_organisation['member01']}", _everyone(200)
    ),
    ("PATCH", "/api/v1/organisations/<uuid:organisation_id>"): Case(
        lambda client, world: f"/api/v1/organisations/{world.member_organisation['member01']}",
        _admin_only(200),
        body=lambda world: {"name": "改名的组织"},
        if_match=True,
    ),
    ("DELETE", "/api/v1/organisations/<uuid:organisation_id>"): Case(
        _memberless_organisation, _admin_only(204), if_match=True
    ),
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/registration"): Case(
        lambda client, world: f"{_filed_organisation(client, world)}/registration",
        _admin_only(200),
        body=lambda world: {"credit_code": "51420000MJH200395N", "registered_on": "2025-09-01"},
        if_match=True,
    ),
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/deregistration"): Case(
        lambda client, world: f"{_memberless_organisation(client, world)}/deregistration",
        _admin_only(200),
        body=lambda world: {"deregistered_on": business_today().isoformat(), "reason": "矩阵"},
        if_match=True,
    ),
    ("GET", "/api/v1/users"): Case(
        _fixed("/api/v1/users"),
        {"anonymous": 401, "member01": 403, "finance1": 403, "auditor": 200, "admin": 200},
    ),
    ("POST", "/api/v1/users"): Case(
        _fixed("/api/v1/users"), _admin_only(201), body=_new_user, idempotency_key=True
    ),
    ("GET", "/api/v1/users/<uuid:user_id>"): Case(
        lambda client, world: f"/api/v1/users/{_user_id(client, world, 'houhu.finance2')}",
        {"anonymous": 401, "member01": 403, "finance1": 403, "auditor": 200, "admin": 200},
    ),
    ("PATCH", "/api/v1/users/<uuid:user_id>"): Case(
        lambda client, world: f"/api/v1/users/{_user_id(client, world, 'houhu.finance2')}",
        _admin_only(200),
        body=lambda world: {"display_name": "新名字"},
        if_match=True,
    ),
    ("PUT", "/api/v1/users/<uuid:user_id>/password"): Case(
        lambda client, world: f"/api/v1/users/{_user_id(client, world, 'houhu.finance2')}/password",
        _admin_only(204),
        body=lambda world: {"new_password": "a-long-enough-password"},
    ),
    ("GET", "/api/v1/reference/charts"): Case(_fixed("/api/v1/reference/charts"), _everyone(200)),
    ("GET", "/api/v1/reference/charts/<string:version>/accounts"): Case(
        _fixed("/api/v1/reference/charts/NPO-2005/accounts"), _everyone(200)
    ),
    ("GET", "/api/v1/reference/expense-categories"): Case(
        _fixed("/api/v1/reference/expense-categories"), _everyone(200)
    ),
    ("GET", "/api/v1/reference/expense-categories/<string:version>"): Case(
        _fixed("/api/v1/reference/expense-categories/CFL-EC-2026"), _everyone(200)
    ),
    ("GET", "/api/v1/regions"): Case(_fixed("/api/v1/regions"), _everyone(200)),
    ("GET", "/api/v1/regions/<string:version>/divisions"): Case(
        _fixed("/api/v1/regions/CFL-ILLUSTRATIVE-2024/divisions?parent=420102000000"), _everyone(200)
    ),
}


def _auditors_only(status: int) -> dict[str, int]:
    return {"anonymous": 401, "member01": 403, "finance1": 403, "auditor": status, "admin": status}


def _latest_checkpoint(client: FlaskClient, world: DemoWorld) -> str:
    note = client.get("/api/v1/audit/checkpoint", headers=world.auth("auditor")).get_data(as_text=True)
    return f"/api/v1/audit/checkpoints/{note.splitlines()[1]}"


CASES.update(
    {
        ("GET", "/api/v1/audit/entries"): Case(
            _fixed("/api/v1/audit/entries?after=0&limit=5"), _auditors_only(200)
        ),
        ("GET", "/api/v1/audit/checkpoint"): Case(_fixed("/api/v1/audit/checkpoint"), _auditors_only(200)),
        ("GET", "/api/v1/audit/checkpoints/<int:size>"): Case(_latest_checkpoint, _auditors_only(200)),
        ("GET", "/api/v1/audit/export"): Case(_fixed("/api/v1/audit/export?format=zip"), _auditors_only(200)),
        ("GET", "/api/v1/audit/key"): Case(_fixed("/api/v1/audit/key"), _auditors_only(200)),
        ("GET", "/api/v1/audit/proof/inclusion"): Case(
            _fixed("/api/v1/audit/proof/inclusion?seq=1&tree_size=2"), _auditors_only(200)
        ),
        ("GET", "/api/v1/audit/proof/consistency"): Case(
            _fixed("/api/v1/audit/proof/consistency?from=1&to=2"), _auditors_only(200)
        ),
    }
)


def _books_only(status: int) -> dict[str, int]:
    return {"anonymous": 401, "member01": status, "finance1": status, "auditor": status, "admin": 403}


def _finance_only(status: int) -> dict[str, int]:
    return {"anonymous": 401, "member01": 403, "finance1": status, "auditor": 403, "admin": 403}


def _own_books(path: str) -> Callable[[FlaskClient, DemoWorld], str]:
    return lambda client, world: f"/api/v1/organisations/{world.member_organisation['member01']}/{path}"


def _an_entry(client: FlaskClient, world: DemoWorld) -> str:
    body = {
        "date": "2026-05-02",
        "description": "matrix",
        "lines": [
            {"account_code": "1002", "side": "debit", "amount": "1.00"},
            {"account_code": "4401", "side": "credit", "amount": "1.00"},
        ],
        "cash_flow_line": "grants_received",
    }
    created = client.post(
        _own_books("journal-entries")(client, world), json=body, headers=world.keyed("finance1")
    )
    return f"/api/v1/journal-entries/{created.get_json()['id']}"


def _year_ready_to_close(client: FlaskClient, world: DemoWorld) -> str:
    """2025 of member01's books with a revenue entry and every month closed."""
    body = {
        "date": "2025-06-01",
        "description": "matrix",
        "lines": [
            {"account_code": "1002", "side": "debit", "amount": "3.00"},
            {"account_code": "4101", "side": "credit", "amount": "3.00"},
        ],
        "cash_flow_line": "donations_received",
    }
    client.post(_own_books("journal-entries")(client, world), json=body, headers=world.keyed("finance1"))
    for month in range(1, 13):
        client.post(_own_books(f"periods/2025/{month}/close")(client, world), headers=world.auth("finance1"))
    return _own_books("years/2025")(client, world)


def _closed_year(client: FlaskClient, world: DemoWorld) -> str:
    url = _year_ready_to_close(client, world)
    client.post(f"{url}/close", headers=world.auth("finance1"))
    return url


CASES.update(
    {
        ("GET", "/api/v1/organisations/<uuid:organisation_id>/journal-entries"): Case(
            _own_books("journal-entries"), _books_only(200)
        ),
        ("POST", "/api/v1/organisations/<uuid:organisation_id>/journal-entries"): Case(
            _own_books("journal-entries"),
            _finance_only(201),
            body=lambda world: {
                "date": "2026-05-01",
                "description": "matrix",
                "lines": [
                    {"account_code": "1002", "side": "debit", "amount": "2.00"},
                    {"account_code": "4401", "side": "credit", "amount": "2.00"},
                ],
                "cash_flow_line": "grants_received",
            },
            idempotency_key=True,
        ),
        ("GET", "/api/v1/journal-entries/<uuid:entry_id>"): Case(_an_entry, _books_only(200)),
        ("POST", "/api/v1/journal-entries/<uuid:entry_id>/reversal"): Case(
            lambda client, world: _an_entry(client, world) + "/reversal",
            _finance_only(201),
            body=lambda world: {"date": "2026-05-03", "reason": "matrix"},
        ),
        ("GET", "/api/v1/organisations/<uuid:organisation_id>/periods"): Case(
            _own_books("periods"), _books_only(200)
        ),
        ("POST", "/api/v1/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/close"): Case(
            _own_books("periods/2026/6/close"), _finance_only(200)
        ),
        ("POST", "/api/v1/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/reopen"): Case(
            lambda client, world: (
                client.post(_own_books("periods/2026/7/close")(client, world), headers=world.auth("finance1"))
                and _own_books("periods/2026/7/reopen")(client, world)
            ),
            _finance_only(200),
            body=lambda world: {"reason": "matrix"},
        ),
        ("GET", "/api/v1/organisations/<uuid:organisation_id>/trial-balance"): Case(
            _own_books("trial-balance"), _books_only(200)
        ),
        ("GET", "/api/v1/organisations/<uuid:organisation_id>/years"): Case(
            _own_books("years"), _books_only(200)
        ),
        ("POST", "/api/v1/organisations/<uuid:organisation_id>/years/<int:year>/close"): Case(
            lambda client, world: _year_ready_to_close(client, world) + "/close", _finance_only(200)
        ),
        ("POST", "/api/v1/organisations/<uuid:organisation_id>/years/<int:year>/reopen"): Case(
            lambda client, world: _closed_year(client, world) + "/reopen",
            _finance_only(200),
            body=lambda world: {"reason": "matrix"},
        ),
    }
)


def _fund_terms(world: DemoWorld, reference: str) -> dict[str, object]:
    return {
        "kind": "incubation_fund",
        "title": "孵化资金 matrix",
        "reference": reference,
        "funder_name": "区民政局",
        "organisation_id": world.member_organisation["member01"],
        "award": "1000.00",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "restriction_purpose": "matrix",
    }


def _fund(client: FlaskClient, world: DemoWorld, state: str = "draft") -> str:
    admin = world.auth("admin")
    created = client.post(
        "/api/v1/funds", json=_fund_terms(world, f"M-{uuid.uuid4().hex[:8]}"), headers=keyed(admin)
    )
    url = f"/api/v1/funds/{created.get_json()['id']}"
    if state != "draft":
        client.put(f"{url}/budget", json={"lines": {"ACTIVITY": "900.00", "OFFICE": "100.00"}}, headers=admin)
    if state in ("budgeted",):
        return url
    if state in ("active", "suspended"):
        client.post(f"{url}/activate", headers={**admin, "If-Match": "*"})
    if state == "suspended":
        client.post(f"{url}/suspend", headers={**admin, "If-Match": "*"})
    return url


def _proposed_revision(client: FlaskClient, world: DemoWorld) -> str:
    url = _fund(client, world, "active")
    body = {"changes": {"ACTIVITY": "-500.00", "PRINTING": "500.00"}, "reason": "matrix"}
    revision = client.post(f"{url}/budget-revisions", json=body, headers=world.keyed("finance2")).get_json()
    return f"/api/v1/budget-revisions/{revision['id']}"


CASES.update(
    {
        ("GET", "/api/v1/funds"): Case(_fixed("/api/v1/funds"), _everyone(200)),
        ("POST", "/api/v1/funds"): Case(
            _fixed("/api/v1/funds"),
            _admin_only(201),
            body=lambda world: _fund_terms(world, "M-create"),
            idempotency_key=True,
        ),
        ("GET", "/api/v1/funds/<uuid:fund_id>"): Case(_fund, _everyone(200)),
        ("PATCH", "/api/v1/funds/<uuid:fund_id>"): Case(
            _fund, _admin_only(200), body=lambda world: {"title": "改名"}, if_match=True
        ),
        ("POST", "/api/v1/funds/<uuid:fund_id>/activate"): Case(
            lambda c, w: _fund(c, w, "budgeted") + "/activate", _admin_only(200), if_match=True
        ),
        ("POST", "/api/v1/funds/<uuid:fund_id>/suspend"): Case(
            lambda c, w: _fund(c, w, "active") + "/suspend", _admin_only(200), if_match=True
        ),
        ("POST", "/api/v1/funds/<uuid:fund_id>/resume"): Case(
            lambda c, w: _fund(c, w, "suspended") + "/resume", _admin_only(200), if_match=True
        ),
        ("POST", "/api/v1/funds/<uuid:fund_id>/close"): Case(
            lambda c, w: _fund(c, w, "active") + "/close", _admin_only(200), if_match=True
        ),
        ("GET", "/api/v1/funds/<uuid:fund_id>/budget"): Case(
            lambda c, w: _fund(c, w) + "/budget", _everyone(200)
        ),
        ("PUT", "/api/v1/funds/<uuid:fund_id>/budget"): Case(
            lambda c, w: _fund(c, w) + "/budget",
            _admin_only(200),
            body=lambda world: {"lines": {"ACTIVITY": "10.00"}},
        ),
        ("GET", "/api/v1/funds/<uuid:fund_id>/budget-revisions"): Case(
            lambda c, w: _fund(c, w, "active") + "/budget-revisions", _everyone(200)
        ),
        ("POST", "/api/v1/funds/<uuid:fund_id>/budget-revisions"): Case(
            lambda c, w: _fund(c, w, "active") + "/budget-revisions",
            {"anonymous": 401, "member01": 201, "finance1": 201, "auditor": 403, "admin": 403},
            body=lambda world: {"changes": {"ACTIVITY": "-1.00", "PRINTING": "1.00"}, "reason": "matrix"},
            idempotency_key=True,
        ),
        ("POST", "/api/v1/budget-revisions/<uuid:revision_id>/approve"): Case(
            lambda c, w: _proposed_revision(c, w) + "/approve",
            {"anonymous": 401, "member01": 403, "finance1": 200, "auditor": 403, "admin": 403},
            body=lambda world: {},
        ),
        ("POST", "/api/v1/budget-revisions/<uuid:revision_id>/reject"): Case(
            lambda c, w: _proposed_revision(c, w) + "/reject",
            {"anonymous": 401, "member01": 403, "finance1": 200, "auditor": 403, "admin": 403},
            body=lambda world: {},
        ),
    }
)


def _requirement(client: FlaskClient, world: DemoWorld) -> str:
    """An active fund's first requirement (its interim report, written on activation)."""
    url = _fund(client, world, "active")
    first = client.get(f"{url}/requirements", headers=world.auth("admin")).get_json()[0]
    return f"/api/v1/requirements/{first['id']}"


# What is due: read as funds are; officers of the area add, change and withdraw; a member marks
# done only an annual report (409 for an interim report); another area's officer finds nothing (404).
CASES.update(
    {
        ("GET", "/api/v1/funds/<uuid:fund_id>/requirements"): Case(
            lambda c, w: _fund(c, w, "active") + "/requirements", _everyone(200)
        ),
        ("POST", "/api/v1/funds/<uuid:fund_id>/requirements"): Case(
            lambda c, w: _fund(c, w, "active") + "/requirements",
            {"anonymous": 401, "member01": 403, "finance1": 201, "auditor": 403, "admin": 403},
            body=lambda world: {"kind": "interim_report", "due_on": "2026-09-30"},
        ),
        ("GET", "/api/v1/requirements"): Case(_fixed("/api/v1/requirements"), _everyone(200)),
        ("GET", "/api/v1/requirements/<uuid:requirement_id>"): Case(_requirement, _everyone(200)),
        ("PATCH", "/api/v1/requirements/<uuid:requirement_id>"): Case(
            _requirement,
            {"anonymous": 401, "member01": 403, "finance1": 200, "auditor": 403, "admin": 403},
            body=lambda world: {"due_on": "2026-10-31"},
            if_match=True,
        ),
        ("POST", "/api/v1/requirements/<uuid:requirement_id>/done"): Case(
            lambda c, w: _requirement(c, w) + "/done",
            {"anonymous": 401, "member01": 409, "finance1": 200, "auditor": 403, "admin": 403},
            body=lambda world: {"note": "matrix"},
        ),
        ("POST", "/api/v1/requirements/<uuid:requirement_id>/withdrawal"): Case(
            lambda c, w: _requirement(c, w) + "/withdrawal",
            {"anonymous": 401, "member01": 403, "finance1": 200, "auditor": 403, "admin": 403},
            body=lambda world: {"note": "matrix"},
        ),
    }
)


def _scheduled_fund(client: FlaskClient, world: DemoWorld) -> str:
    url = _fund(client, world, "budgeted")
    client.put(
        f"{url}/tranches",
        json={"tranches": [{"amount": "600.00", "due_date": "2026-02-01"}]},
        headers=world.auth("admin"),
    )
    client.post(f"{url}/activate", headers={**world.auth("admin"), "If-Match": "*"})
    return url


def _disbursement(client: FlaskClient, world: DemoWorld, state: str = "prepared") -> str:
    url = _fund(client, world, "active")
    body = {"kind": "reimbursement", "amount": "10.00", "memo": "matrix"}
    created = client.post(
        f"{url}/disbursements",
        json=body,
        headers={**world.auth("finance2"), "Idempotency-Key": uuid.uuid4().hex},
    ).get_json()
    path = f"/api/v1/disbursements/{created['id']}"
    if state == "approved":
        client.post(f"{path}/approve", headers=world.auth("finance1"))
    return path


CASES.update(
    {
        ("GET", "/api/v1/funds/<uuid:fund_id>/tranches"): Case(
            lambda c, w: _scheduled_fund(c, w) + "/tranches", _everyone(200)
        ),
        ("PUT", "/api/v1/funds/<uuid:fund_id>/tranches"): Case(
            lambda c, w: _fund(c, w) + "/tranches",
            _admin_only(200),
            body=lambda world: {"tranches": [{"amount": "100.00", "due_date": "2026-03-01"}]},
        ),
        ("GET", "/api/v1/funds/<uuid:fund_id>/disbursements"): Case(
            lambda c, w: _fund(c, w, "active") + "/disbursements", _everyone(200)
        ),
        ("GET", "/api/v1/disbursements/<uuid:disbursement_id>"): Case(_disbursement, _everyone(200)),
        ("POST", "/api/v1/funds/<uuid:fund_id>/disbursements"): Case(
            lambda c, w: _fund(c, w, "active") + "/disbursements",
            {"anonymous": 401, "member01": 403, "finance1": 201, "auditor": 403, "admin": 403},
            body=lambda world: {"kind": "reimbursement", "amount": "5.00", "memo": "matrix"},
            idempotency_key=True,
        ),
        ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/approve"): Case(
            lambda c, w: _disbursement(c, w) + "/approve",
            {"anonymous": 401, "member01": 403, "finance1": 200, "auditor": 403, "admin": 403},
        ),
        ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/pay"): Case(
            lambda c, w: _disbursement(c, w, "approved") + "/pay",
            {"anonymous": 401, "member01": 403, "finance1": 200, "auditor": 403, "admin": 403},
            body=lambda world: {"bank_reference": "MATRIX-1", "paid_on": "2026-02-02"},
        ),
        ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/cancel"): Case(
            lambda c, w: _disbursement(c, w) + "/cancel",
            {"anonymous": 401, "member01": 403, "finance1": 200, "auditor": 403, "admin": 403},
            body=lambda world: {"reason": "matrix"},
        ),
    }
)


def _report(client: FlaskClient, world: DemoWorld, submitted: bool = False) -> str:
    url = _fund(client, world, "active")
    report = client.post(
        f"{url}/expense-reports", json={"title": "matrix"}, headers=world.keyed("member01")
    ).get_json()
    path = f"/api/v1/expense-reports/{report['id']}"
    if submitted:
        sha = _uploaded_receipt(client, world)
        line = {
            "category_code": "ACTIVITY",
            "amount": "1.00",
            "incurred_on": "2026-03-01",
            "payee": "p",
            "description": "d",
            "receipt_sha256": sha,
        }
        client.put(
            f"{path}/lines", json={"lines": [line]}, headers={**world.auth("member01"), "If-Match": "*"}
        )
        client.post(f"{path}/submit", headers=world.auth("member01"))
    return path


def _uploaded_receipt(client: FlaskClient, world: DemoWorld) -> str:
    organisation = world.member_organisation["member01"]
    response = client.post(
        f"/api/v1/organisations/{organisation}/receipts",
        data={"file": (io.BytesIO(receipt_pdf()), "r.pdf")},
        content_type="multipart/form-data",
        headers=world.auth("member01"),
    )
    return str(response.get_json()["sha256"])


def _decision(status: int) -> dict[str, int]:
    return {"anonymous": 401, "member01": 403, "finance1": status, "auditor": 403, "admin": 403}


def _filer(status: int) -> dict[str, int]:
    return {"anonymous": 401, "member01": status, "finance1": 403, "auditor": 403, "admin": 403}


CASES.update(
    {
        ("GET", "/api/v1/expense-reports"): Case(_fixed("/api/v1/expense-reports"), _everyone(200)),
        ("POST", "/api/v1/funds/<uuid:fund_id>/expense-reports"): Case(
            lambda c, w: _fund(c, w, "active") + "/expense-reports",
            _filer(201),
            body=lambda world: {"title": "matrix"},
            idempotency_key=True,
        ),
        ("GET", "/api/v1/expense-reports/<uuid:report_id>"): Case(_report, _everyone(200)),
        ("PUT", "/api/v1/expense-reports/<uuid:report_id>/lines"): Case(
            lambda c, w: _report(c, w) + "/lines",
            _filer(200),
            body=lambda world: {"lines": []},
            if_match=True,
        ),
        ("POST", "/api/v1/expense-reports/<uuid:report_id>/submit"): Case(
            lambda c, w: _report(c, w, submitted=False) + "/submit",
            {"anonymous": 401, "member01": 422, "finance1": 403, "auditor": 403, "admin": 403},
        ),
        ("POST", "/api/v1/expense-reports/<uuid:report_id>/approve"): Case(
            lambda c, w: _report(c, w, submitted=True) + "/approve", _decision(200)
        ),
        ("POST", "/api/v1/expense-reports/<uuid:report_id>/return"): Case(
            lambda c, w: _report(c, w, submitted=True) + "/return",
            _decision(200),
            body=lambda world: {"comment": "matrix"},
        ),
        ("POST", "/api/v1/expense-reports/<uuid:report_id>/reject"): Case(
            lambda c, w: _report(c, w, submitted=True) + "/reject",
            _decision(200),
            body=lambda world: {"comment": "matrix"},
        ),
        ("POST", "/api/v1/organisations/<uuid:organisation_id>/receipts"): Case(
            _own_books("receipts"), _filer(201), upload=True
        ),
        ("GET", "/api/v1/receipts/<string:sha256>"): Case(
            lambda c, w: f"/api/v1/receipts/{_uploaded_receipt(c, w)}", _everyone(200)
        ),
    }
)

CASES.update(
    {
        ("GET", "/api/v1/funds/<uuid:fund_id>/budget-vs-actual"): Case(
            lambda c, w: _fund(c, w, "active") + "/budget-vs-actual", _everyone(200)
        ),
        ("GET", "/api/v1/funds/<uuid:fund_id>/summary"): Case(
            lambda c, w: _fund(c, w, "active") + "/summary", _everyone(200)
        ),
        ("GET", "/api/v1/funds/<uuid:fund_id>/statements/fund-use"): Case(
            lambda c, w: _fund(c, w, "active") + "/statements/fund-use?period=2026-01..2026-12",
            _everyone(200),
        ),
        ("POST", "/api/v1/funds/<uuid:fund_id>/statements/fund-use"): Case(
            lambda c, w: _fund(c, w, "active") + "/statements/fund-use",
            _everyone(200),
            body=lambda world: {"period": "2026-01..2026-12"},
        ),
        ("GET", "/api/v1/organisations/<uuid:organisation_id>/statements/financial"): Case(
            _own_books("statements/financial?period=2026-01..2026-12"), _everyone(200)
        ),
        ("POST", "/api/v1/organisations/<uuid:organisation_id>/statements/financial"): Case(
            _own_books("statements/financial"),
            _everyone(200),
            body=lambda world: {"period": "2026-01..2026-12"},
        ),
        # The matrix's funder has no lottery grants: those allowed in are told so (422).
        ("GET", "/api/v1/statements/lottery-disclosure"): Case(
            _fixed("/api/v1/statements/lottery-disclosure?funder=区民政局&year=2026"),
            {"anonymous": 401, "member01": 403, "finance1": 422, "auditor": 422, "admin": 422},
        ),
        ("POST", "/api/v1/statements/lottery-disclosure"): Case(
            _fixed("/api/v1/statements/lottery-disclosure"),
            {"anonymous": 401, "member01": 403, "finance1": 422, "auditor": 422, "admin": 422},
            body=lambda world: {"funder": "区民政局", "year": 2026},
        ),
        # Open data: everyone signed in; a member's packages hold their own organisation only.
        ("GET", "/api/v1/exports/ocds"): Case(_fixed("/api/v1/exports/ocds"), _everyone(200)),
        ("GET", "/api/v1/exports/360giving"): Case(_fixed("/api/v1/exports/360giving"), _everyone(200)),
        ("GET", "/api/v1/audit/attestation"): Case(_fixed("/api/v1/audit/attestation"), _auditors_only(200)),
        ("POST", "/api/v1/audit/attestation"): Case(
            _fixed("/api/v1/audit/attestation"), _auditors_only(200), body=lambda world: {}
        ),
        ("POST", "/api/v1/funds/<uuid:fund_id>/refund"): Case(
            lambda c, w: _fund(c, w, "active") + "/refund",
            # Nothing was paid into this fund, so the finance officer passes the access check and
            # is told there is nothing unspent to refund.
            {"anonymous": 401, "member01": 403, "finance1": 422, "auditor": 403, "admin": 403},
            body=lambda world: {"amount": "1.00", "refunded_on": "2026-05-01", "bank_reference": "R"},
            idempotency_key=True,
        ),
    }
)

# Served by flask-smorest; public by design.
UNLISTED = {("GET", "/api/v1/openapi.json")}


def api_routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in rule.methods or ():
                if method not in ("HEAD", "OPTIONS"):
                    routes.add((method, rule.rule))
    return routes


def _approved_report(client: FlaskClient, world: DemoWorld) -> str:
    path = _report(client, world, submitted=True)
    client.post(f"{path}/approve", headers=world.auth("finance2"))
    return path


def _paid_disbursement(client: FlaskClient, world: DemoWorld) -> str:
    path = _disbursement(client, world, "approved")
    client.post(
        f"{path}/pay",
        json={"bank_reference": "MATRIX-P", "paid_on": "2026-02-02"},
        headers=world.auth("finance2"),
    )
    return path


def _refund(client: FlaskClient, world: DemoWorld) -> str:
    paid = client.get(_paid_disbursement(client, world), headers=world.auth("finance1")).get_json()
    fund = f"/api/v1/funds/{paid['fund_id']}"
    refunded = client.post(
        f"{fund}/refund",
        json={"amount": "10.00", "refunded_on": "2026-02-03", "bank_reference": "MATRIX-R"},
        headers={**world.auth("finance2"), "Idempotency-Key": uuid.uuid4().hex},
    ).get_json()
    return f"{fund}/refunds/{refunded['journal_entry_id']}"


UNDO = {"date": "2026-03-02", "reason": "matrix"}


def _report_with_invoice(client: FlaskClient, world: DemoWorld) -> str:
    """A submitted report whose one line carries a digital invoice (a fresh number each time)."""
    path = _report(client, world)
    line = {
        "category_code": "ACTIVITY",
        "amount": "1.00",
        "incurred_on": "2026-03-01",
        "payee": "p",
        "description": "d",
        "receipt_sha256": _uploaded_receipt(client, world),
        "receipt_kind": "digital_invoice",
        "invoice_number": f"{uuid.uuid4().int % 10**20:020d}",
    }
    client.put(f"{path}/lines", json={"lines": [line]}, headers={**world.auth("member01"), "If-Match": "*"})
    client.post(f"{path}/submit", headers=world.auth("member01"))
    return path


CASES.update(
    {
        ("POST", "/api/v1/expense-reports/<uuid:report_id>/void"): Case(
            lambda c, w: _approved_report(c, w) + "/void", _decision(200), body=lambda world: UNDO
        ),
        ("POST", "/api/v1/expense-reports/<uuid:report_id>/lines/<int:number>/invoice-verification"): Case(
            lambda c, w: _report_with_invoice(c, w) + "/lines/1/invoice-verification", _decision(200)
        ),
        # Nothing is stored: those who file or review reports are told the PDF sent is no invoice's XML.
        ("POST", "/api/v1/invoices/parse"): Case(
            _fixed("/api/v1/invoices/parse"),
            {"anonymous": 401, "member01": 422, "finance1": 422, "auditor": 403, "admin": 403},
            upload=True,
        ),
        ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/reversal"): Case(
            lambda c, w: _paid_disbursement(c, w) + "/reversal", _decision(200), body=lambda world: UNDO
        ),
        ("POST", "/api/v1/funds/<uuid:fund_id>/refunds/<uuid:entry_id>/reversal"): Case(
            lambda c, w: _refund(c, w) + "/reversal", _decision(201), body=lambda world: UNDO
        ),
    }
)


def _webhook(client: FlaskClient, world: DemoWorld) -> str:
    body = {"url": "https://example.org/matrix", "event_types": ["disbursement.paid"]}
    made = client.post("/api/v1/webhooks", json=body, headers=world.auth("admin")).get_json()
    return f"/api/v1/webhooks/{made['id']}"


# Notifications are each person's own (a notification of someone else's is not found); webhooks
# hear of every organisation, so only an admin of the whole deployment manages them.
CASES.update(
    {
        ("GET", "/api/v1/notifications"): Case(_fixed("/api/v1/notifications"), _everyone(200)),
        ("POST", "/api/v1/notifications/<uuid:notification_id>/read"): Case(
            lambda c, w: f"/api/v1/notifications/{uuid.uuid4()}/read", _everyone(404)
        ),
        ("POST", "/api/v1/notifications/read-all"): Case(
            _fixed("/api/v1/notifications/read-all"), _everyone(204)
        ),
        ("GET", "/api/v1/me/notification-preferences"): Case(
            _fixed("/api/v1/me/notification-preferences"), _everyone(200)
        ),
        ("PUT", "/api/v1/me/notification-preferences"): Case(
            _fixed("/api/v1/me/notification-preferences"),
            _everyone(200),
            body=lambda world: {"email": None, "email_mode": "off", "language": "zh"},
        ),
        ("GET", "/api/v1/webhooks"): Case(_fixed("/api/v1/webhooks"), _admin_only(200)),
        ("POST", "/api/v1/webhooks"): Case(
            _fixed("/api/v1/webhooks"),
            _admin_only(201),
            body=lambda world: {"url": "https://example.org/matrix", "event_types": ["disbursement.paid"]},
        ),
        ("DELETE", "/api/v1/webhooks/<uuid:endpoint_id>"): Case(_webhook, _admin_only(204)),
        ("GET", "/api/v1/webhooks/<uuid:endpoint_id>/deliveries"): Case(
            lambda c, w: _webhook(c, w) + "/deliveries", _admin_only(200)
        ),
    }
)


# jiangan.supervisor (supervisor at 江岸区) on the things of 百步亭花园社区: reads, never writes. The
# audit trail's checkpoints, key and proofs are global; its entries are those about 江岸区; its
# export (every entry) and the attestation (over the whole trail) are for whole-deployment readers.
# The matrix's funder has no lottery grants in 江岸区: the supervisor may read a disclosure (422).
SUPERVISOR_ANSWERS: dict[tuple[str, str], int] = {
    ("GET", "/api/v1/funds/<uuid:fund_id>/requirements"): 200,
    ("POST", "/api/v1/funds/<uuid:fund_id>/requirements"): 403,
    ("GET", "/api/v1/requirements"): 200,
    ("GET", "/api/v1/requirements/<uuid:requirement_id>"): 200,
    ("PATCH", "/api/v1/requirements/<uuid:requirement_id>"): 403,
    ("POST", "/api/v1/requirements/<uuid:requirement_id>/done"): 403,
    ("POST", "/api/v1/requirements/<uuid:requirement_id>/withdrawal"): 403,
    ("GET", "/api/v1/notifications"): 200,
    ("POST", "/api/v1/notifications/<uuid:notification_id>/read"): 404,
    ("POST", "/api/v1/notifications/read-all"): 204,
    ("GET", "/api/v1/me/notification-preferences"): 200,
    ("PUT", "/api/v1/me/notification-preferences"): 200,
    ("GET", "/api/v1/webhooks"): 403,
    ("POST", "/api/v1/webhooks"): 403,
    ("DELETE", "/api/v1/webhooks/<uuid:endpoint_id>"): 403,
    ("GET", "/api/v1/webhooks/<uuid:endpoint_id>/deliveries"): 403,
    ("DELETE", "/api/v1/communities/<uuid:community_id>"): 403,
    ("DELETE", "/api/v1/organisations/<uuid:organisation_id>"): 403,
    ("GET", "/api/v1/audit/attestation"): 403,
    ("GET", "/api/v1/audit/checkpoint"): 200,
    ("GET", "/api/v1/audit/checkpoints/<int:size>"): 200,
    ("GET", "/api/v1/audit/entries"): 200,
    ("GET", "/api/v1/audit/export"): 403,
    ("GET", "/api/v1/audit/key"): 200,
    ("GET", "/api/v1/audit/proof/consistency"): 200,
    ("GET", "/api/v1/audit/proof/inclusion"): 200,
    ("GET", "/api/v1/auth/me"): 200,
    ("GET", "/api/v1/communities"): 200,
    ("GET", "/api/v1/communities/<uuid:community_id>"): 200,
    ("GET", "/api/v1/communities/coverage"): 200,
    ("GET", "/api/v1/coverage"): 403,  # 武汉市 is above their node
    ("GET", "/api/v1/coverage.xlsx"): 403,
    ("GET", "/api/v1/disbursements/<uuid:disbursement_id>"): 200,
    ("GET", "/api/v1/expense-reports"): 200,
    ("GET", "/api/v1/expense-reports/<uuid:report_id>"): 200,
    ("GET", "/api/v1/exports/360giving"): 200,
    ("GET", "/api/v1/exports/ocds"): 200,
    ("GET", "/api/v1/funds"): 200,
    ("GET", "/api/v1/funds/<uuid:fund_id>"): 200,
    ("GET", "/api/v1/funds/<uuid:fund_id>/budget"): 200,
    ("GET", "/api/v1/funds/<uuid:fund_id>/budget-revisions"): 200,
    ("GET", "/api/v1/funds/<uuid:fund_id>/budget-vs-actual"): 200,
    ("GET", "/api/v1/funds/<uuid:fund_id>/disbursements"): 200,
    ("GET", "/api/v1/funds/<uuid:fund_id>/statements/fund-use"): 200,
    ("GET", "/api/v1/funds/<uuid:fund_id>/summary"): 200,
    ("GET", "/api/v1/funds/<uuid:fund_id>/tranches"): 200,
    ("GET", "/api/v1/health"): 200,
    ("GET", "/api/v1/journal-entries/<uuid:entry_id>"): 200,
    ("GET", "/api/v1/organisations"): 200,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>"): 200,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/journal-entries"): 200,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/periods"): 200,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/statements/financial"): 200,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/trial-balance"): 200,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/years"): 200,
    ("GET", "/api/v1/receipts/<string:sha256>"): 200,
    ("GET", "/api/v1/reference/charts"): 200,
    ("GET", "/api/v1/reference/charts/<string:version>/accounts"): 200,
    ("GET", "/api/v1/reference/expense-categories"): 200,
    ("GET", "/api/v1/reference/expense-categories/<string:version>"): 200,
    ("GET", "/api/v1/regions"): 200,
    ("GET", "/api/v1/regions/<string:version>/divisions"): 200,
    ("GET", "/api/v1/statements/lottery-disclosure"): 422,
    ("GET", "/api/v1/users"): 200,
    ("GET", "/api/v1/users/<uuid:user_id>"): 200,
    ("PATCH", "/api/v1/communities/<uuid:community_id>"): 403,
    ("PATCH", "/api/v1/funds/<uuid:fund_id>"): 403,
    ("PATCH", "/api/v1/organisations/<uuid:organisation_id>"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/registration"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/deregistration"): 403,
    ("PATCH", "/api/v1/users/<uuid:user_id>"): 403,
    ("POST", "/api/v1/audit/attestation"): 403,
    ("POST", "/api/v1/auth/login"): 200,
    ("POST", "/api/v1/auth/logout"): 204,
    ("POST", "/api/v1/budget-revisions/<uuid:revision_id>/approve"): 403,
    ("POST", "/api/v1/budget-revisions/<uuid:revision_id>/reject"): 403,
    ("POST", "/api/v1/communities"): 403,
    ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/approve"): 403,
    ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/cancel"): 403,
    ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/pay"): 403,
    ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/reversal"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/approve"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/reject"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/return"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/submit"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/void"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/lines/<int:number>/invoice-verification"): 403,
    ("POST", "/api/v1/invoices/parse"): 403,
    ("POST", "/api/v1/funds"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/activate"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/budget-revisions"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/close"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/disbursements"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/expense-reports"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/refund"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/refunds/<uuid:entry_id>/reversal"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/resume"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/statements/fund-use"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/suspend"): 403,
    ("POST", "/api/v1/journal-entries/<uuid:entry_id>/reversal"): 403,
    ("POST", "/api/v1/organisations"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/journal-entries"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/close"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/reopen"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/receipts"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/statements/financial"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/years/<int:year>/close"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/years/<int:year>/reopen"): 403,
    ("POST", "/api/v1/statements/lottery-disclosure"): 403,
    ("POST", "/api/v1/users"): 403,
    ("PUT", "/api/v1/expense-reports/<uuid:report_id>/lines"): 403,
    ("PUT", "/api/v1/funds/<uuid:fund_id>/budget"): 403,
    ("PUT", "/api/v1/funds/<uuid:fund_id>/tranches"): 403,
    ("PUT", "/api/v1/users/<uuid:user_id>/password"): 403,
}


# houhu.finance1 (finance officer at 后湖街道) on the twin things of 城关社区 in 黄陂区: nothing. A
# thing of an organisation outside their area is refused as another organisation's is refused to a
# member (403); a community or person outside it is not found (404). Lists answer 200 with their
# own area only (test_lists_hold_only_the_area_of_a_street_finance_officer).
ABROAD_ANSWERS: dict[tuple[str, str], int] = {
    # Another area's requirement (or fund) is not found, as a missing one: 404, not 403.
    ("GET", "/api/v1/funds/<uuid:fund_id>/requirements"): 404,
    ("POST", "/api/v1/funds/<uuid:fund_id>/requirements"): 404,
    ("GET", "/api/v1/requirements"): 200,
    ("GET", "/api/v1/requirements/<uuid:requirement_id>"): 404,
    ("PATCH", "/api/v1/requirements/<uuid:requirement_id>"): 404,
    ("POST", "/api/v1/requirements/<uuid:requirement_id>/done"): 404,
    ("POST", "/api/v1/requirements/<uuid:requirement_id>/withdrawal"): 404,
    ("GET", "/api/v1/notifications"): 200,
    ("POST", "/api/v1/notifications/<uuid:notification_id>/read"): 404,
    ("POST", "/api/v1/notifications/read-all"): 204,
    ("GET", "/api/v1/me/notification-preferences"): 200,
    ("PUT", "/api/v1/me/notification-preferences"): 200,
    ("GET", "/api/v1/webhooks"): 403,
    ("POST", "/api/v1/webhooks"): 403,
    ("DELETE", "/api/v1/webhooks/<uuid:endpoint_id>"): 403,
    ("GET", "/api/v1/webhooks/<uuid:endpoint_id>/deliveries"): 403,
    ("DELETE", "/api/v1/communities/<uuid:community_id>"): 403,
    ("DELETE", "/api/v1/organisations/<uuid:organisation_id>"): 403,
    ("GET", "/api/v1/audit/attestation"): 403,
    ("GET", "/api/v1/audit/checkpoint"): 403,
    ("GET", "/api/v1/audit/checkpoints/<int:size>"): 403,
    ("GET", "/api/v1/audit/entries"): 403,
    ("GET", "/api/v1/audit/export"): 403,
    ("GET", "/api/v1/audit/key"): 403,
    ("GET", "/api/v1/audit/proof/consistency"): 403,
    ("GET", "/api/v1/audit/proof/inclusion"): 403,
    ("GET", "/api/v1/auth/me"): 200,
    ("GET", "/api/v1/communities"): 200,
    ("GET", "/api/v1/communities/<uuid:community_id>"): 404,
    ("GET", "/api/v1/communities/coverage"): 200,
    ("GET", "/api/v1/coverage"): 403,  # 武汉市 is above their node
    ("GET", "/api/v1/coverage.xlsx"): 403,
    ("GET", "/api/v1/disbursements/<uuid:disbursement_id>"): 403,
    ("GET", "/api/v1/expense-reports"): 200,
    ("GET", "/api/v1/expense-reports/<uuid:report_id>"): 403,
    ("GET", "/api/v1/exports/360giving"): 200,
    ("GET", "/api/v1/exports/ocds"): 200,
    ("GET", "/api/v1/funds"): 200,
    ("GET", "/api/v1/funds/<uuid:fund_id>"): 403,
    ("GET", "/api/v1/funds/<uuid:fund_id>/budget"): 403,
    ("GET", "/api/v1/funds/<uuid:fund_id>/budget-revisions"): 403,
    ("GET", "/api/v1/funds/<uuid:fund_id>/budget-vs-actual"): 403,
    ("GET", "/api/v1/funds/<uuid:fund_id>/disbursements"): 403,
    ("GET", "/api/v1/funds/<uuid:fund_id>/statements/fund-use"): 403,
    ("GET", "/api/v1/funds/<uuid:fund_id>/summary"): 403,
    ("GET", "/api/v1/funds/<uuid:fund_id>/tranches"): 403,
    ("GET", "/api/v1/health"): 200,
    ("GET", "/api/v1/journal-entries/<uuid:entry_id>"): 403,
    ("GET", "/api/v1/organisations"): 200,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>"): 403,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/journal-entries"): 403,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/periods"): 403,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/statements/financial"): 403,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/trial-balance"): 403,
    ("GET", "/api/v1/organisations/<uuid:organisation_id>/years"): 403,
    ("GET", "/api/v1/receipts/<string:sha256>"): 403,
    ("GET", "/api/v1/reference/charts"): 200,
    ("GET", "/api/v1/reference/charts/<string:version>/accounts"): 200,
    ("GET", "/api/v1/reference/expense-categories"): 200,
    ("GET", "/api/v1/reference/expense-categories/<string:version>"): 200,
    ("GET", "/api/v1/regions"): 200,
    ("GET", "/api/v1/regions/<string:version>/divisions"): 200,
    ("GET", "/api/v1/statements/lottery-disclosure"): 422,
    ("GET", "/api/v1/users"): 403,
    ("GET", "/api/v1/users/<uuid:user_id>"): 403,
    ("PATCH", "/api/v1/communities/<uuid:community_id>"): 403,
    ("PATCH", "/api/v1/funds/<uuid:fund_id>"): 403,
    ("PATCH", "/api/v1/organisations/<uuid:organisation_id>"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/registration"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/deregistration"): 403,
    ("PATCH", "/api/v1/users/<uuid:user_id>"): 403,
    ("POST", "/api/v1/audit/attestation"): 403,
    ("POST", "/api/v1/auth/login"): 200,
    ("POST", "/api/v1/auth/logout"): 204,
    ("POST", "/api/v1/budget-revisions/<uuid:revision_id>/approve"): 403,
    ("POST", "/api/v1/budget-revisions/<uuid:revision_id>/reject"): 403,
    ("POST", "/api/v1/communities"): 403,
    ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/approve"): 403,
    ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/cancel"): 403,
    ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/pay"): 403,
    ("POST", "/api/v1/disbursements/<uuid:disbursement_id>/reversal"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/approve"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/reject"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/return"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/submit"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/void"): 403,
    ("POST", "/api/v1/expense-reports/<uuid:report_id>/lines/<int:number>/invoice-verification"): 403,
    ("POST", "/api/v1/invoices/parse"): 422,
    ("POST", "/api/v1/funds"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/activate"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/budget-revisions"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/close"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/disbursements"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/expense-reports"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/refund"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/refunds/<uuid:entry_id>/reversal"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/resume"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/statements/fund-use"): 403,
    ("POST", "/api/v1/funds/<uuid:fund_id>/suspend"): 403,
    ("POST", "/api/v1/journal-entries/<uuid:entry_id>/reversal"): 403,
    ("POST", "/api/v1/organisations"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/journal-entries"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/close"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/periods/<int:year>/<int:month>/reopen"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/receipts"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/statements/financial"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/years/<int:year>/close"): 403,
    ("POST", "/api/v1/organisations/<uuid:organisation_id>/years/<int:year>/reopen"): 403,
    ("POST", "/api/v1/statements/lottery-disclosure"): 422,
    ("POST", "/api/v1/users"): 403,
    ("PUT", "/api/v1/expense-reports/<uuid:report_id>/lines"): 403,
    ("PUT", "/api/v1/funds/<uuid:fund_id>/budget"): 403,
    ("PUT", "/api/v1/funds/<uuid:fund_id>/tranches"): 403,
    ("PUT", "/api/v1/users/<uuid:user_id>/password"): 403,
}


# A spreadsheet download (docs/spreadsheets.md) answers every caller as the JSON beside it does:
# the same service call, so the same access checks.
XLSX_TWINS = (
    "/api/v1/expense-reports",
    "/api/v1/funds/<uuid:fund_id>/budget-vs-actual",
    "/api/v1/funds/<uuid:fund_id>/summary",
    "/api/v1/funds/<uuid:fund_id>/statements/fund-use",
    "/api/v1/organisations/<uuid:organisation_id>/trial-balance",
    "/api/v1/organisations/<uuid:organisation_id>/journal-entries",
    "/api/v1/statements/lottery-disclosure",
)


def _xlsx_url(url_of: Callable[[FlaskClient, DemoWorld], str]) -> Callable[[FlaskClient, DemoWorld], str]:
    def url(client: FlaskClient, world: DemoWorld) -> str:
        path, mark, query = url_of(client, world).partition("?")
        return f"{path}.xlsx{mark}{query}"

    return url


for _rule in XLSX_TWINS:
    _json = CASES[("GET", _rule)]
    CASES[("GET", f"{_rule}.xlsx")] = Case(_xlsx_url(_json.url), _json.expected)
    SUPERVISOR_ANSWERS[("GET", f"{_rule}.xlsx")] = SUPERVISOR_ANSWERS[("GET", _rule)]
    ABROAD_ANSWERS[("GET", f"{_rule}.xlsx")] = ABROAD_ANSWERS[("GET", _rule)]


# Imports from XLSX (docs/spreadsheets.md): for those who create one such item. The matrix uploads
# a PDF, so whoever is let in is told it is not a workbook (422), and nothing is read before access.
_IMPORTS = {
    ("GET", "/api/v1/imports/<string:kind>/template"): Case(
        _fixed("/api/v1/imports/users/template"), _admin_only(200)
    ),
    ("POST", "/api/v1/imports/<string:kind>"): Case(
        _fixed("/api/v1/imports/communities?dry_run=true"), _admin_only(422), upload=True
    ),
    ("GET", "/api/v1/funds/<uuid:fund_id>/imports/<string:kind>/template"): Case(
        lambda c, w: _fund(c, w) + "/imports/budget/template", _admin_only(200)
    ),
    ("POST", "/api/v1/funds/<uuid:fund_id>/imports/<string:kind>"): Case(
        lambda c, w: _fund(c, w) + "/imports/tranches?dry_run=false", _admin_only(422), upload=True
    ),
}
CASES.update(_IMPORTS)
SUPERVISOR_ANSWERS.update(dict.fromkeys(_IMPORTS, 403))
ABROAD_ANSWERS.update(dict.fromkeys(_IMPORTS, 403))


def in_huangpi(world: DemoWorld) -> DemoWorld:
    """The world as the builders see it for ``houhu.finance1``'s calls: member01 stands for member08
    (城关社区, 前川街道, 黄陂区), houhu.finance2 for qianchuan.finance, and the first community for
    城关社区, so every builder makes its thing in 黄陂区, outside 后湖街道 and 江岸区."""
    stand_ins = {"member01": "member08", "houhu.finance2": "qianchuan.finance"}
    headers = dict(world.headers) | {name: world.headers[other] for name, other in stand_ins.items()}
    organisations = dict(world.member_organisation) | {"member01": world.member_organisation["member08"]}
    communities = [world.community_ids[3], *world.community_ids[1:]]
    return replace(world, headers=headers, member_organisation=organisations, community_ids=communities)


def test_every_route_has_a_row(app: Flask) -> None:
    assert api_routes(app) - UNLISTED == set(CASES) == set(SUPERVISOR_ANSWERS) == set(ABROAD_ANSWERS)


def _call(
    client: FlaskClient, case: Case, method: str, url: str, world: DemoWorld, caller: str
) -> tuple[int, str]:
    headers = {} if caller == "anonymous" else dict(world.auth(caller))
    if case.if_match:
        headers["If-Match"] = "*"
    if case.idempotency_key:
        headers["Idempotency-Key"] = f"matrix-{caller}"
    body = case.body(world) if case.body else None
    if case.upload:
        data = {"file": (io.BytesIO(receipt_pdf()), "receipt.pdf")}
        response = client.open(
            url, method=method, data=data, content_type="multipart/form-data", headers=headers
        )
    else:
        response = client.open(url, method=method, json=body, headers=headers)
    text = response.get_data()[:500].decode(errors="replace")
    response.close()  # as a WSGI server would; downloads clean up on close
    return response.status_code, text


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_role_gets_the_expected_answer(
    client: FlaskClient, world: DemoWorld, route: tuple[str, str]
) -> None:
    method, _rule = route
    case = CASES[route]
    huangpi = in_huangpi(world)
    abroad = case.url(client, huangpi)
    status, text = _call(client, case, method, abroad, huangpi, SIBLING)
    assert status == ABROAD_ANSWERS[route], (SIBLING, text)
    url = case.url(client, world)
    answers = case.expected | {SUPERVISOR: SUPERVISOR_ANSWERS[route]}
    for caller in (SUPERVISOR, *ROLES):  # the supervisor first: the admin may delete the thing
        status, text = _call(client, case, method, url, world, caller)
        assert status == answers[caller], (caller, text)


def test_an_org_member_never_reaches_another_organisation(client: FlaskClient, world: DemoWorld) -> None:
    for username, own in world.member_organisation.items():
        listed = client.get("/api/v1/organisations?page_size=500", headers=world.auth(username)).get_json()
        assert [o["id"] for o in listed] == [own]
        for other in world.organisation_ids:
            if other != own:
                response = client.get(f"/api/v1/organisations/{other}", headers=world.auth(username))
                assert response.status_code == 403
                assert other not in response.get_data(as_text=True)
