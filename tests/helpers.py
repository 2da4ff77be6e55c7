"""Small helpers shared by the tests."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ledger.extensions import db

if TYPE_CHECKING:
    from tests.conftest import DemoWorld

PROBLEM = "application/problem+json"


def keyed(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` plus a fresh Idempotency-Key, for a request that creates something."""
    return {**headers, "Idempotency-Key": uuid.uuid4().hex}


def count_rows(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def table_counts(app: Flask) -> dict[str, int]:
    """Rows in every table: compare before and after a refused request to prove nothing was written."""
    with app.app_context():
        return {
            table.name: int(db.session.scalar(select(func.count()).select_from(table)) or 0)
            for table in db.metadata.sorted_tables
        }


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status`` naming each of ``fields``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith("urn:community-fund-ledger:problem:")
    assert body["title"]
    assert body["detail"]
    for field in fields:
        assert field in body.get("errors", {}), body
    return body


def csrf_token_of(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page's forms carry (the page at ``path``, fetched by ``client``)."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, path
    return match.group(1)


def signed_in_client(app: Flask, username: str, password: str | None = None) -> FlaskClient:
    """A browser-like test client signed in through the login page (the demo password by default)."""
    from ledger.demo import DEMO_PASSWORD

    client = app.test_client()
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password or DEMO_PASSWORD,
            "csrf_token": csrf_token_of(client),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def add_decisions_to_the_demo(world: DemoWorld) -> None:
    """What the demo lacks: a draft fund ready to activate, a prepared disbursement, and a
    revision over the threshold proposed by a finance officer (who may then not decide it)."""
    from ledger.database import unit_of_work
    from ledger.demo_funds import actor_named, cny
    from ledger.models.disbursement import DisbursementKind
    from ledger.models.fund import Fund, FundKind
    from ledger.services import disbursements, funds

    member01_organisation = uuid.UUID(world.member_organisation["member01"])
    with world.app.app_context(), unit_of_work():
        admin, finance1 = actor_named("admin"), actor_named("finance1")
        draft = funds.create_fund(
            admin,
            funds.FundTerms(
                kind=FundKind.INCUBATION_FUND,
                title="草稿资金 draft fund",
                reference="TEST-DRAFT-1",
                funder_name="区民政局",
                organisation_id=member01_organisation,
                award=cny("1000.00"),
                period_start=date(2026, 1, 1),
                period_end=date(2026, 12, 31),
                restriction_purpose="测试 a test",
            ),
            "test-draft",
        ).thing
        funds.set_draft_budget(admin, draft.id, {"ACTIVITY": cny("1000.00")})
        elders = db.session.scalars(select(Fund).where(Fund.reference == "FC-WH-2026-017")).one()
        disbursements.prepare_disbursement(
            finance1,
            elders.id,
            disbursements.DisbursementRequest(
                DisbursementKind.REIMBURSEMENT, cny("100.00"), "报销 reimbursement"
            ),
            "test-prepared",
        )
        funds.propose_budget_revision(
            finance1,
            elders.id,
            {"ACTIVITY": cny("-20000.00"), "PERSONNEL": cny("20000.00")},
            "财务提出的调整 proposed by a finance officer",
            "test-revision",
        )
