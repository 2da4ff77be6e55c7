"""What booked a posting: the business event behind its journal entry, seen through reversals.

A reversal belongs to the event it reverses (a payment the bank returned is a payment undone,
a voided report is spending undone), so every figure defined by event reads ``POSTING_EVENT``
rather than the entry's own ``source``: the fund figures, the restriction treatment, the
statements' exclusion of the year-end closing. One definition, used by all of them.
"""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy.orm import aliased

from ledger.models.books import EntrySource, JournalEntry, Posting

REVERSED_ENTRY = aliased(JournalEntry, name="reversed_entry")

#: The event of a posting: its entry's source, or for a reversal the source of what it reverses.
POSTING_EVENT = func.coalesce(REVERSED_ENTRY.source, JournalEntry.source)

Columns = TypeVarTuple("Columns")


def with_events(statement: Select[*Columns]) -> Select[*Columns]:
    """``statement`` over postings, joined to the entries that ``POSTING_EVENT`` reads."""
    return statement.join(JournalEntry, JournalEntry.id == Posting.journal_entry_id).outerjoin(
        REVERSED_ENTRY, REVERSED_ENTRY.id == JournalEntry.reverses_id
    )


def is_year_end_closing() -> ColumnElement[bool]:
    """A posting of a year-end closing entry, or of the reversal of one (never NULL)."""
    return POSTING_EVENT.in_([EntrySource.YEAR_END_CLOSE.value])
