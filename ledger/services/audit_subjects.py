"""What the audit trail says about each kind of thing, and how to rebuild it from the trail.

Every change to a community, organisation, user, fund or report is recorded with the thing's
whole state after the change (``{"state": {...}}``, or ``{"state": null}`` when it is removed),
for people reading the trail. Each entry also carries the table rows its action wrote
(``rows``, see ``ledger.replay``): those are what ``ledger audit verify`` rebuilds the tables from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger.audit.trail import record
from ledger.extensions import db
from ledger.models.books import AccountingPeriod
from ledger.models.community import Community
from ledger.models.disbursement import Disbursement
from ledger.models.expense_report import ExpenseLine, ExpenseReport, ReceiptKind
from ledger.models.fund import BudgetRevision, Fund
from ledger.models.organisation import Organisation
from ledger.models.requirement import Requirement
from ledger.models.user import User
from ledger.money import Money
from ledger.replay.capture import take_rows
from ledger.services.access import Actor

State = dict[str, Any]


def community_state(community: Community) -> State:
    return {
        "code": community.code,
        "name": community.name,
        "kind": community.kind,
        "division_list": community.division_list,
        "version": community.version,
    }


def organisation_state(organisation: Organisation) -> State:
    return {
        "name": organisation.name,
        "credit_code": organisation.credit_code,
        "registration_type": organisation.registration_type,
        "community_id": str(organisation.community_id),
        "status": organisation.status,
        "filing_number": organisation.filing_number,
        "filing_office_code": organisation.filing_office_code,
        "filed_on": organisation.filed_on.isoformat() if organisation.filed_on else None,
        "filing_category": organisation.filing_category,
        "money_held_by": organisation.money_held_by,
        "version": organisation.version,
    }


def user_state(user: User) -> State:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
        "organisation_ids": sorted(str(i) for i in user.organisation_ids),
        "scopes": [code or "*" for code in user.scope_codes],
        "version": user.version,
    }


@dataclass(frozen=True)
class Subject:
    """A kind of thing whose state the trail carries."""

    model: type[Any]
    state: Callable[[Any], State]


def period_state(period: AccountingPeriod) -> State:
    return {
        "organisation_id": str(period.organisation_id),
        "year": period.year,
        "month": period.month,
        "status": period.status,
        "version": period.version,
    }


def fund_state(fund: Fund) -> State:
    return {
        "kind": fund.kind,
        "title": fund.title,
        "reference": fund.reference,
        "funder_name": fund.funder_name,
        "funder_credit_code": fund.funder_credit_code,
        "organisation_id": str(fund.organisation_id),
        "award": str(Money(fund.currency, fund.award_minor)),
        "currency": fund.currency,
        "period": [fund.period_start.isoformat(), fund.period_end.isoformat()],
        "restricted": fund.restricted,
        "restriction_purpose": fund.restriction_purpose,
        "revenue_account": fund.revenue_account,
        "admin_cost_cap_bp": fund.admin_cost_cap_bp,
        "banned_categories": list(fund.banned_categories),
        "category_list_version": fund.category_list_version,
        "milestones": list(fund.milestones),
        "disclosure_deadline": fund.disclosure_deadline.isoformat() if fund.disclosure_deadline else None,
        "awarded_on": fund.awarded_on.isoformat() if fund.awarded_on else None,
        "signed_on": fund.signed_on.isoformat() if fund.signed_on else None,
        "label_required": fund.label_required,
        "status": fund.status,
        "version": fund.version,
    }


def budget_revision_state(revision: BudgetRevision) -> State:
    return {
        "fund_id": str(revision.fund_id),
        "changes": list(revision.changes),
        "reason": revision.reason,
        "status": revision.status,
        "proposed_by": revision.proposed_by,
        "decided_by": revision.decided_by,
        "decision_note": revision.decision_note,
        "version": revision.version,
    }


def disbursement_state(disbursement: Disbursement) -> State:
    return {
        "fund_id": str(disbursement.fund_id),
        "organisation_id": str(disbursement.organisation_id),
        "kind": disbursement.kind,
        "tranche_id": str(disbursement.tranche_id) if disbursement.tranche_id else None,
        "amount": str(Money(disbursement.currency, disbursement.amount_minor)),
        "currency": disbursement.currency,
        "status": disbursement.status,
        "memo": disbursement.memo,
        "prepared_by": disbursement.prepared_by,
        "approved_by": disbursement.approved_by,
        "paid_by": disbursement.paid_by,
        "paid_on": disbursement.paid_on.isoformat() if disbursement.paid_on else None,
        "bank_reference": disbursement.bank_reference,
        "journal_entry_id": str(disbursement.journal_entry_id) if disbursement.journal_entry_id else None,
        "cancel_reason": disbursement.cancel_reason,
        "version": disbursement.version,
        # Present only once a payment is reversed, so that states recorded before reversals
        # existed still equal the tables.
        **(
            {
                "reversed_on": disbursement.reversed_on.isoformat(),
                "reversal_reason": disbursement.reversal_reason,
            }
            if disbursement.reversed_on
            else {}
        ),
    }


def expense_report_state(report: ExpenseReport) -> State:
    return {
        "fund_id": str(report.fund_id),
        "organisation_id": str(report.organisation_id),
        "title": report.title,
        "interim": report.interim,
        "status": report.status,
        "filed_by": report.filed_by,
        "decided_by": report.decided_by,
        "comments": list(report.comments),
        "journal_entry_id": str(report.journal_entry_id) if report.journal_entry_id else None,
        "lines": [
            {
                "category": line.category_code,
                "amount": str(Money(_report_currency(report), line.amount_minor)),
                "incurred_on": line.incurred_on.isoformat(),
                "payee": line.payee,
                "description": line.description,
                "receipt_sha256": line.receipt_sha256,
                # Present only for a line that records an invoice (states recorded before stay equal).
                **_invoice_state(report, line),
            }
            for line in report.lines
        ],
        "version": report.version,
        # Present only once a report is voided (states recorded before voids existed stay equal).
        **({"voided_by": report.voided_by} if report.voided_by else {}),
    }


def _invoice_state(report: ExpenseReport, line: ExpenseLine) -> State:
    has_invoice = line.receipt_kind != ReceiptKind.PLAIN_RECEIPT.value or any(
        value is not None
        for value in (line.invoice_date, line.invoice_amount_minor, line.seller_name, line.seller_taxpayer_id)
    )
    if not has_invoice:
        return {}
    return {
        "invoice": {
            "kind": line.receipt_kind,
            "code": line.invoice_code,
            "number": line.invoice_number,
            "date": line.invoice_date.isoformat() if line.invoice_date else None,
            "amount": (
                str(Money(_report_currency(report), line.invoice_amount_minor))
                if line.invoice_amount_minor is not None
                else None
            ),
            "seller_name": line.seller_name,
            "seller_taxpayer_id": line.seller_taxpayer_id,
            "verified_by": line.invoice_verified_by,
        }
    }


def requirement_state(requirement: Requirement) -> State:
    return {
        "fund_id": str(requirement.fund_id) if requirement.fund_id else None,
        "organisation_id": str(requirement.organisation_id),
        "kind": requirement.kind,
        "title": requirement.title,
        "due_on": requirement.due_on.isoformat(),
        "covers_year": requirement.covers_year,
        "tranche_id": str(requirement.tranche_id) if requirement.tranche_id else None,
        "responsible_role": requirement.responsible_role,
        "responsible_user_id": str(requirement.responsible_user_id)
        if requirement.responsible_user_id
        else None,
        "done_by": requirement.done_by,
        "done_by_ref": requirement.done_by_ref,
        "done_note": requirement.done_note,
        "withdrawn_by": requirement.withdrawn_by,
        "withdrawal_note": requirement.withdrawal_note,
        "version": requirement.version,
    }


def _report_currency(report: ExpenseReport) -> str:
    fund = db.session.get(Fund, report.fund_id)
    return fund.currency if fund is not None else "CNY"


SUBJECTS: dict[str, Subject] = {
    "community": Subject(Community, community_state),
    "organisation": Subject(Organisation, organisation_state),
    "user": Subject(User, user_state),
    "accounting_period": Subject(AccountingPeriod, period_state),
    "fund": Subject(Fund, fund_state),
    "budget_revision": Subject(BudgetRevision, budget_revision_state),
    "disbursement": Subject(Disbursement, disbursement_state),
    "expense_report": Subject(ExpenseReport, expense_report_state),
    "requirement": Subject(Requirement, requirement_state),
}


def record_state(actor: Actor, action: str, subject_type: str, entity: Any, *, removed: bool = False) -> None:
    """Record ``action`` on ``entity`` with its state after the change (None when removed)."""
    state = None if removed else SUBJECTS[subject_type].state(entity)
    record_event(actor, action, subject_type, entity.id, {"state": state})


def record_event(
    actor: Actor, action: str, subject_type: str, subject_id: object, data: Mapping[str, Any]
) -> None:
    """Record ``action`` with ``data`` and the rows written since the last entry (``rows``).

    The readable ``data`` says what happened; the rows are what the replay rebuilds the tables
    from. Call it after the change, so that the entry carries the rows the change wrote.
    """
    rows = take_rows(db.session)
    record(actor.audit_identity, action, subject_type, subject_id, {**data, "rows": rows} if rows else data)
