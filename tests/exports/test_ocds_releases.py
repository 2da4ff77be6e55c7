"""OCDS releases are facts published once: stored, never rebuilt, dated by business events."""

from __future__ import annotations

import json
import uuid
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from ledger.business_dates import business_today
from ledger.database import unit_of_work
from ledger.exports.ocds import end_of, moment_text, start_of
from ledger.extensions import db
from ledger.models import Fund, PublishedRelease
from ledger.services.access import Actor
from ledger.services.audit_subjects import record_state
from ledger.services.ocds_publication import publish_ocds
from tests.builders import active_contract, approve_and_pay_tranche, fund_terms
from tests.conftest import DemoWorld
from tests.helpers import assert_problem

# The OCDS 1.1.5 schema folder (schemas and codelists), as the official validator reads it.
STANDARD_ZIP = Path(__file__).resolve().parents[1] / "data" / "ocds-standard-1__1__5.zip"


def _contract(client: FlaskClient, world: DemoWorld, **changes: Any) -> dict[str, Any]:
    """An active procurement contract of 100,000.00 in two tranches (60,000.00 and 40,000.00)."""
    tranches = [("60000.00", "2026-03-01"), ("40000.00", "2026-09-01")]
    return active_contract(client, world, tranches, **{"reference": "GP-2026-009", **changes})


def _publish(app: Flask) -> None:
    with app.app_context(), unit_of_work():
        publish_ocds(Actor.operator())


def _releases(client: FlaskClient, world: DemoWorld, contract: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/exports/ocds?fund_id={contract['id']}", headers=world.auth("auditor"))
    assert response.status_code == 200
    return list(json.loads(response.get_data(as_text=True), parse_float=Decimal)["releases"])


def _text(release: dict[str, Any]) -> str:
    return json.dumps(release, ensure_ascii=False, default=str)


def test_published_releases_never_change_and_changes_are_new_releases(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    contract = _contract(client, world)
    approve_and_pay_tranche(client, world, contract, contract["tranches"][0], "gp9-1", "2026-03-02")
    _publish(app)
    first = _releases(client, world, contract)
    assert [r["id"] for r in first] == [
        "ocds-xxxxxx-GP-2026-009-contract",
        f"ocds-xxxxxx-GP-2026-009-payment-{first[1]['contracts'][0]['implementation']['transactions'][0]['id']}",
    ]
    _publish(app)  # nothing new: nothing is published twice
    assert [_text(r) for r in _releases(client, world, contract)] == [_text(r) for r in first]
    # The supplier's new name is not a change of the contract or its payments: nothing new either.
    renamed = client.patch(
        f"/api/v1/organisations/{contract['organisation_id']}",
        json={"name": "改名后的服务中心"},
        headers={**world.auth("admin"), "If-Match": "*"},
    )
    assert renamed.status_code == 200, renamed.get_json()
    _publish(app)
    assert [_text(r) for r in _releases(client, world, contract)] == [_text(r) for r in first]

    # A second tranche paid, back-dated before the first: earlier releases keep their ids and text.
    approve_and_pay_tranche(client, world, contract, contract["tranches"][1], "gp9-2", "2026-03-01")
    admin = world.auth("admin")
    refunded = client.post(
        f"/api/v1/funds/{contract['id']}/refund",
        json={"amount": "100000.00", "refunded_on": "2026-03-03", "bank_reference": "GP9-REFUND"},
        headers={**world.auth("finance1"), "Idempotency-Key": "gp9-refund"},
    )
    assert refunded.status_code == 201, refunded.get_json()
    closed = client.post(f"/api/v1/funds/{contract['id']}/close", headers={**admin, "If-Match": "*"})
    assert closed.status_code == 200, closed.get_json()
    _publish(app)
    second = _releases(client, world, contract)
    by_id = {r["id"]: r for r in second}
    for release in first:
        assert _text(by_id[release["id"]]) == _text(release)
    added = [r for r in second if r["id"] not in {f["id"] for f in first}]
    assert sorted(tuple(r["tag"]) for r in added) == [("contractTermination",), ("implementation",)]
    back_dated = next(r for r in added if r["tag"] == ["implementation"])
    assert back_dated["date"] == "2026-03-01T00:00:00+08:00"
    assert back_dated["contracts"][0]["implementation"]["milestones"] == [
        {"id": "tranche-2", "status": "met", "dateMet": "2026-03-01T00:00:00+08:00"}
    ]
    # Served in the order of their dates, as instants.
    assert [r["date"] for r in second] == sorted(r["date"] for r in second)


def test_dates_are_business_dates_in_china(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    contract = _contract(client, world)
    approve_and_pay_tranche(client, world, contract, contract["tranches"][0], "gp9-1", "2026-03-02")
    _publish(app)
    contract_release, payment = _releases(client, world, contract)
    award = contract_release["awards"][0]
    signed = contract_release["contracts"][0]
    # The award and signing default to the period's start; never after the first payment.
    assert award["date"] == "2026-01-01T00:00:00+08:00"
    assert signed["dateSigned"] == "2026-01-01T00:00:00+08:00"
    assert award["date"] <= signed["dateSigned"] <= payment["date"] == "2026-03-02T00:00:00+08:00"
    assert signed["period"] == {
        "startDate": "2026-01-01T00:00:00+08:00",
        "endDate": "2026-12-31T23:59:59+08:00",
    }
    assert contract_release["tender"]["procuringEntity"] == contract_release["buyer"]
    milestones = signed["implementation"]["milestones"]
    assert milestones[0] == {
        "id": "tranche-1",
        "title": "第1期拨付",
        "title_en": "Tranche 1",
        "type": "financing",
        "dueDate": "2026-03-01T23:59:59+08:00",
        "status": "scheduled",
    }
    assert "milestones" not in signed
    assert all("value" not in m for m in milestones)


def test_ocdskit_compiles_the_record_we_serve(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    ocdsmerge = pytest.importorskip("ocdsmerge")
    from tests.exports.schemas import ocds_release_schema

    contract = _contract(client, world)
    approve_and_pay_tranche(client, world, contract, contract["tranches"][0], "gp9-1", "2026-03-02")
    approve_and_pay_tranche(client, world, contract, contract["tranches"][1], "gp9-2", "2026-03-01")
    _publish(app)
    releases = _releases(client, world, contract)
    record = client.get(
        f"/api/v1/exports/ocds?records=true&fund_id={contract['id']}", headers=world.auth("auditor")
    )
    ours = json.loads(record.get_data(as_text=True), parse_float=Decimal)["records"][0]["compiledRelease"]
    theirs = ocdsmerge.Merger(schema=ocds_release_schema()).create_compiled_release(releases)
    assert ours == theirs
    milestones = ours["contracts"][0]["implementation"]["milestones"]
    assert [(m["id"], m["status"], m["dateMet"]) for m in milestones] == [
        ("tranche-1", "met", "2026-03-02T00:00:00+08:00"),
        ("tranche-2", "met", "2026-03-01T00:00:00+08:00"),
    ]
    assert ours["date"] == "2026-03-02T00:00:00+08:00"


class _StandardFromZip:
    """What jsonref fetches over HTTP, served from the standard's 1.1.5 folder kept in
    ``tests/data``: the record package schema refers to the versioned release schema by its
    address on standard.open-contracting.org, and the tests run offline. Any other address fails
    as being offline would."""

    PREFIX = "https://standard.open-contracting.org/schema/1__1__5/"

    class _Response:
        def __init__(self, body: bytes) -> None:
            self.body = body

        def raise_for_status(self) -> None:
            return None

        def json(self, **kwargs: Any) -> Any:
            return json.loads(self.body, **kwargs)

    def get(self, uri: str) -> _Response:
        if not uri.startswith(self.PREFIX):
            raise OSError(f"offline: {uri}")
        with zipfile.ZipFile(STANDARD_ZIP) as standard:
            return self._Response(standard.read(f"standard-1__1__5/schema/{uri.removeprefix(self.PREFIX)}"))


@pytest.mark.parametrize("query", ["", "&records=true"], ids=["release package", "record package"])
def test_the_official_validator_finds_no_errors_and_no_additional_fields(
    app: Flask, client: FlaskClient, world: DemoWorld, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = pytest.importorskip("libcoveocds.api")
    import jsonref
    from libcoveocds.config import LibCoveOCDSConfig

    monkeypatch.setattr(jsonref, "requests", _StandardFromZip())

    # The standard's schema and codelists at 1.1.5, from the repository (the validator would
    # download them otherwise).
    config = LibCoveOCDSConfig({"standard_zip": STANDARD_ZIP.as_uri(), "context": "api"})
    milestone = {"name": "需求评估报告", "due_date": "2026-04-30", "amount": "30000.00"}
    contract = _contract(client, world, milestones=[milestone])
    approve_and_pay_tranche(client, world, contract, contract["tranches"][0], "gp9-1", "2026-03-02")
    # A deliverable accepted: its own implementation release, the milestone met.
    owed = client.get(f"/api/v1/funds/{contract['id']}/requirements", headers=world.auth("finance1"))
    (deliverable,) = [r for r in owed.get_json() if r["kind"] == "deliverable"]
    done = client.post(
        f"/api/v1/requirements/{deliverable['id']}/done",
        json={"note": "已验收"},
        headers=world.auth("finance1"),
    )
    assert done.status_code == 200, done.get_json()
    _publish(app)
    response = client.get(
        f"/api/v1/exports/ocds?fund_id={contract['id']}{query}", headers=world.auth("auditor")
    )
    package = json.loads(response.get_data(as_text=True))
    result = api.ocds_json_output(json_data=package, lib_cove_ocds_config=config)
    assert result["validation_errors"] == []
    # Fields the schema does not know, language variants (``title_en``) recognised as the OCDS
    # guidance has them: none. (The validator's other count, ``additional_fields``, is made
    # without the language rule, so it lists the ``title_en`` variants and nothing else.)
    assert result["all_additional_fields"] == []
    assert {(f["path"], f["field"]) for f in result["additional_fields"]} <= {
        ("/releases/contracts/implementation/milestones", "title_en"),
        ("/records/compiledRelease/contracts/implementation/milestones", "title_en"),
    }
    assert result.get("additional_closed_codelist_values", {}) == {}
    assert result.get("additional_open_codelist_values", {}) == {}


def test_award_and_signing_days_are_kept_in_order(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    refused = client.post(
        "/api/v1/funds",
        json=fund_terms(
            world,
            kind="procurement_contract",
            reference="GP-2026-010",
            awarded_on="2026-02-10",
            signed_on="2026-02-09",
        ),
        headers=world.keyed("admin"),
    )
    problem = assert_problem(refused, 422)
    assert list(problem["errors"]) == ["signed_on"]
    assert client.get("/api/v1/funds?page_size=100", headers=world.auth("admin")).get_json() == []

    contract = _contract(client, world, awarded_on="2025-12-20", signed_on="2026-01-05")
    assert (contract["awarded_on"], contract["signed_on"]) == ("2025-12-20", "2026-01-05")
    tranche = contract["tranches"][0]
    body = {
        "kind": "tranche_advance",
        "amount": tranche["amount"],
        "memo": "early",
        "tranche_id": tranche["id"],
    }
    prepared = client.post(
        f"/api/v1/funds/{contract['id']}/disbursements", json=body, headers=world.keyed("finance1")
    ).get_json()
    assert (
        client.post(
            f"/api/v1/disbursements/{prepared['id']}/approve", headers=world.auth("finance2")
        ).status_code
        == 200
    )
    early = client.post(
        f"/api/v1/disbursements/{prepared['id']}/pay",
        json={"bank_reference": "EARLY", "paid_on": "2026-01-04"},
        headers=world.auth("finance1"),
    )
    assert list(assert_problem(early, 422)["errors"]) == ["paid_on"]
    paid = client.post(
        f"/api/v1/disbursements/{prepared['id']}/pay",
        json={"bank_reference": "ON-TIME", "paid_on": "2026-01-05"},
        headers=world.auth("finance1"),
    )
    assert paid.status_code == 200, paid.get_json()
    _publish(app)
    contract_release, payment = _releases(client, world, contract)
    assert contract_release["date"] == "2026-01-05T00:00:00+08:00"
    assert contract_release["awards"][0]["date"] == "2025-12-20T00:00:00+08:00"
    assert contract_release["contracts"][0]["dateSigned"] == "2026-01-05T00:00:00+08:00"
    assert payment["date"] == "2026-01-05T00:00:00+08:00"


def test_a_payment_at_half_past_seven_in_beijing_is_dated_that_day() -> None:
    # 07:30 on 2 March in Beijing is still 1 March in UTC.
    paid = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert business_today(paid) == date(2026, 3, 2)
    assert moment_text(paid) == "2026-03-02T07:30:00+08:00"
    assert moment_text(start_of(business_today(paid))) == "2026-03-02T00:00:00+08:00"
    assert moment_text(end_of(date(2026, 12, 31))) == "2026-12-31T23:59:59+08:00"


def test_the_database_refuses_to_change_a_published_release(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    _contract(client, world)
    _publish(app)
    with app.app_context():
        for statement in (update(PublishedRelease).values(body="{}"), delete(PublishedRelease)):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(statement)
            db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(PublishedRelease)) == 1


def test_a_changed_contract_is_a_new_release_that_keeps_the_payments_progress(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    contract = _contract(client, world)
    approve_and_pay_tranche(client, world, contract, contract["tranches"][0], "gp9-1", "2026-03-02")
    _publish(app)
    first = _releases(client, world, contract)
    # The contract's title corrected in the database (no page changes an active contract's terms).
    with app.app_context(), unit_of_work():
        fund = db.session.get(Fund, uuid.UUID(contract["id"]))
        assert fund is not None
        fund.title = "社区居家养老服务合同（更正）"
        db.session.flush()
        record_state(Actor.operator(), "fund.updated", "fund", fund)
    with app.app_context(), unit_of_work():
        published = publish_ocds(Actor.operator(), datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
        assert [r.id for r in published] == ["ocds-xxxxxx-GP-2026-009-contract-amendment-1"]
    second = _releases(client, world, contract)
    assert [_text(r) for r in second[:2]] == [_text(r) for r in first]
    amendment = second[2]
    assert amendment["tag"] == ["awardUpdate", "contractAmendment"]
    assert amendment["date"] == "2026-04-01T10:00:00+08:00"
    assert amendment["contracts"][0]["title"] == "社区居家养老服务合同（更正）"
    record = client.get(
        f"/api/v1/exports/ocds?records=true&fund_id={contract['id']}", headers=world.auth("auditor")
    ).get_json()
    compiled = record["records"][0]["compiledRelease"]
    assert compiled["contracts"][0]["title"] == "社区居家养老服务合同（更正）"
    milestones = compiled["contracts"][0]["implementation"]["milestones"]
    assert [(m["id"], m["status"]) for m in milestones] == [("tranche-1", "met"), ("tranche-2", "scheduled")]


def test_a_deliverable_is_met_when_an_officer_accepts_it_and_not_met_if_the_contract_ends_first(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    milestones = [
        {"name": "需求评估报告", "due_date": "2026-04-30", "amount": "30000.00"},
        {"name": "服务总结报告", "due_date": "2026-12-15", "amount": "70000.00"},
    ]
    contract = _contract(client, world, milestones=milestones)
    owed = client.get(
        f"/api/v1/funds/{contract['id']}/requirements", headers=world.auth("finance1")
    ).get_json()
    deliverables = sorted(
        (r for r in owed if r["kind"] == "deliverable"), key=lambda r: r["milestone_number"]
    )
    assert [
        (r["milestone_number"], r["title"], r["due_on"], r["responsible_role"]) for r in deliverables
    ] == [
        (1, "需求评估报告", "2026-04-30", "member"),
        (2, "服务总结报告", "2026-12-15", "member"),
    ]
    first = deliverables[0]["id"]
    # The organisation does not accept its own delivery; an officer of the area does.
    assert_problem(
        client.post(
            f"/api/v1/requirements/{first}/done", json={"note": "已交付"}, headers=world.auth("member01")
        ),
        409,
    )
    accepted = client.post(
        f"/api/v1/requirements/{first}/done", json={"note": "报告已验收"}, headers=world.auth("finance1")
    )
    assert accepted.status_code == 200, accepted.get_json()
    # Deliverables come from the contract's milestones, never added by hand.
    assert_problem(
        client.post(
            f"/api/v1/funds/{contract['id']}/requirements",
            json={"kind": "deliverable", "due_on": "2026-09-30"},
            headers=world.auth("finance1"),
        ),
        422,
        "kind",
    )
    _publish(app)
    releases = {r["id"]: r for r in _releases(client, world, contract)}
    signed = releases["ocds-xxxxxx-GP-2026-009-contract"]["contracts"][0]["implementation"]["milestones"]
    assert [(m["id"], m["type"], m["status"]) for m in signed if m["type"] == "delivery"] == [
        ("delivery-1", "delivery", "scheduled"),
        ("delivery-2", "delivery", "scheduled"),
    ]
    delivered = releases["ocds-xxxxxx-GP-2026-009-delivery-1"]
    assert delivered["tag"] == ["implementation"]
    (met,) = delivered["contracts"][0]["implementation"]["milestones"]
    assert (met["id"], met["status"]) == ("delivery-1", "met")
    accepted_at = datetime.fromisoformat(accepted.get_json()["done_at"])
    assert datetime.fromisoformat(met["dateMet"]) == accepted_at.replace(microsecond=0)  # to the second
    assert met["dateMet"].endswith("+08:00")
    assert delivered["date"] == met["dateMet"]
    # The contract ends with the second deliverable still open: it was not met.
    admin = world.auth("admin")
    assert (
        client.post(f"/api/v1/funds/{contract['id']}/close", headers={**admin, "If-Match": "*"}).status_code
        == 200
    )
    _publish(app)
    ended = {r["id"]: r for r in _releases(client, world, contract)}["ocds-xxxxxx-GP-2026-009-termination"]
    assert ended["contracts"][0]["implementation"]["milestones"] == [{"id": "delivery-2", "status": "notMet"}]
