"""The figures of the service as spreadsheets (XLSX), each from the same service call as its JSON.

Every download here calls the function the JSON endpoint calls (the same access checks, the same
figures), lays its result out as tables for ``ledger.exports.spreadsheet``, and records
``export.downloaded`` in the audit trail with the kind of download, its parameters and the
file's SHA-256, as an issued statement is recorded: an auditor can tie any copy back to who
took it and when. docs/spreadsheets.md lists the downloads.

Every word a sheet shows (headers, sheet names, titles, yes/no) is a ``translatable`` message and
every status a word of ``ledger.vocabulary``; ``ledger.exports.spreadsheet`` writes them in the
caller's language from the message catalog.

A list (the expense reports, the journal) is written whole, never cut silently: beyond
``MAX_ROWS`` rows the download is refused (422 ``export.too_many_rows``) and asks for a
narrower selection.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from ledger.errors import ValidationFailed
from ledger.exports.spreadsheet import (
    PERCENT,
    Column,
    Formatted,
    Table,
    day,
    fraction,
    integer,
    moment,
    money,
    money_format,
    percentage,
    text,
    workbook_bytes,
)
from ledger.messages import Message, translatable
from ledger.models.expense_report import ReportStatus
from ledger.money import Money
from ledger.services import books, coverage, expense_reports, fund_reports, statements, trial_balance
from ledger.services.access import Actor
from ledger.services.audit_subjects import record_event
from ledger.services.funds import get_fund
from ledger.services.pagination import Page, PageRequest
from ledger.statements.period import StatementPeriod
from ledger.vocabulary import STATUS

MAX_ROWS: Final = 10_000
"""The most rows (reports, journal entries) one list download holds; more is a 422."""

ACTION: Final = "export.downloaded"


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def deliver(
    actor: Actor,
    kind: str,
    parameters: Mapping[str, object],
    *,
    subject_type: str,
    subject_id: object,
    filename: str,
    tables: Sequence[Table],
    lang: str,
) -> Download:
    """Write ``tables`` as a workbook and record that ``actor`` downloaded it, with its SHA-256."""
    lang = _lang(lang)
    download = Download(filename, workbook_bytes(tables, lang))
    record_event(
        actor,
        ACTION,
        subject_type,
        subject_id,
        {
            "export": kind,
            "format": "xlsx",
            "parameters": {name: None if value is None else str(value) for name, value in parameters.items()},
            "lang": lang,
            "sha256": download.sha256,
            "bytes": len(download.content),
        },
    )
    return download


def _whole(page: Page[Any]) -> None:
    if page.total > MAX_ROWS:
        raise ValidationFailed(
            translatable(
                "This download would hold %(count)s rows; at most %(limit)s are written in one file. "
                "Choose fewer (by fund or status), or read the JSON page by page.",
                count=page.total,
                limit=MAX_ROWS,
            ),
            code="export.too_many_rows",
        )


def _yes(value: bool) -> Message:
    return translatable("yes") if value else translatable("no")


# --- Expense reports: the review queue and the list ------------------------------------------------


def reports_download(
    actor: Actor,
    lang: str,
    *,
    fund_id: uuid.UUID | None = None,
    status: ReportStatus | None = None,
) -> Download:
    """Every report of ``list_reports`` (the queue with ``status=submitted``), one row each."""
    lang = _lang(lang)
    page = expense_reports.list_reports(
        actor, PageRequest(page=1, page_size=MAX_ROWS), fund_id=fund_id, status=status
    )
    _whole(page)
    currencies = {f: get_fund(actor, f).currency for f in {r.fund_id for r in page.items}}
    only = next(iter(currencies.values())) if len(set(currencies.values())) == 1 else "CNY"
    columns = [
        text(translatable("Report ID"), 38),
        text(translatable("Fund ID"), 38),
        text(translatable("Title"), 30),
        text(translatable("Status"), 12),
        text(translatable("Interim"), 9),
        text(translatable("Filed by"), 16),
        moment(translatable("Created (UTC)")),
        moment(translatable("Submitted (UTC)")),
        text(translatable("Decided by"), 16),
        moment(translatable("Decided (UTC)")),
        money(translatable("Amount"), only),
        text(translatable("Currency"), 8),
        integer(translatable("Number of lines"), 9),
    ]
    rows = []
    for r in page.items:
        currency = currencies[r.fund_id]
        total = Money(currency, sum(line.amount_minor for line in r.lines))
        rows.append(
            [
                str(r.id),
                str(r.fund_id),
                r.title,
                STATUS.get(r.status, r.status),
                _yes(r.interim),
                r.filed_by,
                r.created_at,
                r.submitted_at,
                r.decided_by,
                r.decided_at,
                total if currency == only else Formatted(total, money_format(currency)),
                currency,
                len(r.lines),
            ]
        )
    queue = status is ReportStatus.SUBMITTED
    table = Table(
        sheet_name=translatable("Review queue") if queue else translatable("Expense reports"),
        title=translatable("Expense reports"),
        columns=columns,
        rows=rows,
    )
    return deliver(
        actor,
        "expense_reports",
        {"fund_id": fund_id, "status": status.value if status else None},
        subject_type="fund" if fund_id else "export",
        subject_id=fund_id or "expense_reports",
        filename=f"expense-reports{'-' + status.value if status else ''}.xlsx",
        tables=[table],
        lang=lang,
    )


# --- A fund: budget vs actual, summary, fund-use figures --------------------------------------------


def budget_vs_actual_download(actor: Actor, fund_id: uuid.UUID, lang: str) -> Download:
    fund, rows = fund_reports.budget_vs_actual(actor, fund_id)
    lang = _lang(lang)
    currency = fund.currency
    table = Table(
        sheet_name=translatable("Budget vs actual"),
        title=translatable("%(fund)s: budget vs actual", fund=fund.title),
        columns=[
            text(translatable("Category code"), 10),
            text(translatable("Category name"), 22),
            money(translatable("Original budget"), currency),
            money(translatable("Revised budget"), currency),
            money(translatable("Approved spending"), currency),
            money(translatable("Pending"), currency),
            money(translatable("Budget remaining"), currency),
            percentage(translatable("Executed")),
        ],
        rows=[
            [
                r.category_code,
                r.name_en if lang == "en" else r.name_zh,
                r.budget,
                r.revised_budget,
                r.approved,
                r.pending,
                r.remaining,
                fraction(r.executed_percent),
            ]
            for r in rows
        ],
    )
    return deliver(
        actor,
        "budget_vs_actual",
        {"fund_id": fund.id},
        subject_type="fund",
        subject_id=fund.id,
        filename=f"budget-vs-actual-{fund.reference}.xlsx",
        tables=[table],
        lang=lang,
    )


def summary_download(actor: Actor, fund_id: uuid.UUID, lang: str) -> Download:
    summary = fund_reports.fund_summary(actor, fund_id)
    fund = summary.fund
    lang = _lang(lang)
    currency = fund.currency
    amount = money_format(currency)
    cap = summary.admin_cost_cap_percent

    def pct(value: str | None) -> Formatted:
        return Formatted(fraction(value), PERCENT)

    figures: list[tuple[str, Message, object]] = [
        ("awarded", translatable("Award"), summary.awarded),
        ("disbursed", translatable("Disbursed"), summary.disbursed),
        ("spent", translatable("Amount spent"), summary.spent),
        ("refunded", translatable("Refunded"), summary.refunded),
        ("unspent", translatable("Unspent (received − spent − refunded)"), summary.unspent),
        ("unspent_cash", translatable("Unspent cash"), summary.unspent_cash),
        ("pending", translatable("Pending spending"), summary.pending),
        ("admin_costs", translatable("Admin costs"), summary.admin_costs),
        ("admin_cost_percent", translatable("Admin costs / award"), pct(summary.admin_cost_percent)),
        ("admin_cost_cap_percent", translatable("Admin-cost cap"), pct(cap) if cap else None),
        ("restricted_net_assets", translatable("Restricted net assets"), summary.restricted_net_assets),
    ]
    overview = Table(
        sheet_name=translatable("Summary"),
        title=translatable("%(fund)s: summary", fund=fund.title),
        columns=[
            text(translatable("Field name"), 24),
            text(translatable("Figure"), 30),
            Column(translatable("Amount or share"), amount, 18),
        ],
        rows=[list(figure) for figure in figures],
    )
    tranches = Table(
        sheet_name=translatable("Tranches"),
        title=translatable("%(fund)s: tranches", fund=fund.title),
        columns=[
            integer(translatable("Tranche"), 8),
            day(translatable("Due date")),
            money(translatable("Scheduled amount"), currency),
            money(translatable("Paid"), currency),
        ],
        rows=[[t.number, date.fromisoformat(t.due_date), t.amount, t.paid] for t in summary.tranches],
    )
    return deliver(
        actor,
        "fund_summary",
        {"fund_id": fund.id},
        subject_type="fund",
        subject_id=fund.id,
        filename=f"fund-summary-{fund.reference}.xlsx",
        tables=[overview, tranches],
        lang=lang,
    )


def _money(text_value: str, currency: str) -> Money:
    return Money.parse(text_value, currency)


def fund_use_download(actor: Actor, fund_id: uuid.UUID, period: StatementPeriod, lang: str) -> Download:
    figures = statements.fund_use_report(actor, fund_id, period)
    lang = _lang(lang)
    currency = figures["currency"]
    fund = figures["fund"]
    span = f"{period.start.isoformat()}..{period.end.isoformat()}"
    categories = Table(
        sheet_name=translatable("By category"),
        title=translatable("%(fund)s: fund use (%(period)s)", fund=fund["title"], period=span),
        columns=[
            text(translatable("Category code"), 10),
            text(translatable("Category name"), 22),
            money(translatable("Original budget"), currency),
            money(translatable("Revised budget"), currency),
            money(translatable("Spent this period"), currency),
            money(translatable("Spent to date"), currency),
            money(translatable("Budget remaining"), currency),
            percentage(translatable("Executed")),
        ],
        rows=[
            [
                c["code"],
                c["name_en"] if lang == "en" else c["name_zh"],
                *(
                    _money(c[k], currency)
                    for k in ("budget", "revised_budget", "this_period", "cumulative", "remaining")
                ),
                fraction(c["executed_percent"]),
            ]
            for c in figures["categories"]
        ],
    )
    payments = Table(
        sheet_name=translatable("Payments received"),
        title=categories.title,
        columns=[
            integer(translatable("Tranche"), 8),
            text(translatable("Kind"), 12),
            day(translatable("Received on")),
            text(translatable("Bank reference"), 20),
            money(translatable("Amount"), currency),
            text(translatable("In period"), 8),
            day(translatable("Returned on")),
        ],
        rows=[
            [
                t["tranche"],
                t["kind"],
                date.fromisoformat(t["paid_on"]),
                t["bank_reference"],
                _money(t["amount"], currency),
                _yes(t["in_period"]),
                date.fromisoformat(t["returned_on"]) if t["returned_on"] else None,
            ]
            for t in figures["tranches"]
        ],
    )
    amount = money_format(currency)
    admin = figures["admin_costs"]
    unspent = figures["unspent"]
    totals: list[tuple[str, Message, object]] = [
        ("award", translatable("Award"), _money(figures["award"], currency)),
        ("received.this_period", translatable("Received this period"), _money(figures["received"]["this_period"], currency)),
        ("received.cumulative", translatable("Received to date"), _money(figures["received"]["cumulative"], currency)),
        ("spending.this_period", translatable("Spent this period"), _money(figures["spending"]["this_period"], currency)),
        ("spending.cumulative", translatable("Spent to date"), _money(figures["spending"]["cumulative"], currency)),
        ("spending.budget", translatable("Total budget"), _money(figures["spending"]["budget"], currency)),
        ("admin_costs.cumulative", translatable("Admin costs"), _money(admin["cumulative"], currency)),
        ("admin_costs.percent", translatable("Admin costs / award"), Formatted(fraction(admin["percent"]), PERCENT)),
        ("unspent.refunded", translatable("Refunded"), _money(unspent["refunded"], currency)),
        ("unspent.balance", translatable("Unspent"), _money(unspent["balance"], currency)),
        ("unspent.held_in_bank", translatable("Held in bank"), _money(unspent["held_in_bank"], currency)),
        ("restricted_net_assets", translatable("Restricted net assets"), _money(figures["restricted_net_assets"], currency)),
    ]  # fmt: skip
    overview = Table(
        sheet_name=translatable("Totals"),
        title=categories.title,
        columns=[
            text(translatable("Field name"), 24),
            text(translatable("Figure"), 26),
            Column(translatable("Amount or share"), amount, 18),
        ],
        rows=[list(total) for total in totals],
    )
    return deliver(
        actor,
        "fund_use",
        {"fund_id": fund_id, "period": span},
        subject_type="fund",
        subject_id=fund_id,
        filename=f"fund-use-{fund['reference']}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx",
        tables=[overview, categories, payments],
        lang=lang,
    )


# --- Books: trial balance and journal ---------------------------------------------------------------


def trial_balance_download(actor: Actor, organisation_id: uuid.UUID, as_of: date, lang: str) -> Download:
    balance = trial_balance.trial_balance(actor, organisation_id, as_of)
    lang = _lang(lang)
    currencies = sorted({row.currency for row in balance.rows}) or ["CNY"]
    only = currencies[0]

    def cell(value: Money) -> object:
        return value if value.currency == only else Formatted(value, money_format(value.currency))

    rows: list[list[object]] = [
        [
            row.account_code,
            row.name_en if lang == "en" else row.name_zh,
            row.currency,
            cell(row.debit),
            cell(row.credit),
            cell(row.balance),
        ]
        for row in balance.rows
    ]
    for currency, (debit, credit) in balance.totals().items():
        rows.append(["", translatable("Total"), currency, cell(debit), cell(credit), cell(debit - credit)])
    table = Table(
        sheet_name=translatable("Trial balance"),
        title=translatable("Trial balance at %(date)s", date=as_of.isoformat()),
        columns=[
            text(translatable("Account code"), 10),
            text(translatable("Account name"), 26),
            text(translatable("Currency"), 8),
            money(translatable("Total debits"), only, 18),
            money(translatable("Total credits"), only, 18),
            money(translatable("Balance (debit − credit)"), only, 18),
        ],
        rows=rows,
    )
    return deliver(
        actor,
        "trial_balance",
        {"organisation_id": organisation_id, "as_of": as_of.isoformat()},
        subject_type="organisation",
        subject_id=organisation_id,
        filename=f"trial-balance-{as_of.isoformat()}.xlsx",
        tables=[table],
        lang=lang,
    )


def journal_download(actor: Actor, organisation_id: uuid.UUID, lang: str) -> Download:
    """Every journal entry of the organisation's books (newest first, as the JSON), a row per posting."""
    page = books.list_journal_entries(actor, organisation_id, PageRequest(page=1, page_size=MAX_ROWS))
    _whole(page)
    lang = _lang(lang)
    rows: list[list[object]] = []
    for entry in page.items:
        for posting in entry.postings:
            amount = Money(posting.currency, posting.amount_minor)
            shown = amount if posting.currency == "CNY" else Formatted(amount, money_format(posting.currency))
            rows.append(
                [
                    entry.entry_date,
                    str(entry.id),
                    entry.description,
                    entry.source,
                    posting.line,
                    posting.account_code,
                    shown if posting.side == "debit" else None,
                    shown if posting.side == "credit" else None,
                    posting.currency,
                    str(posting.fund_id) if posting.fund_id else None,
                    posting.restriction,
                ]
            )
    table = Table(
        sheet_name=translatable("Journal"),
        title=translatable("Journal"),
        columns=[
            day(translatable("Entry date")),
            text(translatable("Entry ID"), 38),
            text(translatable("Description"), 36),
            text(translatable("Source"), 18),
            integer(translatable("Line"), 6),
            text(translatable("Account code"), 10),
            money(translatable("Debit"), "CNY"),
            money(translatable("Credit"), "CNY"),
            text(translatable("Currency"), 8),
            text(translatable("Fund ID"), 38),
            text(translatable("Restriction"), 12),
        ],
        rows=rows,
    )
    return deliver(
        actor,
        "journal",
        {"organisation_id": organisation_id},
        subject_type="organisation",
        subject_id=organisation_id,
        filename="journal.xlsx",
        tables=[table],
        lang=lang,
    )


# --- The welfare-lottery disclosure -----------------------------------------------------------------


def lottery_disclosure_download(actor: Actor, funder: str, year: int, lang: str) -> Download:
    figures = statements.lottery_disclosure_report(actor, funder, year)
    lang = _lang(lang)
    currency = figures["currency"]
    title = translatable("%(funder)s: welfare-lottery funds used in %(year)s", funder=funder, year=year)
    projects = Table(
        sheet_name=translatable("Projects"),
        title=title,
        columns=[
            text(translatable("Project reference"), 14),
            text(translatable("Project title"), 28),
            text(translatable("Recipient"), 24),
            text(translatable("Credit code"), 20),
            day(translatable("Start date")),
            day(translatable("End date")),
            money(translatable("Award"), currency),
            money(translatable("Paid in year"), currency),
            money(translatable("Paid to date"), currency),
            money(translatable("Spent in year"), currency),
            money(translatable("Spent to date"), currency),
            percentage(translatable("Executed")),
            integer(translatable("Reports approved in year"), 12),
        ],
        rows=[
            [
                p["reference"],
                p["title"],
                p["recipient"],
                p["recipient_credit_code"],
                date.fromisoformat(p["period_start"]),
                date.fromisoformat(p["period_end"]),
                *(
                    _money(p[k], currency)
                    for k in ("award", "paid_in_year", "paid_to_date", "spent_in_year", "spent_to_date")
                ),
                fraction(p["executed_percent"]),
                p["approved_reports_in_year"],
            ]
            for p in figures["projects"]
        ],
    )
    by_category = Table(
        sheet_name=translatable("Spending by category"),
        title=title,
        columns=[
            text(translatable("Category code"), 10),
            text(translatable("Category name"), 22),
            money(translatable("Spent in year"), currency),
            percentage(translatable("Share of spending")),
        ],
        rows=[
            [
                c["code"],
                c["name_en"] if lang == "en" else c["name_zh"],
                _money(c["amount"], currency),
                fraction(c["percent"]),
            ]
            for c in figures["spending_by_category"]
        ],
    )
    return deliver(
        actor,
        "lottery_disclosure",
        {"funder": funder, "year": year},
        subject_type="funder",
        subject_id=funder,
        filename=f"lottery-disclosure-{year}.xlsx",
        tables=[projects, by_category],
        lang=lang,
    )


# --- Coverage ---------------------------------------------------------------------------------------


def coverage_download(actor: Actor, node: str | None, as_of: date | None, lang: str) -> Download:
    """Coverage of ``node``'s children (or communities) on ``as_of``: the figures of :func:`coverage.coverage`."""
    figures = coverage.coverage(actor, node, as_of)
    return deliver(
        actor,
        "coverage",
        {"node": figures.node.code, "as_of": figures.as_of.isoformat()},
        subject_type="export",
        subject_id="coverage",
        filename=f"coverage-{figures.node.code or 'all'}-{figures.as_of.isoformat()}.xlsx",
        tables=[coverage.coverage_table(figures)],
        lang=lang,
    )
