"""Every POST that creates a community, organisation, user, fund or budget revision takes an Idempotency-Key.

The disbursements' semantics: the header is required (422 naming it); a retry with the same key
and body returns the first thing with 200 and writes nothing; the same key with another body is
a 409 naming the header; keys are per person; concurrent retries make exactly one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DemoWorld
from tests.helpers import assert_problem, send_concurrently, table_counts


@dataclass(frozen=True)
class Create:
    """One creating request: who sends it, where, its body, and a different body for the same key."""

    username: str
    url: str
    body: dict[str, Any]
    other_body: dict[str, Any]


def _community(client: FlaskClient, world: DemoWorld) -> Create:
    body = {"code": "420199001203", "name": "重试社区", "kind": "rural"}
    return Create("admin", "/api/v1/communities", body, {**body, "name": "另一个社区"})


def _organisation(client: FlaskClient, world: DemoWorld) -> Create:
    body = {
        "name": "武汉市江岸区重试社工服务中心",
        "credit_code": "52420000MJH233402K",
        "registration_type": "social_service_organisation",
        "community_id": world.community_ids[1],
    }
    return Create("admin", "/api/v1/organisations", body, {**body, "name": "另一个组织"})


def _user(client: FlaskClient, world: DemoWorld) -> Create:
    body = {
        "username": "retried",
        "display_name": "重试",
        "role": "auditor",
        "password": "a long pass phrase 7",
    }
    return Create("admin", "/api/v1/users", body, {**body, "display_name": "someone else"})


def _fund(client: FlaskClient, world: DemoWorld) -> Create:
    body = {
        "kind": "incubation_fund",
        "title": "孵化资金 retry",
        "reference": "RETRY-1",
        "funder_name": "区民政局",
        "organisation_id": world.member_organisation["member01"],
        "award": "1000.00",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "restriction_purpose": "retry",
    }
    return Create("admin", "/api/v1/funds", body, {**body, "award": "2000.00"})


def _budget_revision(client: FlaskClient, world: DemoWorld) -> Create:
    member = world.auth("member01")
    fund = client.get("/api/v1/funds?status=active", headers=member).get_json()[0]
    lines = client.get(f"/api/v1/funds/{fund['id']}/budget", headers=member).get_json()["lines"]
    source, target = sorted(lines)[:2]
    body = {"changes": {source: "-1.00", target: "1.00"}, "reason": "a small move"}
    return Create(
        "member01",
        f"/api/v1/funds/{fund['id']}/budget-revisions",
        body,
        {**body, "changes": {source: "-2.00", target: "2.00"}},
    )


CREATES: dict[str, Callable[[FlaskClient, DemoWorld], Create]] = {
    "community": _community,
    "organisation": _organisation,
    "user": _user,
    "fund": _fund,
    "budget_revision": _budget_revision,
}


def _world(request: pytest.FixtureRequest, thing: str) -> DemoWorld:
    # A budget revision needs an active fund with a budget: the demo's funds.
    world: DemoWorld = request.getfixturevalue("funded_world" if thing == "budget_revision" else "world")
    return world


def _post(client: FlaskClient, world: DemoWorld, create: Create, key: str | None, body: Any = None) -> Any:
    headers = dict(world.auth(create.username))
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(create.url, json=create.body if body is None else body, headers=headers)


@pytest.mark.parametrize("thing", CREATES)
def test_a_retry_returns_the_first_and_writes_nothing(
    request: pytest.FixtureRequest, client: FlaskClient, thing: str
) -> None:
    world = _world(request, thing)
    create = CREATES[thing](client, world)
    first = _post(client, world, create, f"{thing}-retry")
    assert first.status_code == 201, first.get_json()
    counts = table_counts(world.app)
    again = _post(client, world, create, f"{thing}-retry")
    assert again.status_code == 200, again.get_json()
    assert again.get_json() == first.get_json()
    assert table_counts(world.app) == counts


@pytest.mark.parametrize("thing", CREATES)
def test_the_same_key_with_another_body_is_refused(
    request: pytest.FixtureRequest, client: FlaskClient, thing: str
) -> None:
    world = _world(request, thing)
    create = CREATES[thing](client, world)
    assert _post(client, world, create, f"{thing}-reused").status_code == 201
    counts = table_counts(world.app)
    assert_problem(_post(client, world, create, f"{thing}-reused", create.other_body), 409, "Idempotency-Key")
    assert table_counts(world.app) == counts


@pytest.mark.parametrize("thing", CREATES)
def test_a_create_without_a_key_is_refused_naming_the_header(
    request: pytest.FixtureRequest, client: FlaskClient, thing: str
) -> None:
    world = _world(request, thing)
    create = CREATES[thing](client, world)
    counts = table_counts(world.app)
    assert_problem(_post(client, world, create, None), 422, "Idempotency-Key")
    assert_problem(_post(client, world, create, "   "), 422, "Idempotency-Key")
    assert_problem(_post(client, world, create, "k" * 201), 422, "Idempotency-Key")
    assert table_counts(world.app) == counts


def test_a_key_used_for_one_kind_of_thing_is_refused_for_another(
    client: FlaskClient, world: DemoWorld
) -> None:
    community, organisation = _community(client, world), _organisation(client, world)
    assert _post(client, world, community, "one-key").status_code == 201
    counts = table_counts(world.app)
    assert_problem(_post(client, world, organisation, "one-key"), 409, "Idempotency-Key")
    assert table_counts(world.app) == counts


def test_a_retried_user_must_repeat_the_password(client: FlaskClient, world: DemoWorld) -> None:
    """The password is not fingerprinted (its hash would be a fast-to-guess copy), but it is compared."""
    create = _user(client, world)
    assert _post(client, world, create, "user-password").status_code == 201
    counts = table_counts(world.app)
    other = {**create.body, "password": "another long pass phrase 8"}
    assert_problem(_post(client, world, create, "user-password", other), 409, "Idempotency-Key")
    assert table_counts(world.app) == counts


def test_keys_are_per_person(client: FlaskClient, funded_world: DemoWorld) -> None:
    """Two people who happen to pick the same key each get their own revision."""
    create = _budget_revision(client, funded_world)
    mine = client.post(
        create.url, json=create.body, headers={**funded_world.auth("member01"), "Idempotency-Key": "k1"}
    )
    theirs = client.post(
        create.url, json=create.body, headers={**funded_world.auth("finance1"), "Idempotency-Key": "k1"}
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_a_removed_community_is_not_recreated_by_a_retry(client: FlaskClient, world: DemoWorld) -> None:
    create = _community(client, world)
    created = _post(client, world, create, "removed")
    url = f"/api/v1/communities/{created.get_json()['id']}"
    removed = client.delete(url, headers={**world.auth("admin"), "If-Match": created.headers["ETag"]})
    assert removed.status_code == 204
    counts = table_counts(world.app)
    assert_problem(_post(client, world, create, "removed"), 409, "Idempotency-Key")
    assert table_counts(world.app) == counts


def test_concurrent_retries_make_one_organisation(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    """Eight retries at once, as a client that timed out might send them: one organisation, seven 200s."""
    create = _organisation(client, world)
    before = len(client.get("/api/v1/organisations?page_size=500", headers=world.auth("admin")).get_json())
    responses = send_concurrently(app, lambda own: _post(own, world, create, "same-key"))
    statuses = [response.status_code for response in responses]
    ids = {response.get_json().get("id", "") for response in responses}
    assert sorted(statuses) == [200] * 7 + [201], statuses
    assert len(ids) == 1
    after = client.get("/api/v1/organisations?page_size=500", headers=world.auth("admin")).get_json()
    assert len(after) == before + 1
