"""Schemathesis against our own OpenAPI document, as each role, with every check it has.

Every operation of ``/api/v1/openapi.json`` gets generated requests (valid and invalid
parameters, bodies and headers) as an organisation member, a finance officer, an auditor and an
admin, each with a fresh token (some operations sign the caller out). Each response passes every
check the installed Schemathesis registers (``validate_response`` with no ``checks`` runs them
all; ``test_every_check_is_enabled`` keeps it so): no server error, a documented status code,
content type, headers and schema, invalid input refused, valid input accepted, a missing
required header refused, an undocumented method a 405, and the stateful checks.

The stateful phase follows the OpenAPI links from each create to the operations on what it
created (create a fund, then read, change and budget it), as an admin and as a member.
``LEDGER_SCHEMATHESIS_EXAMPLES`` sets the examples per operation and role. Generation is
derandomised, so a run finds the same things every time.
"""

from __future__ import annotations

import collections
import gc
import os
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import ChecksConfig
from schemathesis.config._checks import POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES
from sqlalchemy import select

from ledger.database import unit_of_work
from ledger.extensions import db
from ledger.models import User
from ledger.services.access import Actor
from ledger.services.tokens import issue_token
from tests.conftest import DemoWorld

EXAMPLES = int(os.environ.get("LEDGER_SCHEMATHESIS_EXAMPLES", "20"))
ROLES = ("member01", "finance1", "auditor", "admin")
STATEFUL_EXAMPLES = int(os.environ.get("LEDGER_SCHEMATHESIS_SEQUENCES", "25"))
# Signing out revokes the token the stateful phase goes on using.
SIGN_OUT = "/api/v1/auth/logout"


def _schema(app: Flask) -> Any:
    """The app's document, every check on; schema-valid input may still be refused by a business rule.

    A 422 names a rule the document cannot state (a date between 2000 and 2100, an amount that
    is a decimal, a category in the fund's budget, changes that net to zero), so
    ``positive_data_acceptance`` accepts it as it accepts 409. So is a 415 for an uploaded receipt
    whose bytes are not a PDF, JPEG or PNG (a schema says "binary", not what the bytes must be).
    A 400 for schema-valid input (the parser stricter than the document) still fails it.
    """
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema.config.checks = ChecksConfig.from_dict(
        {
            "positive_data_acceptance": {
                "expected-statuses": [*POSITIVE_DATA_ACCEPTANCE_EXPECTED_STATUSES, "422", "415"]
            }
        }
    )
    return schema


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
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def call(case: schemathesis.Case) -> None:
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, headers=headers)
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
    schema = _schema(app)
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


def test_every_check_is_enabled(app: Flask) -> None:
    """``validate_response`` without ``checks`` runs every check Schemathesis has; none is switched off."""
    load_all_checks()
    schema = _schema(app)
    assert len(CHECKS.get_all_names()) >= 14
    for name in CHECKS.get_all_names():
        assert getattr(schema.config.checks, name).enabled, name


def test_every_create_links_to_what_it_created(app: Flask) -> None:
    """Each POST answering 201 documents links, so the stateful phase can follow it."""
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    unlinked = [
        path
        for path, operations in document["paths"].items()
        if "201" in operations.get("post", {}).get("responses", {})
        and not operations["post"]["responses"]["201"].get("links")
    ]
    assert unlinked == []


@pytest.mark.parametrize("username", ["admin", "member01"])
def test_linked_operations_in_sequence(app: Flask, world: DemoWorld, username: str) -> None:
    """The stateful phase: create something, then read and act on it through the declared links."""
    schema = _schema(app).exclude(path=SIGN_OUT)
    authorization = _fresh_token(app, username)["Authorization"]

    # Given as Schemathesis's auth, not as fixed headers: ignored_auth then knows what to leave out.
    @schema.auth()
    class Token:
        def get(self, case: schemathesis.Case, context: Any) -> str:
            return authorization

        def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": data}

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        pass

    Sequences.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
    )
