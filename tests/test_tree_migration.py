"""Migration 0015 carries a deployment's data into the administrative tree, and back.

The database is built at 0014_divisions and filled with raw SQL as a deployment of that time held
it: communities with free-text codes and districts, one of them already coded with a leaf of a
loaded division list, an organisation, a staff member and an organisation member.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from ledger import create_app
from ledger.extensions import db
from tests.conftest import settings_for_tests

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
IDS = {name: uuid.uuid5(uuid.NAMESPACE_URL, f"tree-migration/{name}") for name in (
    "leaf", "jiangan_a", "jiangan_b", "huangpi", "organisation", "staff", "member",
)}  # fmt: skip

COMMUNITY = sa.table(
    "community",
    sa.column("id", sa.Uuid()),
    sa.column("code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("district", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("version", sa.Integer()),
)
ORGANISATION = sa.table(
    "organisation",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("credit_code", sa.String()),
    sa.column("registration_type", sa.String()),
    sa.column("community_id", sa.Uuid()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("version", sa.Integer()),
)
USER = sa.table(
    "app_user",
    sa.column("id", sa.Uuid()),
    sa.column("username", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("role", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("is_active", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("password_changed_at", sa.DateTime(timezone=True)),
    sa.column("version", sa.Integer()),
)
MEMBERSHIP = sa.table(
    "membership",
    sa.column("user_id", sa.Uuid()),
    sa.column("organisation_id", sa.Uuid()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
DIVISIONS = [
    ("420000000000", "湖北省", None, "province", None),
    ("420100000000", "武汉市", "420000000000", "city", None),
    ("420102000000", "江岸区", "420100000000", "county", None),
    ("420102012000", "后湖街道", "420102000000", "township", None),
    ("420102012001", "百步亭花园社区", "420102012000", "community", "111"),
]


def _today_s_data(connection: sa.Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO division_list (version, year, name, source, content_sha256) "
            "VALUES ('WH-2023', 2023, '武汉市 2023', 'test', :sha)"
        ),
        {"sha": "0" * 64},
    )
    for code, name, parent, level, urban_rural_class in DIVISIONS:
        connection.execute(
            sa.text(
                "INSERT INTO division (list_version, code, name, parent_code, level, urban_rural_class) "
                "VALUES ('WH-2023', :code, :name, :parent, :level, :class)"
            ),
            {"code": code, "name": name, "parent": parent, "level": level, "class": urban_rural_class},
        )
    communities = [
        ("leaf", "420102012001", "百步亭花园社区", "urban", "江岸区"),
        ("jiangan_a", "JA-07", "球场街社区", "urban", "江岸区"),
        ("jiangan_b", "JA-12", "塔子湖村", "rural", "江岸区"),
        ("huangpi", "HP-3", "木兰村", "rural", "黄陂区"),
    ]
    for key, code, name, kind, district in communities:
        connection.execute(
            COMMUNITY.insert().values(
                id=IDS[key], code=code, name=name, kind=kind, district=district, created_at=NOW, version=1
            )
        )
    connection.execute(
        ORGANISATION.insert().values(
            id=IDS["organisation"],
            name="球场街志愿者协会",
            credit_code="51420000MJH200395N",
            registration_type="social_group",
            community_id=IDS["jiangan_a"],
            created_at=NOW,
            version=1,
        )
    )
    for key, role in (("staff", "finance_officer"), ("member", "org_member")):
        connection.execute(
            USER.insert().values(
                id=IDS[key],
                username=key,
                display_name=key,
                role=role,
                password_hash="x",
                is_active=True,
                created_at=NOW,
                password_changed_at=NOW,
                version=1,
            )
        )
    connection.execute(
        MEMBERSHIP.insert().values(user_id=IDS["member"], organisation_id=IDS["organisation"], created_at=NOW)
    )


def _communities(connection: sa.Connection, *columns: str) -> dict[uuid.UUID, tuple[Any, ...]]:
    table = sa.table("community", sa.column("id", sa.Uuid()), *(sa.column(c) for c in columns))
    rows = connection.execute(sa.select(table.c.id, *(table.c[c] for c in columns))).all()
    by_key = {value: key for key, value in IDS.items()}
    return {by_key[row[0]]: tuple(row[1:]) for row in rows}


def test_today_s_data_moves_into_the_tree_and_back(tmp_path: Path, empty_database_url: str) -> None:
    app = create_app(settings_for_tests(empty_database_url, tmp_path))
    with app.app_context():
        upgrade(revision="0014_divisions")
        with db.engine.begin() as connection:
            _today_s_data(connection)
        upgrade()
        with db.engine.connect() as connection:
            assert _communities(connection, "code", "division_list", "former_code", "name", "kind") == {
                "leaf": ("420102012001", "WH-2023", None, "百步亭花园社区", "urban"),
                # One county per district in PRE-TREE, in the districts' order (江岸区, 黄陂区).
                "jiangan_a": ("990101001001", "PRE-TREE", "JA-07", "球场街社区", "urban"),
                "jiangan_b": ("990101001002", "PRE-TREE", "JA-12", "塔子湖村", "rural"),
                "huangpi": ("990102001001", "PRE-TREE", "HP-3", "木兰村", "rural"),
            }
            pre_tree = connection.execute(
                sa.text(
                    "SELECT code, name, parent_code, level, urban_rural_class FROM division "
                    "WHERE list_version = 'PRE-TREE' ORDER BY code"
                )
            ).all()
            assert [tuple(row) for row in pre_tree] == [
                ("990000000000", "区划待定 To be placed", None, "province", None),
                ("990100000000", "区划待定 To be placed", "990000000000", "city", None),
                ("990101000000", "江岸区", "990100000000", "county", None),
                ("990101001000", "江岸区（街道待定 street to be placed）", "990101000000", "township", None),
                ("990101001001", "球场街社区", "990101001000", "community", "111"),
                ("990101001002", "塔子湖村", "990101001000", "community", "220"),
                ("990102000000", "黄陂区", "990100000000", "county", None),
                ("990102001000", "黄陂区（街道待定 street to be placed）", "990102000000", "township", None),
                ("990102001001", "木兰村", "990102001000", "community", "220"),
            ]
            scopes = connection.execute(sa.text("SELECT user_id, division_code FROM staff_scope")).all()
            assert [(uuid.UUID(str(user)), code) for user, code in scopes] == [(IDS["staff"], None)]
            organisation = connection.execute(sa.text("SELECT name FROM organisation")).scalar_one()
            assert organisation == "球场街志愿者协会"

        downgrade(revision="0014_divisions")
        with db.engine.connect() as connection:
            assert _communities(connection, "code", "district", "name") == {
                "leaf": ("420102012001", "江岸区", "百步亭花园社区"),
                "jiangan_a": ("JA-07", "江岸区", "球场街社区"),
                "jiangan_b": ("JA-12", "江岸区", "塔子湖村"),
                "huangpi": ("HP-3", "黄陂区", "木兰村"),
            }
            tables = sa.inspect(connection).get_table_names()
            assert "staff_scope" not in tables
        db.engine.dispose()
