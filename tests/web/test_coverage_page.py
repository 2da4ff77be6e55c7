"""The coverage page: the way down the tree, the table, the chart, the date and the download."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from ledger.business_dates import business_today
from tests.conftest import DemoWorld
from tests.helpers import csrf_token_of, signed_in_client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_drilling_down_from_the_top_to_a_township(app: Flask, client: FlaskClient, world: DemoWorld) -> None:
    browser = signed_in_client(app, "admin")
    top = browser.get("/coverage").get_data(as_text=True)
    assert '<a href="/coverage?node=420000000000">湖北省</a>' in top
    assert "<svg" in top
    city = browser.get("/coverage?node=420100000000").get_data(as_text=True)
    assert "全部地区 湖北省 武汉市" in _text(city)
    assert '<a href="/coverage?node=420116000000">黄陂区</a>' in city
    # 黄陂区: 1 of its 3 communities meets its target, 8 organisations (5 registered, 3 filed), 2.67 each.
    assert "黄陂区 3 1 33.3% 8 2.67 5 3" in _text(city)
    assert 'action="/coverage.xlsx?node=420100000000"' in city
    township = browser.get("/coverage?node=420116200000").get_data(as_text=True)
    # Organisations, the kinds it has, registered, filed, target, met: 双泉村's two registered and
    # three filed meet its rural target of 5.
    assert (
        "双泉村 420116200201 农村社区 5 社会团体 1 社会服务机构 1 生活服务类（备案） 1 "
        "文体活动类（备案） 1 专业调处类（备案） 1 2 3 5 ✓ 达标"
    ) in _text(township)
    assert "杜堂村 420116200202 农村社区 1 社会服务机构 1 1 0 5 ✗ 未达标" in _text(township)
    assert township.count('<line class="target"') == 2
    english = browser.get("/language/en?next=/coverage?node=420116200000")
    assert english.status_code == 302
    page = _text(browser.get("/coverage?node=420116200000").get_data(as_text=True))
    for shown in ("Whole area", "✓ met", "social groups"):
        assert shown in page


def test_the_date_field_and_the_download(app: Flask, world: DemoWorld) -> None:
    browser = signed_in_client(app, "jiangan.supervisor")
    page = _text(browser.get("/coverage?as_of=2020-01-01").get_data(as_text=True))
    assert "大智街道 1 0 0.0% 0 0.00 0 0" in page
    assert "后湖街道 2 0 0.0% 0 0.00 0 0" in page
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    refused = browser.get(f"/coverage?as_of={tomorrow}")
    assert refused.status_code == 200
    assert "不得晚于今天" in refused.get_data(as_text=True)
    assert "后湖街道 2 0 0.0% 5 2.50 5 0" in _text(refused.get_data(as_text=True))
    # A download is recorded in the trail, so it is a POST with the form's token, never a link.
    assert browser.get("/coverage.xlsx?as_of=2020-01-01").status_code == 405
    assert browser.post("/coverage.xlsx?as_of=2020-01-01").status_code == 400  # no token: another site
    token = csrf_token_of(browser, "/coverage")
    download = browser.post("/coverage.xlsx?as_of=2020-01-01", data={"csrf_token": token})
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.data))
    assert book.properties.title == "江岸区 社区社会组织覆盖情况（截至 2020-01-01）"
    assert [row[0].value for row in book.active.iter_rows(min_row=2)] == ["大智街道", "后湖街道"]


def test_a_node_outside_the_area_is_not_shown(app: Flask, world: DemoWorld) -> None:
    browser = signed_in_client(app, "houhu.finance1")
    assert browser.get("/coverage?node=420116000000").status_code == 403
    token = csrf_token_of(browser, "/coverage")
    assert browser.post("/coverage.xlsx?node=420116000000", data={"csrf_token": token}).status_code == 403
    assert browser.get("/coverage?node=12").status_code == 422
