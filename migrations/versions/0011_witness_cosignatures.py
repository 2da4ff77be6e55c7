"""Witness cosignatures: ``witness_cosignature`` keeps each witness's cosignature of a checkpoint.

One row per checkpoint (by its size) and witness key (C2SP tlog-cosignature line, exactly as the
witness sent it). No foreign key to ``audit_checkpoint``: a TRUNCATE of that table must be refused
by its append-only trigger, which a referencing table would pre-empt with a foreign-key error. Append-only like ``audit_checkpoint``: triggers refuse UPDATE, DELETE and (PostgreSQL)
TRUNCATE, ENABLE ALWAYS on PostgreSQL; the least-privilege role gets SELECT and INSERT only
(deploy/postgres-app-role.sql).

Revision ID: 0011_witness_cosignatures
Revises: 0010_receipt_file_digests
Create Date: 2026-11-28 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_witness_cosignatures'
down_revision = '0010_receipt_file_digests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('witness_cosignature',
    sa.Column('size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('key_name', sa.String(length=200), nullable=False),
    sa.Column('key_id', sa.String(length=8), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('size', 'key_name', 'key_id', name=op.f('pk_witness_cosignature'))
    )
    make_append_only('witness_cosignature')


def make_append_only(table):
    """Refuse UPDATE, DELETE and TRUNCATE on ``table`` (copied from 0002, not imported, so that
    this migration never changes behind its back)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION refuse_append_only_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only")
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
            )


def drop_append_only(table):
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def downgrade():
    drop_append_only('witness_cosignature')
    op.drop_table('witness_cosignature')
