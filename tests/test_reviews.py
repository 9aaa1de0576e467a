"""Reviews: confirming listings, reminding providers once per period, labels, hiding and the dashboard."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask_babel import format_date
from sqlalchemy import select

from local_offer import mail, reviews
from local_offer.extensions import db
from local_offer.listings import workflow
from local_offer.listings.links import listing_ref
from local_offer.models import AuditEvent, Listing, Role, SiteSetting, record_change
from local_offer.search import SearchRequest, get_service

from support import CHILDMINDER, FORUM, SWIM, make_user, sign_in, text_of

TODAY = date.today()


def set_dates(listing_id: str, due: date | None, assured: date | None = None) -> Listing:
    """Give a listing review dates, through the same outbox path as any edit."""
    listing = db.session.get(Listing, listing_id)
    listing.review_due = due
    if assured is not None:
        listing.assured_date = assured
    record_change(listing.id)
    db.session.commit()
    get_service().sync()
    return listing


def nothing_due() -> None:
    """Push every listing's review far into the future, so each test chooses what is due."""
    for listing in db.session.execute(select(Listing)).scalars():
        listing.review_due = TODAY + timedelta(days=3000)
        record_change(listing.id)
    db.session.commit()
    get_service().sync()


def search_ids(**request) -> list[str]:
    """Return the ids of every listing a search finds."""
    return [hit.listing.id for hit in get_service().search(SearchRequest(per_page=400, **request)).hits]


def actions() -> list[str]:
    """Return the audit log's actions, oldest first."""
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


@pytest.fixture
def staff(demo):
    """An administrator, a coordinator, and a provider for the swimming club."""
    otters = db.session.get(Listing, SWIM).organisation
    return {
        "admin": make_user("admin@example.gov.uk", Role.ADMIN),
        "coordinator": make_user("coordinator@example.gov.uk", Role.COORDINATOR),
        "provider": make_user("swim@example.org", Role.PROVIDER, [otters]),
    }


# --- dates and states ----------------------------------------------------------------------------


def test_review_state_moves_from_ok_to_due_soon_overdue_and_hidden(demo):
    """The state follows the review date, the reminder window and the grace period."""
    listing = db.session.get(Listing, SWIM)
    remind = demo.config["REVIEW_REMIND_DAYS"]
    for due, expected in ((TODAY + timedelta(days=remind + 1), "ok"), (TODAY + timedelta(days=remind), "due_soon"),
                          (TODAY, "due_soon"), (TODAY - timedelta(days=1), "overdue"),
                          (TODAY - timedelta(days=400), "overdue"), (None, "overdue")):
        listing.review_due = due
        assert reviews.review_state(listing, TODAY) == expected, due
    reviews.save_settings(True, 30, actor=None)
    listing.review_due = TODAY - timedelta(days=30)
    assert reviews.review_state(listing, TODAY) == "overdue"  # the grace period's last day
    listing.review_due = TODAY - timedelta(days=31)
    assert reviews.review_state(listing, TODAY) == "hidden"
    assert reviews.hidden_cutoff(TODAY) == TODAY - timedelta(days=30)
    assert reviews.hidden_since(listing) == TODAY
    listing.review_due = None
    assert reviews.review_state(listing, TODAY) == "overdue"  # no date to count the grace from
    db.session.rollback()


def test_settings_default_to_labels_on_and_never_hiding(demo):
    """Without a saved setting, overdue listings are labelled and never hidden."""
    assert reviews.settings() == reviews.ReviewSettings(label_overdue=True, hide_after_days=None)
    assert reviews.hidden_cutoff(TODAY) is None
    with pytest.raises(ValueError):
        reviews.save_settings(True, 0, actor=None)


# --- confirming ----------------------------------------------------------------------------------


def test_confirming_sets_the_dates_and_nothing_else(staff):
    """One click: checked today, next review a period later, audited; every other field untouched."""
    listing = db.session.get(Listing, SWIM)
    skip = {"assured_date", "review_due", "version", "updated_at"}
    before = {c.key: getattr(listing, c.key) for c in Listing.__table__.columns if c.key not in skip}
    version = listing.version
    day = date(2026, 1, 10)
    workflow.confirm_accurate(listing, staff["provider"], today=day)
    db.session.expire_all()
    listing = db.session.get(Listing, SWIM)
    assert listing.assured_date == day
    assert listing.review_due == date(2027, 1, 10)
    assert {c.key: getattr(listing, c.key) for c in Listing.__table__.columns if c.key not in skip} == before
    assert listing.version == version + 1
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "listing.confirmed")).scalar_one()
    assert (event.entity_id, event.actor) == (SWIM, "swim@example.org")
    assert event.changes["review_due"][1] == "2027-01-10"


def test_confirming_brings_a_hidden_listing_back_at_once(demo):
    """A listing hidden for being overdue is in search results as soon as it is confirmed."""
    reviews.save_settings(True, 30, actor=None)
    set_dates(CHILDMINDER, TODAY - timedelta(days=60))
    assert CHILDMINDER not in search_ids(text="childminder")
    workflow.confirm_accurate(db.session.get(Listing, CHILDMINDER), actor=None)
    assert CHILDMINDER in search_ids(text="childminder")
    assert db.session.get(Listing, CHILDMINDER).review_due == TODAY + timedelta(days=365)


# --- hiding --------------------------------------------------------------------------------------


def test_hiding_takes_overdue_listings_out_of_results_counts_and_categories_after_the_grace(demo, client):
    """Hidden only once the grace period has passed: from results, counts and category pages, not its page."""
    service = get_service()
    set_dates(CHILDMINDER, TODAY - timedelta(days=60))
    shown_count = service.search(SearchRequest()).counts["category"]["childcare"]
    assert CHILDMINDER in search_ids()

    reviews.save_settings(True, 90, actor=None)  # still inside the grace period
    assert CHILDMINDER in search_ids(text="childminder")
    assert "Bright Steps Childminding" in text_of(client.get("/categories/childcare"))

    reviews.save_settings(True, 60, actor=None)  # the grace period's last day: still shown
    assert CHILDMINDER in search_ids()

    reviews.save_settings(True, 59, actor=None)  # past it: hidden
    assert CHILDMINDER not in search_ids()
    assert CHILDMINDER not in search_ids(text="childminder")
    results = service.search(SearchRequest())
    assert results.counts["category"]["childcare"] == shown_count - 1
    assert SWIM in [hit.listing.id for hit in results.hits]  # others are unaffected
    assert "Bright Steps Childminding" not in text_of(client.get("/categories/childcare"))
    assert "Bright Steps Childminding" not in text_of(client.get("/search?q=childminder"))
    page = client.get(f"/listings/{CHILDMINDER}", follow_redirects=True)
    assert page.status_code == 200 and "Not checked since" in text_of(page)  # bookmarks still work

    reviews.save_settings(True, None, actor=None)  # hiding turned off
    assert CHILDMINDER in search_ids()


def test_a_listing_without_a_review_date_is_never_hidden(demo):
    """No review date, no grace period to count: it stays in search."""
    reviews.save_settings(True, 1, actor=None)
    set_dates(CHILDMINDER, None)
    assert CHILDMINDER in search_ids()


# --- labels for families -------------------------------------------------------------------------


def test_overdue_listings_are_labelled_on_their_page_and_card_only_when_the_setting_is_on(demo, client):
    """"Not checked since <month year>" on the page and result card; gone when turned off; not on others."""
    assured = TODAY - timedelta(days=420)
    set_dates(CHILDMINDER, TODAY - timedelta(days=55), assured=assured)
    label = f"Not checked since {format_date(assured, 'MMMM yyyy')}"
    assert reviews.overdue_label(db.session.get(Listing, SWIM)) is None  # not overdue

    page = text_of(client.get(f"/listings/{CHILDMINDER}", follow_redirects=True))
    assert label in page and "Check with them before you go" in page
    card = text_of(client.get("/search?q=childminder"))
    assert label in card
    assert "Not checked since" not in text_of(client.get(f"/listings/{SWIM}", follow_redirects=True))

    reviews.save_settings(False, None, actor=None)
    assert label not in text_of(client.get(f"/listings/{CHILDMINDER}", follow_redirects=True))
    assert label not in text_of(client.get("/search?q=childminder"))  # the cached card has no label in it
    assert label not in text_of(client.get("/categories/childcare"))

    reviews.save_settings(True, None, actor=None)
    assert label in text_of(client.get("/search?q=childminder"))
    assert label in text_of(client.get("/categories/childcare"))


def test_a_listing_never_checked_says_so(demo):
    """No checked date: the label says it has not been checked yet."""
    listing = set_dates(CHILDMINDER, TODAY - timedelta(days=1))
    listing.assured_date = None
    assert reviews.overdue_label(listing) == "Not yet checked"
    db.session.rollback()


# --- reminders -----------------------------------------------------------------------------------


def test_providers_are_reminded_once_per_review_date(staff):
    """One email per period: a second run sends nothing; a new date after confirming gets a new one."""
    nothing_due()
    due = TODAY + timedelta(days=10)
    version = set_dates(SWIM, due).version
    report = reviews.remind()
    assert (report.emails, report.listings, report.already_reminded) == (1, 1, 0)
    sent = mail.sent_messages()
    assert [m["To"] for m in sent] == ["swim@example.org"]
    body = sent[0].get_content()
    assert format_date(due, "d MMMM y") in body
    assert "Otters calm swim sessions" in body and "Moorlands Otters Swimming Club" in body
    assert "/portal/" in body or "/account/" in body
    listing = db.session.get(Listing, SWIM)
    assert listing.review_reminded_for == due
    assert listing.version == version  # a reminder is not an edit
    assert actions().count("listing.review_reminded") == 1

    again = reviews.remind()
    assert (again.emails, again.already_reminded) == (0, 1)
    assert len(mail.sent_messages()) == 1

    workflow.confirm_accurate(listing, staff["provider"])
    assert reviews.remind().emails == 0  # not due for a year
    later = TODAY + timedelta(days=365 - 5)
    report = reviews.remind(later)
    assert report.emails == 1 and len(mail.sent_messages()) == 2
    assert db.session.get(Listing, SWIM).review_reminded_for == TODAY + timedelta(days=365)


def test_a_dry_run_sends_and_changes_nothing(staff):
    """--dry-run reports who would be emailed, and leaves no trace."""
    nothing_due()
    set_dates(SWIM, TODAY - timedelta(days=3))
    report = reviews.remind(dry_run=True)
    assert (report.emails, report.listings) == (1, 1)
    assert [line.outcome for line in report.lines] == ["would send"]
    assert mail.sent_messages() == []
    assert db.session.get(Listing, SWIM).review_reminded_for is None
    assert "listing.review_reminded" not in actions()
    assert reviews.remind().emails == 1  # the real run still sends


def test_without_accounts_the_organisation_email_is_used_else_it_is_reported(staff):
    """No active account: the organisation's own address; no address at all: counted, not marked."""
    nothing_due()
    set_dates(FORUM, TODAY + timedelta(days=5))
    set_dates(CHILDMINDER, TODAY - timedelta(days=5))  # Bright Steps has no email address
    forum_org = db.session.get(Listing, FORUM).organisation
    make_user("gone@example.org", Role.PROVIDER, [forum_org], active=False)
    report = reviews.remind()
    assert (report.emails, report.listings, report.no_address) == (1, 1, 1)
    assert [m["To"] for m in mail.sent_messages()] == ["info@parentcarervoice.example.org"]
    assert db.session.get(Listing, CHILDMINDER).review_reminded_for is None
    assert reviews.remind().no_address == 1  # reported again until someone adds an address


def test_a_refused_email_is_tried_again_on_the_next_run(staff, monkeypatch, runner):
    """If the mail server refuses one address, the others are sent and marked; that one waits."""
    nothing_due()
    set_dates(SWIM, TODAY + timedelta(days=1))
    set_dates(FORUM, TODAY + timedelta(days=2))
    real_send = mail.send

    def refuse_forum(to, subject, body):
        if to.startswith("info@parentcarervoice"):
            raise OSError("mailbox unavailable")
        real_send(to, subject, body)

    monkeypatch.setattr(mail, "send", refuse_forum)
    result = runner.invoke(args=["reviews", "remind"])
    assert result.exit_code != 0 and "1 emails could not be sent" in result.output
    assert "Sent 1 emails about 1 listings" in result.output
    assert db.session.get(Listing, SWIM).review_reminded_for is not None
    assert db.session.get(Listing, FORUM).review_reminded_for is None
    monkeypatch.setattr(mail, "send", real_send)
    report = reviews.remind()
    assert (report.emails, report.listings, report.already_reminded) == (1, 1, 1)
    assert [m["To"] for m in mail.sent_messages()] == ["swim@example.org", "info@parentcarervoice.example.org"]


def test_one_email_per_person_lists_all_their_due_listings(staff):
    """Someone with listings in two organisations gets one email naming both, grouped by organisation."""
    nothing_due()
    forum_org = db.session.get(Listing, FORUM).organisation
    staff["provider"].organisations.append(forum_org)
    db.session.commit()
    set_dates(SWIM, TODAY + timedelta(days=1))
    set_dates(FORUM, TODAY - timedelta(days=20))
    report = reviews.remind()
    assert (report.emails, report.listings) == (1, 2)
    (message,) = mail.sent_messages()
    body = message.get_content()
    assert "2 Local Offer listings need checking" == message["Subject"]
    assert "Moorlands Otters Swimming Club" in body and forum_org.name in body
    assert "(overdue)" in body


def test_reminder_command_prints_a_summary_and_refuses_a_bad_date(staff, runner):
    """`flask reviews remind` says what it did; a bad --today exits non-zero saying why."""
    nothing_due()
    set_dates(SWIM, TODAY + timedelta(days=2))
    bad = runner.invoke(args=["reviews", "remind", "--today", "14/03/2026"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    dry = runner.invoke(args=["reviews", "remind", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run: would send 1 emails about 1 listings" in dry.output and mail.sent_messages() == []
    result = runner.invoke(args=["reviews", "remind", "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "Sent 1 emails about 1 listings; skipped 0 already reminded; 0 with no address" in result.output
    again = runner.invoke(args=["reviews", "remind"])
    assert "Sent 0 emails about 0 listings; skipped 1 already reminded" in again.output
    listed = runner.invoke(args=["reviews", "list"])
    assert listed.exit_code == 0 and "Otters calm swim sessions" in listed.output


# --- the coordinators' dashboard and settings ----------------------------------------------------


def test_coordinators_see_what_is_hidden_overdue_and_due_soon(staff, app):
    """The queue lists each listing with its state and dates, oldest first, linked to its history page."""
    nothing_due()
    reviews.save_settings(True, 30, actor=None)
    set_dates(CHILDMINDER, TODAY - timedelta(days=45))
    set_dates(FORUM, TODAY - timedelta(days=3))
    set_dates(SWIM, TODAY + timedelta(days=7))
    client = app.test_client()
    sign_in(client, "coordinator@example.gov.uk")
    response = client.get("/admin/reviews")
    assert response.status_code == 200
    page = text_of(response)
    assert "3 listings" in page
    assert page.index("Bright Steps Childminding") < page.index("Stafford Parent Carer Voice") \
        < page.index("Otters calm swim sessions")
    assert "Hidden from search" in page and "Overdue" in page and "Due soon" in page
    board = reviews.dashboard()
    assert [row.listing.id for row in board.hidden] == [CHILDMINDER]
    assert [row.listing.id for row in board.overdue] == [FORUM]
    assert [row.listing.id for row in board.due_soon] == [SWIM]
    html = response.get_data(as_text=True)
    assert f'href="/moderation/listings/{CHILDMINDER}/history"' in html and "<caption" in html
    assert f'href="/listings/{listing_ref(db.session.get(Listing, CHILDMINDER))}"' not in html
    hidden = text_of(client.get("/admin/reviews?state=hidden"))
    assert "Bright Steps Childminding" in hidden and "Otters calm swim sessions" not in hidden


def test_the_dashboard_is_for_coordinators_only(staff, app):
    """Providers get 403; anonymous visitors are sent to sign in."""
    anonymous = app.test_client().get("/admin/reviews")
    assert anonymous.status_code == 302 and "/account/sign-in" in anonymous.headers["Location"]
    provider = app.test_client()
    sign_in(provider, "swim@example.org")
    assert provider.get("/admin/reviews").status_code == 403


@pytest.mark.parametrize("value", ["0", "-5", "3651", "ninety", "1.5"])
def test_a_bad_grace_period_is_refused_with_a_clear_error(staff, app, value):
    """Only whole days from 1 to 3650 (or empty) are accepted; nothing is saved otherwise."""
    admin = app.test_client()
    sign_in(admin, "admin@example.gov.uk")
    response = admin.post("/admin/settings", data={"label_overdue": "y", "hide_after_days": value})
    assert response.status_code == 400
    page = text_of(response)
    assert "There is a problem" in page and "Enter a whole number of days from 1 to 3650" in page
    assert db.session.get(SiteSetting, reviews.SETTING_KEY) is None


def test_administrators_change_the_review_settings_and_it_is_audited(staff, app):
    """Saving the form stores the settings, shows them again, and audits the change."""
    admin = app.test_client()
    sign_in(admin, "admin@example.gov.uk")
    response = admin.post("/admin/settings", data={"hide_after_days": " 90 "})
    assert response.status_code == 302
    assert reviews.settings() == reviews.ReviewSettings(label_overdue=False, hide_after_days=90)
    assert 'value="90"' in admin.get("/admin/settings").get_data(as_text=True)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "settings.reviews")).scalar_one()
    assert event.changes == {"label_overdue": [True, False], "hide_after_days": [None, 90]}
    assert admin.post("/admin/settings", data={"label_overdue": "y", "hide_after_days": ""}).status_code == 302
    assert reviews.settings() == reviews.ReviewSettings(label_overdue=True, hide_after_days=None)
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator@example.gov.uk")
    assert coordinator.post("/admin/settings", data={"hide_after_days": "5"}).status_code == 403


def test_reminder_links_are_on_the_public_url_from_cron(staff, app):
    """Sent from a command (no request at all), a reminder's link is on LOCAL_OFFER_PUBLIC_URL."""
    app.config["PUBLIC_URL"] = "https://localoffer.example.gov.uk"
    nothing_due()
    set_dates(SWIM, TODAY + timedelta(days=10))
    assert reviews.remind().emails == 1
    links = re.findall(r"https?://\S+", mail.sent_messages()[0].get_content())
    assert links and all(link.startswith("https://localoffer.example.gov.uk/") for link in links), links
