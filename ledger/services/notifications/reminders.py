"""Reminders that come from the calendar rather than from a change: things due soon or overdue.

A ``ReminderSource`` says, for a business date, what is due and who should act. Each reminder
carries a key naming the thing *and its state* (``tranche:<id>:due``, ``tranche:<id>:overdue``),
and a person is notified once per key: a tranche due in ten days reminds once when it comes
within reach and once more when it becomes overdue, not every day. More sources (requirements
due, reports owed) plug in by being added to ``SOURCES``.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from ledger.services.access import Permission
from ledger.services.notifications.events import Notice, People, amount_text
from ledger.services.waiting import tranches_due

Reminder = Notice
"""A reminder is a notice whose ``dedup_key`` names the thing and its state, and with no audit entry."""


class ReminderSource(Protocol):
    def reminders(self, today: date) -> list[Reminder]:
        """What is due on ``today`` (a business date) and whom it is for; ``dedup_key`` is the state."""
        ...


class TranchesDue:
    """Tranches of active funds due within the home page's window, or overdue, that nothing pays yet.

    The same rule as the officers' home page (``waiting.tranches_due``); told to the finance
    officers who may prepare a disbursement for the fund's organisation.
    """

    def reminders(self, today: date) -> list[Reminder]:
        people = People()
        found = []
        for due in tranches_due(None, today):
            tranche, fund = due.tranche, due.fund
            state = "overdue" if due.overdue else "due"
            found.append(
                Notice(
                    event=f"tranche_{state}",
                    subject_type="tranche",
                    subject_id=str(tranche.id),
                    organisation_id=fund.organisation_id,
                    params={
                        "number": str(tranche.number),
                        "fund": fund.reference,
                        "amount": amount_text(fund.currency, tranche.amount_minor),
                        "due": tranche.due_date.isoformat(),
                    },
                    link=f"/funds/{fund.id}",
                    dedup_key=f"tranche:{tranche.id}:{state}",
                    recipients=people.officers_who(
                        Permission.MANAGE_DISBURSEMENTS, fund.organisation_id, lambda _actor: True
                    ),
                )
            )
        return found


SOURCES: list[ReminderSource] = [TranchesDue()]
