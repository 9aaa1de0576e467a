"""Related terms: the everyday things families type, and the service words that help with them.

Kept beside the synonym groups and maintained by coordinators; search uses an
entry's terms as extra, lower-weighted alternatives when one of its phrases matches.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 21:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('related_terms',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('phrases', sa.JSON(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_related_terms'))
    )


def downgrade():
    op.drop_table('related_terms')
