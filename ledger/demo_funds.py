"""The demo's money: three funds of the three kinds, with budgets, tranches, payments and reports.

What is due comes with them: activation writes each fund's requirements, the filings below fulfil
some (the elders' interim report and its tranche condition are done), the interim reports of the
other two funds are overdue, and an annual report added relative to today is due soon.

Everything goes through the services as the real roles would (admin drafts and activates,
finance officers prepare, approve and pay, bookkeepers file reports with receipts), so the demo's
books, reports and audit trail are exactly what real use would leave. The builders here
(``active_fund``, ``pay_tranche``, ``file_report``) are also what scenario tests use.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ledger.business_dates import business_today
from ledger.extensions import db
from ledger.models.books import PeriodStatus
from ledger.models.disbursement import DisbursementKind, TrancheCondition
from ledger.models.fund import FundKind
from ledger.models.requirement import Requirement, RequirementKind
from ledger.models.user import User
from ledger.money import Money
from ledger.services import (
    budget_revisions,
    disbursements,
    expense_decisions,
    expense_lines,
    expense_reports,
    funds,
    notification_preferences,
    requirements,
    webhooks,
)
from ledger.services.access import Actor
from ledger.services.ocds_publication import publish_ocds
from ledger.services.periods import set_period_status
from ledger.services.receipts import upload_receipt


@dataclass(frozen=True)
class DemoFunds:
    funds: int
    reports: int
    disbursements: int


def actor_named(username: str) -> Actor:
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    return Actor.of(user)


def cny(text: str) -> Money:
    return Money.parse(text, "CNY")


def receipt_pdf(label: str) -> bytes:
    """A small, valid one-page PDF standing in for a scanned invoice (发票)."""
    text = f"Demo receipt {label}".replace("(", "[").replace(")", "]")
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    return (
        b"%PDF-1.4\n"
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >> endobj\n"
        + f"4 0 obj << /Length {len(stream)} >> stream\n".encode()
        + stream
        + b"\nendstream endobj\n"
        b"5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def active_fund(
    admin: Actor,
    organisation_id: uuid.UUID,
    kind: FundKind,
    title: str,
    reference: str,
    funder: str,
    award: str,
    budget: dict[str, str],
    tranches: list[tuple[str, date, TrancheCondition]],
    **terms: object,
) -> uuid.UUID:
    fund = funds.create_fund(
        admin,
        funds.FundTerms(
            kind=kind,
            title=title,
            reference=reference,
            funder_name=funder,
            organisation_id=organisation_id,
            award=cny(award),
            **{"period_start": date(2026, 1, 1), "period_end": date(2026, 12, 31), **terms},  # type: ignore[arg-type]
        ),
        f"demo-fund-{reference}",
    ).thing
    funds.set_draft_budget(admin, fund.id, {code: cny(amount) for code, amount in budget.items()})
    disbursements.set_tranches(
        admin, fund.id, [disbursements.TrancheTerms(cny(a), due, cond) for a, due, cond in tranches]
    )
    funds.change_fund_status(admin, fund.id, "activate", None)
    return fund.id


def pay_tranche(fund_id: uuid.UUID, number: int, paid_on: date | None, key: str) -> uuid.UUID:
    """Tranche ``number`` prepared by finance1, approved by finance2, paid on ``paid_on`` (if given)."""
    finance1, finance2 = actor_named("finance1"), actor_named("finance2")
    tranche = next(t for t in disbursements.list_tranches(finance1, fund_id) if t.number == number)
    prepared = disbursements.prepare_disbursement(
        finance1,
        fund_id,
        disbursements.DisbursementRequest(
            DisbursementKind.TRANCHE_ADVANCE,
            Money("CNY", tranche.amount_minor),
            f"第{number}期拨款 tranche {number}",
            tranche.id,
        ),
        key,
    ).disbursement
    disbursements.approve_disbursement(finance2, prepared.id)
    if paid_on is not None:
        disbursements.mark_paid(finance1, prepared.id, f"ICBC-{paid_on:%Y%m%d}-{number:03d}", paid_on)
    return prepared.id


def file_report(
    member: str,
    fund_id: uuid.UUID,
    title: str,
    lines: list[tuple[str, str, date, str, str]],
    *,
    interim: bool = False,
    invoices: dict[int, dict[str, Any]] | None = None,
) -> uuid.UUID:
    """A report by ``member``; ``invoices`` gives a line (by index) its invoice's fields."""
    actor = actor_named(member)
    report = expense_reports.create_report(actor, fund_id, title, interim, f"{fund_id}:{title}").report
    inputs = []
    for index, (category, amount, incurred, payee, description) in enumerate(lines):
        receipt = upload_receipt(
            actor, report.organisation_id, receipt_pdf(f"{title} #{index + 1} {amount} CNY")
        )
        inputs.append(
            expense_lines.LineInput(
                category,
                cny(amount),
                incurred,
                payee,
                description,
                receipt.sha256,
                **(invoices or {}).get(index, {}),
            )
        )
    expense_lines.set_lines(actor, report.id, inputs, None)
    return report.id


def create_demo_funds(organisation_by_member: dict[str, uuid.UUID]) -> DemoFunds:
    admin, finance1 = actor_named("admin"), actor_named("finance1")
    march, april = date(2026, 3, 12), date(2026, 4, 8)

    elders = active_fund(
        admin,
        organisation_by_member["member01"],
        FundKind.LOTTERY_GRANT,
        "社区居家养老服务项目 Home care for elders",
        "FC-WH-2026-017",
        "武汉市民政局（福彩公益金）Wuhan Civil Affairs Bureau, welfare lottery fund",
        "100000.00",
        {"ACTIVITY": "60000.00", "PERSONNEL": "30000.00", "OFFICE": "10000.00"},
        [
            ("40000.00", date(2026, 1, 15), TrancheCondition.NONE),
            ("40000.00", date(2026, 6, 15), TrancheCondition.APPROVED_INTERIM_REPORT),
            ("20000.00", date(2026, 12, 1), TrancheCondition.NONE),
        ],
        restriction_purpose="居家养老上门服务 home visits for elders living alone",
        admin_cost_cap_percent=Decimal("10"),
        banned_categories=("FUNDRAISING",),
        disclosure_deadline=date(2027, 6, 30),
        funding_division_code="420100000000",  # 武汉市: the city's lottery fund
    )
    pay_tranche(elders, 1, date(2026, 1, 16), "demo-elders-1")
    approved = file_report(
        "member01",
        elders,
        "一季度中期报销 Q1 interim report",
        [
            (
                "ACTIVITY",
                "3200.00",
                march,
                "武汉康乐家政服务有限公司",
                "上门助浴服务 bathing assistance visits",
            ),
            ("PERSONNEL", "4500.00", march, "社工 Li Hua", "三月社工劳务 social worker, March"),
            ("OFFICE", "380.00", march, "晨光文具", "服务记录表印制 service record forms"),
        ],
        interim=True,
        invoices={
            0: {
                "receipt_kind": "digital_invoice",
                "invoice_number": "26422000000004471201",
                "invoice_date": march,
                "invoice_amount": cny("3200.00"),
                "seller_name": "武汉康乐家政服务有限公司",
                "seller_taxpayer_id": "91420102MA4L00001B",
            },
            2: {
                "receipt_kind": "vat_invoice",
                "invoice_code": "042002300111",
                "invoice_number": "30518822",
                "invoice_date": march,
                "invoice_amount": cny("380.00"),
                "seller_name": "晨光文具",
            },
        },
    )
    expense_decisions.submit_report(actor_named("member01"), approved, None)
    expense_decisions.approve_report(finance1, approved, None)
    pay_tranche(elders, 2, date(2026, 6, 18), "demo-elders-2")
    submitted = file_report(
        "member01",
        elders,
        "四月报销 April report",
        [("ACTIVITY", "2600.00", april, "武汉康乐家政服务有限公司", "四月助浴 bathing, April")],
    )
    expense_decisions.submit_report(actor_named("member01"), submitted, None)
    returned = file_report(
        "member01",
        elders,
        "四月餐费 April meals",
        [("ACTIVITY", "820.00", april, "百步亭社区食堂", "助餐 meals for elders")],
    )
    expense_decisions.submit_report(actor_named("member01"), returned, None)
    expense_decisions.return_report(finance1, returned, "请补充签到表 please attach the sign-in sheet", None)
    rejected = file_report(
        "member01",
        elders,
        "节日慰问品 festival gifts",
        [("ACTIVITY", "1500.00", april, "超市", "节日礼品 festival gifts")],
    )
    expense_decisions.submit_report(actor_named("member01"), rejected, None)
    expense_decisions.reject_report(
        finance1, rejected, "礼品不在资助范围 gifts are outside the grant's purpose", None
    )
    file_report(
        "member01",
        elders,
        "五月报销（草稿）May draft",
        [("OFFICE", "120.00", date(2026, 5, 6), "晨光文具", "文具 stationery")],
    )
    set_period_status(finance1, organisation_by_member["member01"], 2026, 1, PeriodStatus.CLOSED, None, None)

    after_school = active_fund(
        admin,
        organisation_by_member["member08"],
        FundKind.INCUBATION_FUND,
        "四点半课堂孵化项目 After-school club incubation",
        "FH-HP-2026-003",
        "黄陂区社会组织孵化基地 Huangpi incubation centre",
        "50000.00",
        {"ACTIVITY": "30000.00", "SUPPLIES": "15000.00", "OFFICE": "5000.00"},
        [("50000.00", date(2026, 3, 1), TrancheCondition.NONE)],
        restriction_purpose="课后托管 after-school care",
        admin_cost_cap_percent=Decimal("10"),
        funding_division_code="420116000000",  # 黄陂区: the district's incubation centre
    )
    pay_tranche(after_school, 1, None, "demo-after-school-1")  # approved, not yet paid
    # More than 10 % of the award moved between lines: waits for a finance officer's decision.
    budget_revisions.propose_budget_revision(
        actor_named("member08"),
        after_school,
        {"ACTIVITY": Money.parse("-6000.00", "CNY"), "SUPPLIES": Money.parse("6000.00", "CNY")},
        "多招募两个班，需要更多教具 two more classes need more supplies",
        "demo-after-school-revision",
    )

    rehabilitation = active_fund(
        admin,
        organisation_by_member["member04"],
        FundKind.PROCUREMENT_CONTRACT,
        "残障人士社区康复服务采购 Community rehabilitation services",
        "JA-ZFCG-2026-0088",
        "江岸区民政局 Jiang'an Civil Affairs Bureau",
        "300000.00",
        {"CONTRACTED": "150000.00", "PERSONNEL": "120000.00", "ACTIVITY": "30000.00"},
        [
            ("150000.00", date(2026, 2, 1), TrancheCondition.NONE),
            ("90000.00", date(2026, 7, 1), TrancheCondition.NONE),
            ("60000.00", date(2026, 12, 15), TrancheCondition.NONE),
        ],
        restricted=False,
        revenue_account="4301",
        funding_division_code="420102000000",  # 江岸区: the district bureau's procurement budget
        milestones=(
            {"name": "合同签订 contract signed", "due_date": "2026-02-01", "amount": "150000.00"},
            {"name": "中期评估 interim assessment", "due_date": "2026-07-01", "amount": "90000.00"},
            {"name": "终期验收 final acceptance", "due_date": "2026-12-15", "amount": "60000.00"},
        ),
    )
    pay_tranche(rehabilitation, 1, date(2026, 2, 3), "demo-rehab-1")
    # The first deliverable was accepted; the interim assessment is overdue, the last one upcoming.
    signed = db.session.scalar(
        select(Requirement.id)
        .where(Requirement.fund_id == rehabilitation, Requirement.kind == RequirementKind.DELIVERABLE.value)
        .order_by(Requirement.milestone_number)
    )
    assert signed is not None
    requirements.mark_requirement_done(finance1, signed, "合同已签订并报区财政局备案")
    rehab_report = file_report(
        "member04",
        rehabilitation,
        "康复训练服务 rehabilitation sessions, March",
        [
            (
                "CONTRACTED",
                "12000.00",
                march,
                "武汉康复医学中心",
                "康复训练 20 人次 20 rehabilitation sessions",
            )
        ],
    )
    expense_decisions.submit_report(actor_named("member04"), rehab_report, None)
    expense_decisions.approve_report(actor_named("finance2"), rehab_report, None)
    # Two weeks from the day the demo is made, so that `make run` always shows something due soon.
    requirements.add_requirement(
        finance1,
        elders,
        requirements.RequirementInput(
            RequirementKind.ANNUAL_REPORT, due_on=business_today() + timedelta(days=14), covers_year=2025
        ),
    )
    choose_demo_notifications()
    # The hub publishes its procurement contract's OCDS releases, as a deployment would.
    publish_ocds(admin)
    return DemoFunds(funds=3, reports=7, disbursements=5)


# Who in the demo is told by mail (kept at /dev/outbox in development), and how.
DEMO_MAIL = {
    "finance1": ("finance1@example.org", "each", "zh"),
    "finance2": ("finance2@example.org", "digest", "zh"),
    "member01": ("member01@example.org", "each", "en"),
}


def choose_demo_notifications() -> None:
    """``DEMO_MAIL``'s people choose how they are told (as on the notifications page), and the admin
    shows a webhook registered and then removed (so the demo calls no one's server)."""
    for username, (email, mode, language) in DEMO_MAIL.items():
        notification_preferences.set_preferences(
            actor_named(username), email=email, email_mode=mode, language=language, expected_version=0
        )
    admin = actor_named("admin")
    made = webhooks.register_webhook(admin, "https://example.org/ledger-hooks", ["disbursement.paid"])
    webhooks.remove_webhook(admin, made.endpoint.id)
