"""A reader at a node of the tree reads the audit entries about their area, page after page."""

from __future__ import annotations

import base64
import json
from typing import Any

from flask.testing import FlaskClient

from ledger.services.audit_reach import EntryReach, entry_reach
from tests.conftest import DemoWorld


def test_what_an_entry_touches_is_read_from_its_rows_and_subject() -> None:
    entry = {
        "action": "organisation.updated",
        "subject": {"type": "organisation", "id": "o-1"},
        "data": {
            "rows": [
                {"table": "organisation", "key": ["o-1"], "row": {"community_id": "c-1", "name": "x"}},
                {"table": "posting", "key": ["p-1"], "row": {"organisation_id": "o-2"}},
                {"table": "community", "key": ["c-2"], "row": {"code": "420102012001"}},
                {"table": "staff_scope", "key": ["s-1"], "row": {"user_id": "u-1", "division_code": "420102000000"}},
                {"table": "membership", "key": ["u-2", "o-3"], "row": {"user_id": "u-2", "organisation_id": "o-3"}},
                {"table": "app_user", "key": ["u-3"], "row": None},
            ]
        },
    }  # fmt: skip
    assert entry_reach(entry) == EntryReach(
        organisation_ids=frozenset({"o-1", "o-2", "o-3"}),
        community_ids=frozenset({"c-1", "c-2"}),
        community_codes=frozenset({"420102012001"}),
        user_ids=frozenset({"u-1", "u-2", "u-3"}),
        nodes=frozenset({"420102000000"}),
    )
    fund_event = {"subject": {"type": "fund", "id": "f-1"}, "data": {"sha256": "..."}}
    assert entry_reach(fund_event) == EntryReach(owned_subject=("fund", "f-1"))
    assert (
        entry_reach({"subject": {"type": "chart_of_accounts", "id": "NPO-2005"}, "data": {}}) == EntryReach()
    )


def _decoded(entry: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(entry["canonical"])))


def _read_all(client: FlaskClient, headers: dict[str, str], limit: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = client.get(f"/api/v1/audit/entries?after={after}&limit={limit}", headers=headers).get_json()
        assert len(page["entries"]) <= limit
        entries += [_decoded(e) | {"seq": e["seq"]} for e in page["entries"]]
        assert after < (page["next_after"] or page["tree_size"])
        after = page["next_after"]
    return entries


def _created_organisations(entries: list[dict[str, Any]]) -> set[str]:
    return {e["subject"]["id"] for e in entries if e["action"] == "organisation.created"}


def test_a_district_reader_reads_the_entries_about_their_district(
    client: FlaskClient, funded_world: DemoWorld
) -> None:
    world = funded_world
    everything = _read_all(client, world.auth("auditor"), 1000)
    jiangan = _read_all(client, world.auth("jiangan.supervisor"), 1000)
    huangpi = _read_all(client, world.auth("huangpi.admin"), 1000)
    members = world.member_organisation
    assert _created_organisations(everything) == set(world.organisation_ids)
    assert _created_organisations(jiangan) == {members[f"member{n:02d}"] for n in range(1, 8)}
    filed = set(world.organisation_ids) - set(members.values())  # the demo's three, in 双泉村 (黄陂区)
    assert len(filed) == 3
    assert _created_organisations(huangpi) == {members[f"member{n:02d}"] for n in range(8, 13)} | filed
    created_communities = {e["data"]["state"]["code"] for e in jiangan if e["action"] == "community.created"}
    assert created_communities == {"420102012001", "420102012002", "420102001003"}
    funds = {e["data"]["state"]["reference"] for e in jiangan if e["action"] == "fund.drafted"}
    assert funds == {"FC-WH-2026-017", "JA-ZFCG-2026-0088"}
    assert {e["seq"] for e in jiangan} < {e["seq"] for e in everything}
    assert not {e["seq"] for e in jiangan} & {e["seq"] for e in huangpi}
    # Paging by after/limit finds the same entries, however small the pages.
    assert [e["seq"] for e in _read_all(client, world.auth("jiangan.supervisor"), 3)] == [
        e["seq"] for e in jiangan
    ]
