"""Promises on "You said, we did": how far each council response has got (planned, in progress, done).

Expand only: two columns on council_response, the status defaulted to "planned"
for existing rows (late is worked out from the due date, never stored), which
code from before this revision never reads.

It also writes down which comments each published theme response answers.
Before, a response given a theme was shown under every comment tagged with that
theme, even comments published (or tagged) long after it was written.  A response
now answers only the comments linked to it; for responses already published, the
comments tagged with their theme and published by the time the response was are
linked, so each keeps what it was written for.  Old code still reads the same
links (and its wider theme match), so running both side by side is safe.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 07:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('council_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'progress', sa.Enum('planned', 'in_progress', 'done', name='promise_status', native_enum=False,
                                create_constraint=True, length=32),
            server_default='planned', nullable=False))
        batch_op.add_column(sa.Column('progress_updated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text(
        "INSERT INTO council_response_feedback (response_id, feedback_id) "
        "SELECT r.id, f.id FROM council_response r "
        "JOIN feedback_theme ft ON ft.theme_id = r.theme_id "
        "JOIN feedback f ON f.id = ft.feedback_id "
        "WHERE r.status = 'published' AND r.published_at IS NOT NULL AND f.status = 'published' "
        "AND f.published_at IS NOT NULL AND f.published_at <= r.published_at "
        "AND NOT EXISTS (SELECT 1 FROM council_response_feedback x "
        "WHERE x.response_id = r.id AND x.feedback_id = f.id)"))


def downgrade():
    # The links written on upgrade stay: old code shows each such response under those comments anyway.
    with op.batch_alter_table('council_response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_council_response_promise_status'), type_='check')
        batch_op.drop_column('progress_updated_at')
        batch_op.drop_column('progress')
