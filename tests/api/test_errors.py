"""Bad input gets a clear problem+json naming the field, and writes nothing."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts


def _community_body(world: DemoWorld) -> dict[str, object]:
    return {
        "name": "新社区服务社",
        "credit_code": "51420000MJH200395N",
        "registration_type": "social_group",
        "community_id": world.community_ids[0],
    }


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("name"), "name"),
        (lambda b: b.update(name=42), "name"),
        (lambda b: b.update(registration_type="company"), "registration_type"),
        (lambda b: b.update(community_id="not-a-uuid"), "community_id"),
        (lambda b: b.update(colour="blue"), "colour"),
        (lambda b: b.update(credit_code="51420000MJH2003954"), "credit_code"),
        (lambda b: b.update(credit_code="51420000MJH20039"), "credit_code"),
        (lambda b: b.update(community_id="00000000-0000-0000-0000-000000000000"), "community_id"),
        (lambda b: b.update(name="   "), "name"),
    ],
)
def test_invalid_fields_are_named_and_nothing_is_written(
    client: FlaskClient, world: DemoWorld, mutate: object, field: str
) -> None:
    body = _community_body(world)
    mutate(body)
    before = table_counts(world.app)
    response = client.post("/api/v1/organisations", json=body, headers=world.keyed("admin"))
    assert_problem(response, 422, field)
    assert table_counts(world.app) == before


def test_malformed_json_is_a_400(client: FlaskClient, world: DemoWorld) -> None:
    response = client.post(
        "/api/v1/communities",
        data='{"code": "x", ',
        content_type="application/json",
        headers=world.keyed("admin"),
    )
    body = assert_problem(response, 400, "body")
    assert "not valid JSON" in body["detail"]


HOSTILE_BODIES = {
    "a lone surrogate": (
        b'{"code": "X\\ud800", "name": "n", "kind": "urban"}',
        "lone UTF-16 surrogate",
    ),
    "a key twice": (
        b'{"code": "X", "code": "Y", "name": "n", "kind": "urban"}',
        'the key "code" appears twice',
    ),
    "a 5,000-digit integer": (
        b'{"code": 1' + b"0" * 5000 + b', "name": "n", "kind": "urban"}',
        "5001 digits",
    ),
    "NaN": (b'{"code": NaN, "name": "n", "kind": "urban"}', "NaN is not JSON"),
    "bytes that are not UTF-8": (
        b'{"code": "\xff", "name": "n", "kind": "urban"}',
        "not UTF-8",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_BODIES), ids=list(HOSTILE_BODIES))
def test_bodies_json_allows_but_the_api_does_not_are_a_400_that_says_why(
    client: FlaskClient, world: DemoWorld, case: str
) -> None:
    raw, reason = HOSTILE_BODIES[case]
    before = table_counts(world.app)
    response = client.post(
        "/api/v1/communities", data=raw, content_type="application/json", headers=world.keyed("admin")
    )
    body = assert_problem(response, 400, "body")
    assert reason in body["errors"]["body"][0]
    assert table_counts(world.app) == before


def test_signing_in_with_hostile_bodies_is_a_400_not_a_500(client: FlaskClient, world: DemoWorld) -> None:
    surrogate = b'{"username": "\\ud800", "password": "x"}'
    twice = b'{"username": "admin", "username": "member01", "password": "ledger-demo-2026"}'
    for raw in (surrogate, twice):
        response = client.post("/api/v1/auth/login", data=raw, content_type="application/json")
        assert_problem(response, 400, "body")


def test_a_body_that_is_not_json_is_a_415(client: FlaskClient, world: DemoWorld) -> None:
    before = table_counts(world.app)
    response = client.post(
        "/api/v1/communities",
        data="code=x&name=y",
        content_type="application/x-www-form-urlencoded",
        headers=world.keyed("admin"),
    )
    assert_problem(response, 415)
    assert table_counts(world.app) == before


def test_a_json_array_instead_of_an_object_is_refused(client: FlaskClient, world: DemoWorld) -> None:
    response = client.post("/api/v1/communities", json=[1, 2], headers=world.keyed("admin"))
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"


def test_an_oversized_body_is_a_413(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    payload = json.dumps({"code": "x", "name": "y" * limit, "kind": "urban"})
    before = table_counts(world.app)
    response = client.post(
        "/api/v1/communities", data=payload, content_type="application/json", headers=world.keyed("admin")
    )
    assert_problem(response, 413)
    assert table_counts(world.app) == before


def test_unknown_paths_and_methods(client: FlaskClient, world: DemoWorld) -> None:
    assert_problem(client.get("/api/v1/no-such-thing", headers=world.auth("admin")), 404)
    response = client.put("/api/v1/communities", json={}, headers=world.auth("admin"))
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]
    # An upload route asked with a method it lacks: 405, not a complaint about the media type.
    upload = f"/api/v1/organisations/{world.organisation_ids[0]}/receipts"
    response = client.put(
        upload, data=b"%PDF-1.4", content_type="application/pdf", headers=world.auth("admin")
    )
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_a_missing_resource_is_a_404_that_names_it(client: FlaskClient, world: DemoWorld) -> None:
    missing = "00000000-0000-0000-0000-000000000001"
    body = assert_problem(client.get(f"/api/v1/communities/{missing}", headers=world.auth("admin")), 404)
    assert missing in body["detail"]


def test_bad_query_parameters_are_named(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get("/api/v1/communities?kind=suburban", headers=world.auth("admin"))
    assert_problem(response, 422, "query.kind")
    response = client.get("/api/v1/communities?page=0", headers=world.auth("admin"))
    assert_problem(response, 422, "query.page")


def test_unexpected_errors_leak_nothing(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    @app.get("/api/v1/test-explodes")
    def explodes() -> str:
        raise RuntimeError("database password is hunter2")

    from ledger.api.security import public

    public(explodes)
    with caplog.at_level(logging.ERROR, logger="ledger"):
        response = app.test_client().get("/api/v1/test-explodes")
    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "hunter2" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text
    reference = body["detail"].split("reference ")[1].split(";")[0]
    assert any(reference in record.getMessage() for record in caplog.records)


def test_a_refusal_carries_its_code_and_english_detail_whatever_the_language(
    client: FlaskClient, world: DemoWorld
) -> None:
    body = {**_community_body(world), "credit_code": "51420000MJH2003954"}
    response = client.post(
        "/api/v1/organisations",
        json=body,
        headers={**world.keyed("admin"), "Accept-Language": "zh-CN,zh;q=0.9"},
    )
    problem = assert_problem(response, 422, "credit_code")
    assert problem["code"] == "organisation.credit_code_invalid"
    assert problem["detail"] == "credit_code: check character is '4', expected 'N'"
    assert problem["errors"]["credit_code"] == ["check character is '4', expected 'N'"]
    assert problem["title"] == "The request has invalid fields"


def test_a_problem_without_a_finer_rule_carries_its_type_as_code(
    client: FlaskClient, world: DemoWorld
) -> None:
    problem = assert_problem(client.get("/api/v1/no/such/thing"), 404)
    assert problem["code"] == "not-found"
    assert problem["type"].endswith(":" + problem["code"])
