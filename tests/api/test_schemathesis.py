"""Schemathesis against our own OpenAPI document, as each role: no 5xx, every answer as documented.

Every operation of ``/api/v1/openapi.json`` gets generated requests (valid and invalid
parameters, bodies and headers) as an organisation member, a finance officer, an auditor and an
admin, each with a fresh token (some operations sign the caller out). Each response must not be
a server error and must conform to the document: a documented status code, content type and
schema. ``LEDGER_SCHEMATHESIS_EXAMPLES`` sets the examples per operation and role.
"""

from __future__ import annotations

import collections
import gc
import os

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import User
from ledger.services.access import Actor
from ledger.services.tokens import issue_token
from tests.conftest import DemoWorld

EXAMPLES = int(os.environ.get("LEDGER_SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
ROLES = ("member01", "finance1", "auditor", "admin")


def _fresh_token(app: Flask, username: str) -> dict[str, str]:
    with app.app_context(), unit_of_work():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None
        return {"Authorization": f"Bearer {issue_token(Actor.operator(), user, purpose='test').secret}"}


def _exercise(
    operation: schemathesis.APIOperation,
    headers: dict[str, str],
    role: str,
    statuses: collections.Counter[int],
    failures: list[tuple[str, str, int, str]],
) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as error:  # every failing check is collected and reported together
            failures.append((role, operation.label, response.status_code, str(error)[:500]))

    call()


# Schemathesis's in-process WSGI transport never closes a streamed response, so the export
# download's file is left to the garbage collector (a real server closes it and removes it).
@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore:unclosed file <_io.BufferedReader name='[^']*audit-bundle:ResourceWarning"
)
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <_io.FileIO name='[^']*audit-bundle:pytest.PytestUnraisableExceptionWarning"
)
def test_every_operation_as_every_role(app: Flask, world: DemoWorld) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[tuple[str, str, int, str]] = []
    statuses: collections.Counter[int] = collections.Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 60
    for role in ROLES:
        for operation in operations:
            _exercise(operation, _fresh_token(app, role), role, statuses, failures)
    print("responses by status:", sorted(statuses.items()))  # shown with -s, for the record
    assert sum(statuses.values()) >= len(operations) * len(ROLES)
    assert not any(status >= 500 for status in statuses)
    gc.collect()  # inside this test's warning filters: the unclosed export downloads go now
    assert failures == []
