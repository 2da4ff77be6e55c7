"""Funds: their terms, their lifecycle and their budgets.

A fund is drafted by an admin (terms and an initial budget that adds up to the award), then
activated; from then on its terms are fixed and its budget changes only by revisions.
Reallocations between categories (``budget_revisions``) must net to zero.
A fund is closed only when no cash is left on it (spent, or refunded to the funder).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from ledger.business_dates import start_of_day
from ledger.credit_code import credit_code_problem, normalise
from ledger.errors import Conflict, NotFound, ValidationFailed, listed
from ledger.extensions import db
from ledger.messages import Message, translatable
from ledger.models.base import utcnow
from ledger.models.fund import (
    REVENUE_ACCOUNTS,
    BudgetEntry,
    BudgetRevision,
    Fund,
    FundKind,
    FundStatus,
)
from ledger.models.organisation import Organisation
from ledger.models.reference import ExpenseCategory
from ledger.models.region import is_within
from ledger.money import Money, MoneyError
from ledger.services import requirement_filing, tree
from ledger.services.access import (
    Actor,
    Permission,
    authorize,
    may,
    visible_organisation_ids,
)
from ledger.services.audit_subjects import record_event, record_state
from ledger.services.concurrency import check_version
from ledger.services.idempotency import Created, claim_create, reserve_key
from ledger.services.pagination import Page, PageRequest, fetch_page

DEFAULT_CATEGORY_LIST = "CFL-EC-2026"
# Reallocations moving more than this share of the award need a finance officer's approval.
DEFAULT_REVENUE_ACCOUNT = "4401"


@dataclass(frozen=True)
class FundTerms:
    """What an admin writes when drafting a fund (amounts already parsed)."""

    kind: FundKind
    title: str
    reference: str
    funder_name: str
    organisation_id: uuid.UUID
    award: Money
    period_start: date
    period_end: date
    restricted: bool = True
    restriction_purpose: str | None = None
    funder_credit_code: str | None = None
    revenue_account: str = DEFAULT_REVENUE_ACCOUNT
    admin_cost_cap_percent: Decimal | None = None
    banned_categories: tuple[str, ...] = ()
    milestones: tuple[Mapping[str, Any], ...] = ()
    disclosure_deadline: date | None = None
    label_required: bool | None = None
    awarded_on: date | None = None
    signed_on: date | None = None
    category_list_version: str = DEFAULT_CATEGORY_LIST
    # The funding body's node; the drafting admin's own node when omitted (see _funding_node).
    funding_division_code: str | None = None


@dataclass
class Problems:
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, name: str, message: str) -> None:
        self.errors[name].append(message)

    def raise_if_any(self, what: Message) -> None:
        if self.errors:
            raise ValidationFailed(
                translatable("%(what)s: %(problems)s", what=what, problems=listed(self.errors)),
                errors=self.errors,
            )


def categories_of(list_version: str) -> dict[str, ExpenseCategory]:
    """The categories of a list version by code, read once per process and database.

    A version once loaded never changes (``reference_data``), so a copy read once stays true.
    The copies are transient objects of no session, for reading; each call gets its own dict.
    """
    key = (db.engine.url.render_as_string(hide_password=True), list_version)
    known = _CATEGORIES.get(key)
    if known is None:
        columns = [column.key for column in ExpenseCategory.__mapper__.column_attrs]
        known = {
            c.code: ExpenseCategory(**{name: getattr(c, name) for name in columns})
            for c in db.session.scalars(
                select(ExpenseCategory).where(ExpenseCategory.list_version == list_version)
            )
        }
        if not known:
            return {}  # not loaded (yet): nothing to remember
        _CATEGORIES[key] = known
    return dict(known)


_CATEGORIES: dict[tuple[str, str], dict[str, ExpenseCategory]] = {}


def _funding_node(actor: Actor, code: str | None) -> str | None:
    """The funding body's node: one the admin works at or below, the admin's own when only one."""
    if code is None:
        held = [scope for scope in actor.scopes if scope is not None]
        if actor.reaches_everything or len(held) != 1:
            if actor.reaches_everything:
                return None
            raise ValidationFailed.field(
                "funding_division_code",
                translatable("name the node of the funding body (you work at several)"),
            )
        return held[0]
    node = tree.find_node("funding_division_code", code)
    if not actor.covers(node.code):
        raise ValidationFailed.field(
            "funding_division_code",
            translatable("%(code)s is outside the area you work in", code=code),
            code="access.grant_outside_scope",
        )
    return node.code


def _checked_terms(actor: Actor, terms: FundTerms, fund_id: uuid.UUID | None = None) -> FundTerms:
    problems = Problems()
    for name in ("title", "reference", "funder_name"):
        if not str(getattr(terms, name)).strip():
            problems.add(name, translatable("must not be blank"))
    funding_node = _funding_node(actor, terms.funding_division_code)
    organisation = db.session.get(Organisation, terms.organisation_id)
    if organisation is None or not may(actor, Permission.READ_ORGANISATIONS, organisation.id):
        problems.add(
            "organisation_id", translatable("there is no organisation %(id)s", id=str(terms.organisation_id))
        )
    elif not is_within(organisation.community.code, funding_node):
        problems.add(
            "organisation_id",
            translatable(
                "the organisation's community is outside the funding body's area (%(code)s)",
                code=funding_node or "",
            ),
        )
    if not terms.award.is_positive:
        problems.add("award", translatable("must be more than zero"))
    if terms.period_end < terms.period_start:
        problems.add("period_end", translatable("must not be before period_start"))
    # The open data dates the award, the signing and the payments: they come in that order.
    if terms.awarded_on is not None and terms.signed_on is not None and terms.signed_on < terms.awarded_on:
        problems.add("signed_on", translatable("must not be before awarded_on"))
    for name, day in (("awarded_on", terms.awarded_on), ("signed_on", terms.signed_on)):
        if day is not None and day > terms.period_end:
            problems.add(name, translatable("must not be after period_end"))
    code = normalise(terms.funder_credit_code) if terms.funder_credit_code else None
    if code is not None and (problem := credit_code_problem(code)) is not None:
        problems.add("funder_credit_code", problem.message)
    if terms.restricted and not (terms.restriction_purpose or "").strip():
        problems.add("restriction_purpose", translatable("a restricted fund states its purpose"))
    if terms.revenue_account not in REVENUE_ACCOUNTS:
        problems.add(
            "revenue_account",
            translatable("must be one of %(accounts)s", accounts=", ".join(REVENUE_ACCOUNTS)),
        )
    cap = terms.admin_cost_cap_percent
    if cap is not None and not (Decimal(0) <= cap <= Decimal(100) and cap == cap.quantize(Decimal("0.01"))):
        problems.add(
            "admin_cost_cap_percent",
            translatable("must be a percentage from 0 to 100 with at most two decimals"),
        )
    categories = categories_of(terms.category_list_version)
    if not categories:
        problems.add(
            "category_list_version",
            translatable(
                "there is no expense category list '%(version)s'", version=terms.category_list_version
            ),
        )
    for banned in terms.banned_categories:
        if banned not in categories:
            problems.add(
                "banned_categories",
                translatable(
                    "'%(category)s' is not a category of %(version)s",
                    category=banned,
                    version=terms.category_list_version,
                ),
            )
    label_required = terms.label_required
    if terms.kind is FundKind.LOTTERY_GRANT:
        if terms.disclosure_deadline is None:
            problems.add(
                "disclosure_deadline", translatable("a lottery grant has a public disclosure deadline")
            )
        label_required = True if label_required is None else label_required
    milestone_total = 0
    for index, milestone in enumerate(terms.milestones):
        if terms.kind is not FundKind.PROCUREMENT_CONTRACT:
            problems.add("milestones", translatable("only procurement contracts have milestones"))
            break
        try:
            amount = Money.parse(str(milestone.get("amount")), terms.award.currency)
            milestone_total += amount.minor
        except MoneyError as error:
            problems.add(f"milestones.{index}.amount", str(error))
    if milestone_total > terms.award.minor:
        problems.add("milestones", translatable("the milestones add up to more than the award"))
    existing = db.session.scalar(select(Fund.id).where(Fund.reference == terms.reference.strip()))
    if existing is not None and existing != fund_id:
        raise Conflict(
            translatable("A fund with reference '%(reference)s' exists.", reference=terms.reference.strip()),
            errors={"reference": [translatable("is taken")]},
        )
    problems.raise_if_any(translatable("The fund's terms are not valid"))
    return replace(
        terms,
        title=terms.title.strip(),
        reference=terms.reference.strip(),
        funder_name=terms.funder_name.strip(),
        funder_credit_code=code,
        label_required=bool(label_required),
        funding_division_code=funding_node,
    )


def _apply_terms(fund: Fund, terms: FundTerms) -> None:
    fund.kind = terms.kind.value
    fund.title = terms.title
    fund.reference = terms.reference
    fund.funder_name = terms.funder_name
    fund.funder_credit_code = terms.funder_credit_code
    fund.organisation_id = terms.organisation_id
    fund.currency = terms.award.currency
    fund.award_minor = terms.award.minor
    fund.period_start = terms.period_start
    fund.period_end = terms.period_end
    fund.restricted = terms.restricted
    fund.restriction_purpose = (terms.restriction_purpose or "").strip() or None
    fund.revenue_account = terms.revenue_account
    fund.admin_cost_cap_bp = (
        int(terms.admin_cost_cap_percent * 100) if terms.admin_cost_cap_percent is not None else None
    )
    fund.banned_categories = sorted(set(terms.banned_categories))
    fund.category_list_version = terms.category_list_version
    fund.milestones = [dict(m) for m in terms.milestones]
    fund.disclosure_deadline = terms.disclosure_deadline
    fund.label_required = bool(terms.label_required)
    fund.awarded_on = terms.awarded_on
    fund.signed_on = terms.signed_on
    fund.funding_division_code = terms.funding_division_code


def terms_of(fund: Fund) -> FundTerms:
    return FundTerms(
        kind=FundKind(fund.kind),
        title=fund.title,
        reference=fund.reference,
        funder_name=fund.funder_name,
        organisation_id=fund.organisation_id,
        award=Money(fund.currency, fund.award_minor),
        period_start=fund.period_start,
        period_end=fund.period_end,
        restricted=fund.restricted,
        restriction_purpose=fund.restriction_purpose,
        funder_credit_code=fund.funder_credit_code,
        revenue_account=fund.revenue_account,
        admin_cost_cap_percent=Decimal(fund.admin_cost_cap_bp) / 100
        if fund.admin_cost_cap_bp is not None
        else None,
        banned_categories=tuple(fund.banned_categories),
        milestones=tuple(fund.milestones),
        disclosure_deadline=fund.disclosure_deadline,
        label_required=fund.label_required,
        awarded_on=fund.awarded_on,
        signed_on=fund.signed_on,
        category_list_version=fund.category_list_version,
        funding_division_code=fund.funding_division_code,
    )


def create_fund(actor: Actor, terms: FundTerms, key: str | None) -> Created[Fund]:
    """Draft a fund (admins); idempotent by ``key`` (Idempotency-Key)."""
    authorize(actor, Permission.MANAGE_FUNDS)
    claim = claim_create(key, "fund", vars(terms))
    reservation = reserve_key(actor.audit_identity["id"], claim, "fund", Fund)
    if reservation.earlier is not None:
        return Created(reservation.earlier, created=False)
    terms = _checked_terms(actor, terms)
    fund = Fund(id=reservation.id, status=FundStatus.DRAFT.value)
    _apply_terms(fund, terms)
    db.session.add(fund)
    db.session.flush()
    record_state(actor, "fund.drafted", "fund", fund)
    return Created(fund, created=True)


def get_fund(actor: Actor, fund_id: uuid.UUID) -> Fund:
    fund = db.session.get(Fund, fund_id)
    if fund is None:
        authorize(actor, Permission.READ_FUNDS)
        raise NotFound.thing("fund", fund_id)
    authorize(actor, Permission.READ_FUNDS, fund.organisation_id)
    return fund


def list_funds(
    actor: Actor,
    request: PageRequest,
    *,
    organisation_id: uuid.UUID | None = None,
    kind: FundKind | None = None,
    status: FundStatus | None = None,
    search: str | None = None,
) -> Page[Fund]:
    """Funds, newest first; ``search`` keeps those whose reference, title or funder contains it."""
    authorize(actor, Permission.READ_FUNDS)
    statement = select(Fund).order_by(Fund.period_start.desc(), Fund.reference)
    visible = visible_organisation_ids(actor)
    if visible is not None:
        statement = statement.where(Fund.organisation_id.in_(visible))
    if organisation_id is not None:
        statement = statement.where(Fund.organisation_id == organisation_id)
    if kind is not None:
        statement = statement.where(Fund.kind == kind.value)
    if status is not None:
        statement = statement.where(Fund.status == status.value)
    if search:
        statement = statement.where(
            or_(
                Fund.reference.icontains(search, autoescape=True),
                Fund.title.icontains(search, autoescape=True),
                Fund.funder_name.icontains(search, autoescape=True),
            )
        )
    return fetch_page(statement, request)


def update_fund(
    actor: Actor, fund_id: uuid.UUID, changes: Mapping[str, Any], expected_version: int | None
) -> Fund:
    """Change a draft fund's terms; an active fund's terms are what was agreed."""
    authorize(actor, Permission.MANAGE_FUNDS)
    fund = get_fund(actor, fund_id)
    check_version(fund, expected_version)
    if fund.status != FundStatus.DRAFT.value:
        raise Conflict(
            translatable("Only a draft fund's terms change; an active fund's budget changes by revision."),
            code="fund.not_draft",
        )
    terms = _checked_terms(actor, replace(terms_of(fund), **changes), fund.id)
    budget_total = sum(a.minor for a in budget_of(fund).values())
    if terms.award.currency != fund.currency and budget_total:
        raise ValidationFailed.field(
            "award", translatable("set the budget again after changing the currency")
        )
    _apply_terms(fund, terms)
    db.session.flush()
    record_state(actor, "fund.updated", "fund", fund)
    return fund


def budget_in_force(fund: Fund, as_of: date) -> ColumnElement[bool]:
    """Which budget entries of ``fund`` are in force at the end of the day ``as_of``.

    The agreed (draft) budget holds from the first day of the fund's period, whenever it was
    typed in; a revision holds from the moment it was approved (by the calendar in China).
    """
    cutoff = start_of_day(as_of + timedelta(days=1))
    revised = and_(BudgetEntry.source == "revision", BudgetEntry.effective_at < cutoff)
    if fund.period_start <= as_of:
        return or_(BudgetEntry.source == "draft", revised)
    return revised


def budget_of(fund: Fund, as_of: date | None = None) -> dict[str, Money]:
    """The budget per category, as it stood at the end of the day ``as_of`` (default: now)."""
    statement = budget_statement(fund, as_of).order_by(BudgetEntry.category_code)
    return budget_from(fund, db.session.execute(statement))


def budget_statement(fund: Fund, as_of: date | None = None) -> Select[str, int]:
    """The query :func:`budget_of` reads: (category, total) rows (for a caller that combines queries)."""
    statement = (
        select(BudgetEntry.category_code, func.sum(BudgetEntry.amount_delta_minor))
        .where(BudgetEntry.fund_id == fund.id)
        .group_by(BudgetEntry.category_code)
    )
    if as_of is not None:
        statement = statement.where(budget_in_force(fund, as_of))
    return statement


def budget_from(fund: Fund, rows: Iterable[tuple[str, int]]) -> dict[str, Money]:
    """The budget per category from the rows of :func:`budget_statement` (categories left at zero drop out)."""
    return {code: Money(fund.currency, int(total)) for code, total in rows if int(total)}


def read_budget(actor: Actor, fund_id: uuid.UUID, as_of: date | None = None) -> tuple[Fund, dict[str, Money]]:
    fund = get_fund(actor, fund_id)
    return fund, budget_of(fund, as_of)


def write_budget_changes(
    actor: Actor, fund: Fund, deltas: Mapping[str, int], source: str, revision: BudgetRevision | None = None
) -> None:
    now = utcnow()
    for code, delta in sorted(deltas.items()):
        if delta:
            db.session.add(
                BudgetEntry(
                    fund_id=fund.id,
                    category_code=code,
                    amount_delta_minor=delta,
                    effective_at=now,
                    source=source,
                    revision_id=revision.id if revision is not None else None,
                )
            )
    db.session.flush()
    record_event(
        actor,
        "fund.budget_changed",
        "fund",
        fund.id,
        {
            "source": source,
            "revision_id": str(revision.id) if revision is not None else None,
            "currency": fund.currency,
            "changes": {code: str(Money(fund.currency, d)) for code, d in sorted(deltas.items()) if d},
        },
    )


def check_categories(fund: Fund, codes: set[str], problems: Problems, field_name: str) -> None:
    categories = categories_of(fund.category_list_version)
    for code in sorted(codes):
        if code not in categories:
            problems.add(
                f"{field_name}.{code}",
                translatable("is not a category of %(version)s", version=fund.category_list_version),
            )
        elif code in fund.banned_categories:
            problems.add(f"{field_name}.{code}", translatable("this fund may not be spent on it"))


def budget_setting_refusal(fund: Fund) -> Conflict | None:
    """Why ``fund``'s budget cannot be set directly now (only a draft's is), or None."""
    if fund.status != FundStatus.DRAFT.value:
        return Conflict(
            translatable("The budget of an active fund changes only by revision."), code="fund.not_draft"
        )
    return None


def set_draft_budget(actor: Actor, fund_id: uuid.UUID, lines: Mapping[str, Money]) -> dict[str, Money]:
    """Set a draft fund's budget per category (the total may not exceed the award)."""
    authorize(actor, Permission.MANAGE_FUNDS)
    fund = get_fund(actor, fund_id)
    if (refusal := budget_setting_refusal(fund)) is not None:
        raise refusal
    problems = Problems()
    check_categories(fund, set(lines), problems, "lines")
    for code, amount in lines.items():
        if amount.currency != fund.currency:
            problems.add(f"lines.{code}", translatable("must be in %(currency)s", currency=fund.currency))
        elif amount.minor < 0:
            problems.add(f"lines.{code}", translatable("must not be negative"))
    if sum(a.minor for a in lines.values() if a.currency == fund.currency) > fund.award_minor:
        problems.add(
            "lines",
            translatable(
                "the budget adds up to more than the award (%(award)s)",
                award=Money(fund.currency, fund.award_minor).shown(),
            ),
        )
    problems.raise_if_any(translatable("The budget is not valid"))
    current = budget_of(fund)
    deltas = {
        code: (lines[code].minor if code in lines else 0) - (current[code].minor if code in current else 0)
        for code in set(lines) | set(current)
    }
    write_budget_changes(actor, fund, deltas, "draft")
    return budget_of(fund)


def unspent_cash(fund: Fund) -> Money:
    """Cash received for the fund and not yet paid out or refunded: its bank balance in the books."""
    from ledger.services.fund_figures import figures_of  # fund_figures reads categories from here

    return Money(fund.currency, figures_of(fund).held_in_bank)


# The fund's lifecycle: each action, the statuses it starts from, and the status it leads to.
TRANSITIONS = {
    "activate": ({FundStatus.DRAFT}, FundStatus.ACTIVE),
    "suspend": ({FundStatus.ACTIVE}, FundStatus.SUSPENDED),
    "resume": ({FundStatus.SUSPENDED}, FundStatus.ACTIVE),
    "close": ({FundStatus.ACTIVE, FundStatus.SUSPENDED}, FundStatus.CLOSED),
}

_CANNOT = {
    "activate": translatable("Only a draft fund is activated."),
    "suspend": translatable("Only an active fund is suspended."),
    "resume": translatable("Only a suspended fund is resumed."),
    "close": translatable("Only an active or suspended fund is closed."),
}


def status_change_refusal(fund: Fund, action: str) -> Conflict | None:
    """Why ``fund`` cannot ``action`` (a key of ``TRANSITIONS``) now, or None when it can."""
    allowed_from, _target = TRANSITIONS[action]
    if FundStatus(fund.status) not in allowed_from:
        return Conflict(_CANNOT[action], code="fund.transition_refused")
    if action == "activate":
        total = sum(a.minor for a in budget_of(fund).values())
        if total != fund.award_minor:
            return Conflict(
                translatable(
                    "The budget adds up to %(budget)s, the award is %(award)s: "
                    "they must agree before the fund is active.",
                    budget=Money(fund.currency, total).shown(),
                    award=Money(fund.currency, fund.award_minor).shown(),
                ),
                errors={"budget": [translatable("must add up to the award")]},
            )
    if action == "close":
        left = unspent_cash(fund)
        if not left.is_zero:
            return Conflict(
                translatable(
                    "%(left)s of this fund is unspent: spend or refund it before closing.", left=left.shown()
                ),
                code="fund.unspent",
            )
    return None


def change_fund_status(actor: Actor, fund_id: uuid.UUID, action: str, expected_version: int | None) -> Fund:
    """Activate, suspend, resume or close a fund, by the rules a funder expects."""
    authorize(actor, Permission.MANAGE_FUNDS)
    fund = get_fund(actor, fund_id)
    check_version(fund, expected_version)
    if (refusal := status_change_refusal(fund, action)) is not None:
        raise refusal
    _allowed_from, target = TRANSITIONS[action]
    fund.status = target.value
    if action == "close":
        fund.closed_at = datetime.now(UTC)  # the termination's date in the open data
    db.session.flush()
    if action == "activate":
        # What the fund owes from now on: written before the entry, so it carries the rows.
        requirement_filing.write_schedule(actor, fund)
    record_state(actor, f"fund.{action}d" if action.endswith("e") else f"fund.{action}ed", "fund", fund)
    return fund


def parse_percent(text: str | None, field_name: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed.field(
            field_name, translatable('must be a percentage such as "10" or "12.5"')
        ) from None
    if not value.is_finite():
        raise ValidationFailed.field(field_name, translatable("must be a finite percentage"))
    return value
