"""The figures of the service as spreadsheets (XLSX), each from the same service call as its JSON.

Every download here calls the function the JSON endpoint calls (the same access checks, the same
figures), lays its result out as tables for ``ledger.exports.spreadsheet``, and records
``export.downloaded`` in the audit trail with the kind of download, its parameters and the
file's SHA-256, as an issued statement is recorded: an auditor can tie any copy back to who
took it and when. docs/spreadsheets.md lists the downloads.

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
from ledger.messages import translatable
from ledger.models.expense_report import ReportStatus
from ledger.money import Money
from ledger.services import books, coverage, expense_reports, fund_reports, statements, trial_balance
from ledger.services.access import Actor
from ledger.services.audit_subjects import record_event
from ledger.services.funds import get_fund
from ledger.services.pagination import Page, PageRequest
from ledger.statements.period import StatementPeriod

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


def _both(zh: str, en: str, lang: str) -> str:
    return en if lang == "en" else zh


# --- Expense reports: the review queue and the list ------------------------------------------------

REPORT_STATUS: Final[dict[str, tuple[str, str]]] = {
    ReportStatus.DRAFT.value: ("草稿", "draft"),
    ReportStatus.SUBMITTED.value: ("待审核", "submitted"),
    ReportStatus.APPROVED.value: ("已批准", "approved"),
    ReportStatus.RETURNED.value: ("已退回修改", "returned"),
    ReportStatus.REJECTED.value: ("已驳回", "rejected"),
    ReportStatus.VOIDED.value: ("已作废", "voided"),
}


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
        text("报告编号", "Report ID", 38),
        text("资金项目编号", "Fund ID", 38),
        text("标题", "Title", 30),
        text("状态", "Status", 12),
        text("中期报告", "Interim", 9),
        text("填报人", "Filed by", 16),
        moment("创建时间（UTC）", "Created (UTC)"),
        moment("提交时间（UTC）", "Submitted (UTC)"),
        text("审核人", "Decided by", 16),
        moment("审核时间（UTC）", "Decided (UTC)"),
        money("金额", "Total", only),
        text("币种", "Currency", 8),
        integer("明细行数", "Lines", 9),
    ]
    rows = []
    for r in page.items:
        currency = currencies[r.fund_id]
        total = Money(currency, sum(line.amount_minor for line in r.lines))
        words = REPORT_STATUS.get(r.status, (r.status, r.status))
        rows.append(
            [
                str(r.id),
                str(r.fund_id),
                r.title,
                words[1] if lang == "en" else words[0],
                _both("是" if r.interim else "否", "yes" if r.interim else "no", lang),
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
        sheet_name=_both(
            "待审核报销" if queue else "报销报告", "Review queue" if queue else "Expense reports", lang
        ),
        title=_both("报销报告清单", "Expense reports", lang),
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
        sheet_name=_both("预算执行", "Budget vs actual", lang),
        title=_both(f"{fund.title} 预算执行情况", f"{fund.title}: budget vs actual", lang),
        columns=[
            text("类别代码", "Category", 10),
            text("类别名称", "Category name", 22),
            money("原预算", "Budget", currency),
            money("调整后预算", "Revised budget", currency),
            money("已批准支出", "Approved", currency),
            money("待审核", "Pending", currency),
            money("预算余额", "Remaining", currency),
            percentage("执行率", "Executed"),
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

    figures: list[tuple[str, str, str, object]] = [
        ("awarded", "资助金额", "Awarded", summary.awarded),
        ("disbursed", "已拨付", "Disbursed", summary.disbursed),
        ("spent", "已支出", "Spent", summary.spent),
        ("refunded", "已退回", "Refunded", summary.refunded),
        ("unspent", "结余（已收 − 已支 − 已退）", "Unspent (received − spent − refunded)", summary.unspent),
        ("unspent_cash", "银行结存", "Unspent cash", summary.unspent_cash),
        ("pending", "待审核支出", "Pending", summary.pending),
        ("admin_costs", "管理费用", "Admin costs", summary.admin_costs),
        (
            "admin_cost_percent",
            "管理费用占资助金额比例",
            "Admin costs / award",
            pct(summary.admin_cost_percent),
        ),
        ("admin_cost_cap_percent", "管理费用比例上限", "Admin-cost cap", pct(cap) if cap else None),
        ("restricted_net_assets", "限定性净资产", "Restricted net assets", summary.restricted_net_assets),
    ]
    overview = Table(
        sheet_name=_both("资金概况", "Summary", lang),
        title=_both(f"{fund.title} 资金概况", f"{fund.title}: summary", lang),
        columns=[
            text("字段", "Field", 24),
            text("项目", "Figure", 30),
            Column("金额或比例", amount, 18, "Amount or share"),
        ],
        rows=[[key, en if lang == "en" else zh, value] for key, zh, en, value in figures],
    )
    tranches = Table(
        sheet_name=_both("拨付批次", "Tranches", lang),
        title=_both(f"{fund.title} 拨付批次", f"{fund.title}: tranches", lang),
        columns=[
            integer("批次", "Tranche", 8),
            day("计划日期", "Due date"),
            money("计划金额", "Amount", currency),
            money("已拨付", "Paid", currency),
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
        sheet_name=_both("分类支出", "By category", lang),
        title=_both(f"{fund['title']} 资金使用情况（{span}）", f"{fund['title']}: fund use ({span})", lang),
        columns=[
            text("类别代码", "Category", 10),
            text("类别名称", "Category name", 22),
            money("原预算", "Budget", currency),
            money("调整后预算", "Revised budget", currency),
            money("本期支出", "This period", currency),
            money("累计支出", "Cumulative", currency),
            money("预算余额", "Remaining", currency),
            percentage("执行率", "Executed"),
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
        sheet_name=_both("拨付到账", "Payments received", lang),
        title=categories.title,
        columns=[
            integer("批次", "Tranche", 8),
            text("类型", "Kind", 12),
            day("到账日期", "Paid on"),
            text("银行流水号", "Bank reference", 20),
            money("金额", "Amount", currency),
            text("本期", "In period", 8),
            day("退回日期", "Returned on"),
        ],
        rows=[
            [
                t["tranche"],
                t["kind"],
                date.fromisoformat(t["paid_on"]),
                t["bank_reference"],
                _money(t["amount"], currency),
                _both("是" if t["in_period"] else "否", "yes" if t["in_period"] else "no", lang),
                date.fromisoformat(t["returned_on"]) if t["returned_on"] else None,
            ]
            for t in figures["tranches"]
        ],
    )
    amount = money_format(currency)
    admin = figures["admin_costs"]
    unspent = figures["unspent"]
    totals: list[tuple[str, str, str, object]] = [
        ("award", "资助金额", "Award", _money(figures["award"], currency)),
        ("received.this_period", "本期到账", "Received this period", _money(figures["received"]["this_period"], currency)),
        ("received.cumulative", "累计到账", "Received to date", _money(figures["received"]["cumulative"], currency)),
        ("spending.this_period", "本期支出", "Spent this period", _money(figures["spending"]["this_period"], currency)),
        ("spending.cumulative", "累计支出", "Spent to date", _money(figures["spending"]["cumulative"], currency)),
        ("spending.budget", "预算合计", "Budget", _money(figures["spending"]["budget"], currency)),
        ("admin_costs.cumulative", "管理费用", "Admin costs", _money(admin["cumulative"], currency)),
        ("admin_costs.percent", "管理费用占资助金额比例", "Admin costs / award", Formatted(fraction(admin["percent"]), PERCENT)),
        ("unspent.refunded", "已退回", "Refunded", _money(unspent["refunded"], currency)),
        ("unspent.balance", "结余", "Unspent", _money(unspent["balance"], currency)),
        ("unspent.held_in_bank", "银行结存", "Held in bank", _money(unspent["held_in_bank"], currency)),
        ("restricted_net_assets", "限定性净资产", "Restricted net assets", _money(figures["restricted_net_assets"], currency)),
    ]  # fmt: skip
    overview = Table(
        sheet_name=_both("汇总", "Totals", lang),
        title=categories.title,
        columns=[
            text("字段", "Field", 24),
            text("项目", "Figure", 26),
            Column("金额或比例", amount, 18, "Amount or share"),
        ],
        rows=[[key, en if lang == "en" else zh, value] for key, zh, en, value in totals],
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
        rows.append(
            ["", _both("合计", "Total", lang), currency, cell(debit), cell(credit), cell(debit - credit)]
        )
    table = Table(
        sheet_name=_both("试算平衡表", "Trial balance", lang),
        title=_both(f"试算平衡表（截至 {as_of.isoformat()}）", f"Trial balance at {as_of.isoformat()}", lang),
        columns=[
            text("科目代码", "Account", 10),
            text("科目名称", "Account name", 26),
            text("币种", "Currency", 8),
            money("借方发生额", "Debit", only, 18),
            money("贷方发生额", "Credit", only, 18),
            money("余额（借 − 贷）", "Balance (debit − credit)", only, 18),
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
        sheet_name=_both("序时账", "Journal", lang),
        title=_both("序时账", "Journal", lang),
        columns=[
            day("记账日期", "Date"),
            text("凭证编号", "Entry ID", 38),
            text("摘要", "Description", 36),
            text("来源", "Source", 18),
            integer("行号", "Line", 6),
            text("科目代码", "Account", 10),
            money("借方", "Debit", "CNY"),
            money("贷方", "Credit", "CNY"),
            text("币种", "Currency", 8),
            text("资金项目", "Fund ID", 38),
            text("限定性", "Restriction", 12),
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
    title = _both(
        f"{funder} {year} 年度彩票公益金使用情况", f"{funder}: welfare-lottery funds used in {year}", lang
    )
    projects = Table(
        sheet_name=_both("资助项目", "Projects", lang),
        title=title,
        columns=[
            text("项目编号", "Reference", 14),
            text("项目名称", "Title", 28),
            text("受资助组织", "Recipient", 24),
            text("统一社会信用代码", "Credit code", 20),
            day("开始日期", "Start"),
            day("结束日期", "End"),
            money("资助金额", "Award", currency),
            money("本年拨付", "Paid in year", currency),
            money("累计拨付", "Paid to date", currency),
            money("本年支出", "Spent in year", currency),
            money("累计支出", "Spent to date", currency),
            percentage("执行率", "Executed"),
            integer("本年批准报告数", "Reports approved in year", 12),
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
        sheet_name=_both("支出类别", "Spending by category", lang),
        title=title,
        columns=[
            text("类别代码", "Category", 10),
            text("类别名称", "Category name", 22),
            money("本年支出", "Spent in year", currency),
            percentage("占比", "Share"),
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
