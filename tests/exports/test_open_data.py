"""OCDS and 360Giving exports validate against the published schemas; our own formats against ours."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from jsonschema import Draft202012Validator
from sqlalchemy import select

from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import User
from ledger.services.access import Actor
from ledger.services.ocds_publication import publish_ocds
from ledger.services.tokens import issue_token
from tests.builders import draft_fund, first_tranche, fund_with_schedule, prepare_disbursement
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, grant_package_errors, ocds_package_errors, ocds_release_errors

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def own_schema(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture
def demo(app: Flask) -> dict[str, dict[str, str]]:
    """The full demo (three funds of every kind with payments and reports), with a token per user."""
    from ledger.demo import create_demo

    with app.app_context():
        with unit_of_work():
            create_demo(with_funds=True)
        headers = {}
        with unit_of_work():
            for user in db.session.scalars(select(User)):
                token = issue_token(Actor.operator(), user, purpose="test")
                headers[user.username] = {"Authorization": f"Bearer {token.secret}"}
    return headers


def test_the_demo_exports_validate(client: FlaskClient, demo: dict[str, dict[str, str]]) -> None:
    releases = client.get("/api/v1/exports/ocds", headers=demo["auditor"])
    assert releases.status_code == 200
    package = releases.get_json()
    assert ocds_package_errors(package) == []
    assert {tuple(r["tag"]) for r in package["releases"]} >= {("award", "contract"), ("implementation",)}
    records = client.get("/api/v1/exports/ocds?records=true", headers=demo["auditor"]).get_json()
    assert len(records["records"]) == 1
    for record in records["records"]:
        assert ocds_release_errors(record["compiledRelease"]) == []
    grants = client.get("/api/v1/exports/360giving", headers=demo["auditor"]).get_json()
    assert grant_package_errors(grants) == []
    assert {g["grantProgramme"][0]["code"] for g in grants["grants"]} == {"incubation_fund", "lottery_grant"}


def test_amounts_are_exact_numbers_and_no_user_is_named(
    app: Flask, client: FlaskClient, demo: dict[str, dict[str, str]]
) -> None:
    texts = [
        client.get(path, headers=demo["auditor"]).get_data(as_text=True)
        for path in ("/api/v1/exports/ocds", "/api/v1/exports/ocds?records=true", "/api/v1/exports/360giving")
    ]
    # Written with the currency's two decimals, as numbers: never rounded through a float.
    assert all(re.search(r'"(?:amount|amountAwarded|value)": [0-9]+\.[0-9]{2}[,\n]', text) for text in texts)
    assert not any(re.search(r'"(?:amount|amountAwarded|value)": [0-9]+\.[0-9][,\n]', text) for text in texts)
    with app.app_context():
        people = [(u.username, u.display_name, str(u.id)) for u in db.session.scalars(select(User))]
    for text in texts:
        for username, display_name, user_id in people:
            assert f'"{username}"' not in text
            assert display_name not in text
            assert user_id not in text


def test_a_procurement_contract_from_award_to_payment(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    fund = fund_with_schedule(client, world)  # a lottery grant
    contract = draft_fund(
        client, world, kind="procurement_contract", reference="GP-2026-007", funder_credit_code=None
    )
    admin = world.auth("admin")
    url = f"/api/v1/funds/{contract['id']}"
    assert (
        client.put(f"{url}/budget", json={"lines": {"ACTIVITY": "100000.00"}}, headers=admin).status_code
        == 200
    )
    schedule = {
        "tranches": [
            {"amount": "60000.00", "due_date": "2026-02-01"},
            {"amount": "40000.00", "due_date": "2026-09-01"},
        ]
    }
    contract["tranches"] = client.put(f"{url}/tranches", json=schedule, headers=admin).get_json()
    assert client.post(f"{url}/activate", headers={**admin, "If-Match": "*"}).status_code == 200
    paid = prepare_disbursement(
        client, world, contract, {**first_tranche(contract), "amount": "60000.00"}, "gp-1"
    ).get_json()
    assert (
        client.post(f"/api/v1/disbursements/{paid['id']}/approve", headers=world.auth("finance2")).status_code
        == 200
    )
    client.post(
        f"/api/v1/disbursements/{paid['id']}/pay",
        json={"bank_reference": "GP-PAY-1", "paid_on": "2026-02-03"},
        headers=world.auth("finance1"),
    )
    with app.app_context(), unit_of_work():
        publish_ocds(Actor.operator())
    package = client.get(
        f"/api/v1/exports/ocds?fund_id={contract['id']}", headers=world.auth("finance1")
    ).get_json()
    assert ocds_package_errors(package) == []
    ocid = package["releases"][0]["ocid"]
    assert ocid == "ocds-xxxxxx-GP-2026-007"
    implementation = [r for r in package["releases"] if r["tag"] == ["implementation"]]
    assert len(implementation) == 1
    transaction = implementation[0]["contracts"][0]["implementation"]["transactions"][0]
    assert transaction["value"] == {"amount": 60000.0, "currency": "CNY"}
    assert transaction["payee"]["id"].startswith("CN-USCI-")
    record = client.get(
        f"/api/v1/exports/ocds?records=true&fund_id={contract['id']}", headers=world.auth("auditor")
    ).get_json()
    milestones = record["records"][0]["compiledRelease"]["contracts"][0]["implementation"]["milestones"]
    assert [(m["id"], m["status"], m.get("dateMet")) for m in milestones] == [
        ("tranche-1", "met", "2026-02-03T00:00:00+08:00"),
        ("tranche-2", "scheduled", None),
    ]
    assert ocds_release_errors(record["records"][0]["compiledRelease"]) == []
    grants = client.get("/api/v1/exports/360giving", headers=world.auth("finance1")).get_json()
    assert grant_package_errors(grants) == []
    assert [g["id"] for g in grants["grants"]] == [f"360G-EXAMPLEDEV-{fund['reference']}"]


def test_a_member_exports_only_their_own_organisation(
    client: FlaskClient, demo: dict[str, dict[str, str]]
) -> None:
    everything = client.get("/api/v1/exports/360giving", headers=demo["auditor"]).get_json()["grants"]
    own = client.get("/api/v1/exports/360giving", headers=demo["member01"]).get_json()["grants"]
    assert len(everything) == 2
    assert len(own) == 1
    assert (
        own[0]["recipientOrganization"]
        == next(g for g in everything if g["id"] == own[0]["id"])["recipientOrganization"]
    )
    other = next(g for g in everything if g["id"] != own[0]["id"])
    funds = client.get("/api/v1/funds?page_size=100", headers=demo["auditor"]).get_json()
    other_fund = next(f for f in funds if other["id"].endswith(f["reference"]))
    assert_problem(
        client.get(f"/api/v1/exports/360giving?fund_id={other_fund['id']}", headers=demo["member01"]), 403
    )
    assert client.get("/api/v1/exports/ocds", headers=demo["member01"]).get_json()["releases"] == []
    assert len(client.get("/api/v1/exports/ocds", headers=demo["member04"]).get_json()["releases"]) >= 1


def test_the_cli_writes_valid_files(
    runner: FlaskCliRunner, demo: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    result = runner.invoke(args=["export", "ocds", str(tmp_path / "ocds")])
    assert result.exit_code == 0, result.output
    package = json.loads((tmp_path / "ocds" / "release-package.json").read_text(encoding="utf-8"))
    assert ocds_package_errors(package) == []
    records = json.loads((tmp_path / "ocds" / "record-package.json").read_text(encoding="utf-8"))
    assert all(ocds_release_errors(r["compiledRelease"]) == [] for r in records["records"])
    result = runner.invoke(args=["export", "360giving", str(tmp_path / "grants.json")])
    assert result.exit_code == 0, result.output
    assert grant_package_errors(json.loads((tmp_path / "grants.json").read_text(encoding="utf-8"))) == []


def test_our_own_formats_match_their_schemas(
    client: FlaskClient, demo: dict[str, dict[str, str]], runner: FlaskCliRunner, tmp_path: Path
) -> None:
    entries = client.get("/api/v1/audit/entries?after=0&limit=1000", headers=demo["auditor"]).get_json()[
        "entries"
    ]
    entry_schema = own_schema("audit-entry.schema.json")
    assert len(entries) > 50
    for entry in entries:
        assert list(entry_schema.iter_errors(json.loads(base64.b64decode(entry["canonical"])))) == []
    result = runner.invoke(args=["audit", "export", str(tmp_path / "bundle")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text(encoding="utf-8"))
    assert list(own_schema("export-manifest.schema.json").iter_errors(manifest)) == []
    lines_schema = own_schema("expense-report-import.schema.json")
    good = {
        "lines": [
            {
                "category_code": "ACTIVITY",
                "amount": "120.50",
                "incurred_on": "2026-03-01",
                "payee": "某供应商",
                "description": "物资",
            }
        ]
    }
    bad = {
        "lines": [
            {
                "category_code": "ACTIVITY",
                "amount": 120.5,
                "incurred_on": "2026-03-01",
                "payee": "x",
                "description": "y",
            }
        ]
    }
    assert list(lines_schema.iter_errors(good)) == []
    assert list(lines_schema.iter_errors(bad)) != []


def test_the_cli_writes_the_books_as_beancount(
    runner: FlaskCliRunner, demo: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    import subprocess
    import sys

    result = runner.invoke(args=["export", "beancount", str(tmp_path / "books")])
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "books").glob("*.beancount"))
    assert len(files) == 15  # the demo's 12 registered and 3 filed organisations
    check = Path(sys.executable).with_name("bean-check")
    for file in files:
        done = subprocess.run(
            [str(check), "--no-cache", str(file)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
