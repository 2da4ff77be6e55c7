"""Expense reports remember the Idempotency-Key they were created with.

A client that retries a create after a timeout gets the first report back instead of a second
draft. ``idempotency_key`` and ``request_hash`` (the fingerprint of the first request) are NULL
for reports created before this revision; a unique index on (``filed_by``, ``idempotency_key``)
makes two concurrent creates with one key end in one report.

Revision ID: 0012_report_idempotency
Revises: 0011_witness_cosignatures
Create Date: 2026-11-28 18:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_report_idempotency'
down_revision = '0011_witness_cosignatures'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('expense_report', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('request_hash', sa.String(length=64), nullable=True))
    op.create_index(
        'ix_expense_report_idempotency', 'expense_report', ['filed_by', 'idempotency_key'], unique=True
    )


def downgrade():
    op.drop_index('ix_expense_report_idempotency', table_name='expense_report')
    with op.batch_alter_table('expense_report', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('request_hash')
        batch_op.drop_column('idempotency_key')
