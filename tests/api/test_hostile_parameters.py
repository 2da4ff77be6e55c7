"""Out-of-range numbers and odd identifiers in URLs get a clear 4xx, never a 500."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import DemoWorld

HUGE = "9" * 30


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/communities?page={HUGE}",
        f"/api/v1/communities?page_size={HUGE}",
        "/api/v1/communities?page=-1",
        f"/api/v1/organisations?page={2**63}",
        f"/api/v1/audit/entries?after={HUGE}",
        f"/api/v1/audit/entries?after={2**63}",
        f"/api/v1/audit/proof/inclusion?seq={2**63}&tree_size={2**63}",
        f"/api/v1/audit/proof/consistency?from=1&to={2**64}",
        f"/api/v1/audit/checkpoints/{2**64}",
        f"/api/v1/audit/checkpoints/{HUGE}",
        "/api/v1/communities/not-a-uuid",
        "/api/v1/reference/charts/%00/accounts",
        "/api/v1/reference/charts/" + "x" * 5000 + "/accounts",
    ],
)
def test_no_server_error(client: FlaskClient, world: DemoWorld, url: str) -> None:
    response = client.get(url, headers=world.auth("auditor"))
    assert 400 <= response.status_code < 500, (
        url,
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "420199001210", "name": "bad\u0000name", "kind": "urban"}, "name"),
        ({"code": "420199001210", "name": "n", "kind": "urban", "x\u0000": 1}, "x\u0000"),
    ],
)
def test_nul_characters_are_refused_by_field(
    client: FlaskClient, world: DemoWorld, body: dict[str, object], field: str
) -> None:
    from tests.helpers import assert_problem, table_counts

    before = table_counts(world.app)
    response = client.post("/api/v1/communities", json=body, headers=world.keyed("admin"))
    assert_problem(response, 422, field)
    assert table_counts(world.app) == before
