"""Loading and reading the versioned reference data shipped in ``ledger/reference/``.

A version, once loaded, never changes: loading the same file again is a no-op, and loading a
file whose content differs from what the database holds under the same version is refused,
because books kept against that version would silently change meaning.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import select

from ledger.errors import Conflict, NotFound
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.reference import Account, ChartOfAccounts, ExpenseCategory, ExpenseCategoryList
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_event
from ledger.services.division_files import read_csv
from ledger.services.pagination import Page, PageRequest, fetch_page
from ledger.services.regions import import_divisions

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
    for kind in (CHARTS, CATEGORY_LISTS):
        for filename, content in _files(kind.folder):
            data = json.loads(content)
            if _load_version(kind, data, _sha256(content), filename):
                report.loaded.append(data["version"])
                record_event(
                    actor,
                    "reference_data.loaded",
                    kind.subject,
                    data["version"],
                    {"sha256": _sha256(content)},
                )
            else:
                report.unchanged.append(data["version"])
    for version, loaded in _load_division_lists(actor):
        (report.loaded if loaded else report.unchanged).append(version)
    db.session.flush()
    return report


def _load_division_lists(actor: Actor) -> list[tuple[str, bool]]:
    """Load each shipped division list: a JSON header naming its CSV file of divisions."""
    root = resources.files(REFERENCE_PACKAGE).joinpath("regions")
    results = []
    for filename, content in _files("regions"):
        header = json.loads(content)
        rows = read_csv(root.joinpath(header["file"]).read_bytes())
        try:
            report = import_divisions(
                actor, header["version"], header["year"], header["name"], header["source"], rows
            )
        except Conflict as error:
            raise ReferenceDataConflict(
                translatable("%(file)s: %(problem)s", file=filename, problem=error.detail)
            ) from error
        results.append((header["version"], report.loaded))
    return results


@dataclass(frozen=True)
class _Kind:
    """One kind of versioned reference data: its folder, header row and item rows."""

    folder: str
    subject: str
    header: Callable[[dict[str, Any], str], Any]
    items: Callable[[dict[str, Any]], list[Any]]


CHARTS = _Kind(
    folder="charts",
    subject="chart_of_accounts",
    header=lambda data, sha: ChartOfAccounts(
        version=data["version"],
        name_zh=data["name_zh"],
        name_en=data["name_en"],
        source=data["source"],
        content_sha256=sha,
    ),
    items=lambda data: [
        Account(
            chart_version=data["version"],
            code=row["code"],
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            account_class=row["class"],
            normal_balance=row["normal_balance"],
            is_contra=row["contra"],
        )
        for row in data["accounts"]
    ],
)

CATEGORY_LISTS = _Kind(
    folder="expense_categories",
    subject="expense_category_list",
    header=lambda data, sha: ExpenseCategoryList(
        version=data["version"],
        chart_version=data["chart_version"],
        name_zh=data["name_zh"],
        name_en=data["name_en"],
        content_sha256=sha,
    ),
    items=lambda data: [
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
        for row in data["categories"]
    ],
)


def _load_version(kind: _Kind, data: dict[str, Any], sha: str, filename: str) -> bool:
    """Load one version; False when it is already loaded unchanged, an error when it differs."""
    header = kind.header(data, sha)
    existing = db.session.get(type(header), data["version"])
    if existing is not None:
        if existing.content_sha256 != sha:
            raise ReferenceDataConflict(
                translatable(
                    "%(file)s: %(subject)s %(version)s differs from the one already loaded; "
                    "publish changes as a new version",
                    file=filename,
                    subject=kind.subject,
                    version=data["version"],
                )
            )
        return False
    db.session.add(header)
    db.session.flush()  # the items refer to the header row
    db.session.add_all(kind.items(data))
    db.session.flush()
    return True


def list_charts(actor: Actor, request: PageRequest) -> Page[ChartOfAccounts]:
    authorize(actor, Permission.READ_REFERENCE_DATA)
    return fetch_page(select(ChartOfAccounts).order_by(ChartOfAccounts.version), request)


VERSION_NAME = re.compile(r"[A-Za-z0-9._-]{1,32}")


def list_accounts(actor: Actor, chart_version: str, request: PageRequest) -> Page[Account]:
    authorize(actor, Permission.READ_REFERENCE_DATA)
    if not VERSION_NAME.fullmatch(chart_version) or db.session.get(ChartOfAccounts, chart_version) is None:
        raise NotFound.thing("chart of accounts", repr(chart_version))
    statement = select(Account).where(Account.chart_version == chart_version).order_by(Account.code)
    return fetch_page(statement, request)


def list_category_lists(actor: Actor, request: PageRequest) -> Page[ExpenseCategoryList]:
    authorize(actor, Permission.READ_REFERENCE_DATA)
    return fetch_page(select(ExpenseCategoryList).order_by(ExpenseCategoryList.version), request)


def list_categories(actor: Actor, list_version: str, request: PageRequest) -> Page[ExpenseCategory]:
    authorize(actor, Permission.READ_REFERENCE_DATA)
    if not VERSION_NAME.fullmatch(list_version) or db.session.get(ExpenseCategoryList, list_version) is None:
        raise NotFound.thing("expense category list", repr(list_version))
    statement = (
        select(ExpenseCategory)
        .where(ExpenseCategory.list_version == list_version)
        .order_by(ExpenseCategory.account_code, ExpenseCategory.code)
    )
    return fetch_page(statement, request)


# A chart version never changes once loaded (see the module's docstring), so each process reads
# a chart's account codes once per database and keeps them: posting checks every line against
# them, and reading the whole chart was a twelfth of a posting's time.
_chart_codes: dict[tuple[str, str], frozenset[str]] = {}


def chart_account_codes(chart_version: str) -> frozenset[str]:
    """The account codes of ``chart_version`` in this database (read once per process)."""
    key = (str(db.engine.url), chart_version)
    codes = _chart_codes.get(key)
    if codes is None:
        codes = frozenset(
            db.session.scalars(select(Account.code).where(Account.chart_version == chart_version))
        )
        if codes:  # a chart not loaded yet is asked again: it may be loaded later
            _chart_codes[key] = codes
    return codes
