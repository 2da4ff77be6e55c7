"""Importing communities, organisations, users, a fund's budget or its tranche schedule from XLSX.

A template (``template_download``) holds the import's columns, headed in the reader's language
with the other language and the field name in each header's note, a sample row (an upload that
leaves it as it is does not import it), a drop-down where a column takes fixed values, and the
header row frozen. It is written by the service's one spreadsheet writer.

An upload (read and loaded row by row through the input schemas by ``ledger.inputs.imports``)
is checked whole (``run_import``): every row goes through the service that creates one item, in
a savepoint of its own, so that every row is checked whatever the rows before it held, with the
rows before it already in place (two rows with one code clash as they would one after the other),
and the database's own rules (a code taken, an area outside the importer's) apply as they do to
one item. Rows that repeat a value that must be unique within the file are named as such.

* A dry run undoes everything afterwards: it only reports.
* A commit does the same checks again; if any row is refused, everything is undone and every
  problem is reported (422, nothing written); otherwise every row stays, each with the audit entry
  its service recorded, and ``import.committed`` records the import itself: the kind, the file's
  SHA-256 and how many rows.

The commit takes the file again rather than a token from the dry run: nothing is kept between
the two requests, and the rows are checked against the database as it is when they are written,
not as it was at the dry run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from ledger.errors import RowProblem, RowsRefused
from ledger.exports.spreadsheet import TEXT, Column, Table, saved, workbook
from ledger.extensions import db
from ledger.imports.kinds import KINDS, ImportKind
from ledger.imports.workbook import MAX_ROWS
from ledger.messages import in_language, translatable
from ledger.models.fund import Fund
from ledger.services import funds
from ledger.services.access import Actor, Permission, authorize
from ledger.services.audit_subjects import record_event
from ledger.services.disbursements import schedule_setting_refusal
from ledger.services.import_rows import CREATORS, Row, Where
from ledger.services.spreadsheets import Download

PERMISSIONS: Final[dict[str, Permission]] = {
    "communities": Permission.MANAGE_COMMUNITIES,
    "organisations": Permission.MANAGE_ORGANISATIONS,
    "users": Permission.MANAGE_USERS,
    "budget": Permission.MANAGE_FUNDS,
    "tranches": Permission.MANAGE_FUNDS,
}


@dataclass(frozen=True)
class LoadedRow:
    """A row as the input schema loaded it (``data``), or refused it (``problems``)."""

    row: int
    data: dict[str, Any] | None
    problems: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True)
class ParsedUpload:
    """An upload read and loaded: the file's SHA-256, each field's column letter, every row."""

    sha256: str
    letters: dict[str, str]
    rows: list[LoadedRow]


@dataclass(frozen=True)
class ImportReport:
    kind: str
    sha256: str
    dry_run: bool
    row_count: int
    preview: list[dict[str, Any]]
    """Each row as it will be (or was) created: ``{"row": n, "values": {field: text}}``."""
    fund_id: uuid.UUID | None = None


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _fund_for(actor: Actor, kind: ImportKind, fund_id: uuid.UUID | None) -> Fund | None:
    if not kind.in_fund:
        return None
    if fund_id is None:
        raise ValueError(f"the {kind.name} import needs a fund")
    fund = funds.get_fund(actor, fund_id)
    refusal = funds.budget_setting_refusal(fund) if kind.name == "budget" else schedule_setting_refusal(fund)
    if refusal is not None:
        raise refusal
    return fund


def check_access(actor: Actor, kind_name: str, fund_id: uuid.UUID | None = None) -> Fund | None:
    """Refuse whoever may not create the import's items (403; 404 for a fund they cannot see);
    the fund a budget or a schedule is imported into."""
    authorize(actor, PERMISSIONS[kind_name])
    kind = KINDS[kind_name]
    if kind.in_fund and fund_id is not None:
        return funds.get_fund(actor, fund_id)
    return None


# --- Templates ------------------------------------------------------------------------------------


def template_download(actor: Actor, kind_name: str, lang: str, fund_id: uuid.UUID | None = None) -> Download:
    """The import's template: headers, a sample row, drop-downs for fixed values, the header frozen."""
    check_access(actor, kind_name, fund_id)
    kind, lang = KINDS[kind_name], _lang(lang)
    other = "en" if lang == "zh" else "zh"
    table = Table(
        sheet_name=kind.title,
        title=translatable("Import template: %(kind)s", kind=kind.title),
        columns=[Column(c.header, TEXT, c.width) for c in kind.columns],
        rows=[[c.sample for c in kind.columns]],
    )
    book = workbook([table], lang)
    sheet = book.worksheets[0]
    for index, column in enumerate(kind.columns, start=1):
        header = sheet.cell(row=1, column=index)
        note = f"{in_language(column.header, other)} / {column.field}"
        if column.required:
            note += "\n" + in_language(translatable("required"), lang)
        if column.several:
            note += "\n" + in_language(translatable("several values: separate them with commas"), lang)
        header.comment = Comment(note, "Community Fund Ledger")
        sample = sheet.cell(row=2, column=index)
        sample.font = Font(italic=True, color="808080")
        if column.choices:
            letter = header.column_letter
            listed = DataValidation(
                type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True
            )
            listed.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            sheet.add_data_validation(listed)
    suffix = f"-{fund_id}" if fund_id else ""
    return Download(f"import-{kind.name}{suffix}.xlsx", saved(book))


# --- Dry run and commit ---------------------------------------------------------------------------


def _duplicates(kind: ImportKind, where: Where, rows: list[Row]) -> list[Row]:
    """Rows that repeat, within the file, a value that must be unique: each named, and not created."""
    first: dict[tuple[str, str], int] = {}
    repeated = []
    for row in rows:
        for name in kind.unique:
            value = row.data.get(name)
            if value is None:
                continue
            seen = first.setdefault((name, str(value).strip().lower()), row.number)
            if seen != row.number:
                message = translatable("the same as row %(row)s", row=seen)
                row.problems.append(where.problem(row.number, name, "import.duplicate", message))
        if row.problems:
            repeated.append(row)
    return repeated


def _preview(row: Row) -> dict[str, Any]:
    values = {
        name: (", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value))
        for name, value in row.data.items()
        if name != "password" and value not in (None, [], ())
    }
    return {"row": row.number, "values": values}


def run_import(
    actor: Actor,
    kind_name: str,
    parse: Callable[[], ParsedUpload],
    *,
    dry_run: bool,
    fund_id: uuid.UUID | None = None,
) -> ImportReport:
    """Check (``dry_run``) or commit every row, all or none; :class:`RowsRefused` lists every problem.

    ``parse`` reads the file (``ledger.inputs.imports.load_upload``); it is called once the
    importer's access is checked, so that who may not import learns nothing about the file.
    """
    authorize(actor, PERMISSIONS[kind_name])
    kind = KINDS[kind_name]
    fund = _fund_for(actor, kind, fund_id)
    upload = parse()
    sha256, loaded = upload.sha256, upload.rows
    where = Where(kind, upload.letters)
    problems = [p for r in loaded for p in r.problems]
    rows = [Row(r.row, r.data, []) for r in loaded if r.data is not None]
    _duplicates(kind, where, rows)
    creatable = [row for row in rows if not row.problems]
    outer = db.session.begin_nested()
    try:
        if creatable:
            CREATORS[kind.name](actor, where, creatable, fund)
    except BaseException:
        outer.rollback()
        raise
    problems += [p for row in rows for p in row.problems]
    if problems or dry_run:
        outer.rollback()
    else:
        outer.commit()
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise RowsRefused(
            translatable(
                "%(count)s problem(s) in the file; nothing was imported. Correct them and upload it again.",
                count=len(problems),
            ),
            problems,
            code="import.invalid",
        )
    if not dry_run:
        record_event(
            actor,
            "import.committed",
            "fund" if fund is not None else "import",
            fund.id if fund is not None else sha256,
            {"import": kind.name, "sha256": sha256, "row_count": len(rows)},
        )
    return ImportReport(kind.name, sha256, dry_run, len(rows), [_preview(r) for r in rows], fund_id)
