"""Receipts record the SHA-256 of their stored (encrypted) file.

``receipt.stored_sha256`` is written, and recorded in the audit trail, when the file is stored,
so that ``ledger audit verify`` finds a stored file changed on disk without decrypting it.
Receipts stored before this revision keep NULL and are not checked (their content is still
checked against their name whenever they are read).

Revision ID: 0010_receipt_file_digests
Revises: 0009_business_undo_and_year_end
Create Date: 2026-11-28 15:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_receipt_file_digests'
down_revision = '0009_business_undo_and_year_end'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('receipt', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('stored_sha256', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('receipt', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('stored_sha256')
