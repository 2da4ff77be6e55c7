"""Published OCDS releases, and the fund dates they are dated by.

``ocds_release`` keeps each OCDS release exactly as it was published (append-only: triggers
refuse UPDATE, DELETE and TRUNCATE, and the application's role may only read and add; replayed
from the ``ocds.published`` audit entries like every business table). ``fund`` gains ``awarded_on``
and ``signed_on`` (the days the award was decided and the contract signed; NULL means the
period's start, which is what the exports used before) and ``closed_at`` (the moment a fund was
closed; NULL for funds closed before this revision, whose termination is then dated by their
last payment, as before). Nothing was published before, so there is nothing to backfill.

Revision ID: 0020_published_releases
Revises: 0019_notifications
Create Date: 2026-11-29 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_published_releases'
down_revision = '0019_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ocds_release',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('ocid', sa.String(length=100), nullable=False),
    sa.Column('fund_id', sa.Uuid(), nullable=False),
    sa.Column('event', sa.String(length=120), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['fund_id'], ['fund.id'], name=op.f('fk_ocds_release_fund_id_fund'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocds_release')),
    )
    op.create_index('ix_ocds_release_fund_event', 'ocds_release', ['fund_id', 'event', 'released_at'], unique=False)
    make_append_only('ocds_release')
    with op.batch_alter_table('fund', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('awarded_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('signed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))


def make_append_only(table):
    """Refuse UPDATE, DELETE and TRUNCATE on ``table``: a published release is never changed.

    The same triggers as ``make_append_only`` in 0002 (copied, not imported, so that this
    migration never changes behind its back).
    """
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
    with op.batch_alter_table('fund', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('closed_at')
        batch_op.drop_column('signed_on')
        batch_op.drop_column('awarded_on')
    drop_append_only('ocds_release')
    op.drop_index('ix_ocds_release_fund_event', table_name='ocds_release')
    op.drop_table('ocds_release')
