"""Fund summaries and budget execution for many funds at once (the dashboard's cards).

Their number of queries must not grow with the number of funds. (The one-fund reports are the
batched ones called with one fund, so there is nothing to compare between them.)
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, select

from ledger.database import unit_of_work
from ledger.demo import DEMO_PASSWORD
from ledger.demo_funds import create_demo_funds
from ledger.extensions import db
from ledger.models import Fund
from ledger.services.fund_reports import budget_executions, fund_summaries
from tests.conftest import DemoWorld


@contextmanager
def _counting_queries() -> Iterator[Callable[[], int]]:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield lambda: len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _with_demo_funds(app: Flask, world: DemoWorld) -> None:
    with app.app_context(), unit_of_work():
        create_demo_funds({user: uuid.UUID(org) for user, org in world.member_organisation.items()})


def test_batched_reports_take_the_same_queries_for_one_fund_or_many(app: Flask, world: DemoWorld) -> None:
    _with_demo_funds(app, world)
    with app.app_context():
        funds = list(db.session.scalars(select(Fund).order_by(Fund.reference)))
        for report in (fund_summaries, budget_executions):
            with _counting_queries() as one:
                report(funds[:1])
            with _counting_queries() as many:
                report(funds)
            assert many() == one(), report.__name__


def test_the_dashboard_does_not_query_per_fund(app: Flask, world: DemoWorld) -> None:
    """A finance officer's dashboard shows every fund's card in a fixed number of queries."""
    _with_demo_funds(app, world)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    signed_in = client.post(
        "/login", data={"username": "finance1", "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    )
    assert signed_in.status_code == 302
    with app.app_context():
        fund_count = db.session.query(Fund).count()
        with _counting_queries() as queries:
            dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert dashboard.get_data(as_text=True).count('<article class="card fund">') == fund_count
    # Sign-in, the fund page of cards (count and rows), five summary and four budget queries
    # (each reads the fund figures: postings by event and report lines), the review queue: before
    # batching this was a dozen queries per fund. Then what waits for the officer: disbursements,
    # budget revisions and tranches due, one query each, each with its fund; what is due for the
    # officer: its counts, then its rows (two queries); and the bell's count of unread
    # notifications in the header.
    assert queries() <= 24, queries()
