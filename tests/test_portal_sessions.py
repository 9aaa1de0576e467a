"""Providers say when they run in one page: days ticked together, how often, and times as they type them."""

from __future__ import annotations

import re

from local_offer.extensions import db
from local_offer.listings import workflow
from local_offer.models import Listing

from support import SWIM, text_of
from test_portal import as_user, fields_of, people  # noqa: F401  (people is a fixture)

WHEN = {"delivery_methods": ["online"], "in_area": "yes"}


def _page_loads(client, listing_id, data):
    """Open the times page from the task list and save it, counting the pages a provider waits for."""
    url = f"/portal/listings/{listing_id}/sections/when_where"
    loads = 1
    hidden = fields_of(client, url)
    response = client.post(url, data={**hidden, **data})
    loads += 1
    assert response.status_code == 302, text_of(response)[:600]
    assert response.headers["Location"].endswith(f"/portal/listings/{listing_id}")
    return loads


def _approve_and_read(app, client):
    """Send the change, approve it as a coordinator, and return the listing page's text."""
    hidden = fields_of(client, f"/portal/listings/{SWIM}")
    assert client.post(f"/portal/listings/{SWIM}/submit", data=hidden).status_code == 302
    coordinator = as_user(app, "coordinator@example.gov.uk")
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    review = text_of(coordinator.get(f"/moderation/changes/{revision.id}"))
    assert coordinator.post(f"/moderation/changes/{revision.id}/approve",
                            data={"version": revision.version}).status_code == 302
    return review, text_of(app.test_client().get(f"/listings/{SWIM}", follow_redirects=True))


def test_monday_to_friday_9am_to_4pm_takes_two_page_loads_and_reads_as_one_line(app, people):
    """Done when: Monday to Friday, 9am to 4pm is one session, ticked and typed on one page, saved in 2 loads."""
    provider = as_user(app, "provider@example.org")
    loads = _page_loads(provider, SWIM, {**WHEN, "schedules-0-days": ["MO", "TU", "WE", "TH", "FR"],
                                         "schedules-0-opens": "9am", "schedules-0-closes": "4pm",
                                         "schedules-0-how_often": "weekly", "schedules-0-period": "all_year"})
    assert loads == 2
    db.session.expire_all()
    (session,) = workflow.open_revision(db.session.get(Listing, SWIM)).data["schedules"]
    assert session["days"] == ["MO", "TU", "WE", "TH", "FR"] and (session["opens"], session["closes"]) == (
        "09:00", "16:00")
    review, page = _approve_and_read(app, provider)
    assert "Monday to Friday, 9am to 4pm" in review
    assert "Monday to Friday, 9am to 4pm" in page
    assert "Monday, 9am" not in page


def test_first_saturday_of_the_month_in_term_time(app, people):
    """Done when: "first Saturday of the month, term time only" is said as such, not as every Saturday."""
    provider = as_user(app, "provider@example.org")
    _page_loads(provider, SWIM, {**WHEN, "schedules-0-days": "SA", "schedules-0-opens": "10am to noon",
                                 "schedules-0-how_often": "monthly_day", "schedules-0-ordinal": "1",
                                 "schedules-0-period": "term_time"})
    db.session.expire_all()
    listing = db.session.get(Listing, SWIM)
    (session,) = workflow.open_revision(listing).data["schedules"]
    assert (session["freq"], session["ordinals"], session["opens"], session["closes"]) == (
        "monthly", [1], "10:00", "12:00")
    review, page = _approve_and_read(app, provider)
    assert "First Saturday of the month, 10am to midday, term time only" in page
    assert "First Saturday of the month" in review
    db.session.expire_all()
    (row,) = db.session.get(Listing, SWIM).schedules
    assert (row.freq, row.byday, row.weekday.value) == ("monthly", "1SA", "SA")
    # opened again, the form shows what was saved
    form = provider.get(f"/portal/listings/{SWIM}/sections/when_where").get_data(as_text=True)
    assert re.search(r'value="monthly_day"[^>]*checked|checked[^>]*value="monthly_day"', form)
    assert re.search(r'<option value="1" selected', form)


def test_every_two_weeks_and_dates_listed(app, people):
    """Every 2 weeks from a date, and one-off dates typed as people write them, one a line."""
    provider = as_user(app, "provider@example.org")
    _page_loads(provider, SWIM, {
        **WHEN, "schedules-0-days": "FR", "schedules-0-opens": "6pm", "schedules-0-closes": "8pm",
        "schedules-0-how_often": "every_n", "schedules-0-interval": "2",
        "schedules-0-valid_from": ["8", "1", "2027"],
        "schedules-1-opens": "10am", "schedules-1-closes": "3pm", "schedules-1-how_often": "dates",
        "schedules-1-dates": "Sat 12 June 2027\n19/6/2027; 2027-07-03"})
    db.session.expire_all()
    fortnightly, dated = workflow.open_revision(db.session.get(Listing, SWIM)).data["schedules"]
    assert (fortnightly["interval"], fortnightly["valid_from"]) == (2, "2027-01-08")
    assert dated["freq"] == "once" and dated["dates"] == ["2027-06-12", "2027-06-19", "2027-07-03"]
    _review, page = _approve_and_read(app, provider)
    assert "Every 2 weeks on Fridays, 6pm to 8pm" in page
    assert "Saturday 12 June 2027, Saturday 19 June 2027 and Saturday 3 July 2027, 10am to 3pm" in page


def test_add_another_session_shows_one_more_and_saves_nothing(app, people):
    """"Add another session" works without JavaScript: the page again with a blank session, nothing stored."""
    provider = as_user(app, "provider@example.org")
    url = f"/portal/listings/{SWIM}/sections/when_where"
    page = provider.get(url).get_data(as_text=True)
    before = len(re.findall(r'name="schedules-\d+-opens"', page))
    hidden = fields_of(provider, url)
    rows = {f"schedules-{n}-opens": f"{9 + n}am" for n in range(before)}  # what the browser sends back
    response = provider.post(url, data={**hidden, **WHEN, **rows, "schedules-0-days": "MO",
                                        "add_session": "Add another session"})
    assert response.status_code == 200
    again = response.get_data(as_text=True)
    assert len(re.findall(r'name="schedules-\d+-opens"', again)) == before + 1
    assert 'value="9am"' in again and "There is a problem" not in again
    db.session.expire_all()
    assert workflow.open_revision(db.session.get(Listing, SWIM)) is None


def test_remove_this_session_drops_it_and_keeps_the_rest(app, people):
    """Ticking "Remove this session" drops that one; the others are kept as they were."""
    provider = as_user(app, "provider@example.org")
    listing = db.session.get(Listing, SWIM)
    kept, dropped = listing.schedules[0].id, listing.schedules[1].id
    _page_loads(provider, SWIM, {**WHEN, "schedules-0-id": kept, "schedules-0-days": "SA",
                                 "schedules-0-opens": "09:00", "schedules-0-closes": "10:00",
                                 "schedules-0-period": "term_time",
                                 "schedules-1-id": dropped, "schedules-1-days": "WE", "schedules-1-opens": "17:30",
                                 "schedules-1-remove": "y"})
    db.session.expire_all()
    sessions = workflow.open_revision(db.session.get(Listing, SWIM)).data["schedules"]
    assert [session["id"] for session in sessions] == [kept]
