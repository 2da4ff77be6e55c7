"""Requirements written and fulfilled by the filings themselves, in the filing's own request.

Activating a fund writes its schedule of requirements (``schedule_for``) before ``fund.activated``
is recorded, so the rows travel in that entry. Filing the matching thing marks a requirement done
in the same request, each recorded as ``requirement.done`` right after the filing's own entry:

- the n-th interim expense report of a fund submitted: the n-th interim requirement (by due date);
- an interim report approved: the fund's tranche conditions (``approved_interim_report``);
- the fund-use statement issued after the fund's period ended, for a period reaching its end:
  the final report;
- a funder's lottery disclosure for a year issued: each of its grants' disclosures for that year.

This module imports no other service that files things (they call it), so it sits below them.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import ColumnElement, select

from ledger.extensions import db
from ledger.models.base import utcnow
from ledger.models.disbursement import Tranche, TrancheCondition
from ledger.models.expense_report import ExpenseReport
from ledger.models.fund import Fund, FundKind, FundStatus
from ledger.models.requirement import Requirement, RequirementKind, ResponsibleRole
from ledger.services.access import Actor
from ledger.services.audit_subjects import record_state

# The final report is due this long after the fund's period ends.
FINAL_REPORT_AFTER = timedelta(days=30)
# A fund that lasts more than this many months owes an interim report at its midpoint.
INTERIM_AFTER_MONTHS = 6
# The lottery usage disclosure of a year is due on 30 June of the next (reference/domain.md §3.1);
# an organisation's annual report (年报) on 31 May of the next.
LOTTERY_DUE = (6, 30)
ANNUAL_REPORT_DUE = (5, 31)

# Who acts on each kind unless an officer says otherwise: the organisation files its reports and
# its annual report and meets a tranche's condition; a disclosure is issued by the funder's officers.
RESPONSIBLE_BY_KIND = {
    RequirementKind.INTERIM_REPORT: ResponsibleRole.MEMBER,
    RequirementKind.FINAL_REPORT: ResponsibleRole.MEMBER,
    RequirementKind.TRANCHE_CONDITION: ResponsibleRole.MEMBER,
    RequirementKind.ANNUAL_REPORT: ResponsibleRole.MEMBER,
    RequirementKind.LOTTERY_DISCLOSURE: ResponsibleRole.OFFICER,
    RequirementKind.DELIVERABLE: ResponsibleRole.MEMBER,
}


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def year_due(year: int, month_day: tuple[int, int]) -> date:
    """The day in the year after ``year`` that something about ``year`` is due."""
    return date(year + 1, *month_day)


def default_title(
    kind: RequirementKind, *, year: int | None = None, tranche_number: int | None = None
) -> tuple[str, str]:
    """The kind's own title, (Chinese, English): stored as ``title`` and ``title_en``."""
    if kind is RequirementKind.INTERIM_REPORT:
        return "中期报告", "Interim report"
    if kind is RequirementKind.FINAL_REPORT:
        return "结项报告", "Final report"
    if kind is RequirementKind.TRANCHE_CONDITION:
        return (
            f"第{tranche_number}期拨款条件：中期报告获批",
            f"Tranche {tranche_number}: an approved interim report",
        )
    if kind is RequirementKind.LOTTERY_DISCLOSURE:
        return f"{year}年度彩票公益金使用情况公告", f"Lottery-fund usage disclosure for {year}"
    return f"{year}年度工作报告（年报）", f"Annual report for {year}"


def _titled(kind: RequirementKind, **details: int | None) -> dict[str, str]:
    zh, en = default_title(kind, **details)
    return {"title": zh, "title_en": en}


def schedule_for(fund: Fund, tranches: Iterable[Tranche], created_by: str) -> list[Requirement]:
    """What an activated fund owes, by the rules of docs/requirements.md (rows not yet added)."""

    def made(kind: RequirementKind, due_on: date, **extra: object) -> Requirement:
        return Requirement(
            id=uuid.uuid4(),
            fund_id=fund.id,
            organisation_id=fund.organisation_id,
            kind=kind.value,
            due_on=due_on,
            responsible_role=RESPONSIBLE_BY_KIND[kind].value,
            created_by=created_by,
            created_at=utcnow(),
            **extra,
        )

    found = []
    if fund.period_end >= add_months(fund.period_start, INTERIM_AFTER_MONTHS):
        midpoint = fund.period_start + timedelta(days=(fund.period_end - fund.period_start).days // 2)
        found.append(
            made(RequirementKind.INTERIM_REPORT, midpoint, **_titled(RequirementKind.INTERIM_REPORT))
        )
    found.append(
        made(
            RequirementKind.FINAL_REPORT,
            fund.period_end + FINAL_REPORT_AFTER,
            **_titled(RequirementKind.FINAL_REPORT),
        )
    )
    for tranche in sorted(tranches, key=lambda t: t.number):
        if tranche.condition == TrancheCondition.APPROVED_INTERIM_REPORT.value:
            found.append(
                made(
                    RequirementKind.TRANCHE_CONDITION,
                    tranche.due_date,
                    tranche_id=tranche.id,
                    **_titled(RequirementKind.TRANCHE_CONDITION, tranche_number=tranche.number),
                )
            )
    if fund.kind == FundKind.PROCUREMENT_CONTRACT.value:
        # Each milestone of the contract is a deliverable the organisation owes by its day, titled
        # as the contract names it; an officer marks it done when the delivery is accepted.
        for number, milestone in enumerate(fund.milestones or [], start=1):
            found.append(
                made(
                    RequirementKind.DELIVERABLE,
                    date.fromisoformat(str(milestone["due_date"])),
                    milestone_number=number,
                    title=str(milestone["name"])[:200],
                )
            )
    if fund.kind == FundKind.LOTTERY_GRANT.value:
        for year in range(fund.period_start.year, fund.period_end.year + 1):
            found.append(
                made(
                    RequirementKind.LOTTERY_DISCLOSURE,
                    year_due(year, LOTTERY_DUE),
                    covers_year=year,
                    **_titled(RequirementKind.LOTTERY_DISCLOSURE, year=year),
                )
            )
    return found


def write_schedule(actor: Actor, fund: Fund) -> list[Requirement]:
    """Add the requirements of ``fund`` as it is activated; the caller's entry carries the rows."""
    tranches = db.session.scalars(select(Tranche).where(Tranche.fund_id == fund.id)).all()
    rows = schedule_for(fund, tranches, actor.audit_identity["id"])
    db.session.add_all(rows)
    db.session.flush()
    return rows


def _open(wanted: ColumnElement[bool]) -> list[Requirement]:
    """The open requirements ``wanted`` keeps, by due date."""
    return list(
        db.session.scalars(
            select(Requirement)
            .where(wanted, Requirement.done_at.is_(None), Requirement.withdrawn_at.is_(None))
            .order_by(Requirement.due_on, Requirement.id)
        )
    )


def mark_done(actor: Actor, requirement: Requirement, ref: str, note: str | None) -> Requirement:
    """Record ``requirement`` done by ``actor``, fulfilled by ``ref``, as ``requirement.done``."""
    requirement.done_at = utcnow()
    requirement.done_by = actor.audit_identity["id"]
    requirement.done_by_ref = ref
    requirement.done_note = note
    db.session.flush()
    record_state(actor, "requirement.done", "requirement", requirement)
    return requirement


def report_submitted(actor: Actor, report: ExpenseReport) -> Requirement | None:
    """An interim report submitted fulfils the fund's earliest open interim requirement.

    A report submitted again after it was returned already fulfilled one: it fulfils no second.
    """
    if not report.interim:
        return None
    ref = f"expense_report:{report.id}"
    if db.session.scalar(select(Requirement.id).where(Requirement.done_by_ref == ref)) is not None:
        return None
    waiting = _open(
        (Requirement.fund_id == report.fund_id) & (Requirement.kind == RequirementKind.INTERIM_REPORT.value)
    )
    return mark_done(actor, waiting[0], ref, None) if waiting else None


def report_approved(actor: Actor, report: ExpenseReport) -> list[Requirement]:
    """An approved interim report meets every open tranche condition of its fund."""
    if not report.interim:
        return []
    waiting = _open(
        (Requirement.fund_id == report.fund_id)
        & (Requirement.kind == RequirementKind.TRANCHE_CONDITION.value)
    )
    return [mark_done(actor, r, f"expense_report:{report.id}", None) for r in waiting]


def fund_use_statement_issued(
    actor: Actor, fund: Fund, period_end: date, sha256: str, today: date
) -> list[Requirement]:
    """The fund-use statement issued after the fund's period, up to its end, is its final report."""
    if not (today > fund.period_end and period_end >= fund.period_end):
        return []
    waiting = _open(
        (Requirement.fund_id == fund.id) & (Requirement.kind == RequirementKind.FINAL_REPORT.value)
    )
    return [mark_done(actor, r, f"statement:{sha256}", None) for r in waiting]


def lottery_disclosure_issued(
    actor: Actor, funder: str, year: int, organisations: frozenset[uuid.UUID] | None, sha256: str
) -> list[Requirement]:
    """A funder's disclosure for ``year`` fulfils the disclosures its grants owe for that year.

    ``organisations``: those the disclosure drew on (the issuer's area), None for all.
    """
    grants = select(Fund.id).where(
        Fund.kind == FundKind.LOTTERY_GRANT.value,
        Fund.funder_name == funder,
        Fund.status != FundStatus.DRAFT.value,
    )
    if organisations is not None:
        grants = grants.where(Fund.organisation_id.in_(organisations))
    waiting = _open(
        Requirement.fund_id.in_(grants)
        & (Requirement.kind == RequirementKind.LOTTERY_DISCLOSURE.value)
        & (Requirement.covers_year == year)
    )
    return [mark_done(actor, r, f"statement:{sha256}", None) for r in waiting]
