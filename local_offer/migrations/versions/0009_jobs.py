"""Scheduled jobs: one row per job with its last run, which `flask jobs run` claims before running it.

The retention purge used to note its last run in a site setting; that moves
onto the purge job's row, so the administrators' page knows when it last ran
from the first day.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 09:00:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

PURGE_SETTING = 'feedback_purge'
PURGE_JOB = 'feedback-purge'

site_setting = sa.table('site_setting', sa.column('key', sa.String), sa.column('value', sa.JSON),
                        sa.column('updated_at', sa.DateTime(timezone=True)))


def upgrade():
    scheduled_job = op.create_table('scheduled_job',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('running_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seconds', sa.Float(), nullable=True),
    sa.Column('last_outcome', sa.Enum('success', 'failed', name='job_outcome', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('last_summary', sa.Text(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduled_job'))
    )
    connection = op.get_bind()
    last = connection.execute(sa.select(site_setting.c.value).where(site_setting.c.key == PURGE_SETTING)).scalar()
    if last and last.get('at'):
        at = datetime.fromisoformat(last['at']).astimezone(timezone.utc)
        summary = (f"Removed {last.get('contacts', 0)} contact details and {last.get('replies', 0)} replies; "
                   f"anonymised {last.get('anonymised', 0)} unpublished comments and "
                   f"{last.get('originals', 0)} redacted originals.")
        op.bulk_insert(scheduled_job, [{
            'name': PURGE_JOB, 'runs': 1, 'last_started_at': at, 'last_finished_at': at, 'last_success_at': at,
            'last_outcome': 'success', 'last_summary': summary, 'last_error': ''}])
    connection.execute(sa.delete(site_setting).where(site_setting.c.key == PURGE_SETTING))


def downgrade():
    scheduled_job = sa.table('scheduled_job', sa.column('name', sa.String),
                             sa.column('last_success_at', sa.DateTime(timezone=True)))
    connection = op.get_bind()
    at = connection.execute(sa.select(scheduled_job.c.last_success_at)
                            .where(scheduled_job.c.name == PURGE_JOB)).scalar()
    if at is not None:
        at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
        op.bulk_insert(site_setting, [{'key': PURGE_SETTING, 'value': {'at': at.isoformat()},
                                       'updated_at': at}])
    op.drop_table('scheduled_job')
