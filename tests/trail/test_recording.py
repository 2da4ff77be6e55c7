"""Every change lands in the audit trail, in the same transaction, and nothing else does."""

from __future__ import annotations

import base64
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from ledger.audit.canonical import is_canonical, leaf_hash
from ledger.database import unit_of_work
from ledger.demo import DEMO_PASSWORD
from ledger.extensions import db
from ledger.models import AuditEntry, AuditQueueItem, Community, CommunityKind
from ledger.services import communities
from ledger.services.access import Actor
from tests.builders import leaf
from tests.conftest import DemoWorld


def _entries(client: FlaskClient, world: DemoWorld, after: int = 0) -> list[dict[str, object]]:
    page = client.get(
        f"/api/v1/audit/entries?after={after}&limit=1000", headers=world.auth("auditor")
    ).get_json()
    return [json.loads(base64.b64decode(e["canonical"])) for e in page["entries"]]


def _size(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_each_change_is_recorded_with_actor_subject_and_state(client: FlaskClient, world: DemoWorld) -> None:
    before = _size(world.app)
    body = {"code": "420199001204", "name": "测试社区", "kind": "rural"}
    created = client.post("/api/v1/communities", json=body, headers=world.keyed("admin")).get_json()
    client.patch(
        f"/api/v1/communities/{created['id']}",
        json={"name": "改名"},
        headers={**world.auth("admin"), "If-Match": '"1"'},
    )
    entries = _entries(client, world, after=before)
    assert [e["action"] for e in entries] == ["community.created", "community.updated"]
    admin_id = client.get("/api/v1/auth/me", headers=world.auth("admin")).get_json()["id"]
    assert entries[0]["actor"] == {"id": admin_id, "role": "admin"}
    assert entries[0]["subject"] == {"type": "community", "id": created["id"]}
    assert entries[1]["data"]["state"]["name"] == "改名"
    assert entries[1]["data"]["state"]["version"] == 2
    assert entries[1]["seq"] == entries[0]["seq"] + 1


def test_entries_are_canonical_and_chained(client: FlaskClient, world: DemoWorld) -> None:
    page = client.get("/api/v1/audit/entries?limit=1000", headers=world.auth("auditor")).get_json()
    previous = "0" * 64
    for number, item in enumerate(page["entries"], start=1):
        raw = base64.b64decode(item["canonical"])
        assert is_canonical(raw)
        entry = json.loads(raw)
        assert entry["v"] == 1
        assert entry["seq"] == item["seq"] == number
        assert entry["prev"] == previous
        assert leaf_hash(raw).hex() == item["leaf_hash"]
        assert entry["ts"].endswith("Z")
        assert len(entry["ts"]) == 27
        previous = item["leaf_hash"]
    assert page["tree_size"] == len(page["entries"])
    assert page["next_after"] is None


def test_paging_through_entries(client: FlaskClient, world: DemoWorld) -> None:
    seen, after = [], 0
    while after is not None:
        page = client.get(
            f"/api/v1/audit/entries?after={after}&limit=7", headers=world.auth("admin")
        ).get_json()
        seen += [e["seq"] for e in page["entries"]]
        after = page["next_after"]
    assert seen == list(range(1, len(seen) + 1))


def test_tokens_and_logins_are_recorded_without_secrets(client: FlaskClient, world: DemoWorld) -> None:
    before = _size(world.app)
    token = client.post(
        "/api/v1/auth/login", json={"username": "finance1", "password": DEMO_PASSWORD}
    ).get_json()["token"]
    client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    entries = _entries(client, world, after=before)
    assert [e["action"] for e in entries] == ["token.issued", "token.revoked"]
    with world.app.app_context():
        everything = b"".join(db.session.scalars(select(AuditEntry.canonical)))
        hashes = [h for (h,) in db.session.execute(text("SELECT password_hash FROM app_user"))]
    assert token.encode() not in everything
    assert DEMO_PASSWORD.encode() not in everything
    assert not any(h.encode() in everything for h in hashes)


def test_refused_requests_record_nothing(client: FlaskClient, world: DemoWorld) -> None:
    before = _size(world.app)
    bad = {"code": "420199001205", "name": "y", "kind": "suburban"}
    assert client.post("/api/v1/communities", json=bad, headers=world.keyed("admin")).status_code == 422
    good = {"code": "420199001205", "name": "y", "kind": "urban"}
    assert client.post("/api/v1/communities", json=good, headers=world.keyed("finance1")).status_code == 403
    url = f"/api/v1/communities/{world.community_ids[0]}"
    assert client.delete(url, headers={**world.auth("admin"), "If-Match": "*"}).status_code == 409
    assert _size(world.app) == before
    with world.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditQueueItem)) == 0


def test_a_failure_after_the_entry_is_written_leaves_neither(app: Flask) -> None:
    """Atomicity: the change and its entry commit together or not at all."""
    before = _size(app)
    with app.app_context():
        with pytest.raises(RuntimeError, match="injected"), unit_of_work():
            communities.create_community(
                Actor.operator(),
                communities.CommunityFields(leaf(301), "原子社区", CommunityKind.URBAN),
                "ATOM-1",
            )
            assert db.session.scalar(select(func.count()).select_from(AuditQueueItem)) == 1
            raise RuntimeError("injected after the entry was written, before commit")
        assert (
            db.session.scalar(select(func.count()).select_from(Community).where(Community.code == "ATOM-1"))
            == 0
        )
        assert db.session.scalar(select(func.count()).select_from(AuditQueueItem)) == 0
    assert _size(app) == before


def test_an_entry_that_cannot_be_recorded_undoes_the_change(app: Flask) -> None:
    """The reverse: no change lands without its entry."""
    from ledger.audit.canonical import NonCanonicalValue
    from ledger.audit.trail import record

    with app.app_context():
        with pytest.raises(NonCanonicalValue), unit_of_work():
            communities.create_community(
                Actor.operator(),
                communities.CommunityFields(leaf(302), "原子社区", CommunityKind.URBAN),
                "ATOM-2",
            )
            record({"id": "operator", "role": "admin"}, "test.float", "community", "x", {"amount": 0.1})
        assert (
            db.session.scalar(select(func.count()).select_from(Community).where(Community.code == "ATOM-2"))
            == 0
        )


def test_a_stranded_queue_is_sequenced_later(app: Flask) -> None:
    """Entries committed but not yet sequenced (a crash between the two) are appended next time."""
    from ledger.audit.trail import has_pending_records, sequence_pending

    before = _size(app)
    with app.app_context():
        communities.create_community(
            Actor.operator(),
            communities.CommunityFields(leaf(303), "排队社区", CommunityKind.URBAN),
            "Q-1",
        )
        db.session.commit()  # commit without the sequencer, as if the process died here
        has_pending_records()
        assert _size(app) == before
        assert sequence_pending() == 1
    assert _size(app) == before + 1


def test_org_members_and_finance_officers_cannot_read_the_trail(
    client: FlaskClient, world: DemoWorld
) -> None:
    for username in ("member01", "finance1"):
        assert client.get("/api/v1/audit/entries", headers=world.auth(username)).status_code == 403


def test_signing_a_checkpoint_refuses_a_transaction_that_changed_something(world: DemoWorld) -> None:
    """sign_checkpoint_now commits its own work; it must not commit (or drop) its caller's."""
    from ledger.audit.trail import sign_checkpoint_now

    with world.app.app_context():
        before = _size(world.app)
        communities.create_community(
            Actor.operator(),
            communities.CommunityFields(leaf(304), "n", CommunityKind.URBAN),
            "CK-1",
        )
        with pytest.raises(RuntimeError, match="before changing anything"):
            sign_checkpoint_now()
        db.session.rollback()
        assert (
            db.session.scalar(select(func.count()).select_from(Community).where(Community.code == "CK-1"))
            == 0
        )
        assert sign_checkpoint_now() is not None  # with nothing changed, it signs
    assert _size(world.app) == before
