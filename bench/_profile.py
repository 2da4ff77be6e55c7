"""Where a request's time goes: queries and milliseconds per hot endpoint, and a pyinstrument profile.

Run ``PYTHONPATH=. .venv/bin/python -m bench._profile`` for the table (the demo on a fresh
PostgreSQL database, each endpoint called through the Flask test client, the SQL statements each
call sends counted), or ``... -m bench._profile "fund summary"`` to add the call tree of that
endpoint, or ``... -m bench._profile --sql "report approve"`` to print the statements one call
sends. Not part of ``make bench``: it prints no figure with a target, it shows what to fix.

The writes of a report's life (lines set, submit, approve) each need a report in the state before:
their ``prepare`` step makes one, unmeasured, before every measured call.

This is how the dashboard's per-fund queries (a dozen per card) and the report list's per-report
fund lookups were found. ``queries`` counts what the request sends up to its commit; the audit
sequencer's statements after it (inline here, in the background in production) are in
``+ sequencer``.
"""

from __future__ import annotations

import io
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

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
    prepare: Callable[[FlaskClient], None] | None = None
    """Run before each call, unmeasured: makes the thing the call acts on."""


class _Reports:
    """Reports at each step of their life, made through the API for the write endpoints to act on."""

    def __init__(self, fund: uuid.UUID, organisation: uuid.UUID, member: str) -> None:
        self.fund = fund
        self.organisation = organisation
        self.as_member = {"Authorization": f"Bearer {member}"}
        self.current: dict[str, object] = {}

    def _receipt(self, client: FlaskClient) -> str:
        pdf = b"%PDF-1.4\n% " + uuid.uuid4().hex.encode() + b"\n%%EOF\n"
        response = client.post(
            f"/api/v1/organisations/{self.organisation}/receipts",
            data={"file": (io.BytesIO(pdf), "r.pdf", "application/pdf")},
            headers=self.as_member,
            content_type="multipart/form-data",
        )
        return str(response.get_json()["sha256"])

    def line(self, client: FlaskClient) -> dict[str, str]:
        return {
            "category_code": "ACTIVITY",
            "amount": "1.00",
            "incurred_on": "2026-03-10",
            "payee": "P",
            "description": "D",
            "receipt_sha256": self._receipt(client),
        }

    def draft(self, client: FlaskClient) -> None:
        created = client.post(
            f"/api/v1/funds/{self.fund}/expense-reports",
            json={"title": "p"},
            headers={**self.as_member, "Idempotency-Key": uuid.uuid4().hex},
        )
        self.current = {**created.get_json(), "line": self.line(client)}

    def with_lines(self, client: FlaskClient) -> None:
        self.draft(client)
        set_lines(client, self)

    def submitted(self, client: FlaskClient) -> None:
        self.with_lines(client)
        submitted = client.post(
            f"/api/v1/expense-reports/{self.current['id']}/submit", headers=self.as_member
        )
        assert submitted.status_code == 200, submitted.get_data(as_text=True)[:300]


def set_lines(client: FlaskClient, reports: _Reports) -> TestResponse:
    report = reports.current
    response = client.put(
        f"/api/v1/expense-reports/{report['id']}/lines",
        json={"lines": [report["line"]]},
        headers={**reports.as_member, "If-Match": f'"{report["version"]}"'},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response


def hot_endpoints(fund: uuid.UUID, organisation: uuid.UUID, member: str, officer: str) -> list[Endpoint]:
    as_member = {"Authorization": f"Bearer {member}"}
    as_officer = {"Authorization": f"Bearer {officer}"}
    reports = _Reports(fund, organisation, member)

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
        Endpoint(
            "disbursement prepare",
            lambda c: c.post(
                f"/api/v1/funds/{fund}/disbursements",
                json={"kind": "reimbursement", "amount": "1.00", "memo": "p"},
                headers={**as_officer, "Idempotency-Key": uuid.uuid4().hex},
            ),
        ),
        Endpoint("report lines", lambda c: set_lines(c, reports), reports.draft),
        Endpoint(
            "report submit",
            lambda c: c.post(f"/api/v1/expense-reports/{reports.current['id']}/submit", headers=as_member),
            reports.with_lines,
        ),
        Endpoint(
            "report approve",
            lambda c: c.post(f"/api/v1/expense-reports/{reports.current['id']}/approve", headers=as_officer),
            reports.submitted,
        ),
    ]


@dataclass
class Counted:
    """Every statement sent, and how many had been sent at each commit."""

    statements: list[str] = field(default_factory=list)
    commits: list[int] = field(default_factory=list)

    def request_part(self, before: int) -> int:
        """Of the statements sent since ``before``, those up to the first commit since."""
        committed = next((at for at in self.commits if at > before), len(self.statements))
        return committed - before


def _call(endpoint: Endpoint, client: FlaskClient, counted: Counted) -> tuple[float, int, int]:
    """One measured call (its ``prepare`` first, unmeasured): seconds, the request's statements, all."""
    if endpoint.prepare is not None:
        endpoint.prepare(client)
    before = len(counted.statements)
    began = time.perf_counter()
    response = endpoint.call(client)
    elapsed = time.perf_counter() - began
    assert response.status_code < 400, (
        endpoint.name,
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    return elapsed, counted.request_part(before), len(counted.statements) - before


def measure(
    app: Flask, endpoint: Endpoint, counted: Counted, calls: int = CALLS
) -> tuple[float, float, float]:
    """Milliseconds per call, statements up to its commit, and the sequencer's after it (means)."""
    client = app.test_client()
    _call(endpoint, client, counted)
    seconds = own = everything = 0.0
    for _ in range(calls):
        elapsed, request_part, sent = _call(endpoint, client, counted)
        seconds += elapsed
        own += request_part
        everything += sent
    return seconds / calls * 1000, own / calls, (everything - own) / calls


def _print_statements(app: Flask, endpoint: Endpoint, counted: Counted) -> None:
    client = app.test_client()
    _call(endpoint, client, counted)
    if endpoint.prepare is not None:
        endpoint.prepare(client)
    before = len(counted.statements)
    endpoint.call(client)
    own = counted.request_part(before)
    print(f"statements of one call of {endpoint.name} ({own} up to its commit, then the sequencer's):")
    for number, statement in enumerate(counted.statements[before:], 1):
        print(f"{number:>3}{'.' if number <= own else '+'} {' '.join(statement.split())[:400]}")


@contextmanager
def counted_demo() -> Iterator[tuple[Flask, list[Endpoint], Counted]]:
    """The demo on a fresh PostgreSQL database, its hot endpoints, and every statement counted."""
    with fresh_app() as app:
        with app.app_context():
            load_demo()
            fund = db.session.scalar(select(Fund).where(Fund.kind == "lottery_grant"))
            assert fund is not None
            endpoints = hot_endpoints(
                fund.id, fund.organisation_id, bench_token("member01"), bench_token("finance1")
            )
            db.session.remove()
            engine = db.engine
        counted = Counted()
        event.listen(
            engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_a: counted.statements.append(statement),
        )
        # The connection's commit, not the session's: releasing a savepoint is no commit.
        event.listen(engine, "commit", lambda _conn: counted.commits.append(len(counted.statements)))
        yield app, endpoints, counted


def main(argv: list[str]) -> int:
    with counted_demo() as (app, endpoints, counted):
        if argv[:1] == ["--sql"]:
            for wanted in argv[1:]:
                _print_statements(app, next(e for e in endpoints if e.name == wanted), counted)
            return 0
        print(
            f"{'endpoint':<20} {'ms per call':>12} {'queries':>8} {'+ sequencer':>12}"
            f"   (test client, {CALLS} calls each)"
        )
        for endpoint in endpoints:
            milliseconds, queries, sequencer = measure(app, endpoint, counted)
            print(f"{endpoint.name:<20} {milliseconds:>12.2f} {queries:>8.1f} {sequencer:>12.1f}")
        for wanted in argv:
            from pyinstrument import Profiler

            endpoint = next(e for e in endpoints if e.name == wanted)
            client = app.test_client()
            profiler = Profiler(interval=0.0005)
            for _ in range(CALLS):
                if endpoint.prepare is not None:
                    endpoint.prepare(client)  # not profiled: the profiler sums the calls alone
                profiler.start()
                endpoint.call(client)
                profiler.stop()
            print(profiler.output_text(unicode=False, color=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
