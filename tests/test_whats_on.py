"""What's on: sessions day by day this week, this weekend or in the next school holidays, from their real rules."""

from __future__ import annotations

from datetime import date

import pytest

from local_offer import term_dates
from local_offer.directory import whats_on
from local_offer.extensions import db
from local_offer.listings.links import listing_ref
from local_offer.models import Listing

from support import CHILDMINDER, SWIM, text_of

AUTUMN_2 = (date(2026, 11, 2), date(2026, 12, 18))
SPRING_1 = (date(2027, 1, 4), date(2027, 2, 12))


@pytest.fixture
def on_monday_7_december(demo, monkeypatch):
    """The demo listings, this school year's winter terms, and today fixed (never the wall clock)."""
    for name, (starts, ends) in (("Autumn term 2", AUTUMN_2), ("Spring term 1", SPRING_1)):
        term_dates.add(name, starts, ends, actor=None)
    monkeypatch.setattr(whats_on, "today", lambda: date(2026, 12, 7))


def test_the_coming_week_lists_each_day_s_sessions_with_links(on_monday_7_december, client):
    """The next 7 days: each day its sessions, earliest first, each linking to its listing."""
    response = client.get("/whats-on")
    assert response.status_code == 200
    page = text_of(response)
    assert "Monday 7 December to Sunday 13 December" in page
    assert "Saturday 12 December 9am to 10am Otters calm swim sessions" in page
    childminder = db.session.get(Listing, CHILDMINDER).name
    assert page.count(childminder) == 3  # Monday, Tuesday and Wednesday
    assert page.index("Monday 7 December") < page.index(childminder) < page.index("Saturday 12 December")
    html = response.get_data(as_text=True)
    assert f'href="/listings/{listing_ref(db.session.get(Listing, SWIM))}"' in html


def test_this_weekend_has_its_own_address_and_only_the_weekend(on_monday_7_december, client):
    """"This weekend" is a link of its own; a Monday-to-Wednesday childminder is not on it."""
    week = client.get("/whats-on").get_data(as_text=True)
    assert "/whats-on?when=weekend" in week
    response = client.get("/whats-on?when=weekend")
    page = text_of(response)
    assert response.status_code == 200 and "Saturday 12 December to Sunday 13 December" in page
    assert "Otters calm swim sessions" in page
    childminder = db.session.get(Listing, CHILDMINDER).name
    assert childminder not in page


def test_a_monthly_saturday_is_on_its_own_weekend_only_but_still_counts_as_a_saturday(on_monday_7_december, client,
                                                                                       monkeypatch):
    """First Saturday of the month: not this weekend (the 12th), but the weekend of 2 January; search's day facet says SA."""
    from local_offer.search_sources import DirectorySources

    listing = db.session.get(Listing, SWIM)
    saturday = next(row for row in listing.schedules if row.byday == "SA")
    saturday.freq, saturday.byday = "monthly", "1SA"
    db.session.commit()
    assert "Otters calm swim sessions" not in text_of(client.get("/whats-on?when=weekend"))
    monkeypatch.setattr(whats_on, "today", lambda: date(2027, 1, 1))  # the Friday before January's first Saturday
    page = text_of(client.get("/whats-on?when=weekend"))
    assert "Saturday 2 January" in page and "Otters calm swim sessions" not in page  # term time only: 2 Jan is a holiday
    saturday.period = saturday.period.__class__("all_year")
    db.session.commit()
    assert "Otters calm swim sessions" in text_of(client.get("/whats-on?when=weekend"))
    assert "SA" in DirectorySources().facet_records([SWIM])[SWIM].days


def test_the_next_school_holidays_run_between_the_terms(on_monday_7_december, client):
    """The next holidays: from the day after the autumn term to the day before the spring term."""
    page = text_of(client.get("/whats-on?when=holidays"))
    assert "Saturday 19 December to Sunday 3 January" in page
    childminder = db.session.get(Listing, CHILDMINDER).name
    assert childminder in page  # all year, Monday to Wednesday
    assert "Otters calm swim sessions" not in page  # term time on Saturdays; its holiday session's note says summer


def test_filters_and_bad_choices(on_monday_7_december, client):
    """Filters narrow it like search; a bad choice or age is a 400 with a message, never a 500."""
    assert client.get("/whats-on?when=fortnight").status_code == 400
    assert "Choose the next 7 days" in text_of(client.get("/whats-on?when=fortnight"))
    response = client.get("/whats-on?age=old")
    assert response.status_code == 400 and "Age must be a whole number" in text_of(response)
    assert client.get("/whats-on?radius=7&where=Leek").status_code == 400
    assert client.get("/whats-on?page=99999").status_code == 200
    assert client.get("/whats-on?where=%00").status_code in (200, 400)
    page = text_of(client.get("/whats-on?age=24"))
    assert "Otters calm swim sessions" not in page  # for younger children


def test_holidays_without_term_dates_say_so(demo, client, monkeypatch):
    """No term dates for the coming holidays: a plain message, not an empty or made-up list."""
    monkeypatch.setattr(whats_on, "today", lambda: date(2026, 12, 7))
    response = client.get("/whats-on?when=holidays")
    assert response.status_code == 200
    assert "has not given the school term dates" in text_of(response)
