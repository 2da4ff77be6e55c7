"""Every organisation's trial balance, rebuilt from an export bundle alone (``verify DIR --books``).

The bundle's entries are replayed into a fresh in-memory database
(:func:`ledger.replay.rebuild.rebuilt_service`) and the service's own trial balance is computed
there, as of the last day anything was booked: figures that owe nothing to the service's
database. Money is printed as decimal strings, never floats.

This module imports Flask and the models; :mod:`ledger.audit.verify` imports it only when
``--books`` is given, so the plain verifier still needs neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ledger.audit.bundle import ENTRIES_FILE


@dataclass(frozen=True)
class AccountLine:
    code: str
    name_zh: str
    name_en: str
    currency: str
    debit: str
    credit: str
    balance: str


@dataclass(frozen=True)
class OrganisationBooks:
    name: str
    credit_code: str | None  # None for a filed (备案) organisation, named by its filing instead
    filing_number: str | None
    accounts: list[AccountLine]
    totals: list[tuple[str, str, str, str]]
    """(currency, debit, credit, balance) per currency."""


@dataclass(frozen=True)
class RebuiltBooks:
    entries: int
    as_of: date | None
    organisations: list[OrganisationBooks]

    def lines(self) -> list[str]:
        """The trial balances as printed: an organisation, then one line per account, then totals."""
        if self.as_of is None:
            return [f"books rebuilt from the bundle's {self.entries} entries: nothing has been booked"]
        lines = [
            f"books rebuilt from the bundle's {self.entries} entries alone; trial balances as of "
            f"{self.as_of.isoformat()} (the last day booked)"
        ]
        for books in self.organisations:
            named = (
                f"credit code {books.credit_code}"
                if books.credit_code
                else f"filing number {books.filing_number}"
            )
            lines.append(f"organisation {books.name} ({named})")
            if not books.accounts:
                lines.append("  no postings")
                continue
            lines.append("  account\tname\tcurrency\tdebit\tcredit\tbalance")
            for account in books.accounts:
                lines.append(
                    f"  {account.code}\t{account.name_zh} {account.name_en}\t{account.currency}\t"
                    f"{account.debit}\t{account.credit}\t{account.balance}"
                )
            for currency, debit, credit, balance in books.totals:
                lines.append(f"  totals\t\t{currency}\t{debit}\t{credit}\t{balance}")
        return lines


def _entries(directory: Path) -> Iterator[dict[str, Any]]:
    with (directory / ENTRIES_FILE).open("rb") as lines:
        for line in lines:
            yield json.loads(line)


def rebuilt_books(directory: Path, progress: Callable[[int], None] | None = None) -> RebuiltBooks:
    """Replay the bundle in ``directory`` and compute every organisation's trial balance.

    Raises :class:`ledger.replay.rebuild.RebuildError` when the entries' rows cannot be applied.
    """
    from sqlalchemy import func, select

    from ledger.extensions import db
    from ledger.models.books import Posting
    from ledger.models.organisation import Organisation
    from ledger.models.user import Role
    from ledger.replay.rebuild import rebuilt_service
    from ledger.services.access import Actor
    from ledger.services.trial_balance import trial_balance

    auditor = Actor(None, "offline auditor", Role.AUDITOR)  # reads every organisation's books

    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for entry in _entries(directory):
            count += 1
            yield entry

    with rebuilt_service(counted(), progress):
        as_of = db.session.scalar(select(func.max(Posting.entry_date)))
        organisations = []
        if as_of is not None:
            for organisation in db.session.scalars(
                select(Organisation).order_by(Organisation.credit_code.nulls_last(), Organisation.id)
            ):
                balance = trial_balance(auditor, organisation.id, as_of)
                organisations.append(
                    OrganisationBooks(
                        organisation.name,
                        organisation.credit_code,
                        organisation.filing_number,
                        [
                            AccountLine(
                                row.account_code,
                                row.name_zh,
                                row.name_en,
                                row.currency,
                                str(row.debit),
                                str(row.credit),
                                str(row.balance),
                            )
                            for row in balance.rows
                        ],
                        [
                            (currency, str(debit), str(credit), str(debit - credit))
                            for currency, (debit, credit) in sorted(balance.totals().items())
                        ],
                    )
                )
    return RebuiltBooks(count, as_of, organisations)
