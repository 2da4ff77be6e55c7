"""The 360Giving grants survive flattentool, the tool 360Giving publishers use to turn a package
into the spreadsheet most of them publish and back: the round trip gives the same grants."""

from __future__ import annotations

import json
import warnings
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.conftest import DemoWorld
from tests.helpers import STANDARDS

flattentool = pytest.importorskip("flattentool")


def _package_schema(tmp_path: Path) -> Path:
    """The 1.4.3 package schema, referring to the grant schema kept beside it rather than by its
    address on the web (the tests run offline)."""
    schema = json.loads((STANDARDS / "360-giving-package-schema.json").read_text(encoding="utf-8"))
    schema["properties"]["grants"]["items"] = {"$ref": (STANDARDS / "360-giving-schema.json").as_uri()}
    path = tmp_path / "package-schema.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    return path


def test_the_grants_come_back_from_a_spreadsheet_unchanged(
    client: FlaskClient, funded_world: DemoWorld, tmp_path: Path
) -> None:
    published = client.get("/public/360giving.json")
    assert published.status_code == 200
    package = json.loads(published.get_data(as_text=True), parse_float=Decimal)
    assert any("disbursementTransaction" not in g for g in package["grants"])  # one not paid yet
    source = tmp_path / "360giving.json"
    source.write_bytes(published.get_data())
    schema = _package_schema(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flattentool's own deprecation notices
        flattentool.flatten(
            str(source),
            schema=str(schema),
            output_name=str(tmp_path / "grants.xlsx"),
            output_format="xlsx",
            root_list_path="grants",
            main_sheet_name="grants",
        )
        base = tmp_path / "base.json"
        base.write_text(
            json.dumps({k: v for k, v in json.loads(source.read_bytes()).items() if k != "grants"})
        )
        flattentool.unflatten(
            str(tmp_path / "grants.xlsx"),
            input_format="xlsx",
            output_name=str(tmp_path / "back.json"),
            base_json=str(base),
            root_list_path="grants",
            schema=str(schema),
            timezone_name="Asia/Shanghai",
        )
    back = json.loads((tmp_path / "back.json").read_text(encoding="utf-8"), parse_float=Decimal)
    # Amounts come back as numbers equal in value (100000 for 100000.00): Python compares them so.
    assert back == package
