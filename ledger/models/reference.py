"""Reference data: the chart of accounts and the standard expense categories.

Both are versioned and immutable once loaded: books are kept against a named chart version
(``NPO-2005`` for the 2004 民间非营利组织会计制度, later ``NPO-2026``), so a new chart is added
beside the old one rather than edited into it.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base


class ChartOfAccounts(Base):
    __tablename__ = "chart_of_accounts"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500))
    content_sha256: Mapped[str] = mapped_column(String(64))


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint(
            "account_class IN ('asset', 'liability', 'net_assets', 'revenue', 'expense')",
            name="account_class",
        ),
        CheckConstraint("normal_balance IN ('debit', 'credit')", name="normal_balance"),
    )

    chart_version: Mapped[str] = mapped_column(ForeignKey("chart_of_accounts.version"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    account_class: Mapped[str] = mapped_column(String(16))
    normal_balance: Mapped[str] = mapped_column(String(8))
    is_contra: Mapped[bool] = mapped_column(default=False)


class ExpenseCategoryList(Base):
    __tablename__ = "expense_category_list"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    chart_version: Mapped[str] = mapped_column(ForeignKey("chart_of_accounts.version"))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    content_sha256: Mapped[str] = mapped_column(String(64))


class ExpenseCategory(Base):
    """A standard budget and expense line, mapped to the chart and to international classes."""

    __tablename__ = "expense_category"
    __table_args__ = (
        CheckConstraint(
            "functional_class IN ('program', 'management', 'fundraising')",
            name="functional_class",
        ),
        ForeignKeyConstraint(["chart_version", "account_code"], ["account.chart_version", "account.code"]),
    )

    list_version: Mapped[str] = mapped_column(ForeignKey("expense_category_list.version"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    chart_version: Mapped[str] = mapped_column(String(32))
    account_code: Mapped[str] = mapped_column(String(16))
    functional_class: Mapped[str] = mapped_column(String(16))
    sf424a_object_class: Mapped[str] = mapped_column(String(4))
    form990_line: Mapped[str] = mapped_column(String(8))
    is_indirect: Mapped[bool] = mapped_column(default=False)
