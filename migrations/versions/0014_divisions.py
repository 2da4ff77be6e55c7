"""``division_list`` and ``division``: the administrative tree as versioned reference data.

A list is one published set of 12-digit 统计用区划代码 (a version name such as ``NBS-2024``, its
year, name, source and the sha256 of its content); each division has its code, name, parent
code (none for a province), level and, for a community only, its 3-digit 城乡分类代码. Like the
charts of accounts, rows are only ever added (the least-privilege role gets SELECT and INSERT).
Nothing refers to the divisions yet; communities are attached to them in a later revision.

Revision ID: 0014_divisions
Revises: 0013_idempotent_creates
Create Date: 2026-11-29 21:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_divisions'
down_revision = '0013_idempotent_creates'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('division_list',
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_division_list'))
    )
    op.create_table('division',
    sa.Column('list_version', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('urban_rural_class', sa.String(length=3), nullable=True),
    sa.CheckConstraint(
        "level IN ('province', 'city', 'county', 'township', 'community')", name=op.f('ck_division_level')
    ),
    sa.CheckConstraint(
        "urban_rural_class IS NULL OR urban_rural_class IN ('111', '112', '121', '122', '123', '210', '220')",
        name=op.f('ck_division_urban_rural_class'),
    ),
    sa.CheckConstraint(
        "(level = 'community') = (urban_rural_class IS NOT NULL)",
        name=op.f('ck_division_class_only_for_communities'),
    ),
    sa.CheckConstraint(
        "(level = 'province') = (parent_code IS NULL)", name=op.f('ck_division_parent_unless_province')
    ),
    sa.ForeignKeyConstraint(['list_version'], ['division_list.version'], name=op.f('fk_division_list_version_division_list')),
    sa.ForeignKeyConstraint(
        ['list_version', 'parent_code'], ['division.list_version', 'division.code'],
        name=op.f('fk_division_list_version_division'),
    ),
    sa.PrimaryKeyConstraint('list_version', 'code', name=op.f('pk_division'))
    )
    op.create_index('ix_division_parent', 'division', ['list_version', 'parent_code'], unique=False)


def downgrade():
    op.drop_index('ix_division_parent', table_name='division')
    op.drop_table('division')
    op.drop_table('division_list')
