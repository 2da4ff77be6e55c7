"""The ``ledger`` command: init, demo, users."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from ledger import create_app
from ledger.credit_code import is_valid_credit_code
from tests.conftest import settings_for_tests


def test_init_builds_an_instance_from_nothing(tmp_path: Path, empty_database_url: str) -> None:
    instance = tmp_path / "fresh-instance"
    app = create_app(settings_for_tests(empty_database_url, instance))
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "loaded reference data NPO-2005" in result.output
    assert "loaded reference data CFL-ILLUSTRATIVE-2024" in result.output
    assert (instance / "secret_key").is_file()
    again = app.test_cli_runner().invoke(args=["init"])
    assert again.exit_code == 0
    assert "reference data NPO-2005 already loaded" in again.output
    from ledger.extensions import db

    with app.app_context():
        db.engine.dispose()


def test_demo_creates_the_documented_world(runner: FlaskCliRunner, client: FlaskClient) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "2 districts, 4 streets, 6 communities, 15 organisations (3 filed)" in result.output
    for username in ("admin", "finance1", "finance2", "auditor", "member01", "member12"):
        assert re.search(rf"^\s+{username}\s", result.output, re.M), username
    # Each person's scope is printed beside the login.
    assert re.search(r"^\s+houhu\.finance1\s+finance_officer\s+后湖街道 420102012000$", result.output, re.M)
    assert re.search(r"^\s+jiangan\.supervisor\s+supervisor\s+江岸区 420102000000$", result.output, re.M)
    assert re.search(r"^\s+admin\s+admin\s+全部 the whole deployment$", result.output, re.M)
    token = runner.invoke(args=["users", "token", "admin"]).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    communities = client.get("/api/v1/communities", headers=headers).get_json()
    assert {c["kind"] for c in communities} == {"urban", "rural"}
    assert {c["path"][2]["name"] for c in communities} == {"江岸区", "黄陂区"}
    assert len({c["path"][3]["code"] for c in communities}) == 4
    organisations = client.get("/api/v1/organisations", headers=headers).get_json()
    registered = [o for o in organisations if o["status"] == "registered"]
    filed = [o for o in organisations if o["status"] == "filed"]
    assert (len(registered), len(filed)) == (12, 3)
    assert all(is_valid_credit_code(o["credit_code"]) for o in registered)
    assert {(o["filing_office_code"], o["credit_code"]) for o in filed} == {("420116200000", None)}
    assert sum(1 for o in filed if o["money_held_by"]) == 1  # one's money held by the township's hub
    funds = client.get("/api/v1/funds", headers=headers).get_json()
    assert sorted(f["kind"] for f in funds) == ["incubation_fund", "lottery_grant", "procurement_contract"]
    assert {f["status"] for f in funds} == {"active"}
    auditor = {"Authorization": f"Bearer {runner.invoke(args=['users', 'token', 'auditor']).output.strip()}"}
    reports = client.get("/api/v1/expense-reports?page_size=100", headers=auditor).get_json()
    assert {r["status"] for r in reports} == {"draft", "submitted", "returned", "approved", "rejected"}
    statuses = set()
    for fund in funds:
        statuses |= {
            d["status"]
            for d in client.get(f"/api/v1/funds/{fund['id']}/disbursements", headers=auditor).get_json()
        }
    assert statuses == {"paid", "approved"}
    elders = next(f for f in funds if f["kind"] == "lottery_grant")
    periods = client.get(
        f"/api/v1/organisations/{elders['organisation_id']}/periods", headers=auditor
    ).get_json()
    assert ("closed", 1) in {(p["status"], p["month"]) for p in periods}
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    assert runner.invoke(args=["demo"]).output.startswith("demo data already present")


def test_users_token_prints_one_usable_line(runner: FlaskCliRunner, client: FlaskClient) -> None:
    runner.invoke(args=["demo"])
    result = runner.invoke(args=["users", "token", "auditor"])
    assert result.exit_code == 0
    assert result.output.count("\n") == 1
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {result.output.strip()}"})
    assert me.get_json()["username"] == "auditor"


def test_users_create_and_disable(runner: FlaskCliRunner, client: FlaskClient) -> None:
    runner.invoke(args=["demo"])
    code = "52420102MJ2334046C"
    created = runner.invoke(
        args=[
            "users",
            "create",
            "newmember",
            "--role",
            "org_member",
            "--org",
            code,
            "--password",
            "long-password-1",
        ]
    )
    assert created.exit_code == 0, created.output
    token = runner.invoke(args=["users", "token", "newmember"]).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    assert [o["credit_code"] for o in client.get("/api/v1/organisations", headers=headers).get_json()] == [
        code
    ]
    disabled = runner.invoke(args=["users", "disable", "newmember"])
    assert disabled.exit_code == 0
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    refused = runner.invoke(args=["users", "token", "newmember"])
    assert refused.exit_code == 1
    assert "disabled" in refused.output


def test_users_create_reports_bad_input_without_a_traceback(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "x y", "--role", "auditor", "--password", "long-password-1"]
    )
    assert result.exit_code == 1
    assert "username" in result.output
    assert "Traceback" not in result.output
    unknown = runner.invoke(args=["users", "token", "nobody"])
    assert unknown.exit_code == 1


def test_create_app_touches_no_database(tmp_path: Path) -> None:
    """Building the app must not connect: an unreachable database is only found when used."""
    app = create_app(settings_for_tests("postgresql://nobody@127.0.0.1:1/none", tmp_path))
    assert isinstance(app, Flask)


def test_the_console_script_is_installed() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ledger"), "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for command in ("init", "demo", "users", "openapi", "run"):
        assert command in result.stdout
