"""Compliance statements: figures from the books, PDF/A-3b with the figures attached, reproducible."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.test import TestResponse

from ledger.statements.render import render_statement
from tests.builders import draft_report, paid_fund, report_line
from tests.conftest import DemoWorld, is_postgres
from tests.helpers import assert_problem, attached_statement, checkpoint_stamp, table_counts

PERIOD = "2026-01..2026-12"


@pytest.fixture
def scenario(client: FlaskClient, world: DemoWorld) -> dict[str, Any]:
    """A lottery grant of 100,000.00: 40,000.00 paid, a report of 3,200.00 + 300.00 approved."""
    fund = paid_fund(client, world)
    lines = [
        report_line(client, world, "ACTIVITY", "3200.00", payee="康乐家政 Kangle Home Services"),
        report_line(client, world, "OFFICE", "300.00", description="打印 <b>printing</b> & paper"),
    ]
    report = draft_report(client, world, fund, lines)
    url = f"/api/v1/expense-reports/{report['id']}"
    assert client.post(f"{url}/submit", headers=world.auth("member01")).status_code == 200
    approved = client.post(f"{url}/approve", headers=world.auth("finance1"))
    assert approved.status_code == 200, approved.get_json()
    return fund


def _issue(
    client: FlaskClient, world: DemoWorld, fund: dict[str, Any], user: str = "finance1", **body: str
) -> TestResponse:
    return client.post(
        f"/api/v1/funds/{fund['id']}/statements/fund-use",
        json={"period": PERIOD, **body},
        headers=world.auth(user),
    )


def _figures(
    client: FlaskClient, world: DemoWorld, fund: dict[str, Any], period: str = PERIOD
) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/funds/{fund['id']}/statements/fund-use?period={period}", headers=world.auth("finance1")
    )
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_figures_come_from_the_books(
    client: FlaskClient, world: DemoWorld, scenario: dict[str, Any]
) -> None:
    figures = _figures(client, world, scenario)
    assert figures["received"] == {"this_period": "40000.00", "cumulative": "40000.00"}
    categories = {c["code"]: c for c in figures["categories"]}
    assert categories["ACTIVITY"] | {"name_zh": "", "name_en": ""} == {
        "code": "ACTIVITY",
        "name_zh": "",
        "name_en": "",
        "budget": "60000.00",
        "revised_budget": "60000.00",
        "this_period": "3200.00",
        "cumulative": "3200.00",
        "remaining": "56800.00",
        "executed_percent": "5.33",
    }
    assert categories["OFFICE"]["cumulative"] == "300.00"
    assert figures["spending"] == {"this_period": "3500.00", "cumulative": "3500.00", "budget": "100000.00"}
    # Admin costs are a share of the award (100,000.00), as the cap is: 300.00 is 0.30 %.
    assert figures["admin_costs"] == {
        "cumulative": "300.00",
        "percent": "0.30",
        "cap_percent": "10.00",
        "within_cap": True,
    }
    assert figures["unspent"] == {
        "received": "40000.00",
        "spent": "3500.00",
        "refunded": "0.00",
        "balance": "36500.00",
        "other_cash": "0.00",
        "held_in_bank": "36500.00",
    }
    assert [v["amount"] for v in figures["vouchers"]] == ["3200.00", "300.00"]
    assert figures["fund"]["lottery_label"] is True
    # The same fund, a later period: nothing spent in it, the same cumulative figures.
    later = _figures(client, world, scenario, "2026-04..2026-12")
    assert later["spending"]["this_period"] == "0.00"
    assert later["spending"]["cumulative"] == "3500.00"
    assert later["received"]["this_period"] == "0.00"
    assert later["vouchers"] == []


def test_the_pdf_shows_the_books_and_embeds_them(
    app: Flask, client: FlaskClient, world: DemoWorld, scenario: dict[str, Any]
) -> None:
    response = _issue(client, world, scenario)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    pdf = response.data
    text = _text(pdf)
    for shown in (
        "资金使用情况表",
        "Fund-use statement",
        "40,000.00",
        "3,200.00",
        "56,800.00",
        "36,500.00",
        "0.30%",
        "彩票公益金资助",
        scenario["reference"],
        "单位负责人",
        "财会负责人",
        "复核",
        "制表",
    ):
        assert shown in text, shown
    # User-entered text is shown as text, never as markup.
    assert "<b>printing</b>" in text
    document = attached_statement(pdf)
    assert document["figures"] == _figures(client, world, scenario)
    checkpoint = client.get(
        f"/api/v1/audit/checkpoints/{response.headers['X-Audit-Checkpoint']}", headers=world.auth("auditor")
    ).get_data(as_text=True)
    root_hex = document["checkpoint"]["root_hash"]
    assert document["checkpoint"]["tree_size"] == int(response.headers["X-Audit-Checkpoint"])

    assert base64.b64encode(bytes.fromhex(root_hex)).decode() in checkpoint  # the signed note's root
    assert root_hex in text.replace("\n", "")
    metadata = pypdf.PdfReader(io.BytesIO(pdf)).xmp_metadata
    assert metadata is not None
    xml = metadata.rdf_root.toxml()
    assert 'pdfaid:part="3"' in xml
    assert 'pdfaid:conformance="B"' in xml
    # Tagged for screen readers: the figures' tables keep their rows, header cells and cells.
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert bool(reader.trailer["/Root"]["/MarkInfo"]["/Marked"])
    tags = _structure_tags(reader.trailer["/Root"]["/StructTreeRoot"])
    assert {"/H1", "/P", "/Table", "/TR", "/TH", "/TD"} <= tags, tags


def _structure_tags(node: Any) -> set[str]:
    """The structure types (``/Table``, ``/TD``…) in a PDF's structure tree."""
    node = node.get_object()
    found: set[str] = set()
    if isinstance(node, pypdf.generic.DictionaryObject):
        if "/S" in node:
            found.add(str(node["/S"]))
        kids = node.get("/K")
        if kids is not None:
            kids = kids.get_object()
            for kid in kids if isinstance(kids, pypdf.generic.ArrayObject) else [kids]:
                found |= _structure_tags(kid)
    return found


def test_the_same_books_and_checkpoint_give_the_same_bytes(
    client: FlaskClient, world: DemoWorld, scenario: dict[str, Any]
) -> None:
    issued = _issue(client, world, scenario, lang="en").data
    document = attached_statement(issued)
    again = render_statement(
        "fund_use.html",
        document["figures"],
        checkpoint_stamp(document),
        title_zh="资金使用情况表",
        title_en="Fund-use statement",
        lang="en",
    )
    assert again == issued


def test_issuing_is_recorded_in_the_audit_trail(
    client: FlaskClient, world: DemoWorld, scenario: dict[str, Any]
) -> None:
    response = _issue(client, world, scenario)
    entries = client.get("/api/v1/audit/entries?after=0&limit=1000", headers=world.auth("auditor")).get_json()
    parsed = [json.loads(base64.b64decode(e["canonical"])) for e in entries["entries"]]
    issued = [e for e in parsed if e["action"] == "statement.issued"]
    assert len(issued) == 1
    assert issued[0]["subject"] == {"type": "fund", "id": scenario["id"]}
    assert issued[0]["data"]["sha256"] == response.headers["X-Statement-SHA256"]
    assert issued[0]["data"]["checkpoint_size"] == int(response.headers["X-Audit-Checkpoint"])


@pytest.mark.slow
# Rendering a long document does not depend on the database: checked once, on the SQLite run.
@pytest.mark.skipif(is_postgres(), reason="rendering is checked on the SQLite run")
def test_a_statement_with_2000_expense_lines_renders(
    client: FlaskClient, world: DemoWorld, scenario: dict[str, Any]
) -> None:
    document = attached_statement(_issue(client, world, scenario).data)
    figures = document["figures"]
    template = figures["vouchers"][0]
    figures["vouchers"] = [
        {**template, "line": n, "payee": f"收款方 Payee {n:04d}", "description": f"第 {n} 笔 item {n}"}
        for n in range(1, 2001)
    ]
    pdf = render_statement(
        "fund_use.html",
        figures,
        checkpoint_stamp(document),
        title_zh="资金使用情况表",
        title_en="Fund-use statement",
    )
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    assert pages > 30
    last = reader.pages[-1].extract_text()
    assert f"共 {pages} 页" in last
    # The table header repeats on every page the voucher list runs over.
    assert all("收款方" in reader.pages[n].extract_text() for n in range(2, pages - 1))
    assert "Payee 2000" in _text(pdf)


def test_the_organisation_statements_pdf(
    client: FlaskClient, world: DemoWorld, scenario: dict[str, Any]
) -> None:
    organisation = world.member_organisation["member01"]
    url = f"/api/v1/organisations/{organisation}/statements/financial"
    figures = client.get(f"{url}?period={PERIOD}", headers=world.auth("member01")).get_json()
    assert figures["balance_sheet"]["balanced"] is True
    response = client.post(url, json={"period": PERIOD}, headers=world.auth("finance1"))
    assert response.status_code == 200
    text = _text(response.data)
    for shown in (
        "资产负债表",
        "业务活动表",
        "会民非01表",
        "会民非02表",
        "资产总计",
        "36,500.00",
        "40,000.00",
        "3,500.00",
    ):
        assert shown in text, shown
    assert attached_statement(response.data)["figures"] == figures


def test_the_lottery_disclosure(client: FlaskClient, world: DemoWorld, scenario: dict[str, Any]) -> None:
    funder = "武汉市民政局 Wuhan Civil Affairs Bureau"
    query = {"funder": funder, "year": 2026}
    figures = client.get(
        "/api/v1/statements/lottery-disclosure", query_string=query, headers=world.auth("auditor")
    ).get_json()
    assert figures["scale"]["projects"] == 1
    assert figures["scale"]["spent_in_year"] == "3500.00"
    assert figures["projects"][0]["label"] == "彩票公益金资助"
    response = client.post(
        "/api/v1/statements/lottery-disclosure", json=query, headers=world.auth("finance2")
    )
    assert response.status_code == 200
    text = _text(response.data)
    assert "彩票公益金使用情况公告" in text
    assert scenario["reference"] in text
    assert "3,500.00" in text
    assert_problem(
        client.get(
            "/api/v1/statements/lottery-disclosure",
            query_string={"funder": "nobody", "year": 2026},
            headers=world.auth("auditor"),
        ),
        422,
        "funder",
    )
    assert_problem(
        client.get(
            "/api/v1/statements/lottery-disclosure", query_string=query, headers=world.auth("member01")
        ),
        403,
    )


def test_the_audit_attestation(client: FlaskClient, world: DemoWorld, scenario: dict[str, Any]) -> None:
    figures = client.get("/api/v1/audit/attestation", headers=world.auth("auditor")).get_json()
    assert figures["result"] == "verified"
    assert all(check["ok"] for check in figures["checks"])
    response = client.post("/api/v1/audit/attestation", json={"lang": "en"}, headers=world.auth("auditor"))
    assert response.status_code == 200
    text = _text(response.data)
    assert "Verified" in text
    assert "验证通过" in text
    size = int(response.headers["X-Audit-Checkpoint"])
    assert attached_statement(response.data)["figures"]["log"]["entries_checked"] >= size
    for user in ("member01", "finance1"):
        assert_problem(client.post("/api/v1/audit/attestation", json={}, headers=world.auth(user)), 403)


def test_nobody_reads_another_organisations_statement(
    app: Flask, client: FlaskClient, world: DemoWorld, scenario: dict[str, Any]
) -> None:
    own = world.member_organisation["member01"]
    before = table_counts(app)
    for user in ("member02", "member03"):
        assert_problem(_issue(client, world, scenario, user=user), 403)
        assert_problem(
            client.get(
                f"/api/v1/funds/{scenario['id']}/statements/fund-use?period={PERIOD}",
                headers=world.auth(user),
            ),
            403,
        )
        assert_problem(
            client.post(
                f"/api/v1/organisations/{own}/statements/financial",
                json={"period": PERIOD},
                headers=world.auth(user),
            ),
            403,
        )
    assert table_counts(app) == before
    assert _issue(client, world, scenario, user="member01").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": "2026-13..2026-12"}, "period"),
        ({"period": "2026-12..2026-01"}, "period"),
        ({"period": "2026"}, "period"),
        ({"period": "1999-01..1999-12"}, "period"),
        ({"period": PERIOD, "lang": "fr"}, "lang"),
        ({}, "period"),
    ],
)
def test_bad_requests_write_nothing(
    app: Flask,
    client: FlaskClient,
    world: DemoWorld,
    scenario: dict[str, Any],
    body: dict[str, str],
    field: str,
) -> None:
    before = table_counts(app)
    response = client.post(
        f"/api/v1/funds/{scenario['id']}/statements/fund-use", json=body, headers=world.auth("finance1")
    )
    assert_problem(response, 422, field)
    assert table_counts(app) == before


def test_templates_load_nothing_from_outside() -> None:
    from weasyprint.urls import FatalURLFetchingError

    from ledger.statements.render import _refusing_fetcher

    fetcher = _refusing_fetcher()
    for url in ("file:///etc/passwd", "http://example.com/x.png", "https://127.0.0.1/", "data:text/plain,hi"):
        with pytest.raises(FatalURLFetchingError):
            fetcher.fetch(url)


def test_the_cli_writes_the_statements(
    runner: FlaskCliRunner, client: FlaskClient, world: DemoWorld, scenario: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "fund.pdf"
    result = runner.invoke(args=["statement", "fund", scenario["id"], "--period", PERIOD, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert re.search(r"drawn from audit checkpoint \d+", result.output)
    organisation = tmp_path / "organisation.pdf"
    result = runner.invoke(
        args=[
            "statement",
            "organisation",
            world.member_organisation["member01"],
            "--period",
            PERIOD,
            "--out",
            str(organisation),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "资产负债表" in _text(organisation.read_bytes())
    bad = runner.invoke(
        args=["statement", "fund", scenario["id"], "--period", "2026-13..2026-12", "--out", str(out)]
    )
    assert bad.exit_code == 1
    assert "period" in bad.output
