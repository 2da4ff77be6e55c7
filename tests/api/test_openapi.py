"""The OpenAPI document: valid OpenAPI 3, and identical to the published snapshot."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from ledger.cli import openapi_json

SNAPSHOT = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"


def test_the_served_document_is_valid_openapi_3(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_the_snapshot_matches_the_code(app: Flask) -> None:
    with app.app_context():
        current = openapi_json()
    assert json.loads(current) == json.loads(SNAPSHOT.read_text(encoding="utf-8")), (
        "schemas/openapi.json is out of date: run `make openapi` and commit the result"
    )


def test_every_operation_has_a_summary_and_documents_errors(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("summary"), (method, path)
            assert "default" in operation["responses"], (method, path)


def test_errors_are_documented_as_problem_details(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) >= {"type", "title", "status", "detail", "errors"}
