"""What day it is for the books, the statements and the open data: the deployment's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from ledger.business_dates import business_today
from ledger.config import load_settings


def _app_in(zone: str) -> Flask:
    """A bare Flask app carrying settings for ``zone``, as ``create_app`` leaves them."""
    app = Flask(__name__)
    app.extensions["ledger.settings"] = load_settings({"LEDGER_TIME_ZONE": zone})
    return app


def test_the_day_is_the_day_where_the_hub_is() -> None:
    # 20:30 UTC on 1 March is 04:30 on 2 March in China and still 1 March in London.
    moment = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)
    assert business_today(moment).isoformat() == "2026-03-02"  # no app: Asia/Shanghai
    with _app_in("Asia/Shanghai").app_context():
        assert business_today(moment).isoformat() == "2026-03-02"
    with _app_in("Europe/London").app_context():
        assert business_today(moment).isoformat() == "2026-03-01"
