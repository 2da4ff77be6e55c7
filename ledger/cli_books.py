"""``ledger books ...``: year-end closing from the server's command line.

Closing a year is a finance officer's act, so the command acts as one (``--as USERNAME``) and the
audit trail names that person, as it would for the same click on the books page.
"""

from __future__ import annotations

import sys
import uuid

import click
from flask.cli import AppGroup

from ledger.database import unit_of_work
from ledger.errors import LedgerError
from ledger.models.books import JournalEntry
from ledger.models.user import Role
from ledger.money import Money
from ledger.services import users, year_end
from ledger.services.access import Actor
from ledger.services.organisations import get_organisation

books_group = AppGroup("books", help="The books: close a year (年末结转).")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _finance_officer(username: str) -> Actor:
    user = users.find_user(username)
    if not user.is_active:
        raise LedgerError(f"The user {user.username} is disabled.")
    if user.role != Role.FINANCE_OFFICER.value:
        raise LedgerError(f"{user.username} is not a finance officer; a year is closed by one.")
    return Actor.of(user)


def _entry_lines(entry: JournalEntry) -> list[str]:
    lines = [f"  {entry.entry_date.isoformat()} {entry.description}"]
    for posting in entry.postings:
        side = "Dr" if posting.side == "debit" else "Cr"
        fund = f" fund {posting.fund_id}" if posting.fund_id else ""
        restriction = f" {posting.restriction}" if posting.restriction else ""
        amount = Money(posting.currency, posting.amount_minor)
        lines.append(f"    {side} {posting.account_code} {amount} {posting.currency}{fund}{restriction}")
    return lines


@books_group.command("close-year")
@click.argument("arguments", nargs=-1, metavar="[ORG_ID] YEAR")
@click.option(
    "--all", "every_organisation", is_flag=True, help="Every organisation whose twelve months are closed."
)
@click.option(
    "--as",
    "username",
    required=True,
    help="The finance officer who closes the year (recorded in the audit trail).",
)
def close_year_command(arguments: tuple[str, ...], every_organisation: bool, username: str) -> None:
    """Close YEAR of ORG_ID's books (or of every organisation with --all) into net assets.

    Posts the closing entries dated 31 December (revenue to 3101/3102, expenses from 3101) and
    prints them. With --all, organisations that cannot close the year yet (a month open, an
    earlier year not closed, nothing to close, already closed) are listed with the reason.
    """
    expected = 1 if every_organisation else 2
    if len(arguments) != expected:
        _fail("give YEAR with --all, or ORG_ID and YEAR")
        return
    try:
        year = int(arguments[-1])
        organisation_id = None if every_organisation else uuid.UUID(arguments[0])
    except ValueError:
        _fail("ORG_ID is an organisation's id (a UUID) and YEAR a year such as 2025")
        return
    report: list[str] = []
    try:
        with unit_of_work():
            actor = _finance_officer(username)
            if organisation_id is None:
                result = year_end.close_year_for_all(actor, year)
                closed, skipped = result.closed, result.skipped
            else:
                closed, skipped = [year_end.close_year(actor, organisation_id, year)], []
            # Written out before the commit, while the entries are at hand.
            for done in closed:
                name = get_organisation(actor, done.organisation_id).name
                count = len(done.entries)
                report.append(
                    f"closed {year} of {name} ({done.organisation_id}): "
                    f"{count} {'entry' if count == 1 else 'entries'}"
                )
                for entry in done.entries:
                    report += _entry_lines(entry)
            report += [f"skipped {s.name} ({s.organisation_id}): {s.reason}" for s in skipped]
            if organisation_id is None:
                report.append(f"{len(closed)} closed, {len(skipped)} skipped")
    except LedgerError as error:
        _fail(error.detail)
        return
    for line in report:
        click.echo(line)
