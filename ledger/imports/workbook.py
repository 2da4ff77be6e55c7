"""An uploaded XLSX workbook read safely into rows of cells, or a refusal that says what is wrong.

Only a plain table is read: the first worksheet, its headers in row 1 (a column's Chinese or
English name, or its field name), one thing per row below. Refused, each with a 422 naming the
row, the column or the limit, before any row is looked at by the rules:

* a file that is not a ZIP (a text file named ``.xlsx``), or a ZIP that is not a workbook;
* an encrypted (password-protected) workbook, or an old binary ``.xls``: both are OLE files;
* a ZIP whose parts would expand beyond ``MAX_UNCOMPRESSED_BYTES``, or expand more than
  ``MAX_RATIO`` times (a "zip bomb"), checked from the ZIP's directory before anything is inflated;
* more than ``MAX_ROWS`` rows: the sheet's stated dimension when it has one, else the rows are
  counted and the count stops at the first row past the limit, so a 100,000-row file is refused
  after reading ten thousand rows, not all of them;
* merged cells in the header row, a header that names no column, a column named twice, or a
  required column missing;
* a formula anywhere: a formula's value is whatever the spreadsheet last computed (or nothing),
  not what the person typed, so a row holding one is refused rather than guessed at.

openpyxl reads the sheet in ``read_only`` mode (streaming, constant memory) with
``data_only=False`` so that formulas are seen as formulas.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from ledger.errors import RowProblem, RowsRefused
from ledger.imports.kinds import ImportColumn, ImportKind
from ledger.messages import Message, translatable

MAX_ROWS: Final = 10_000
"""The most rows (below the header) one import takes."""
MAX_UNCOMPRESSED_BYTES: Final = 64 * 1024 * 1024
"""The most a workbook's parts may add up to once inflated; ten thousand rows take far less."""
MAX_RATIO: Final = 200
"""The most a part may expand; a spreadsheet's XML compresses about ten times, a zip bomb thousands."""
OLE_SIGNATURE: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE: Final = b"PK\x03\x04"
HEADER_ROW: Final = 1
_MERGED = re.compile(rb'mergeCell\s+ref="\$?([A-Z]{1,3})\$?([0-9]+)(?::\$?([A-Z]{1,3})\$?([0-9]+))?"')


class FileRefused(RowsRefused):
    """The upload is not a table the import reads; its problems name the row or column where they can."""


@dataclass(frozen=True)
class Sheet:
    """The rows of a table, each a mapping of field -> cell value (None for a blank), numbered as
    the spreadsheet numbers them (the header is row 1); wholly blank rows are left out."""

    kind: ImportKind
    letters: dict[str, str]
    """Field -> the column letter it was found in."""
    rows: list[tuple[int, dict[str, Any]]]


def _refused(message: Message, code: str) -> FileRefused:
    return FileRefused(message, [RowProblem(None, None, None, code, message)], code=code)


def _check_container(content: bytes) -> zipfile.ZipFile:
    if content.startswith(OLE_SIGNATURE):
        raise _refused(
            translatable(
                "The workbook is encrypted (password-protected) or is an old .xls file: "
                "save it as an .xlsx workbook without a password."
            ),
            "import.encrypted",
        )
    not_xlsx = translatable("The file is not an XLSX workbook: download the template and fill it in.")
    if not content.startswith(ZIP_SIGNATURE):
        raise _refused(not_xlsx, "import.not_xlsx")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _refused(not_xlsx, "import.not_xlsx") from None
    names = {part.filename for part in parts}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise _refused(not_xlsx, "import.not_xlsx")
    total = sum(part.file_size for part in parts)
    swollen = any(part.file_size > MAX_RATIO * max(part.compress_size, 1024) for part in parts)
    if total > MAX_UNCOMPRESSED_BYTES or swollen:
        raise _refused(
            translatable(
                "The workbook expands to more than %(limit)s MB: split it into smaller files.",
                limit=MAX_UNCOMPRESSED_BYTES // (1024 * 1024),
            ),
            "import.too_large",
        )
    return archive


def _merged_header_cells(archive: zipfile.ZipFile, path: str) -> list[str]:
    """The merged ranges that touch the header row (read-only sheets do not report merges).

    The sheet's XML is scanned in pieces for ``mergeCell`` elements, which follow the rows.
    """
    found: list[str] = []
    tail = b""
    with archive.open(path.lstrip("/")) as part:
        while chunk := part.read(1 << 20):
            text = tail + chunk
            for match in _MERGED.finditer(text):
                first, last = int(match.group(2)), int(match.group(4) or match.group(2))
                if first <= HEADER_ROW <= last:
                    found.append(match.group(0).split(b'"')[1].decode("ascii"))
            tail = text[-200:]
    return sorted(set(found))


def _column_named(kind: ImportKind, header: object) -> ImportColumn | None:
    if header is None:
        return None
    text = str(header).strip()
    # The template writes "中文名" with the field name as a note; a header of "中文名 (field)" or
    # "中文名\nfield" is read as well.
    candidates = {text, *(part.strip() for part in re.split(r"[\n()（）]+", text))} - {""}
    for column in kind.columns:
        if candidates & column.names():
            return column
    return None


def _headers(kind: ImportKind, cells: list[Any]) -> dict[int, ImportColumn]:
    """Column index -> the column its header names; refuses unknown, repeated and missing columns."""
    placed: dict[int, ImportColumn] = {}
    problems: list[RowProblem] = []
    for index, cell in enumerate(cells, start=1):
        value = cell.value
        if value is None or not str(value).strip():
            continue
        letter = get_column_letter(index)
        column = _column_named(kind, value)
        if column is None:
            message = translatable(
                "column %(letter)s: the header '%(header)s' names no column of this import",
                letter=letter,
                header=str(value).strip()[:60],
            )
            problems.append(RowProblem(HEADER_ROW, letter, None, "import.unknown_column", message))
        elif column in placed.values():
            message = translatable(
                "column %(letter)s: the column %(field)s appears twice", letter=letter, field=column.field
            )
            problems.append(
                RowProblem(HEADER_ROW, letter, column.field, "import.repeated_column", message, column.header)
            )
        else:
            placed[index] = column
    for column in kind.columns:
        if column.required and column not in placed.values():
            message = translatable("the required column %(field)s is missing from row 1", field=column.field)
            problems.append(
                RowProblem(HEADER_ROW, None, column.field, "import.missing_column", message, column.header)
            )
    if problems:
        raise FileRefused(problems[0].message, problems, code="import.columns")
    return placed


def _value(cell: Any) -> Any:
    value = cell.value
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, datetime) and (value.hour, value.minute, value.second, value.microsecond) == (
        0,
        0,
        0,
        0,
    ):
        return value.date()
    return value


def _is_formula(cell: Any) -> bool:
    return getattr(cell, "data_type", None) == "f" or (
        cell.value is not None
        and not isinstance(cell.value, str | int | float | bool | date | datetime | time | timedelta)
    )


def _formula_refusal(cells: list[tuple[int, str]]) -> FileRefused:
    row, letter = cells[0]
    return FileRefused(
        translatable(
            "Cell %(cell)s holds a formula: type the value itself (copy, then paste as values).",
            cell=f"{letter}{row}",
        ),
        [RowProblem(r, c, None, "import.formula", translatable("holds a formula")) for r, c in cells[:100]],
        code="import.formula",
    )


def _too_many_rows() -> FileRefused:
    return _refused(
        translatable(
            "The file holds more than %(limit)s rows; one import takes at most %(limit)s: "
            "split it into several files.",
            limit=MAX_ROWS,
        ),
        "import.too_many_rows",
    )


def read_sheet(content: bytes, kind: ImportKind) -> Sheet:
    """The first worksheet of ``content`` as rows of ``kind``'s columns, or :class:`FileRefused`."""
    archive = _check_container(content)
    damaged = _refused(
        translatable("The workbook is damaged and cannot be read: save it again as .xlsx."),
        "import.unreadable",
    )
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged workbook; none of them is ours
        raise damaged from None
    try:
        if not book.worksheets:
            raise _refused(translatable("The workbook has no worksheet."), "import.empty")
        sheet = book.worksheets[0]
        # The stated dimension (when the writer gave one) refuses a huge sheet before any row is read.
        stated = sheet.max_row if isinstance(sheet.max_row, int) else None
        if stated is not None and stated - HEADER_ROW > MAX_ROWS:
            raise _too_many_rows()
        return _read_rows(archive, sheet, kind)
    except RowsRefused:
        raise
    except Exception:  # a sheet is parsed as it is read: bad XML, a cell "ZZZZ2", a number "abc"
        raise damaged from None
    finally:
        book.close()


def _read_rows(archive: zipfile.ZipFile, sheet: Any, kind: ImportKind) -> Sheet:
    lines: Iterable[Any] = sheet.iter_rows()
    iterator = iter(lines)
    header = next(iterator, None)
    if header is None:
        raise _refused(translatable("The worksheet is empty: row 1 must hold the headers."), "import.empty")
    merged = _merged_header_cells(archive, sheet._worksheet_path)  # openpyxl keeps the part's path here
    if merged:
        raise FileRefused(
            translatable(
                "Row 1 has merged cells (%(cells)s): give each column a header cell of its own.",
                cells=", ".join(merged),
            ),
            [
                RowProblem(
                    HEADER_ROW, cells, None, "import.merged_header", translatable("merged header cells")
                )
                for cells in merged
            ],
            code="import.merged_header",
        )
    formulas = [(HEADER_ROW, c.column_letter) for c in header if c.value is not None and _is_formula(c)]
    if formulas:
        raise _formula_refusal(formulas)
    placed = _headers(kind, list(header))
    rows: list[tuple[int, dict[str, Any]]] = []
    formulas = []
    for number, line in enumerate(iterator, start=HEADER_ROW + 1):
        if number - HEADER_ROW > MAX_ROWS:
            raise _too_many_rows()
        values: dict[str, Any] = {}
        for index, cell in enumerate(line, start=1):
            if cell.value is None:
                continue
            if _is_formula(cell):
                formulas.append((number, get_column_letter(index)))
                continue
            column = placed.get(index)
            if column is not None:
                values[column.field] = _value(cell)
        if formulas:
            continue
        if any(v is not None for v in values.values()) and not kind.is_sample(values):
            rows.append((number, values))
    if formulas:
        raise _formula_refusal(formulas)
    if not rows:
        raise _refused(translatable("The worksheet has no rows below the headers."), "import.empty")
    letters = {column.field: get_column_letter(index) for index, column in placed.items()}
    return Sheet(kind, letters, rows)
