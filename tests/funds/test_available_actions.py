"""The actions offered are exactly those the services accept, for every demo person and thing.

For each person, each thing of the demo (funds, one of them a draft, disbursements, one of them
freshly prepared, expense reports in every state, budget revisions, months and years of the
books, what is due) and each action of its kind, the service is called with ordinary input and its work rolled
back: it succeeds if and only if ``available_actions`` offers the action.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from ledger.demo_funds import actor_named, cny
from ledger.errors import LedgerError
from ledger.extensions import db
from ledger.models import ExpenseReport
from ledger.models.books import AccountingPeriod, PeriodStatus
from ledger.models.disbursement import Disbursement, DisbursementKind
from ledger.models.fund import BudgetRevision, Fund
from ledger.models.requirement import Requirement, RequirementKind
from ledger.money import Money
from ledger.services import (
    budget_revisions,
    disbursements,
    expense_decisions,
    expense_lines,
    expense_reports,
    funds,
    periods,
    requirements,
    trial_balance,
    year_end,
)
from ledger.services.access import Actor, Permission, authorize
from ledger.services.actions import Action, available_actions
from tests.conftest import DemoWorld
from tests.helpers import DEMO_PEOPLE as PEOPLE
from tests.helpers import add_decisions_to_the_demo

TODAY = date.today()


def _line_inputs(report: ExpenseReport) -> list[expense_lines.LineInput]:
    return [
        expense_lines.LineInput(
            line.category_code,
            Money("CNY", line.amount_minor),  # every demo fund is in CNY
            line.incurred_on,
            line.payee,
            line.description,
            line.receipt_sha256,
        )
        for line in report.lines
    ]


def _fund_attempts(fund: Fund) -> dict[Action, Callable[[Actor], object]]:
    fund_id = fund.id
    budget = funds.budget_of(fund)
    codes = sorted(budget)
    move = {codes[0]: cny("-1.00"), codes[-1]: cny("1.00")} if len(codes) > 1 else {}
    attempts: dict[Action, Callable[[Actor], object]] = {
        Action(transition): (lambda actor, t=transition: funds.change_fund_status(actor, fund_id, t, None))
        for transition in funds.TRANSITIONS
    }
    attempts |= {
        Action.SET_BUDGET: lambda actor: funds.set_draft_budget(actor, fund_id, budget),
        Action.SET_TRANCHES: lambda actor: disbursements.set_tranches(actor, fund_id, []),
        Action.PREPARE_DISBURSEMENT: lambda actor: disbursements.prepare_disbursement(
            actor,
            fund_id,
            disbursements.DisbursementRequest(DisbursementKind.REIMBURSEMENT, cny("1.00"), "test payment"),
            uuid.uuid4().hex,
        ),
        Action.PROPOSE_REVISION: lambda actor: budget_revisions.propose_budget_revision(
            actor, fund_id, move, "a test", uuid.uuid4().hex
        ),
        Action.START_REPORT: lambda actor: expense_reports.create_report(
            actor, fund_id, "a test report", False, uuid.uuid4().hex
        ),
        # Issuing renders a PDF (tests/statements issue them); its service's own check comes first
        # and is this one. Reading the figures is open to more people (supervisors) than issuing.
        Action.ISSUE_STATEMENTS: lambda actor: authorize(
            actor, Permission.ISSUE_STATEMENTS, fund.organisation_id
        ),
        Action.BOOKS: lambda actor: trial_balance.trial_balance(actor, fund.organisation_id, TODAY),
        Action.ADD_REQUIREMENT: lambda actor: requirements.add_requirement(
            actor, fund_id, requirements.RequirementInput(RequirementKind.INTERIM_REPORT, due_on=TODAY)
        ),
    }
    return attempts


def _requirement_attempts(requirement: Requirement) -> dict[Action, Callable[[Actor], object]]:
    found = requirement.id
    return {
        Action.MARK_DONE: lambda actor: requirements.mark_requirement_done(actor, found, "a test"),
        Action.CHANGE_REQUIREMENT: lambda actor: requirements.change_requirement(
            actor, found, {"due_on": TODAY}, None
        ),
        Action.WITHDRAW: lambda actor: requirements.withdraw_requirement(actor, found, "a test"),
    }


def _disbursement_attempts(disbursement: Disbursement) -> dict[Action, Callable[[Actor], object]]:
    found = disbursement.id
    return {
        Action.APPROVE: lambda actor: disbursements.approve_disbursement(actor, found),
        Action.PAY: lambda actor: disbursements.mark_paid(actor, found, "ICBC-TEST-1", TODAY),
        Action.CANCEL: lambda actor: disbursements.cancel_disbursement(actor, found, "a test"),
    }


def _report_attempts(report: ExpenseReport) -> dict[Action, Callable[[Actor], object]]:
    found = report.id
    lines = _line_inputs(report)
    return {
        Action.EDIT_LINES: lambda actor: expense_lines.set_lines(actor, found, lines, None),
        Action.SUBMIT: lambda actor: expense_decisions.submit_report(actor, found, None),
        Action.APPROVE: lambda actor: expense_decisions.approve_report(actor, found, None),
        Action.RETURN: lambda actor: expense_decisions.return_report(actor, found, "a test", None),
        Action.REJECT: lambda actor: expense_decisions.reject_report(actor, found, "a test", None),
        Action.VOID: lambda actor: expense_decisions.void_report(actor, found, TODAY, "a test", None),
    }


def _revision_attempts(revision: BudgetRevision) -> dict[Action, Callable[[Actor], object]]:
    found = revision.id
    return {
        Action.APPROVE: lambda actor: budget_revisions.decide_budget_revision(
            actor, found, approve=True, note=None, expected_version=None
        ),
        Action.REJECT: lambda actor: budget_revisions.decide_budget_revision(
            actor, found, approve=False, note=None, expected_version=None
        ),
    }


def _period_attempts(period: AccountingPeriod) -> dict[Action, Callable[[Actor], object]]:
    organisation, year, month = period.organisation_id, period.year, period.month
    return {
        Action.CLOSE: lambda actor: periods.set_period_status(
            actor, organisation, year, month, PeriodStatus.CLOSED, None, None
        ),
        Action.REOPEN: lambda actor: periods.set_period_status(
            actor, organisation, year, month, PeriodStatus.OPEN, "a test", None
        ),
    }


def _year_attempts(state: year_end.YearState) -> dict[Action, Callable[[Actor], object]]:
    organisation, year = state.organisation_id, state.year
    return {
        Action.CLOSE: lambda actor: year_end.close_year(actor, organisation, year),
        Action.REOPEN: lambda actor: year_end.reopen_year(actor, organisation, year, "a test"),
    }


@dataclass(frozen=True)
class Thing:
    name: str
    value: object
    attempts: dict[Action, Callable[[Actor], object]]


def _things() -> Iterator[Thing]:
    for fund in db.session.scalars(select(Fund).order_by(Fund.reference)):
        yield Thing(f"fund {fund.reference} ({fund.status})", fund, _fund_attempts(fund))
    for disbursement in db.session.scalars(select(Disbursement).order_by(Disbursement.prepared_at)):
        yield Thing(
            f"disbursement {disbursement.memo} ({disbursement.status})",
            disbursement,
            _disbursement_attempts(disbursement),
        )
    for report in db.session.scalars(select(ExpenseReport).order_by(ExpenseReport.title)):
        yield Thing(f"report {report.title} ({report.status})", report, _report_attempts(report))
    for revision in db.session.scalars(select(BudgetRevision).order_by(BudgetRevision.reason)):
        yield Thing(f"revision {revision.reason} ({revision.status})", revision, _revision_attempts(revision))
    for requirement in db.session.scalars(
        select(Requirement).order_by(Requirement.due_on, Requirement.title)
    ):
        yield Thing(
            f"requirement {requirement.title} ({requirement.due_on})",
            requirement,
            _requirement_attempts(requirement),
        )
    organisations = set()
    for period in db.session.scalars(
        select(AccountingPeriod).order_by(AccountingPeriod.year, AccountingPeriod.month)
    ):
        organisations.add(period.organisation_id)
        yield Thing(
            f"month {period.year}-{period.month:02d} ({period.status})", period, _period_attempts(period)
        )
    for organisation in sorted(organisations):
        for state in year_end.year_states(actor_named("auditor"), organisation):
            yield Thing(f"year {state.year} ({state.status})", state, _year_attempts(state))


def _accepted(attempt: Callable[[Actor], object], actor: Actor) -> bool:
    try:
        attempt(actor)
    except LedgerError:
        return False
    finally:
        db.session.rollback()
    return True


@pytest.mark.slow
def test_every_action_offered_is_accepted_and_every_other_refused(
    app: Flask, funded_world: DemoWorld
) -> None:
    add_decisions_to_the_demo(funded_world)
    mismatches = []
    offered_somewhere: set[Action] = set()
    with app.app_context():
        people = {username: actor_named(username) for username in PEOPLE}
        things = list(_things())
        for thing in things:
            for username, actor in people.items():
                offered = available_actions(actor, thing.value)
                offered_somewhere |= offered
                assert offered <= set(thing.attempts), (thing.name, offered)
                for action, attempt in thing.attempts.items():
                    if (action in offered) != _accepted(attempt, actor):
                        mismatches.append((username, thing.name, action.value, action in offered))
    assert not mismatches, mismatches
    # The demo exercises the decisions that matter, not only refusals.
    assert {
        Action.ACTIVATE,
        Action.SUSPEND,
        Action.SET_BUDGET,
        Action.APPROVE,
        Action.PAY,
        Action.CANCEL,
        Action.SUBMIT,
        Action.RETURN,
        Action.VOID,
        Action.CLOSE,
        Action.REOPEN,
        Action.PREPARE_DISBURSEMENT,
        Action.START_REPORT,
        Action.ADD_REQUIREMENT,
        Action.MARK_DONE,
        Action.CHANGE_REQUIREMENT,
        Action.WITHDRAW,
    } <= offered_somewhere


def test_the_preparer_and_the_proposer_are_not_offered_to_decide(app: Flask, funded_world: DemoWorld) -> None:
    add_decisions_to_the_demo(funded_world)
    with app.app_context():
        finance1, finance2 = actor_named("finance1"), actor_named("finance2")
        prepared = db.session.scalars(select(Disbursement).where(Disbursement.status == "prepared")).one()
        assert Action.APPROVE not in available_actions(finance1, prepared)
        assert Action.CANCEL in available_actions(finance1, prepared)
        assert available_actions(finance2, prepared) == {Action.APPROVE, Action.CANCEL}
        own = db.session.scalars(
            select(BudgetRevision).where(BudgetRevision.proposed_by == str(finance1.user_id))
        ).one()
        assert available_actions(finance1, own) == frozenset()
        assert available_actions(finance2, own) == {Action.APPROVE, Action.REJECT}
        # An organisation member decides nothing, even on their own organisation's fund.
        assert available_actions(actor_named("member01"), own) == frozenset()


def test_every_fund_transition_is_an_action() -> None:
    assert {Action(name) for name in funds.TRANSITIONS} == {
        Action.ACTIVATE,
        Action.SUSPEND,
        Action.RESUME,
        Action.CLOSE,
    }


def test_there_are_no_actions_for_other_things() -> None:
    with pytest.raises(TypeError):
        available_actions(Actor.operator(), "a fund")
