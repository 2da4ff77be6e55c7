"""Idempotency keys on journal entries, month-close balances, and postings tied to their fund.

- ``journal_entry`` gains ``idempotency_key`` and ``request_hash``, unique per person, so a
  retried refund or adjustment finds the entry its first attempt posted.
- ``period_balance`` holds each account's movement in a month, taken when the month is closed;
  append-only like the journal.
- A posting's fund must exist and belong to the posting's organisation. PostgreSQL gets a
  composite foreign key to ``fund (id, organisation_id)``. SQLite cannot add a foreign key to
  an existing table without rebuilding it (and its append-only and balance triggers), so there
  a trigger refuses the insert instead.

Revision ID: 0007_idempotent_books
Revises: 0006_expense_reports
Create Date: 2026-11-27 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_idempotent_books'
down_revision = '0006_expense_reports'
branch_labels = None
depends_on = None


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table('journal_entry', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('request_hash', sa.String(length=64), nullable=True))
    if postgresql:
        op.create_unique_constraint(
            op.f('uq_journal_entry_created_by_idempotency_key'), 'journal_entry', ['created_by', 'idempotency_key']
        )
        op.create_unique_constraint(op.f('uq_fund_id_organisation_id'), 'fund', ['id', 'organisation_id'])
        op.create_foreign_key(
            op.f('fk_posting_fund_id_fund'), 'posting', 'fund',
            ['fund_id', 'organisation_id'], ['id', 'organisation_id'], ondelete='RESTRICT',
        )
    else:
        # SQLite reports a unique index created with the table's constraint name as that constraint.
        op.create_index(
            op.f('uq_journal_entry_created_by_idempotency_key'), 'journal_entry', ['created_by', 'idempotency_key'],
            unique=True,
        )
        op.create_index(op.f('uq_fund_id_organisation_id'), 'fund', ['id', 'organisation_id'], unique=True)
        op.execute(
            """
            CREATE TRIGGER posting_fund_of_organisation BEFORE INSERT ON posting
            WHEN NEW.fund_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM fund WHERE id = NEW.fund_id AND organisation_id = NEW.organisation_id
            )
            BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: posting fund_id'); END
            """
        )

    op.create_table('period_balance',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('period_id', sa.Uuid(), nullable=False),
    sa.Column('period_version', sa.Integer(), nullable=False),
    sa.Column('account_code', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('debit_minor', sa.BigInteger(), nullable=False),
    sa.Column('credit_minor', sa.BigInteger(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('debit_minor >= 0 AND credit_minor >= 0', name=op.f('ck_period_balance_amounts')),
    sa.ForeignKeyConstraint(['period_id'], ['accounting_period.id'], name=op.f('fk_period_balance_period_id_accounting_period'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_period_balance')),
    sa.UniqueConstraint('period_id', 'period_version', 'account_code', 'currency', name='uq_period_balance_account')
    )
    make_append_only("period_balance")
    take_balances_of_closed_months()


def take_balances_of_closed_months():
    """Months closed before this revision get their balances now, as a close would have taken them."""
    import calendar
    from datetime import date, datetime, timezone

    bind = op.get_bind()
    closed = bind.execute(
        sa.text(
            "SELECT id, version, organisation_id, year, month FROM accounting_period WHERE status = 'closed'"
        ).columns(id=sa.Uuid(), organisation_id=sa.Uuid())
    ).all()
    now = datetime.now(timezone.utc)
    for period_id, version, organisation_id, year, month in closed:
        first, last = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        bind.execute(
            sa.text(
                "INSERT INTO period_balance "
                "(period_id, period_version, account_code, currency, debit_minor, credit_minor, taken_at) "
                "SELECT :period_id, :version, account_code, currency, "
                "SUM(CASE WHEN side = 'debit' THEN amount_minor ELSE 0 END), "
                "SUM(CASE WHEN side = 'credit' THEN amount_minor ELSE 0 END), :now "
                "FROM posting WHERE organisation_id = :organisation_id "
                "AND entry_date BETWEEN :first AND :last GROUP BY account_code, currency"
            ).bindparams(
                sa.bindparam("period_id", type_=sa.Uuid()),
                sa.bindparam("organisation_id", type_=sa.Uuid()),
                sa.bindparam("now", type_=sa.DateTime(timezone=True)),
            ),
            {
                "period_id": period_id, "version": version, "organisation_id": organisation_id,
                "first": first, "last": last, "now": now,
            },
        )


def make_append_only(table):
    """Refuse UPDATE, DELETE and TRUNCATE on ``table`` (copied from 0002, not imported)."""
    if op.get_bind().dialect.name == "postgresql":
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
    postgresql = op.get_bind().dialect.name == "postgresql"
    drop_append_only("period_balance")
    op.drop_table('period_balance')
    if postgresql:
        op.drop_constraint(op.f('fk_posting_fund_id_fund'), 'posting', type_='foreignkey')
        op.drop_constraint(op.f('uq_fund_id_organisation_id'), 'fund', type_='unique')
        op.drop_constraint(op.f('uq_journal_entry_created_by_idempotency_key'), 'journal_entry', type_='unique')
    else:
        op.execute("DROP TRIGGER IF EXISTS posting_fund_of_organisation")
        op.drop_index(op.f('uq_fund_id_organisation_id'), table_name='fund')
        op.drop_index(op.f('uq_journal_entry_created_by_idempotency_key'), table_name='journal_entry')
    # Dropping columns of an append-only table: PostgreSQL allows it; SQLite 3.35+ too, as long
    # as no index or trigger names the column (the unique index went above).
    op.drop_column('journal_entry', 'request_hash')
    op.drop_column('journal_entry', 'idempotency_key')
