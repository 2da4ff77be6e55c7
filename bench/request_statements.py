"""request_statements: the SQL statements the busiest writes send, against half of what they sent.

Counted as ``bench/_profile.py`` counts them: the demo on a fresh PostgreSQL database, each
request through the Flask test client, what it sends up to its commit (the audit sequencer's
statements after the commit are not the request's), the mean of 20 calls. The baseline is what
each sent when issue 21 measured them: setting a report's lines 12, submitting it 15, approving
it 30; the target is half of that or fewer (approval at most 15). A count is exact, not noisy:
it moves only when the code does. ``tests/funds/test_report_statements.py`` holds the same
bounds in the test suite.
"""

from __future__ import annotations

from bench.__main__ import Result
from bench._profile import counted_demo, measure
from bench._support import say

CALLS = 20
BEFORE = {"report lines": 12, "report submit": 15, "report approve": 30}
"""Statements each request sent when issue 21 was filed."""


def run() -> list[Result]:
    results: list[Result] = []
    with counted_demo() as (app, endpoints, counted):
        for endpoint in endpoints:
            if endpoint.name not in BEFORE:
                continue
            before = BEFORE[endpoint.name]
            _, statements, sequencer = measure(app, endpoint, counted, CALLS)
            say(
                f"{endpoint.name}: {statements:.1f} statements up to its commit (+ {sequencer:.1f} sequencer)"
            )
            ratio = statements / before
            results.append(
                Result(
                    "request_statements",
                    f"statements: {endpoint.name} (was {before})",
                    statements,
                    "",
                    f"<= 0.5 x (<= {before // 2})",
                    ratio,
                    ratio <= 0.5,
                )
            )
    return results
