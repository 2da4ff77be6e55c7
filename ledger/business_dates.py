"""Business dates: the calendar where the organisations keep their books (China by default).

The server's clock is UTC. A month has ended, a statement's period is over and a day's date is
what it is in the deployment's time zone (``LEDGER_TIME_ZONE``, Asia/Shanghai, UTC+8, by
default), so that 00:30 on 1 July in Beijing is already July.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo

CHINA: Final = timezone(timedelta(hours=8), "CST")
DEFAULT_ZONE: Final = "Asia/Shanghai"


@cache
def _zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def business_zone() -> tzinfo:
    """The deployment's time zone (``LEDGER_TIME_ZONE``); Asia/Shanghai outside a running app."""
    from flask import current_app, has_app_context  # business dates are also used without an app

    if has_app_context() and "ledger.settings" in current_app.extensions:
        return _zone(current_app.extensions["ledger.settings"].time_zone)
    return _zone(DEFAULT_ZONE)


def business_today(now: datetime | None = None) -> date:
    """Today's date in the business time zone."""
    return (now or datetime.now(UTC)).astimezone(business_zone()).date()


def has_ended(last_day: date, now: datetime | None = None) -> bool:
    """Whether a period whose last day is ``last_day`` is over (that day has passed)."""
    return last_day < business_today(now)


def start_of_day(day: date) -> datetime:
    """The first moment of a calendar day in the business time zone."""
    return datetime.combine(day, time.min, tzinfo=business_zone())


def end_of_day(day: date) -> datetime:
    """The last second of a calendar day in the business time zone."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=business_zone())
