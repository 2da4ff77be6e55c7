"""What a person may do now with a thing: the buttons and forms a page offers them.

Pages show an action only when it is in ``available_actions(actor, thing)``, and decide nothing
themselves. Every answer is the services' own: ``may`` for the permission (``access.POLICY``),
and for the thing's state and separation of duties the very refusal functions the services
raise from (``funds.status_change_refusal``, ``disbursements.approval_refusal``,
``expense_decisions.decision_refusal``, ``periods.period_change_refusal``, ...). So an action is
offered exactly when calling the service now would not refuse it, whatever the form then says
(an amount, a date, a reason) aside.
"""

from __future__ import annotations

import enum
from functools import singledispatch
from typing import Any

from ledger.extensions import db
from ledger.models.books import AccountingPeriod, PeriodStatus
from ledger.models.disbursement import Disbursement
from ledger.models.expense_report import ExpenseReport
from ledger.models.fund import BudgetRevision, Fund
from ledger.models.organisation import Organisation
from ledger.models.requirement import Requirement
from ledger.services import (
    budget_revisions,
    disbursements,
    expense_decisions,
    expense_lines,
    expense_reports,
    funds,
    organisation_status,
    periods,
    requirements,
)
from ledger.services.access import Actor, Permission, may
from ledger.services.year_end import YearState


class Action(enum.StrEnum):
    """Something a person does with a thing; what it acts on is the thing asked about."""

    # A fund's lifecycle: the actions of ``funds.TRANSITIONS`` (``close`` also closes a month or a year).
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    RESUME = "resume"
    CLOSE = "close"
    # A fund.
    SET_BUDGET = "set_budget"
    SET_TRANCHES = "set_tranches"
    PREPARE_DISBURSEMENT = "prepare_disbursement"
    PROPOSE_REVISION = "propose_revision"
    START_REPORT = "start_report"
    ISSUE_STATEMENTS = "issue_statements"
    # Deciding: a disbursement, an expense report, a budget revision.
    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"
    # A disbursement.
    PAY = "pay"
    CANCEL = "cancel"
    # An expense report.
    EDIT_LINES = "edit_lines"
    SUBMIT = "submit"
    VOID = "void"
    # A month or a year of the books.
    REOPEN = "reopen"
    # An organisation: a filed one registers; any active one is deregistered.
    REGISTER = "register"
    DEREGISTER = "deregister"
    # Where a person may go (``navigation``); ``books`` is also a fund's organisation's books.
    QUEUE = "queue"
    AUDIT = "audit"
    ADMIN = "admin"
    BOOKS = "books"
    FUNDS = "funds"
    COVERAGE = "coverage"
    # On the audit trail's page: verify it now and issue the signed attestation.
    ATTEST = "attest"
    # What is due: a fund's officers add to it; each open item is changed, marked done or withdrawn.
    ADD_REQUIREMENT = "add_requirement"
    CHANGE_REQUIREMENT = "change_requirement"
    MARK_DONE = "mark_done"
    WITHDRAW = "withdraw"


Actions = frozenset[Action]


def available_actions(actor: Actor, thing: object) -> Actions:
    """The actions ``actor`` may take now on ``thing``: a fund, a disbursement, an expense report,
    a budget revision, an accounting period, a year's state (``year_end.YearState``), an
    organisation or a requirement."""
    return _actions_of(thing, actor)


@singledispatch
def _actions_of(thing: Any, actor: Actor) -> Actions:
    raise TypeError(f"no actions are defined for a {type(thing).__name__}")


@_actions_of.register
def _fund(fund: Fund, actor: Actor) -> Actions:
    organisation = fund.organisation_id
    offered: set[Action] = set()
    if may(actor, Permission.MANAGE_FUNDS, organisation):
        offered |= {
            Action(action)
            for action in funds.TRANSITIONS
            if funds.status_change_refusal(fund, action) is None
        }
        if funds.budget_setting_refusal(fund) is None:
            offered.add(Action.SET_BUDGET)
        if disbursements.schedule_setting_refusal(fund) is None:
            offered.add(Action.SET_TRANCHES)
    if (
        may(actor, Permission.MANAGE_DISBURSEMENTS, organisation)
        and disbursements.preparation_refusal(fund) is None
    ):
        offered.add(Action.PREPARE_DISBURSEMENT)
    if (
        may(actor, Permission.PROPOSE_BUDGET_REVISIONS, organisation)
        and budget_revisions.revision_proposal_refusal(fund) is None
    ):
        offered.add(Action.PROPOSE_REVISION)
    if (
        may(actor, Permission.FILE_EXPENSE_REPORTS, organisation)
        and expense_reports.creation_refusal(fund) is None
    ):
        offered.add(Action.START_REPORT)
    if may(actor, Permission.ISSUE_STATEMENTS, organisation):
        offered.add(Action.ISSUE_STATEMENTS)
    if may(actor, Permission.READ_BOOKS, organisation):
        offered.add(Action.BOOKS)
    if may(actor, Permission.MANAGE_REQUIREMENTS, organisation):
        offered.add(Action.ADD_REQUIREMENT)
    return frozenset(offered)


def _fund_of(thing: Disbursement | ExpenseReport | BudgetRevision) -> Fund:
    fund = db.session.get(Fund, thing.fund_id)  # usually already in the session: no query
    assert fund is not None  # a foreign key
    return fund


@_actions_of.register
def _disbursement(disbursement: Disbursement, actor: Actor) -> Actions:
    if not may(actor, Permission.MANAGE_DISBURSEMENTS, disbursement.organisation_id):
        return frozenset()
    offered: set[Action] = set()
    if disbursements.approval_refusal(actor, disbursement, _fund_of(disbursement)) is None:
        offered.add(Action.APPROVE)
    if disbursements.payment_refusal(disbursement) is None:
        offered.add(Action.PAY)
    if disbursements.cancellation_refusal(disbursement) is None:
        offered.add(Action.CANCEL)
    return frozenset(offered)


@_actions_of.register
def _expense_report(report: ExpenseReport, actor: Actor) -> Actions:
    offered: set[Action] = set()
    files = may(actor, Permission.FILE_EXPENSE_REPORTS, report.organisation_id)
    if files and expense_lines.editing_refusal(report) is None:
        offered.add(Action.EDIT_LINES)
        # Only an editable report is submitted: its problems are looked for only then.
        if expense_decisions.submission_refusal(report, _fund_of(report)) is None:
            offered.add(Action.SUBMIT)
    if may(actor, Permission.REVIEW_EXPENSE_REPORTS, report.organisation_id):
        fund = _fund_of(report)
        for action in (Action.APPROVE, Action.RETURN, Action.REJECT):
            if expense_decisions.decision_refusal(actor, report, fund, action.value) is None:
                offered.add(action)
        if expense_decisions.void_refusal(actor, report) is None:
            offered.add(Action.VOID)
    return frozenset(offered)


@_actions_of.register
def _budget_revision(revision: BudgetRevision, actor: Actor) -> Actions:
    fund = _fund_of(revision)
    if not may(actor, Permission.DECIDE_BUDGET_REVISIONS, fund.organisation_id):
        return frozenset()
    return frozenset(
        action
        for action, approve in ((Action.APPROVE, True), (Action.REJECT, False))
        if budget_revisions.revision_decision_refusal(actor, revision, fund, approve=approve) is None
    )


@_actions_of.register
def _accounting_period(period: AccountingPeriod, actor: Actor) -> Actions:
    if not may(actor, Permission.CLOSE_PERIODS, period.organisation_id):
        return frozenset()
    return frozenset(
        action
        for action, status in ((Action.CLOSE, PeriodStatus.CLOSED), (Action.REOPEN, PeriodStatus.OPEN))
        if periods.period_change_refusal(period, status) is None
    )


@_actions_of.register
def _year(state: YearState, actor: Actor) -> Actions:
    if not may(actor, Permission.CLOSE_PERIODS, state.organisation_id):
        return frozenset()
    offered = {Action.CLOSE} if state.can_close else set()
    if state.can_reopen:
        offered.add(Action.REOPEN)
    return frozenset(offered)


@_actions_of.register
def _organisation(organisation: Organisation, actor: Actor) -> Actions:
    if not may(actor, Permission.MANAGE_ORGANISATIONS, organisation.id):
        return frozenset()
    offered: set[Action] = set()
    if organisation_status.registration_refusal(organisation) is None:
        offered.add(Action.REGISTER)
    if organisation_status.deregistration_refusal(organisation) is None:
        offered.add(Action.DEREGISTER)
    return frozenset(offered)


@_actions_of.register
def _requirement(requirement: Requirement, actor: Actor) -> Actions:
    organisation = requirement.organisation_id
    offered: set[Action] = set()
    if may(actor, Permission.MARK_REQUIREMENTS_DONE, organisation) and (
        requirements.done_refusal(actor, requirement) is None
    ):
        offered.add(Action.MARK_DONE)
    if (
        may(actor, Permission.MANAGE_REQUIREMENTS, organisation)
        and requirements.change_refusal(requirement) is None
    ):
        offered |= {Action.CHANGE_REQUIREMENT, Action.WITHDRAW}
    return frozenset(offered)


_NAVIGATION = {
    Action.QUEUE: Permission.REVIEW_EXPENSE_REPORTS,
    Action.AUDIT: Permission.READ_AUDIT_TRAIL,
    Action.ATTEST: Permission.ATTEST_AUDIT_TRAIL,
    # The administration page lists and creates organisations, users and funds.
    Action.ADMIN: Permission.MANAGE_ORGANISATIONS,
    Action.BOOKS: Permission.READ_BOOKS,
    # The funds of the person's area (the home page's cards) and the communities' coverage.
    Action.FUNDS: Permission.READ_FUNDS,
    Action.COVERAGE: Permission.READ_COMMUNITIES,
}


def navigation(actor: Actor) -> Actions:
    """The places ``actor`` may go: the review queue, the audit trail (and attesting it),
    administration, the books, the funds and the communities' coverage."""
    return frozenset(place for place, permission in _NAVIGATION.items() if may(actor, permission))
