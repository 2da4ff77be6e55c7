"""How many SQL statements a report's busiest requests send: set its lines, submit it, approve it.

Each request is counted through the API test client, up to its commit (the audit sequencer's
work after the commit is not the request's). The bounds are what the requests send now; a
change that sends more (a row loaded again, a query per line, a lazy load) fails here.
Docs: docs/performance.md, "The whole service under load".
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.builders import activated_fund, draft_report, report_line
from tests.conftest import DemoWorld, is_postgres
from tests.helpers import counting_statements

# SQLite's transactions start with a BEGIN IMMEDIATE of their own (ledger.database), one more statement.
BEGIN = 0 if is_postgres() else 1

# The token with its user and the trail's row for it; the fund locked; the report with its lines.
LINES_SET = 6  # ... and the receipts; the new version; the lines; the audit entry
SUBMITTED = 6  # ... and the checks' figures in one query; the report; the audit entry
# As submitted; the restriction's release: what the fund holds, the account's balance; two journal
# entries, the month share-locked once for both, each entry, its postings and its audit entry; the
# report and its audit entry.
APPROVED = 15


def _report(client: FlaskClient, world: DemoWorld, lines: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fund = activated_fund(client, world)
    created = client.post(
        f"/api/v1/funds/{fund['id']}/expense-reports",
        json={"title": "counted"},
        headers=world.keyed("member01"),
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json(), [report_line(client, world, "ACTIVITY", "10.00") for _ in range(lines)]


@pytest.mark.parametrize("lines", [1, 5])
def test_setting_lines_sends_the_same_few_statements_however_many_lines(
    app: Flask, client: FlaskClient, world: DemoWorld, lines: int
) -> None:
    report, written = _report(client, world, lines)
    with app.app_context(), counting_statements() as statements:
        response = client.put(
            f"/api/v1/expense-reports/{report['id']}/lines",
            json={"lines": written},
            headers={**world.auth("member01"), "If-Match": f'"{report["version"]}"'},
        )
    assert response.status_code == 200, response.get_json()
    assert statements() <= LINES_SET + BEGIN, statements()


def test_setting_lines_again_replaces_them_in_the_same_few_statements(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    """Lines already there are deleted in one more statement, not one per line."""
    report, written = _report(client, world, 3)
    url = f"/api/v1/expense-reports/{report['id']}/lines"
    first = client.put(url, json={"lines": written}, headers={**world.auth("member01"), "If-Match": "*"})
    assert first.status_code == 200, first.get_json()
    with app.app_context(), counting_statements() as statements:
        again = client.put(
            url, json={"lines": written[:2]}, headers={**world.auth("member01"), "If-Match": "*"}
        )
    assert again.status_code == 200, again.get_json()
    assert statements() <= LINES_SET + 1 + BEGIN, statements()


@pytest.mark.parametrize("lines", [1, 5])
def test_submitting_and_approving_send_a_bounded_number_of_statements(
    app: Flask, client: FlaskClient, world: DemoWorld, lines: int
) -> None:
    """However many lines: the checks are one query, not one per line and rule."""
    fund = activated_fund(client, world)
    reports = [
        draft_report(
            client, world, fund, [report_line(client, world, "ACTIVITY", "10.00") for _ in range(lines)]
        )
        for _ in range(2)
    ]
    # The month's first posting opens its accounting period: not what is counted here.
    first = f"/api/v1/expense-reports/{reports[0]['id']}"
    assert client.post(f"{first}/submit", headers=world.auth("member01")).status_code == 200
    assert client.post(f"{first}/approve", headers=world.auth("finance1")).status_code == 200
    url = f"/api/v1/expense-reports/{reports[1]['id']}"
    with app.app_context(), counting_statements() as submitting:
        submitted = client.post(f"{url}/submit", headers=world.auth("member01"))
    assert submitted.status_code == 200, submitted.get_json()
    assert submitting() <= SUBMITTED + BEGIN, submitting()
    with app.app_context(), counting_statements() as approving:
        approved = client.post(f"{url}/approve", headers=world.auth("finance1"))
    assert approved.status_code == 200, approved.get_json()
    # The fund is restricted: approval books the spending and the restriction's release.
    assert approving() <= APPROVED + BEGIN, approving()
