"""Loading and reading the versioned reference data shipped in ``ledger/reference/``.

A version, once loaded, never changes: loading the same file again is a no-op, and loading a
file whose content differs from what the database holds under the same version is refused,
because books kept against that version would silently change meaning.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import select

from ledger.errors import NotFound
from ledger.extensions import db
from ledger.models.reference import Account, ChartOfAccounts, ExpenseCategory, ExpenseCategoryList
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_event
from ledger.services.pagination import Page, PageRequest, fetch_page

REFERENCE_PACKAGE = "ledger.reference"


class ReferenceDataConflict(Exception):
    """A shipped file differs from the version of the same name already in the database."""


@dataclass(frozen=True)
class LoadReport:
    loaded: list[str]
    unchanged: list[str]


def _files(folder: str) -> list[tuple[str, bytes]]:
    root = resources.files(REFERENCE_PACKAGE).joinpath(folder)
    return sorted((f.name, f.read_bytes()) for f in root.iterdir() if f.name.endswith(".json"))


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def load_reference_data(actor: Actor) -> LoadReport:
    """Load every chart and expense-category list not yet in the database."""
    report = LoadReport(loaded=[], unchanged=[])
    for name, content in _files("charts"):
        _load_chart(json.loads(content), _sha256(content), report, name)
        _record_load(actor, report, "chart_of_accounts", json.loads(content)["version"], content)
    for name, content in _files("expense_categories"):
        _load_category_list(json.loads(content), _sha256(content), report, name)
        _record_load(actor, report, "expense_category_list", json.loads(content)["version"], content)
    db.session.flush()
    return report


def _record_load(actor: Actor, report: LoadReport, kind: str, version: str, content: bytes) -> None:
    if version in report.loaded:
        record_event(actor, "reference_data.loaded", kind, version, {"sha256": _sha256(content)})


def _load_chart(data: dict[str, Any], sha: str, report: LoadReport, filename: str) -> None:
    existing = db.session.get(ChartOfAccounts, data["version"])
    if existing is not None:
        if existing.content_sha256 != sha:
            raise ReferenceDataConflict(
                f"{filename}: chart {data['version']} differs from the one already loaded; "
                "publish changes as a new version"
            )
        report.unchanged.append(data["version"])
        return
    db.session.add(
        ChartOfAccounts(
            version=data["version"],
            name_zh=data["name_zh"],
            name_en=data["name_en"],
            source=data["source"],
            content_sha256=sha,
        )
    )
    db.session.flush()  # the accounts refer to the chart row
    for row in data["accounts"]:
        db.session.add(
            Account(
                chart_version=data["version"],
                code=row["code"],
                name_zh=row["name_zh"],
                name_en=row["name_en"],
                account_class=row["class"],
                normal_balance=row["normal_balance"],
                is_contra=row["contra"],
            )
        )
    db.session.flush()
    report.loaded.append(data["version"])


def _load_category_list(data: dict[str, Any], sha: str, report: LoadReport, filename: str) -> None:
    existing = db.session.get(ExpenseCategoryList, data["version"])
    if existing is not None:
        if existing.content_sha256 != sha:
            raise ReferenceDataConflict(
                f"{filename}: expense categories {data['version']} differ from those already "
                "loaded; publish changes as a new version"
            )
        report.unchanged.append(data["version"])
        return
    db.session.add(
        ExpenseCategoryList(
            version=data["version"],
            chart_version=data["chart_version"],
            name_zh=data["name_zh"],
            name_en=data["name_en"],
            content_sha256=sha,
        )
    )
    db.session.flush()  # the categories refer to the list row
    for row in data["categories"]:
        db.session.add(
            ExpenseCategory(
                list_version=data["version"],
                code=row["code"],
                name_zh=row["name_zh"],
                name_en=row["name_en"],
                chart_version=data["chart_version"],
                account_code=row["account_code"],
                functional_class=row["functional_class"],
                sf424a_object_class=row["sf424a_object_class"],
                form990_line=row["form990_line"],
                is_indirect=row["indirect"],
            )
        )
    db.session.flush()
    report.loaded.append(data["version"])


def list_charts(actor: Actor, request: PageRequest) -> Page[ChartOfAccounts]:
    authorize(actor, Permission.READ_REFERENCE_DATA)
    return fetch_page(select(ChartOfAccounts).order_by(ChartOfAccounts.version), request)


def list_accounts(actor: Actor, chart_version: str, request: PageRequest) -> Page[Account]:
    authorize(actor, Permission.READ_REFERENCE_DATA)
    if db.session.get(ChartOfAccounts, chart_version) is None:
        raise NotFound.thing("chart of accounts", repr(chart_version))
    statement = select(Account).where(Account.chart_version == chart_version).order_by(Account.code)
    return fetch_page(statement, request)


def list_category_lists(actor: Actor, request: PageRequest) -> Page[ExpenseCategoryList]:
    authorize(actor, Permission.READ_REFERENCE_DATA)
    return fetch_page(select(ExpenseCategoryList).order_by(ExpenseCategoryList.version), request)


def list_categories(actor: Actor, list_version: str, request: PageRequest) -> Page[ExpenseCategory]:
    authorize(actor, Permission.READ_REFERENCE_DATA)
    if db.session.get(ExpenseCategoryList, list_version) is None:
        raise NotFound.thing("expense category list", repr(list_version))
    statement = (
        select(ExpenseCategory)
        .where(ExpenseCategory.list_version == list_version)
        .order_by(ExpenseCategory.account_code, ExpenseCategory.code)
    )
    return fetch_page(statement, request)
