"""Uploads that are not a plain table are refused with a 4xx naming the row, column or limit, and
nothing is written: a text file named .xlsx, a ZIP that is not a workbook, an encrypted workbook,
a zip bomb, a formula, merged header cells, 100,000 rows, a missing or unknown column; and who may
not import is refused before the file is read."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook

from tests.builders import draft_fund, leaf
from tests.conftest import DemoWorld
from tests.helpers import assert_problem, table_counts

URL = "/api/v1/imports/communities"


def _saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _table(rows: list[list[Any]], header: list[Any] | None = None) -> Workbook:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header or ["code", "name", "kind"])
    for row in rows:
        sheet.append(row)
    return book


def _post(
    client: FlaskClient, headers: dict[str, str], content: bytes, url: str = URL, dry_run: str = "false"
) -> Any:
    # The multipart body written here: the test client would spool a large one to a temporary
    # file that it leaves open.
    boundary = "ledger-import-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload.xlsx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return client.post(
        f"{url}?dry_run={dry_run}",
        data=body,
        headers={**headers, "Accept-Language": "en"},
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _refused(
    client: FlaskClient, world: DemoWorld, app: Flask, content: bytes, code: str
) -> list[dict[str, Any]]:
    before = table_counts(app)
    body = assert_problem(_post(client, world.auth("admin"), content), 422)
    assert body["code"] == code, body
    assert table_counts(app) == before
    errors: list[dict[str, Any]] = body["errors"]
    return errors


def test_a_text_file_named_xlsx(client: FlaskClient, world: DemoWorld, app: Flask) -> None:
    (error,) = _refused(client, world, app, b"code,name\n420199001001,x\n", "import.not_xlsx")
    assert error["detail"] == "The file is not an XLSX workbook: download the template and fill it in."


def test_a_zip_that_is_not_a_workbook(client: FlaskClient, world: DemoWorld, app: Flask) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    _refused(client, world, app, out.getvalue(), "import.not_xlsx")


def test_a_damaged_workbook(client: FlaskClient, world: DemoWorld, app: Flask) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<not xml")
        archive.writestr("xl/workbook.xml", "<not xml")
    _refused(client, world, app, out.getvalue(), "import.unreadable")


_SHEET = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{}</sheetData></worksheet>'
_HEADER = '<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>'


@pytest.mark.parametrize(
    "sheet",
    [
        _SHEET.format(_HEADER + "<row")[:-20],  # cut short
        _SHEET.format(_HEADER + '<row r="2"><c r="A2" t="n"><v>abc</v></c></row>'),  # a number that is not
        _SHEET.format(_HEADER + '<row r="2"><c r="ZZZZ2" t="n"><v>1</v></c></row>'),  # no such column
        _SHEET.format('<row r="1"><c r="A1" t="s"><v>99</v></c></row>'),  # no such shared string
    ],
    ids=["cut-short", "bad-number", "bad-column", "bad-shared-string"],
)
def test_a_damaged_sheet_is_a_422_not_a_500(
    client: FlaskClient, world: DemoWorld, app: Flask, sheet: str
) -> None:
    good = zipfile.ZipFile(io.BytesIO(_saved(_table([[leaf(1)]]))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in good.namelist():
            archive.writestr(name, sheet if name == "xl/worksheets/sheet1.xml" else good.read(name))
    _refused(client, world, app, out.getvalue(), "import.unreadable")


def test_an_encrypted_workbook(client: FlaskClient, world: DemoWorld, app: Flask) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    (error,) = _refused(client, world, app, ole, "import.encrypted")
    assert "password" in error["detail"]


def test_a_zip_bomb_is_refused_from_the_directory(client: FlaskClient, world: DemoWorld, app: Flask) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (80 * 1024 * 1024))
    assert len(out.getvalue()) < 1024 * 1024
    _refused(client, world, app, out.getvalue(), "import.too_large")


def test_a_formula_names_its_cell(client: FlaskClient, world: DemoWorld, app: Flask) -> None:
    errors = _refused(
        client, world, app, _saved(_table([[leaf(1), "x"], [leaf(2), '=A2&"y"']])), "import.formula"
    )
    assert [(e["row"], e["column"]) for e in errors] == [(3, "B")]


def test_text_that_begins_with_an_equals_sign_is_text_not_a_formula(
    client: FlaskClient, world: DemoWorld
) -> None:
    book = _table([[leaf(1), "x"]])
    sheet = book.active
    assert sheet is not None
    sheet["B2"].value = "=not a formula"
    sheet["B2"].data_type = "s"
    response = _post(client, world.auth("admin"), _saved(book), dry_run="true")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["preview"][0]["values"]["name"] == "=not a formula"


def test_merged_header_cells(client: FlaskClient, world: DemoWorld, app: Flask) -> None:
    book = _table([[leaf(1), "x", "urban"]], header=["code", "name", None])
    assert book.active is not None
    book.active.merge_cells("B1:C1")
    errors = _refused(client, world, app, _saved(book), "import.merged_header")
    assert [(e["row"], e["column"]) for e in errors] == [(1, "B1:C1")]


def test_a_missing_required_column_and_an_unknown_one(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    errors = _refused(
        client, world, app, _saved(_table([["x", "y"]], header=["社区名称", "colour"])), "import.columns"
    )
    assert {(e["row"], e["column"], e["field"], e["code"]) for e in errors} == {
        (1, "B", None, "import.unknown_column"),
        (1, None, "code", "import.missing_column"),
    }


def test_a_header_in_english_chinese_or_as_the_field_is_read(client: FlaskClient, world: DemoWorld) -> None:
    book = _table([[leaf(1), "甲", "rural"]], header=["Community code", "社区名称", "kind"])
    response = _post(client, world.auth("admin"), _saved(book), dry_run="true")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["preview"][0]["values"] == {"code": leaf(1), "name": "甲", "kind": "rural"}


def test_no_rows(client: FlaskClient, world: DemoWorld, app: Flask) -> None:
    _refused(client, world, app, _saved(_table([])), "import.empty")


def test_a_hundred_thousand_rows_are_refused_without_reading_them_all(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    """The reader stops at the first row past the limit: a formula far below it, which a full read
    would refuse (``import.formula``), is never reached. (How long it takes is bench's business.)"""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["code"])
    for n in range(100_000):
        sheet.append(["=1+1" if n == 60_000 else f"4201{n:08d}"])
    content = _saved(book)
    (error,) = _refused(client, world, app, content, "import.too_many_rows")
    assert error["detail"] == (
        "The file holds more than 10000 rows; one import takes at most 10000: split it into several files."
    )


def test_the_sheet_dimension_refuses_before_any_row_is_read(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    book = _table([[leaf(1)]])
    assert book.active is not None
    book.active.cell(row=20_002, column=1, value=leaf(2))  # the dimension is A1:C20002
    _refused(client, world, app, _saved(book), "import.too_many_rows")


def test_chinese_messages_with_accept_language_zh(client: FlaskClient, world: DemoWorld) -> None:
    response = client.post(
        f"{URL}?dry_run=true",
        data={"file": (io.BytesIO(_saved(_table([[leaf(1), "x", "城郊"]]))), "upload.xlsx")},
        headers={**world.auth("admin"), "Accept-Language": "zh-CN"},
        content_type="multipart/form-data",
    )
    (error,) = assert_problem(response, 422)["errors"]
    assert (error["row"], error["column"], error["header"], error["detail"]) == (
        2,
        "C",
        "城市或农村",
        "必须是以下之一：urban, rural。",
    )


@pytest.mark.parametrize("username", ["member01", "finance1", "auditor"])
def test_only_admins_import_users_and_the_file_is_not_read_first(
    client: FlaskClient, world: DemoWorld, app: Flask, username: str
) -> None:
    before = table_counts(app)
    response = _post(client, world.auth(username), b"not even a workbook", url="/api/v1/imports/users")
    assert_problem(response, 403)
    assert client.get("/api/v1/imports/users/template", headers=world.auth(username)).status_code == 403
    assert table_counts(app) == before


def test_an_admin_of_another_area_cannot_import_a_budget(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    fund = draft_fund(client, world)  # to member01's organisation in 江岸区, outside 黄陂区
    url = f"/api/v1/funds/{fund['id']}/imports/budget"
    content = _saved(_table([["ACTIVITY", "100.00"]], header=["category_code", "amount"]))
    before = table_counts(app)
    assert_problem(_post(client, world.auth("huangpi.admin"), content, url=url), 403)
    assert_problem(_post(client, world.auth("finance1"), content, url=url), 403)
    assert client.get(f"{url}/template", headers=world.auth("huangpi.admin")).status_code == 403
    assert table_counts(app) == before


def test_an_admin_of_another_area_cannot_create_communities_outside_it(
    client: FlaskClient, world: DemoWorld, app: Flask
) -> None:
    before = table_counts(app)
    body = assert_problem(
        _post(client, world.auth("huangpi.admin"), _saved(_table([[leaf(1)], [leaf(2)]]))), 422
    )
    assert [(e["row"], e["code"]) for e in body["errors"]] == [
        (2, "access.outside_scope"),
        (3, "access.outside_scope"),
    ]
    assert table_counts(app) == before


def test_an_unknown_kind_is_not_found(client: FlaskClient, world: DemoWorld) -> None:
    assert_problem(client.get("/api/v1/imports/funds/template", headers=world.auth("admin")), 404)
    assert_problem(client.get("/api/v1/imports/budget/template", headers=world.auth("admin")), 404)
