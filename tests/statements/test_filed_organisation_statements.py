"""A filed (备案) organisation has books and funds like any other: it is funded, files a report,
is paid, and its statements and open-data exports name it by its filing, not a credit code."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pypdf
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger.config import current_settings
from ledger.exports.ocds import organisation_party_id
from ledger.extensions import db
from ledger.models import Organisation, User
from ledger.services.access import Actor
from ledger.services.books_export import export_beancount
from tests.builders import (
    BUDGET,
    approve_and_pay_tranche,
    draft_fund,
    filed_organisation,
    receipt_pdf,
)
from tests.conftest import DemoWorld

PASSWORD = "a-long-enough-password"


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _member_of(client: FlaskClient, world: DemoWorld, organisation_id: str) -> dict[str, str]:
    """A new bookkeeper of the organisation, signed in: their bearer-token header."""
    body = {
        "username": "filed-member",
        "display_name": "文体队记账员",
        "role": "org_member",
        "password": PASSWORD,
        "organisation_ids": [organisation_id],
    }
    assert client.post("/api/v1/users", json=body, headers=world.keyed("admin")).status_code == 201
    login = client.post("/api/v1/auth/login", json={"username": "filed-member", "password": PASSWORD})
    return {"Authorization": f"Bearer {login.get_json()['token']}"}


def _funded_and_paid(client: FlaskClient, world: DemoWorld) -> tuple[dict[str, Any], dict[str, Any]]:
    """A filed organisation, an active fund to it with two tranches (the first paid 2026-01-16),
    and an approved report of 1,200.00 in ACTIVITY."""
    organisation = filed_organisation(client, world, money_held_by="三德里社区居委会")
    member = _member_of(client, world, organisation["id"])
    fund = draft_fund(client, world, organisation_id=organisation["id"], reference="FC-FILED-1")
    admin = world.auth("admin")
    url = f"/api/v1/funds/{fund['id']}"
    assert client.put(f"{url}/budget", json={"lines": BUDGET}, headers=admin).status_code == 200
    schedule = [
        {"amount": "40000.00", "due_date": "2026-01-15"},
        {"amount": "60000.00", "due_date": "2026-12-01"},
    ]
    tranches = client.put(f"{url}/tranches", json={"tranches": schedule}, headers=admin).get_json()
    assert client.post(f"{url}/activate", headers={**admin, "If-Match": "*"}).status_code == 200
    approve_and_pay_tranche(client, world, fund, tranches[0], "FILED-PAY-1", "2026-01-16")

    receipt = client.post(
        f"/api/v1/organisations/{organisation['id']}/receipts",
        data={"file": (io.BytesIO(receipt_pdf("filed")), "receipt.pdf")},
        content_type="multipart/form-data",
        headers=member,
    )
    assert receipt.status_code == 201, receipt.get_json()
    line = {
        "category_code": "ACTIVITY",
        "amount": "1200.00",
        "incurred_on": "2026-03-10",
        "payee": "武汉某某印务 Printer Co.",
        "description": "活动物资 activity materials",
        "receipt_sha256": receipt.get_json()["sha256"],
    }
    report = client.post(
        f"{url}/expense-reports", json={"title": "三月报销"}, headers={**member, "Idempotency-Key": "r1"}
    ).get_json()
    report_url = f"/api/v1/expense-reports/{report['id']}"
    saved = client.put(f"{report_url}/lines", json={"lines": [line]}, headers={**member, "If-Match": "*"})
    assert saved.status_code == 200, saved.get_json()
    assert client.post(f"{report_url}/submit", headers=member).status_code == 200
    assert client.post(f"{report_url}/approve", headers=world.auth("finance2")).status_code == 200
    return organisation, fund


def test_a_filed_organisation_is_funded_reports_and_its_statements_show_its_filing(
    client: FlaskClient, world: DemoWorld
) -> None:
    organisation, fund = _funded_and_paid(client, world)
    officer = world.auth("finance1")

    books = f"/api/v1/organisations/{organisation['id']}/statements/financial"
    figures = client.get(f"{books}?period=2026-01..2026-03", headers=officer).get_json()
    assert figures["organisation"]["credit_code"] is None
    assert figures["organisation"]["filing"] == {
        "filing_number": "后湖备字2025第001号",
        "filing_office_code": "420102012000",
        "filing_office": "后湖街道",
        "filed_on": "2025-03-01",
    }
    assert figures["balance_sheet"]["balanced"] is True
    pdf = client.post(books, json={"period": "2026-01..2026-03"}, headers=officer)
    assert pdf.status_code == 200, pdf.get_data(as_text=True)[:500]
    assert f"statements-{organisation['id']}-20260101-20260331.pdf" in pdf.headers["Content-Disposition"]
    text = _text(pdf.data)
    assert "备案编号" in text
    assert "后湖备字2025第001号" in text
    assert "后湖街道" in text

    use = client.post(
        f"/api/v1/funds/{fund['id']}/statements/fund-use",
        json={"period": "2026-01..2026-03"},
        headers=officer,
    )
    assert use.status_code == 200
    text = _text(use.data)
    assert "后湖备字2025第001号" in text
    assert "None" not in text


def _party_id(app: Flask, organisation_id: str) -> str:
    with app.app_context():
        filed = db.session.get(Organisation, uuid.UUID(organisation_id))
        assert filed is not None
        return organisation_party_id(current_settings(), filed)


def test_exports_name_a_filed_organisation_under_the_publishers_identifier(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    organisation, _fund = _funded_and_paid(client, world)
    party = _party_id(app, organisation["id"])
    # A filed organisation is on no register of organisation ids: it is named under the
    # publisher's own identifier (the development placeholder here), by its id in the service.
    assert party == f"example-publisher-development-org-{organisation['id']}"
    # Renaming keeps the id: it is the organisation's, not the name's.
    renamed = client.patch(
        f"/api/v1/organisations/{organisation['id']}",
        json={"name": "三德里社区文体协会"},
        headers={**world.auth("admin"), "If-Match": "*"},
    )
    assert renamed.status_code == 200
    assert _party_id(app, organisation["id"]) == party


def test_a_filed_organisations_books_export_to_beancount(
    app: Flask, client: FlaskClient, world: DemoWorld, tmp_path: Path
) -> None:
    organisation, _fund = _funded_and_paid(client, world)
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.username == "finance1"))
        assert officer is not None
        exported = export_beancount(Actor.of(officer), tmp_path / "books", uuid.UUID(organisation["id"]))
    assert [p.name for p in exported.files] == [f"filed-{organisation['id']}.beancount"]
    text = exported.files[0].read_text(encoding="utf-8")
    assert "百步亭社区文体队" in text
    assert "1200.00" in text
