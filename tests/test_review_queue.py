"""Reviews as a work queue: filters, bulk actions (audited), the signed "Still accurate" link, the provider's dashboard."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from local_offer import mail, review_links, review_queue, reviews
from local_offer.extensions import db
from local_offer.models import AuditEvent, Listing, ListingStatus, Role
from local_offer.search import SearchRequest, get_service

from support import CHILDMINDER, COLLEGE, FORUM, SCHOOL, SWIM, make_user, sign_in, text_of
from test_reviews import nothing_due, set_dates

TODAY = date.today()
PROPERTIES = settings(max_examples=40, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def staff(demo):
    """A coordinator, and a provider for the swimming club; every review far off but SWIM and FORUM overdue."""
    otters = db.session.get(Listing, SWIM).organisation
    people = {"coordinator": make_user("coordinator@example.gov.uk", Role.COORDINATOR),
              "provider": make_user("swim@example.org", Role.PROVIDER, [otters])}
    nothing_due()
    set_dates(SWIM, TODAY - timedelta(days=10))
    set_dates(FORUM, TODAY - timedelta(days=40))
    return people


@pytest.fixture
def coordinator(staff, app):
    client = app.test_client()
    sign_in(client, "coordinator@example.gov.uk")
    return client


def snapshot() -> list[tuple]:
    """Return what a refused request must leave as it was: every listing's dates and status, and the audit log."""
    db.session.expire_all()
    rows = db.session.execute(select(Listing.id, Listing.status, Listing.review_due, Listing.assured_date,
                                     Listing.review_reminded_for, Listing.version).order_by(Listing.id)).all()
    return [tuple(row) for row in rows] + [db.session.scalar(select(func.count(AuditEvent.id)))]


def fresh(listing_id: str) -> Listing:
    """Return the listing as stored now (requests run in sessions of their own)."""
    db.session.expire_all()
    return db.session.get(Listing, listing_id)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars())


def search_ids(**request) -> list[str]:
    return [hit.listing.id for hit in get_service().search(SearchRequest(per_page=400, **request)).hits]


def still_accurate_links(message) -> list[str]:
    return re.findall(r"https?://\S+/portal/still-accurate/\S+", message.get_content())


def path_of(link: str) -> str:
    return "/portal/" + link.split("/portal/", 1)[1]


# --- the queue and its filters -------------------------------------------------------------------


def test_the_queue_filters_by_state_and_provider(coordinator):
    """Due soon, overdue and hidden each show their own listings; a provider filter narrows them; counts agree."""
    set_dates(SCHOOL, TODAY + timedelta(days=5))
    everything = text_of(coordinator.get("/admin/reviews"))
    assert "3 listings" in everything and "Overdue (2)" in everything and "Due soon (1)" in everything
    overdue = text_of(coordinator.get("/admin/reviews?state=overdue"))
    assert "Otters calm swim sessions" in overdue and "Stafford Parent Carer Voice" in overdue
    assert "2 listings" in overdue
    due = coordinator.get("/admin/reviews?state=due").get_data(as_text=True)
    assert "Otters calm swim sessions" not in due
    otters = db.session.get(Listing, SWIM).organisation_id
    mine = coordinator.get(f"/admin/reviews?organisation={otters}").get_data(as_text=True)
    table = mine[mine.index("<table"):mine.index("</table>")]
    assert "Otters calm swim sessions" in table and "Stafford Parent Carer Voice" not in table
    for odd in ("?state=nonsense", "?organisation=not-an-id", "?page=-4", "?page=99999999999", "?page=2"):
        assert coordinator.get("/admin/reviews" + odd).status_code == 200, odd
    assert coordinator.get("/admin/reviews?state=%00").status_code == 400  # the site refuses NULs everywhere


def test_the_queue_is_for_coordinators_only(staff, app):
    anonymous = app.test_client()
    assert anonymous.get("/admin/reviews").status_code == 302
    assert anonymous.post("/admin/reviews", data={"action": "remind", "listing": [SWIM]}).status_code == 302
    provider = app.test_client()
    sign_in(provider, "swim@example.org")
    before = snapshot()
    assert provider.get("/admin/reviews").status_code == 403
    assert provider.post("/admin/reviews", data={"action": "checked", "how": "phone", "listing": [SWIM]}).status_code == 403
    assert snapshot() == before


# --- bulk actions ----------------------------------------------------------------------------------


def test_remind_now_emails_each_person_once_whatever_the_date_and_records_who(coordinator, staff):
    """Reminding now ignores the horizon (a listing due in months is reminded too); one email per person."""
    set_dates(FORUM, TODAY + timedelta(days=200))
    response = coordinator.post("/admin/reviews", data={"action": "remind", "listing": [SWIM, FORUM, SCHOOL]})
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/reviews")
    sent = mail.sent_messages()
    assert sorted(m["To"] for m in sent) == ["info@parentcarervoice.example.org", "swim@example.org"]
    page = text_of(coordinator.get(response.headers["Location"]))
    assert "Reminded the providers of 2 listings (2 emails sent)" in page
    assert "Hollybank Special School (no email address for its provider)" in page
    reminded = events("listing.review_reminded")
    assert {event.entity_id for event in reminded} == {SWIM, FORUM}
    assert all(event.actor == "coordinator@example.gov.uk" and event.changes["how"] == "reminded now"
               for event in reminded)
    assert fresh(FORUM).review_reminded_for == TODAY + timedelta(days=200)
    swim_mail = next(m for m in sent if m["To"] == "swim@example.org")
    assert len(still_accurate_links(swim_mail)) == 1


def test_mark_checked_moves_the_dates_on_and_records_who_and_how(coordinator, staff):
    response = coordinator.post("/admin/reviews", data={
        "action": "checked", "how": "phone", "note": "Spoke to <b>Sam</b> at the club", "listing": [SWIM, FORUM]})
    assert response.status_code == 302
    for listing_id in (SWIM, FORUM):
        listing = fresh(listing_id)
        assert listing.assured_date == TODAY and listing.review_due == reviews.next_review(TODAY)
    confirmed = events("listing.confirmed")
    assert {event.entity_id for event in confirmed} == {SWIM, FORUM}
    assert all(event.actor == "coordinator@example.gov.uk" and event.changes["how"] == "phone"
               and event.changes["note"] == "Spoke to Sam at the club" for event in confirmed)
    history = text_of(coordinator.get(f"/moderation/listings/{SWIM}/history"))
    assert "Confirmed still accurate" in history and "phone" in history


def test_hide_takes_listings_off_until_checked_and_checking_puts_them_back(coordinator, staff):
    assert SWIM in search_ids(text="swimming")
    coordinator.post("/admin/reviews", data={"action": "hide", "note": "No answer", "listing": [SWIM]})
    assert fresh(SWIM).status is ListingStatus.ARCHIVED
    assert SWIM not in search_ids(text="swimming")
    hidden = text_of(coordinator.get("/admin/reviews?state=hidden"))
    assert "Otters calm swim sessions" in hidden and "Hidden until checked" in hidden
    assert events("listing.review_hidden")[0].actor == "coordinator@example.gov.uk"
    coordinator.post("/admin/reviews", data={"action": "checked", "how": "visit", "listing": [SWIM]})
    listing = fresh(SWIM)
    assert listing.status is ListingStatus.PUBLISHED and listing.assured_date == TODAY
    assert SWIM in search_ids(text="swimming")
    assert [event.changes["status"] for event in events("listing.review_shown")] == [["archived", "published"]]


def test_extend_gives_more_time_without_counting_as_an_edit(coordinator, staff):
    version = db.session.get(Listing, FORUM).version
    response = coordinator.post("/admin/reviews", data={"action": "extend", "months": "3", "listing": [FORUM]})
    assert response.status_code == 302
    listing = fresh(FORUM)
    assert listing.review_due == review_queue.add_months(TODAY, 3) and listing.version == version
    (event,) = events("listing.review_extended")
    assert event.changes["months"] == 3 and event.actor == "coordinator@example.gov.uk"


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert review_queue.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert review_queue.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert review_queue.add_months(date(2024, 8, 31), 6) == date(2025, 2, 28)


def test_every_listing_matching_the_filters_without_ticking_any(coordinator, staff):
    """Without JavaScript, "select all" is a checkbox: the action applies to the filtered set."""
    response = coordinator.post("/admin/reviews", data={"action": "extend", "months": "1", "all_matching": "y",
                                                        "state": "overdue"})
    assert response.status_code == 302 and "state=overdue" in response.headers["Location"]
    assert {event.entity_id for event in events("listing.review_extended")} == {SWIM, FORUM}


@pytest.mark.parametrize("data, message", [
    ({"action": "checked", "listing": [SWIM]}, "Choose how you checked them"),
    ({"action": "extend", "listing": [SWIM]}, "Choose how much more time to give"),
    ({"action": "extend", "months": "12", "listing": [SWIM]}, "Not a valid choice"),
    ({"listing": [SWIM]}, "Choose what to do"),
    ({"action": "remind"}, "Tick the listings to change"),
    ({"action": "hide", "listing": [str(uuid.uuid4())]}, "do not exist"),
    ({"action": "hide", "listing": ["'; DROP TABLE listing; --"]}, "do not exist"),
    ({"action": "hide", "note": "x" * 501, "listing": [SWIM]}, "500 characters or fewer"),
])
def test_bad_bulk_requests_are_refused_clearly_and_change_nothing(coordinator, data, message):
    before = snapshot()
    response = coordinator.post("/admin/reviews", data=data)
    assert response.status_code == 400
    page = text_of(response)
    assert "There is a problem" in page and message in page
    assert snapshot() == before and mail.sent_messages() == []


@pytest.mark.parametrize("count", [201, 1000])
def test_a_thousand_listings_at_once_get_a_clear_answer_not_a_500(coordinator, count):
    before = snapshot()
    ids = [SWIM, FORUM] + [str(uuid.uuid4()) for _ in range(count - 2)]
    response = coordinator.post("/admin/reviews", data={"action": "checked", "how": "email", "listing": ids})
    assert response.status_code == 400
    assert f"You chose {count:,} listings. Choose 200 or fewer at a time" in text_of(response)
    assert snapshot() == before


def test_neighbours_services_and_withdrawn_listings_are_left_as_they_were(coordinator, staff):
    withdrawn = db.session.get(Listing, COLLEGE)
    withdrawn.status = ListingStatus.ARCHIVED
    db.session.commit()
    response = coordinator.post("/admin/reviews", data={"action": "checked", "how": "email",
                                                        "listing": [SWIM, COLLEGE]})
    page = text_of(coordinator.get(response.headers["Location"]))
    assert "Marked 1 listing as checked" in page and "1 left as it was" in page and "not on the Local Offer" in page
    assert fresh(COLLEGE).assured_date != TODAY and [event.entity_id for event in events("listing.confirmed")] == [SWIM]


@PROPERTIES
@given(data=st.fixed_dictionaries({}, optional={
    "action": st.one_of(st.sampled_from(["remind", "checked", "hide", "extend"]), st.text(max_size=20)),
    "how": st.one_of(st.sampled_from(["phone", "email", "visit"]), st.text(max_size=20)),
    "months": st.one_of(st.sampled_from(["1", "3", "6"]), st.text(max_size=10)),
    "note": st.text(max_size=600),
    "all_matching": st.sampled_from(["y", "", "no"]),
    "state": st.text(max_size=20),
    "organisation": st.text(max_size=40),
    "listing": st.lists(st.one_of(st.sampled_from([SWIM, FORUM, CHILDMINDER]), st.text(max_size=40)), max_size=6),
}))
def test_any_bulk_form_gets_a_redirect_or_a_clear_400_and_a_refusal_changes_nothing(coordinator, data):
    before = snapshot()
    response = coordinator.post("/admin/reviews", data=data)
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        assert "There is a problem" in text_of(response)
        assert snapshot() == before


# --- the "Still accurate" link ---------------------------------------------------------------------


def reminder_link(listing_id: str = SWIM) -> str:
    """Send reminders as cron does and return the "Still accurate" path for one listing (the link under its name)."""
    reviews.remind()
    name = db.session.get(Listing, listing_id).name
    for message in mail.sent_messages():
        _before, found, after = message.get_content().partition(name)
        if found:
            return path_of(re.search(r"https?://\S+/portal/still-accurate/\S+", after).group(0))
    raise AssertionError("no reminder names the listing")


def test_the_emailed_link_opens_one_button_and_only_the_post_confirms_once(staff, client):
    path = reminder_link(SWIM)
    before = snapshot()
    page = client.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Otters calm swim sessions" in text_of(page) and "Yes, it is still accurate" in text_of(page)
    assert client.get(path).status_code == 200 and client.head(path).status_code == 200
    assert snapshot() == before  # opening it (as a mail scanner does) changes nothing
    done = client.post(path)
    assert done.status_code == 200 and "Thank you: listing confirmed" in text_of(done)
    listing = fresh(SWIM)
    assert listing.assured_date == TODAY and listing.review_due == reviews.next_review(TODAY)
    (event,) = events("listing.confirmed")
    assert event.changes["how"] == "link in reminder email" and event.entity_id == SWIM
    after = snapshot()
    for method in (client.get, client.post):
        used = method(path)
        assert used.status_code == 410 and "This link has already been used" in text_of(used)
    assert snapshot() == after


def test_an_expired_link_is_refused_with_410_and_changes_nothing(staff, client, monkeypatch):
    listing = db.session.get(Listing, SWIM)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(__import__("time").time()) - 31 * 86400)
    token = review_links.make_token(listing)
    monkeypatch.undo()
    before = snapshot()
    for method in (client.get, client.post):
        response = method(f"/portal/still-accurate/{token}")
        assert response.status_code == 410 and "This link has expired" in text_of(response)
    assert snapshot() == before


def test_a_link_still_inside_thirty_days_works(staff, client, monkeypatch):
    listing = set_dates(FORUM, TODAY - timedelta(days=40), assured=TODAY - timedelta(days=405))
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(__import__("time").time()) - 29 * 86400)
    token = review_links.make_token(listing)
    monkeypatch.undo()
    assert client.post(f"/portal/still-accurate/{token}").status_code == 200
    assert fresh(FORUM).assured_date == TODAY


def test_tampered_links_are_refused_and_change_nothing(staff, client, app):
    listing = db.session.get(Listing, SWIM)
    token = review_links.make_token(listing)
    payload, _, signature = token.rpartition(".")
    other = review_links.URLSafeTimedSerializer("not the secret", salt=review_links.SALT).dumps(
        {"l": SWIM, "d": listing.review_due.isoformat()})
    unsalted = review_links.URLSafeTimedSerializer(app.config["SECRET_KEY"]).dumps(
        {"l": SWIM, "d": listing.review_due.isoformat()})
    before = snapshot()
    for bad in (token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"), payload + ".", other, unsalted,
                "x" * 5000, "%00", token.replace(".", "..", 1)):
        for method in (client.get, client.post):
            response = method(f"/portal/still-accurate/{quote(bad, safe='')}")
            assert response.status_code in (400, 404), (bad, response.status_code)
    response = client.get(f"/portal/still-accurate/{quote(other, safe='')}")
    assert "This link does not work" in text_of(response)
    assert snapshot() == before


def test_a_signed_link_to_a_listing_that_is_gone_or_moved_on(staff, client):
    """Changing the review date (extended, or checked by a coordinator) ends the old link; an unknown id is 404."""
    listing = db.session.get(Listing, SWIM)
    token = review_links.make_token(listing)
    ghost = review_links._serializer().dumps({"l": str(uuid.uuid4()), "d": ""})
    assert client.get(f"/portal/still-accurate/{ghost}").status_code == 404
    review_queue.extend([listing], staff["coordinator"], 1)
    assert client.post(f"/portal/still-accurate/{token}").status_code == 410


def test_the_link_brings_back_a_listing_hidden_until_checked(staff, client):
    listing = db.session.get(Listing, SWIM)
    token = review_links.make_token(listing)
    review_queue.hide([listing], staff["coordinator"])
    assert fresh(SWIM).status is ListingStatus.ARCHIVED
    assert client.post(f"/portal/still-accurate/{token}").status_code == 200
    assert fresh(SWIM).status is ListingStatus.PUBLISHED


@PROPERTIES
@given(token=st.one_of(st.text(min_size=1, max_size=300), st.from_regex(r"[A-Za-z0-9_.-]{20,200}", fullmatch=True)),
       post=st.booleans())
def test_any_made_up_link_gets_a_clear_4xx_never_a_500(staff, client, token, post):
    before = snapshot()
    response = (client.post if post else client.get)(f"/portal/still-accurate/{quote(token, safe='')}")
    assert response.status_code in (400, 404, 405, 410), response.status_code
    assert snapshot() == before


# --- the provider's dashboard ------------------------------------------------------------------------


def test_the_providers_dashboard_says_what_is_due(staff, app):
    provider = app.test_client()
    sign_in(provider, "swim@example.org")
    page = text_of(provider.get("/portal/"))
    assert "1 listing needs checking" in page and "Otters calm swim sessions" in page
    workflow_done = provider.post(f"/portal/listings/{SWIM}/confirm", data={"next": "dashboard"})
    assert workflow_done.status_code in (302, 303)
    assert "needs checking" not in text_of(provider.get("/portal/"))


def test_a_link_made_after_a_confirmation_the_same_day_cannot_confirm_again(staff, client):
    """Reminded now just after being confirmed: the new link has nothing to do, and says so (single use holds)."""
    listing = db.session.get(Listing, SWIM)
    review_queue.mark_checked([listing], staff["coordinator"], "email")
    token = review_links.make_token(fresh(SWIM))
    before = snapshot()
    assert client.post(f"/portal/still-accurate/{token}").status_code == 410
    assert snapshot() == before


def test_the_link_page_is_rate_limited_per_address(staff, migrated_database):
    """Opening or using "Still accurate" links is limited per address like other public forms (429 past it)."""
    from local_offer import create_app
    from local_offer.extensions import limiter

    from support import make_test_config

    throttled = create_app(make_test_config(migrated_database, RATELIMIT_ENABLED=True,
                                            STILL_ACCURATE_LIMIT="3 per hour"))
    limiter.reset()
    try:
        with throttled.app_context():
            browser = throttled.test_client()
            statuses = [browser.get("/portal/still-accurate/made-up").status_code for _ in range(4)]
            assert statuses == [400, 400, 400, 429]
    finally:
        limiter.reset()


def test_the_button_needs_a_csrf_token(staff, client, app):
    """The one button is a real form: a POST without its CSRF token is refused and changes nothing."""
    token = review_links.make_token(db.session.get(Listing, SWIM))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        before = snapshot()
        assert client.post(f"/portal/still-accurate/{token}").status_code == 400
        assert snapshot() == before
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_a_provider_nobody_can_email_is_marked_before_anyone_tries(coordinator):
    """Reminding a provider without an email address would only fail afterwards: the row says to phone."""
    listing = db.session.get(Listing, SWIM)
    listing.organisation.email = ""
    for member in listing.organisation.members:
        member.active = False
    db.session.commit()
    page = coordinator.get("/admin/reviews?state=overdue").get_data(as_text=True)
    row = page[page.index("Otters calm swim sessions"):]
    row = row[:row.index("</tr>")]
    assert "No email address: phone them" in row
    other = page[page.index("Stafford Parent Carer Voice"):]
    assert "No email address" not in other[:other.index("</tr>")]
