"""Session rules: which days they fall on, in words, in calendars and in ORUK feeds, both ways."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from local_offer.listings import recurrence
from local_offer.listings.recurrence import MONTHLY, ONCE, Rule, from_note, occurrences, parse_byday, runs_on
from local_offer.listings.when import DateError, in_words, parse_date_typed, parse_dates_typed
from local_offer.models import SchedulePeriod as Period, Weekday as Day
from local_offer.term_dates import TermCalendar

PROPERTIES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TERMS = TermCalendar(((date(2026, 9, 3), date(2026, 10, 23)), (date(2026, 11, 2), date(2026, 12, 18)),
                      (date(2027, 1, 4), date(2027, 2, 12))))
SOME_DAY = date(2026, 12, 7)


@pytest.fixture
def english(app):
    with app.test_request_context("/"):
        yield


def test_monthly_rules_fall_on_the_right_weekday_of_the_month():
    first_saturday = Rule((Day.SA,), freq=MONTHLY, ordinals=(1,))
    last_friday = Rule((Day.FR,), freq=MONTHLY, ordinals=(-1,))
    assert occurrences(first_saturday, date(2026, 12, 1), date(2027, 3, 31)) == [
        date(2026, 12, 5), date(2027, 1, 2), date(2027, 2, 6), date(2027, 3, 6)]
    assert occurrences(last_friday, date(2026, 12, 1), date(2027, 2, 28)) == [
        date(2026, 12, 25), date(2027, 1, 29), date(2027, 2, 26)]
    fifteenth = Rule(freq=MONTHLY, monthday=31)
    assert occurrences(fifteenth, date(2027, 1, 1), date(2027, 5, 31)) == [
        date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31)]  # months without a 31st are skipped


def test_every_two_weeks_counts_from_its_first_date_and_without_one_cannot_be_dated():
    fortnightly = Rule((Day.FR,), interval=2, valid_from=date(2027, 1, 8))
    assert occurrences(fortnightly, date(2027, 1, 1), date(2027, 2, 12)) == [
        date(2027, 1, 8), date(2027, 1, 22), date(2027, 2, 5)]
    assert runs_on(Rule((Day.FR,), interval=2), date(2027, 1, 8)) is None
    assert occurrences(Rule((Day.FR,), interval=2), date(2027, 1, 1), date(2027, 2, 1)) == []


def test_term_time_and_holidays_follow_the_term_dates():
    saturdays = Rule((Day.SA,), period=Period.TERM_TIME)
    assert occurrences(saturdays, date(2026, 12, 1), date(2027, 1, 16), TERMS) == [
        date(2026, 12, 5), date(2026, 12, 12), date(2027, 1, 9), date(2027, 1, 16)]
    assert runs_on(saturdays, date(2026, 12, 12)) is None  # no term dates given: nobody can say


def test_notes_that_say_which_weekday_of_the_month_become_rules():
    assert from_note(Day.SA, "First Saturday of the month") == ((1,), "")
    assert from_note(Day.TU, "Newcastle, third Tuesday of the month") == ((3,), "Newcastle")
    assert from_note(Day.SA, "Second and fourth Saturdays") == ((2, 4), "")
    assert from_note(Day.SU, "Last Sunday of the month, when running") == ((-1,), "when running")
    assert from_note(Day.SA, "First Sunday of the month") is None  # another day than the session's
    assert from_note(Day.SA, "About one Saturday a month") is None
    assert Rule.from_data({"day": "SA", "notes": "First Saturday of the month"}).ordinals == (1,)


def test_byday_is_read_as_icalendar_writes_it():
    assert parse_byday("MO,TU,WE") == ((Day.MO, Day.TU, Day.WE), ())
    assert parse_byday("1SA,-1FR") == ((Day.FR, Day.SA), (1, -1))
    assert parse_byday("5TU,xx,+2WE") == ((Day.TU, Day.WE), (2,))  # a fifth is no ordinal we keep
    assert Rule((Day.SA,), freq=MONTHLY, ordinals=(1, 3)).byday == "1SA,3SA"


def test_rules_in_words(english):
    today = SOME_DAY
    assert in_words([Rule((Day.SA,), time(10), time(12), freq=MONTHLY, ordinals=(1,))], today=today) == [
        "First Saturday of the month, 10am to midday"]
    assert in_words([Rule((Day.SA,), time(10), time(15), Period.TERM_TIME, freq=MONTHLY, ordinals=(2, 4))],
                    today=today) == ["Second and fourth Saturday of the month, 10am to 3pm, term time only"]
    assert in_words([Rule((Day.FR,), time(18), time(20), interval=2, valid_from=date(2027, 1, 8))],
                    today=today) == ["Every 2 weeks on Fridays, 6pm to 8pm (from 8 January 2027)"]
    assert in_words([Rule(opens=time(9, 30), freq=MONTHLY, monthday=15)], today=today) == [
        "On the 15th of every month, from 9:30am"]
    dated = Rule(opens=time(10), closes=time(12), freq=ONCE,
                 dates=(date(2026, 12, 1), date(2026, 12, 12), date(2027, 1, 9)))
    assert in_words([dated], today=today) == [
        "Saturday 12 December and Saturday 9 January 2027, 10am to midday"]  # the past date left out
    assert in_words([Rule(opens=time(10), freq=ONCE, dates=(date(2026, 12, 1),))], today=today) == []
    many = Rule(opens=time(10), freq=ONCE, dates=tuple(date(2027, 1, 1) + timedelta(days=7 * n) for n in range(9)))
    assert in_words([many], today=today)[0].endswith("and 5 more dates, from 10am")
    assert in_words([Rule((Day.MO, Day.TU, Day.WE, Day.TH, Day.FR), time(9), time(16))], today=today) == [
        "Monday to Friday, 9am to 4pm"]


def test_monthly_next_date_is_the_real_one(english):
    rule = Rule((Day.SA,), time(10), time(12), freq=MONTHLY, ordinals=(1,))
    (line,) = in_words([rule], today=SOME_DAY, next_dates=True, terms=TERMS)
    assert line.endswith("Next: Saturday 2 January")


def test_typed_dates():
    assert parse_date_typed("12/12/2026", SOME_DAY) == date(2026, 12, 12)
    assert parse_date_typed("Sat 12th Dec", SOME_DAY) == date(2026, 12, 12)
    assert parse_date_typed("3 March", SOME_DAY) == date(2027, 3, 3)  # no year: the next one
    assert parse_date_typed("2027-07-03", SOME_DAY) == date(2027, 7, 3)
    for bad in ("30/2/2027", "soon", "12/13/2026", "29 February"):
        with pytest.raises(DateError):
            parse_date_typed(bad, SOME_DAY)
    assert parse_dates_typed("12/12/2026\n12/12/2026, 19/12/2026", SOME_DAY) == [
        date(2026, 12, 12), date(2026, 12, 19)]
    with pytest.raises(DateError, match="at most 60"):
        parse_dates_typed("\n".join(["1/1/2027"] * 10_000), SOME_DAY)


# --- properties ---------------------------------------------------------------------------------

rules = st.builds(
    Rule,
    days=st.lists(st.sampled_from(list(Day)), min_size=1, max_size=7, unique=True).map(
        lambda days: tuple(d for d in Day if d in days)),
    period=st.sampled_from(list(Period)),
    valid_from=st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2027, 12, 31))),
    freq=st.sampled_from([recurrence.WEEKLY, MONTHLY]),
    interval=st.integers(1, recurrence.MAX_INTERVAL),
    ordinals=st.lists(st.sampled_from(recurrence.ORDINALS), min_size=1, max_size=3, unique=True).map(
        lambda found: tuple(o for o in recurrence.ORDINALS if o in found)),
).map(lambda rule: replace(rule, ordinals=() if rule.freq == recurrence.WEEKLY else rule.ordinals,
                           interval=1 if rule.freq == MONTHLY else rule.interval))


@PROPERTIES
@given(rule=rules, start=st.dates(date(2026, 1, 1), date(2028, 12, 31)), days=st.integers(0, 120))
def test_every_occurrence_fits_the_rule_and_no_fitting_day_is_missed(rule, start, days):
    """Expansion: each day found runs; each day in the span that surely runs is found; all in order, in bounds."""
    end = start + timedelta(days=days)
    found = occurrences(rule, start, end, TERMS)
    assert found == sorted(set(found))
    assert all(start <= day <= end and runs_on(rule, day, TERMS) is True for day in found)
    assert all(day.weekday() in [list(Day).index(d) for d in rule.days] for day in found)
    missed = [start + timedelta(days=n) for n in range(days + 1)
              if runs_on(rule, start + timedelta(days=n), TERMS) is True and start + timedelta(days=n) not in found]
    assert missed == []


@PROPERTIES
@given(rule=rules)
def test_a_rule_survives_its_data_and_its_stored_byday(rule):
    """A rule written as a listing's data and read back is the same rule; so are its days read from BYDAY."""
    data = rule.to_data()
    again = Rule.from_data(data)
    assert again.to_data() == data
    days, ordinals = parse_byday(rule.byday)
    assert days == rule.days
    if rule.freq == MONTHLY:
        assert ordinals == rule.ordinals


@PROPERTIES
@given(text=st.text(max_size=40))
def test_any_typed_date_is_a_date_or_a_clear_refusal(text):
    try:
        parsed = parse_date_typed(text, SOME_DAY)
    except DateError as error:
        assert str(error)
    else:
        assert isinstance(parsed, date)


# --- open data and calendars --------------------------------------------------------------------

RULES = [
    Rule((Day.MO, Day.TU, Day.WE, Day.TH, Day.FR), time(9), time(16)),
    Rule((Day.FR,), time(18), time(20), interval=2, valid_from=date(2027, 1, 8)),
    Rule((Day.SA,), time(10), time(12), Period.TERM_TIME, freq=MONTHLY, ordinals=(1,), notes="Burton"),
    Rule(opens=time(9, 30), closes=time(11), freq=MONTHLY, monthday=15),
    Rule(opens=time(10), closes=time(15), freq=ONCE, dates=(date(2027, 6, 12), date(2027, 7, 3))),
]


def _give_swim(rules):
    from local_offer.extensions import db
    from local_offer.listings.writing import _fill_schedule
    from local_offer.models import Listing, Schedule

    from support import SWIM

    listing = db.session.get(Listing, SWIM)
    rows = []
    for position, rule in enumerate(rules):
        row = Schedule()
        _fill_schedule(row, rule.to_data(), position)
        rows.append(row)
    listing.schedules = rows
    db.session.commit()
    return listing


def test_oruk_feeds_carry_the_rules_in_icalendar_fields_and_read_them_back(demo):
    """Export: freq, interval, byday ("1SA"), bymonthday, dtstart only; import: the same rules again."""
    from local_offer.interchange import oruk
    from local_offer.interchange.schedules import schedules_in

    listing = _give_swim(RULES)
    exported = oruk.service(listing)["regular_schedules"]
    weekly, fortnightly, monthly, dated, first_once, second_once = exported
    assert (weekly["freq"], weekly["byday"]) == ("WEEKLY", "MO,TU,WE,TH,FR")
    assert (fortnightly["interval"], fortnightly["dtstart"], fortnightly["byday"]) == (2, "2027-01-08", "FR")
    assert (monthly["freq"], monthly["byday"], monthly["description"]) == ("MONTHLY", "1SA", "term time Burton")
    assert (dated["freq"], dated["bymonthday"]) == ("MONTHLY", 15) and "byday" not in dated
    assert "freq" not in first_once and first_once["dtstart"] == first_once["valid_to"] == "2027-06-12"
    allowed = {"id", "weekday", "freq", "interval", "byday", "bymonthday", "dtstart", "valid_from", "valid_to",
               "opens_at", "closes_at", "description"}
    assert all(set(entry) <= allowed for entry in exported)
    from support import SAMPLES, errors

    if SAMPLES is not None:  # the standard's own v1 schema, when ../shared/oruk-samples is here
        assert errors("service.json", oruk.service(listing)) == []
    warnings: list[str] = []
    read = [Rule.from_data(entry) for entry in schedules_in({"id": "x", "regular_schedules": exported}, warnings)]
    assert warnings == []
    assert [rule.to_data() for rule in read] == [rule.to_data() for rule in RULES]


def test_the_calendar_file_repeats_as_the_rules_say(demo, client, monkeypatch):
    """.ics: weekly on five days, every 2 weeks, monthly on the first Saturday (term time), the 15th, and dates."""
    from icalendar import Calendar

    from local_offer import term_dates
    from local_offer.listings import calendar as listing_calendar
    from local_offer.listings.links import listing_ref

    monkeypatch.setattr(listing_calendar, "_today", lambda: SOME_DAY)
    for starts, ends in TERMS.terms:
        term_dates.add(f"Term from {starts}", starts, ends, actor=None)
    listing = _give_swim(RULES)
    response = client.get(f"/listings/{listing_ref(listing)}/calendar.ics")
    assert response.status_code == 200
    events = list(Calendar.from_ical(response.data).walk("VEVENT"))
    rules = [event.get("rrule") for event in events]
    assert rules[0]["FREQ"] == ["WEEKLY"] and rules[0]["BYDAY"] == ["MO", "TU", "WE", "TH", "FR"]
    assert rules[1]["INTERVAL"] == [2] and events[1]["dtstart"].dt.date() == date(2027, 1, 8)
    assert rules[2]["FREQ"] == ["MONTHLY"] and rules[2]["BYDAY"] == ["1SA"]
    assert events[2]["dtstart"].dt.date() == date(2027, 2, 6)  # 2 January is in the holidays: term time only
    assert rules[3]["BYMONTHDAY"] == [15]
    assert rules[4] is None and events[4]["dtstart"].dt.date() == date(2027, 6, 12)
    assert [value.dt.date() for value in events[4]["rdate"].dts] == [date(2027, 7, 3)]


def test_rules_in_polish(app):
    """A Polish page says a monthly session in Polish, days and times in its own style."""
    with app.test_request_context("/?lang=pl", headers={"Accept-Language": "pl"}):
        from flask_babel import refresh

        from local_offer.i18n import current_language

        refresh()
        if current_language() != "pl":
            pytest.skip("the request did not choose Polish")
        (line,) = in_words([Rule((Day.SA,), time(10), time(12), freq=MONTHLY, ordinals=(1,))], today=SOME_DAY)
        assert line.startswith("Sobota w pierwszym tygodniu miesiąca") and "10:00" in line


@pytest.mark.parametrize("session, words", [
    ({"days": ["TU"], "freq": "monthly", "ordinals": [5]}, "weeks of the month"),
    ({"days": ["FR"], "interval": 99}, "number of weeks from 1 to 12"),
    ({"freq": "once", "dates": ["2027-01-01"] * 10_000}, "at most 60 dates"),
    ({"freq": "once", "dates": ["2027-02-30"]}, "is not a date"),
    ({"days": ["SA"], "valid_from": "2027-09-01", "valid_to": "2027-08-01"}, "ends (2027-08-01) before it starts"),
    ({"days": ["SA"], "freq": "fortnightly"}, "freq 'fortnightly' is not one of"),
    ({"days": "SA"}, "are not days like"),
    ({"days": ["SA"], "opens": "25:00"}, "is not a time like 09:30"),
])
def test_imported_sessions_that_cannot_be_kept_are_refused_by_name(session, words):
    """An import's impossible session: the record is refused with a reason naming the part, nothing stored."""
    from local_offer.listings import limits

    found = limits.problems({"name": "A", "schedules": [session]})
    assert any(words in problem for problem in found), found


def test_the_api_s_day_filter_reads_every_day_of_a_rule(demo, client):
    """?day=WE finds a Monday-to-Friday session; ?day=SA a first-Saturday one; ?day=SU neither."""
    from local_offer.search import get_service

    from support import SWIM

    _give_swim(RULES[:3])
    get_service().rebuild()

    def found(day):
        return [item["id"] for item in client.get(f"/api/v1/services?day={day}&per_page=100").get_json()["content"]]

    assert SWIM in found("WE") and SWIM in found("SA") and SWIM not in found("SU")
