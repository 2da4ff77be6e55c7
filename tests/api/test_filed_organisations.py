"""Filed (备案) organisations: entered without a credit code, registered later, deregistered, and
the one definition of an organisation active on a date."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger.business_dates import business_today
from ledger.extensions import db
from ledger.models import Organisation
from ledger.services.organisation_status import active_organisation_ids_on, statuses_on
from tests.builders import FILING_OFFICE, filed_organisation, filed_organisation_body
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts

CODE = "52420000MJH233402K"


def _history(body: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    return [(c["status"], c["effective_on"], c["credit_code"], c["reason"]) for c in body["status_history"]]


def _register(
    client: FlaskClient, world: DemoWorld, organisation: dict[str, Any], on: str, code: str = CODE
) -> Any:
    return client.post(
        f"/api/v1/organisations/{organisation['id']}/registration",
        json={"credit_code": code, "registered_on": on},
        headers={**world.auth("admin"), "If-Match": f'"{organisation["version"]}"'},
    )


def _deregister(client: FlaskClient, world: DemoWorld, organisation: dict[str, Any], on: str) -> Any:
    return client.post(
        f"/api/v1/organisations/{organisation['id']}/deregistration",
        json={"deregistered_on": on, "reason": "活动停止 stopped its activities"},
        headers={**world.auth("admin"), "If-Match": f'"{organisation["version"]}"'},
    )


def test_a_filed_organisation_is_entered_without_a_credit_code(client: FlaskClient, world: DemoWorld) -> None:
    created = filed_organisation(client, world, money_held_by="三德里社区居委会")
    assert created["status"] == "filed"
    assert created["credit_code"] is None
    assert created["registration_type"] == "other"
    assert created["filing_number"] == "后湖备字2025第001号"
    assert created["filing_office_code"] == FILING_OFFICE
    assert created["filed_on"] == "2025-03-01"
    assert created["filing_category"] == "culture_sports"
    assert created["money_held_by"] == "三德里社区居委会"
    assert _history(created) == [("filed", "2025-03-01", None, None)]
    fetched = client.get(f"/api/v1/organisations/{created['id']}", headers=world.auth("auditor")).get_json()
    assert fetched == created


def test_a_registered_organisation_has_its_registration_in_its_history(
    client: FlaskClient, world: DemoWorld
) -> None:
    body = {
        "name": "新星社工服务中心",
        "credit_code": CODE,
        "registration_type": "social_service_organisation",
        "community_id": world.community_ids[1],
        "registered_on": "2024-05-06",
    }
    created = client.post("/api/v1/organisations", json=body, headers=world.keyed("admin")).get_json()
    assert created["status"] == "registered"
    assert created["filing_number"] is None
    assert _history(created) == [("registered", "2024-05-06", CODE, None)]
    # Without a date it registered today (in China).
    body = {**body, "credit_code": "53420000MJH2448303", "name": "另一个"}
    del body["registered_on"]
    created = client.post("/api/v1/organisations", json=body, headers=world.keyed("admin")).get_json()
    assert _history(created) == [("registered", business_today().isoformat(), "53420000MJH2448303", None)]


TOMORROW = (business_today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"credit_code": CODE}, "credit_code", "a filed organisation has none; register it to add one"),
        ({"registered_on": "2025-03-01"}, "registered_on", "a filed organisation has none"),
        ({"filing_office_code": "420102000000"}, "filing_office_code", "is not a street or township"),
        ({"filing_office_code": "420102001001"}, "filing_office_code", "is not a street or township"),
        ({"filing_office_code": "110105001000"}, "filing_office_code", "is not a street or township"),
        ({"filing_office_code": "4201020010"}, "filing_office_code", "must be 12 ASCII digits"),
        ({"filing_office_code": None}, "filing_office_code", "is required for a filed organisation"),
        ({"filing_number": "  "}, "filing_number", "is required for a filed organisation"),
        ({"filed_on": None}, "filed_on", "is required for a filed organisation"),
        ({"filed_on": TOMORROW}, "filed_on", "must not be in the future"),
        ({"filing_category": None}, "filing_category", "is required for a filed organisation"),
        ({"filing_category": "sports"}, "filing_category", "Must be one of"),
        ({"status": "deregistered"}, "status", "a new organisation is filed or registered"),
    ],
)
def test_a_filed_organisation_with_wrong_details_is_refused_at_the_field(
    app: Flask, client: FlaskClient, world: DemoWorld, changes: dict[str, Any], field: str, says: str
) -> None:
    before = table_counts(app)
    response = client.post(
        "/api/v1/organisations", json=filed_organisation_body(world, **changes), headers=world.keyed("admin")
    )
    body = assert_problem(response, 422, field)
    assert says in body["errors"][field][0]
    assert table_counts(app) == before


@pytest.mark.parametrize("field", ["filing_number", "filing_office_code", "filed_on", "filing_category"])
def test_a_registered_organisation_takes_no_filing_details(
    app: Flask, client: FlaskClient, world: DemoWorld, field: str
) -> None:
    filing = filed_organisation_body(world)
    body = {
        "name": "新星社工服务中心",
        "credit_code": CODE,
        "registration_type": "social_group",
        "community_id": world.community_ids[1],
        field: filing[field],
    }
    before = table_counts(app)
    response = client.post("/api/v1/organisations", json=body, headers=world.keyed("admin"))
    assert assert_problem(response, 422, field)["errors"][field] == ["only a filed organisation has one"]
    assert table_counts(app) == before


def test_a_registered_organisation_needs_its_code_and_type(client: FlaskClient, world: DemoWorld) -> None:
    body = {"name": "x", "registration_type": "social_group", "community_id": world.community_ids[1]}
    assert_problem(
        client.post("/api/v1/organisations", json=body, headers=world.keyed("admin")), 422, "credit_code"
    )
    body = {"name": "x", "credit_code": CODE, "community_id": world.community_ids[1]}
    response = client.post("/api/v1/organisations", json=body, headers=world.keyed("admin"))
    assert_problem(response, 422, "registration_type")


def test_a_filing_number_is_filed_once_per_office(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    filed_organisation(client, world)
    before = table_counts(app)
    again = client.post(
        "/api/v1/organisations",
        json=filed_organisation_body(world, name="另一支队伍"),
        headers=world.keyed("admin"),
    )
    assert assert_problem(again, 409, "filing_number")["code"] == "organisation.filing_number_taken"
    assert table_counts(app) == before
    # The same number from another street is another filing.
    other_street = filed_organisation(
        client,
        world,
        filing_office_code="420102001000",
        community_id=world.community_ids[2],
        name="二七文体队",
    )
    assert other_street["filing_number"] == "后湖备字2025第001号"


def test_the_filing_office_is_the_street_of_the_organisation_s_community(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    before = table_counts(app)
    # 大智街道 did not file an organisation of 百步亭花园社区 (后湖街道); nor may 黄陂区's admin enter one there.
    elsewhere = filed_organisation_body(world, filing_office_code="420102001000")
    refused = client.post("/api/v1/organisations", json=elsewhere, headers=world.keyed("admin"))
    assert (
        assert_problem(refused, 422, "filing_office_code")["code"] == "organisation.filing_office_elsewhere"
    )
    outside = client.post(
        "/api/v1/organisations", json=filed_organisation_body(world), headers=world.keyed("huangpi.admin")
    )
    assert_problem(outside, 422, "community_id")
    assert table_counts(app) == before


def test_a_filed_organisation_registers_later_and_keeps_its_history(
    client: FlaskClient, world: DemoWorld
) -> None:
    filed = filed_organisation(client, world)
    response = _register(client, world, filed, "2025-09-01", code=" 52420000mjh233402k ")
    assert response.status_code == 200, response.get_json()
    registered = response.get_json()
    assert response.headers["ETag"] == '"2"'
    assert registered["status"] == "registered"
    assert registered["credit_code"] == CODE
    # The filing stays: it is where the organisation came from.
    assert registered["filing_number"] == "后湖备字2025第001号"
    assert registered["filed_on"] == "2025-03-01"
    assert _history(registered) == [
        ("filed", "2025-03-01", None, None),
        ("registered", "2025-09-01", CODE, None),
    ]
    listed = client.get("/api/v1/organisations?status=registered&page_size=500", headers=world.auth("admin"))
    assert filed["id"] in [o["id"] for o in listed.get_json()]
    # A registered organisation cannot register again.
    again = _register(client, world, registered, "2025-10-01")
    assert assert_problem(again, 409, "status")["code"] == "organisation.not_filed"


def test_registration_refusals_name_the_field(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    filed = filed_organisation(client, world)
    taken = world.organisation_ids[0]
    taken_code = client.get(f"/api/v1/organisations/{taken}", headers=world.auth("admin")).get_json()[
        "credit_code"
    ]
    before = table_counts(app)
    assert_problem(_register(client, world, filed, "2025-02-28"), 422, "registered_on")
    assert_problem(_register(client, world, filed, TOMORROW), 422, "registered_on")
    assert_problem(
        _register(client, world, filed, "2025-09-01", code="52420000MJH233402A"), 422, "credit_code"
    )
    assert_problem(_register(client, world, filed, "2025-09-01", code=taken_code), 409, "credit_code")
    stale = client.post(
        f"/api/v1/organisations/{filed['id']}/registration",
        json={"credit_code": CODE, "registered_on": "2025-09-01"},
        headers={**world.auth("admin"), "If-Match": '"7"'},
    )
    assert_problem(stale, 412)
    missing = client.post(
        f"/api/v1/organisations/{filed['id']}/registration",
        json={"credit_code": CODE, "registered_on": "2025-09-01"},
        headers=world.auth("admin"),
    )
    assert_problem(missing, 428)
    member = client.post(
        f"/api/v1/organisations/{filed['id']}/registration",
        json={"credit_code": CODE, "registered_on": "2025-09-01"},
        headers={**world.auth("finance1"), "If-Match": "*"},
    )
    assert_problem(member, 403)
    assert table_counts(app) == before


def test_deregistration_ends_the_organisation_and_nothing_follows(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    filed = filed_organisation(client, world)
    registered = _register(client, world, filed, "2025-09-01").get_json()
    assert_problem(_deregister(client, world, registered, "2025-08-31"), 422, "deregistered_on")
    response = _deregister(client, world, registered, "2026-02-01")
    assert response.status_code == 200, response.get_json()
    gone = response.get_json()
    assert gone["status"] == "deregistered"
    assert gone["credit_code"] == CODE
    assert _history(gone)[-1] == ("deregistered", "2026-02-01", None, "活动停止 stopped its activities")
    before = table_counts(app)
    assert assert_problem(_deregister(client, world, gone, "2026-03-01"), 409, "status")["code"] == (
        "organisation.deregistered"
    )
    assert_problem(_register(client, world, gone, "2026-03-01"), 409, "status")
    assert table_counts(app) == before
    listed = client.get("/api/v1/organisations?status=deregistered", headers=world.auth("auditor")).get_json()
    assert [o["id"] for o in listed] == [filed["id"]]


def test_a_filed_organisation_can_be_deregistered_without_ever_registering(
    client: FlaskClient, world: DemoWorld
) -> None:
    filed = filed_organisation(client, world)
    gone = _deregister(client, world, filed, "2025-03-01").get_json()  # the same day is not before
    assert _history(gone) == [
        ("filed", "2025-03-01", None, None),
        ("deregistered", "2025-03-01", None, "活动停止 stopped its activities"),
    ]


def test_corrections_keep_to_what_the_organisation_has(client: FlaskClient, world: DemoWorld) -> None:
    filed = filed_organisation(client, world)
    url = f"/api/v1/organisations/{filed['id']}"
    admin = world.auth("admin")
    assert_problem(
        client.patch(url, json={"credit_code": CODE}, headers={**admin, "If-Match": '"1"'}),
        422,
        "credit_code",
    )
    fixed = client.patch(
        url,
        json={"filing_number": "后湖备字2025第002号", "money_held_by": "后湖街道社会组织服务中心"},
        headers={**admin, "If-Match": '"1"'},
    )
    assert fixed.status_code == 200, fixed.get_json()
    assert fixed.get_json()["filing_number"] == "后湖备字2025第002号"
    assert fixed.get_json()["money_held_by"] == "后湖街道社会组织服务中心"
    registered = world.organisation_ids[0]
    assert_problem(
        client.patch(
            f"/api/v1/organisations/{registered}",
            json={"filing_number": "x"},
            headers={**admin, "If-Match": "*"},
        ),
        422,
        "filing_number",
    )
    assert_problem(
        client.patch(url, json={"status": "registered"}, headers={**admin, "If-Match": '"2"'}), 422, "status"
    )


def test_removing_an_organisation_entered_by_mistake_takes_its_history(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    before = table_counts(app)
    filed = filed_organisation(client, world)
    response = client.delete(
        f"/api/v1/organisations/{filed['id']}", headers={**world.auth("admin"), "If-Match": '"1"'}
    )
    assert response.status_code == 204
    after = table_counts(app)
    assert after["organisation"] == before["organisation"]
    assert after["organisation_status_change"] == before["organisation_status_change"]


def test_the_database_keeps_the_history_of_an_organisation_that_exists(app: Flask, world: DemoWorld) -> None:
    for statement in (
        "UPDATE organisation_status_change SET effective_on = '2020-01-01'",
        "DELETE FROM organisation_status_change",
    ):
        with app.app_context():
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()


def _active_on(app: Flask, day: str) -> set[uuid.UUID]:
    with app.app_context():
        return set(db.session.scalars(active_organisation_ids_on(date.fromisoformat(day))))


def test_active_on_a_date_follows_the_history(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    """Filed 2025-03-01, registered 2025-09-01, deregistered 2026-02-01."""
    filed = filed_organisation(client, world)
    registered = _register(client, world, filed, "2025-09-01").get_json()
    _deregister(client, world, registered, "2026-02-01")
    organisation = uuid.UUID(filed["id"])
    assert organisation not in _active_on(app, "2025-02-28")
    for day in ("2025-03-01", "2025-08-31", "2025-09-01", "2026-01-31"):
        assert organisation in _active_on(app, day), day
    for day in ("2026-02-01", "2026-11-01"):
        assert organisation not in _active_on(app, day), day
    # The demo's twelve registered (2023-03-18 ... 2025-01-17) and three filed (2025) stay active.
    assert len(_active_on(app, (business_today() + timedelta(days=365)).isoformat())) == 15
    assert len(_active_on(app, "2026-01-31")) == 16
    assert len(_active_on(app, "2023-03-17")) == 0
    with app.app_context():
        status = statuses_on(date(2025, 12, 31))
        assert db.session.execute(
            select(status.c.status).where(status.c.organisation_id == organisation)
        ).scalar() == ("registered")


def test_active_on_counts_per_community_in_one_query(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    first, second = world.community_ids[0], world.community_ids[1]
    filed_organisation(client, world)  # filed 2025-03-01 in the first community
    filed_organisation(client, world, community_id=second, filing_number="2", filed_on="2025-06-01")
    gone = filed_organisation(client, world, community_id=second, filing_number="3")
    _deregister(client, world, gone, "2025-05-01")
    with app.app_context():
        active = active_organisation_ids_on(date(2025, 7, 1)).subquery()
        counts = dict(
            db.session.execute(
                select(Organisation.community_id, func.count())
                .join(active, active.c.organisation_id == Organisation.id)
                .group_by(Organisation.community_id)
            ).all()
        )
    # The demo's 3 (百步亭) and 2 (丹水池) registered in 2023, and the test's filings active then.
    assert {c: counts[uuid.UUID(c)] for c in (first, second)} == {first: 4, second: 3}
