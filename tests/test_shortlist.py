"""A shortlist without an account: save, reorder, note, remove, share, email, expire; bad input is a clear 4xx."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from local_offer import mail, shortlists
from local_offer.extensions import db, limiter
from local_offer.models import Listing, ListingStatus, Shortlist, ShortlistItem, utcnow

from support import CHILDMINDER, FORUM, SCHOOL, SWIM, make_test_config, text_of

PROPERTIES = settings(max_examples=40, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def save(client, listing_id, next_page="/search?q=swimming", **kwargs):
    """Press "Save to shortlist" as a browser without JavaScript does."""
    return client.post("/shortlist/save", data={"listing_id": listing_id, "next": next_page}, **kwargs)


def share_link(client) -> str:
    """Return the path of the read-only link shown on the shortlist page."""
    html = client.get("/shortlist").get_data(as_text=True)
    return re.search(r'id="share-url" href="http://[^/]+(/s/[A-Za-z0-9_-]+)"', html).group(1)


def names_in_order(client) -> list[str]:
    """Return the names on the shortlist page, in order."""
    html = client.get("/shortlist").get_data(as_text=True)
    return re.findall(r'lo-shortlist__title"><a class="govuk-link" href="[^"]+">([^<]+)</a>', html)


def test_save_from_results_and_listing_without_javascript(demo, client):
    """Saving goes back to the page it was pressed on; the header counts; the button now offers removal."""
    response = save(client, SWIM)
    assert response.status_code == 303 and response.headers["Location"] == "/search?q=swimming"
    response = save(client, FORUM, next_page=f"/listings/{FORUM}")
    assert response.headers["Location"] == f"/listings/{FORUM}"
    save(client, FORUM)  # twice is still once
    page = client.get(f"/listings/{FORUM}", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Your shortlist ( 2 saved )" in text_of(page)
    assert 'formaction="/shortlist/remove" name="listing_id" value="%s"' % FORUM in html
    assert page.headers["Cache-Control"] == "private, no-store"
    results = client.get("/search?q=swimming")
    assert results.headers["Cache-Control"] == "private, no-store"
    assert 'id="lo-save-form"' in results.get_data(as_text=True)


def test_the_return_address_is_never_another_site(demo, client):
    """An open-redirect attempt in ``next`` goes to the shortlist instead."""
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        response = save(client, SWIM, next_page=target)
        assert response.status_code == 303 and response.headers["Location"] == "/shortlist"
    assert save(client, SWIM, next_page="/%0d%0aSet-Cookie:x").status_code == 400


def test_visitors_without_a_shortlist_get_no_count(demo, client):
    """Before anything is saved, the header shows no count and the shortlist page says how to start."""
    page = client.get("/")
    assert "saved)" not in text_of(page) and "Cache-Control" not in page.headers
    assert "You have not saved any services yet" in text_of(client.get("/shortlist"))


def test_scripts_get_json_with_the_count(demo, client):
    """The enhanced button gets the new state, the count and a message to announce."""
    answer = save(client, SWIM, headers={"X-Requested-With": "fetch"}).get_json()
    assert answer["saved"] is True and answer["count"] == 1 and "saved to your shortlist" in answer["message"]
    answer = client.post("/shortlist/remove", data={"listing_id": SWIM}, headers={"X-Requested-With": "fetch"})
    assert answer.get_json() == {"saved": False, "count": 0, "message": "Removed from your shortlist."}
    bad = save(client, "not-an-id", headers={"X-Requested-With": "fetch"})
    assert bad.status_code == 400 and "error" in bad.get_json()


def test_reorder_note_and_remove(demo, client):
    """Move up and down, keep a note (plain text, escaped), remove; all without JavaScript."""
    for listing in (SWIM, FORUM, CHILDMINDER):
        save(client, listing)
    first, second, third = names_in_order(client)
    client.post("/shortlist/move/up", data={"listing_id": CHILDMINDER})
    assert names_in_order(client) == [first, third, second]
    client.post("/shortlist/move/up", data={"listing_id": SWIM})  # already first: stays
    client.post("/shortlist/move/down", data={"listing_id": SWIM})
    assert names_in_order(client) == [third, first, second]
    response = client.post("/shortlist/note", data={"listing_id": FORUM,
                                                    "note": "Ring <b>Tuesday</b> <script>alert(1)</script>"})
    assert response.status_code == 303
    html = client.get("/shortlist").get_data(as_text=True)
    assert "Ring Tuesday alert(1)" in html and "<script>alert" not in html
    too_long = client.post("/shortlist/note", data={"listing_id": FORUM, "note": "x" * 501})
    assert too_long.status_code == 400 and "500 characters or fewer" in text_of(too_long)
    client.post("/shortlist/remove", data={"listing_id": FORUM})
    assert names_in_order(client) == [third, first]


def test_share_link_shows_listings_and_never_notes(demo, client, app):
    """Another browser opening the link sees the services, read only, and none of the notes."""
    save(client, SWIM)
    save(client, FORUM)
    client.post("/shortlist/note", data={"listing_id": SWIM, "note": "Private: my son hates loud pools"})
    link = share_link(client)
    assert len(link.rsplit("/", 1)[1]) >= 22  # token_urlsafe(16): 128 random bits
    other = app.test_client()
    shared = other.get(link)
    assert shared.status_code == 200 and shared.headers["Cache-Control"] == "private, no-store"
    words = text_of(shared)
    swim = db.session.get(Listing, SWIM)
    assert swim.name in words and "my son hates loud pools" not in words
    assert "Save note" not in words and "Remove" not in words
    assert shared.headers["X-Robots-Tag"] == "noindex"
    # The other browser has no shortlist of its own: opening a link gives none.
    assert "You have not saved any services yet" in text_of(other.get("/shortlist"))


@pytest.mark.parametrize("change", ["flip", "short", "long", "junk"])
def test_a_tampered_share_link_is_a_clear_404(demo, client, change):
    """A share token one character off, cut short, lengthened or made up is a 404 page."""
    save(client, SWIM)
    link = share_link(client)
    token = link.rsplit("/", 1)[1]
    tampered = {"flip": token[:-1] + ("A" if token[-1] != "A" else "B"), "short": token[:-1],
                "long": token + "x", "junk": "..%2F..%2Fadmin"}[change]
    response = client.get(f"/s/{tampered}")
    assert response.status_code == 404 and "Page not found" in text_of(response)


def test_withdrawn_listing_shows_as_no_longer_listed(demo, client, app):
    """A listing archived after it was saved shows as "no longer listed", not its details, here and shared."""
    save(client, SWIM)
    save(client, SCHOOL)
    school = db.session.get(Listing, SCHOOL)
    name, summary = school.name, school.summary
    school.status = ListingStatus.ARCHIVED
    db.session.commit()
    for page in (client.get("/shortlist"), app.test_client().get(share_link(client))):
        words = text_of(page)
        assert "No longer listed" in words and name not in words and summary not in words
    # A withdrawn listing cannot be saved afresh.
    assert save(client, SCHOOL).status_code == 404


def test_email_sends_our_text_with_the_link_and_is_rate_limited(demo, client, migrated_database, instance_path):
    """The email has our fixed words and the share link; the sixth in an hour is refused, per sender and recipient."""
    from local_offer import create_app

    throttled = create_app(make_test_config(migrated_database, RATELIMIT_ENABLED=True))
    limiter.reset()
    try:
        browser = throttled.test_client()
        with throttled.app_context():
            save(browser, SWIM)
            link = share_link(browser)
            response = browser.post("/shortlist/email", data={"recipient": "professional",
                                                              "email": "teacher@school.example"})
            assert response.status_code == 303
            message = mail.sent_messages()[-1]
            body = message.get_content()
            assert message["To"] == "teacher@school.example"
            assert link in body and "has shared a shortlist of services with you" in body
            assert "my note" not in body
            statuses = [browser.post("/shortlist/email", data={"recipient": "self", "email": f"me{n}@home.example"}
                                     ).status_code for n in range(5)]
            assert statuses == [303, 303, 303, 303, 429]  # five from one sender in an hour
            # Per recipient: five from other senders to one address, then refused.
            answers = []
            for n in range(6):
                other = throttled.test_client()
                save(other, SWIM, environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"})
                answers.append(other.post("/shortlist/email", data={"recipient": "self", "email": "same@home.example"},
                                          environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"}).status_code)
            assert answers == [303] * 5 + [429]
            assert len(mail.sent_messages()) == 10  # 1 + 4 from one sender, 5 to one recipient
    finally:
        limiter.reset()


def test_bad_email_address_is_a_400_with_the_form(demo, client):
    """A malformed address is refused with the error summary; nothing is sent."""
    save(client, SWIM)
    response = client.post("/shortlist/email", data={"recipient": "self", "email": "not an email"})
    assert response.status_code == 400 and "Enter an email address in the correct format" in text_of(response)
    assert mail.sent_messages() == []
    assert client.post("/shortlist/email", data={"recipient": "everyone", "email": "a@b.example"}).status_code == 400


def test_five_hundred_saved_listings_still_work_and_the_cap_is_clear(demo, client, app):
    """A list of 500 renders; the 501st save is refused with a clear message."""
    save(client, SWIM)
    shortlist = db.session.execute(select(Shortlist)).scalar_one()
    template = db.session.get(Listing, SWIM)
    fillers = []
    for n in range(499):
        copy = Listing(name=f"Filler club {n}", organisation_id=template.organisation_id, kind=template.kind,
                       level=template.level, status=ListingStatus.PUBLISHED, phone="01234 567890")
        fillers.append(copy)
    db.session.add_all(fillers)
    db.session.flush()
    db.session.add_all(ShortlistItem(shortlist_id=shortlist.id, listing_id=listing.id, position=n + 2, note="")
                       for n, listing in enumerate(fillers))
    db.session.commit()
    started = time.perf_counter()
    page = client.get("/shortlist")
    seconds = time.perf_counter() - started
    assert page.status_code == 200 and "500 services saved" in text_of(page)
    assert len(names_in_order(client)) == 500
    assert seconds < 10, f"500 items took {seconds:.1f} s"
    shared = app.test_client().get(share_link(client))
    assert shared.status_code == 200 and text_of(shared).count("01234 567890") == 499
    refused = save(client, FORUM)
    assert refused.status_code == 303
    assert "Your shortlist is full" in text_of(client.get("/search?q=swimming"))
    assert save(client, FORUM, headers={"X-Requested-With": "fetch"}).status_code == 409
    assert db.session.execute(select(func.count()).select_from(ShortlistItem)).scalar_one() == 500


def test_expiry_job_removes_shortlists_unused_for_180_days(demo, client, app, runner):
    """`flask jobs run` removes untouched shortlists, and keeps recent ones."""
    save(client, SWIM)
    fresh = app.test_client()
    save(fresh, FORUM)
    old = db.session.execute(select(Shortlist).join(ShortlistItem).where(ShortlistItem.listing_id == SWIM)).scalar_one()
    old.updated_at = utcnow() - timedelta(days=181)
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "--job", "shortlist-expiry", "-v"])
    assert result.exit_code == 0 and "Removed 1 shortlists unused for 180 days" in result.output
    assert db.session.execute(select(func.count()).select_from(Shortlist)).scalar_one() == 1
    assert "You have not saved any services yet" in text_of(client.get("/shortlist"))
    assert "180 days" in text_of(fresh.get("/shortlist"))


def test_the_session_holds_a_long_random_token_and_the_database_only_its_hash(demo, client):
    """The private token has at least 96 random bits and is not stored as it is."""
    save(client, SWIM)
    with client.session_transaction() as session:
        token = session[shortlists.SESSION_KEY]
    assert len(token) >= 22
    row = db.session.execute(select(Shortlist)).scalar_one()
    assert token not in (row.token_hash, row.share_token) and row.token_hash == shortlists._hash(token)


def device_cookie(client):
    """Return the cookie that keeps the shortlist on this device, or None."""
    return client.get_cookie(shortlists.DEVICE_COOKIE)


def close_the_browser(client) -> None:
    """Drop the session cookie, as closing the browser does; cookies with an expiry stay."""
    client.delete_cookie("session")


def test_only_a_list_kept_on_the_device_outlives_the_browser_session(demo, client, app):
    """Closing the browser loses the list, unless the owner chose "Keep on this device"; then notes come back too."""
    save(client, SWIM)
    assert device_cookie(client) is None  # never without asking
    close_the_browser(client)
    assert "You have not saved any services yet" in text_of(client.get("/shortlist"))

    save(client, FORUM)
    client.post("/shortlist/note", data={"listing_id": FORUM, "note": "Ring on Tuesday"})
    page = text_of(client.get("/shortlist"))
    assert "Keep on this device" in page and "shared or public computer" in page
    response = client.post("/shortlist/device", data={"keep": "yes"})
    assert response.status_code == 303
    cookie = device_cookie(client)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.expires is not None and cookie.expires - utcnow() > timedelta(days=179)
    row = db.session.execute(select(Shortlist).where(Shortlist.token_hash == shortlists._hash(cookie.value))).scalar_one()
    assert cookie.value not in (row.token_hash, row.share_token)

    close_the_browser(client)
    page = text_of(client.get("/shortlist"))
    assert "Ring on Tuesday" in page and "This device keeps your shortlist" in page
    app.test_client().get("/search?q=forum")  # another visitor: the page is kept for people without a list
    assert "Saved – remove from shortlist" in text_of(client.get("/search?q=forum"))

    response = client.post("/shortlist/device", data={"keep": "no"}, follow_redirects=True)
    assert "will no longer keep your shortlist" in text_of(response) and device_cookie(client) is None
    close_the_browser(client)
    assert "You have not saved any services yet" in text_of(client.get("/shortlist"))


def test_a_kept_key_that_expired_or_was_made_up_is_forgotten(demo, client, app, runner):
    """A device cookie naming no shortlist (removed after 180 days, or tampered) is removed, not trusted."""
    for value in ("x" * 32, "not a token", "A" * 500):
        client.set_cookie(shortlists.DEVICE_COOKIE, value)
        page = client.get("/shortlist")
        assert page.status_code == 200 and "You have not saved any services yet" in text_of(page)
        assert device_cookie(client) is None
    assert client.post("/shortlist/device", data={"keep": "yes"}).status_code == 400  # nothing to keep
    assert device_cookie(client) is None


def test_privacy_notice_says_what_the_shortlist_keeps(demo, client):
    """The privacy notice explains the shortlist and how long it is kept."""
    words = text_of(client.get("/information/privacy-notice"))
    assert "shortlist" in words.lower() and "180 days" in words and "Keep on this device" in words


def test_forms_need_a_csrf_token(demo, client, app):
    """Each shortlist form refuses a POST without a CSRF token."""
    app.config["WTF_CSRF_ENABLED"] = True
    for path in ("/shortlist/save", "/shortlist/remove", "/shortlist/move/up", "/shortlist/note", "/shortlist/email",
                 "/shortlist/device"):
        assert client.post(path, data={"listing_id": SWIM}).status_code == 400


text = st.text(max_size=600)
form_values = st.one_of(st.none(), text, st.sampled_from([SWIM, FORUM, "up", "down", "self", "professional",
                                                          "a@b.example", "/search", "//evil.example", "yes", "no"]))


@PROPERTIES
@given(path=st.sampled_from(["/shortlist/save", "/shortlist/remove", "/shortlist/move/up", "/shortlist/move/down",
                             "/shortlist/move/sideways", "/shortlist/note",
                             "/shortlist/email", "/shortlist/device"]),
       fields=st.dictionaries(st.sampled_from(["listing_id", "next", "direction", "note", "email", "recipient",
                                               "keep"]),
                              form_values, max_size=6))
def test_any_form_input_gets_a_clear_answer_never_a_500(demo, client, path, fields):
    """Whatever is posted to a shortlist form, the answer is a redirect or a clear 4xx page."""
    response = client.post(path, data={key: value for key, value in fields.items() if value is not None})
    assert response.status_code in (303, 400, 404, 409, 429), response.status_code
    if response.status_code == 303:
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith("//")


@PROPERTIES
@given(token=st.text(max_size=80))
def test_any_share_token_gets_a_page_or_a_404(demo, client, token):
    """A made-up share token is a 404, never a 500."""
    response = client.get("/s/" + token.replace("/", "").replace("?", "").replace("#", "") or "x")
    assert response.status_code in (400, 404)
