"""The import pages: template, upload, the problems by row and column (in Chinese) or the rows to be
created, then the confirmation; the same rules as the API, and only for those who may import."""

from __future__ import annotations

import io
import re

from flask import Flask
from openpyxl import Workbook

from tests.builders import draft_fund, leaf
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, signed_in_client, table_counts

PAGE = "/admin/imports/communities"


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["社区代码", "社区名称", "城市或农村"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_admin_checks_then_confirms_an_import(app: Flask, world: DemoWorld) -> None:
    admin = signed_in_client(app, "admin")
    page = admin.get(PAGE)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "导入" in text
    assert "/admin/imports/communities/template.xlsx" in text
    template = admin.get("/admin/imports/communities/template.xlsx")
    assert template.status_code == 200
    assert template.data.startswith(b"PK")

    before = table_counts(app)
    token = csrf_token_of(admin, PAGE)
    checked = admin.post(
        PAGE,
        data={
            "csrf_token": token,
            "step": "check",
            "file": (io.BytesIO(_workbook([[leaf(31), "页面导入", "rural"]])), "c.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert checked.status_code == 200
    shown = checked.get_data(as_text=True)
    assert "1 行可以导入。" in shown
    assert "页面导入" in shown
    assert table_counts(app) == before
    content = re.search(r'name="content" value="([^"]+)"', shown)
    sha256 = re.search(r'name="sha256" value="([0-9a-f]{64})"', shown)
    assert content
    assert sha256

    tampered = admin.post(
        PAGE, data={"csrf_token": token, "step": "commit", "content": content.group(1), "sha256": "0" * 64}
    )
    assert tampered.status_code == 422
    assert "该文件不是刚才检查过的文件" in tampered.get_data(as_text=True)
    assert table_counts(app) == before

    confirmed = admin.post(
        PAGE,
        data={"csrf_token": token, "step": "commit", "content": content.group(1), "sha256": sha256.group(1)},
    )
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"].endswith("/admin/communities")
    listed = admin.get("/admin/communities?q=页面导入").get_data(as_text=True)
    assert leaf(31) in listed
    assert "已导入 1 行。" in listed


def test_problems_are_shown_by_row_and_column_in_the_readers_language(app: Flask, world: DemoWorld) -> None:
    admin = signed_in_client(app, "admin")
    token = csrf_token_of(admin, PAGE)
    before = table_counts(app)
    refused = admin.post(
        PAGE,
        data={
            "csrf_token": token,
            "step": "check",
            "file": (io.BytesIO(_workbook([[leaf(32), "x", "城郊"]])), "c.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "文件中有 1 个问题，未导入任何内容。" in text
    # The API says the same of the same file, in the same words.
    api = app.test_client().post(
        "/api/v1/imports/communities?dry_run=true",
        data={"file": (io.BytesIO(_workbook([[leaf(32), "x", "城郊"]])), "c.xlsx")},
        headers={**world.auth("admin"), "Accept-Language": "zh"},
        content_type="multipart/form-data",
    )
    (problem,) = api.get_json()["errors"]
    assert (problem["row"], problem["column"], problem["header"]) == (2, "C", "城市或农村")
    assert problem["detail"] == "必须是以下之一：urban, rural。"
    assert f'<td class="n">2</td><td>C {problem["header"]}</td><td>{problem["detail"]}</td>' in text
    assert table_counts(app) == before
    not_a_workbook = admin.post(
        PAGE,
        data={"csrf_token": token, "step": "check", "file": (io.BytesIO(b"hello"), "c.xlsx")},
        content_type="multipart/form-data",
    )
    assert not_a_workbook.status_code == 422
    assert "该文件不是 XLSX 工作簿" in not_a_workbook.get_data(as_text=True)


def test_the_fund_page_links_its_imports_and_a_member_may_not_import(app: Flask, world: DemoWorld) -> None:
    fund = draft_fund(app.test_client(), world)
    admin = signed_in_client(app, "admin")
    page = admin.get(f"/funds/{fund['id']}").get_data(as_text=True)
    assert f"/funds/{fund['id']}/imports/budget" in page
    assert f"/funds/{fund['id']}/imports/tranches" in page
    assert admin.get(f"/funds/{fund['id']}/imports/budget").status_code == 200
    member = signed_in_client(app, "member01")
    assert member.get(PAGE).status_code == 403
    assert member.get(f"/funds/{fund['id']}/imports/budget").status_code == 403
    assert member.get("/admin/imports/funds").status_code == 404
