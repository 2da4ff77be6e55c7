"""The annual usage disclosure of welfare-lottery public-welfare funds (彩票公益金使用情况公告).

Funders that grant 彩票公益金 must publish each year how the money was used: the scale of the
funding, the projects funded, how far each was carried out and what it achieved, with every
funded project labelled "彩票公益金资助". The disclosure covers one funder's lottery grants whose
period overlaps the year; money counts in the year it was paid out or booked as spent, by the
definitions of ``ledger.services.fund_figures`` (a returned payment or a voided report counts
against the year it is booked in).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from ledger.errors import ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.books import JournalEntry
from ledger.models.expense_report import ExpenseReport, ReportStatus
from ledger.models.fund import Fund, FundKind
from ledger.models.organisation import Organisation
from ledger.money import Money, percent
from ledger.services.fund_figures import fund_figures
from ledger.services.funds import categories_of
from ledger.services.organisations import filing_figures
from ledger.statements.period import StatementPeriod

LABEL = "彩票公益金资助"


def lottery_disclosure_figures(
    funder: str, year: int, organisations: Collection[uuid.UUID] | None = None
) -> dict[str, Any]:
    """The disclosure of ``funder``'s lottery grants for ``year`` (to ``organisations`` only, if given)."""
    period = StatementPeriod.year(year)
    statement = select(Fund).where(
        Fund.kind == FundKind.LOTTERY_GRANT.value,
        Fund.funder_name == funder,
        Fund.period_start <= period.end,
        Fund.period_end >= period.start,
        Fund.status != "draft",
    )
    if organisations is not None:
        statement = statement.where(Fund.organisation_id.in_(organisations))
    funds = list(db.session.scalars(statement.order_by(Fund.reference)))
    if not funds:
        raise ValidationFailed.field(
            "funder",
            translatable(
                "%(funder)s has no welfare-lottery grants running in %(year)s", funder=funder, year=year
            ),
        )
    currencies = {fund.currency for fund in funds}
    if len(currencies) != 1:
        raise ValidationFailed.field(
            "funder", translatable("this funder's lottery grants are in more than one currency")
        )
    currency = currencies.pop()

    def money(minor: int) -> str:
        return str(Money(currency, minor))

    projects = []
    by_category: dict[str, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    to_date = fund_figures(funds, period.end)
    before = fund_figures(funds, period.start - timedelta(days=1))
    for fund in funds:
        organisation = db.session.get(Organisation, fund.organisation_id)
        assert organisation is not None
        in_year = to_date[fund.id].minus(before[fund.id])
        paid_year, paid_total = in_year.received, to_date[fund.id].received
        spent_year, spent_total = in_year.spent, to_date[fund.id].spent
        reports = _reports_booked_in(fund, period)
        for code, amount in in_year.spent_by_category.items():
            by_category[code] += amount
        totals["award"] += fund.award_minor
        totals["paid_year"] += paid_year
        totals["paid_total"] += paid_total
        totals["spent_year"] += spent_year
        totals["spent_total"] += spent_total
        totals["reports"] += reports
        projects.append(
            {
                "reference": fund.reference,
                "title": fund.title,
                "recipient": organisation.name,
                "recipient_credit_code": organisation.credit_code,
                **({} if organisation.credit_code else {"recipient_filing": filing_figures(organisation)}),
                "purpose": fund.restriction_purpose,
                "period_start": fund.period_start.isoformat(),
                "period_end": fund.period_end.isoformat(),
                "status": fund.status,
                "award": money(fund.award_minor),
                "paid_in_year": money(paid_year),
                "paid_to_date": money(paid_total),
                "spent_in_year": money(spent_year),
                "spent_to_date": money(spent_total),
                "executed_percent": percent(spent_total, fund.award_minor),
                "approved_reports_in_year": reports,
                "label": LABEL,
            }
        )
    names = {
        code: c for v in {f.category_list_version for f in funds} for code, c in categories_of(v).items()
    }
    return {
        "statement": "lottery_disclosure",
        "label": LABEL,
        "funder": funder,
        "funder_credit_code": next((f.funder_credit_code for f in funds if f.funder_credit_code), None),
        "year": year,
        "currency": currency,
        "scale": {
            "projects": len(projects),
            "organisations": len({fund.organisation_id for fund in funds}),
            "awarded": money(totals["award"]),
            "paid_in_year": money(totals["paid_year"]),
            "paid_to_date": money(totals["paid_total"]),
            "spent_in_year": money(totals["spent_year"]),
            "spent_to_date": money(totals["spent_total"]),
            "executed_percent": percent(totals["spent_total"], totals["award"]),
            "approved_reports_in_year": totals["reports"],
        },
        "projects": projects,
        "spending_by_category": [
            {
                "code": code,
                "name_zh": names[code].name_zh if code in names else code,
                "name_en": names[code].name_en if code in names else code,
                "amount": money(amount),
                "percent": percent(amount, totals["spent_year"]),
            }
            for code, amount in sorted(by_category.items(), key=lambda item: (-item[1], item[0]))
        ],
    }


def _reports_booked_in(fund: Fund, period: StatementPeriod) -> int:
    """How many of the fund's reports had their approval booked in the year and still stand."""
    return int(
        db.session.scalar(
            select(func.count(ExpenseReport.id))
            .join(JournalEntry, JournalEntry.id == ExpenseReport.journal_entry_id)
            .where(
                ExpenseReport.fund_id == fund.id,
                ExpenseReport.status == ReportStatus.APPROVED.value,
                JournalEntry.entry_date.between(period.start, period.end),
            )
        )
        or 0
    )
