"""Sessions in words (one function everywhere) and times as providers type them; bad times are a clear message."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from local_offer.listings import data as listing_data
from local_offer.listings.recurrence import weekly as Session
from local_offer.listings.when import (
    TimeError, clock, days_in_words, in_words, next_date, parse_time, parse_times,
)
from local_offer.models import SchedulePeriod as Period, Weekday as Day

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
WEEKDAYS = (Day.MO, Day.TU, Day.WE, Day.TH, Day.FR)


@pytest.fixture
def english(app):
    """An English request, as a family's."""
    with app.test_request_context("/"):
        yield


@pytest.fixture
def polish(app):
    """A Polish request."""
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        yield


def test_sessions_read_as_a_family_says_them(english):
    """Days grouped, one day plural, GOV.UK times, term time and holidays in words, notes kept."""
    assert in_words([Session(day, time(9), time(16)) for day in WEEKDAYS]) == ["Monday to Friday, 9am to 4pm"]
    assert in_words([Session(Day.SA, time(9, 30), time(10, 30), Period.TERM_TIME)]) == [
        "Saturdays, 9:30am to 10:30am, term time only"]
    assert in_words([Session(Day.MO, time(18), time(20)), Session(Day.TH, time(18), time(20))]) == [
        "Mondays and Thursdays, 6pm to 8pm"]
    assert in_words([Session(day, time(10), time(12)) for day in (Day.MO, Day.WE, Day.FR)]) == [
        "Monday, Wednesday and Friday, 10am to midday"]
    assert in_words([Session(day, time(0), time(23, 59)) for day in Day]) == ["Every day, midnight to 11:59pm"]
    assert in_words([Session(Day.SU, time(14), None, Period.SCHOOL_HOLIDAYS, notes="Book ahead")]) == [
        "Sundays, from 2pm, school holidays only. Book ahead"]
    assert in_words([Session(None, None, None, notes="Ring to book")]) == ["Times vary. Ring to book"]


def test_different_times_are_separate_lines_in_the_order_entered(english):
    """Monday to Friday mornings and a Saturday afternoon are two lines, weekdays first as entered."""
    rows = [Session(day, time(9), time(12)) for day in WEEKDAYS] + [Session(Day.SA, time(13), time(15))]
    assert in_words(rows) == ["Monday to Friday, 9am to midday", "Saturdays, 1pm to 3pm"]
    assert in_words(list(reversed(rows))) == ["Saturdays, 1pm to 3pm", "Monday to Friday, 9am to midday"]


def test_the_next_date_is_given_where_it_can_be_said(english):
    """Weekly all-year sessions say when they next run; term-time ones wait for term dates; a note may mean
    the day is not every week, so it gets none; today's session once over points to next week."""
    sunday = date(2026, 12, 6)
    rows = [Session(Day.SA, time(10), time(11)), Session(Day.WE, time(10), time(11))]
    assert in_words(rows, today=sunday, next_dates=True) == [
        "Wednesdays and Saturdays, 10am to 11am. Next: Wednesday 9 December"]
    assert in_words(rows, today=sunday) == ["Wednesdays and Saturdays, 10am to 11am"]
    assert in_words([Session(Day.SA, time(10), time(11), Period.TERM_TIME)], today=sunday, next_dates=True) == [
        "Saturdays, 10am to 11am, term time only"]
    assert in_words([Session(Day.SA, time(10), time(11), notes="First Saturday of the month")],
                    today=sunday, next_dates=True) == ["Saturdays, 10am to 11am. First Saturday of the month"]
    today = Session(Day.SU, time(10), time(11))
    assert next_date(today, sunday) == sunday
    assert next_date(today, sunday, now=time(10, 30)) == sunday
    assert next_date(today, sunday, now=time(11)) == date(2026, 12, 13)
    assert next_date(Session(Day.SU, time(10), time(11), valid_to=date(2026, 12, 12)), sunday, time(12)) is None
    assert next_date(Session(Day.MO, time(10), time(11), valid_from=date(2027, 1, 1)), sunday) == date(2027, 1, 4)


def test_key_facts_and_cards_say_it_briefly(english):
    """In brief: no notes or dates, and a period both lines share said once at the end."""
    rows = [Session(Day.MO, time(17, 30), time(19), Period.TERM_TIME, notes="Bring a towel"),
            Session(Day.SA, time(9), time(10, 30), Period.TERM_TIME, valid_from=date(2020, 1, 1))]
    assert in_words(rows, brief=True) == ["Mondays, 5:30pm to 7pm", "Saturdays, 9am to 10:30am, term time only"]
    assert in_words(rows)[0] == "Mondays, 5:30pm to 7pm, term time only. Bring a towel"
    mixed = [rows[0], Session(Day.WE, time(10), time(11), Period.SCHOOL_HOLIDAYS)]
    assert in_words(mixed, brief=True) == ["Mondays, 5:30pm to 7pm, term time only",
                                           "Wednesdays, 10am to 11am, school holidays only"]


def test_ended_sessions_are_left_out_and_future_ones_say_from_when(english):
    """A session whose end date has passed is not shown to families; one not yet started says when it starts."""
    today = date(2026, 12, 6)
    ended = Session(Day.SA, time(10), time(11), valid_to=today - timedelta(days=1))
    later = Session(Day.SA, time(10), time(11), valid_from=date(2027, 1, 9))
    assert in_words([ended], today=today) == []
    assert in_words([ended, later], today=today) == ["Saturdays, 10am to 11am (from 9 January 2027)"]


def test_stored_rows_and_listing_data_read_the_same(demo, english):
    """The listing page (rows) and the moderation view (the listing's data) use the same words."""
    from local_offer.extensions import db
    from local_offer.models import Listing

    from support import SWIM

    listing = db.session.get(Listing, SWIM)
    words = in_words(listing.schedules)
    assert words[0] == "Saturdays, 9am to 10am, term time only"
    shown = listing_data.display_value("schedules", listing_data.listing_data(listing)["schedules"])
    assert shown.split("\n") == words


def test_polish_reads_in_polish(polish):
    """Polish days, 24-hour times and periods; day ranges with a dash."""
    assert in_words([Session(day, time(9), time(16)) for day in WEEKDAYS]) == ["Poniedziałek–Piątek, od 9:00 do 16:00"]
    assert in_words([Session(Day.SA, time(9, 30), time(10, 30), Period.TERM_TIME)]) == [
        "W soboty, od 9:30 do 10:30, tylko w czasie roku szkolnego"]


@pytest.mark.parametrize("typed, expected", [
    ("6pm", time(18)), ("6 pm", time(18)), ("6.30pm", time(18, 30)), ("6:30 P.M.", time(18, 30)),
    ("18:00", time(18)), ("1800", time(18)), ("0930", time(9, 30)), ("9", time(9)), ("noon", time(12)),
    ("midday", time(12)), ("12pm", time(12)), ("12am", time(0)), ("midnight", time(0)), (" 9am ", time(9)),
])
def test_times_are_read_as_people_type_them(english, typed, expected):
    """Twelve- and 24-hour times, dots or colons, words for midday and midnight."""
    assert parse_time(typed) == expected


@pytest.mark.parametrize("typed, expected", [
    ("9-12", (time(9), time(12))), ("9am to 3pm", (time(9), time(15))), ("6-8pm", (time(18), time(20))),
    ("9-3", (time(9), time(15))), ("10-noon", (time(10), time(12))), ("11am–1pm", (time(11), time(13))),
    ("9:30-10:30", (time(9, 30), time(10, 30))), ("18:00 until 19:30", (time(18), time(19, 30))),
])
def test_a_session_s_times_are_read_from_one_box(english, typed, expected):
    """"9-12" is a morning; "6-8pm" an evening; the end is after the start."""
    assert parse_times(typed) == expected


@pytest.mark.parametrize("typed, message", [
    ("25:00", "Enter a real time"), ("13pm", "Enter a real time"), ("6pm-ish", "Enter a time like"),
    ("", "Enter a time,"), ("9:75", "Enter a real time"), ("soon", "Enter a time like"),
])
def test_a_time_that_cannot_be_read_says_what_to_write(english, typed, message):
    """Each refusal is one message saying what to write."""
    with pytest.raises(TimeError, match=message):
        parse_time(typed)


def test_times_in_the_wrong_order_are_refused(english):
    """A session ending before it starts is refused with a message that says so."""
    for typed in ("3pm-9am", "10:00-09:00", "noon to 11am"):
        with pytest.raises(TimeError, match="end time must be after"):
            parse_times(typed)


@PROPERTIES
@given(moment=st.times().map(lambda t: t.replace(second=0, microsecond=0)))
def test_every_time_written_is_read_back(english, moment):
    """What we write (and 24-hour text) is read back as the same time."""
    assert parse_time(clock(moment)) == moment
    assert parse_time(moment.strftime("%H:%M")) == moment


@PROPERTIES
@given(text=st.text(max_size=30))
def test_any_text_is_a_time_or_a_clear_refusal(english, text):
    """Whatever is typed: a time, or a TimeError with a message; never another error."""
    for read in (parse_time, parse_times):
        try:
            value = read(text)
        except TimeError as error:
            assert str(error)
        else:
            assert isinstance(value, time) or value[0] < value[1]


def test_every_set_of_days_names_each_day_once(english):
    """Any choice of days is said, and every chosen day is in the words (by name or inside a range)."""
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    for size in range(1, 8):
        for chosen in itertools.combinations(list(Day), size):
            words = days_in_words(set(chosen))
            assert words
            for day in chosen:
                index = list(Day).index(day)
                inside_range = any(f"{names[a]} to {names[b]}" in words for a in range(index + 1)
                                   for b in range(index, 7))
                assert names[index] in words or inside_range or words == "Every day", (chosen, words)


def test_the_listing_page_says_when_the_childminder_is_next_open(demo, client):
    """Monday to Wednesday all year: the listing page says the days in one line and the next day it is open."""
    from support import CHILDMINDER, text_of

    page = text_of(client.get(f"/listings/{CHILDMINDER}", follow_redirects=True))
    assert "Monday to Wednesday, 7:30am to 6pm. Next: " in page
