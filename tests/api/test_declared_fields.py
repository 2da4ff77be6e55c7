"""Every field a response schema declares is in the response.

marshmallow silently leaves out a field whose attribute it cannot find, which once hid three
percentages behind a rename. ``ResponseSchema`` makes that an error; this test walks every GET
endpoint of the OpenAPI document with the demo's real data and checks each declared property
of each JSON object against what came back.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
import pytest
from flask.testing import FlaskClient

from ledger.api.common import MissingResponseField, ResponseSchema
from tests.conftest import DemoWorld


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _missing(spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> list[str]:
    schema = _resolve(spec, schema)
    if schema.get("type") == "array" and isinstance(value, list):
        return [
            m for i, item in enumerate(value) for m in _missing(spec, schema["items"], item, f"{where}[{i}]")
        ]
    if "properties" in schema and isinstance(value, dict):
        problems = [f"{where}.{name}" for name in schema["properties"] if name not in value]
        for name, sub in schema["properties"].items():
            if name in value and value[name] is not None:
                problems += _missing(spec, sub, value[name], f"{where}.{name}")
        return problems
    return []


def _ids(client: FlaskClient, world: DemoWorld) -> dict[str, str]:
    auth = world.auth("admin")
    fund = next(
        f for f in client.get("/api/v1/funds", headers=auth).get_json() if f["reference"] == "FC-WH-2026-017"
    )
    report = client.get(
        f"/api/v1/expense-reports?fund_id={fund['id']}&status=approved", headers=auth
    ).get_json()[0]
    disbursement = client.get(f"/api/v1/funds/{fund['id']}/disbursements", headers=auth).get_json()[0]
    user = client.get("/api/v1/users", headers=auth).get_json()[0]
    return {
        "fund_id": fund["id"],
        "organisation_id": fund["organisation_id"],
        "report_id": report["id"],
        "entry_id": report["journal_entry_id"],
        "disbursement_id": disbursement["id"],
        "community_id": world.community_ids[0],
        "user_id": user["id"],
        "version": "NPO-2005",
    }


QUERIES = {
    "/api/v1/funds/{fund_id}/statements/fund-use": "?period=2026-01..2026-06",
    "/api/v1/organisations/{organisation_id}/statements/financial": "?period=2026-01..2026-06",
}


def test_every_get_response_has_every_declared_field(client: FlaskClient, funded_world: DemoWorld) -> None:
    world = funded_world
    spec = client.get("/api/v1/openapi.json").get_json()
    ids = _ids(client, world)
    checked, problems = 0, []
    for path, operations in sorted(spec["paths"].items()):
        if "get" not in operations:
            continue
        names = re.findall(r"{(\w+)}", path)
        if any(name not in ids for name in names):
            continue  # sizes, hashes and versions of other kinds are covered by their own tests
        if path.endswith("/reference/expense-categories/{version}") or "/export" in path:
            continue  # downloads, not JSON
        url = path.format(**ids) + QUERIES.get(path, "")
        response = client.get(url, headers=world.auth("admin" if "users" in path else "auditor"))
        schema = operations["get"]["responses"].get("200", {}).get("content", {}).get("application/json", {})
        if response.status_code != 200 or "schema" not in schema:
            continue
        checked += 1
        problems += _missing(spec, schema["schema"], response.get_json(), path)
    assert problems == []
    assert checked >= 25, checked  # the walk really reached the endpoints


def test_a_response_schema_refuses_to_drop_a_field() -> None:
    class Declared(ResponseSchema):
        executed_percent = ma.fields.String()

    class Renamed:
        executedpercent = "42.50"

    with pytest.raises(MissingResponseField, match="executed_percent"):
        Declared().dump(Renamed())
