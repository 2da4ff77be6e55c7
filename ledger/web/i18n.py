"""Chinese and English on every page: Chinese first for Chinese users, a switch for the other.

Labels are pairs (Chinese, English) kept here in one table; a page asks for ``_("key")`` and
gets it in the page's language. Money is shown with its currency and thousands separators.
"""

from __future__ import annotations

from typing import Any

from flask import request, session

LANGUAGES = ("zh", "en")

LABELS: dict[str, tuple[str, str]] = {
    "app": ("社区基金账本", "Community Fund Ledger"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "home": ("首页", "Home"),
    "funds": ("资金", "Funds"),
    "fund": ("资金", "Fund"),
    "queue": ("待审核", "Approval queue"),
    "audit": ("审计追踪", "Audit trail"),
    "rows_carried": ("携带的数据行", "table rows carried"),
    "coverage": ("社区覆盖", "Community coverage"),
    "admin": ("管理", "Administration"),
    "communities": ("社区", "Communities"),
    "organisations": ("组织", "Organisations"),
    "users": ("用户", "Users"),
    "language": ("English", "中文"),
    "award": ("资助总额", "Award"),
    "received": ("已到账", "Received"),
    "spent": ("已使用", "Spent"),
    "remaining": ("结余", "Remaining"),
    "budget": ("预算", "Budget"),
    "budget_used": ("预算使用", "Budget used"),
    "category": ("类别", "Category"),
    "amount": ("金额", "Amount"),
    "status": ("状态", "Status"),
    "title": ("标题", "Title"),
    "reports": ("报销单", "Expense reports"),
    "report": ("报销单", "Expense report"),
    "new_report": ("新建报销单", "New expense report"),
    "create": ("创建", "Create"),
    "lines": ("明细", "Lines"),
    "add_line": ("添加明细", "Add a line"),
    "remove": ("删除", "Remove"),
    "incurred_on": ("发生日期", "Date incurred"),
    "payee": ("收款方", "Payee"),
    "description": ("摘要", "Description"),
    "receipt": ("票据", "Receipt"),
    "receipt_file": ("票据文件（PDF、JPEG 或 PNG）", "Receipt file (PDF, JPEG or PNG)"),
    "submit_report": ("提交审核", "Submit for approval"),
    "approve": ("批准", "Approve"),
    "return": ("退回修改", "Return for changes"),
    "reject": ("拒绝", "Reject"),
    "comment": ("意见", "Comment"),
    "void_report": ("作废报销单", "Void the report"),
    "void_explained": (
        "作废后，本报销单的支出与限定性净资产的解除一并冲回，冲回记入下列日期；原记录保留。",
        "Voiding reverses the report's spending and its restriction release on the date below; the original stays on record.",
    ),
    "void_date": ("冲回日期", "Date of the reversal"),
    "void_reason": ("作废原因", "Why it is voided"),
    "history": ("审核记录", "History"),
    "filed_by": ("填报人", "Filed by"),
    "submitted_at": ("提交时间", "Submitted"),
    "organisation": ("组织", "Organisation"),
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "oldest_first": ("按提交时间先后排列", "Oldest first"),
    "nothing_waiting": ("暂无待审核的报销单。", "Nothing is waiting for approval."),
    "disbursements": ("拨付", "Disbursements"),
    "prepare": ("准备拨付", "Prepare a disbursement"),
    "kind": ("类型", "Kind"),
    "tranche": ("期次", "Tranche"),
    "memo": ("用途说明", "Memo"),
    "mark_paid": ("登记已付款", "Mark paid"),
    "bank_reference": ("银行流水号", "Bank reference"),
    "paid_on": ("付款日期", "Paid on"),
    "prepared_by": ("准备人", "Prepared by"),
    "statements": ("报表", "Statements"),
    "fund_use_statement": ("资金使用情况表", "Fund-use statement"),
    "financial_statements": ("会计报表", "Financial statements"),
    "period": ("期间", "Period"),
    "download_pdf": ("下载 PDF", "Download PDF"),
    "checkpoint": ("最新检查点", "Latest checkpoint"),
    "tree_size": ("树大小", "Tree size"),
    "root_hash": ("根哈希", "Root hash"),
    "key_id": ("密钥", "Key id"),
    "signed_at": ("签署时间", "Signed"),
    "verify_now": ("立即验证", "Verify now"),
    "entries": ("审计条目", "Entries"),
    "action": ("操作", "Action"),
    "subject": ("对象", "Subject"),
    "actor": ("操作人", "Actor"),
    "time": ("时间", "Time"),
    "inclusion_proof": ("包含证明", "Inclusion proof"),
    "seq": ("序号", "Seq"),
    "look_up": ("查询", "Look up"),
    "export_bundle": ("下载导出包", "Download the export bundle"),
    "attestation": ("下载验证证明", "Download the attestation"),
    "target": ("目标", "Target"),
    "kind_urban": ("城市社区", "urban"),
    "kind_rural": ("农村社区", "rural"),
    "credit_code": ("统一社会信用代码", "Unified Social Credit Code"),
    "name": ("名称", "Name"),
    "role": ("角色", "Role"),
    "save": ("保存", "Save"),
    "next": ("下一页", "Next"),
    "previous": ("上一页", "Previous"),
    "draft": ("草稿", "draft"),
    "submitted": ("待审核", "submitted"),
    "approved": ("已批准", "approved"),
    "returned": ("已退回", "returned"),
    "rejected": ("已拒绝", "rejected"),
    "voided": ("已作废", "voided"),
    "reversed": ("已退回", "returned"),
    "prepared": ("待批准", "prepared"),
    "proposed": ("待批准", "proposed"),
    "paid": ("已付款", "paid"),
    "cancelled": ("已取消", "cancelled"),
    "active": ("执行中", "active"),
    "suspended": ("已暂停", "suspended"),
    "closed": ("已结项", "closed"),
    "kind_tranche_advance": ("分期拨付", "tranche advance"),
    "kind_reimbursement": ("报销拨付", "reimbursement"),
    "check_chain": (
        "规范格式、序号连续、哈希链与签名检查点",
        "canonical form, gapless sequence, hash chain, signed checkpoints",
    ),
    "check_head_and_nodes": (
        "日志头与默克尔节点（证明所用）",
        "the log head and the Merkle nodes proofs are served from",
    ),
    "check_replay": (
        "由审计记录重建的状态与余额等于数据表",
        "states and balances rebuilt from the trail equal the tables",
    ),
    "role_org_member": ("组织成员", "organisation member"),
    "role_finance_officer": ("财务专员", "finance officer"),
    "role_auditor": ("审计人员", "auditor"),
    "role_admin": ("管理员", "administrator"),
}


def language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(["zh", "en"], default="zh")
    return best or "zh"


def label(key: str) -> str:
    zh, en = LABELS[key]
    return zh if language() == "zh" else en


def money(amount: object, currency: str = "CNY") -> str:
    """``"1234567.5", "CNY"`` -> ``"CNY 1,234,567.50"``."""
    from ledger.statements.render import money as with_separators

    return f"{currency} {with_separators(str(amount))}"


def money_minor(minor: int, currency: str) -> str:
    """An amount stored as integer minor units, shown as ``money`` shows it."""
    from ledger.money import Money

    return money(str(Money(currency, minor)), currency)


def decimal_minor(minor: int, currency: str) -> str:
    """Integer minor units as the plain decimal a form field takes back (``"40000.00"``)."""
    from ledger.money import Money

    return str(Money(currency, minor))


def template_helpers() -> dict[str, Any]:
    return {
        "_": label,
        "lang": language(),
        "money": money,
        "money_minor": money_minor,
        "decimal_minor": decimal_minor,
    }
