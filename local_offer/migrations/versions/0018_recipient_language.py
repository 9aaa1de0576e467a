"""The language each person reads the site in, so their emails come in it.

Expand only: a nullable ``language`` column on user (providers' emails about
their listings), search_alert (the weekly digest) and feedback_contact (a reply
to a comment).  Code from before this revision never reads them; empty means
the site's default language, as before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 17:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

TABLES = ("user", "search_alert", "feedback_contact")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('language')
