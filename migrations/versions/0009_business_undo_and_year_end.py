"""Undoing business events as business actions, year-end closing, and cash-flow lines.

- ``journal_entry.source`` may be ``year_end_close``: the entries that close a year's revenue
  and expenses into net assets (年末结转).
- ``journal_entry.cash_flow_line`` names the line of the cash-flow statement (会民非03表) that a
  finance officer's adjustment touching cash belongs to; entries made by events are classified
  by their event.
- ``expense_report.status`` may be ``voided`` (an approved report withdrawn by a finance
  officer, its bookings reversed), with who voided it and when.
- ``disbursement.status`` may be ``reversed`` (a paid disbursement the bank returned), with the
  date and the reason.

Only CHECK constraints widen, so existing rows satisfy them. PostgreSQL drops and re-adds them.
SQLite cannot alter a constraint without rebuilding the table (and its append-only triggers);
for a change that existing rows already satisfy, SQLite documents editing the stored table
definition instead (https://sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema
Changes"), which is what this migration does there.

Revision ID: 0009_business_undo_and_year_end
Revises: 0008_report_list_indexes
Create Date: 2026-11-28 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_business_undo_and_year_end'
down_revision = '0008_report_list_indexes'
branch_labels = None
depends_on = None


JOURNAL_SOURCES_BEFORE = (
    "source IN ('disbursement_paid', 'expense_approved', 'restricted_release', 'refund', "
    "'adjustment', 'reversal')"
)
JOURNAL_SOURCES_AFTER = (
    "source IN ('disbursement_paid', 'expense_approved', 'restricted_release', 'refund', "
    "'adjustment', 'reversal', 'year_end_close')"
)
REPORT_STATUS_BEFORE = "status IN ('draft', 'submitted', 'approved', 'returned', 'rejected')"
REPORT_STATUS_AFTER = "status IN ('draft', 'submitted', 'approved', 'returned', 'rejected', 'voided')"
DISBURSEMENT_STATUS_BEFORE = "status IN ('prepared', 'approved', 'paid', 'cancelled')"
DISBURSEMENT_STATUS_AFTER = "status IN ('prepared', 'approved', 'paid', 'cancelled', 'reversed')"

CHECKS = (
    ("journal_entry", "ck_journal_entry_source", JOURNAL_SOURCES_BEFORE, JOURNAL_SOURCES_AFTER),
    ("expense_report", "ck_expense_report_status", REPORT_STATUS_BEFORE, REPORT_STATUS_AFTER),
    ("disbursement", "ck_disbursement_status", DISBURSEMENT_STATUS_BEFORE, DISBURSEMENT_STATUS_AFTER),
)


def upgrade():
    for table, name, before, after in CHECKS:
        _replace_check(table, name, before, after)
    with op.batch_alter_table('journal_entry', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('cash_flow_line', sa.String(length=48), nullable=True))
    with op.batch_alter_table('expense_report', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('voided_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('disbursement', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('reversed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reversal_reason', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('disbursement', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('reversal_reason')
        batch_op.drop_column('reversed_on')
    with op.batch_alter_table('expense_report', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('voided_at')
        batch_op.drop_column('voided_by')
    with op.batch_alter_table('journal_entry', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('cash_flow_line')
    for table, name, before, after in reversed(CHECKS):
        _replace_check(table, name, after, before)


def _replace_check(table, name, before, after):
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(op.f(name), table, after)
        return
    # SQLite keeps each table's CREATE statement as text; only the constraint's text changes.
    connection = op.get_bind()
    stored = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    if before not in stored:
        raise RuntimeError(f"{table}: the constraint {name} is not as migration 0009 expects")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
        (stored.replace(before, after), table),
    )
    connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
