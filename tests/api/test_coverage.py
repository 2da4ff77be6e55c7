"""Coverage rolled up the administrative tree, on a date: figures worked out by hand from the demo.

The demo (see ledger/demo.py): 江岸区 has 百步亭花园社区 (3 organisations: 2 social service
organisations, 1 social group), 丹水池社区 (2: 1 + 1) under 后湖街道 and 二七社区 (2: a social group and a
foundation) under 大智街道; 黄陂区 has 城关社区 (2: 1 + 1) under 前川街道, 双泉村 (rural: a social service
organisation and a social group registered, and three filed with 木兰乡: culture and sports 2025-04-10,
mediation 2025-06-18, life services 2025-09-05) and 杜堂村 (1 social service organisation, rural) under
木兰乡. The twelve registered ones were registered every 61 days from 2023-03-18 (the demo's order) to
2025-01-17. Urban targets are 10, rural 5: only 双泉村 meets its target, from 2025-09-05.
"""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from openpyxl import load_workbook

from ledger.business_dates import business_today
from ledger.services.coverage import per_community, percentage, share
from tests.builders import added_organisation, leaf
from tests.conftest import DemoWorld
from tests.helpers import assert_problem

SHUANGQUAN = 4  # index of 双泉村 in world.community_ids


def _coverage(client: FlaskClient, world: DemoWorld, user: str = "admin", **query: str) -> dict[str, Any]:
    response = client.get("/api/v1/coverage", query_string=query, headers=world.auth(user))
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["name"],
        row["communities"],
        row["communities_met"],
        row["share_met"],
        row["percent_met"],
        row["organisations"],
        row["organisations_per_community"],
    )


def test_the_rounding_rules() -> None:
    assert share(1, 6) == Decimal("0.167")
    assert percentage(share(1, 6)) == Decimal("16.7")
    assert share(1, 16) == Decimal("0.063")  # 0.0625, half up (not to even)
    assert percentage(share(1, 8)) == Decimal("12.5")
    assert share(0, 0) == Decimal("0.000")
    assert per_community(8, 3) == Decimal("2.67")
    assert per_community(1, 8) == Decimal("0.13")  # 0.125, half up
    assert per_community(5, 2) == Decimal("2.50")
    assert per_community(3, 0) == Decimal("0.00")


def test_the_whole_deployment_today(client: FlaskClient, world: DemoWorld) -> None:
    body = _coverage(client, world)
    assert body["as_of"] == business_today().isoformat()
    assert body["path"] == [{"code": None, "name": "", "level": None}]
    assert body["node"] == {
        "code": None,
        "name": "",
        "level": None,
        "communities": 6,
        "communities_met": 1,
        "share_met": "0.167",
        "percent_met": "16.7",
        "organisations": 15,
        "organisations_per_community": "2.50",
        "registered": 12,
        "filed": 3,
        "by_kind": {
            "social_group": 5,
            "social_service_organisation": 6,
            "foundation": 1,
            "life_services": 1,
            "charity": 0,
            "culture_sports": 1,
            "mediation": 1,
            "other": 0,
        },
    }
    assert body["children_level"] == "province"
    assert [_figures(c) for c in body["children"]] == [("湖北省", 6, 1, "0.167", "16.7", 15, "2.50")]
    assert body["communities"] == []


def test_a_community_reaching_its_target_rolls_up(client: FlaskClient, world: DemoWorld) -> None:
    city = _coverage(client, world, node="420100000000")
    assert _figures(city["node"]) == ("武汉市", 6, 1, "0.167", "16.7", 15, "2.50")
    assert city["children_level"] == "county"
    assert [_figures(c) for c in city["children"]] == [
        ("江岸区", 3, 0, "0.000", "0.0", 7, "2.33"),
        ("黄陂区", 3, 1, "0.333", "33.3", 8, "2.67"),
    ]
    district = _coverage(client, world, node="420116000000")
    assert [c["name"] for c in district["path"]] == ["", "湖北省", "武汉市", "黄陂区"]
    assert district["children_level"] == "township"
    assert [_figures(c) for c in district["children"]] == [
        ("前川街道", 1, 0, "0.000", "0.0", 2, "2.00"),
        ("木兰乡", 2, 1, "0.500", "50.0", 6, "3.00"),
    ]
    assert district["children"][1]["by_kind"] == {
        "social_group": 1,
        "social_service_organisation": 2,
        "foundation": 0,
        "life_services": 1,
        "charity": 0,
        "culture_sports": 1,
        "mediation": 1,
        "other": 0,
    }
    assert (district["children"][1]["registered"], district["children"][1]["filed"]) == (3, 3)
    township = _coverage(client, world, node="420116200000")
    assert _figures(township["node"]) == ("木兰乡", 2, 1, "0.500", "50.0", 6, "3.00")
    assert township["children_level"] == "community"
    assert township["children"] == []
    shuangquan, dutang = township["communities"]
    assert shuangquan == {
        "id": world.community_ids[SHUANGQUAN],
        "code": "420116200201",
        "name": "双泉村",
        "kind": "rural",
        "target": 5,
        "organisations": 5,
        "registered": 2,
        "filed": 3,
        "by_kind": {
            "social_group": 1,
            "social_service_organisation": 1,
            "foundation": 0,
            "life_services": 1,
            "charity": 0,
            "culture_sports": 1,
            "mediation": 1,
            "other": 0,
        },
        "met": True,
    }
    assert (dutang["name"], dutang["organisations"], dutang["target"], dutang["met"]) == (
        "杜堂村",
        1,
        5,
        False,
    )


def test_progress_over_a_year(client: FlaskClient, world: DemoWorld) -> None:
    # 2024-12-31: the first eleven registered (the twelfth, 杜堂村's, on 2025-01-17), none filed yet.
    year_end = _coverage(client, world, node="420100000000", as_of="2024-12-31")
    assert _figures(year_end["node"]) == ("武汉市", 6, 0, "0.000", "0.0", 11, "1.83")
    # 2025-06-30: 双泉村 has 2 registered and 2 filed (dance 04-10, mediation 06-18): 4 of its 5.
    june = _coverage(client, world, node="420116200000", as_of="2025-06-30")
    assert [(c["name"], c["organisations"], c["met"]) for c in june["communities"]] == [
        ("双泉村", 4, False),
        ("杜堂村", 1, False),
    ]
    # 2025-09-05: the elder-care volunteers are filed, and 双泉村 meets its target.
    september = _coverage(client, world, node="420116200000", as_of="2025-09-05")
    assert _figures(september["node"]) == ("木兰乡", 2, 1, "0.500", "50.0", 6, "3.00")


def test_a_deregistered_organisation_stops_counting(client: FlaskClient, world: DemoWorld) -> None:
    township = _coverage(client, world, node="420116200000")
    dance = next(
        o
        for o in client.get(
            f"/api/v1/organisations?community_id={world.community_ids[SHUANGQUAN]}&status=filed",
            headers=world.auth("admin"),
        ).get_json()
        if o["filing_category"] == "culture_sports"
    )
    today = business_today().isoformat()
    response = client.post(
        f"/api/v1/organisations/{dance['id']}/deregistration",
        json={"deregistered_on": today, "reason": "队伍解散 the team disbanded"},
        headers={**world.auth("admin"), "If-Match": f'"{dance["version"]}"'},
    )
    assert response.status_code == 200, response.get_json()
    after = _coverage(client, world, node="420116200000")
    assert [c["organisations"] for c in township["communities"]] == [5, 1]
    assert [(c["organisations"], c["filed"], c["met"]) for c in after["communities"]] == [
        (4, 2, False),
        (1, 0, False),
    ]
    yesterday = (business_today() - timedelta(days=1)).isoformat()
    assert _coverage(client, world, node="420116200000", as_of=yesterday)["node"]["communities_met"] == 1


def test_before_the_organisations_existed_everything_is_zero(client: FlaskClient, world: DemoWorld) -> None:
    body = _coverage(client, world, node="420100000000", as_of="2020-01-01")
    assert body["as_of"] == "2020-01-01"
    assert _figures(body["node"]) == ("武汉市", 6, 0, "0.000", "0.0", 0, "0.00")
    assert [_figures(c) for c in body["children"]] == [
        ("江岸区", 3, 0, "0.000", "0.0", 0, "0.00"),
        ("黄陂区", 3, 0, "0.000", "0.0", 0, "0.00"),
    ]


def test_an_organisation_counts_from_the_day_it_began(client: FlaskClient, world: DemoWorld) -> None:
    created = client.post("/api/v1/communities", json={"code": leaf(1)}, headers=world.keyed("admin"))
    assert created.status_code == 201, created.get_json()
    added_organisation(client, world, created.get_json()["id"], "social_group", 1)
    today = business_today()
    counted = _coverage(client, world, node="420199001000", as_of=today.isoformat())
    before = _coverage(client, world, node="420199001000", as_of=(today - timedelta(days=1)).isoformat())
    assert [c["organisations"] for c in counted["communities"]] == [1]
    assert [c["organisations"] for c in before["communities"]] == [0]
    assert (counted["node"]["communities"], before["node"]["communities"]) == (1, 1)


def test_a_street_hub_sees_its_street(client: FlaskClient, world: DemoWorld) -> None:
    body = _coverage(client, world, "houhu.finance1")
    assert body["path"] == [{"code": "420102012000", "name": "后湖街道", "level": "township"}]
    assert _figures(body["node"]) == ("后湖街道", 2, 0, "0.000", "0.0", 5, "2.50")
    assert [(c["name"], c["organisations"], c["target"]) for c in body["communities"]] == [
        ("百步亭花园社区", 3, 10),
        ("丹水池社区", 2, 10),
    ]
    for outside in ("420102000000", "420116000000", "420102001000"):
        assert_problem(
            client.get(f"/api/v1/coverage?node={outside}", headers=world.auth("houhu.finance1")), 403
        )


def test_a_district_supervisor_sees_the_district(client: FlaskClient, world: DemoWorld) -> None:
    body = _coverage(client, world, "jiangan.supervisor")
    assert [c["name"] for c in body["path"]] == ["江岸区"]
    assert _figures(body["node"]) == ("江岸区", 3, 0, "0.000", "0.0", 7, "2.33")
    assert [_figures(c) for c in body["children"]] == [
        ("大智街道", 1, 0, "0.000", "0.0", 2, "2.00"),
        ("后湖街道", 2, 0, "0.000", "0.0", 5, "2.50"),
    ]
    street = _coverage(client, world, "jiangan.supervisor", node="420102012000")
    assert [c["name"] for c in street["path"]] == ["江岸区", "后湖街道"]
    for outside in ("420100000000", "420116000000"):
        response = client.get(f"/api/v1/coverage?node={outside}", headers=world.auth("jiangan.supervisor"))
        assert_problem(response, 403)


def test_refused_queries(client: FlaskClient, world: DemoWorld) -> None:
    admin = world.auth("admin")
    tomorrow = (business_today() + timedelta(days=1)).isoformat()
    assert_problem(client.get(f"/api/v1/coverage?as_of={tomorrow}", headers=admin), 422, "as_of")
    # A malformed query is refused where it is parsed (query.*), as everywhere in the API.
    assert_problem(client.get("/api/v1/coverage?as_of=2026-13-01", headers=admin), 422, "query.as_of")
    assert_problem(client.get("/api/v1/coverage?node=4201", headers=admin), 422, "node")
    assert_problem(client.get("/api/v1/coverage?node=429999000000", headers=admin), 422, "node")
    assert_problem(client.get(f"/api/v1/coverage.xlsx?as_of={tomorrow}", headers=admin), 422, "as_of")


def test_the_spreadsheet_holds_the_same_figures(client: FlaskClient, world: DemoWorld) -> None:
    today = business_today().isoformat()
    response = client.get("/api/v1/coverage.xlsx?node=420116000000", headers=world.auth("admin"))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f'filename="coverage-420116000000-{today}.xlsx"' in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.active
    assert sheet.title == f"街道乡镇 {today}"
    assert book.properties.title == f"黄陂区 社区社会组织覆盖情况（截至 {today}）"
    assert sheet.freeze_panes == "A2"
    headers = [cell.value for cell in sheet[1]]
    assert headers[:9] == [
        "名称",
        "区划代码",
        "社区数",
        "达标社区数",
        "达标率",
        "组织数",
        "每社区组织数",
        "登记",
        "备案",
    ]
    assert headers[9:] == [
        "社会团体", "社会服务机构", "基金会", "生活服务类", "公益慈善类", "文体活动类", "专业调处类", "其他",
    ]  # fmt: skip
    assert (sheet["E2"].number_format, sheet["G2"].number_format) == ("0.0%", "0.00")
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert rows == [
        ["前川街道", "420116001000", 1, 0, 0.0, 2, 2.0, 2, 0, 1, 1, 0, 0, 0, 0, 0, 0],
        ["木兰乡", "420116200000", 2, 1, 0.5, 6, 3.0, 3, 3, 1, 2, 0, 1, 0, 1, 1, 0],
    ]
    body = _coverage(client, world, node="420116000000")
    for row, child in zip(rows, body["children"], strict=True):
        assert row[:7] == [
            child["name"],
            child["code"],
            child["communities"],
            child["communities_met"],
            float(child["share_met"]),
            child["organisations"],
            float(child["organisations_per_community"]),
        ]


def test_the_spreadsheet_of_a_street_lists_its_communities(client: FlaskClient, world: DemoWorld) -> None:
    response = client.get("/api/v1/coverage.xlsx?node=420116200000", headers=world.auth("admin"))
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [cell.value for cell in sheet[1]] == [
        "名称", "区划代码", "社区类型", "组织数", "登记", "备案", "社会团体", "社会服务机构", "基金会",
        "生活服务类", "公益慈善类", "文体活动类", "专业调处类", "其他", "目标", "是否达标",
    ]  # fmt: skip
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)] == [
        ["双泉村", "420116200201", "农村社区", 5, 2, 3, 1, 1, 0, 1, 0, 1, 1, 0, 5, "是"],
        ["杜堂村", "420116200202", "农村社区", 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, "否"],
    ]
