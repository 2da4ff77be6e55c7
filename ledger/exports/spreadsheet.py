"""One table as an XLSX workbook: a title row, a frozen header row, typed cells with number formats.

The caller (a service) says what the columns are and gives the rows as Python values (int,
Decimal, str, bool); this module knows nothing of what they mean. Decimals are written as
numbers, so a spreadsheet can sum them, with the column's number format for display.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

CONTENT_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INTEGER: Final = "0"
TEXT: Final = "@"


@dataclass(frozen=True)
class Column:
    header: str
    number_format: str = "General"
    width: int = 12


@dataclass(frozen=True)
class Table:
    """A sheet: its name (at most 31 characters), a title line, columns and rows of values."""

    sheet_name: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[object]]


# The header row sits under the title row; everything above the first data row stays in view.
HEADER_ROW: Final = 2


def _cell_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    return value


def workbook_bytes(tables: Sequence[Table]) -> bytes:
    """The tables as one XLSX workbook, a sheet each."""
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.sheet_name[:31])
        sheet.cell(row=1, column=1, value=table.title).font = Font(bold=True, size=13)
        for index, column in enumerate(table.columns, start=1):
            cell = sheet.cell(row=HEADER_ROW, column=index, value=column.header)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        for offset, row in enumerate(table.rows, start=HEADER_ROW + 1):
            for index, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
                cell = sheet.cell(row=offset, column=index, value=_cell_value(value))
                cell.number_format = column.number_format
        sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
