"""Random years of a fund's life keep every identity an accountant checks.

A Hypothesis state machine pays tranches, approves spending, voids reports, refunds money and
reverses refunds, on dates that move forward from January 2025 across the new year, for a
restricted grant and an unrestricted contract of one organisation. After every step:

* each fund: received − spent − refunded = held in bank (nothing here adjusts cash by hand);
* a restricted fund: releases equal its spending, and what is still restricted is what it holds;
  an unrestricted fund has nothing restricted;
* the books balance, and the balance sheet of the year so far balances;
* the activity statement's change in net assets (line 45) is the movement of balance-sheet
  line 110, per column with the direct net-asset postings beside the form;
* the cash-flow statement's net change (line 61) is the change in cash.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from ledger.database import unit_of_work
from ledger.demo_funds import active_fund, actor_named, file_report, pay_tranche
from ledger.errors import Conflict, ValidationFailed
from ledger.extensions import db
from ledger.models.books import EntrySource, JournalEntry
from ledger.models.disbursement import TrancheCondition
from ledger.models.fund import Fund, FundKind
from ledger.money import Money
from ledger.services import disbursements, expense_decisions, periods
from ledger.services.fund_figures import figures_of
from ledger.services.statement_figures.organisation import organisation_statement_figures
from tests.conftest import DemoWorld

CATEGORIES = ("ACTIVITY", "PERSONNEL", "OFFICE")
LAST_DAY = date(2026, 10, 31)


def _minor(text: str) -> int:
    return Money.parse(text, "CNY").minor


@pytest.mark.slow
def test_random_fund_lives_keep_the_identities(app: Flask, world: DemoWorld) -> None:
    organisation = uuid.UUID(world.member_organisation["member02"])

    class FundLife(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.day = date(2025, 1, 10)
            self.paid = {True: 0, False: 0}
            self.approved: list[uuid.UUID] = []
            self.refunds: list[tuple[uuid.UUID, uuid.UUID]] = []
            self.funds: dict[bool, uuid.UUID] = {}
            with app.app_context(), unit_of_work():
                for restricted in (True, False):
                    self.funds[restricted] = active_fund(
                        actor_named("admin"),
                        organisation,
                        FundKind.LOTTERY_GRANT if restricted else FundKind.PROCUREMENT_CONTRACT,
                        "random",
                        f"RND-{uuid.uuid4().hex[:10]}",
                        "funder",
                        "100000.00",
                        {"ACTIVITY": "60000.00", "PERSONNEL": "30000.00", "OFFICE": "10000.00"},
                        [("25000.00", date(2025, 1, 1), TrancheCondition.NONE)] * 4,
                        period_start=date(2025, 1, 1),
                        period_end=date(2026, 12, 31),
                        restricted=restricted,
                        revenue_account="4401" if restricted else "4301",
                        **(
                            {"disclosure_deadline": date(2027, 6, 30), "restriction_purpose": "elders"}
                            if restricted
                            else {}
                        ),
                    )

        def _try(self, action: object) -> bool:
            try:
                with app.app_context(), unit_of_work():
                    action()  # type: ignore[operator]
            except (ValidationFailed, Conflict):
                return False  # a refused step changes nothing
            return True

        @rule(days=st.integers(min_value=1, max_value=90))
        def advance(self, days: int) -> None:
            self.day = min(self.day + timedelta(days=days), LAST_DAY)

        @rule(restricted=st.booleans())
        def pay(self, restricted: bool) -> None:
            number = self.paid[restricted] + 1
            if number > 4:
                return
            key = uuid.uuid4().hex
            if self._try(lambda: pay_tranche(self.funds[restricted], number, self.day, key)):
                self.paid[restricted] = number

        @rule(
            restricted=st.booleans(),
            category=st.sampled_from(CATEGORIES),
            minor=st.integers(min_value=1, max_value=2_000_000),
        )
        def spend(self, restricted: bool, category: str, minor: int) -> None:
            made: list[uuid.UUID] = []

            def file_and_approve() -> None:
                amount = str(Money("CNY", minor))
                # A title of its own gives the report a receipt of its own: receipts outlive an example.
                title = f"r-{uuid.uuid4().hex[:8]}"
                report = file_report(
                    "member02", self.funds[restricted], title, [(category, amount, self.day, "p", "d")]
                )
                expense_decisions.submit_report(actor_named("member02"), report, None)
                expense_decisions.approve_report(actor_named("finance1"), report, None)
                made.append(report)

            if self._try(file_and_approve):
                self.approved += made

        @precondition(lambda self: bool(self.approved))
        @rule(pick=st.integers(min_value=0))
        def void(self, pick: int) -> None:
            report = self.approved[pick % len(self.approved)]
            if self._try(
                lambda: expense_decisions.void_report(
                    actor_named("finance2"), report, self.day, "random void", None
                )
            ):
                self.approved.remove(report)

        @rule(restricted=st.booleans(), share=st.integers(min_value=1, max_value=100))
        def refund(self, restricted: bool, share: int) -> None:
            fund_id = self.funds[restricted]
            made: list[uuid.UUID] = []

            def book() -> None:
                fund = db.session.get(Fund, fund_id)
                assert fund is not None
                held = figures_of(fund).held_in_bank
                amount = Money("CNY", held * share // 100)
                refunded = disbursements.refund_unspent(
                    actor_named("finance1"), fund_id, amount, self.day, "ref", uuid.uuid4().hex
                )
                made.append(refunded.entry.id)

            if self._try(book):
                self.refunds += [(fund_id, entry) for entry in made]

        @precondition(lambda self: bool(self.refunds))
        @rule()
        def reverse_last_refund(self) -> None:
            fund_id, entry = self.refunds[-1]
            if self._try(
                lambda: disbursements.reverse_refund(
                    actor_named("finance1"), fund_id, entry, self.day, "returned"
                )
            ):
                self.refunds.pop()

        @invariant()
        def identities_hold(self) -> None:
            with app.app_context():
                for restricted, fund_id in self.funds.items():
                    fund = db.session.get(Fund, fund_id)
                    assert fund is not None
                    figures = figures_of(fund)
                    assert figures.received - figures.spent - figures.refunded == figures.held_in_bank
                    if restricted:
                        assert figures.restricted_released == figures.spent
                        assert figures.restricted_net_assets == figures.held_in_bank
                    else:
                        assert figures.restricted_net_assets == 0
                start = date(self.day.year, 1, 1)
                statement = organisation_statement_figures(organisation, start, self.day)
                assert statement["balance_sheet"]["balanced"]
                lines = {
                    row["line"]: row
                    for side in ("assets", "liabilities_and_net_assets")
                    for row in statement["balance_sheet"][side]
                    if row["line"]
                }
                change = next(r for r in statement["activities"]["rows"] if r["line"] == 45)
                others = statement["activities"]["other_net_asset_movements"]
                moved = _minor(lines[110]["closing"]) - _minor(lines[110]["opening"])
                assert _minor(change["total"]) + _minor(others["total"]) == moved
                if "cash_flows" in statement:
                    cash_moved = _minor(lines[1]["closing"]) - _minor(lines[1]["opening"])
                    assert statement["cash_flows"]["reconciled"], statement["cash_flows"]
                    net = next(r for r in statement["cash_flows"]["rows"] if r.get("line") == 61)
                    assert _minor(net["amount"]) == cash_moved
                reversed_entries = db.session.scalars(
                    select(JournalEntry).where(JournalEntry.source == EntrySource.REVERSAL.value)
                ).all()
                assert all(entry.reverses_id is not None for entry in reversed_entries)
                assert periods.period_balance_problems() == []

    run_state_machine_as_test(
        FundLife,
        settings=settings(
            max_examples=20,
            stateful_step_count=14,
            deadline=None,
            # The database outlives an example, so a replay is not the same run: no shrinking.
            phases=(Phase.explicit, Phase.generate),
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
    # The walk really moved money: payments, approvals, voids, refunds and their reversals.
    with app.app_context():
        sources = set(db.session.scalars(select(JournalEntry.source)))
    assert sources >= {"disbursement_paid", "expense_approved", "restricted_release", "refund", "reversal"}
