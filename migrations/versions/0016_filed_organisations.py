"""Filed (备案) organisations and each organisation's status history.

Most community social organisations are filed with the street office or township government
rather than registered with civil affairs: they have no Unified Social Credit Code. So:

- ``organisation`` gains ``status`` (filed | registered | deregistered; existing rows are
  registered), the filing details (``filing_number``, unique per issuing office
  ``filing_office_code``, ``filed_on``, ``filing_category``) and ``money_held_by`` (the hub or
  community holding the money of an organisation without a bank account, 代管);
  ``credit_code`` becomes nullable. CHECKs keep a registered organisation's credit code and a
  filed organisation's complete filing (and no credit code).
- ``organisation_status_change`` is the append-only history of statuses on their business
  dates. Each existing organisation gets one 'registered' row effective on the (UTC) date it
  was created, reason 'recorded before status history'. Triggers refuse UPDATE, TRUNCATE and any
  DELETE of the history of an organisation that still exists; its foreign key is checked at
  commit, so that removing an organisation entered by mistake takes its rows with it in the
  same transaction (the service removes the organisation first, then its rows).

SQLite cannot drop a NOT NULL or add a CHECK without rebuilding the table, and rebuilding
``organisation`` is refused while funds, books and members refer to it (its DROP runs their
ON DELETE RESTRICT). So on SQLite the new columns are added in place and the table's definition
is rewritten in ``sqlite_master`` (the documented writable_schema procedure for constraints that
do not change how rows are stored), and the filing number's uniqueness is a unique index of the
constraint's name. The rows this migration writes were carried by no audit entry: run
``ledger audit baseline`` after upgrading a database that has organisations.

Revision ID: 0016_filed_organisations
Revises: 0015_administrative_tree
Create Date: 2026-11-30 10:00:00.000000

"""
from datetime import UTC, datetime
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_filed_organisations'
down_revision = '0015_administrative_tree'
branch_labels = None
depends_on = None

NEW_COLUMNS = (
    ('filing_number', sa.String(length=64)),
    ('filing_office_code', sa.String(length=12)),
    ('filed_on', sa.Date()),
    ('filing_category', sa.String(length=16)),
    ('money_held_by', sa.String(length=200)),
)

CHECKS = {
    'status': "status IN ('filed', 'registered', 'deregistered')",
    'filing_category': (
        "filing_category IS NULL OR filing_category IN "
        "('life_services', 'charity', 'culture_sports', 'mediation', 'other')"
    ),
    'filing_complete': (
        "(filing_number IS NULL) = (filing_office_code IS NULL) "
        "AND (filing_number IS NULL) = (filed_on IS NULL) "
        "AND (filing_number IS NULL) = (filing_category IS NULL)"
    ),
    'status_details': (
        "(status <> 'registered' OR credit_code IS NOT NULL) "
        "AND (status <> 'filed' OR (credit_code IS NULL AND filing_number IS NOT NULL))"
    ),
}

# ``organisation`` as 0001 created it on SQLite, then as this revision leaves it.
SQLITE_COLUMNS = [
    'name', 'credit_code', 'registration_type', 'community_id', 'created_at', 'id', 'version',
    'status', 'filing_number', 'filing_office_code', 'filed_on', 'filing_category', 'money_held_by',
]


def _sqlite_table(credit_code_null, checks, status_default):
    lines = [
        "name VARCHAR(200) NOT NULL",
        f"credit_code VARCHAR(18){'' if credit_code_null else ' NOT NULL'}",
        "registration_type VARCHAR(32) NOT NULL",
        "community_id CHAR(32) NOT NULL",
        "created_at DATETIME NOT NULL",
        "id CHAR(32) NOT NULL",
        "version INTEGER NOT NULL",
        f"status VARCHAR(16) NOT NULL{status_default}",
        "filing_number VARCHAR(64)",
        "filing_office_code VARCHAR(12)",
        "filed_on DATE",
        "filing_category VARCHAR(16)",
        "money_held_by VARCHAR(200)",
        "CONSTRAINT pk_organisation PRIMARY KEY (id)",
        "CONSTRAINT ck_organisation_registration_type CHECK (registration_type IN "
        "('social_group', 'social_service_organisation', 'foundation', 'other'))",
        "CONSTRAINT ck_organisation_credit_code_length CHECK (length(credit_code) = 18)",
        *(f"CONSTRAINT ck_organisation_{name} CHECK ({rule})" for name, rule in checks.items()),
        "CONSTRAINT fk_organisation_community_id_community FOREIGN KEY(community_id) "
        "REFERENCES community (id) ON DELETE RESTRICT",
        "CONSTRAINT uq_organisation_credit_code UNIQUE (credit_code)",
    ]
    return "CREATE TABLE organisation (\n\t" + ", \n\t".join(lines) + "\n)"


def _rewrite_sqlite_table(sql):
    """Replace ``organisation``'s definition in place (https://sqlite.org/lang_altertable.html,
    "making other kinds of table schema changes"): only constraints change, never how a row is
    stored, and the rows already satisfy the new constraints."""
    bind = op.get_bind()
    columns = [row[1] for row in bind.exec_driver_sql("PRAGMA table_info(organisation)")]
    if columns != SQLITE_COLUMNS:
        raise RuntimeError(f"organisation has columns {columns}, expected {SQLITE_COLUMNS}")
    schema_version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'organisation'", (sql,)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {schema_version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ['ok']:
        raise RuntimeError(f"organisation rewritten, integrity check says {problems}")


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    organisation = sa.table(
        'organisation',
        sa.column('id', sa.Uuid()),
        sa.column('status', sa.String()),
        sa.column('credit_code', sa.String()),
        sa.column('created_at', sa.DateTime(timezone=True)),
    )
    with op.batch_alter_table('organisation', schema=None, recreate='never') as batch_op:
        batch_op.add_column(
            sa.Column('status', sa.String(length=16), nullable=False, server_default='registered')
        )
        for name, type_ in NEW_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    # Stored in every row, not only as the column's default (which is dropped below).
    op.execute(organisation.update().values(status='registered'))
    if postgresql:
        op.alter_column('organisation', 'status', server_default=None)
        op.alter_column('organisation', 'credit_code', existing_type=sa.String(length=18), nullable=True)
        for name, rule in CHECKS.items():
            op.create_check_constraint(op.f(f'ck_organisation_{name}'), 'organisation', rule)
        op.create_unique_constraint(
            op.f('uq_organisation_filing_office_code_filing_number'),
            'organisation',
            ['filing_office_code', 'filing_number'],
        )
    else:
        _rewrite_sqlite_table(_sqlite_table(credit_code_null=True, checks=CHECKS, status_default=''))
        op.create_index(
            op.f('uq_organisation_filing_office_code_filing_number'),
            'organisation',
            ['filing_office_code', 'filing_number'],
            unique=True,
        )

    op.create_table('organisation_status_change',
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint(
        "status IN ('filed', 'registered', 'deregistered')", name=op.f('ck_organisation_status_change_status')
    ),
    sa.ForeignKeyConstraint(
        ['organisation_id'], ['organisation.id'],
        name=op.f('fk_organisation_status_change_organisation_id_organisation'),
        deferrable=True, initially='DEFERRED',
    ),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_status_change'))
    )
    op.create_index(
        op.f('ix_organisation_status_change_organisation_id'),
        'organisation_status_change',
        ['organisation_id'],
        unique=False,
    )

    history = sa.table(
        'organisation_status_change',
        sa.column('id', sa.Uuid()),
        sa.column('organisation_id', sa.Uuid()),
        sa.column('status', sa.String()),
        sa.column('effective_on', sa.Date()),
        sa.column('recorded_at', sa.DateTime(timezone=True)),
        sa.column('credit_code', sa.String()),
        sa.column('reason', sa.Text()),
    )
    existing = op.get_bind().execute(
        sa.select(organisation.c.id, organisation.c.credit_code, organisation.c.created_at)
    ).all()
    rows = [
        {
            'id': uuid.uuid4(),
            'organisation_id': row.id,
            'status': 'registered',
            'effective_on': _utc(row.created_at).date(),
            'recorded_at': _utc(row.created_at),
            'credit_code': row.credit_code,
            'reason': 'recorded before status history',
        }
        for row in existing
    ]
    # The triggers first: PostgreSQL refuses to alter a table with foreign-key checks pending.
    make_history_append_only('organisation_status_change')
    if rows:
        op.bulk_insert(history, rows)


def _utc(moment):
    """Timestamps are stored in UTC; SQLite hands them back without a zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def make_history_append_only(table):
    """Refuse UPDATE, TRUNCATE, and DELETE of rows whose organisation still exists.

    The same triggers as ``make_append_only`` in 0002 (copied, not imported), but for one rule:
    the rows of an organisation removed in the same transaction may go with it.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION refuse_{table}_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND NOT EXISTS (
                    SELECT 1 FROM organisation WHERE id = OLD.organisation_id
                ) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION refuse_{table}_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only")
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")
    else:
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "WHEN EXISTS (SELECT 1 FROM organisation WHERE id = OLD.organisation_id) "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END"
        )


def drop_history_append_only(table):
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS refuse_{table}_change()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def downgrade():
    """Back to registered organisations only: refused while a filed organisation has no credit code."""
    drop_history_append_only('organisation_status_change')
    op.drop_index(op.f('ix_organisation_status_change_organisation_id'), table_name='organisation_status_change')
    op.drop_table('organisation_status_change')
    without_code = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM organisation WHERE credit_code IS NULL"
    ).scalar()
    if without_code:
        raise RuntimeError(f"{without_code} organisation(s) have no credit code; 0014 requires one")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f('uq_organisation_filing_office_code_filing_number'), 'organisation', type_='unique')
        for name in CHECKS:
            op.drop_constraint(op.f(f'ck_organisation_{name}'), 'organisation', type_='check')
        op.alter_column('organisation', 'credit_code', existing_type=sa.String(length=18), nullable=False)
        for name, _type in NEW_COLUMNS:
            op.drop_column('organisation', name)
        op.drop_column('organisation', 'status')
    else:
        op.drop_index(op.f('uq_organisation_filing_office_code_filing_number'), table_name='organisation')
        _rewrite_sqlite_table(_sqlite_table(credit_code_null=False, checks={}, status_default=''))
        for name in [*(name for name, _type in reversed(NEW_COLUMNS)), 'status']:
            op.execute(f"ALTER TABLE organisation DROP COLUMN {name}")
