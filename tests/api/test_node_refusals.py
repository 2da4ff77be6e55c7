"""Every route that takes a node of the tree refuses a wrong one with 422 naming the field, and
writes nothing: an unknown code, a non-leaf community, a scope outside the granter's area, a fund
whose organisation is outside the funding body's area."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.builders import fund_terms
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts

NEW_STAFF = {"username": "new.staff", "display_name": "新人", "role": "finance_officer", "password": "a-long-enough-password"}  # fmt: skip


def test_a_community_must_be_a_known_leaf(client: FlaskClient, world: DemoWorld) -> None:
    community = f"/api/v1/communities/{world.community_ids[0]}"
    before = table_counts(world.app)
    for code in ("420102099001", "420102012000", "12345"):  # unknown, a street, malformed
        assert_problem(
            client.post("/api/v1/communities", json={"code": code}, headers=world.keyed("admin")), 422, "code"
        )
        patched = client.patch(
            community, json={"code": code}, headers={**world.auth("admin"), "If-Match": "*"}
        )
        assert_problem(patched, 422, "code")
    assert table_counts(world.app) == before


def test_a_scope_must_be_a_known_node_inside_the_granter_s_area(
    client: FlaskClient, world: DemoWorld
) -> None:
    before = table_counts(world.app)
    unknown = NEW_STAFF | {"scopes": ["420199999000"]}
    assert_problem(client.post("/api/v1/users", json=unknown, headers=world.keyed("admin")), 422, "scopes")
    # huangpi.admin (黄陂区) may not grant 江岸区, nor the whole deployment.
    for scopes in (["420102000000"], ["*"]):
        body = NEW_STAFF | {"scopes": scopes}
        assert_problem(
            client.post("/api/v1/users", json=body, headers=world.keyed("huangpi.admin")), 422, "scopes"
        )
    me = client.get("/api/v1/auth/me", headers=world.auth("qianchuan.finance")).get_json()
    patched = client.patch(
        f"/api/v1/users/{me['id']}",
        json={"scopes": ["420102012000"]},
        headers={**world.auth("huangpi.admin"), "If-Match": "*"},
    )
    assert_problem(patched, 422, "scopes")
    assert table_counts(world.app) == before
    inside = NEW_STAFF | {"scopes": ["420116001000"]}
    assert client.post("/api/v1/users", json=inside, headers=world.keyed("huangpi.admin")).status_code == 201


def test_a_fund_s_organisation_must_be_inside_the_funding_body_s_area(
    client: FlaskClient, world: DemoWorld
) -> None:
    before = table_counts(world.app)
    unknown = fund_terms(world, funding_division_code="420199999000")
    assert_problem(
        client.post("/api/v1/funds", json=unknown, headers=world.keyed("admin")), 422, "funding_division_code"
    )
    # member01's organisation is in 江岸区, not under 黄陂区's funding body.
    outside = fund_terms(world, funding_division_code="420116000000")
    assert_problem(
        client.post("/api/v1/funds", json=outside, headers=world.keyed("admin")), 422, "organisation_id"
    )
    # huangpi.admin may not name a funding body in 江岸区.
    elsewhere = fund_terms(world, funding_division_code="420102000000")
    assert_problem(
        client.post("/api/v1/funds", json=elsewhere, headers=world.keyed("huangpi.admin")),
        422,
        "funding_division_code",
    )
    assert table_counts(world.app) == before
