"""Session rules: how often a session runs (weekly, every n weeks, monthly, one-off dates), as iCalendar says it.

Every session was one weekday, weekly; anything else was a note ("First Saturday
of the month").  Sessions gain ``freq``, ``interval``, ``byday`` (several days, or
with ordinals such as ``1SA``), ``bymonthday`` and ``dates``.  The upgrade writes
each session's day as its ``byday`` and reads notes that say which weekday of the
month ("Burton, third Tuesday of the month") into a monthly rule, keeping the rest
of the note.  ``weekday`` stays, written as the first day, so code from before
this revision keeps reading sessions while the schema is new (expand, then
contract later).  The downgrade splits several days into one session each and
writes the rule back into the note.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 05:10:00

"""
import re
import uuid
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

DAYS = ('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU')
DAY_NAMES = dict(zip(DAYS, ('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday')))
ORDINAL_WORDS = {'first': 1, '1st': 1, 'second': 2, '2nd': 2, 'third': 3, '3rd': 3, 'fourth': 4, '4th': 4,
                 'last': -1}
SAY = {1: 'first', 2: 'second', 3: 'third', 4: 'fourth', -1: 'last'}
# A frozen copy of local_offer.listings.recurrence's note reader, as it was at this revision.
NOTE = re.compile(
    r"^(?:(?P<before>[^,]+),\s*)?(?P<which>(?:first|second|third|fourth|last|1st|2nd|3rd|4th)"
    r"(?:\s*(?:,|and|&)\s*(?:first|second|third|fourth|last|1st|2nd|3rd|4th))*)\s+"
    r"(?P<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
    r"(?:\s+(?:of|in)\s+(?:the|each|every)\s+month)?\.?(?:,\s*(?P<after>.+))?$", re.IGNORECASE)

schedule = sa.table('schedule', sa.column('id', sa.String), sa.column('listing_id', sa.String),
                    sa.column('location_id', sa.String), sa.column('weekday', sa.String),
                    sa.column('opens_at', sa.Time), sa.column('closes_at', sa.Time),
                    sa.column('period', sa.String), sa.column('valid_from', sa.Date),
                    sa.column('valid_to', sa.Date), sa.column('notes', sa.String),
                    sa.column('position', sa.Integer), sa.column('freq', sa.String),
                    sa.column('interval', sa.Integer), sa.column('byday', sa.String),
                    sa.column('bymonthday', sa.Integer), sa.column('dates', sa.Text))


def _monthly(day, notes):
    """Return (byday with ordinals, the rest of the note) when a note says which weekday of the month."""
    match = NOTE.match((notes or '').strip())
    if not match or not day or match['day'].lower() != DAY_NAMES[day].lower():
        return None
    words = re.split(r"\s*(?:,|and|&)\s*", match['which'].lower())
    ordinals = [o for o in (1, 2, 3, 4, -1) if o in {ORDINAL_WORDS[w] for w in words if w in ORDINAL_WORDS}]
    if not ordinals:
        return None
    rest = ', '.join(part.strip() for part in (match['before'], match['after']) if part and part.strip())
    return ','.join(f'{o}{day}' for o in ordinals), rest


def upgrade():
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('freq', sa.String(length=10), server_default='weekly', nullable=False))
        batch_op.add_column(sa.Column('interval', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('byday', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bymonthday', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('dates', sa.Text(), server_default='', nullable=False))
    bind = op.get_bind()
    bind.execute(schedule.update().where(schedule.c.weekday.isnot(None)).values(byday=schedule.c.weekday))
    rows = bind.execute(sa.select(schedule.c.id, schedule.c.weekday, schedule.c.notes)
                        .where(schedule.c.notes != '', schedule.c.weekday.isnot(None))).all()
    for row in rows:
        found = _monthly(row.weekday, row.notes)
        if found:
            bind.execute(schedule.update().where(schedule.c.id == row.id)
                         .values(freq='monthly', byday=found[0], notes=found[1][:500]))


def _say(row):
    """Write a rule the old schema cannot hold as words for the note."""
    if row.freq == 'once':
        return 'On ' + ', '.join(part for part in (row.dates or '').split(',') if part)
    if row.freq == 'monthly' and row.bymonthday:
        return f'On day {row.bymonthday} of every month'
    if row.freq == 'monthly':
        ordinals = sorted({int(part[:-2]) for part in row.byday.split(',') if part[:-2].lstrip('+-').isdigit()},
                          key=lambda o: (o < 0, o))
        which = ' and '.join(SAY.get(o, str(o)) for o in ordinals)
        said = f'{which} {DAY_NAMES[row.byday[-2:]]} of the month'
        return said[:1].upper() + said[1:]
    if (row.interval or 1) > 1:
        return f'Every {row.interval} weeks'
    return ''


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.select(schedule)).mappings().all()
    for row in rows:
        days = [d for d in DAYS if d in {part[-2:] for part in (row['byday'] or '').split(',') if part}]
        rule = _say(SimpleNamespace(**row)) if row['freq'] != 'weekly' or (row['interval'] or 1) > 1 else ''
        notes = row['notes'] or ''
        if rule:
            notes = f'{notes}, {rule[:1].lower() + rule[1:]}' if notes else rule
        first = days[0] if days else row['weekday']
        bind.execute(schedule.update().where(schedule.c.id == row['id']).values(weekday=first, notes=notes[:500]))
        for extra in days[1:]:
            bind.execute(schedule.insert().values(
                id=str(uuid.uuid4()), listing_id=row['listing_id'], location_id=row['location_id'], weekday=extra,
                opens_at=row['opens_at'], closes_at=row['closes_at'], period=row['period'],
                valid_from=row['valid_from'], valid_to=row['valid_to'], notes=notes[:500],
                position=row['position'], freq='weekly', interval=1, byday=extra, dates=''))
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.drop_column('dates')
        batch_op.drop_column('bymonthday')
        batch_op.drop_column('byday')
        batch_op.drop_column('interval')
        batch_op.drop_column('freq')
