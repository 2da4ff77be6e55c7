"""Indexes that let the expense-report list read one page instead of sorting every report.

The list is newest first, by ``(created_at, id)``. Filtered by fund (the fund page, the API's
``fund_id``) or by organisation (a member sees their own), PostgreSQL and SQLite can now walk
``(fund_id, created_at, id)`` or ``(organisation_id, created_at, id)`` backwards and stop after a
page, where they sorted all of a fund's or an organisation's reports before.

Revision ID: 0008_report_list_indexes
Revises: 0007_idempotent_books
Create Date: 2026-11-28 02:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_report_list_indexes'
down_revision = '0007_idempotent_books'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_expense_report_fund_created', 'expense_report', ['fund_id', 'created_at', 'id'], unique=False
    )
    op.create_index(
        'ix_expense_report_organisation_created',
        'expense_report',
        ['organisation_id', 'created_at', 'id'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_expense_report_organisation_created', table_name='expense_report')
    op.drop_index('ix_expense_report_fund_created', table_name='expense_report')
