"""An organisation's cash-flow statement (现金流量表, form 会民非03表) for a period, as figures.

The 民间非营利组织会计制度 asks for a cash-flow statement drawn up by the direct method: every
movement of cash (现金 1001, 银行存款 1002, 其他货币资金 1009; ``ledger.cash_flow.CASH_ACCOUNTS``)
in the period is shown on one line of the form, under operating (业务活动), investing (投资活动)
or financing (筹资活动) activities. The form's rows and line numbers (行次) are fixed; every row
is printed, zero or not.

Each posting to a cash account in the period is classified by what made its journal entry:

* ``disbursement_paid`` (a fund's money arrives): the line of the fund's revenue account:
  4401 → 政府补助收到的现金 (line 5), 4301 → 提供服务收到的现金 (line 3), 4101 → 接受捐赠收到的
  现金 (line 1).
* ``expense_approved`` (an expense report is paid from the bank): split between 支付给员工以及为
  员工支付的现金 (line 15) and 购买商品、接受服务支付的现金 (line 16) by the report's lines. A
  line is a staff cost when its category's Form 990 Part IX line is one of the compensation and
  employee-benefit lines 5–10 (``STAFF_FORM990_LINES``): PERSONNEL, FRINGE and ADMIN_STAFF in
  CFL-EC-2026. 劳务费 (LABOUR) is paid to people who are not employees (Form 990 line 11g) and so
  is a purchase of services, although SF-424A puts it under 6a "Personnel". The entry's cash
  posting is shared in proportion to the line amounts, exactly in minor units; since approval
  pays exactly the sum of the lines, the split is each class's own total.
* ``refund`` (unspent money returned to the funder): 支付的其他与业务活动有关的现金 (line 19).
* ``adjustment``: the line the finance officer chose (``journal_entry.cash_flow_line``). An
  adjustment posted before that column existed has none, and goes to line 8 (收到的其他与业务活动
  有关的现金) when it brought cash in or line 19 when it paid cash out.
* ``reversal``: the line of the entry it reverses, with the opposite sign (a reversed grant
  receipt reduces line 5; it is not a payment on line 19).
* ``year_end_close`` and ``restricted_release`` never touch cash; should one ever do, it is
  treated like an adjustment without a line, so that the statement still accounts for all cash.

Amounts on an inflow line are cash in minus cash out, on an outflow line cash out minus cash in,
so a line is negative only when a reversal (or a contrary adjustment) outweighs it. Line 61,
现金及现金等价物净增加额, is therefore the net movement of the cash accounts, and the statement
checks it against the balance sheet's 货币资金 (line 1) at the start and at the end of the period
(``reconciled``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from sqlalchemy import func, select

from ledger.cash_flow import CASH_ACCOUNTS, CASH_FLOW_LINES, CashFlowLine
from ledger.extensions import db
from ledger.models.books import EntrySource, JournalEntry, Posting, Side
from ledger.models.expense_report import ExpenseLine, ExpenseReport
from ledger.models.fund import Fund
from ledger.models.reference import ExpenseCategory
from ledger.money import Money
from ledger.services.posting_events import REVERSED_ENTRY, with_events

CASH_FLOW_FORM: Final = "会民非03表"

# Form 990 Part IX lines that are pay and benefits of employees: 5 officers' compensation,
# 6 compensation of disqualified persons, 7 other salaries and wages, 8 pension plans, 9 other
# employee benefits, 10 payroll taxes. Everything else an expense report pays is goods or services.
STAFF_FORM990_LINES: Final = frozenset({"5", "6", "7", "8", "9", "10"})

# Where an event's cash goes (see the module docstring).
REVENUE_ACCOUNT_LINES: Final = {
    "4401": "grants_received",
    "4301": "services_received",
    "4101": "donations_received",
}
STAFF_PAID: Final = "staff_paid"
GOODS_SERVICES_PAID: Final = "goods_services_paid"
OTHER_RECEIVED: Final = "other_operating_received"
OTHER_PAID: Final = "other_operating_paid"

# 行次 of each line item on the 2004 form.
LINE_NUMBERS: Final[dict[str, int]] = {
    "donations_received": 1,
    "dues_received": 2,
    "services_received": 3,
    "sales_received": 4,
    "grants_received": 5,
    "other_operating_received": 8,
    "grants_paid": 14,
    "staff_paid": 15,
    "goods_services_paid": 16,
    "other_operating_paid": 19,
    "investments_recovered": 25,
    "investment_income_received": 26,
    "fixed_asset_disposals_received": 27,
    "other_investing_received": 30,
    "fixed_assets_paid": 35,
    "investments_paid": 36,
    "other_investing_paid": 39,
    "borrowings_received": 45,
    "other_financing_received": 48,
    "borrowings_repaid": 51,
    "interest_paid": 52,
    "other_financing_paid": 55,
    "exchange_rate_effect": 60,
}

_LINES_BY_KEY: Final[dict[str, CashFlowLine]] = {line.key: line for line in CASH_FLOW_LINES}
if set(LINE_NUMBERS) != set(_LINES_BY_KEY):  # pragma: no cover - a new line needs its 行次
    raise RuntimeError("every line of ledger.cash_flow.CASH_FLOW_LINES needs a line number on 会民非03表")

Level = Literal["heading", "item", "subtotal", "total"]
RowKind = Literal["heading", "item", "inflows", "outflows", "net", "increase"]


@dataclass(frozen=True)
class CashFlowRow:
    """One row of 会民非03表: a heading, a line item (``key``), or a sum over an ``activity``."""

    line: int | None
    label_zh: str
    label_en: str
    level: Level
    kind: RowKind
    key: str | None = None
    activity: str | None = None


def _item(key: str) -> CashFlowRow:
    line = _LINES_BY_KEY[key]
    return CashFlowRow(LINE_NUMBERS[key], line.label_zh, line.label_en, "item", "item", key, line.activity)


def _activity_rows(
    activity: str, heading: tuple[str, str], net: tuple[int, str, str], inflow_line: int, outflow_line: int
) -> tuple[CashFlowRow, ...]:
    inflows = [
        _item(line.key) for line in CASH_FLOW_LINES if line.activity == activity and line.direction == "in"
    ]
    outflows = [
        _item(line.key) for line in CASH_FLOW_LINES if line.activity == activity and line.direction == "out"
    ]
    return (
        CashFlowRow(None, heading[0], heading[1], "heading", "heading"),
        *inflows,
        CashFlowRow(
            inflow_line, "现金流入小计", "Cash inflows, subtotal", "subtotal", "inflows", None, activity
        ),
        *outflows,
        CashFlowRow(
            outflow_line, "现金流出小计", "Cash outflows, subtotal", "subtotal", "outflows", None, activity
        ),
        CashFlowRow(net[0], net[1], net[2], "subtotal", "net", None, activity),
    )


CASH_FLOW_ROWS: Final[tuple[CashFlowRow, ...]] = (
    *_activity_rows(
        "operating",
        ("一、业务活动产生的现金流量：", "I. Cash flows from operating activities:"),
        (24, "业务活动产生的现金流量净额", "Net cash flows from operating activities"),
        13,
        23,
    ),
    *_activity_rows(
        "investing",
        ("二、投资活动产生的现金流量：", "II. Cash flows from investing activities:"),
        (44, "投资活动产生的现金流量净额", "Net cash flows from investing activities"),
        34,
        43,
    ),
    *_activity_rows(
        "financing",
        ("三、筹资活动产生的现金流量：", "III. Cash flows from financing activities:"),
        (59, "筹资活动产生的现金流量净额", "Net cash flows from financing activities"),
        50,
        58,
    ),
    CashFlowRow(
        60,
        "四、汇率变动对现金的影响额",
        "IV. Effect of exchange-rate changes on cash",
        "subtotal",
        "item",
        "exchange_rate_effect",
        "exchange",
    ),
    CashFlowRow(
        61,
        "五、现金及现金等价物净增加额",
        "V. Net increase in cash and cash equivalents",
        "total",
        "increase",
    ),
)


# --- Classifying the cash postings --------------------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    """What decides an entry's line: its own source, or the reversed entry's."""

    source: str
    source_id: str | None
    cash_flow_line: str | None


@dataclass(frozen=True)
class _CashMove:
    """A cash posting (summed per entry, side and fund): signed debit-positive, in minor units."""

    entry_id: uuid.UUID
    cash: int
    fund_id: uuid.UUID | None
    own: _Rules
    reversed: _Rules | None
    """The entry it reverses, when it is a reversal."""


def _cash_moves(
    organisation_id: uuid.UUID, currency: str, period_start: date, period_end: date
) -> list[_CashMove]:
    """The period's cash postings, each with its entry's rules and, for a reversal, the reversed one's."""
    entry_columns = (JournalEntry.source, JournalEntry.source_id, JournalEntry.cash_flow_line)
    reversed_columns = (REVERSED_ENTRY.source, REVERSED_ENTRY.source_id, REVERSED_ENTRY.cash_flow_line)
    grouped = (Posting.journal_entry_id, Posting.side, Posting.fund_id, *entry_columns, *reversed_columns)
    rows = db.session.execute(
        with_events(select(*grouped, func.sum(Posting.amount_minor)))
        .where(
            Posting.organisation_id == organisation_id,
            Posting.currency == currency,
            Posting.account_code.in_(CASH_ACCOUNTS),
            Posting.entry_date >= period_start,
            Posting.entry_date <= period_end,
        )
        .group_by(*grouped)
        # A fixed order, so that the figures never depend on how the database returns the rows.
        .order_by(Posting.journal_entry_id, Posting.side, Posting.fund_id)
    ).all()
    return [
        _CashMove(
            entry_id,
            # PostgreSQL sums a bigint as numeric (Decimal); int() keeps the arithmetic exact.
            int(total or 0) if side == Side.DEBIT.value else -int(total or 0),
            fund_id,
            _Rules(source, source_id, line),
            _Rules(reversed_source, reversed_source_id, reversed_line) if reversed_source else None,
        )
        for (
            entry_id,
            side,
            fund_id,
            source,
            source_id,
            line,
            reversed_source,
            reversed_source_id,
            reversed_line,
            total,
        ) in rows
    ]


def _fund_lines(fund_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Fund -> the line its payments arrive on (by its revenue account)."""
    if not fund_ids:
        return {}
    rows = db.session.execute(select(Fund.id, Fund.revenue_account).where(Fund.id.in_(fund_ids))).all()
    return {
        fund_id: REVENUE_ACCOUNT_LINES[account]
        for fund_id, account in rows
        if account in REVENUE_ACCOUNT_LINES
    }


def _report_staff_split(report_ids: set[str]) -> dict[str, tuple[int, int]]:
    """Expense report id -> (staff costs, goods and services) of its lines, in minor units."""
    parsed: set[uuid.UUID] = set()
    for text in report_ids:
        try:
            parsed.add(uuid.UUID(text))
        except ValueError:
            continue
    if not parsed:
        return {}
    rows = db.session.execute(
        select(ExpenseLine.report_id, ExpenseCategory.form990_line, func.sum(ExpenseLine.amount_minor))
        .join(ExpenseReport, ExpenseReport.id == ExpenseLine.report_id)
        .join(Fund, Fund.id == ExpenseReport.fund_id)
        .outerjoin(
            ExpenseCategory,
            (ExpenseCategory.list_version == Fund.category_list_version)
            & (ExpenseCategory.code == ExpenseLine.category_code),
        )
        .where(ExpenseLine.report_id.in_(parsed))
        .group_by(ExpenseLine.report_id, ExpenseCategory.form990_line)
    ).all()
    split: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for report_id, form990_line, total in rows:
        split[str(report_id)][0 if form990_line in STAFF_FORM990_LINES else 1] += int(total or 0)
    return {report_id: (staff, other) for report_id, (staff, other) in split.items()}


def _share(amount: int, part: int, whole: int) -> int:
    """``amount × part / whole`` rounded half up, for non-negative integers (``whole`` > 0)."""
    return (2 * amount * part + whole) // (2 * whole)


def _rules_of(move: _CashMove) -> tuple[_Rules, bool]:
    """What classifies ``move``, and whether that is the entry it reverses (so its sign flips)."""
    if move.own.source == EntrySource.REVERSAL.value and move.reversed is not None:
        return move.reversed, True
    return move.own, False


def _classified(
    move: _CashMove,
    fund_lines: dict[uuid.UUID, str],
    report_split: dict[str, tuple[int, int]],
) -> list[tuple[str, int]]:
    """The lines ``move``'s cash belongs on, as (key, signed cash) pairs summing to ``move.cash``."""
    rules, reverses = _rules_of(move)
    # Which way the cash went in the entry whose classification applies: a reversal takes the
    # reversed entry's line (and direction), its own cash moving the other way.
    came_in = (move.cash > 0) != reverses
    fallback = OTHER_RECEIVED if came_in else OTHER_PAID

    if rules.source == EntrySource.DISBURSEMENT_PAID.value:
        line = fund_lines.get(move.fund_id) if move.fund_id is not None else None
        return [(line or fallback, move.cash)]
    if rules.source == EntrySource.EXPENSE_APPROVED.value:
        staff, other = report_split.get(rules.source_id or "", (0, 0))
        if staff + other == 0:
            return [(GOODS_SERVICES_PAID, move.cash)]
        sign = 1 if move.cash >= 0 else -1
        staff_cash = sign * _share(abs(move.cash), staff, staff + other)
        return [(STAFF_PAID, staff_cash), (GOODS_SERVICES_PAID, move.cash - staff_cash)]
    if rules.source == EntrySource.REFUND.value:
        return [(OTHER_PAID, move.cash)]
    if rules.source == EntrySource.ADJUSTMENT.value and rules.cash_flow_line in _LINES_BY_KEY:
        return [(str(rules.cash_flow_line), move.cash)]
    # An adjustment from before cash-flow lines existed (or an entry that should not touch cash).
    return [(fallback, move.cash)]


def cash_flow_amounts(
    organisation_id: uuid.UUID, currency: str, period_start: date, period_end: date
) -> dict[str, int]:
    """Each line item's amount (``CASH_FLOW_LINES`` key -> minor units), as the form shows it.

    Inflow lines are cash in minus cash out, outflow lines cash out minus cash in, and the
    exchange-rate line the net effect; every key is present.
    """
    moves = _cash_moves(organisation_id, currency, period_start, period_end)
    rules = [_rules_of(move)[0] for move in moves]
    fund_lines = _fund_lines(
        {
            move.fund_id
            for move, rule in zip(moves, rules, strict=True)
            if move.fund_id is not None and rule.source == EntrySource.DISBURSEMENT_PAID.value
        }
    )
    report_split = _report_staff_split(
        {
            rule.source_id
            for rule in rules
            if rule.source == EntrySource.EXPENSE_APPROVED.value and rule.source_id is not None
        }
    )
    cash_by_key: dict[str, int] = defaultdict(int)
    for move in moves:
        for key, cash in _classified(move, fund_lines, report_split):
            cash_by_key[key] += cash
    amounts: dict[str, int] = {}
    for line in CASH_FLOW_LINES:
        cash = cash_by_key.get(line.key, 0)
        amounts[line.key] = -cash if line.direction == "out" else cash
    return amounts


def cash_balance(organisation_id: uuid.UUID, currency: str, through: date | None) -> int:
    """The cash accounts' balance (货币资金) at the close of ``through`` (None: before anything)."""
    if through is None:
        return 0
    rows = db.session.execute(
        select(Posting.side, func.sum(Posting.amount_minor))
        .where(
            Posting.organisation_id == organisation_id,
            Posting.currency == currency,
            Posting.account_code.in_(CASH_ACCOUNTS),
            Posting.entry_date <= through,
        )
        .group_by(Posting.side)
    ).all()
    return sum(int(total or 0) if side == Side.DEBIT.value else -int(total or 0) for side, total in rows)


# --- The form ---------------------------------------------------------------------------------


def _subtotal(amounts: dict[str, int], activity: str, direction: str) -> int:
    """现金流入小计 or 现金流出小计 of one activity."""
    return sum(
        amounts[line.key]
        for line in CASH_FLOW_LINES
        if line.activity == activity and line.direction == direction
    )


def _row_values(amounts: dict[str, int]) -> dict[int, int]:
    """Every numbered row of 03 in minor units."""
    values: dict[int, int] = {}
    inflows: dict[str, int] = defaultdict(int)
    outflows: dict[str, int] = defaultdict(int)
    for row in CASH_FLOW_ROWS:
        if row.line is None:
            continue
        if row.kind == "item":
            assert row.key is not None
            values[row.line] = amounts[row.key]
        elif row.kind == "inflows":
            assert row.activity is not None
            values[row.line] = inflows[row.activity] = _subtotal(amounts, row.activity, "in")
        elif row.kind == "outflows":
            assert row.activity is not None
            values[row.line] = outflows[row.activity] = _subtotal(amounts, row.activity, "out")
        elif row.kind == "net":
            assert row.activity is not None
            values[row.line] = inflows[row.activity] - outflows[row.activity]
        elif row.kind == "increase":
            values[row.line] = values[24] + values[44] + values[59] + values[60]
    return values


def cash_flow_statement(
    organisation_id: uuid.UUID,
    period_start: date,
    period_end: date,
    currency: str,
    *,
    opening_cash: int | None = None,
    closing_cash: int | None = None,
) -> dict[str, Any]:
    """会民非03表 for the period, with its reconciliation to 货币资金.

    ``opening_cash`` and ``closing_cash`` are the balance sheet's line 1 at the start and the
    end of the period, in minor units (read from the books when not given). The caller has
    checked the arguments and its actor's access.
    """
    if opening_cash is None:
        opening_cash = cash_balance(organisation_id, currency, _day_before(period_start))
    if closing_cash is None:
        closing_cash = cash_balance(organisation_id, currency, period_end)
    values = _row_values(cash_flow_amounts(organisation_id, currency, period_start, period_end))

    def money(minor: int) -> str:
        return str(Money(currency, minor))

    return {
        "form": CASH_FLOW_FORM,
        "rows": [
            {
                "line": row.line,
                "key": row.key,
                "label_zh": row.label_zh,
                "label_en": row.label_en,
                "level": row.level,
                "amount": None if row.line is None else money(values[row.line]),
            }
            for row in CASH_FLOW_ROWS
        ],
        # Line 61 against the movement of the balance sheet's 货币资金 (line 1).
        "opening_cash": money(opening_cash),
        "closing_cash": money(closing_cash),
        "cash_change": money(closing_cash - opening_cash),
        "reconciled": values[61] == closing_cash - opening_cash,
    }


def _day_before(day: date) -> date | None:
    return None if day == date.min else date.fromordinal(day.toordinal() - 1)
