"""The public publication: settings required in production, open endpoints, the same bytes as
files, only what the publication policy allows, registered identifiers, 360Giving locations."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ledger import create_app
from ledger.config import Settings
from ledger.extensions import db
from ledger.models import Community, NotificationPreference, Organisation, PublishedRelease, Receipt, User
from ledger.services.notifications.worker import run_once
from ledger.services.publication_policy import (
    GRANTS,
    OCDS_RECORDS,
    OCDS_RELEASES,
    NotPublishable,
    enforce,
    violations,
)
from tests.builders import activated_fund, active_contract
from tests.conftest import DemoWorld, settings_for_tests
from tests.helpers import assert_problem, grant_package_errors, ocds_package_errors, ocds_release_errors

PUBLICATION = {
    "LEDGER_PUBLISHER_NAME": "江岸区社会组织服务中心",
    "LEDGER_PUBLISHER_ID": "CN-USCI-12420102MB1234567X",
    "LEDGER_OCDS_PREFIX": "ocds-ab12cd",
    "LEDGER_360G_PREFIX": "360G-jiangan",
    "LEDGER_DATA_LICENCE": "https://creativecommons.org/licenses/by/4.0/",
    "LEDGER_PUBLIC_URL": "https://open.example.org",
}


@contextmanager
def another_app(world: DemoWorld, **settings: str) -> Iterator[Flask]:
    """A second service on the same database and instance, with other settings."""
    base: Settings = world.app.extensions["ledger.settings"]
    app = create_app({**settings_for_tests(base.database_url, base.instance_path), **settings})
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


PRODUCTION = {
    "LEDGER_ENV": "production",
    "LEDGER_ARGON2_MEMORY_KIB": "19456",
    "LEDGER_ARGON2_TIME_COST": "2",
    "LEDGER_AUDIT_SEQUENCING": "inline",
    "LEDGER_NOTIFY_WORKER": "off",
}


def test_production_refuses_to_publish_naming_each_missing_setting(
    client: FlaskClient, funded_world: DemoWorld, tmp_path: Path
) -> None:
    world = funded_world
    some = {name: PUBLICATION[name] for name in ("LEDGER_PUBLISHER_NAME", "LEDGER_PUBLIC_URL")}
    missing = ["LEDGER_PUBLISHER_ID", "LEDGER_OCDS_PREFIX", "LEDGER_360G_PREFIX", "LEDGER_DATA_LICENCE"]
    with another_app(world, **PRODUCTION, **some) as app:
        client = app.test_client()
        for path in ("/api/v1/exports/ocds", "/api/v1/exports/360giving"):
            problem = assert_problem(client.get(path, headers=world.auth("auditor")), 503, *missing)
            assert problem["code"] == "publication.not_configured"
            assert all(name in problem["detail"] for name in missing)
        for path in ("/public/ocds/releases.json", "/public/ocds/records.json", "/public/360giving.json"):
            assert_problem(client.get(path), 503, *missing)
        for args in (["public", str(tmp_path / "public")], ["ocds", str(tmp_path / "ocds")]):
            result = app.test_cli_runner().invoke(args=["export", *args])
            assert result.exit_code == 1
            assert all(name in result.output for name in missing), result.output
        assert not (tmp_path / "public").exists()
    _second_contract(client, world)
    with another_app(world, **PRODUCTION, **PUBLICATION) as app:
        published = app.test_cli_runner().invoke(args=["export", "ocds", str(tmp_path / "ocds")])
        assert published.exit_code == 0, published.output
        package = app.test_client().get("/public/ocds/releases.json").get_json()
        assert package["publisher"] == {"name": "江岸区社会组织服务中心", "uid": "CN-USCI-12420102MB1234567X"}
        assert package["license"] == "https://creativecommons.org/licenses/by/4.0/"
        assert package["uri"] == "https://open.example.org/public/ocds/releases.json"
        # The contract published now is under the hub's registered prefix; the demo's contract,
        # first published when the demo was made, keeps its ocid (an ocid names one process for
        # good), so nothing is published twice under two ocids.
        assert {r["ocid"] for r in package["releases"]} == {
            "ocds-ab12cd-GP-2026-101",
            "ocds-xxxxxx-JA-ZFCG-2026-0088",
        }


def test_development_publishes_marked_placeholders(client: FlaskClient, funded_world: DemoWorld) -> None:
    package = client.get("/public/360giving.json").get_json()
    assert package["publisher"] == {
        "name": "示例发布者（开发用）Example publisher (development)",
        "identifier": "example-publisher-development",
    }
    assert package["license"] == "https://licence.example.invalid/development-placeholder"
    assert all(g["id"].startswith("360G-EXAMPLEDEV-") for g in package["grants"])


def _second_contract(client: FlaskClient, world: DemoWorld) -> None:
    active_contract(
        client, world, [("100000.00", "2026-03-01")], reference="GP-2026-101", funder_credit_code=None
    )


def _public_documents(client: FlaskClient) -> dict[str, bytes]:
    """Every public document, found by following the links from the first pages."""
    found: dict[str, bytes] = {}
    for first in ("ocds/releases.json", "ocds/records.json", "360giving.json"):
        path: str | None = first
        while path is not None:
            response = client.get(f"/public/{path}")
            assert response.status_code == 200, (path, response.get_data(as_text=True))
            found[path] = response.data
            following = json.loads(response.data).get("links", {}).get("next")
            path = following.removeprefix("http://127.0.0.1:5000/public/") if following else None
    return found


def test_the_public_pages_open_without_a_token_and_equal_the_files(
    client: FlaskClient, funded_world: DemoWorld, tmp_path: Path
) -> None:
    world = funded_world
    _second_contract(client, world)
    with another_app(world, LEDGER_DEFAULT_PAGE_SIZE="1") as app:
        # The new contract is served once it is published (a GET never publishes).
        published = app.test_cli_runner().invoke(args=["export", "ocds", str(tmp_path / "ocds")])
        assert published.exit_code == 0, published.output
        public = app.test_client()
        documents = _public_documents(public)
        # Two contracts, one a page: two pages of releases and of records, linked both ways.
        assert sorted(documents) == [
            "360giving.json",
            "ocds/records-2.json",
            "ocds/records.json",
            "ocds/releases-2.json",
            "ocds/releases.json",
        ]
        first = json.loads(documents["ocds/releases.json"])
        second = json.loads(documents["ocds/releases-2.json"])
        assert first["uri"] == "http://127.0.0.1:5000/public/ocds/releases.json"
        assert first["links"] == {"next": "http://127.0.0.1:5000/public/ocds/releases-2.json"}
        assert second["links"] == {"prev": "http://127.0.0.1:5000/public/ocds/releases.json"}
        # By contract number: the new contract first, the demo's (with its payments) second.
        assert {r["ocid"] for r in first["releases"]} == {"ocds-xxxxxx-GP-2026-101"}
        assert {r["ocid"] for r in second["releases"]} == {"ocds-xxxxxx-JA-ZFCG-2026-0088"}
        # A record names its releases where they are: on the releases page of the same number.
        records = json.loads(documents["ocds/records-2.json"])["records"]
        assert [r["url"] for r in records[0]["releases"]] == [
            f"http://127.0.0.1:5000/public/ocds/releases-2.json#{r['id']}" for r in second["releases"]
        ]
        for path, body in documents.items():
            package = json.loads(body)
            if path.startswith("ocds/releases"):
                assert ocds_package_errors(package) == []
            elif path.startswith("ocds/records"):
                assert all(ocds_release_errors(r["compiledRelease"]) == [] for r in package["records"])
            else:
                assert grant_package_errors(package) == []
        assert public.get("/public/ocds/releases-3.json").status_code == 404
        assert public.get("/public/ocds/releases-1.json").status_code == 404
        # Asked again with its ETag, an unchanged document is not sent again.
        response = public.get("/public/ocds/records.json")
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        again = public.get("/public/ocds/records.json", headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
        result = app.test_cli_runner().invoke(args=["export", "public", str(tmp_path / "public")])
        assert result.exit_code == 0, result.output
    written = {
        str(p.relative_to(tmp_path / "public")): p.read_bytes() for p in (tmp_path / "public").rglob("*.json")
    }
    assert written == documents


def test_nothing_outside_the_policy_is_published(
    app: Flask, client: FlaskClient, funded_world: DemoWorld
) -> None:
    documents = _public_documents(client)
    kinds = {"ocds/releases.json": OCDS_RELEASES, "ocds/records.json": OCDS_RECORDS, "360giving.json": GRANTS}
    for path, kind in kinds.items():
        assert violations(kind, json.loads(documents[path])) == []
    with app.app_context():
        users = list(db.session.scalars(select(User)))
        private = [u.username for u in users] + [u.display_name for u in users] + [str(u.id) for u in users]
        private += [r.sha256 for r in db.session.scalars(select(Receipt))]
        private += [e for e in db.session.scalars(select(NotificationPreference.email)) if e]
    assert len(private) > 3 * 20  # the demo's users and receipts
    text = b"".join(documents.values()).decode("utf-8")
    for value in private:
        assert f'"{value}"' not in text, value
        assert len(value) < 4 or value not in text, value


def test_the_policy_refuses_a_field_it_does_not_list() -> None:
    package: dict[str, Any] = {"grants": [{"id": "360G-x-1", "title": "t", "recipientOrganization": []}]}
    assert violations(GRANTS, package) == []
    package["grants"][0]["recipientOrganization"] = [{"id": "x", "name": "n", "email": "a@example.org"}]
    package["grants"][0]["title_en"] = "a language variant is allowed where its field is"
    package["grants"][0]["description"] = "write to someone@example.org"
    assert violations(GRANTS, package) == [
        "grants[].description: an e-mail address",
        "grants[].recipientOrganization[].email",
    ]
    with pytest.raises(NotPublishable):
        enforce(GRANTS, package)


def test_parties_are_named_by_registered_identifiers_or_under_the_publisher(
    app: Flask, client: FlaskClient, funded_world: DemoWorld
) -> None:
    _second_contract(client, funded_world)  # a funder without a credit code
    documents = _public_documents(client)
    text = b"".join(documents.values()).decode("utf-8")
    assert "XI-CFL" not in text
    records = json.loads(documents["ocds/records.json"])["records"]
    parties = {p["name"]: p for r in records for p in r["compiledRelease"]["parties"]}
    with app.app_context():
        codes = {o.name: o.credit_code for o in db.session.scalars(select(Organisation))}
    for name, party in parties.items():
        if codes.get(name):
            assert party["id"] == f"CN-USCI-{codes[name]}"
            assert party["identifier"] == {"scheme": "CN-USCI", "id": codes[name], "legalName": name}
        elif "identifier" in party:
            assert party["id"] == f"CN-USCI-{party['identifier']['id']}"
        else:
            assert party["id"].startswith("example-publisher-development-funder-"), party
    grants = json.loads(documents["360giving.json"])["grants"]
    for grant in grants:
        for organisation in grant["recipientOrganization"] + grant["fundingOrganization"]:
            assert organisation["id"].startswith(("CN-USCI-", "example-publisher-development-")), organisation


def test_grants_say_where_and_when(app: Flask, client: FlaskClient, funded_world: DemoWorld) -> None:
    grants = json.loads(_public_documents(client)["360giving.json"])["grants"]
    assert len(grants) == 2
    with app.app_context():
        communities = {
            o.name: db.session.get(Community, o.community_id)
            for o in db.session.scalars(select(Organisation))
        }
    for grant in grants:
        recipient = grant["recipientOrganization"][0]
        community = communities[recipient["name"]]
        assert community is not None
        location = {"name": community.name, "countryCode": "CN", "geoCode": community.code}
        assert recipient["location"] == [location]
        assert grant["beneficiaryLocation"] == [location]
        assert len(community.code) == 12
    # The dates come from the trail, not the clock: a second look gives the same bytes.
    assert _public_documents(client)["360giving.json"] == _public_documents(client)["360giving.json"]


def test_a_grant_is_dated_the_day_it_was_awarded(client: FlaskClient, world: DemoWorld) -> None:
    """``awardDate`` is the award day recorded on the fund, else the start of its period; never
    the day the fund was activated in the system (here: today, long after both)."""
    awarded = activated_fund(client, world, reference="FC-2026-201", awarded_on="2025-12-20")
    unrecorded = activated_fund(client, world, reference="FC-2026-202")
    dates = {}
    for fund in (awarded, unrecorded):
        package = client.get(
            f"/api/v1/exports/360giving?fund_id={fund['id']}", headers=world.auth("auditor")
        ).get_json()
        (grant,) = package["grants"]
        dates[fund["reference"]] = grant["awardDate"]
    assert dates == {"FC-2026-201": "2025-12-20", "FC-2026-202": "2026-01-01"}


def _texts(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, str):
        yield value


def test_grants_give_each_text_once_in_chinese(client: FlaskClient, funded_world: DemoWorld) -> None:
    """360Giving has no language variants: what the service names itself (programmes, categories)
    is Chinese, never "中文 English" run together. Titles people typed are published as typed."""
    grants = json.loads(_public_documents(client)["360giving.json"])["grants"]
    programmes = {g["grantProgramme"][0]["code"]: g["grantProgramme"][0]["title"] for g in grants}
    assert programmes == {"incubation_fund": "公益创投孵化资金", "lottery_grant": "彩票公益金资助"}
    categories = {
        c["code"]: c["title"]
        for g in grants
        for c in g["classifications"]
        if c["vocabulary"] == "community-fund-ledger:expense-category"
    }
    assert categories["ACTIVITY"] == "直接服务活动费"
    run_together = re.compile(r"[\u4e00-\u9fff][^\u4e00-\u9fff]*\b[A-Za-z]{3,} [A-Za-z]{3,}")
    named = [[g["grantProgramme"], g["classifications"]] for g in grants]
    assert [t for t in _texts(named) if run_together.search(t)] == []


def test_the_worker_publishes_what_a_change_implies(
    client: FlaskClient, funded_world: DemoWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """In production the background pass publishes after a change, once; without the settings it
    publishes nothing, says why in the log, and does its other work."""
    world = funded_world
    _second_contract(client, world)

    def published() -> list[str]:
        with world.app.app_context():
            return list(db.session.scalars(select(PublishedRelease.id).order_by(PublishedRelease.id)))

    before = published()
    some = {name: PUBLICATION[name] for name in ("LEDGER_PUBLISHER_NAME", "LEDGER_PUBLIC_URL")}
    with another_app(world, **PRODUCTION, **some) as app, app.app_context():
        assert run_once().published == 0
    assert "LEDGER_OCDS_PREFIX" in caplog.text
    assert published() == before
    with another_app(world, **PRODUCTION, **PUBLICATION) as app, app.app_context():
        first = run_once().published
        assert run_once().published == 0  # nothing changed since: nothing twice
        package = app.test_client().get("/public/ocds/releases.json").get_json()
    assert [r["id"] for r in package["releases"] if r["ocid"] == "ocds-ab12cd-GP-2026-101"] == [
        "ocds-ab12cd-GP-2026-101-contract"
    ]
    added = sorted(set(published()) - set(before))
    assert len(added) == first
    assert "ocds-ab12cd-GP-2026-101-contract" in added
