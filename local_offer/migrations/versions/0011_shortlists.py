"""Shortlists: listings a family saves without an account, with private notes and a read-only share link.

The owner's token is kept only as a SHA-256; items go with their shortlist, or
with their listing if it is ever deleted.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 23:23:17.596916

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shortlist',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('share_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlist')),
    sa.UniqueConstraint('share_token', name=op.f('uq_shortlist_share_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_shortlist_token_hash'))
    )
    with op.batch_alter_table('shortlist', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shortlist_updated_at'), ['updated_at'], unique=False)

    op.create_table('shortlist_item',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('shortlist_id', sa.String(length=36), nullable=False),
    sa.Column('listing_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listing.id'], name=op.f('fk_shortlist_item_listing_id_listing'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shortlist_id'], ['shortlist.id'], name=op.f('fk_shortlist_item_shortlist_id_shortlist'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlist_item')),
    sa.UniqueConstraint('shortlist_id', 'listing_id', name=op.f('uq_shortlist_item_shortlist_id'))
    )
    with op.batch_alter_table('shortlist_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shortlist_item_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shortlist_item_shortlist_id'), ['shortlist_id'], unique=False)



def downgrade():
    with op.batch_alter_table('shortlist_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shortlist_item_shortlist_id'))
        batch_op.drop_index(batch_op.f('ix_shortlist_item_listing_id'))

    op.drop_table('shortlist_item')
    with op.batch_alter_table('shortlist', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shortlist_updated_at'))

    op.drop_table('shortlist')
