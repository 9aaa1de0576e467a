"""Emails come in the language the family or provider reads the site in, whoever sends them."""

from __future__ import annotations

from sqlalchemy import select

from local_offer import alerts, mail, notifications
from local_offer.extensions import db
from local_offer.models import Feedback, Listing, Role, SearchAlert, User

from support import SWIM, make_user, sign_in
from test_alerts import WEEK, age, link_in, publish
from test_feedback import coordinator, leave, setup  # noqa: F401  (fixture and helpers)


def test_an_alert_set_up_on_a_polish_page_sends_its_digest_in_polish(demo, client):
    """The weekly digest runs as a job with no page: it is written in the alert's language."""
    client.set_cookie("lo_lang", "pl")
    html = client.get("/search?q=swimming").get_data(as_text=True)
    link = html.split('id="alert-link" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert client.post(link, data={"email": "rodzic@home.example"}).status_code == 303
    confirm = mail.sent_messages()[-1]
    assert "Potwierdź" in confirm["Subject"] or "alert" not in confirm["Subject"].lower()
    assert client.post(link_in(confirm, "confirm")).status_code == 200
    alert = db.session.execute(select(SearchAlert)).scalar_one()
    assert alert.language == "pl"
    publish("Otters swimming splash club")
    age(alert, WEEK)
    assert alerts.send_digests().sent == 1
    digest = mail.sent_messages()[-1]
    assert "Otters swimming splash club" in digest.get_content()
    assert "for your search" not in digest["Subject"] and "new service" not in digest["Subject"]


def test_an_english_alert_stays_english(demo, client):
    html = client.get("/search?q=swimming").get_data(as_text=True)
    link = html.split('id="alert-link" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert client.post(link, data={"email": "parent@home.example"}).status_code == 303
    assert db.session.execute(select(SearchAlert)).scalar_one().language is None
    assert "Confirm your search alert" in mail.sent_messages()[-1]["Subject"]


def test_a_reply_to_a_comment_left_in_arabic_has_an_arabic_subject(setup, app):
    family = app.test_client()
    family.set_cookie("lo_lang", "ar")
    leave(family, email="family@example.org")
    feedback = db.session.execute(select(Feedback)).scalar_one()
    assert feedback.contact.language == "ar"
    staff = coordinator(app)
    assert staff.post(f"/coordinators/feedback/{feedback.id}/reply", data={"body": "Thank you."}).status_code == 302
    reply = mail.sent_messages()[-1]
    assert reply["To"] == "family@example.org" and "Your comment" not in reply["Subject"]
    assert any("\u0600" <= ch <= "\u06ff" for ch in reply["Subject"])
    assert reply.get_content().strip() == "Thank you."  # the coordinator's words, as written


def test_a_provider_hears_about_their_listing_in_the_language_they_chose(demo, app):
    listing = db.session.get(Listing, SWIM)
    polish = make_user("trener@otters.example", Role.PROVIDER, organisations=[listing.organisation])
    english = make_user("coach@otters.example", Role.PROVIDER, organisations=[listing.organisation])
    client = app.test_client()
    assert sign_in(client, "trener@otters.example").status_code == 302
    assert client.get("/language/pl?next=/portal/").status_code == 302
    assert db.session.get(User, polish.id).language == "pl"
    assert english.language is None
    before = len(mail.sent_messages())
    assert notifications.change_published(listing, None) >= 2
    sent = {message["To"]: message for message in mail.sent_messages()[before:]}
    assert "is live" in sent["coach@otters.example"]["Subject"]
    assert "is live" not in sent["trener@otters.example"]["Subject"]
    assert listing.name in sent["trener@otters.example"]["Subject"]
    assert client.get("/language/en?next=/portal/").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, polish.id).language is None


def test_a_language_no_longer_offered_falls_back_to_english(demo, app):
    listing = db.session.get(Listing, SWIM)
    user = make_user("gone@otters.example", Role.PROVIDER, organisations=[listing.organisation])
    user.language = "xx"
    db.session.commit()
    before = len(mail.sent_messages())
    notifications.change_published(listing, None)
    sent = {message["To"]: message for message in mail.sent_messages()[before:]}
    assert "is live" in sent["gone@otters.example"]["Subject"]
