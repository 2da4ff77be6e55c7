"""The audit trail as a person reads it: each entry in words, who did it, what it was about, what changed.

The entries are read through ``audit_log.read_entry_page`` (a scoped reader sees their area's
only); this module names the action, the actor and the subject, and sets the subject's state
before the entry beside its state after it (the previous entry about the same subject), field by
field, for the fields that changed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from sqlalchemy import select

from ledger.extensions import db
from ledger.messages import Message, translatable
from ledger.models.audit import AuditEntry
from ledger.models.books import AccountingPeriod
from ledger.models.community import Community
from ledger.models.disbursement import Disbursement
from ledger.models.expense_report import ExpenseReport
from ledger.models.fund import BudgetRevision, Fund
from ledger.models.organisation import Organisation
from ledger.models.user import User
from ledger.replay.compare import rows_of
from ledger.services import audit_log
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.audit_changes import PEOPLE_FIELDS, Change, ValueWords, short
from ledger.services.audit_reach import entry_reach

# Each action the services record, in words (the subject is named beside it).
ACTION_WORDS: dict[str, Message] = {
    "expense_report.created": translatable("started an expense report"),
    "expense_report.lines_set": translatable("changed an expense report's lines"),
    "expense_report.submitted": translatable("submitted an expense report"),
    "expense_report.approved": translatable("approved an expense report"),
    "expense_report.returned": translatable("returned an expense report for changes"),
    "expense_report.rejected": translatable("rejected an expense report"),
    "expense_report.voided": translatable("voided an expense report"),
    "expense_report.invoice_verified": translatable("recorded an invoice as verified"),
    "disbursement.prepared": translatable("prepared a disbursement"),
    "disbursement.approved": translatable("approved a disbursement"),
    "disbursement.paid": translatable("paid a disbursement"),
    "disbursement.cancelled": translatable("cancelled a disbursement"),
    "disbursement.reversed": translatable("reversed a disbursement's payment"),
    "fund.drafted": translatable("drafted a fund"),
    "fund.updated": translatable("changed a fund"),
    "fund.activated": translatable("activated a fund"),
    "fund.suspended": translatable("suspended a fund"),
    "fund.resumed": translatable("resumed a fund"),
    "fund.closed": translatable("closed a fund"),
    "fund.budget_changed": translatable("changed a fund's budget"),
    "fund.schedule_set": translatable("set a fund's payment schedule"),
    "fund.refunded": translatable("recorded a refund to the funder"),
    "fund.refund_reversed": translatable("reversed a refund to the funder"),
    "budget_revision.proposed": translatable("proposed a budget revision"),
    "budget_revision.approved": translatable("approved a budget revision"),
    "budget_revision.rejected": translatable("rejected a budget revision"),
    "requirement.created": translatable("added something that is due"),
    "requirement.changed": translatable("changed something that is due"),
    "requirement.done": translatable("recorded something due as done"),
    "requirement.withdrawn": translatable("withdrew something that was due"),
    "organisation.created": translatable("added an organisation"),
    "organisation.updated": translatable("changed an organisation"),
    "organisation.registered": translatable("recorded an organisation's registration"),
    "organisation.deregistered": translatable("recorded an organisation's deregistration"),
    "organisation.deleted": translatable("removed an organisation"),
    "community.created": translatable("added a community"),
    "community.updated": translatable("changed a community"),
    "community.deleted": translatable("removed a community"),
    "user.created": translatable("added a user"),
    "user.updated": translatable("changed a user"),
    "user.password_changed": translatable("changed a password"),
    "user.tokens_revoked": translatable("revoked a user's API keys"),
    "user.preferences_changed": translatable("changed their notification settings"),
    "webhook.registered": translatable("registered a webhook"),
    "webhook.removed": translatable("removed a webhook"),
    "token.issued": translatable("issued an API key"),
    "token.revoked": translatable("revoked an API key"),
    "period.opened": translatable("opened an accounting month"),
    "period.closed": translatable("closed an accounting month"),
    "period.reopened": translatable("reopened an accounting month"),
    "period.reason": translatable("gave the reason for a month's close or reopening"),
    "period.balances_retaken": translatable("took a month's balances again"),
    "books.year_closed": translatable("closed a financial year"),
    "books.year_reopened": translatable("reopened a financial year"),
    "journal_entry.posted": translatable("posted a journal entry"),
    "receipt.uploaded": translatable("attached a receipt"),
    "receipt.restored": translatable("restored a receipt file"),
    "statement.issued": translatable("issued a statement"),
    "export.downloaded": translatable("downloaded figures as a spreadsheet"),
    "ocds.published": translatable("published OCDS releases of procurement contracts"),
    "import.committed": translatable("imported rows from a spreadsheet"),
    "reference_data.loaded": translatable("loaded a reference list"),
    "replay.baseline": translatable("recorded the tables' starting state"),
}

# The family an action belongs to (``ENTRY_KINDS`` in ``ledger.inputs.audit``).
_KIND_OF_FAMILY = {
    "expense_report": "expense_report",
    "receipt": "expense_report",
    "disbursement": "disbursement",
    "fund": "fund",
    "budget_revision": "fund",
    "requirement": "fund",
    "organisation": "organisation",
    "community": "community",
    "user": "people",
    "token": "people",
    "period": "books",
    "books": "books",
    "journal_entry": "books",
    "statement": "books",
    "export": "books",
    "ocds": "fund",
}

KIND_NAMES: dict[str, Message] = {
    "expense_report": translatable("Expense reports"),
    "disbursement": translatable("Disbursements"),
    "fund": translatable("Funds and budgets"),
    "organisation": translatable("Organisations"),
    "community": translatable("Communities"),
    "people": translatable("Users and API keys"),
    "books": translatable("Books and statements"),
    "other": translatable("Other"),
}


def kind_of(action: str) -> str:
    return _KIND_OF_FAMILY.get(action.partition(".")[0], "other")


def action_words(action: str) -> Message:
    """``action`` in words; an action without its own wording still reads (its family, and the code)."""
    words = ACTION_WORDS.get(action)
    if words is not None:
        return words
    return translatable("recorded %(action)s (%(kind)s)", action=action, kind=KIND_NAMES[kind_of(action)])


@dataclass(frozen=True)
class EntryFilters:
    organisation_id: uuid.UUID | None = None
    fund_id: uuid.UUID | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class ReadableEntry:
    seq: int
    ts: str
    actor: str
    words: Message
    kind: str
    subject_type: str
    subject: str
    changes: list[Change] = field(default_factory=list)
    created: bool = False
    removed: bool = False
    raw: str = ""


@dataclass(frozen=True)
class BrowsePage:
    entries: list[ReadableEntry]
    next_after: int | None


# How many entries a page shows, and how many it looks at to fill one.
PAGE = 20
WINDOW = 1000


def browse(actor: Actor, after: int, filters: EntryFilters) -> BrowsePage:
    """A page of readable entries after ``after`` that ``actor`` may read and ``filters`` keep."""
    page = audit_log.read_entry_page(actor, after, WINDOW, scan_limit=WINDOW)
    owners = _Owners()
    kept: list[tuple[AuditEntry, dict[str, Any]]] = []
    for entry in page.entries:
        decoded = json.loads(bytes(entry.canonical))
        if _keeps(filters, entry, decoded, owners):
            kept.append((entry, decoded))
            if len(kept) == PAGE:
                break
    full = len(kept) == PAGE
    last_seen = kept[-1][0].seq if full else page.scanned_to
    more = full or not page.at_end
    return BrowsePage(_readable(kept), last_seen if more else None)


def _keeps(filters: EntryFilters, entry: AuditEntry, decoded: Mapping[str, Any], owners: _Owners) -> bool:
    if filters.kind and kind_of(entry.action) != filters.kind:
        return False
    day = entry.ts[:10]
    if filters.date_from and day < filters.date_from.isoformat():
        return False
    if filters.date_to and day > filters.date_to.isoformat():
        return False
    if filters.fund_id and str(filters.fund_id) not in _funds_of(entry, decoded):
        return False
    if filters.organisation_id:
        wanted = str(filters.organisation_id)
        reach = entry_reach(decoded)
        if wanted in reach.organisation_ids:
            return True
        return reach.owned_subject is not None and owners.organisation_of(*reach.owned_subject) == wanted
    return True


def _funds_of(entry: AuditEntry, decoded: Mapping[str, Any]) -> set[str]:
    funds: set[str] = set()
    if entry.subject_type == "fund":
        funds.add(entry.subject_id)
    data = decoded.get("data")
    state = data.get("state") if isinstance(data, Mapping) else None
    if isinstance(state, Mapping) and state.get("fund_id"):
        funds.add(str(state["fund_id"]))
    for row in rows_of(decoded):
        image = row.get("row")
        if isinstance(image, Mapping) and image.get("fund_id"):
            funds.add(str(image["fund_id"]))
        key = row.get("key")
        if row.get("table") == "fund" and isinstance(key, list) and len(key) == 1:
            funds.add(str(key[0]))
    return funds


class _Owners:
    """The organisation of a fund, report, disbursement or revision, looked up once each."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], str | None] = {}

    def organisation_of(self, subject_type: str, subject_id: str) -> str | None:
        key = (subject_type, subject_id)
        if key not in self._known:
            self._known[key] = self._look_up(subject_type, subject_id)
        return self._known[key]

    @staticmethod
    def _look_up(subject_type: str, subject_id: str) -> str | None:
        ident = _uuid(subject_id)
        if ident is None:
            return None
        if subject_type == "budget_revision":
            revision = db.session.get(BudgetRevision, ident)
            fund = db.session.get(Fund, revision.fund_id) if revision else None
            return str(fund.organisation_id) if fund else None
        model: Any = {"fund": Fund, "expense_report": ExpenseReport, "disbursement": Disbursement}.get(
            subject_type
        )
        thing: Any = db.session.get(model, ident) if model else None
        return str(thing.organisation_id) if thing is not None else None


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _readable(kept: list[tuple[AuditEntry, dict[str, Any]]]) -> list[ReadableEntry]:
    people = _people({e.actor_id for e, _ in kept} | _people_in_states(kept))
    values = ValueWords(people)
    names = _SubjectNames()
    out = []
    for entry, decoded in kept:
        data: Mapping[str, Any] = decoded["data"] if isinstance(decoded.get("data"), Mapping) else {}
        has_state = "state" in data
        after = data.get("state") if has_state else {k: v for k, v in data.items() if k != "rows"}
        before = _state_before(entry) if has_state else None
        subject_state = after or before or {}
        out.append(
            ReadableEntry(
                seq=entry.seq,
                ts=entry.ts[:19].replace("T", " "),
                actor=people.get(entry.actor_id) or short(entry.actor_id),
                words=action_words(entry.action),
                kind=kind_of(entry.action),
                subject_type=entry.subject_type,
                subject=names.name(entry.subject_type, entry.subject_id, subject_state),
                changes=values.changes(before, after),
                created=has_state and before is None and after is not None,
                removed=has_state and after is None,
                raw=json.dumps(decoded, ensure_ascii=False, indent=1),
            )
        )
    return out


def _state_before(entry: AuditEntry) -> dict[str, Any] | None:
    """The subject's state in the previous entry about it that carried one (None when there is none)."""
    statement = (
        select(AuditEntry.canonical)
        .where(
            AuditEntry.subject_type == entry.subject_type,
            AuditEntry.subject_id == entry.subject_id,
            AuditEntry.seq < entry.seq,
        )
        .order_by(AuditEntry.seq.desc())
        .limit(5)
    )
    for canonical in db.session.scalars(statement):
        data = json.loads(bytes(canonical)).get("data")
        if isinstance(data, Mapping) and "state" in data:
            state = data["state"]
            return dict(state) if isinstance(state, Mapping) else None
    return None


def _people_in_states(kept: list[tuple[AuditEntry, dict[str, Any]]]) -> set[str]:
    found: set[str] = set()
    for _entry, decoded in kept:
        data = decoded.get("data")
        state = data.get("state") if isinstance(data, Mapping) else None
        if isinstance(state, Mapping):
            found |= {str(state[k]) for k in PEOPLE_FIELDS if state.get(k)}
            comments = state.get("comments")
            if isinstance(comments, list):
                found |= {str(c["by"]) for c in comments if isinstance(c, Mapping) and c.get("by")}
    return found


def _people(ids: set[str]) -> dict[str, str]:
    uuids = [u for u in (_uuid(i) for i in ids) if u is not None]
    names: dict[str, str] = {"operator": translatable("the operator (command line)")}
    if uuids:
        for user in db.session.scalars(select(User).where(User.id.in_(uuids))):
            names[str(user.id)] = user.display_name or user.username
    return names


class _SubjectNames:
    """What an entry is about, named: the organisation, community, fund, report or person."""

    _MODELS: ClassVar[dict[str, Any]] = {
        "organisation": Organisation,
        "community": Community,
        "fund": Fund,
        "expense_report": ExpenseReport,
        "user": User,
        "disbursement": Disbursement,
        "budget_revision": BudgetRevision,
        "accounting_period": AccountingPeriod,
    }

    def name(self, subject_type: str, subject_id: str, state: Mapping[str, Any]) -> str:
        model = self._MODELS.get(subject_type)
        ident = _uuid(subject_id)
        thing = db.session.get(model, ident) if model is not None and ident is not None else None
        if thing is None:
            for key in ("title", "name", "display_name", "username"):
                if state.get(key):
                    return str(state[key])
            return short(subject_id)
        if isinstance(thing, (Organisation, Community)):
            return thing.name
        if isinstance(thing, (Fund, ExpenseReport)):
            return thing.title
        if isinstance(thing, User):
            return thing.display_name or thing.username
        if isinstance(thing, Disbursement | BudgetRevision):
            fund = db.session.get(Fund, thing.fund_id)
            return fund.title if fund else short(subject_id)
        if isinstance(thing, AccountingPeriod):
            organisation = db.session.get(Organisation, thing.organisation_id)
            where = organisation.name if organisation else ""
            return f"{where} {thing.year}-{thing.month:02d}".strip()
        return short(subject_id)


@dataclass(frozen=True)
class FilterChoices:
    organisations: list[tuple[str, str]]
    funds: list[tuple[str, str]]


def filter_choices(actor: Actor) -> FilterChoices:
    """The organisations and funds the reader may filter by: those in their area, by name."""
    authorize(actor, Permission.READ_AUDIT_TRAIL)
    visible = visible_organisation_ids(actor)
    organisations = select(Organisation.id, Organisation.name).order_by(Organisation.name)
    funds = select(Fund.id, Fund.title).order_by(Fund.title)
    if visible is not None:
        organisations = organisations.where(Organisation.id.in_(visible))
        funds = funds.where(Fund.organisation_id.in_(visible))
    return FilterChoices(
        [(str(i), n) for i, n in db.session.execute(organisations)],
        [(str(i), t) for i, t in db.session.execute(funds)],
    )
