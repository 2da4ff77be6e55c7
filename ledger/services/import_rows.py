"""Each imported row made by the service that makes one item through the API, and its refusals
placed at the row and column they concern.

A community row is created by ``communities.create_community``, an organisation row by
``organisations.create_organisation``, a user row by ``users.create_user`` (each with its own
audit entry, as when created one at a time); a fund's budget lines go to ``funds.set_draft_budget``
and its tranches to ``disbursements.set_tranches`` in one call each, as the API's PUT sends them.
No rule is written here: a row is refused where, and with the words with which, the service
refuses it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from ledger.errors import Conflict, LedgerError, RowProblem, ValidationFailed
from ledger.extensions import db
from ledger.imports.kinds import ImportKind
from ledger.messages import Message, translatable
from ledger.models.fund import Fund
from ledger.money import Money
from ledger.services import communities, disbursements, funds, organisations, users
from ledger.services.access import Actor
from ledger.services.amounts import parse_amount


@dataclass
class Row:
    """A row the schema loaded, and the problems found with it."""

    number: int
    data: dict[str, Any]
    problems: list[RowProblem]


@dataclass(frozen=True)
class Where:
    """How to name a place in the file: the import's columns and the letters they were found in."""

    kind: ImportKind
    letters: dict[str, str]

    def problem(self, row: int | None, field: str | None, code: str, message: str) -> RowProblem:
        column = self.kind.column(field) if field else None
        return RowProblem(
            row,
            self.letters.get(field) if column and field else None,
            field if column else None,
            code,
            message,
            column.header if column else None,
        )

    def refusal(
        self, row: int | None, error: LedgerError, field_of: Callable[[str], str] = lambda p: p
    ) -> list[RowProblem]:
        """``error`` at ``row``: one problem per field it names, or one for the row."""
        if not error.errors:
            return [self.problem(row, None, error.code, error.detail)]
        found = []
        for path, messages in error.errors.items():
            field = field_of(path)
            for message in messages:
                # A clash says what it clashes with in its detail ("A community with code … exists").
                shown = error.detail if isinstance(error, Conflict) else message
                found.append(self.problem(row, field, error.code, shown))
        return found


def _lost_race() -> Conflict:
    return Conflict(translatable("A concurrent change conflicts with this one; try again."))


def _one_at_a_time(create: Callable[[Actor, dict[str, Any]], object]) -> Callable[..., None]:
    def create_each(actor: Actor, where: Where, rows: Sequence[Row], fund: Fund | None) -> None:
        for row in rows:
            savepoint = db.session.begin_nested()
            try:
                create(actor, row.data)
                savepoint.commit()
            except LedgerError as error:
                savepoint.rollback()
                row.problems += where.refusal(row.number, error, lambda p: p.split(".")[0])
            except IntegrityError:
                savepoint.rollback()
                row.problems += where.refusal(row.number, _lost_race())

    return create_each


def _community(actor: Actor, data: dict[str, Any]) -> object:
    return communities.create_community(actor, communities.CommunityFields(**data), uuid.uuid4().hex)


def _organisation(actor: Actor, data: dict[str, Any]) -> object:
    code = data.pop("community_code")
    community = communities.community_with_code(actor, code)
    if community is None:
        raise ValidationFailed.field(
            "community_code", translatable("there is no community %(code)s in your area", code=code)
        )
    fields = organisations.OrganisationFields(**data, community_id=community.id)
    return organisations.create_organisation(actor, fields, uuid.uuid4().hex)


def _user(actor: Actor, data: dict[str, Any]) -> object:
    found = []
    for code in data["organisation_codes"]:
        organisation = organisations.organisation_with_code(actor, code)
        if organisation is None:
            raise ValidationFailed.field(
                "organisation_codes",
                translatable("there is no organisation %(code)s in your area", code=code),
            )
        found.append(organisation.id)
    new = users.NewUser(
        username=data["username"],
        display_name=data["display_name"],
        role=data["role"],
        password=data["password"],
        organisation_ids=tuple(found),
        scopes=tuple(data["scopes"]),
    )
    return users.create_user(actor, new, uuid.uuid4().hex)


def _amounts(where: Where, rows: Sequence[Row], currency: str) -> list[tuple[Row, Money]]:
    """Each row's amount read as the API reads it (``parse_amount``); a row that is not money is refused."""
    read = []
    for row in rows:
        try:
            read.append((row, parse_amount(row.data["amount"], currency, "amount")))
        except LedgerError as error:
            row.problems += where.refusal(row.number, error)
    return read


# The budget service names a line by its category ("lines.TRAVEL"); these two refusals are about
# the category itself, the others about the amount.
_CATEGORY_REFUSALS = ("is not a category of %(version)s", "this fund may not be spent on it")


def _set_budget(actor: Actor, where: Where, rows: Sequence[Row], fund: Fund | None) -> None:
    assert fund is not None
    read = _amounts(where, rows, fund.currency)
    by_code = {row.data["category_code"]: row for row, _ in read}
    try:
        funds.set_draft_budget(actor, fund.id, {row.data["category_code"]: amount for row, amount in read})
    except LedgerError as error:
        for path, messages in error.errors.items():
            code = path.removeprefix("lines.") if path.startswith("lines.") else None
            row = by_code.get(code) if code is not None else None
            for message in messages:
                about = isinstance(message, Message) and message.msgid in _CATEGORY_REFUSALS
                field = "category_code" if about else "amount"
                problem = where.problem(row.number if row else None, field, error.code, message)
                (row.problems if row else _loose(rows)).append(problem)
        if not error.errors:
            _loose(rows).append(where.problem(None, None, error.code, error.detail))


def _set_tranches(actor: Actor, where: Where, rows: Sequence[Row], fund: Fund | None) -> None:
    assert fund is not None
    read = _amounts(where, rows, fund.currency)
    terms = [
        disbursements.TrancheTerms(amount, row.data["due_date"], row.data["condition"])
        for row, amount in read
    ]
    try:
        disbursements.set_tranches(actor, fund.id, terms)
    except LedgerError as error:
        for path, messages in error.errors.items():
            parts = path.split(".")  # "tranches.2.amount": the third tranche sent
            row = read[int(parts[1])][0] if len(parts) == 3 and parts[1].isdigit() else None
            for message in messages:
                problem = where.problem(
                    row.number if row else None, parts[-1] if row else "amount", error.code, message
                )
                (row.problems if row else _loose(rows)).append(problem)
        if not error.errors:
            _loose(rows).append(where.problem(None, None, error.code, error.detail))


def _loose(rows: Sequence[Row]) -> list[RowProblem]:
    """Where a problem of the whole table goes (a total over the award): the first row's list,
    reported without a row number (the service is only called with at least one row)."""
    return rows[0].problems


CREATORS: dict[str, Callable[[Actor, Where, Sequence[Row], Fund | None], None]] = {
    "communities": _one_at_a_time(_community),
    "organisations": _one_at_a_time(_organisation),
    "users": _one_at_a_time(_user),
    "budget": _set_budget,
    "tranches": _set_tranches,
}
