"""Reminders that come from the calendar rather than from a change: things due soon or overdue.

A ``ReminderSource`` says, for a business date, what is due and who should act. Each reminder
carries a key naming the thing *and its state* (``tranche:<id>:due``, ``tranche:<id>:overdue``),
and a person is notified once per key: a tranche due in ten days reminds once when it comes
within reach and once more when it becomes overdue, not every day. More sources (requirements
due, reports owed) plug in by being added to ``SOURCES``.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Protocol

from ledger.models.requirement import Requirement, ResponsibleRole
from ledger.services.access import Permission
from ledger.services.notifications.events import Notice, People, amount_text
from ledger.services.requirements import RequirementState, requirements_needing_reminder
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


class RequirementsDue:
    """Requirements due within their window or overdue (``requirements.state_of``, one rule).

    Told to whoever answers for the item: the person named on it, or else its side (the
    organisation's members, or the officers of its area). Once it is overdue the area's officers
    hear of it too, as their home page lists it for them to follow up.
    """

    def reminders(self, today: date) -> list[Reminder]:
        people = People()
        return [
            Notice(
                event=f"requirement_{state.value}",
                subject_type="requirement",
                subject_id=str(requirement.id),
                organisation_id=requirement.organisation_id,
                params={
                    "title": requirement.title,
                    **({"title_en": requirement.title_en} if requirement.title_en else {}),
                    "organisation": people.organisation_name(requirement.organisation_id),
                    "due": requirement.due_on.isoformat(),
                },
                link=f"/funds/{requirement.fund_id}#requirements" if requirement.fund_id else "/#due",
                dedup_key=f"requirement:{requirement.id}:{state.value}",
                recipients=self._recipients(people, requirement, state),
            )
            for requirement, state in requirements_needing_reminder(today)
        ]

    @staticmethod
    def _recipients(
        people: People, requirement: Requirement, state: RequirementState
    ) -> frozenset[uuid.UUID]:
        officers = people.officers_who(
            Permission.MANAGE_REQUIREMENTS, requirement.organisation_id, lambda _actor: True
        )
        named = people.user(str(requirement.responsible_user_id)) if requirement.responsible_user_id else None
        if named is not None:
            answering = frozenset({named.id})
        elif requirement.responsible_role == ResponsibleRole.MEMBER.value:
            answering = people.members_of(requirement.organisation_id)
        else:
            answering = officers
        return answering | officers if state is RequirementState.OVERDUE else answering


SOURCES: list[ReminderSource] = [TranchesDue(), RequirementsDue()]
