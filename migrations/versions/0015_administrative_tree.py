"""Communities become leaves of the administrative tree; staff hold their role at nodes of it.

- ``community.district`` (free text) is replaced by the community's place in a division list:
  ``code`` becomes a 12-digit division code and ``division_list`` the list's version, with a
  foreign key to ``division``. A community whose code already is a community-level division of a
  loaded list keeps it. Every other community is placed, under its district, in a list made by
  this migration, ``PRE-TREE``: province 99 "区划待定" (to be placed), one county per district
  (named as the district was), one street per county, one community per community (named as
  before, class 111 if urban, 220 if rural). Its old code is kept in ``former_code``. An admin
  moves each to its real code later (PATCH the community's code); its organisations and history
  go with it. Nothing is lost: district names are the counties' names of ``PRE-TREE``.
- ``staff_scope``: the nodes a staff member's role is held at; NULL is the whole deployment.
  Every existing staff member gets the whole deployment, which is what their role meant before.
- ``app_user.role`` admits ``supervisor`` (civil-affairs staff who read their area).
- ``fund.funding_division_code``: the funding body's node; NULL (the whole deployment) for the
  funds drafted before.

The rows this migration writes carry no audit entry; run ``ledger audit baseline`` once after
upgrading (docs/administrative-tree.md), as after any upgrade that changes rows.

Revision ID: 0015_administrative_tree
Revises: 0014_divisions
Create Date: 2026-11-28 23:20:00.000000

"""
import hashlib
import uuid
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_administrative_tree'
down_revision = '0014_divisions'
branch_labels = None
depends_on = None

PRE_TREE = "PRE-TREE"
ROLE_BEFORE = "role IN ('admin', 'finance_officer', 'auditor', 'org_member')"
ROLE_AFTER = "role IN ('admin', 'finance_officer', 'auditor', 'supervisor', 'org_member')"
DIVISION_FK = (
    "CONSTRAINT fk_community_division_list_division FOREIGN KEY(division_list, code) "
    "REFERENCES division (list_version, code)"
)


def upgrade():
    connection = op.get_bind()
    now = datetime.now(timezone.utc)

    op.create_table('staff_scope',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('division_code', sa.String(length=12), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_staff_scope_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_scope')),
    sa.UniqueConstraint('user_id', 'division_code', name=op.f('uq_staff_scope_user_id_division_code'))
    )
    op.create_index(op.f('ix_staff_scope_user_id'), 'staff_scope', ['user_id'], unique=False)
    staff = connection.execute(sa.text("SELECT id FROM app_user WHERE role <> 'org_member'")).scalars().all()
    scope = sa.table(
        'staff_scope',
        sa.column('id', sa.Uuid()),
        sa.column('user_id', sa.Uuid()),
        sa.column('division_code', sa.String()),
        sa.column('created_at', sa.DateTime(timezone=True)),
    )
    for user_id in staff:
        connection.execute(
            scope.insert().values(id=uuid.uuid4(), user_id=_uuid(user_id), division_code=None, created_at=now)
        )

    _replace_check('app_user', 'ck_app_user_role', ROLE_BEFORE, ROLE_AFTER)

    with op.batch_alter_table('fund', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('funding_division_code', sa.String(length=12), nullable=True))

    with op.batch_alter_table('community', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('division_list', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('former_code', sa.String(length=32), nullable=True))
    _place_communities(connection)
    op.drop_index('ix_community_district', table_name='community')
    with op.batch_alter_table('community', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('district')
    if connection.dialect.name == "postgresql":
        op.alter_column('community', 'division_list', nullable=False)
        op.create_foreign_key(
            op.f('fk_community_division_list_division'), 'community', 'division',
            ['division_list', 'code'], ['list_version', 'code'],
        )
    else:
        _edit_sqlite_table(
            'community',
            lambda sql: sql.replace("division_list VARCHAR(32)", "division_list VARCHAR(32) NOT NULL", 1)
            .rstrip().removesuffix(")") + ", " + DIVISION_FK + ")",
        )


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _place_communities(connection):
    """Give every community its division: its own code if a list holds it, else one in PRE-TREE."""
    rows = connection.execute(
        sa.text("SELECT id, code, name, kind, district FROM community ORDER BY district, code")
    ).all()
    leaves = dict(
        connection.execute(
            sa.text(
                "SELECT d.code, d.list_version FROM division d JOIN division_list l ON l.version = d.list_version "
                "WHERE d.level = 'community' ORDER BY l.year, l.version"
            )
        ).all()
    )  # the latest list holding each code wins
    unplaced = [r for r in rows if r.code not in leaves]
    for row in rows:
        if row.code in leaves:
            connection.execute(
                sa.text("UPDATE community SET division_list = :v WHERE id = :id"),
                {"v": leaves[row.code], "id": row.id},
            )
    if not unplaced:
        return
    divisions = [("990000000000", "区划待定 To be placed", None, "province", None)]
    districts = sorted({r.district for r in unplaced})
    cities = set()
    placed = {}
    for index, district in enumerate(districts):
        city = f"99{1 + index // 99:02d}00000000"
        county = f"99{1 + index // 99:02d}{1 + index % 99:02d}000000"
        street = county[:6] + "001000"
        if city not in cities:
            cities.add(city)
            divisions.append((city, "区划待定 To be placed", "990000000000", "city", None))
        divisions.append((county, district, city, "county", None))
        divisions.append((street, f"{district}（街道待定 street to be placed）", county, "township", None))
        members = [r for r in unplaced if r.district == district]
        if len(members) > 999:
            raise RuntimeError(f"district {district!r} has more than 999 communities to place")
        for number, row in enumerate(members, start=1):
            code = street[:9] + f"{number:03d}"
            divisions.append((code, row.name, street, "community", "111" if row.kind == "urban" else "220"))
            placed[row.id] = (code, row.code)
    digest = hashlib.sha256("\n".join(",".join(str(v or "") for v in d) for d in divisions).encode()).hexdigest()
    connection.execute(
        sa.text(
            "INSERT INTO division_list (version, year, name, source, content_sha256) "
            "VALUES (:version, :year, :name, :source, :sha)"
        ),
        {
            "version": PRE_TREE,
            "year": 1,  # never the latest list: new communities are read from real lists
            "name": "区划待定的社区 Communities entered before the administrative tree",
            "source": "migration 0015_administrative_tree, from each community's free-text district",
            "sha": digest,
        },
    )
    for code, name, parent, level, urban_rural_class in divisions:
        connection.execute(
            sa.text(
                "INSERT INTO division (list_version, code, name, parent_code, level, urban_rural_class) "
                "VALUES (:v, :code, :name, :parent, :level, :class)"
            ),
            {"v": PRE_TREE, "code": code, "name": name, "parent": parent, "level": level, "class": urban_rural_class},
        )
    for community_id, (code, former) in placed.items():
        connection.execute(
            sa.text("UPDATE community SET code = :code, division_list = :v, former_code = :former WHERE id = :id"),
            {"code": code, "v": PRE_TREE, "former": former, "id": community_id},
        )


def _replace_check(table, name, before, after):
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(op.f(name), table, after)
        return
    _edit_sqlite_table(table, lambda sql: _replaced(sql, before, after, table))


def _replaced(sql, before, after, table):
    if before not in sql:
        raise RuntimeError(f"{table}: the constraint is not as migration 0015 expects")
    return sql.replace(before, after)


def _edit_sqlite_table(table, edit):
    """SQLite keeps each table's CREATE statement as text: change the text (constraints only)."""
    connection = op.get_bind()
    stored = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (edit(stored), table)
    )
    connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.drop_constraint(op.f('fk_community_division_list_division'), 'community', type_='foreignkey')
    else:
        _edit_sqlite_table(
            'community',
            lambda sql: sql.replace(", " + DIVISION_FK, "").replace(
                "division_list VARCHAR(32) NOT NULL", "division_list VARCHAR(32)", 1
            ),
        )
    with op.batch_alter_table('community', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('district', sa.String(length=200), nullable=True))
    # The district is the county's name in the community's list; a former code comes back.
    connection.execute(
        sa.text(
            "UPDATE community SET district = COALESCE((SELECT d.name FROM division d "
            "WHERE d.list_version = community.division_list AND d.code = substr(community.code, 1, 6) || '000000'), "
            "substr(community.code, 1, 6)), code = COALESCE(former_code, code)"
        )
    )
    op.create_index('ix_community_district', 'community', ['district'], unique=False)
    with op.batch_alter_table('community', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('former_code')
        batch_op.drop_column('division_list')
    if connection.dialect.name == "postgresql":
        op.alter_column('community', 'district', nullable=False)
    with op.batch_alter_table('fund', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('funding_division_code')
    # Before the tree there were no supervisors: the nearest read-only role is the auditor's.
    connection.execute(sa.text("UPDATE app_user SET role = 'auditor' WHERE role = 'supervisor'"))
    _replace_check('app_user', 'ck_app_user_role', ROLE_AFTER, ROLE_BEFORE)
    op.drop_index(op.f('ix_staff_scope_user_id'), table_name='staff_scope')
    op.drop_table('staff_scope')
