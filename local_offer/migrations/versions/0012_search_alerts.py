"""Search alerts: a saved search emailed weekly to a confirmed address, without an account.

Only SHA-256s of the confirm and unsubscribe tokens are kept; unconfirmed alerts are removed after 7 days.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 00:25:51.884611

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_alert',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('confirm_hash', sa.String(length=64), nullable=True),
    sa.Column('unsubscribe_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'bounced', name='alert_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changes_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_ids', sa.JSON(), nullable=False),
    sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_alert')),
    sa.UniqueConstraint('confirm_hash', name=op.f('uq_search_alert_confirm_hash')),
    sa.UniqueConstraint('unsubscribe_hash', name=op.f('uq_search_alert_unsubscribe_hash'))
    )
    with op.batch_alter_table('search_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_alert_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_alert_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_alert_status'), ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('search_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_alert_status'))
        batch_op.drop_index(batch_op.f('ix_search_alert_email'))
        batch_op.drop_index(batch_op.f('ix_search_alert_created_at'))

    op.drop_table('search_alert')
