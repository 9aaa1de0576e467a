"""School term dates: coordinators keep them per school year; "term time only" sessions get their next date from them."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from local_offer import term_dates
from local_offer.extensions import db
from local_offer.listings.when import in_words, next_date
from local_offer.listings.recurrence import weekly as Session
from local_offer.models import AuditEvent, Role, SchedulePeriod as Period, SchoolTerm, Weekday as Day

from local_offer.listings.links import listing_ref

from support import make_user, sign_in, text_of

AUTUMN_2 = (date(2026, 11, 2), date(2026, 12, 18))
SPRING_1 = (date(2027, 1, 4), date(2027, 2, 12))


@pytest.fixture
def coordinator(app):
    """A signed-in coordinator."""
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    client = app.test_client()
    assert sign_in(client, "coordinator@example.gov.uk").status_code == 302
    return client


def add_term(client, name, starts: date, ends: date):
    """Fill in the add-a-term form as a coordinator does."""
    return client.post("/admin/term-dates", data={
        "name": name, "starts": [str(starts.day), str(starts.month), str(starts.year)],
        "ends": [str(ends.day), str(ends.month), str(ends.year)]})


def test_a_coordinator_adds_terms_by_school_year_and_removes_one(coordinator):
    """Terms are listed under their school year; adding and removing are audited."""
    assert add_term(coordinator, "Autumn term 2", *AUTUMN_2).status_code == 302
    assert add_term(coordinator, "Spring term 1", *SPRING_1).status_code == 302
    page = text_of(coordinator.get("/admin/term-dates"))
    assert "School year 2026 to 2027" in page and "2 November 2026" in page and "12 February 2027" in page
    term = db.session.execute(select(SchoolTerm).where(SchoolTerm.name == "Spring term 1")).scalar_one()
    assert coordinator.post(f"/admin/term-dates/{term.id}/delete").status_code == 302
    assert [t.name for t in term_dates.all_terms()] == ["Autumn term 2"]
    actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert actions.count("term.add") == 2 and actions.count("term.remove") == 1


@pytest.mark.parametrize("name, starts, ends, message", [
    ("", date(2027, 4, 12), date(2027, 5, 28), "Enter the term's name"),
    ("Backwards", date(2027, 5, 28), date(2027, 4, 12), "The last day must be the same as or after the first day"),
    ("Overlap", date(2026, 12, 1), date(2027, 1, 10), "These dates overlap Autumn term 2"),
    ("Too long", date(2027, 4, 12), date(2029, 4, 12), "A term must be shorter than a year"),
    ("Far future", date(2027, 4, 12), date(2127, 4, 12), "Enter a date between 2000 and 2100"),
])
def test_bad_terms_are_refused_by_their_field_and_nothing_is_kept(coordinator, name, starts, ends, message):
    """A clear message by the field, a 400, and the terms as they were."""
    add_term(coordinator, "Autumn term 2", *AUTUMN_2)
    response = add_term(coordinator, name, starts, ends)
    assert response.status_code == 400 and message in text_of(response)
    assert "govuk-error-summary" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count(SchoolTerm.id))).scalar_one() == 1


def test_impossible_dates_are_a_400_not_a_500(coordinator):
    """February 30th and words in the boxes: the form again with a message."""
    response = coordinator.post("/admin/term-dates", data={
        "name": "x", "starts": ["30", "2", "2027"], "ends": ["soon", "", "2027"]})
    assert response.status_code == 400 and "govuk-error-summary" in response.get_data(as_text=True)
    assert "Enter a real date, like 2 9 2026" in text_of(response)


def test_only_coordinators_keep_term_dates(app, client):
    """The public and providers cannot see or change them."""
    assert client.get("/admin/term-dates").status_code in (302, 401, 403)
    make_user("provider@example.org", Role.PROVIDER)
    provider = app.test_client()
    sign_in(provider, "provider@example.org")
    assert provider.get("/admin/term-dates").status_code in (302, 403)
    assert add_term(provider, "Sneaky", *AUTUMN_2).status_code in (302, 403)
    assert db.session.execute(select(func.count(SchoolTerm.id))).scalar_one() == 0


def test_term_time_and_holiday_sessions_get_their_next_date_from_the_terms(app):
    """Saturday 19 December is in the holidays: a term-time session's next date is Saturday 9 January."""
    calendar = term_dates.TermCalendar((AUTUMN_2, SPRING_1))
    friday = date(2026, 12, 18)
    term_only = Session(Day.SA, time(10), time(11), Period.TERM_TIME)
    holidays_only = Session(Day.SA, time(10), time(11), Period.SCHOOL_HOLIDAYS)
    assert next_date(term_only, friday, terms=calendar) == date(2027, 1, 9)
    assert next_date(holidays_only, friday, terms=calendar) == date(2026, 12, 19)
    assert next_date(holidays_only, date(2027, 1, 4), terms=calendar) == date(2027, 2, 13)  # half term
    assert next_date(term_only, date(2027, 2, 13), terms=calendar) is None  # after the last term entered: holidays
    assert next_date(term_only, date(2028, 1, 1), terms=calendar) is None  # a school year with no terms entered
    with app.test_request_context("/"):
        assert in_words([term_only], today=friday, next_dates=True, terms=calendar) == [
            "Saturdays, 10am to 11am, term time only. Next: Saturday 9 January"]


def test_the_calendar_knows_term_days_holidays_and_what_nobody_said():
    """Inside a term: True; between terms of a school year with terms: False; another school year: None."""
    calendar = term_dates.TermCalendar((AUTUMN_2, SPRING_1))
    assert calendar.is_term_day(date(2026, 11, 2)) is True and calendar.is_term_day(date(2026, 12, 18)) is True
    assert calendar.is_term_day(date(2026, 12, 25)) is False and calendar.is_term_day(date(2027, 8, 31)) is False
    assert calendar.is_term_day(date(2027, 9, 1)) is None and calendar.is_term_day(date(2025, 12, 25)) is None


def test_the_demo_council_s_terms_load_once(app, runner, small_content):
    """`flask content load` adds the seed terms; a second load adds none."""
    assert runner.invoke(args=["content", "load"]).exit_code == 0
    count = db.session.execute(select(func.count(SchoolTerm.id))).scalar_one()
    assert count == 6
    result = runner.invoke(args=["content", "load"])
    assert "school terms: 0 added, 6 already there" in result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=80),
       starts=st.lists(st.one_of(st.text(max_size=6), st.integers(-5, 3000).map(str)), max_size=5),
       ends=st.lists(st.one_of(st.text(max_size=6), st.integers(-5, 3000).map(str)), max_size=5))
def test_any_term_form_gets_a_redirect_or_a_400(coordinator, name, starts, ends):
    """Whatever is typed (or however many date boxes are sent): a redirect or the form with messages, never a 500."""
    response = coordinator.post("/admin/term-dates", data={"name": name, "starts": starts, "ends": ends})
    assert response.status_code in (302, 400)


# --- "Add to calendar" ---------------------------------------------------------------------------


def test_a_listing_s_sessions_go_in_a_calendar_skipping_the_holidays(demo, client, monkeypatch):
    """A term-time Saturday session repeats weekly from its next term date, skips holidays, ends with the terms."""
    from icalendar import Calendar

    from local_offer.listings import calendar as listing_calendar

    monkeypatch.setattr(listing_calendar, "_today", lambda: date(2026, 12, 6))  # never the wall clock

    from local_offer.extensions import db
    from local_offer.models import Listing

    from support import SWIM

    for name, (starts, ends) in (("Autumn term 2", AUTUMN_2), ("Spring term 1", SPRING_1)):
        term_dates.add(name, starts, ends, actor=None)
    listing = db.session.get(Listing, SWIM)
    page = client.get(f"/listings/{SWIM}", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Add these sessions to your calendar" in html
    response = client.get(f"/listings/{listing_ref(listing)}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    events = [part for part in Calendar.from_ical(response.data).walk("VEVENT")]
    assert len(events) == 1  # the holiday session has a note ("Extra sessions in the summer holidays"): left out
    event = events[0]
    assert str(event["summary"]) == listing.name
    assert event["rrule"]["FREQ"] == ["WEEKLY"] and event["rrule"]["BYDAY"] == ["SA"]
    assert event["rrule"]["UNTIL"][0].astimezone().date() in (date(2027, 8, 31), date(2027, 9, 1))  # the known year
    skipped = {value.dt.date() for exdate in ([event["exdate"]] if not isinstance(event["exdate"], list)
                                             else event["exdate"]) for value in exdate.dts}
    assert date(2026, 12, 26) in skipped and date(2027, 1, 2) in skipped and date(2027, 1, 9) not in skipped
    assert event["dtstart"].dt.tzinfo is not None and event["dtstart"].dt.hour == 9
    assert event["dtstart"].dt.date() == date(2026, 12, 12)  # the next term-time Saturday
    assert "listings/" in str(event["url"])


def test_no_calendar_for_a_withdrawn_listing_or_sessions_nobody_can_date(demo, client):
    """A withdrawn or unknown listing is a 404 with a message; so is one whose sessions cannot be dated."""
    from local_offer.extensions import db
    from local_offer.models import Listing, ListingStatus

    from support import FORUM, SWIM

    response = client.get("/listings/no-such-thing-12345678/calendar.ics")
    assert response.status_code == 404 and "could not be found" in text_of(response)
    assert client.get(f"/listings/{SWIM}/calendar.ics").status_code == 404  # term time, and no term dates yet
    assert "cannot be added to a calendar" in text_of(client.get(f"/listings/{SWIM}/calendar.ics"))
    assert "Add these sessions to your calendar" not in text_of(client.get(f"/listings/{SWIM}", follow_redirects=True))
    listing = db.session.get(Listing, FORUM)
    listing.status = ListingStatus.ARCHIVED  # withdrawn from the Local Offer
    db.session.commit()
    assert client.get(f"/listings/{FORUM}/calendar.ics").status_code == 404
