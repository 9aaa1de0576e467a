"""School terms: the council's term dates, which "term time only" and "school holidays only" sessions follow.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 03:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('school_term',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('starts', sa.Date(), nullable=False),
    sa.Column('ends', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_term'))
    )
    with op.batch_alter_table('school_term', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_term_starts'), ['starts'], unique=False)


def downgrade():
    with op.batch_alter_table('school_term', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_term_starts'))

    op.drop_table('school_term')
