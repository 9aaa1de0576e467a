"""Consultations families answer, and what families looked for and did not find, by concept and area.

Expand only: new tables (consultations with their questions, responses and
answers; districts as lists of outward codes; daily search counts by concept,
age band and area) and three nullable columns on search_log, which code from
before this revision never reads and never needs to write.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 13:46:05.406136

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('district',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('outward_codes', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_district')),
    sa.UniqueConstraint('name', name=op.f('uq_district_name'))
    )
    op.create_table('search_demand_area',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('concept', sa.String(length=120), nullable=False),
    sa.Column('age_band', sa.String(length=20), nullable=False),
    sa.Column('area', sa.String(length=10), nullable=False),
    sa.Column('searches', sa.Integer(), nullable=False),
    sa.Column('without_results', sa.Integer(), nullable=False),
    sa.Column('few_results', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_demand_area')),
    sa.UniqueConstraint('day', 'concept', 'age_band', 'area', name=op.f('uq_search_demand_area_day'))
    )
    with op.batch_alter_table('search_demand_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_demand_area_day'), ['day'], unique=False)

    op.create_table('consultation',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('introduction', sa.Text(), nullable=False),
    sa.Column('simple_introduction', sa.Text(), nullable=False),
    sa.Column('audience', sa.String(length=500), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'open', 'closed', name='consultation_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('results_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_consultation_created_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation')),
    sa.UniqueConstraint('slug', name=op.f('uq_consultation_slug'))
    )
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_results_published_at'), ['results_published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_status'), ['status'], unique=False)

    op.create_table('consultation_question',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('agreement', 'single', 'multiple', 'text', name='question_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('simple_text', sa.String(length=500), nullable=False),
    sa.Column('hint', sa.String(length=1000), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('about_you', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_consultation_question_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_question'))
    )
    with op.batch_alter_table('consultation_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_question_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('consultation_response',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('consultation_id', sa.String(length=36), nullable=False),
    sa.Column('browser_key', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('simple', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_consultation_response_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_response')),
    sa.UniqueConstraint('consultation_id', 'browser_key', name=op.f('uq_consultation_response_consultation_id'))
    )
    with op.batch_alter_table('consultation_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_response_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_response_submitted_at'), ['submitted_at'], unique=False)

    op.create_table('consultation_answer',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('response_id', sa.String(length=36), nullable=False),
    sa.Column('question_id', sa.String(length=36), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('new', 'published', 'excluded', name='answer_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('public_text', sa.Text(), nullable=False),
    sa.Column('redacted', sa.Boolean(), nullable=False),
    sa.Column('exclusion_note', sa.Text(), nullable=False),
    sa.Column('moderated_by_id', sa.String(length=36), nullable=True),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['user.id'], name=op.f('fk_consultation_answer_moderated_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id'], ['consultation_question.id'], name=op.f('fk_consultation_answer_question_id_consultation_question'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['consultation_response.id'], name=op.f('fk_consultation_answer_response_id_consultation_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_answer')),
    sa.UniqueConstraint('response_id', 'question_id', name=op.f('uq_consultation_answer_response_id'))
    )
    with op.batch_alter_table('consultation_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_answer_question_id'), ['question_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_answer_response_id'), ['response_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_answer_status'), ['status'], unique=False)

    with op.batch_alter_table('search_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('concepts', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('age_band', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('area', sa.String(length=10), nullable=True))



def downgrade():
    with op.batch_alter_table('search_log', schema=None) as batch_op:
        batch_op.drop_column('area')
        batch_op.drop_column('age_band')
        batch_op.drop_column('concepts')

    with op.batch_alter_table('consultation_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_answer_status'))
        batch_op.drop_index(batch_op.f('ix_consultation_answer_response_id'))
        batch_op.drop_index(batch_op.f('ix_consultation_answer_question_id'))

    op.drop_table('consultation_answer')
    with op.batch_alter_table('consultation_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_response_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_consultation_response_consultation_id'))

    op.drop_table('consultation_response')
    with op.batch_alter_table('consultation_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_question_consultation_id'))

    op.drop_table('consultation_question')
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_status'))
        batch_op.drop_index(batch_op.f('ix_consultation_results_published_at'))

    op.drop_table('consultation')
    with op.batch_alter_table('search_demand_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_demand_area_day'))

    op.drop_table('search_demand_area')
    op.drop_table('district')
