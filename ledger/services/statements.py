"""Issuing compliance statements: who may, which checkpoint they are drawn from, and the record.

A statement's figures can be read as JSON at any time (``*_report``: no side effects). Issuing
one as a PDF (``issue_*``) first makes sure a signed audit checkpoint covers every entry
committed so far, signing one if needed, and prints that checkpoint on the statement; then it
renders the PDF and records ``statement.issued`` in the audit trail with the document's SHA-256,
so an auditor can later tie any copy back to the trail. The record also names the subject, the
period (or year), the checkpoint size and the business day the figures were computed on
(``business_date``): all ``ledger statement check`` needs to recompute the figures from an export
bundle alone (``ledger/statement_check.py``).

Because signing the checkpoint commits the sequencer's own work, an ``issue_*`` function must be
called before anything else in its transaction changes state (as the API views do).

A statement of the books is **provisional** (未结账, a 临时报表) while its figures can still
change: when its period has not ended yet (its last day is today or later, in China), or when a
month of the period is still open in the books of an organisation it covers (a month with no
``accounting_period`` row has never been posted to and does not count). The figures of the
fund-use statement, the organisation statements and the lottery disclosure carry
``provisional``, ``provisional_reasons`` (``period_not_ended``, ``months_open``) and
``open_months`` (``YYYY-MM``), and every PDF of a provisional statement says so on every page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from ledger.audit.trail import sign_checkpoint_now
from ledger.business_dates import business_today
from ledger.config import current_settings
from ledger.errors import Conflict, NotFound
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.books import AccountingPeriod, PeriodStatus
from ledger.models.fund import Fund, FundKind, FundStatus
from ledger.models.organisation import Organisation
from ledger.services import requirement_filing
from ledger.services.access import Actor, Permission, authorize, visible_organisation_ids
from ledger.services.audit_subjects import record_event
from ledger.services.audit_verification import verify_database
from ledger.services.funds import get_fund
from ledger.services.statement_figures.fund_use import fund_use_figures
from ledger.services.statement_figures.lottery import lottery_disclosure_figures
from ledger.services.statement_figures.organisation import organisation_statement_figures
from ledger.services.tree import organisation_ids_within
from ledger.statements.attestation import attestation_figures
from ledger.statements.period import StatementPeriod
from ledger.statements.render import CheckpointStamp, render_statement
from ledger.statements.render import IssuedStatement as IssuedStatement  # callers name it from here


@dataclass(frozen=True)
class StatementKind:
    template: str
    title_zh: str
    title_en: str


FUND_USE = StatementKind("fund_use.html", "资金使用情况表", "Fund-use statement")
ORGANISATION = StatementKind("organisation.html", "会计报表", "Financial statements")
LOTTERY_DISCLOSURE = StatementKind(
    "lottery.html", "彩票公益金使用情况公告", "Annual usage disclosure of welfare-lottery funds"
)
ATTESTATION = StatementKind("attestation.html", "审计追踪验证证明", "Audit-trail attestation")


def current_checkpoint() -> CheckpointStamp:
    """A signed checkpoint covering every entry committed so far (signed now if none does)."""
    checkpoint = sign_checkpoint_now()
    if checkpoint is None:
        raise Conflict(
            translatable(
                "The audit trail is still empty, so there is no checkpoint to draw a statement from."
            ),
            code="statement.no_checkpoint",
        )
    return CheckpointStamp(
        size=checkpoint.size,
        root_hash=checkpoint.root.hex(),
        key_id=checkpoint.key_id,
        signed_at=checkpoint.signed_at,
        origin=current_settings().log_origin,
    )


def _issue(
    actor: Actor,
    kind: StatementKind,
    figures_of: Callable[[date], Mapping[str, Any]],
    *,
    subject_type: str,
    subject_id: object,
    filename: str,
    lang: str,
    extra: Mapping[str, object],
) -> IssuedStatement:
    checkpoint = current_checkpoint()
    # The business day the figures are computed on (it decides whether they are provisional),
    # recorded so that ``ledger statement check`` can recompute them exactly from the trail.
    today = business_today()
    figures = figures_of(today)
    pdf = render_statement(
        kind.template, figures, checkpoint, title_zh=kind.title_zh, title_en=kind.title_en, lang=lang
    )
    issued = IssuedStatement(pdf, filename, checkpoint)
    record_event(
        actor,
        "statement.issued",
        subject_type,
        subject_id,
        {
            "statement": str(figures["statement"]),
            **extra,
            "lang": lang,
            "checkpoint_size": checkpoint.size,
            "business_date": today.isoformat(),
            "sha256": issued.sha256,
            "bytes": len(pdf),
        },
    )
    return issued


PERIOD_NOT_ENDED = "period_not_ended"
MONTHS_OPEN = "months_open"


def provisional_marking(
    organisation_ids: Iterable[uuid.UUID], period: StatementPeriod, today: date | None = None
) -> dict[str, Any]:
    """Whether a statement of these organisations' books for ``period`` is provisional, and why.

    ``{"provisional": bool, "provisional_reasons": [...], "open_months": ["2026-11", ...]}``:
    the period has not ended (its last day is not before today in China), and/or a month of the
    period is open in the books of one of the organisations (months listed once, in order).
    ``today`` is the business day to judge on (default: today in China).
    """
    reasons: list[str] = []
    if not period.end < (business_today() if today is None else today):
        reasons.append(PERIOD_NOT_ENDED)
    wanted = set(organisation_ids)
    first = period.start.year * 12 + period.start.month - 1
    last = period.end.year * 12 + period.end.month - 1
    open_months: set[tuple[int, int]] = set()
    if wanted:
        rows = db.session.execute(
            select(AccountingPeriod.year, AccountingPeriod.month).where(
                AccountingPeriod.organisation_id.in_(wanted),
                AccountingPeriod.status == PeriodStatus.OPEN.value,
                AccountingPeriod.year >= period.start.year,
                AccountingPeriod.year <= period.end.year,
            )
        ).all()
        open_months = {(year, month) for year, month in rows if first <= year * 12 + month - 1 <= last}
    if open_months:
        reasons.append(MONTHS_OPEN)
    return {
        "provisional": bool(reasons),
        "provisional_reasons": reasons,
        "open_months": [f"{year:04d}-{month:02d}" for year, month in sorted(open_months)],
    }


def fund_use_report(
    actor: Actor, fund_id: uuid.UUID, period: StatementPeriod, today: date | None = None
) -> dict[str, Any]:
    """The fund-use statement's figures (an organisation member: their own funds only)."""
    fund = get_fund(actor, fund_id)
    authorize(actor, Permission.READ_STATEMENTS, fund.organisation_id)
    figures = fund_use_figures(fund, period)
    return {**figures, **provisional_marking([fund.organisation_id], period, today)}


def issue_fund_use_statement(
    actor: Actor, fund_id: uuid.UUID, period: StatementPeriod, lang: str = "zh"
) -> IssuedStatement:
    """Render the fund-use statement as PDF/A-3b, drawn from a signed checkpoint, and record it."""
    fund = get_fund(actor, fund_id)
    authorize(actor, Permission.ISSUE_STATEMENTS, fund.organisation_id)
    issued = _issue(
        actor,
        FUND_USE,
        lambda today: fund_use_report(actor, fund_id, period, today),
        subject_type="fund",
        subject_id=fund.id,
        filename=f"fund-use-{fund.reference}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.pdf",
        lang=lang,
        extra={"period": f"{period.start}..{period.end}"},
    )
    requirement_filing.fund_use_statement_issued(actor, fund, period.end, issued.sha256, business_today())
    return issued


def _organisation(actor: Actor, organisation_id: uuid.UUID, permission: Permission) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        authorize(actor, permission)
        raise NotFound.thing("organisation", organisation_id)
    authorize(actor, permission, organisation.id)
    return organisation


def organisation_report(
    actor: Actor, organisation_id: uuid.UUID, period: StatementPeriod, today: date | None = None
) -> dict[str, Any]:
    """The figures of 会民非01/02/03 (members: their own organisation)."""
    organisation = _organisation(actor, organisation_id, Permission.READ_STATEMENTS)
    figures = organisation_statement_figures(organisation.id, period.start, period.end)
    return {**figures, **provisional_marking([organisation.id], period, today)}


def issue_organisation_statements(
    actor: Actor, organisation_id: uuid.UUID, period: StatementPeriod, lang: str = "zh"
) -> IssuedStatement:
    """Render 会民非01表, 02表 and 03表 for the period as one PDF, drawn from a signed checkpoint."""
    organisation = _organisation(actor, organisation_id, Permission.ISSUE_STATEMENTS)
    return _issue(
        actor,
        ORGANISATION,
        lambda today: organisation_report(actor, organisation_id, period, today),
        subject_type="organisation",
        subject_id=organisation.id,
        filename=f"statements-{organisation.credit_code or organisation.id}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.pdf",
        lang=lang,
        extra={"period": f"{period.start}..{period.end}"},
    )


def lottery_disclosure_report(
    actor: Actor, funder: str, year: int, today: date | None = None, *, area: Sequence[str] | None = None
) -> dict[str, Any]:
    """A funder's welfare-lottery usage disclosure for a year (finance officers, auditors, admins,
    supervisors): of the grants to organisations in the reader's area, or in ``area`` (the nodes
    an issued disclosure was drawn for, when ``ledger statement check`` recomputes it)."""
    authorize(actor, Permission.READ_DISCLOSURES)
    organisations = _disclosed_organisations(actor, area)
    figures = lottery_disclosure_figures(funder, year, organisations)
    return {
        **figures,
        **provisional_marking(
            _lottery_organisations(funder, year, organisations), StatementPeriod.year(year), today
        ),
    }


def _disclosed_organisations(actor: Actor, area: Sequence[str] | None) -> frozenset[uuid.UUID] | None:
    """The organisations a disclosure may draw on: None for every one."""
    if area is not None:
        return organisation_ids_within(area)
    return visible_organisation_ids(actor)


def disclosure_area(actor: Actor) -> list[str] | None:
    """The nodes a disclosure ``actor`` issues is drawn for: None when they reach everything."""
    if actor.reaches_everything:
        return None
    return [scope for scope in actor.scopes if scope is not None]


def _lottery_organisations(
    funder: str, year: int, organisations: frozenset[uuid.UUID] | None = None
) -> set[uuid.UUID]:
    """The recipients of ``funder``'s lottery grants running in ``year``: whose books it draws on.

    The same funds as ``lottery_disclosure_figures`` reports.
    """
    period = StatementPeriod.year(year)
    statement = select(Fund.organisation_id).where(
        Fund.kind == FundKind.LOTTERY_GRANT.value,
        Fund.funder_name == funder,
        Fund.period_start <= period.end,
        Fund.period_end >= period.start,
        Fund.status != FundStatus.DRAFT.value,
    )
    if organisations is not None:
        statement = statement.where(Fund.organisation_id.in_(organisations))
    return set(db.session.scalars(statement))


def issue_lottery_disclosure(actor: Actor, funder: str, year: int, lang: str = "zh") -> IssuedStatement:
    authorize(actor, Permission.ISSUE_DISCLOSURES)
    area = disclosure_area(actor)
    issued = _issue(
        actor,
        LOTTERY_DISCLOSURE,
        lambda today: lottery_disclosure_report(actor, funder, year, today),
        subject_type="funder",
        subject_id=funder,
        filename=f"lottery-disclosure-{year}.pdf",
        lang=lang,
        extra={"year": year} if area is None else {"year": year, "area": area},
    )
    requirement_filing.lottery_disclosure_issued(
        actor, funder, year, _disclosed_organisations(actor, None), issued.sha256
    )
    return issued


def attestation_report(actor: Actor) -> dict[str, Any]:
    """Verify the audit trail now and state the result (auditors, admins)."""
    authorize(actor, Permission.ATTEST_AUDIT_TRAIL)
    return attestation_figures(verify_database())


def issue_attestation(actor: Actor, lang: str = "zh") -> IssuedStatement:
    """Sign a checkpoint, verify the trail and everything it covers, and render the result."""
    authorize(actor, Permission.ATTEST_AUDIT_TRAIL)
    return _issue(
        actor,
        ATTESTATION,
        lambda _today: attestation_report(actor),
        subject_type="audit_log",
        subject_id=current_settings().log_origin,
        filename="audit-attestation.pdf",
        lang=lang,
        extra={},
    )
