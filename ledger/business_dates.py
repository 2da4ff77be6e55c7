"""Business dates: the calendar in China, where the organisations keep their books.

The server's clock is UTC. A month has ended, a statement's period is over and a day's date is
what it is in China (UTC+8), so that 00:30 on 1 July in Beijing is already July.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final

CHINA: Final = timezone(timedelta(hours=8), "CST")


def business_today(now: datetime | None = None) -> date:
    """Today's date in China."""
    return (now or datetime.now(UTC)).astimezone(CHINA).date()


def has_ended(last_day: date, now: datetime | None = None) -> bool:
    """Whether a period whose last day is ``last_day`` is over (that day has passed in China)."""
    return last_day < business_today(now)
