"""``requirement.milestone_number`` and ``title_en``: contracts' deliverables; one language per title.

A contract's milestones (``fund.milestones``) were only published as OCDS milestones that stayed
"scheduled" for good, since nothing recorded a delivery. From this revision activating a contract
adds one ``deliverable`` requirement per milestone, naming it by ``milestone_number`` (from 1);
an officer marks it done when the delivery is accepted, and the open data says it was met on that
day. The kind check admits ``deliverable``, and a new check ties the number to that kind.

``title_en``: the titles the service writes (中期报告, 结项报告…) were stored with both languages run
together ("中期报告 Interim report"), so a Chinese mail or page showed English too. From this
revision ``title`` holds the Chinese and ``title_en`` the English, and each reader sees one;
a title an officer types is kept as typed (``title_en`` null). Rows written earlier keep their
text (the trail recorded them so, and the replay must find them so).

Contracts activated earlier get no deliverables (nothing to backfill, no audit entry owed): an
activation writes them in its own audit entry, and the older ones stay as they were published.

Revision ID: 0021_deliverables
Revises: 0020_published_releases
Create Date: 2026-11-29 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_deliverables'
down_revision = '0020_published_releases'
branch_labels = None
depends_on = None

KINDS_BEFORE = (
    "kind IN ('interim_report', 'final_report', 'lottery_disclosure', 'tranche_condition', "
    "'annual_report')"
)
KINDS_AFTER = (
    "kind IN ('interim_report', 'final_report', 'lottery_disclosure', 'tranche_condition', "
    "'annual_report', 'deliverable')"
)
MILESTONE_NAMED = "(kind = 'deliverable') = (milestone_number IS NOT NULL)"


def upgrade():
    with op.batch_alter_table('requirement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_en', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('milestone_number', sa.Integer(), nullable=True))
        batch_op.drop_constraint(op.f('ck_requirement_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_requirement_kind'), KINDS_AFTER)
        batch_op.create_check_constraint(op.f('ck_requirement_milestone_named'), MILESTONE_NAMED)


def downgrade():
    """Refused while a deliverable exists: the earlier schema has no place for one."""
    deliverables = op.get_bind().exec_driver_sql(
        "SELECT count(*) FROM requirement WHERE kind = 'deliverable'"
    ).scalar()
    if deliverables:
        raise RuntimeError(f"{deliverables} deliverable requirement(s) exist; 0020 has no such kind")
    with op.batch_alter_table('requirement', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_requirement_milestone_named'), type_='check')
        batch_op.drop_constraint(op.f('ck_requirement_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_requirement_kind'), KINDS_BEFORE)
        batch_op.drop_column('milestone_number')
        batch_op.drop_column('title_en')
