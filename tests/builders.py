"""Builders shared by the tests: funds, disbursements, receipts, expense reports, books and division lists,
made through the API as a person would make them.

Tests import builders from here (and fixtures from ``tests.conftest``, helpers from
``tests.helpers``), never from another test module: ``tests/test_imports.py`` checks that.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask.testing import FlaskClient
from openpyxl import Workbook

from ledger.demo import demo_credit_code
from ledger.extensions import db
from ledger.models import Community
from ledger.models.organisation import RegistrationType
from tests.conftest import DemoWorld

# --- Organisations ------------------------------------------------------------------------------

# A street (街道) in the shipped division list (CFL-ILLUSTRATIVE-2024): filed organisations' office.
FILING_OFFICE = "420102012000"  # 后湖街道, the street of the demo's first community


def filed_organisation_body(world: DemoWorld, **changes: Any) -> dict[str, Any]:
    """A filed (备案) organisation's input: filed on 2025-03-01 in the demo's first community, with the
    office of the street it lies in (后湖街道 for 百步亭花园社区)."""
    with world.app.app_context():
        community = db.session.get(Community, uuid.UUID(world.community_ids[0]))
        assert community is not None
        office = community.code[:9] + "000"
    body: dict[str, Any] = {
        "status": "filed",
        "name": "百步亭社区文体队",
        "filing_number": "后湖备字2025第001号",
        "filing_office_code": office,
        "filed_on": "2025-03-01",
        "filing_category": "culture_sports",
        "community_id": world.community_ids[0],
    }
    body.update(changes)
    return body


def filed_organisation(client: FlaskClient, world: DemoWorld, **changes: Any) -> dict[str, Any]:
    """A filed organisation made through the API (as the admin); its body as the API returns it."""
    response = client.post(
        "/api/v1/organisations", json=filed_organisation_body(world, **changes), headers=world.keyed("admin")
    )
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


# --- Funds -------------------------------------------------------------------------------------


def fund_terms(world: DemoWorld, **changes: Any) -> dict[str, Any]:
    """The terms of a restricted lottery grant to member01's organisation (100,000.00 for 2026), with ``changes``."""
    terms: dict[str, Any] = {
        "kind": "lottery_grant",
        "title": "社区居家养老服务项目 Home care for elders",
        "reference": "FC-2026-001",
        "funder_name": "武汉市民政局 Wuhan Civil Affairs Bureau",
        "organisation_id": world.member_organisation["member01"],
        "award": "100000.00",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "restricted": True,
        "restriction_purpose": "居家养老服务 home care for elders",
        "admin_cost_cap_percent": "10",
        "banned_categories": ["FUNDRAISING"],
        "disclosure_deadline": "2027-06-30",
    }
    terms.update(changes)
    return terms


BUDGET = {"ACTIVITY": "60000.00", "PERSONNEL": "30000.00", "OFFICE": "10000.00"}


def draft_fund(client: FlaskClient, world: DemoWorld, **changes: Any) -> dict[str, Any]:
    """A fund drafted by admin through the API, as the API returned it."""
    response = client.post("/api/v1/funds", json=fund_terms(world, **changes), headers=world.keyed("admin"))
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def activated_fund(client: FlaskClient, world: DemoWorld, **changes: Any) -> dict[str, Any]:
    """A drafted fund with ``BUDGET`` set, activated."""
    fund = draft_fund(client, world, **changes)
    admin = world.auth("admin")
    assert (
        client.put(f"/api/v1/funds/{fund['id']}/budget", json={"lines": BUDGET}, headers=admin).status_code
        == 200
    )
    activated = client.post(f"/api/v1/funds/{fund['id']}/activate", headers={**admin, "If-Match": '"1"'})
    assert activated.status_code == 200, activated.get_json()
    return dict(activated.get_json())


# --- Disbursements -----------------------------------------------------------------------------


SCHEDULE = [
    {"amount": "40000.00", "due_date": "2026-01-15"},
    {"amount": "40000.00", "due_date": "2026-06-15", "condition": "approved_interim_report"},
    {"amount": "20000.00", "due_date": "2026-12-01"},
]


def fund_with_schedule(client: FlaskClient, world: DemoWorld) -> dict[str, Any]:
    """An active fund with ``BUDGET`` and the three tranches of ``SCHEDULE``; ``fund['tranches']`` holds them."""
    fund = draft_fund(client, world)
    admin = world.auth("admin")
    url = f"/api/v1/funds/{fund['id']}"
    assert client.put(f"{url}/budget", json={"lines": BUDGET}, headers=admin).status_code == 200
    tranches = client.put(f"{url}/tranches", json={"tranches": SCHEDULE}, headers=admin)
    assert tranches.status_code == 200, tranches.get_json()
    client.post(f"{url}/activate", headers={**admin, "If-Match": "*"})
    fund["tranches"] = tranches.get_json()
    return fund


def prepare_disbursement(
    client: FlaskClient,
    world: DemoWorld,
    fund: dict[str, Any],
    body: dict[str, Any],
    key: str,
    user: str = "finance1",
) -> Any:
    """The response to preparing a disbursement of ``fund`` with ``body`` under Idempotency-Key ``key``."""
    return client.post(
        f"/api/v1/funds/{fund['id']}/disbursements",
        json=body,
        headers={**world.auth(user), "Idempotency-Key": key},
    )


def first_tranche(fund: dict[str, Any]) -> dict[str, Any]:
    """The body of a disbursement that advances the fund's first tranche (40,000.00)."""
    return {
        "kind": "tranche_advance",
        "amount": "40000.00",
        "memo": "第一期拨款 first tranche",
        "tranche_id": fund["tranches"][0]["id"],
    }


# --- Receipts and expense reports --------------------------------------------------------------


def receipt_pdf(marker: str | None = None) -> bytes:
    """A tiny PDF receipt, distinct for each ``marker`` (a random one if none is given)."""
    marker = marker or uuid.uuid4().hex
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
        + f"% receipt {marker}\n".encode()
        + b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def post_receipt(
    client: FlaskClient, world: DemoWorld, data: bytes, user: str = "member01", member: str = "member01"
) -> Any:
    """The response to uploading ``data`` as a receipt of ``member``'s organisation, sent by ``user``."""
    organisation = world.member_organisation[member]
    return client.post(
        f"/api/v1/organisations/{organisation}/receipts",
        data={"file": (io.BytesIO(data), "receipt.pdf")},
        content_type="multipart/form-data",
        headers=world.auth(user),
    )


def uploaded_receipt(client: FlaskClient, world: DemoWorld) -> str:
    """The SHA-256 of a fresh receipt uploaded by member01."""
    response = post_receipt(client, world, receipt_pdf())
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["sha256"])


def report_line(
    client: FlaskClient, world: DemoWorld, category: str, amount: str, **changes: Any
) -> dict[str, Any]:
    """An expense-report line of ``amount`` in ``category`` with a fresh receipt, with ``changes``."""
    line = {
        "category_code": category,
        "amount": amount,
        "incurred_on": "2026-03-10",
        "payee": "武汉某某印务 Printer Co.",
        "description": "活动物资 activity materials",
        "receipt_sha256": uploaded_receipt(client, world),
    }
    line.update(changes)
    return line


def empty_report(client: FlaskClient, world: DemoWorld, fund: dict[str, Any], title: str) -> str:
    """The id of a new draft expense report by member01 on ``fund``, with no lines yet."""
    made = client.post(
        f"/api/v1/funds/{fund['id']}/expense-reports", json={"title": title}, headers=world.keyed("member01")
    )
    assert made.status_code == 201, made.get_json()
    return str(made.get_json()["id"])


def draft_report(
    client: FlaskClient, world: DemoWorld, fund: dict[str, Any], lines: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A draft expense report by member01 on ``fund`` holding ``lines``, after its lines are saved."""
    created = client.post(
        f"/api/v1/funds/{fund['id']}/expense-reports",
        json={"title": "三月报销 March", **extra},
        headers=world.keyed("member01"),
    )
    assert created.status_code == 201, created.get_json()
    report = created.get_json()
    url = f"/api/v1/expense-reports/{report['id']}"
    response = client.put(
        f"{url}/lines",
        json={"lines": lines},
        headers={**world.auth("member01"), "If-Match": f'"{report["version"]}"'},
    )
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


# --- Money paid out ----------------------------------------------------------------------------


ADJUSTMENT = {
    "date": "2026-03-15",
    "description": "银行利息 Bank interest",
    "lines": [
        {"account_code": "1002", "side": "debit", "amount": "12.50"},
        {"account_code": "4601", "side": "credit", "amount": "12.50"},
    ],
    "cash_flow_line": "investment_income_received",
}


def paid_fund(client: FlaskClient, world: DemoWorld) -> dict[str, Any]:
    """An active fund whose first tranche (40,000.00) has been paid, so it has money to refund."""
    fund = fund_with_schedule(client, world)
    disbursement = prepare_disbursement(client, world, fund, first_tranche(fund), "first").get_json()
    url = f"/api/v1/disbursements/{disbursement['id']}"
    assert client.post(f"{url}/approve", headers=world.auth("finance2")).status_code == 200
    paid = client.post(
        f"{url}/pay",
        json={"bank_reference": "ICBC-1", "paid_on": "2026-01-16"},
        headers=world.auth("finance1"),
    )
    assert paid.status_code == 200, paid.get_json()
    return fund


# --- Whole steps of a fund's life --------------------------------------------------------------


def approve_and_pay_tranche(
    client: FlaskClient,
    world: DemoWorld,
    fund: dict[str, Any],
    tranche: dict[str, Any],
    key: str,
    paid_on: str,
) -> None:
    """Prepare (finance1), approve (finance2) and pay (finance1) ``tranche`` of ``fund`` on ``paid_on``."""
    body = {
        "kind": "tranche_advance",
        "amount": tranche["amount"],
        "memo": f"tranche {tranche['number']}",
        "tranche_id": tranche["id"],
    }
    prepared = client.post(
        f"/api/v1/funds/{fund['id']}/disbursements",
        json=body,
        headers={**world.auth("finance1"), "Idempotency-Key": key},
    ).get_json()
    assert (
        client.post(
            f"/api/v1/disbursements/{prepared['id']}/approve", headers=world.auth("finance2")
        ).status_code
        == 200
    )
    paid = client.post(
        f"/api/v1/disbursements/{prepared['id']}/pay",
        json={"bank_reference": key, "paid_on": paid_on},
        headers=world.auth("finance1"),
    )
    assert paid.status_code == 200, paid.get_json()


def file_and_approve_report(
    client: FlaskClient, world: DemoWorld, fund: dict[str, Any], member: str, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """A report by ``member`` on ``fund`` holding ``lines``, submitted and approved by finance2."""
    report = client.post(
        f"/api/v1/funds/{fund['id']}/expense-reports", json={"title": "报销"}, headers=world.keyed(member)
    ).get_json()
    url = f"/api/v1/expense-reports/{report['id']}"
    client.put(f"{url}/lines", json={"lines": lines}, headers={**world.auth(member), "If-Match": "*"})
    assert client.post(f"{url}/submit", headers=world.auth(member)).status_code == 200
    approved = client.post(f"{url}/approve", headers=world.auth("finance2"))
    assert approved.status_code == 200, approved.get_json()
    return dict(approved.get_json())


# --- Books with known figures ------------------------------------------------------------------


def restricted_grant(
    client: FlaskClient, world: DemoWorld, first_tranche: str, budget: dict[str, str] = BUDGET
) -> dict[str, Any]:
    """An active restricted lottery grant to member01 (revenue account 4401), first tranche given."""
    fund = draft_fund(client, world)
    admin = world.auth("admin")
    url = f"/api/v1/funds/{fund['id']}"
    assert client.put(f"{url}/budget", json={"lines": budget}, headers=admin).status_code == 200
    rest = f"{100000 - int(first_tranche.split('.')[0])}.00"
    schedule = [
        {"amount": first_tranche, "due_date": "2026-01-15"},
        {"amount": rest, "due_date": "2026-12-01"},
    ]
    tranches = client.put(f"{url}/tranches", json={"tranches": schedule}, headers=admin)
    assert tranches.status_code == 200, tranches.get_json()
    assert client.post(f"{url}/activate", headers={**admin, "If-Match": "*"}).status_code == 200
    fund["tranches"] = tranches.get_json()
    return fund


def active_contract(
    client: FlaskClient, world: DemoWorld, tranches: list[tuple[str, str]], **changes: Any
) -> dict[str, Any]:
    """An active procurement contract of 100,000.00 (ACTIVITY) paid in ``tranches`` of
    (amount, due date); ``contract['tranches']`` holds them as the API returned them."""
    contract = draft_fund(client, world, kind="procurement_contract", **changes)
    admin = world.auth("admin")
    url = f"/api/v1/funds/{contract['id']}"
    assert (
        client.put(f"{url}/budget", json={"lines": {"ACTIVITY": "100000.00"}}, headers=admin).status_code
        == 200
    )
    schedule = {"tranches": [{"amount": amount, "due_date": due} for amount, due in tranches]}
    contract["tranches"] = client.put(f"{url}/tranches", json=schedule, headers=admin).get_json()
    assert client.post(f"{url}/activate", headers={**admin, "If-Match": "*"}).status_code == 200
    return contract


def pay_first_tranche(client: FlaskClient, world: DemoWorld, fund: dict[str, Any], paid_on: str) -> str:
    """Pay the fund's first tranche; returns the disbursement's id."""
    tranche = fund["tranches"][0]
    body = {
        "kind": "tranche_advance",
        "amount": tranche["amount"],
        "memo": "tranche 1",
        "tranche_id": tranche["id"],
    }
    prepared = client.post(
        f"/api/v1/funds/{fund['id']}/disbursements", json=body, headers=world.keyed("finance1")
    )
    assert prepared.status_code == 201, prepared.get_json()
    disbursement = prepared.get_json()["id"]
    approved = client.post(f"/api/v1/disbursements/{disbursement}/approve", headers=world.auth("finance2"))
    assert approved.status_code == 200, approved.get_json()
    paid = client.post(
        f"/api/v1/disbursements/{disbursement}/pay",
        json={"bank_reference": f"ICBC-{paid_on}", "paid_on": paid_on},
        headers=world.auth("finance1"),
    )
    assert paid.status_code == 200, paid.get_json()
    return str(disbursement)


def reverse_entry(client: FlaskClient, world: DemoWorld, entry_id: str, on: str) -> None:
    """Reverse journal entry ``entry_id`` on ``on`` (posted in error)."""
    reversed_ = client.post(
        f"/api/v1/journal-entries/{entry_id}/reversal",
        json={"date": on, "reason": "posted in error"},
        headers=world.auth("finance1"),
    )
    assert reversed_.status_code == 201, reversed_.get_json()


def hand_built_books(client: FlaskClient, world: DemoWorld) -> str:
    """member01's books for the cash-flow statement; returns the organisation id.

    2025-12-15  membership dues 100.00 in cash (1001), line dues_received: the 2026 opening cash
    2026-01-16  the lottery grant (4401) pays its first tranche, 1,000.00, into 1002
    2026-02-10  a donation of 500.00 into 1002, line donations_received
    2026-02-12  a donation of 200.00 into 1002, line donations_received ...
    2026-02-20  ... reversed: it was posted in error
    2026-03-10  an expense report of 300.00 approved and paid from 1002: PERSONNEL 100.00 (staff),
                ACTIVITY 200.00 (goods and services)
    2026-04-30  a laptop for 80.00 paid from 1002, line fixed_assets_paid
    2026-05-05  30.00 drawn from the bank into petty cash (Dr 1001 / Cr 1002), line
                other_operating_paid: cash moves between cash accounts, so the line nets to zero
    2026-06-01  50.00 of the grant refunded to the funder from 1002
    """
    organisation = world.member_organisation[MEMBER]
    post_adjustment(client, world, organisation, "2025-12-15", "会费 dues", [("1001", "debit", "100.00"), ("4201", "credit", "100.00")], cash_flow_line="dues_received")  # fmt: skip
    fund = restricted_grant(client, world, "1000.00")
    pay_first_tranche(client, world, fund, "2026-01-16")
    post_adjustment(client, world, organisation, "2026-02-10", "捐赠 donation", [("1002", "debit", "500.00"), ("4101", "credit", "500.00")], cash_flow_line="donations_received")  # fmt: skip
    mistaken = post_adjustment(client, world, organisation, "2026-02-12", "捐赠 donation", [("1002", "debit", "200.00"), ("4101", "credit", "200.00")], cash_flow_line="donations_received")  # fmt: skip
    reverse_entry(client, world, mistaken["id"], "2026-02-20")
    lines = [
        report_line(client, world, "PERSONNEL", "100.00"),
        report_line(client, world, "ACTIVITY", "200.00"),
    ]
    file_and_approve_report(client, world, fund, MEMBER, lines)
    post_adjustment(client, world, organisation, "2026-04-30", "笔记本电脑 laptop", [("1501", "debit", "80.00"), ("1002", "credit", "80.00")], cash_flow_line="fixed_assets_paid")  # fmt: skip
    post_adjustment(client, world, organisation, "2026-05-05", "提现 petty cash", [("1001", "debit", "30.00"), ("1002", "credit", "30.00")], cash_flow_line="other_operating_paid")  # fmt: skip
    refund_to_funder(client, world, fund, "50.00", "2026-06-01")
    return organisation


MEMBER = "member01"  # the organisation fund_with_schedule funds


CASH_ACCOUNTS = ("1001", "1002", "1009")


def cash_flow_line_for(lines: list[tuple[str, str, str]]) -> str | None:
    """The "other operating" line of the cash-flow statement for an entry that moves cash."""
    cash = [side for code, side, _ in lines if code in CASH_ACCOUNTS]
    if not cash:
        return None
    return "other_operating_received" if cash[0] == "debit" else "other_operating_paid"


def post_adjustment(
    client: FlaskClient,
    world: DemoWorld,
    organisation: str,
    on: str,
    description: str,
    lines: list[tuple[str, str, str]],
    currency: str = "CNY",
    cash_flow_line: str | None = None,
) -> dict[str, Any]:
    """Post an adjustment through the API; one that moves cash names its cash-flow line."""
    body: dict[str, Any] = {
        "date": on,
        "description": description,
        "currency": currency,
        "lines": [{"account_code": code, "side": side, "amount": amount} for code, side, amount in lines],
    }
    if (line := cash_flow_line or cash_flow_line_for(lines)) is not None:
        body["cash_flow_line"] = line
    response = client.post(
        f"/api/v1/organisations/{organisation}/journal-entries", json=body, headers=world.keyed("finance1")
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def refund_to_funder(
    client: FlaskClient, world: DemoWorld, fund: dict[str, Any], amount: str, on: str
) -> None:
    """Refund ``amount`` of ``fund`` to its funder on ``on`` (finance2)."""
    body = {"amount": amount, "refunded_on": on, "bank_reference": f"REFUND-{on}"}
    response = client.post(f"/api/v1/funds/{fund['id']}/refund", json=body, headers=world.keyed("finance2"))
    assert response.status_code == 201, response.get_json()


def known_year(client: FlaskClient, world: DemoWorld) -> str:
    """Books for member01 with known figures; returns the organisation id.

    2025: 500.00 membership dues in cash (the 2026 opening balance).
    2026: a restricted lottery grant pays 40,000.00 (4401, restricted); an unrestricted donation
    of 2,000.00; an expense report of 12,000.00 + 6,000.00 programme costs and 1,500.00 office
    costs (5201), which releases 19,500.00 of the restriction (within 4401: the grant was received
    this year, so the release moves it to 4401's unrestricted part); 12.50 bank interest (4601); a
    25.00 bank charge (5301); a 6,000.00 laptop bought on account and 500.00 of depreciation;
    1,000.00 of the grant refunded to the funder.
    """
    organisation = world.member_organisation[MEMBER]
    post_adjustment(client, world, organisation, "2025-12-15", "会费 membership dues", [("1001", "debit", "500.00"), ("4201", "credit", "500.00")], cash_flow_line="dues_received")  # fmt: skip
    fund = fund_with_schedule(client, world)
    approve_and_pay_tranche(client, world, fund, fund["tranches"][0], "ICBC-1", "2026-01-16")
    post_adjustment(client, world, organisation, "2026-02-10", "捐赠 donation", [("1002", "debit", "2000.00"), ("4101", "credit", "2000.00")], cash_flow_line="donations_received")  # fmt: skip
    lines = [
        report_line(client, world, "ACTIVITY", "12000.00"),
        report_line(client, world, "PERSONNEL", "6000.00"),
        report_line(client, world, "OFFICE", "1500.00"),
    ]
    file_and_approve_report(client, world, fund, MEMBER, lines)
    post_adjustment(client, world, organisation, "2026-03-31", "银行利息 bank interest", [("1002", "debit", "12.50"), ("4601", "credit", "12.50")], cash_flow_line="investment_income_received")  # fmt: skip
    post_adjustment(client, world, organisation, "2026-04-30", "银行手续费 bank charge", [("5301", "debit", "25.00"), ("1002", "credit", "25.00")])  # fmt: skip
    post_adjustment(client, world, organisation, "2026-05-20", "笔记本电脑 laptop", [("1501", "debit", "6000.00"), ("2202", "credit", "6000.00")])  # fmt: skip
    post_adjustment(client, world, organisation, "2026-06-30", "折旧 depreciation", [("5201", "debit", "500.00"), ("1502", "credit", "500.00")])  # fmt: skip
    refund_to_funder(client, world, fund, "1000.00", "2026-12-20")
    # Neither another organisation's books nor another currency reach these statements.
    other = world.member_organisation["member02"]
    post_adjustment(client, world, other, "2026-05-01", "elsewhere", [("1002", "debit", "999.00"), ("4101", "credit", "999.00")])  # fmt: skip
    post_adjustment(client, world, organisation, "2026-05-01", "USD gift", [("1002", "debit", "100.00"), ("4101", "credit", "100.00")], currency="USD", cash_flow_line="donations_received")  # fmt: skip
    return organisation


# --- Division lists ----------------------------------------------------------------------------

# A small branch of the tree (Beijing, 朝阳区): a street with an urban community, a township with a village.
DIVISION_HEADER = ["code", "name", "parent", "urban_rural_class"]
DIVISION_TABLE = [
    ["110000000000", "北京市", "", ""],
    ["110100000000", "市辖区", "110000000000", ""],
    ["110105000000", "朝阳区", "110100000000", ""],
    ["110105001000", "建外街道", "110105000000", ""],
    ["110105001001", "永安里社区", "110105001000", "111"],
    ["110105400000", "金盏乡", "110105000000", ""],
    ["110105400201", "金盏村", "110105400000", "220"],
]


def division_csv(table: list[list[str]], *, bom: bool = False) -> bytes:
    """A division list as a UTF-8 CSV file, optionally with a byte-order mark."""
    lines = [",".join(DIVISION_HEADER), *(",".join(row) for row in table)]
    return ("\ufeff" if bom else "").encode("utf-8") + ("\r\n".join(lines) + "\r\n").encode("utf-8")


def division_xlsx(table: list[list[str]]) -> bytes:
    """The same list as an XLSX workbook (blank cells left empty, as a spreadsheet leaves them)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(DIVISION_HEADER)
    for row in table:
        sheet.append([cell or None for cell in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def leaf(number: int) -> str:
    """The code of spare test community ``number`` (1-999) of the test district (see conftest)."""
    assert 1 <= number <= 999
    return f"420199001{number:03d}"


# --- Organisations counted towards coverage ----------------------------------------------------


def added_organisation(
    client: FlaskClient, world: DemoWorld, community_id: str, registration_type: str, serial: int
) -> dict[str, Any]:
    """A new organisation (registered by admin through the API) in the community ``community_id``."""
    body = {
        "name": f"新组织 New organisation {serial}",
        "credit_code": demo_credit_code("420199", RegistrationType(registration_type), 800000 + serial),
        "registration_type": registration_type,
        "community_id": community_id,
    }
    response = client.post("/api/v1/organisations", json=body, headers=world.keyed("admin"))
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())
