"""Portal and reviews: Markdown sources, revision locking and notes, review reminders.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 17:19:42.846625

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description_source', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('review_reminded_for', sa.Date(), nullable=True))

    with op.batch_alter_table('listing_revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_data', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    with op.batch_alter_table('listing_revision', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('note')
        batch_op.drop_column('base_data')

    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.drop_column('review_reminded_for')
        batch_op.drop_column('description_source')
