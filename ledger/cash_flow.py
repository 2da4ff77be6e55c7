"""The lines of the cash-flow statement (现金流量表, 会民非03表).

Every posting to a cash account (现金 1001, 银行存款 1002, 其他货币资金 1009) belongs to one line
of the statement. Postings made by events of the funding cycle are classified by their event
(``ledger/services/statement_figures/cash_flow.py``); a finance officer's adjustment that moves cash names its
line (``journal_entry.cash_flow_line``), chosen from ``CASH_FLOW_LINES``. The keys are stable
identifiers stored in the books and the audit trail; the labels are the form's wording.

No Flask, no database: the API, the services and the statements all read this one list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

CASH_ACCOUNTS: Final = ("1001", "1002", "1009")

Activity = Literal["operating", "investing", "financing", "exchange"]
Direction = Literal["in", "out", "either"]


@dataclass(frozen=True)
class CashFlowLine:
    key: str
    activity: Activity
    direction: Direction
    label_zh: str
    label_en: str


CASH_FLOW_LINES: Final[tuple[CashFlowLine, ...]] = (
    # 一、业务活动产生的现金流量
    CashFlowLine(
        "donations_received", "operating", "in", "接受捐赠收到的现金", "Cash received from donations"
    ),
    CashFlowLine(
        "dues_received", "operating", "in", "收取会费收到的现金", "Cash received from membership dues"
    ),
    CashFlowLine("services_received", "operating", "in", "提供服务收到的现金", "Cash received from services"),
    CashFlowLine(
        "sales_received", "operating", "in", "销售商品收到的现金", "Cash received from sales of goods"
    ),
    CashFlowLine(
        "grants_received", "operating", "in", "政府补助收到的现金", "Cash received from government grants"
    ),
    CashFlowLine(
        "other_operating_received",
        "operating",
        "in",
        "收到的其他与业务活动有关的现金",
        "Other cash received relating to operating activities",
    ),
    CashFlowLine(
        "grants_paid", "operating", "out", "提供捐赠或者资助支付的现金", "Cash paid as donations or grants"
    ),
    CashFlowLine(
        "staff_paid",
        "operating",
        "out",
        "支付给员工以及为员工支付的现金",
        "Cash paid to and on behalf of employees",
    ),
    CashFlowLine(
        "goods_services_paid",
        "operating",
        "out",
        "购买商品、接受服务支付的现金",
        "Cash paid for goods and services",
    ),
    CashFlowLine(
        "other_operating_paid",
        "operating",
        "out",
        "支付的其他与业务活动有关的现金",
        "Other cash paid relating to operating activities",
    ),
    # 二、投资活动产生的现金流量
    CashFlowLine(
        "investments_recovered",
        "investing",
        "in",
        "收回投资所收到的现金",
        "Cash received from disposal of investments",
    ),
    CashFlowLine(
        "investment_income_received",
        "investing",
        "in",
        "取得投资收益所收到的现金",
        "Cash received from investment income",
    ),
    CashFlowLine(
        "fixed_asset_disposals_received",
        "investing",
        "in",
        "处置固定资产和无形资产所收回的现金",
        "Cash received from disposal of fixed and intangible assets",
    ),
    CashFlowLine(
        "other_investing_received",
        "investing",
        "in",
        "收到的其他与投资活动有关的现金",
        "Other cash received relating to investing activities",
    ),
    CashFlowLine(
        "fixed_assets_paid",
        "investing",
        "out",
        "购建固定资产和无形资产所支付的现金",
        "Cash paid for fixed and intangible assets",
    ),
    CashFlowLine("investments_paid", "investing", "out", "对外投资所支付的现金", "Cash paid for investments"),
    CashFlowLine(
        "other_investing_paid",
        "investing",
        "out",
        "支付的其他与投资活动有关的现金",
        "Other cash paid relating to investing activities",
    ),
    # 三、筹资活动产生的现金流量
    CashFlowLine(
        "borrowings_received", "financing", "in", "借款所收到的现金", "Cash received from borrowings"
    ),
    CashFlowLine(
        "other_financing_received",
        "financing",
        "in",
        "收到的其他与筹资活动有关的现金",
        "Other cash received relating to financing activities",
    ),
    CashFlowLine(
        "borrowings_repaid", "financing", "out", "偿还借款所支付的现金", "Cash repaid on borrowings"
    ),
    CashFlowLine("interest_paid", "financing", "out", "偿付利息所支付的现金", "Cash paid for interest"),
    CashFlowLine(
        "other_financing_paid",
        "financing",
        "out",
        "支付的其他与筹资活动有关的现金",
        "Other cash paid relating to financing activities",
    ),
    # 四、汇率变动对现金的影响额
    CashFlowLine(
        "exchange_rate_effect",
        "exchange",
        "either",
        "汇率变动对现金的影响额",
        "Effect of exchange-rate changes on cash",
    ),
)

CASH_FLOW_KEYS: Final = frozenset(line.key for line in CASH_FLOW_LINES)
