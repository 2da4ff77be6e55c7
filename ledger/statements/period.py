"""The period a statement covers, written ``2026-01..2026-12`` (months) or ``2026-01-01..2026-06-30``."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from ledger.errors import ValidationFailed

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class StatementPeriod:
    start: date
    end: date

    @classmethod
    def parse(cls, text: str, field: str = "period") -> StatementPeriod:
        """``YYYY-MM..YYYY-MM`` (whole months) or ``YYYY-MM-DD..YYYY-MM-DD``; a 422 naming ``field`` otherwise."""
        first, separator, last = text.strip().partition("..")
        if not separator:
            raise ValidationFailed.field(
                field, "write the period as 2026-01..2026-12 or 2026-01-01..2026-06-30"
            )
        try:
            period = cls(_bound(first, start=True), _bound(last, start=False))
        except ValueError:
            raise ValidationFailed.field(field, f"{text!r} is not a period of real dates") from None
        if period.end < period.start:
            raise ValidationFailed.field(field, "the period ends before it starts")
        if not (period.start.year >= 2000 and period.end.year <= 2100):
            raise ValidationFailed.field(field, "the period must lie between 2000 and 2100")
        return period

    @classmethod
    def year(cls, year: int) -> StatementPeriod:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def _bound(text: str, *, start: bool) -> date:
    text = text.strip()
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        return date(year, month, 1 if start else calendar.monthrange(year, month)[1])
    if _DAY.match(text):
        return date.fromisoformat(text)
    raise ValueError(text)
