"""Tables as an XLSX workbook: a bold, frozen header row with an auto-filter, typed cells, no formulas.

The caller (a service) says what the columns are (:class:`Column`: a header made with
``translatable``, a number format, a width) and gives the rows as Python values (int, Decimal,
Money, date, datetime, str, bool, None); this module knows nothing of what they mean. Every word
(headers, sheet names, titles, and cells that are a ``Message`` or a ``Bilingual``) is put in the
workbook's language (``zh`` or ``en``) from the message catalog when the workbook is written
(``ledger.messages.in_language``). Every download of the
service (docs/spreadsheets.md) is written here, so they all look alike:

* row 1 holds the headers, in Chinese or in English (``lang``), bold, frozen (``A2``), with an
  auto-filter over the table; the table's title is the workbook's title (File > Properties);
* money is a number, so a spreadsheet can sum it, shown with the currency's sign
  (``¥#,##0.00``; the code where the currency has no sign, ``"HKD "#,##0.00``) and its own
  number of decimals; a percentage is a fraction shown as ``0.00%``; a date is a date;
* text is always text: a payee or a description that begins with ``=`` is never a formula.

A cell whose number format differs from its column's (a summary table of money and
percentages in one column) is given as :class:`Formatted`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ledger.messages import in_language
from ledger.money import CURRENCY_EXPONENTS, Money

CONTENT_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INTEGER: Final = "0"
TEXT: Final = "@"
DATE: Final = "yyyy-mm-dd"
DATETIME: Final = "yyyy-mm-dd hh:mm:ss"
PERCENT: Final = "0.00%"
LANGUAGES: Final = ("zh", "en")

SIGNS: Final[dict[str, str]] = {"CNY": "¥", "USD": "US$", "EUR": "€", "GBP": "£"}
"""Currencies shown by their sign (as on the pages); the others by their code."""


def money_format(currency: str) -> str:
    """``¥#,##0.00`` for CNY; ``"HKD "#,##0.00`` for a currency without a sign; ``¥#,##0`` for JPY."""
    places = CURRENCY_EXPONENTS.get(currency, 2)
    number = "#,##0" + ("." + "0" * places if places else "")
    sign = SIGNS.get(currency)
    return f"{sign}{number}" if sign == "¥" else f'"{sign or currency + " "}"{number}'


def percent_format(places: int = 2) -> str:
    return "0" + ("." + "0" * places if places else "") + "%"


@dataclass(frozen=True)
class Column:
    """A column: its header (a ``Message``, written in the workbook's language), format and width."""

    header: str
    number_format: str = "General"
    width: int = 12

    def heading(self, lang: str) -> str:
        return in_language(self.header, lang)


def text(header: str, width: int = 16) -> Column:
    return Column(header, TEXT, width)


def integer(header: str, width: int = 10) -> Column:
    return Column(header, INTEGER, width)


def money(header: str, currency: str, width: int = 16) -> Column:
    return Column(header, money_format(currency), width)


def day(header: str, width: int = 12) -> Column:
    return Column(header, DATE, width)


def moment(header: str, width: int = 20) -> Column:
    return Column(header, DATETIME, width)


def percentage(header: str, places: int = 2, width: int = 10) -> Column:
    return Column(header, percent_format(places), width)


@dataclass(frozen=True)
class Formatted:
    """One cell with a number format of its own."""

    value: object
    number_format: str


@dataclass(frozen=True)
class Table:
    """A sheet: its name (at most 31 characters once written), a title, columns and rows of values.

    The name and the title are messages (``translatable``), written in the workbook's language.
    """

    sheet_name: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[object]]


HEADER_ROW: Final = 1


def fraction(percent_text: str | None) -> Decimal | None:
    """A percentage as the service states it (``"42.50"``) -> the fraction a cell holds (0.425)."""
    return None if percent_text is None else Decimal(percent_text) / 100


def _cell_value(value: object, lang: str) -> object:
    if isinstance(value, str):
        return in_language(value, lang)  # a Message or a Bilingual in ``lang``; other text as it is
    if isinstance(value, Money):
        value = value.to_decimal()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        # A spreadsheet has no time zones: UTC, as every timestamp of the service.
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def workbook_bytes(tables: Sequence[Table], lang: str = "zh") -> bytes:
    """The tables as one XLSX workbook, a sheet each, headers in ``lang`` (``zh`` or ``en``)."""
    return saved(workbook(tables, lang))


def saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook(tables: Sequence[Table], lang: str = "zh") -> Workbook:
    """The workbook :func:`workbook_bytes` writes, for a caller that adds to it (an import template)."""
    book = Workbook()
    book.remove(book.active)
    if tables:
        book.properties.title = in_language(tables[0].title, lang)
    for table in tables:
        sheet = book.create_sheet(in_language(table.sheet_name, lang)[:31])
        for index, column in enumerate(table.columns, start=1):
            cell = sheet.cell(row=HEADER_ROW, column=index, value=column.heading(lang))
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        for offset, row in enumerate(table.rows, start=HEADER_ROW + 1):
            for index, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
                number_format = value.number_format if isinstance(value, Formatted) else column.number_format
                if isinstance(value, Formatted):
                    value = value.value
                cell = sheet.cell(row=offset, column=index, value=_cell_value(value, lang))
                if isinstance(value, str):
                    cell.data_type = "s"  # "=…" stays text: no formulas in a download
                cell.number_format = number_format
        sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)
        last = get_column_letter(max(len(table.columns), 1))
        sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(table.rows), 1)}"
    return book
