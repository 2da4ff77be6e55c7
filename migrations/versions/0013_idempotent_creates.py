"""``idempotent_create`` remembers the Idempotency-Key each community, organisation, user, fund and budget revision was created with.

A client that retries a create after a timeout gets the first thing back instead of a second
one. These tables have no creator column to scope a key by, so one row per (``created_by``,
``idempotency_key``) names what the key created, with the fingerprint of the first request; that
pair is the primary key, which makes two concurrent creates with one key end in one thing. Rows
are only ever added (the least-privilege role gets SELECT and INSERT).

Revision ID: 0013_idempotent_creates
Revises: 0012_report_idempotency
Create Date: 2026-11-29 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_idempotent_creates'
down_revision = '0012_report_idempotency'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotent_create',
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(
        "subject_type IN ('community', 'organisation', 'user', 'fund', 'budget_revision')",
        name=op.f('ck_idempotent_create_subject_type'),
    ),
    sa.PrimaryKeyConstraint('created_by', 'idempotency_key', name=op.f('pk_idempotent_create'))
    )


def downgrade():
    op.drop_table('idempotent_create')
