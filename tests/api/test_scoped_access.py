"""A staff member at a node of the tree sees and acts on their subtree only.

houhu.finance1 and houhu.finance2 are finance officers at 后湖街道 (百步亭花园社区: member01-03,
丹水池社区: member04-05); qianchuan.finance at 前川街道 (黄陂区); jiangan.supervisor reads 江岸区
(后湖街道 and 大智街道's 二七社区: member06-07). The demo funds are FC-WH-2026-017 (member01),
FH-HP-2026-003 (member08, 黄陂区) and JA-ZFCG-2026-0088 (member04).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from flask.testing import FlaskClient

from tests.builders import activated_fund, prepare_disbursement
from tests.conftest import DemoWorld
from tests.helpers import table_counts

HOUHU_MEMBERS = ["member01", "member02", "member03", "member04", "member05"]
JIANGAN_MEMBERS = [*HOUHU_MEMBERS, "member06", "member07"]


def _all(client: FlaskClient, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    return list(response.get_json())


def test_lists_hold_only_the_area_of_a_street_finance_officer(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    world, houhu = funded_world, funded_world.auth("houhu.finance1")
    organisations = _all(client, "/api/v1/organisations?page_size=500", houhu)
    assert sorted(o["id"] for o in organisations) == sorted(
        world.member_organisation[m] for m in HOUHU_MEMBERS
    )
    communities = _all(client, "/api/v1/communities?page_size=500", houhu)
    assert [c["code"] for c in communities] == ["420102012001", "420102012002"]
    coverage = _all(client, "/api/v1/communities/coverage?page_size=500", houhu)
    assert [(c["community"]["code"], c["organisation_count"]) for c in coverage] == [
        ("420102012001", 3),
        ("420102012002", 2),
    ]
    funds = _all(client, "/api/v1/funds?page_size=500", houhu)
    assert sorted(f["reference"] for f in funds) == ["FC-WH-2026-017", "JA-ZFCG-2026-0088"]
    reports = _all(client, "/api/v1/expense-reports?page_size=500", houhu)
    everything = _all(client, "/api/v1/expense-reports?page_size=500", world.auth("finance1"))
    houhu_organisations = {world.member_organisation[m] for m in HOUHU_MEMBERS}
    huangpi = world.member_organisation["member08"]
    # Six filed reports in the deployment (a draft is its filer's alone), all of 后湖街道.
    assert len(everything) == 6
    assert {r["organisation_id"] for r in everything} <= houhu_organisations
    assert sorted(r["id"] for r in reports) == sorted(r["id"] for r in everything)
    assert _all(client, "/api/v1/expense-reports?page_size=500", world.auth("qianchuan.finance")) == []
    for fund in funds:
        for disbursement in _all(client, f"/api/v1/funds/{fund['id']}/disbursements", houhu):
            assert disbursement["organisation_id"] != huangpi
    grants = client.get("/api/v1/exports/360giving", headers=houhu).get_json()["grants"]
    assert [g["id"] for g in grants] == ["360G-EXAMPLEDEV-FC-WH-2026-017"]
    releases = client.get("/api/v1/exports/ocds", headers=houhu).get_json()["releases"]
    assert releases
    assert {r["ocid"].endswith("JA-ZFCG-2026-0088") for r in releases} == {True}


def test_lists_hold_only_the_area_of_a_district_supervisor(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    world, supervisor = funded_world, funded_world.auth("jiangan.supervisor")
    organisations = _all(client, "/api/v1/organisations?page_size=500", supervisor)
    assert sorted(o["id"] for o in organisations) == sorted(
        world.member_organisation[m] for m in JIANGAN_MEMBERS
    )
    users = _all(client, "/api/v1/users?page_size=500", supervisor)
    assert [u["username"] for u in users] == [
        "houhu.finance1",
        "houhu.finance2",
        "jiangan.supervisor",
        *JIANGAN_MEMBERS,
    ]
    funds = _all(client, "/api/v1/funds?page_size=500", supervisor)
    assert sorted(f["reference"] for f in funds) == ["FC-WH-2026-017", "JA-ZFCG-2026-0088"]


def test_a_second_finance_officer_approves_within_the_street(client: FlaskClient, world: DemoWorld) -> None:
    """Two-person rules hold within the area: the preparer cannot approve, a finance officer at
    another street cannot either (outside their area), the other officer of 后湖街道 can."""
    fund = activated_fund(client, world)  # member01's organisation, 百步亭花园社区, 后湖街道
    body = {"kind": "reimbursement", "amount": "10.00", "memo": "两人规则"}
    prepared = prepare_disbursement(client, world, fund, body, "scoped-1", user="houhu.finance1")
    assert prepared.status_code == 201, prepared.get_json()
    approve = f"/api/v1/disbursements/{prepared.get_json()['id']}/approve"
    before = table_counts(world.app)
    own = client.post(approve, headers=world.auth("houhu.finance1"))
    assert (own.status_code, own.get_json()["code"]) == (403, "access.self_approval")
    elsewhere = client.post(approve, headers=world.auth("qianchuan.finance"))
    assert (elsewhere.status_code, elsewhere.get_json()["code"]) == (403, "access.outside_scope")
    assert table_counts(world.app) == before
    approved = client.post(approve, headers=world.auth("houhu.finance2"))
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "approved"


def test_a_finance_officer_cannot_prepare_outside_the_street(client: FlaskClient, world: DemoWorld) -> None:
    fund = activated_fund(client, world)
    body = {"kind": "reimbursement", "amount": "10.00", "memo": "外街道"}
    before = table_counts(world.app)
    refused = prepare_disbursement(client, world, fund, body, "scoped-2", user="qianchuan.finance")
    assert (refused.status_code, refused.get_json()["code"]) == (403, "access.outside_scope")
    assert table_counts(world.app) == before


LOTTERY_FUNDER = "武汉市民政局（福彩公益金）Wuhan Civil Affairs Bureau, welfare lottery fund"


def test_a_lottery_disclosure_covers_the_reader_s_area(client: FlaskClient, funded_world: DemoWorld) -> None:
    """The funder's one lottery grant is FC-WH-2026-017, to member01's organisation in 后湖街道."""
    world = funded_world
    url = f"/api/v1/statements/lottery-disclosure?funder={LOTTERY_FUNDER}&year=2026"
    for reader in ("houhu.finance1", "jiangan.supervisor", "finance1"):
        response = client.get(url, headers=world.auth(reader))
        assert response.status_code == 200, (reader, response.get_json())
    outside = client.get(url, headers=world.auth("qianchuan.finance"))
    assert outside.status_code == 422
    assert outside.get_json()["errors"].keys() == {"funder"}
    issued = client.post(
        "/api/v1/statements/lottery-disclosure",
        json={"funder": LOTTERY_FUNDER, "year": 2026},
        headers=world.auth("houhu.finance1"),
    )
    assert issued.status_code == 200
    entries = client.get("/api/v1/audit/entries?after=0&limit=1000", headers=world.auth("auditor")).get_json()
    *_, statement, fulfilled = (json.loads(base64.b64decode(e["canonical"])) for e in entries["entries"])
    assert (statement["action"], statement["data"]["area"]) == ("statement.issued", ["420102012000"])
    # Issuing the year's disclosure fulfils the grant's 2026 disclosure requirement (docs/requirements.md).
    assert (fulfilled["action"], fulfilled["data"]["state"]["kind"]) == (
        "requirement.done",
        "lottery_disclosure",
    )
