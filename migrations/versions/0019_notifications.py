"""Notifications: preferences and webhook endpoints (replayed), and what the notifier derives.

``notification_preference`` (one row per person who chose how to be told: address, each mail or
a daily digest, language) and ``webhook_endpoint`` (another system's URL, signing secret and the
events it wants) are business state, replayed from the audit trail; the secret travels in the
trail as a keyed fingerprint. ``notification``, ``notifier_cursor``, ``delivery``,
``delivery_attempt`` and ``outbox_mail`` are derived from the trail by the notifier and are not
replayed. All are new and empty but the notifier's cursor, which starts at the trail's current
end so that an upgraded deployment is not told of its whole history at once: nothing to
backfill, no audit entry owed.

Revision ID: 0019_notifications
Revises: 0018_requirements
Create Date: 2026-11-29 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_notifications'
down_revision = '0018_requirements'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_preference',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('email_mode', sa.String(length=8), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("email_mode IN ('off', 'each', 'digest')", name=op.f('ck_notification_preference_email_mode')),
    sa.CheckConstraint("language IN ('zh', 'en')", name=op.f('ck_notification_preference_language')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_preference_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preference')),
    )
    op.create_table('webhook_endpoint',
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('event_types', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoint')),
    )
    op.create_table('notification',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('dedup_key', sa.String(length=120), nullable=False),
    sa.Column('source_seq', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_notification_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('user_id', 'dedup_key', name=op.f('uq_notification_user_id_dedup_key')),
    )
    op.create_index('ix_notification_user_created', 'notification', ['user_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_notification_organisation_id'), 'notification', ['organisation_id'], unique=False)
    op.create_table('notifier_cursor',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_notifier_cursor')),
    )
    # The notifier starts reading the trail where it stands now: what happened before this
    # version is not announced again to everyone at once.
    op.execute(
        "INSERT INTO notifier_cursor (name, seq) SELECT 'audit', COALESCE(MAX(seq), 0) FROM audit_entry"
    )
    op.create_table('delivery',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('dedup_key', sa.String(length=160), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('endpoint_id', sa.Uuid(), nullable=True),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('recipient', sa.String(length=2000), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("channel IN ('email', 'webhook')", name=op.f('ck_delivery_channel')),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_delivery_status')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoint.id'], name=op.f('fk_delivery_endpoint_id_webhook_endpoint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_delivery_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_delivery_dedup_key')),
    )
    op.create_index('ix_delivery_status_next_attempt_at', 'delivery', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_delivery_user_id'), 'delivery', ['user_id'], unique=False)
    op.create_index(op.f('ix_delivery_endpoint_id'), 'delivery', ['endpoint_id'], unique=False)
    op.create_table('delivery_attempt',
    sa.Column('delivery_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], name=op.f('fk_delivery_attempt_delivery_id_delivery'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempt')),
    )
    op.create_index(op.f('ix_delivery_attempt_delivery_id'), 'delivery_attempt', ['delivery_id'], unique=False)
    op.create_table('outbox_mail',
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mail')),
    )


def downgrade():
    op.drop_table('outbox_mail')
    op.drop_index(op.f('ix_delivery_attempt_delivery_id'), table_name='delivery_attempt')
    op.drop_table('delivery_attempt')
    op.drop_index(op.f('ix_delivery_endpoint_id'), table_name='delivery')
    op.drop_index(op.f('ix_delivery_user_id'), table_name='delivery')
    op.drop_index('ix_delivery_status_next_attempt_at', table_name='delivery')
    op.drop_table('delivery')
    op.drop_table('notifier_cursor')
    op.drop_index(op.f('ix_notification_organisation_id'), table_name='notification')
    op.drop_index('ix_notification_user_created', table_name='notification')
    op.drop_table('notification')
    op.drop_table('webhook_endpoint')
    op.drop_table('notification_preference')
