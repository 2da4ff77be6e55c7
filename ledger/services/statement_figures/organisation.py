"""An organisation's three standard statements for a period: 资产负债表, 业务活动表 and 现金流量表.

The 民间非营利组织会计制度 (财会〔2004〕7号, chart ``NPO-2005``) asks every organisation for a
balance sheet (资产负债表, form 会民非01表) with 年初数 and 期末数 columns, a statement of
activities (业务活动表, form 会民非02表) whose columns split every figure into 非限定性
(unrestricted), 限定性 (restricted) and 合计 (total), and a cash-flow statement (现金流量表, form
会民非03表, built in ``ledger.services.statement_figures.cash_flow``). The forms have fixed rows with fixed line
numbers (行次); regulators and the annual inspection expect every row, zero or not, in order.

Everything here is summed from the postings of the books, per account, side and restriction:

* The balance sheet's opening column is every posting dated before the period starts (the
  balances at ``period_start`` minus one day); the closing column is every posting up to and
  including ``period_end``. Each account of the chart feeds exactly one line (``ASSET_LINES`` and
  ``LIABILITY_LINES`` below); contra accounts (累计折旧, the allowances) reduce the line they
  belong to, and a balance on the "wrong" side keeps its sign instead of being moved elsewhere.
* Revenue and expenses are closed into net assets only once a year, by the year-end closing
  entries (年末结转, source ``year_end_close``, dated 31 December: Dr revenue / Cr 3101 or 3102 by
  restriction, Dr 3101 / Cr expenses), so a statement drawn for any other day finds them still
  open. The balance sheet therefore presents net assets *as if closed*: 非限定性净资产 = 3101 +
  unrestricted revenue − all expenses (every expense is borne by unrestricted net assets),
  限定性净资产 = 3102 + restricted revenue (a revenue posting is restricted when its
  ``restriction`` is ``'restricted'``). A closing entry moves an amount between the two terms of
  one of these sums, so it leaves the balance sheet as it was. It is no revenue, expense or
  reclassification either: the closing entries (and any reversal of one) are left out of the
  activity statement and of the net-asset movements, so the year's 业务活动表 is the same before
  and after the year is closed.
* When restricted money is spent for its purpose the books reclassify it, Dr 3102 / Cr 3101 in
  one journal entry. Within the period those reclassifications are the activity statement's line
  40 (positive in the unrestricted column, negative in the restricted one, zero in total), and
  line 45, the change in net assets, is revenue − expenses ± that reclassification per column. It
  equals the movement of balance-sheet lines 101 and 105, and in total of line 110, because both
  are computed from the same postings.
* The 2004 activity statement has no row for a posting straight into net assets that is not a
  reclassification (an opening balance taken over by hand, a prior-year correction to 3101/3102).
  Such postings move lines 101/105 without being revenue or expense, so they are reported beside
  the rows as ``other_net_asset_movements``; with them, line 45 always reconciles to the balance
  sheet, and without them (the normal case) they are zero.
* The cash-flow statement's line 61 (现金及现金等价物净增加额) is reconciled against the
  movement of balance-sheet line 1 (货币资金) over the same period.

Amounts are integers of minor units until the very end, where ``ledger.money.Money`` writes them
as plain decimal strings ("40000.00"): thousands separators and "—" for blanks are the renderer's
business. The result is a plain dict (no ORM objects) for the PDF renderer, the API and the CLI;
access control is the caller's job.
"""

from __future__ import annotations

import calendar
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, case, func, not_, select

from ledger.errors import NotFound, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.books import Posting, Side
from ledger.models.organisation import Organisation
from ledger.money import Money, MoneyError, currency_exponent
from ledger.services.books import RESTRICTED_NET_ASSETS, UNRESTRICTED_NET_ASSETS
from ledger.services.organisations import filing_figures
from ledger.services.posting_events import is_year_end_closing, with_events
from ledger.services.statement_figures.cash_flow import cash_flow_statement

CHART_VERSION: Final = "NPO-2005"
BALANCE_SHEET_FORM: Final = "会民非01表"
ACTIVITIES_FORM: Final = "会民非02表"

CASH_LINE: Final = 1  # 货币资金, which the cash-flow statement reconciles to

RESTRICTED: Final = "restricted"

Level = Literal["heading", "item", "subtotal", "total"]


class UnmappedAccountError(RuntimeError):
    """A posting's account feeds no statement line: the mapping below lags behind the chart.

    Raised rather than skipped, because a statement that silently drops an account no longer
    balances and would be filed wrong.
    """


# --- The layouts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BalanceSheetLine:
    """One row of 会民非01表.

    An item line adds up the balances of ``accounts`` in the direction of ``normal`` (debit minus
    credit for assets, credit minus debit for liabilities), so a contra account such as 1102
    reduces an asset line it shares. A subtotal adds the lines in ``plus`` and subtracts those in
    ``minus``. Lines 101 and 105 (net assets) are special: they also take in revenue and expenses,
    see ``_net_asset_lines``.
    """

    line: int | None
    label_zh: str
    label_en: str
    level: Level
    normal: Side = Side.DEBIT
    accounts: tuple[str, ...] = ()
    plus: tuple[int, ...] = ()
    minus: tuple[int, ...] = ()


def _heading(label_zh: str, label_en: str) -> BalanceSheetLine:
    return BalanceSheetLine(None, label_zh, label_en, "heading")


def _asset(line: int, label_zh: str, label_en: str, *accounts: str) -> BalanceSheetLine:
    return BalanceSheetLine(line, label_zh, label_en, "item", Side.DEBIT, accounts)


def _liability(line: int, label_zh: str, label_en: str, *accounts: str) -> BalanceSheetLine:
    return BalanceSheetLine(line, label_zh, label_en, "item", Side.CREDIT, accounts)


def _sum(
    line: int,
    label_zh: str,
    label_en: str,
    plus: tuple[int, ...],
    minus: tuple[int, ...] = (),
    level: Level = "subtotal",
) -> BalanceSheetLine:
    return BalanceSheetLine(line, label_zh, label_en, level, plus=plus, minus=minus)


# 资产 (left-hand side). Lines 15 and 18 have no account of their own in the 2004 chart: splitting
# 1402 into "due within a year" needs maturity data the books do not keep, so 1402 stays on line
# 24 and lines 15/18 are always zero (they are printed because the form has them).
ASSET_LINES: Final[tuple[BalanceSheetLine, ...]] = (
    _heading("流动资产：", "Current assets:"),
    _asset(1, "货币资金", "Cash and bank deposits", "1001", "1002", "1009"),
    _asset(2, "短期投资", "Short-term investments", "1101", "1102"),
    _asset(3, "应收款项", "Receivables", "1111", "1121", "1122", "1131"),
    _asset(4, "预付账款", "Prepayments", "1141"),
    _asset(8, "存货", "Inventories", "1201", "1202"),
    _asset(9, "待摊费用", "Deferred expenses", "1301"),
    _asset(15, "一年内到期的长期债权投资", "Long-term debt investments due within one year"),
    _asset(18, "其他流动资产", "Other current assets"),
    _sum(20, "流动资产合计", "Total current assets", plus=(1, 2, 3, 4, 8, 9, 15, 18)),
    _heading("长期投资：", "Long-term investments:"),
    # 长期投资减值准备 (1421) has no sub-accounts in the chart to tell equity from debt
    # investments; it reduces line 21, where the 2004 system's guidance mostly places it.
    _asset(21, "长期股权投资", "Long-term equity investments", "1401", "1421"),
    _asset(24, "长期债权投资", "Long-term debt investments", "1402"),
    _sum(30, "长期投资合计", "Total long-term investments", plus=(21, 24)),
    _heading("固定资产：", "Fixed assets:"),
    _asset(31, "固定资产原价", "Fixed assets at cost", "1501"),
    # The form prints accumulated depreciation as a positive amount that line 33 subtracts.
    BalanceSheetLine(32, "减：累计折旧", "Less: accumulated depreciation", "item", Side.CREDIT, ("1502",)),
    _sum(33, "固定资产净值", "Net book value of fixed assets", plus=(31,), minus=(32,)),
    _asset(34, "在建工程", "Construction in progress", "1505"),
    _asset(35, "文物文化资产", "Cultural relics and heritage assets", "1506"),
    # 固定资产清理 may carry a credit balance (proceeds above book value); it keeps its sign.
    _asset(38, "固定资产清理", "Fixed assets in disposal", "1509"),
    _sum(40, "固定资产合计", "Total fixed assets", plus=(33, 34, 35, 38)),
    _heading("无形资产：", "Intangible assets:"),
    _asset(41, "无形资产", "Intangible assets", "1601"),
    _heading("受托代理资产：", "Assets held as custodial agent:"),
    _asset(51, "受托代理资产", "Assets held as custodial agent", "1701"),
    _sum(60, "资产总计", "Total assets", plus=(20, 30, 40, 41, 51), level="total"),
)

# 负债和净资产 (right-hand side). As on the asset side, the "due within a year" and "other" lines
# (74, 78, 88) have no account in the chart and are always zero.
LIABILITY_LINES: Final[tuple[BalanceSheetLine, ...]] = (
    _heading("流动负债：", "Current liabilities:"),
    _liability(61, "短期借款", "Short-term borrowings", "2101"),
    _liability(62, "应付款项", "Payables", "2201", "2202", "2209"),
    _liability(63, "应付工资", "Wages payable", "2204"),
    _liability(65, "应交税金", "Taxes payable", "2206"),
    _liability(66, "预收账款", "Receipts in advance", "2203"),
    _liability(71, "预提费用", "Accrued expenses", "2301"),
    _liability(72, "预计负债", "Provisions", "2401"),
    _liability(74, "一年内到期的长期负债", "Long-term liabilities due within one year"),
    _liability(78, "其他流动负债", "Other current liabilities"),
    _sum(80, "流动负债合计", "Total current liabilities", plus=(61, 62, 63, 65, 66, 71, 72, 74, 78)),
    _heading("长期负债：", "Long-term liabilities:"),
    _liability(81, "长期借款", "Long-term borrowings", "2501"),
    _liability(84, "长期应付款", "Long-term payables", "2502"),
    _liability(88, "其他长期负债", "Other long-term liabilities"),
    _sum(90, "长期负债合计", "Total long-term liabilities", plus=(81, 84, 88)),
    _heading("受托代理负债：", "Liabilities held as custodial agent:"),
    _liability(91, "受托代理负债", "Liabilities held as custodial agent", "2601"),
    _sum(100, "负债合计", "Total liabilities", plus=(80, 90, 91)),
    _heading("净资产：", "Net assets:"),
    # 101 and 105 also take in revenue and expenses (see _net_asset_lines).
    _liability(101, "非限定性净资产", "Unrestricted net assets", UNRESTRICTED_NET_ASSETS),
    _liability(105, "限定性净资产", "Restricted net assets", RESTRICTED_NET_ASSETS),
    _sum(110, "净资产合计", "Total net assets", plus=(101, 105)),
    _sum(120, "负债和净资产总计", "Total liabilities and net assets", plus=(100, 110), level="total"),
)

ActivityKind = Literal["heading", "revenue", "expense", "revenue_total", "expense_total", "release", "change"]


@dataclass(frozen=True)
class ActivityLine:
    """One row of 会民非02表; ``kind`` says how its three columns are computed."""

    line: int | None
    label_zh: str
    label_en: str
    level: Level
    kind: ActivityKind
    accounts: tuple[str, ...] = ()


# The form's 其中 sub-lines 13–16 under 业务活动成本 are per-programme lines each organisation
# names itself; the books have no programme dimension other than the fund, so they are left out
# rather than filled with guesses (validators only check 12 ≥ Σ 13–16, which absent lines meet).
ACTIVITY_LINES: Final[tuple[ActivityLine, ...]] = (
    ActivityLine(None, "一、收入", "I. Revenue", "heading", "heading"),
    ActivityLine(1, "其中：捐赠收入", "of which: donations", "item", "revenue", ("4101",)),
    ActivityLine(2, "会费收入", "Membership dues", "item", "revenue", ("4201",)),
    ActivityLine(3, "提供服务收入", "Service revenue", "item", "revenue", ("4301",)),
    ActivityLine(4, "商品销售收入", "Sales of goods", "item", "revenue", ("4501",)),
    ActivityLine(5, "政府补助收入", "Government grants", "item", "revenue", ("4401",)),
    ActivityLine(6, "投资收益", "Investment income", "item", "revenue", ("4601",)),
    ActivityLine(9, "其他收入", "Other revenue", "item", "revenue", ("4901",)),
    ActivityLine(11, "收入合计", "Total revenue", "subtotal", "revenue_total"),
    ActivityLine(None, "二、费用", "II. Expenses", "heading", "heading"),
    ActivityLine(
        12, "（一）业务活动成本", "(1) Programme (business-activity) costs", "item", "expense", ("5101",)
    ),
    ActivityLine(
        21, "（二）管理费用", "(2) Management and administrative expenses", "item", "expense", ("5201",)
    ),
    ActivityLine(24, "（三）筹资费用", "(3) Fundraising expenses", "item", "expense", ("5301",)),
    ActivityLine(28, "（四）其他费用", "(4) Other expenses", "item", "expense", ("5401",)),
    ActivityLine(35, "费用合计", "Total expenses", "subtotal", "expense_total"),
    ActivityLine(
        40,
        "三、限定性净资产转为非限定性净资产",
        "III. Restricted net assets reclassified to unrestricted",
        "item",
        "release",
    ),
    ActivityLine(
        45,
        "四、净资产变动额（若为净资产减少额，以“-”号填列）",
        "IV. Change in net assets (a decrease is shown with a minus sign)",
        "total",
        "change",
    ),
)

REVENUE_ACCOUNTS: Final[frozenset[str]] = frozenset(
    code for row in ACTIVITY_LINES if row.kind == "revenue" for code in row.accounts
)
EXPENSE_ACCOUNTS: Final[frozenset[str]] = frozenset(
    code for row in ACTIVITY_LINES if row.kind == "expense" for code in row.accounts
)


def account_line_map() -> dict[str, tuple[str, int]]:
    """Each account the statements know -> (statement, line): ``("balance_sheet", 1)`` etc.

    Revenue and expense accounts map to their 业务活动表 line (and reach the balance sheet's net
    assets through it). Raises ``UnmappedAccountError`` if the layouts give an account two lines.
    """
    mapping: dict[str, tuple[str, int]] = {}
    placed: list[tuple[str, int | None, tuple[str, ...]]] = [
        ("balance_sheet", row.line, row.accounts) for row in (*ASSET_LINES, *LIABILITY_LINES)
    ] + [("activities", row.line, row.accounts) for row in ACTIVITY_LINES]
    for statement, line, accounts in placed:
        for code in accounts:
            if code in mapping:
                raise UnmappedAccountError(f"account {code} is mapped to two statement lines")
            assert line is not None  # only numbered rows carry accounts
            mapping[code] = (statement, line)
    return mapping


def unmapped_accounts(codes: Iterable[str]) -> list[str]:
    """The accounts among ``codes`` that no statement line takes in, sorted."""
    known = account_line_map()
    return sorted({code for code in codes if code not in known})


# --- Reading the books -------------------------------------------------------------------------


@dataclass
class _Balances:
    """Debits minus credits per account over a set of postings, in minor units.

    ``restricted`` holds the same for postings marked restricted; it matters only for revenue
    accounts, whose restricted part belongs to restricted net assets.
    """

    net: dict[str, int]
    restricted: dict[str, int]

    def of(self, code: str) -> int:
        return self.net.get(code, 0)

    def credit_of(self, code: str) -> int:
        """The account's balance as a credit-normal account reads it."""
        return -self.net.get(code, 0)

    def revenue(self, code: str) -> tuple[int, int]:
        """(unrestricted, restricted) revenue of a revenue account, credit-positive."""
        restricted = -self.restricted.get(code, 0)
        return self.credit_of(code) - restricted, restricted

    def plus(self, other: _Balances) -> _Balances:
        net = dict(self.net)
        restricted = dict(self.restricted)
        for code, amount in other.net.items():
            net[code] = net.get(code, 0) + amount
        for code, amount in other.restricted.items():
            restricted[code] = restricted.get(code, 0) + amount
        return _Balances(net, restricted)


def _summed(rows: Iterable[Sequence[Any]], known: Mapping[str, object]) -> _Balances:
    """(account, side, restriction, total) rows as balances per account."""
    net: dict[str, int] = defaultdict(int)
    restricted: dict[str, int] = defaultdict(int)
    for code, side, restriction, total in rows:
        if code not in known:
            raise UnmappedAccountError(
                f"account {code} has postings but no line on the {CHART_VERSION} statements"
            )
        # PostgreSQL sums a bigint as numeric (Decimal); int() keeps the arithmetic exact.
        amount = int(total or 0) if side == Side.DEBIT.value else -int(total or 0)
        net[code] += amount
        if restriction == RESTRICTED:
            restricted[code] += amount
    return _Balances(dict(net), dict(restricted))


def _balances(
    organisation_id: uuid.UUID, currency: str, dated: ColumnElement[bool], known: Mapping[str, object]
) -> _Balances:
    """One grouped query: the postings' totals by account, side and restriction."""
    rows = db.session.execute(
        select(Posting.account_code, Posting.side, Posting.restriction, func.sum(Posting.amount_minor))
        .where(Posting.organisation_id == organisation_id, Posting.currency == currency, dated)
        .group_by(Posting.account_code, Posting.side, Posting.restriction)
    ).all()
    return _summed(rows, known)


def _period_balances(
    organisation_id: uuid.UUID,
    currency: str,
    period_start: date,
    period_end: date,
    known: Mapping[str, object],
) -> tuple[_Balances, _Balances]:
    """The period's postings as (everything but the year-end closing, the year-end closing)."""
    closing = case((is_year_end_closing(), 1), else_=0).label("closing")
    rows = db.session.execute(
        with_events(
            select(
                closing,
                Posting.account_code,
                Posting.side,
                Posting.restriction,
                func.sum(Posting.amount_minor),
            )
        )
        .where(
            Posting.organisation_id == organisation_id,
            Posting.currency == currency,
            Posting.entry_date >= period_start,
            Posting.entry_date <= period_end,
        )
        .group_by(closing, Posting.account_code, Posting.side, Posting.restriction)
    ).all()
    ordinary = _summed((row[1:] for row in rows if not row[0]), known)
    year_end = _summed((row[1:] for row in rows if row[0]), known)
    return ordinary, year_end


@dataclass(frozen=True)
class _NetAssetMovements:
    """What moved 3101/3102 directly in the period, credit-positive, in minor units.

    ``reclassified`` is restricted → unrestricted (line 40; negative if a reclassification was
    reversed); ``other_unrestricted``/``other_restricted`` are direct postings that are not a
    reclassification.
    """

    reclassified: int
    other_unrestricted: int
    other_restricted: int


def _net_asset_movements(
    organisation_id: uuid.UUID, currency: str, period_start: date, period_end: date
) -> _NetAssetMovements:
    """Split the period's 3101/3102 postings into reclassifications and everything else.

    A reclassification is a journal entry that takes from one net-asset account what it gives to
    the other (Dr 3102 / Cr 3101 for a release, the mirror image for its reversal), so this reads
    the postings per journal entry and counts, in each, the amount both accounts share. The
    year-end closing entries are left out.
    """
    rows = db.session.execute(
        with_events(
            select(
                Posting.journal_entry_id, Posting.account_code, Posting.side, func.sum(Posting.amount_minor)
            )
        )
        .where(
            Posting.organisation_id == organisation_id,
            Posting.currency == currency,
            Posting.entry_date >= period_start,
            Posting.entry_date <= period_end,
            Posting.account_code.in_((UNRESTRICTED_NET_ASSETS, RESTRICTED_NET_ASSETS)),
            # The year-end closing moves revenue and expenses into net assets; it is neither a
            # reclassification nor a direct posting to net assets (see the module docstring).
            not_(is_year_end_closing()),
        )
        .group_by(Posting.journal_entry_id, Posting.account_code, Posting.side)
    ).all()
    # entry -> [credit-positive change of 3101, of 3102]
    per_entry: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])
    for entry_id, code, side, total in rows:
        amount = int(total or 0) if side == Side.CREDIT.value else -int(total or 0)
        per_entry[entry_id][0 if code == UNRESTRICTED_NET_ASSETS else 1] += amount
    reclassified = other_unrestricted = other_restricted = 0
    for unrestricted, restricted in per_entry.values():
        if unrestricted > 0 > restricted:
            moved = min(unrestricted, -restricted)
        elif restricted > 0 > unrestricted:
            moved = -min(restricted, -unrestricted)
        else:
            moved = 0
        reclassified += moved
        other_unrestricted += unrestricted - moved
        other_restricted += restricted + moved
    return _NetAssetMovements(reclassified, other_unrestricted, other_restricted)


# --- Computing the figures ---------------------------------------------------------------------


def _net_asset_lines(balances: _Balances) -> dict[int, int]:
    """Lines 101 and 105 as if revenue and expenses had been closed into net assets."""
    unrestricted = balances.credit_of(UNRESTRICTED_NET_ASSETS)
    restricted = balances.credit_of(RESTRICTED_NET_ASSETS)
    for code in REVENUE_ACCOUNTS:
        free, bound = balances.revenue(code)
        unrestricted += free
        restricted += bound
    # Expenses always close to unrestricted net assets (the release moves the restricted money).
    unrestricted -= sum(balances.of(code) for code in EXPENSE_ACCOUNTS)
    return {101: unrestricted, 105: restricted}


def _balance_sheet_values(balances: _Balances) -> dict[int, int]:
    """Every numbered balance-sheet line's amount in minor units."""
    values: dict[int, int] = {}
    special = _net_asset_lines(balances)
    for row in (*ASSET_LINES, *LIABILITY_LINES):
        if row.line is None:
            continue
        if row.line in special:
            values[row.line] = special[row.line]
        elif row.plus or row.minus:
            # Layouts list subtotals after their parts, so the parts are already known.
            values[row.line] = sum(values[n] for n in row.plus) - sum(values[n] for n in row.minus)
        else:
            sign = 1 if row.normal is Side.DEBIT else -1
            values[row.line] = sign * sum(balances.of(code) for code in row.accounts)
    return values


def _balance_sheet_rows(
    layout: Sequence[BalanceSheetLine], opening: dict[int, int], closing: dict[int, int], currency: str
) -> list[dict[str, Any]]:
    return [
        {
            "line": row.line,
            "label_zh": row.label_zh,
            "label_en": row.label_en,
            "level": row.level,
            "opening": None if row.line is None else str(Money(currency, opening[row.line])),
            "closing": None if row.line is None else str(Money(currency, closing[row.line])),
        }
        for row in layout
    ]


def _activity_values(movement: _Balances, reclassified: int) -> dict[int, tuple[int, int]]:
    """Every numbered 业务活动表 line as (unrestricted, restricted) in minor units."""
    values: dict[int, tuple[int, int]] = {}
    revenue = [0, 0]
    expenses = 0
    for row in ACTIVITY_LINES:
        if row.line is None:
            continue
        if row.kind == "revenue":
            free = bound = 0
            for code in row.accounts:
                line_free, line_bound = movement.revenue(code)
                free, bound = free + line_free, bound + line_bound
            revenue = [revenue[0] + free, revenue[1] + bound]
            values[row.line] = (free, bound)
        elif row.kind == "expense":
            spent = sum(movement.of(code) for code in row.accounts)
            expenses += spent
            # Expenses are borne by unrestricted net assets: the restricted column stays zero.
            values[row.line] = (spent, 0)
        elif row.kind == "revenue_total":
            values[row.line] = (revenue[0], revenue[1])
        elif row.kind == "expense_total":
            values[row.line] = (expenses, 0)
        elif row.kind == "release":
            values[row.line] = (reclassified, -reclassified)
        elif row.kind == "change":
            values[row.line] = (revenue[0] - expenses + reclassified, revenue[1] - reclassified)
    return values


def _activity_rows(values: dict[int, tuple[int, int]], currency: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for row in ACTIVITY_LINES:
        amounts: dict[str, str | None] = {"unrestricted": None, "restricted": None, "total": None}
        if row.line is not None:
            free, bound = values[row.line]
            amounts = {
                "unrestricted": str(Money(currency, free)),
                "restricted": str(Money(currency, bound)),
                "total": str(Money(currency, free + bound)),
            }
        rows.append(
            {
                "line": row.line,
                "label_zh": row.label_zh,
                "label_en": row.label_en,
                "level": row.level,
                **amounts,
            }
        )
    return rows


def _checked_arguments(period_start: date, period_end: date, currency: str) -> None:
    if period_end < period_start:
        raise ValidationFailed.field("period", translatable("the period ends before it starts"))
    try:
        currency_exponent(currency)
    except MoneyError as error:
        raise ValidationFailed.field("currency", str(error)) from None


def organisation_statement_figures(
    organisation_id: uuid.UUID, period_start: date, period_end: date, currency: str = "CNY"
) -> dict[str, Any]:
    """The 资产负债表, 业务活动表 and 现金流量表 figures of an organisation for a period, in one currency.

    The caller has checked that its actor may read the organisation's books. Raises ``NotFound``
    for an unknown organisation and ``ValidationFailed`` for a period that ends before it starts
    or an unsupported currency.
    """
    _checked_arguments(period_start, period_end, currency)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound.thing("organisation", organisation_id)
    known = account_line_map()

    # Two grouped reads: everything before the period (the opening balances) and the period's own
    # postings (its activity); the closing balances are their sum, so the columns cannot drift.
    # The period's year-end closing entries count on the balance sheet (where they change nothing)
    # but are no activity.
    opening = _balances(organisation_id, currency, Posting.entry_date < period_start, known)
    movement, year_end_closing = _period_balances(organisation_id, currency, period_start, period_end, known)
    closing = opening.plus(movement).plus(year_end_closing)
    net_assets = _net_asset_movements(organisation_id, currency, period_start, period_end)

    opening_lines = _balance_sheet_values(opening)
    closing_lines = _balance_sheet_values(closing)
    activity = _activity_values(movement, net_assets.reclassified)
    cash_flows = cash_flow_statement(
        organisation_id,
        period_start,
        period_end,
        currency,
        opening_cash=opening_lines[CASH_LINE],
        closing_cash=closing_lines[CASH_LINE],
    )

    def money(minor: int) -> str:
        return str(Money(currency, minor))

    return {
        "statement": "organisation",
        "chart_version": CHART_VERSION,
        "organisation": {
            "id": str(organisation.id),
            "name": organisation.name,
            "credit_code": organisation.credit_code,
            # Only an organisation without a credit code (filed, 备案) is named by its filing.
            **({} if organisation.credit_code else {"filing": filing_figures(organisation)}),
        },
        "currency": currency,
        "period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
        # How the forms' heads write their dates (资产负债表: its closing day; 02/03: the period).
        "dates": {
            "balance_sheet": {"zh": _day_zh(period_end), "en": _day_en(period_end)},
            "period": _period_wording(period_start, period_end),
        },
        "balance_sheet": {
            "form": BALANCE_SHEET_FORM,
            # 年初数 is the position at the close of the day before the period starts.
            "opening_date": (period_start - timedelta(days=1)).isoformat()
            if period_start > date.min
            else None,
            "closing_date": period_end.isoformat(),
            "assets": _balance_sheet_rows(ASSET_LINES, opening_lines, closing_lines, currency),
            "liabilities_and_net_assets": _balance_sheet_rows(
                LIABILITY_LINES, opening_lines, closing_lines, currency
            ),
            "balanced": opening_lines[60] == opening_lines[120] and closing_lines[60] == closing_lines[120],
        },
        "activities": {
            "form": ACTIVITIES_FORM,
            "rows": _activity_rows(activity, currency),
            # Direct postings to 3101/3102 that are no reclassification: the 2004 form has no row
            # for them, so they are shown beside it; line 45 plus these is the movement of 101/105.
            "other_net_asset_movements": {
                "unrestricted": money(net_assets.other_unrestricted),
                "restricted": money(net_assets.other_restricted),
                "total": money(net_assets.other_unrestricted + net_assets.other_restricted),
            },
        },
        "cash_flows": cash_flows,
    }


# --- How the forms write dates ----------------------------------------------------------------

_MONTHS_EN: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _day_zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _day_en(day: date) -> str:
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def _period_wording(start: date, end: date) -> dict[str, str]:
    """``2026年度`` / ``Year 2026``, ``2026年1月—6月`` / ``January–June 2026``, or the two days."""
    whole_months = start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]
    if not whole_months:
        if start == end:
            return {"zh": _day_zh(start), "en": _day_en(start)}
        return {"zh": f"{_day_zh(start)}—{_day_zh(end)}", "en": f"{_day_en(start)} – {_day_en(end)}"}
    first, last = _MONTHS_EN[start.month - 1], _MONTHS_EN[end.month - 1]
    if start.year == end.year:
        if (start.month, end.month) == (1, 12):
            return {"zh": f"{start.year}年度", "en": f"Year {start.year}"}
        if start.month == end.month:
            return {"zh": f"{start.year}年{start.month}月", "en": f"{first} {start.year}"}
        return {
            "zh": f"{start.year}年{start.month}月—{end.month}月",
            "en": f"{first}–{last} {start.year}",
        }
    return {
        "zh": f"{start.year}年{start.month}月—{end.year}年{end.month}月",
        "en": f"{first} {start.year} – {last} {end.year}",
    }
