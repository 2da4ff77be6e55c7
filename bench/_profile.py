"""Where a request's time goes: queries and milliseconds per hot endpoint, and a pyinstrument profile.

Run ``PYTHONPATH=. .venv/bin/python -m bench._profile`` for the table (the demo on a fresh
PostgreSQL database, each endpoint called through the Flask test client, the SQL statements each
call sends counted), or ``... -m bench._profile "fund summary"`` to add the call tree of that
endpoint. Not part of ``make bench``: it prints no figure with a target, it shows what to fix.

This is how the dashboard's per-fund queries (a dozen per card) and the report list's per-report
fund lookups were found. Counts for writes include the statements of the audit sequencer.
"""

from __future__ import annotations

import io
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from werkzeug.test import TestResponse

from bench._support import bench_token, fresh_app, load_demo
from ledger.extensions import db
from ledger.models import Fund

CALLS = 100


@dataclass(frozen=True)
class Endpoint:
    name: str
    call: Callable[[FlaskClient], TestResponse]


def _endpoints(fund: uuid.UUID, organisation: uuid.UUID, member: str, officer: str) -> list[Endpoint]:
    as_member = {"Authorization": f"Bearer {member}"}
    as_officer = {"Authorization": f"Bearer {officer}"}

    def upload(client: FlaskClient) -> TestResponse:
        pdf = b"%PDF-1.4\n% " + uuid.uuid4().hex.encode() + b"\n%%EOF\n"
        return client.post(
            f"/api/v1/organisations/{organisation}/receipts",
            data={"file": (io.BytesIO(pdf), "r.pdf", "application/pdf")},
            headers=as_member,
            content_type="multipart/form-data",
        )

    return [
        Endpoint("health", lambda c: c.get("/api/v1/health")),
        Endpoint("fund list", lambda c: c.get("/api/v1/funds", headers=as_member)),
        Endpoint(
            "report list", lambda c: c.get(f"/api/v1/expense-reports?fund_id={fund}", headers=as_member)
        ),
        Endpoint(
            "budget vs actual", lambda c: c.get(f"/api/v1/funds/{fund}/budget-vs-actual", headers=as_officer)
        ),
        Endpoint("fund summary", lambda c: c.get(f"/api/v1/funds/{fund}/summary", headers=as_member)),
        Endpoint("receipt upload", upload),
        Endpoint(
            "report create",
            lambda c: c.post(
                f"/api/v1/funds/{fund}/expense-reports",
                json={"title": "p"},
                headers={**as_member, "Idempotency-Key": uuid.uuid4().hex},
            ),
        ),
    ]


def _measure(app: Flask, endpoint: Endpoint, counted: list[int]) -> tuple[float, float]:
    client = app.test_client()
    first = endpoint.call(client)
    assert first.status_code < 400, (endpoint.name, first.status_code, first.get_data(as_text=True)[:300])
    counted.clear()
    began = time.perf_counter()
    for _ in range(CALLS):
        endpoint.call(client)
    elapsed = (time.perf_counter() - began) / CALLS * 1000
    return elapsed, len(counted) / CALLS


def main(argv: list[str]) -> int:
    with fresh_app() as app:
        with app.app_context():
            load_demo()
            fund = db.session.scalar(select(Fund).where(Fund.kind == "lottery_grant"))
            assert fund is not None
            endpoints = _endpoints(
                fund.id, fund.organisation_id, bench_token("member01"), bench_token("finance1")
            )
            db.session.remove()
            engine = db.engine
        counted: list[int] = []
        event.listen(engine, "before_cursor_execute", lambda *_args: counted.append(1))
        print(f"{'endpoint':<20} {'ms per call':>12} {'queries':>8}   (test client, {CALLS} calls each)")
        for endpoint in endpoints:
            milliseconds, queries = _measure(app, endpoint, counted)
            print(f"{endpoint.name:<20} {milliseconds:>12.2f} {queries:>8.1f}")
        for wanted in argv:
            from pyinstrument import Profiler

            endpoint = next(e for e in endpoints if e.name == wanted)
            client = app.test_client()
            profiler = Profiler(interval=0.0005)
            with profiler:
                for _ in range(CALLS):
                    endpoint.call(client)
            print(profiler.output_text(unicode=False, color=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
