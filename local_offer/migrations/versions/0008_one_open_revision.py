"""One open change per listing, enforced by the database.

Two people saving the same live listing at the same moment could each start a
change.  Where that already happened, the newest open change is kept (it is the
one the portal showed) and the others are marked withdrawn; then a partial
unique index allows one draft, pending or returned change per listing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OPEN = "status IN ('draft', 'pending', 'returned')"


def upgrade():
    op.execute(sa.text(
        f"UPDATE listing_revision SET status = 'withdrawn' WHERE {OPEN} AND id NOT IN ("
        f"SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY listing_id ORDER BY created_at DESC, id DESC) "
        f"AS newest FROM listing_revision WHERE {OPEN}) AS ranked WHERE newest = 1)"))
    op.create_index('uq_listing_revision_one_open', 'listing_revision', ['listing_id'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade():
    op.drop_index('uq_listing_revision_one_open', table_name='listing_revision',
                  sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
