"""Neighbours' feeds: another council's Open Referral UK feed, pulled on a schedule, its services marked with it.

Expand only: a new table and nullable (or defaulted) columns on listing, which
code from before this revision never reads.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 05:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feed',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('site_url', sa.String(length=500), nullable=False),
    sa.Column('licence', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_pull_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_full_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_count', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_report', sa.JSON(), nullable=False),
    sa.Column('incremental', sa.Boolean(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed')),
    sa.UniqueConstraint('url', name=op.f('uq_feed_url'))
    )
    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('source_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('source_checked_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('feed_hidden', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_listing_feed_id'), ['feed_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_listing_feed_id_feed'), 'feed', ['feed_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_listing_feed_id_feed'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_listing_feed_id'))
        batch_op.drop_column('feed_hidden')
        batch_op.drop_column('source_checked_on')
        batch_op.drop_column('source_url')
        batch_op.drop_column('feed_id')
    op.drop_table('feed')
