"""Division lists: imported from CSV or XLSX, checked row by row, immutable, read a level at a time."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ledger.database import unit_of_work
from ledger.errors import Conflict, Forbidden
from ledger.models.user import Role
from ledger.services.access import Actor
from ledger.services.division_files import DivisionRow, read_csv, read_xlsx
from ledger.services.regions import DivisionFileInvalid, import_divisions
from tests.builders import DIVISION_TABLE as TABLE
from tests.builders import division_csv as csv_bytes
from tests.builders import division_xlsx as xlsx_bytes
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts


def load(app: Flask, rows: list[DivisionRow], version: str = "TEST-2024", name: str = "北京 (test)") -> bool:
    with app.app_context(), unit_of_work():
        return import_divisions(Actor.operator(), version, 2024, name, "test table", rows).loaded


def tree(client: FlaskClient, world: DemoWorld, version: str, parent: str | None = None) -> dict[str, object]:
    """The subtree under ``parent`` as read through the API, one level at a time."""
    query = f"?parent={parent}&page_size=500" if parent else "?page_size=500"
    response = client.get(f"/api/v1/regions/{version}/divisions{query}", headers=world.auth("member01"))
    assert response.status_code == 200, response.get_json()
    return {
        d["code"]: (
            d["name"],
            d["level"],
            d["urban_rural_class"],
            d["community_kind"],
            tree(client, world, version, d["code"]),
        )
        for d in response.get_json()
    }


def test_csv_with_or_without_bom_and_xlsx_give_the_same_rows() -> None:
    plain = read_csv(csv_bytes(TABLE))
    assert read_csv(csv_bytes(TABLE, bom=True)) == plain
    assert read_xlsx(xlsx_bytes(TABLE)) == plain
    assert plain[0] == DivisionRow(2, "110000000000", "北京市", "", "")


def test_csv_and_xlsx_imports_give_the_same_tree(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    assert load(app, read_csv(csv_bytes(TABLE)), "FROM-CSV")
    assert load(app, read_xlsx(xlsx_bytes(TABLE)), "FROM-XLSX")
    from_csv = tree(client, world, "FROM-CSV")
    assert from_csv == tree(client, world, "FROM-XLSX")
    _, level, _, _, cities = from_csv["110000000000"]  # type: ignore[misc]
    assert level == "province"
    county = cities["110100000000"][4]["110105000000"]
    assert county[1] == "county"
    street, township = county[4]["110105001000"], county[4]["110105400000"]
    assert street[4] == {"110105001001": ("永安里社区", "community", "111", "urban", {})}
    assert township[4] == {"110105400201": ("金盏村", "community", "220", "rural", {})}


def test_the_import_is_one_audit_entry_and_loading_it_again_changes_nothing(app: Flask) -> None:
    rows = read_csv(csv_bytes(TABLE))
    before = table_counts(app)
    assert load(app, rows)
    after = table_counts(app)
    assert after["division"] - before["division"] == len(TABLE)
    assert after["division_list"] - before["division_list"] == 1
    entries = ("audit_entry", "audit_queue")
    assert sum(after[t] for t in entries) - sum(before[t] for t in entries) == 1
    # The same table again, from XLSX this time: the same content, so nothing happens.
    assert not load(app, read_xlsx(xlsx_bytes(TABLE)))
    assert table_counts(app) == after


def test_different_content_under_a_loaded_version_is_refused(app: Flask) -> None:
    assert load(app, read_csv(csv_bytes(TABLE)))
    counts = table_counts(app)
    renamed = [row if row[0] != "110105001001" else [row[0], "永安里", row[2], row[3]] for row in TABLE]
    with pytest.raises(Conflict) as refused:
        load(app, read_csv(csv_bytes(renamed)))
    assert "version" in refused.value.errors
    with pytest.raises(Conflict):
        load(app, read_csv(csv_bytes(TABLE)), name="another name")
    assert table_counts(app) == counts


def test_only_an_admin_loads_a_division_list(app: Flask) -> None:
    counts = table_counts(app)
    for role in (Role.FINANCE_OFFICER, Role.AUDITOR, Role.ORG_MEMBER):
        with app.app_context(), unit_of_work(), pytest.raises(Forbidden):
            import_divisions(Actor(None, "someone", role), "X-1", 2024, "x", "x", read_csv(csv_bytes(TABLE)))
    assert table_counts(app) == counts


def _with(*rows: list[str]) -> list[list[str]]:
    return [*TABLE, *rows]


# Each bad table, and the (row, column) of every problem in it; row 1 is the header.
BAD_TABLES = {
    "code too short": (_with(["11010500100", "短", "110105001000", "111"]), {(9, "code")}),
    "code with full-width digits": (
        _with(["１１０１０５００１００２", "宽", "110105001000", "111"]),
        {(9, "code")},
    ),
    "code not digits": (_with(["11010500100A", "字", "110105001000", "111"]), {(9, "code")}),
    "parent not the code's prefix": (_with(["110105001002", "错", "110105400000", "111"]), {(9, "parent")}),
    "parent not in the list": (_with(["110105002001", "孤", "110105002000", "111"]), {(9, "parent")}),
    "province with a parent": (_with(["120000000000", "天津市", "110000000000", ""]), {(9, "parent")}),
    "unknown urban-rural class": (
        _with(["110105001002", "类", "110105001000", "130"]),
        {(9, "urban_rural_class")},
    ),
    "class on a street": (_with(["110105002000", "街", "110105000000", "111"]), {(9, "urban_rural_class")}),
    "community without a class": (
        _with(["110105001002", "无", "110105001000", ""]),
        {(9, "urban_rural_class")},
    ),
    "duplicate code": (_with(["110105001001", "重", "110105001000", "111"]), {(9, "code")}),
    "code of no province": (_with(["000000000000", "无省", "", ""]), {(9, "code")}),
    "name too long": (_with(["110105001002", "长" * 201, "110105001000", "111"]), {(9, "name")}),
    "blank name": (_with(["110105001002", " ", "110105001000", "111"]), {(9, "name")}),
    "every problem at once": (
        _with(
            ["110105001002", "", "110105400000", "999"],
            ["110105001001", "重", "110105001000", "111"],
            ["12345", "短", "", ""],
        ),
        {(9, "name"), (9, "parent"), (9, "urban_rural_class"), (10, "code"), (11, "code")},
    ),
}


@pytest.mark.parametrize("case", BAD_TABLES)
def test_every_problem_is_named_by_row_and_column_and_nothing_is_written(app: Flask, case: str) -> None:
    table, expected = BAD_TABLES[case]
    counts = table_counts(app)
    for rows in (read_csv(csv_bytes(table)), read_xlsx(xlsx_bytes(table))):
        with pytest.raises(DivisionFileInvalid) as refused:
            load(app, rows)
        assert {(p.row, p.column) for p in refused.value.problems} == expected
        assert all(f"row {row}: {column}" in refused.value.errors for row, column in expected)
    assert table_counts(app) == counts


def test_rows_are_numbered_as_the_spreadsheet_numbers_them() -> None:
    rows = read_csv(csv_bytes(TABLE))
    assert [r.row for r in rows] == list(range(2, 2 + len(TABLE)))
    blank_line = read_csv(csv_bytes([TABLE[0], ["", "", "", ""], TABLE[1]]))
    assert [r.row for r in blank_line] == [2, 4]


def test_the_api_lists_versions_and_the_children_of_a_node(client: FlaskClient, world: DemoWorld) -> None:
    versions = client.get("/api/v1/regions", headers=world.auth("member01"))
    assert versions.status_code == 200
    listed = {v["version"]: v for v in versions.get_json()}
    assert listed["CFL-ILLUSTRATIVE-2024"]["year"] == 2024
    assert versions.headers["X-Pagination"]
    top = client.get("/api/v1/regions/CFL-ILLUSTRATIVE-2024/divisions", headers=world.auth("auditor"))
    assert [(d["code"], d["level"]) for d in top.get_json()] == [("420000000000", "province")]
    streets = client.get(
        "/api/v1/regions/CFL-ILLUSTRATIVE-2024/divisions?parent=420102000000", headers=world.auth("finance1")
    )
    assert [d["name"] for d in streets.get_json()] == ["大智街道", "后湖街道"]
    page = client.get(
        "/api/v1/regions/CFL-ILLUSTRATIVE-2024/divisions?parent=420102012000&page_size=2&page=2",
        headers=world.auth("admin"),
    )
    assert [(d["code"], d["community_kind"]) for d in page.get_json()] == [
        ("420102012201", "rural"),
        ("420102012202", "rural"),
    ]
    assert client.get("/api/v1/regions").status_code == 401


def test_the_api_refuses_unknown_versions_and_bad_parents(client: FlaskClient, world: DemoWorld) -> None:
    headers = world.auth("member01")
    assert_problem(client.get("/api/v1/regions/NO-SUCH/divisions", headers=headers), 404)
    assert_problem(
        client.get("/api/v1/regions/CFL-ILLUSTRATIVE-2024/divisions?parent=42", headers=headers),
        422,
        "query.parent",
    )
    assert_problem(
        client.get("/api/v1/regions/CFL-ILLUSTRATIVE-2024/divisions?parent=430000000000", headers=headers),
        404,
    )


def test_a_city_without_counties_holds_its_streets_directly(
    app: Flask, client: FlaskClient, world: DemoWorld
) -> None:
    dongguan = [
        ["440000000000", "广东省", "", ""],
        ["441900000000", "东莞市", "440000000000", ""],
        ["441900003000", "东城街道", "441900000000", ""],
        ["441900003001", "东城社区", "441900003000", "111"],
    ]
    assert load(app, read_csv(csv_bytes(dongguan)), "DONGGUAN")
    streets = client.get(
        "/api/v1/regions/DONGGUAN/divisions?parent=441900000000", headers=world.auth("admin")
    )
    assert [(d["code"], d["level"]) for d in streets.get_json()] == [("441900003000", "township")]
