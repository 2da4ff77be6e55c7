"""Reference data: the complete NPO-2005 chart and the standard expense categories."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models.reference import ChartOfAccounts
from ledger.replay.capture import forget_rows
from ledger.services.access import Actor
from ledger.services.reference_data import ReferenceDataConflict, load_reference_data
from tests.conftest import DemoWorld


def test_the_chart_has_all_48_accounts(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get(
        "/api/v1/reference/charts/NPO-2005/accounts?page_size=100", headers=world.auth("member01")
    )
    accounts = response.get_json()
    assert len(accounts) == 48
    classes = Counter(a["account_class"] for a in accounts)
    assert classes == {"asset": 23, "liability": 12, "net_assets": 2, "revenue": 7, "expense": 4}
    by_code = {a["code"]: a for a in accounts}
    assert by_code["1002"]["name_zh"] == "银行存款"
    assert by_code["3102"]["name_zh"] == "限定性净资产"
    assert by_code["4401"]["name_zh"] == "政府补助收入"
    assert by_code["1502"]["is_contra"]
    assert by_code["1502"]["normal_balance"] == "credit"
    for account in accounts:
        expected = "debit" if account["account_class"] in ("asset", "expense") else "credit"
        if not account["is_contra"]:
            assert account["normal_balance"] == expected, account


def test_every_category_books_to_an_expense_account(client: FlaskClient, world: DemoWorld) -> None:
    categories = client.get(
        "/api/v1/reference/expense-categories/CFL-EC-2026?page_size=500", headers=world.auth("finance1")
    ).get_json()
    assert len(categories) >= 20
    assert {c["account_code"] for c in categories} <= {"5101", "5201", "5301", "5401"}
    assert {c["functional_class"] for c in categories} == {"program", "management", "fundraising"}
    assert {c["sf424a_object_class"] for c in categories} <= {
        "6a",
        "6b",
        "6c",
        "6d",
        "6e",
        "6f",
        "6g",
        "6h",
        "6j",
    }
    assert all(c["name_zh"] and c["name_en"] and c["form990_line"] for c in categories)
    assert sum(c["is_indirect"] for c in categories) == 1


def test_lists_name_the_versions(client: FlaskClient, world: DemoWorld) -> None:
    charts = client.get("/api/v1/reference/charts", headers=world.auth("auditor")).get_json()
    assert [c["version"] for c in charts] == ["NPO-2005"]
    lists = client.get("/api/v1/reference/expense-categories", headers=world.auth("auditor")).get_json()
    assert [c["version"] for c in lists] == ["CFL-EC-2026"]


def test_an_unknown_version_is_a_404(client: FlaskClient, world: DemoWorld) -> None:
    assert (
        client.get("/api/v1/reference/charts/NPO-1999/accounts", headers=world.auth("admin")).status_code
        == 404
    )


def test_loading_again_changes_nothing(app: Flask) -> None:
    with app.app_context(), unit_of_work():
        report = load_reference_data(Actor.operator())
    assert report.loaded == []
    assert sorted(report.unchanged) == ["CFL-EC-2026", "CFL-ILLUSTRATIVE-2024", "NPO-2005"]


def test_a_changed_version_is_refused(app: Flask) -> None:
    with app.app_context():
        chart = db.session.get(ChartOfAccounts, "NPO-2005")
        assert chart is not None
        chart.content_sha256 = "0" * 64
        forget_rows(db.session)  # an administrator's edit, made behind the service's back
        db.session.commit()
        with pytest.raises(ReferenceDataConflict, match="publish changes as a new version"), unit_of_work():
            load_reference_data(Actor.operator())


def test_the_shipped_files_are_consistent() -> None:
    root = resources.files("ledger.reference")
    chart = json.loads(root.joinpath("charts/NPO-2005.json").read_text(encoding="utf-8"))
    codes = [a["code"] for a in chart["accounts"]]
    assert len(codes) == len(set(codes)) == 48
    categories = json.loads(root.joinpath("expense_categories/CFL-EC-2026.json").read_text(encoding="utf-8"))
    assert categories["chart_version"] == chart["version"]
    assert {c["account_code"] for c in categories["categories"]} <= set(codes)
