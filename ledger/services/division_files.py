"""Reading a division list from CSV or XLSX into plain rows, one per line of the file.

Both readers yield the same ``DivisionRow``s for the same table, numbered as a spreadsheet
numbers them (the header is row 1), so a problem can be reported where the person will look
for it. Headers may be the English column names or the NBS table's Chinese ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.messages import translatable

COLUMNS = ("code", "name", "parent", "urban_rural_class")

HEADER_ALIASES = {
    "code": "code",
    "统计用区划代码": "code",
    "区划代码": "code",
    "name": "name",
    "名称": "name",
    "parent": "parent",
    "上级代码": "parent",
    "urban_rural_class": "urban_rural_class",
    "urban-rural class": "urban_rural_class",
    "城乡分类代码": "urban_rural_class",
}


@dataclass(frozen=True)
class DivisionRow:
    """One line of a division file as read: text, stripped, blanks as empty strings."""

    row: int
    code: str
    name: str
    parent: str
    urban_rural_class: str


class UnreadableFile(Exception):
    """The file is not a CSV or XLSX table with the division columns."""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # a spreadsheet that stored a code as a number
        return str(int(value))
    return str(value).strip()


def _rows(lines: Iterator[list[Any]]) -> Iterator[DivisionRow]:
    header = next(lines, None)
    if header is None:
        raise UnreadableFile(translatable("the file is empty"))
    names = [HEADER_ALIASES.get(_cell(h).lower(), HEADER_ALIASES.get(_cell(h), "")) for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise UnreadableFile(
            translatable(
                "row 1: missing column(s) %(missing)s; expected %(expected)s",
                missing=", ".join(missing),
                expected=", ".join(COLUMNS),
            )
        )
    where = {c: names.index(c) for c in COLUMNS}
    for number, line in enumerate(lines, start=2):
        cells = [_cell(v) for v in line]
        if not any(cells):
            continue  # a blank line between blocks is not a division
        cells += [""] * (len(names) - len(cells))
        yield DivisionRow(number, *(cells[where[c]] for c in COLUMNS))


def read_csv(content: bytes) -> list[DivisionRow]:
    """Rows of a UTF-8 CSV file, with or without a byte-order mark."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            translatable(
                "the CSV file is not UTF-8 (%(reason)s at byte %(byte)s)",
                reason=error.reason,
                byte=error.start,
            )
        ) from error
    return list(_rows(iter(csv.reader(io.StringIO(text, newline="")))))


def read_xlsx(content: bytes) -> list[DivisionRow]:
    """Rows of the first worksheet of an XLSX workbook."""
    from openpyxl import load_workbook  # only the import command reads spreadsheets

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise UnreadableFile(
            translatable("the XLSX file cannot be read: %(error)s", error=str(error))
        ) from error
    try:
        sheet = workbook.worksheets[0]
        return list(_rows(list(r) for r in sheet.iter_rows(values_only=True)))
    finally:
        workbook.close()


def read_division_file(path: Path) -> list[DivisionRow]:
    """Rows of ``path``, read as XLSX when it is named so and as CSV otherwise."""
    content = path.read_bytes()
    if path.suffix.lower() == ".xlsx":
        return read_xlsx(content)
    return read_csv(content)
