"""What the audit trail says about each kind of thing, and how to rebuild it from the trail.

Every change to a community, organisation or user is recorded with the thing's whole state
after the change (``{"state": {...}}``, or ``{"state": null}`` when it is removed). Replaying the
trail therefore rebuilds the current state of every such thing, which ``ledger audit verify``
compares with the tables: an edit made behind the service's back shows up as a difference.
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select

from ledger.audit.trail import record
from ledger.extensions import db
from ledger.models.books import AccountingPeriod, Posting
from ledger.models.community import Community
from ledger.models.disbursement import Disbursement
from ledger.models.expense_report import ExpenseReport
from ledger.models.fund import BudgetEntry, BudgetRevision, Fund
from ledger.models.organisation import Organisation
from ledger.models.user import User
from ledger.money import Money, MoneyError
from ledger.services.access import Actor

State = dict[str, Any]


def community_state(community: Community) -> State:
    return {
        "code": community.code,
        "name": community.name,
        "kind": community.kind,
        "district": community.district,
        "version": community.version,
    }


def organisation_state(organisation: Organisation) -> State:
    return {
        "name": organisation.name,
        "credit_code": organisation.credit_code,
        "registration_type": organisation.registration_type,
        "community_id": str(organisation.community_id),
        "version": organisation.version,
    }


def user_state(user: User) -> State:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
        "organisation_ids": sorted(str(i) for i in user.organisation_ids),
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
            }
            for line in report.lines
        ],
        "version": report.version,
        # Present only once a report is voided (states recorded before voids existed stay equal).
        **({"voided_by": report.voided_by} if report.voided_by else {}),
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
}


def record_state(actor: Actor, action: str, subject_type: str, entity: Any, *, removed: bool = False) -> None:
    """Record ``action`` on ``entity`` with its state after the change (None when removed)."""
    state = None if removed else SUBJECTS[subject_type].state(entity)
    record(actor.audit_identity, action, subject_type, entity.id, {"state": state})


def record_event(
    actor: Actor, action: str, subject_type: str, subject_id: object, data: Mapping[str, Any]
) -> None:
    """Record something that is not a state change of a replayed subject (tokens, keys, data loads)."""
    record(actor.audit_identity, action, subject_type, subject_id, data)


@dataclass(frozen=True)
class StateDifference:
    subject_type: str
    subject_id: str
    message: str


class Replay:
    """The state of every subject as the trail tells it, built one entry at a time."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], State | None] = {}
        # (organisation, account, currency) -> [debit minor units, credit minor units]
        self.balances: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        # (fund, category) -> budget in minor units
        self.budgets: dict[tuple[str, str], int] = defaultdict(int)
        # receipt -> SHA-256 of its stored file, as recorded when the file was written
        self.receipt_files: dict[str, str] = {}

    def add(self, entry: Mapping[str, Any]) -> None:
        subject, data = entry.get("subject"), entry.get("data")
        if entry.get("action") == "journal_entry.posted" and isinstance(data, Mapping):
            self._add_postings(data)
        if (
            entry.get("action") in ("receipt.uploaded", "receipt.restored")
            and isinstance(data, Mapping)
            and isinstance(subject, Mapping)
            and isinstance(data.get("stored_sha256"), str)
        ):
            self.receipt_files[str(subject.get("id"))] = str(data["stored_sha256"])
        if (
            entry.get("action") == "fund.budget_changed"
            and isinstance(data, Mapping)
            and isinstance(subject, Mapping)
        ):
            for code, amount in (data.get("changes") or {}).items():
                with contextlib.suppress(ValueError):  # an unreadable amount shows up as a difference
                    minor = Money.parse(str(amount), str(data.get("currency"))).minor
                    self.budgets[(str(subject.get("id")), str(code))] += minor
        if (
            isinstance(subject, Mapping)
            and isinstance(data, Mapping)
            and subject.get("type") in SUBJECTS
            and "state" in data
        ):
            self.states[(str(subject["type"]), str(subject["id"]))] = data["state"]

    def _add_postings(self, data: Mapping[str, Any]) -> None:
        organisation = str(data.get("organisation_id"))
        for posting in data.get("postings") or []:
            try:
                amount = Money.parse(str(posting["amount"]), str(posting["currency"]))
            except (KeyError, MoneyError):
                continue  # the comparison with the tables reports the difference
            sides = self.balances[(organisation, str(posting["account"]), amount.currency)]
            sides[0 if posting.get("side") == "debit" else 1] += amount.minor


def _budget_differences(replay: Replay) -> list[StateDifference]:
    rows = db.session.execute(
        select(
            BudgetEntry.fund_id, BudgetEntry.category_code, func.sum(BudgetEntry.amount_delta_minor)
        ).group_by(BudgetEntry.fund_id, BudgetEntry.category_code)
    ).all()
    in_tables = {(str(f), c): int(t) for f, c, t in rows if int(t)}
    in_trail = {k: v for k, v in replay.budgets.items() if v}
    return [
        StateDifference(
            "fund",
            key[0],
            f"budget line {key[1]}: the trail gives {in_trail.get(key, 0)}, the table {in_tables.get(key, 0)} minor units",
        )
        for key in sorted(in_tables.keys() | in_trail.keys())
        if in_tables.get(key, 0) != in_trail.get(key, 0)
    ]


def _balance_differences(replay: Replay) -> list[StateDifference]:
    debit = func.sum(case((Posting.side == "debit", Posting.amount_minor), else_=0))
    credit = func.sum(case((Posting.side == "credit", Posting.amount_minor), else_=0))
    rows = db.session.execute(
        select(Posting.organisation_id, Posting.account_code, Posting.currency, debit, credit).group_by(
            Posting.organisation_id, Posting.account_code, Posting.currency
        )
    ).all()
    in_tables = {(str(o), a, c): [int(d or 0), int(k or 0)] for o, a, c, d, k in rows}
    differences = []
    for key in sorted(in_tables.keys() | replay.balances.keys()):
        table, trail = in_tables.get(key, [0, 0]), replay.balances.get(key, [0, 0])
        if table != trail:
            organisation, account, currency = key
            differences.append(
                StateDifference(
                    "organisation",
                    organisation,
                    f"account {account} ({currency}): the trail gives debits/credits {trail[0]}/{trail[1]} "
                    f"minor units, the postings {table[0]}/{table[1]}",
                )
            )
    return differences


def replay_differences(entries: Iterable[Mapping[str, Any]] | Replay) -> list[StateDifference]:
    """Rebuild every subject's state from the trail and compare it with the tables."""
    if isinstance(entries, Replay):
        replay = entries
    else:
        replay = Replay()
        for entry in entries:
            replay.add(entry)
    replayed = replay.states
    differences: list[StateDifference] = _balance_differences(replay) + _budget_differences(replay)
    for subject_type, subject in SUBJECTS.items():
        in_tables = {str(e.id): subject.state(e) for e in db.session.scalars(select(subject.model))}
        in_trail = {i: s for (t, i), s in replayed.items() if t == subject_type and s is not None}
        for subject_id in sorted(in_tables.keys() | in_trail.keys()):
            table_state, trail_state = in_tables.get(subject_id), in_trail.get(subject_id)
            if table_state == trail_state:
                continue
            if trail_state is None:
                message = "is in the tables but the trail does not record it (or records it removed)"
            elif table_state is None:
                message = "is recorded in the trail but missing from the tables"
            else:
                changed = sorted(
                    k
                    for k in table_state.keys() | trail_state.keys()
                    if table_state.get(k) != trail_state.get(k)
                )
                message = (
                    "differs from the trail in "
                    + ", ".join(changed)
                    + ": "
                    + json.dumps(
                        {k: [trail_state.get(k), table_state.get(k)] for k in changed}, ensure_ascii=False
                    )
                )
            differences.append(StateDifference(subject_type, subject_id, message))
    return differences
