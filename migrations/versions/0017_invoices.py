"""Invoices on expense lines, and ``invoice_claim``: an invoice is claimed at most once.

``expense_line`` gains the receipt's kind (``receipt_kind``: digital_invoice, vat_invoice,
fiscal_receipt or plain_receipt; existing lines are plain receipts), what an invoice carries
(``invoice_code``, ``invoice_number``, ``invoice_date``, ``invoice_amount_minor``,
``seller_name``, ``seller_taxpayer_id``) and who verified it and when (``invoice_verified_by``,
``invoice_verified_at``), with an index on (invoice_date, invoice_amount_minor) for the
near-duplicate look-up.

``invoice_claim`` holds one row per invoice identity (kind, code or '', number) claimed by a
line of a report that is neither rejected nor voided; its unique constraint is what refuses a
second claim, also when two requests race. No existing line has an invoice, so there is nothing
to backfill and no audit entry is owed.

On SQLite ``expense_line`` is rebuilt (batch mode) to add its CHECK; nothing refers to it.

Revision ID: 0017_invoices
Revises: 0016_filed_organisations
Create Date: 2026-11-30 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0017_invoices'
down_revision = '0016_filed_organisations'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('expense_line', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('receipt_kind', sa.String(length=16), server_default='plain_receipt', nullable=False)
        )
        batch_op.add_column(sa.Column('invoice_code', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('invoice_number', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('invoice_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('invoice_amount_minor', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('seller_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('seller_taxpayer_id', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('invoice_verified_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('invoice_verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            'receipt_kind',
            "receipt_kind IN ('digital_invoice', 'vat_invoice', 'fiscal_receipt', 'plain_receipt')",
        )
        batch_op.create_index(
            'ix_expense_line_invoice_date_amount', ['invoice_date', 'invoice_amount_minor'], unique=False
        )

    op.create_table('invoice_claim',
    sa.Column('receipt_kind', sa.String(length=16), nullable=False),
    sa.Column('invoice_code', sa.String(length=12), nullable=False),
    sa.Column('invoice_number', sa.String(length=20), nullable=False),
    sa.Column('line_id', sa.Uuid(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint(
        "receipt_kind IN ('digital_invoice', 'vat_invoice', 'fiscal_receipt')",
        name=op.f('ck_invoice_claim_receipt_kind'),
    ),
    sa.ForeignKeyConstraint(['line_id'], ['expense_line.id'], name=op.f('fk_invoice_claim_line_id_expense_line'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_invoice_claim_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['report_id'], ['expense_report.id'], name=op.f('fk_invoice_claim_report_id_expense_report'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_claim')),
    sa.UniqueConstraint(
        'receipt_kind', 'invoice_code', 'invoice_number',
        name=op.f('uq_invoice_claim_receipt_kind_invoice_code_invoice_number'),
    ),
    )
    op.create_index('ix_invoice_claim_report', 'invoice_claim', ['report_id'], unique=False)


def downgrade():
    op.drop_index('ix_invoice_claim_report', table_name='invoice_claim')
    op.drop_table('invoice_claim')
    with op.batch_alter_table('expense_line', schema=None) as batch_op:
        batch_op.drop_index('ix_expense_line_invoice_date_amount')
        batch_op.drop_constraint(op.f('ck_expense_line_receipt_kind'), type_='check')
        for name in (
            'invoice_verified_at', 'invoice_verified_by', 'seller_taxpayer_id', 'seller_name',
            'invoice_amount_minor', 'invoice_date', 'invoice_number', 'invoice_code', 'receipt_kind',
        ):
            batch_op.drop_column(name)
