"""``requirement``: what is due for a fund or an organisation, by when, who acts, and what fulfilled it.

One row per interim or final expense report, welfare-lottery usage disclosure (per calendar
year), tranche condition, or organisation annual report (年报, the only kind without a fund). A
row is open until it is done (``done_at``, ``done_by``, ``done_by_ref``, ``done_note``) or
withdrawn (``withdrawn_at``, ``withdrawn_by``, ``withdrawal_note``); rows are never deleted.
Whether an open one is upcoming, due or overdue depends on the day and is not stored.

Funds activated before this revision get no requirements here: they are created when a fund is
activated, in the same audit entry, and an officer adds any that older funds owe through the
API or the fund's page (each then recorded). So there is nothing to backfill and no audit entry
is owed.

Revision ID: 0018_requirements
Revises: 0017_invoices
Create Date: 2026-11-29 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0018_requirements'
down_revision = '0017_invoices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('requirement',
    sa.Column('fund_id', sa.Uuid(), nullable=True),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('covers_year', sa.Integer(), nullable=True),
    sa.Column('tranche_id', sa.Uuid(), nullable=True),
    sa.Column('responsible_role', sa.String(length=16), nullable=False),
    sa.Column('responsible_user_id', sa.Uuid(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.String(length=64), nullable=True),
    sa.Column('done_by_ref', sa.String(length=100), nullable=True),
    sa.Column('done_note', sa.String(length=500), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=64), nullable=True),
    sa.Column('withdrawal_note', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint(
        "kind IN ('interim_report', 'final_report', 'lottery_disclosure', 'tranche_condition', "
        "'annual_report')",
        name=op.f('ck_requirement_kind'),
    ),
    sa.CheckConstraint(
        "responsible_role IN ('member', 'officer')", name=op.f('ck_requirement_responsible_role')
    ),
    sa.CheckConstraint(
        "fund_id IS NOT NULL OR kind = 'annual_report'", name=op.f('ck_requirement_fund_needed')
    ),
    sa.ForeignKeyConstraint(['fund_id'], ['fund.id'], name=op.f('fk_requirement_fund_id_fund'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_requirement_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['responsible_user_id'], ['app_user.id'], name=op.f('fk_requirement_responsible_user_id_app_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tranche_id'], ['tranche.id'], name=op.f('fk_requirement_tranche_id_tranche'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirement')),
    )
    op.create_index('ix_requirement_fund_due', 'requirement', ['fund_id', 'due_on'], unique=False)
    op.create_index('ix_requirement_organisation_due', 'requirement', ['organisation_id', 'due_on'], unique=False)


def downgrade():
    op.drop_index('ix_requirement_organisation_due', table_name='requirement')
    op.drop_index('ix_requirement_fund_due', table_name='requirement')
    op.drop_table('requirement')
