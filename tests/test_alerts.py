"""Search alerts end to end: ask from results, double opt-in, weekly digest by `flask jobs run`, unsubscribe, expiry.

Bad input (tampered tokens, a second unsubscribe, any form value) is a clear 4xx and changes nothing.
"""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from local_offer import alerts, mail
from local_offer.extensions import db, limiter
from local_offer.models import AlertStatus, Listing, ListingStatus, SearchAlert, record_change, utcnow
from local_offer.search import get_service

from support import FORUM, SWIM, make_test_config, text_of

PROPERTIES = settings(max_examples=40, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SEARCH = "/search?q=swimming&page=1&view=list"
WEEK = timedelta(days=7)


def alert_link(client, search=SEARCH) -> str:
    """Return the "Get emails about new results" link on a results page."""
    html = client.get(search).get_data(as_text=True)
    return re.search(r'id="alert-link" href="([^"]+)"', html).group(1).replace("&amp;", "&")


def ask(client, email="parent@home.example", search=SEARCH, **kwargs):
    """Follow the results page's link and submit the form, as a browser without JavaScript does."""
    return client.post(alert_link(client, search), data={"email": email}, **kwargs)


def link_in(message, kind: str) -> str:
    """Return the path of the confirm or unsubscribe link in an email."""
    return re.search(rf"http://[^/\s]+(/alerts/{kind}/\S+)", message.get_content()).group(1)


def confirmed_alert(client) -> SearchAlert:
    """Ask for an alert and confirm it; return it."""
    assert ask(client).status_code == 303
    assert client.post(link_in(mail.sent_messages()[-1], "confirm")).status_code == 200
    return db.session.execute(select(SearchAlert).where(SearchAlert.email == "parent@home.example")).scalar_one()


def publish(name: str, description: str = "Swimming sessions for children.", like: str = SWIM) -> Listing:
    """Publish a new listing like another (its organisation, kind and level), indexed as any approved change is."""
    template = db.session.get(Listing, like)
    listing = Listing(name=name, description=description, organisation_id=template.organisation_id,
                      kind=template.kind, level=template.level, status=ListingStatus.PUBLISHED,
                      review_due=template.review_due)
    db.session.add(listing)
    db.session.flush()
    record_change(listing.id)
    db.session.commit()
    assert get_service().sync()[1] == 0
    return listing


def age(alert: SearchAlert, by: timedelta) -> None:
    """Move an alert's times back, as if ``by`` had passed."""
    for field in ("created_at", "confirmed_at", "last_sent_at", "changes_since"):
        if getattr(alert, field) is not None:
            setattr(alert, field, getattr(alert, field) - by)
    db.session.commit()


def run_digests(runner) -> str:
    """Run the digest job through `flask jobs run`, as cron does."""
    result = runner.invoke(args=["jobs", "run", "--job", "alert-digests", "--verbose"])
    assert result.exit_code == 0, result.output
    return result.output


def test_ask_confirm_digest_once_and_unsubscribe(demo, client, runner):
    """The whole life of an alert, from the results page to unsubscribing twice."""
    link = alert_link(client)
    assert link.startswith("/alerts/new?") and "q=swimming" in link
    form = client.get(link)
    assert form.status_code == 200 and "Words: “swimming”" in text_of(form)
    response = ask(client)
    assert response.status_code == 303 and response.headers["Location"] == "/alerts/sent"
    alert = db.session.execute(select(SearchAlert)).scalar_one()
    assert alert.status is AlertStatus.PENDING and alert.query == "q=swimming"  # page and view dropped
    assert alert.created_at.tzinfo is not None
    message = mail.sent_messages()[-1]
    assert message["To"] == "parent@home.example" and "Confirm your search alert" in message["Subject"]
    confirm = link_in(message, "confirm")
    token = confirm.rsplit("/", 1)[1]
    assert len(token) >= 22 and token not in (alert.confirm_hash, alert.unsubscribe_hash)
    unsubscribe = link_in(message, "unsubscribe")
    assert message["List-Unsubscribe"].startswith("<http") and unsubscribe in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page = client.get(confirm)  # a mail scanner fetching the link confirms nothing
    assert page.status_code == 200 and "Confirm and start emails" in text_of(page)
    db.session.refresh(alert)
    assert alert.status is AlertStatus.PENDING
    assert client.post(confirm).status_code == 200
    db.session.refresh(alert)
    assert alert.status is AlertStatus.CONFIRMED and alert.confirmed_at is not None
    assert "already confirmed" in text_of(client.post(confirm))

    alert_id, new_id = alert.id, publish("Otters swimming splash club").id
    publish("Chess club for beginners", "Board games on Tuesdays.", like=FORUM)  # new, but not found by this search
    sent_before = len(mail.sent_messages())
    plain = runner.invoke(args=["jobs", "run", "--verbose"])  # cron's command: every job, on its schedule
    assert plain.exit_code == 0 and "Sent 0 search alert emails" in plain.output, plain.output
    assert len(mail.sent_messages()) == sent_before  # not a week since confirming: nothing
    age(db.session.get(SearchAlert, alert_id), WEEK)
    output = run_digests(runner)
    assert "Sent 1 search alert emails" in output
    digest = mail.sent_messages()[-1]
    body = digest.get_content()
    assert "Otters swimming splash club" in body and "/listings/otters-swimming-splash-club-" in body
    assert "Otters' Calm Swim" not in body  # listed before the alert: not new
    assert "Chess club" not in body
    assert unsubscribe in body and digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    alert = db.session.get(SearchAlert, alert_id)
    assert new_id in alert.sent_ids and alert.last_sent_at is not None

    age(alert, WEEK)  # a week later, with nothing new: nothing sent, the new listing not again
    run_digests(runner)
    assert len(mail.sent_messages()) == sent_before + 1

    page = client.get(unsubscribe)
    assert page.status_code == 200 and db.session.scalar(select(func.count(SearchAlert.id))) == 1
    done = client.post(unsubscribe)
    assert done.status_code == 200 and "You have unsubscribed" in text_of(done)
    assert db.session.scalar(select(func.count(SearchAlert.id))) == 0
    again = client.post(unsubscribe)
    assert again.status_code == 410 and "already unsubscribed" in text_of(again)
    assert client.get(unsubscribe).status_code == 410


def test_one_click_unsubscribe_from_a_mail_program(demo, client, app):
    """An RFC 8058 POST carries no CSRF token, only the link's own token: it unsubscribes."""
    confirmed_alert(client)
    unsubscribe = link_in(mail.sent_messages()[-1], "unsubscribe")
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(SearchAlert.id))) == 0


def test_wrong_tokens_are_a_clear_404_and_change_nothing(demo, client):
    """A tampered, truncated or guessed token names no alert."""
    confirmed_alert(client)
    unsubscribe = link_in(mail.sent_messages()[-1], "unsubscribe")
    alert_id = unsubscribe.rsplit("/", 1)[1].split(".")[0]
    for path in (unsubscribe[:-1] + ("A" if unsubscribe[-1] != "A" else "B"), f"/alerts/unsubscribe/{alert_id}.x",
                 "/alerts/unsubscribe/nothing", "/alerts/confirm/" + "a" * 32, "/alerts/confirm/short"):
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 404, path
            assert "not valid" in text_of(response)
    assert db.session.execute(select(SearchAlert)).scalar_one().status is AlertStatus.CONFIRMED


def test_unconfirmed_alerts_are_deleted_after_seven_days(demo, client, runner):
    """The expiry job removes a pending alert a week old, and keeps a newer one and a confirmed one."""
    ask(client, "old@home.example")
    old = db.session.execute(select(SearchAlert)).scalar_one()
    age(old, WEEK + timedelta(minutes=1))
    ask(client, "new@home.example")
    confirmed_alert(client)
    result = runner.invoke(args=["jobs", "run", "--job", "alert-expiry", "--verbose"])
    assert result.exit_code == 0 and "Removed 1 search alerts" in result.output
    left = sorted(db.session.execute(select(SearchAlert.email)).scalars())
    assert left == ["new@home.example", "parent@home.example"]
    confirm = link_in([m for m in mail.sent_messages() if m["To"] == "old@home.example"][0], "confirm")
    assert client.post(confirm).status_code == 404


def test_a_bounced_address_is_stopped(demo, client, monkeypatch):
    """A permanent refusal stops the alert; a passing failure leaves it to try again."""
    alert = confirmed_alert(client)
    publish("Otters swimming splash club")
    age(alert, WEEK)

    def refuse(to, subject, body, headers=None):
        raise smtplib.SMTPRecipientsRefused({to: (550, b"No such user")})

    monkeypatch.setattr(mail, "send", refuse)
    report = alerts.send_digests()
    assert report.bounced == 1
    db.session.refresh(alert)
    assert alert.status is AlertStatus.BOUNCED and alert.bounced_at is not None
    assert alerts.send_digests().sent == 0  # never tried again


def test_a_passing_failure_is_tried_again(demo, client, monkeypatch):
    """A 4xx or a dropped connection is not a bounce."""
    alert = confirmed_alert(client)
    publish("Otters swimming splash club")
    age(alert, WEEK)
    monkeypatch.setattr(mail, "send", lambda *a, **k: (_ for _ in ()).throw(smtplib.SMTPServerDisconnected("gone")))
    assert alerts.send_digests().failed == 1
    db.session.refresh(alert)
    assert alert.status is AlertStatus.CONFIRMED and alert.last_sent_at is None


def test_bad_searches_and_addresses_are_refused(demo, client):
    """No search, a device location, an unknown filter, a bad address: a clear 400 and nothing kept."""
    assert client.get("/alerts/new").status_code == 400
    assert "device's location" in text_of(client.get("/alerts/new?lat=52.8&lng=-2.1"))
    assert client.get("/alerts/new?q=swim&day=XX").status_code == 400
    response = client.post("/alerts/new?q=swimming", data={"email": "not an email"})
    assert response.status_code == 400 and "Enter an email address in the correct format" in text_of(response)
    assert db.session.scalar(select(func.count(SearchAlert.id))) == 0 and mail.sent_messages() == []


def test_asking_twice_sends_a_fresh_link_and_a_confirmed_alert_is_not_repeated(demo, client):
    """A second request replaces the pending one; for a confirmed search it sends nothing and answers the same."""
    ask(client)
    ask(client)
    assert db.session.scalar(select(func.count(SearchAlert.id))) == 1 and len(mail.sent_messages()) == 2
    assert client.post(link_in(mail.sent_messages()[0], "confirm")).status_code == 404  # the old link is replaced
    client.post(link_in(mail.sent_messages()[1], "confirm"))
    assert ask(client).status_code == 303
    assert len(mail.sent_messages()) == 2 and db.session.scalar(select(func.count(SearchAlert.id))) == 1


def test_asking_is_rate_limited_per_sender_and_per_address(demo, migrated_database, instance_path):
    """Three an hour from one connection, and three an hour for one address."""
    from local_offer import create_app

    throttled = create_app(make_test_config(migrated_database, RATELIMIT_ENABLED=True))
    limiter.reset()
    try:
        with throttled.app_context():
            browser = throttled.test_client()
            statuses = [browser.post("/alerts/new?q=swimming", data={"email": f"me{n}@home.example"}).status_code
                        for n in range(4)]
            assert statuses == [303, 303, 303, 429]
            answers = [throttled.test_client().post("/alerts/new?q=swimming", data={"email": "same@home.example"},
                                                    environ_base={"REMOTE_ADDR": f"10.0.1.{n + 1}"}).status_code
                       for n in range(4)]
            assert answers == [303, 303, 303, 429]
            assert len(mail.sent_messages()) == 6
    finally:
        limiter.reset()


def test_forms_need_a_csrf_token(demo, client, app):
    """Asking and confirming refuse a POST without a CSRF token."""
    ask(client)
    confirm = link_in(mail.sent_messages()[-1], "confirm")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/alerts/new?q=swimming", data={"email": "a@b.example"}).status_code == 400
    assert client.post(confirm).status_code == 400
    assert db.session.execute(select(SearchAlert)).scalar_one().status is AlertStatus.PENDING


def test_the_privacy_notice_says_what_alerts_keep(demo, client):
    """The notice names the address, the search and the two retention periods."""
    words = text_of(client.get("/information/privacy-notice"))
    assert "If you ask for emails about new results" in words and "within 7 days" in words
    assert "until you unsubscribe" in words


text = st.text(max_size=300)
tokens = st.one_of(text.filter(lambda t: "/" not in t and t not in ("", ".", "..")),
                   st.from_regex(r"[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}", fullmatch=True),
                   st.from_regex(r"[A-Za-z0-9_-]{32}", fullmatch=True))


@PROPERTIES
@given(query=st.dictionaries(st.sampled_from(["q", "where", "lat", "lng", "age", "free", "day", "area", "radius",
                                              "category", "page", "sort", "zzz"]), text, max_size=5),
       email=st.one_of(st.none(), text, st.just("parent@home.example")))
def test_any_form_input_gets_a_clear_answer_never_a_500(demo, client, query, email):
    """Whatever the query string and the address, the answer is the form, a redirect or a clear 4xx."""
    from urllib.parse import urlencode

    path = "/alerts/new?" + urlencode(query)
    assert client.get(path).status_code in (200, 400, 414)
    response = client.post(path, data={} if email is None else {"email": email})
    assert response.status_code in (303, 400, 414, 429), response.status_code


@PROPERTIES
@given(token=tokens, kind=st.sampled_from(["confirm", "unsubscribe"]), post=st.booleans())
def test_any_token_gets_a_clear_answer_never_a_500(demo, client, token, kind, post):
    """A made-up token is a 404 (or 410), never a 500, and nothing changes."""
    from urllib.parse import quote

    response = (client.post if post else client.get)(f"/alerts/{kind}/{quote(token, safe='')}")
    assert response.status_code in (404, 410), response.status_code
    assert db.session.scalar(select(func.count(SearchAlert.id))) == 0
