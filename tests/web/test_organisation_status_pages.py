"""The administration page enters a filed (备案) organisation, registers it and deregisters it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.builders import FILING_OFFICE
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, signed_in_client


def _post(admin: FlaskClient, path: str, form: dict[str, str]) -> tuple[int, str]:
    page = admin.post(path, data={**form, "csrf_token": csrf_token_of(admin, "/admin/organisations")})
    return page.status_code, page.get_data(as_text=True)


def _organisation(client: FlaskClient, world: DemoWorld, name: str) -> dict[str, object]:
    listed = client.get("/api/v1/organisations?page_size=500", headers=world.auth("admin")).get_json()
    return next(o for o in listed if o["name"] == name)


def test_a_filed_organisation_through_the_page(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    admin = signed_in_client(app, "admin")
    filed = {
        "status": "filed",
        "name": "黄石路社区调解队",
        "filing_number": "大智备字2025第009号",
        "filing_office_code": FILING_OFFICE,
        "filed_on": "2025-03-01",
        "filing_category": "mediation",
        "community_id": world.community_ids[0],
        "money_held_by": "黄石路社区居委会",
        "idempotency_key": "page-filed-1",
    }
    # A credit code typed into a filed organisation is refused at that field, on the filed form.
    status, html = _post(admin, "/admin/organisations", {**filed, "credit_code": "52420000MJH233402K"})
    assert status == 422
    assert 'id="error-credit_code"' in html
    status, _html = _post(admin, "/admin/organisations", filed)
    assert status == 302
    html = admin.get("/admin/organisations?q=黄石路").get_data(as_text=True)
    assert "大智备字2025第009号" in html
    assert "专业调处类" in html or "mediation" in html
    organisation = _organisation(client, world, "黄石路社区调解队")
    assert organisation["status"] == "filed"

    url = f"/admin/organisations/{organisation['id']}"
    status, html = _post(
        admin,
        f"{url}/registration",
        {"credit_code": "52420000MJH233402K", "registered_on": "2025-02-01", "version": "1"},
    )
    assert status == 422
    assert 'id="error-registered_on"' in html
    status, _html = _post(
        admin,
        f"{url}/registration",
        {"credit_code": "52420000MJH233402K", "registered_on": "2025-09-01", "version": "1"},
    )
    assert status == 302
    organisation = _organisation(client, world, "黄石路社区调解队")
    assert (organisation["status"], organisation["credit_code"]) == ("registered", "52420000MJH233402K")

    status, _html = _post(
        admin, f"{url}/deregistration", {"deregistered_on": "2026-02-01", "reason": "合并", "version": "2"}
    )
    assert status == 302
    organisation = _organisation(client, world, "黄石路社区调解队")
    assert organisation["status"] == "deregistered"
    assert [c["status"] for c in organisation["status_history"]] == ["filed", "registered", "deregistered"]
    # Nothing more is offered for a deregistered organisation.
    html = admin.get("/admin/organisations?q=黄石路").get_data(as_text=True)
    assert "黄石路社区调解队" in html
    assert f"{url}/registration" not in html
    assert f"{url}/deregistration" not in html
