"""Co-production: feedback left, moderated (redacted), answered in public, reported, purged on time."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from local_offer import mail
from local_offer.content_loader import LoadReport
from local_offer.extensions import db, limiter
from local_offer.feedback import comments, tags
from local_offer.feedback.seed import load_demo_feedback, load_priorities
from local_offer.models import (
    AuditEvent,
    CouncilResponse,
    Feedback,
    FeedbackContact,
    FeedbackStatus,
    Priority,
    Role,
    Theme,
    User,
)

from support import SWIM, make_test_config, make_user, sign_in, text_of

LEEK = ("There is nothing for teenagers with autism near Leek. My son Tom Baxter at Westwood High "
        "has nowhere to go on Saturdays.")


@pytest.fixture
def setup(demo, app):
    """Priorities from content/, a theme and a coordinator."""
    report = LoadReport()
    load_priorities(Path(app.config["CONTENT_PATH"]) / "priorities.yaml", report)
    db.session.add(Theme(code="gaps-teenagers", name="Gaps for teenagers"))
    db.session.commit()
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    return app


def coordinator(app):
    client = app.test_client()
    assert sign_in(client, "coordinator@example.gov.uk").status_code == 302
    return client


def leave(client, **overrides):
    data = {"topic": "content", "comment": LEEK, "respondent": "parent_carer", **overrides}
    return client.post("/feedback", data=data)


def feedback_count() -> int:
    return db.session.execute(select(func.count()).select_from(Feedback)).scalar_one()


def test_parent_comment_redacted_published_answered_and_reported(setup, app):
    """Done when: a parent leaves feedback; the coordinator redacts, publishes and answers it; it is reported."""
    parent = app.test_client()
    priority = tags.active_priorities()[3]
    page = text_of(parent.get("/feedback"))
    assert "Do not include names, schools, addresses" in page and "privacy notice" in page
    response = leave(parent, priority=priority.id, name="Jo", email="jo@example.org")
    assert response.status_code == 302 and "thank-you" in response.headers["Location"]
    feedback = db.session.execute(select(Feedback)).scalar_one()
    assert feedback.status is FeedbackStatus.NEW and feedback.priority_id == priority.id
    # Contact details are stored apart from the comment.
    assert feedback.contact.email == "jo@example.org" and "jo@example.org" not in feedback.comment
    assert "Tom Baxter" not in text_of(parent.get("/you-said-we-did"))

    staff = coordinator(app)
    assert LEEK[:40] in text_of(staff.get("/coordinators/feedback/"))
    redacted = LEEK.replace("Tom Baxter at Westwood High", "[removed]")
    theme = db.session.execute(select(Theme)).scalar_one()
    unconfirmed = staff.post(f"/coordinators/feedback/{feedback.id}/publish",
                             data={"published_text": redacted, "priority": priority.id})
    assert unconfirmed.status_code == 400
    assert "Confirm you have checked that the comment identifies no one" in text_of(unconfirmed)
    assert db.session.get(Feedback, feedback.id).status is FeedbackStatus.NEW
    response = staff.post(f"/coordinators/feedback/{feedback.id}/publish", data={
        "published_text": redacted, "priority": priority.id, "themes": [theme.id], "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    feedback = db.session.get(Feedback, feedback.id)
    assert feedback.redacted and feedback.comment == LEEK and feedback.published_text == redacted
    audit = db.session.execute(select(AuditEvent).where(AuditEvent.action == "feedback.published")).scalar_one()
    assert audit.changes == {"redacted": True, "confirmed_identifies_no_one": True,  # never the words
                             "personal_details_removed": {}, "personal_details_kept": []}

    public = text_of(parent.get("/you-said-we-did"))
    assert "nowhere to go on Saturdays" in public and "Tom Baxter" not in public and "Westwood" not in public
    assert "We have not published a response to this yet" in public

    response = staff.post("/coordinators/feedback/responses/new", data={
        "title": "Saturday clubs for autistic teenagers in the Moorlands",
        "you_said": "There is too little for autistic teenagers around Leek at weekends.",
        "we_did": "We have funded a Saturday youth club at Leek youth centre from March.",
        "action_due": ["1", "3", str(date.today().year + 1)], "feedback": [feedback.id], "theme": "",
        "publish": "Publish"})
    assert response.status_code == 302
    public = text_of(parent.get("/you-said-we-did"))
    assert "Saturday youth club at Leek youth centre" in public
    assert "Tom Baxter" not in text_of(parent.get(f"/you-said-we-did?priority={priority.code}"))
    assert "nowhere to go" in text_of(parent.get(f"/you-said-we-did?priority={priority.code}"))
    other = tags.active_priorities()[0]
    assert "nowhere to go" not in text_of(parent.get(f"/you-said-we-did?priority={other.code}"))

    today = date.today()
    figures = staff.get("/coordinators/feedback/report.csv", query_string={
        "start": [str((today - timedelta(days=30)).day), str((today - timedelta(days=30)).month),
                  str((today - timedelta(days=30)).year)],
        "end": [str(today.day), str(today.month), str(today.year)]})
    assert figures.status_code == 200 and figures.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(figures.get_data(as_text=True))))
    assert ["priority", priority.title, "1", "0", "1"] in rows
    assert ["theme", "Gaps for teenagers", "1", "0", "1"] in rows
    assert ["respondent", "Parent or carer", "1", "0", "1"] in rows
    page = staff.get("/coordinators/feedback/report").get_data(as_text=True)
    assert page.count('<figure class="lo-chart"') == 4 and "<table" in page
    assert "Saturday clubs for autistic teenagers" in page


def test_a_reworded_priority_leaves_tagged_comments_with_their_wording(setup, app):
    """Priorities are versioned: rewording retires the old row, which tagged comments keep."""
    original = tags.active_priorities()[0]
    leave(app.test_client(), priority=original.id)
    staff = coordinator(app)
    response = staff.post(f"/coordinators/feedback/priorities/{original.id}",
                          data={"title": "Services talk to each other and to families", "description": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Priority, original.id).retired_at is not None
    current = [p for p in tags.active_priorities() if p.code == original.code]
    assert [p.title for p in current] == ["Services talk to each other and to families"]
    feedback = db.session.execute(select(Feedback)).scalar_one()
    assert feedback.priority.title == original.title
    assert staff.post(f"/coordinators/feedback/priorities/{original.id}", data={"title": "x"}).status_code == 409


def test_excluding_an_individual_case_signposts_to_complaints(setup, app):
    """A comment about one person's own case is excluded, and they are emailed where to raise it."""
    leave(app.test_client(), comment="My daughter's EHC plan review is late", email="parent@example.org")
    feedback = db.session.execute(select(Feedback)).scalar_one()
    staff = coordinator(app)
    assert staff.post(f"/coordinators/feedback/{feedback.id}/exclude", data={}).status_code == 400
    response = staff.post(f"/coordinators/feedback/{feedback.id}/exclude", data={"reason": "individual_case"})
    assert response.status_code == 302
    message = mail.sent_messages()[-1]
    assert message["To"] == "parent@example.org" and "complaints-and-disagreements" in message.get_content()
    assert "EHC plan review" not in text_of(app.test_client().get("/you-said-we-did"))


def test_private_reply_goes_to_the_email_left(setup, app):
    """A coordinator replies privately; without an email address the reply is refused with a 400."""
    leave(app.test_client(), email="carer@example.org")
    with_email = db.session.execute(select(Feedback)).scalar_one()
    staff = coordinator(app)
    assert staff.post(f"/coordinators/feedback/{with_email.id}/reply", data={"body": "Thank you, we are on it."}
                      ).status_code == 302
    assert mail.sent_messages()[-1]["To"] == "carer@example.org"
    leave(app.test_client(), comment="Another comment")
    without = db.session.execute(select(Feedback).where(Feedback.comment == "Another comment")).scalar_one()
    response = staff.post(f"/coordinators/feedback/{without.id}/reply", data={"body": "Hello"})
    assert response.status_code == 400 and "did not leave an email address" in text_of(response)


def test_young_peoples_form_is_shorter_and_recorded_as_such(setup, app):
    """The simpler form asks less, in shorter words, and records who used it."""
    client = app.test_client()
    page = text_of(client.get("/feedback/young-people"))
    assert "What do you want to tell us?" in page and "Who are you?" not in page
    assert client.post("/feedback/young-people", data={"topic": "usability", "comment": "Hard to use on my phone"}
                       ).status_code == 302
    feedback = db.session.execute(select(Feedback)).scalar_one()
    assert feedback.simple_form and feedback.respondent.value == "young_person"


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, status, message", [
    ({"comment": ""}, 400, "Enter your comment"),
    ({"comment": "x" * 20_000}, 400, "Your comment must be 5,000 characters or fewer"),
    ({"topic": "gossip"}, 400, "Not a valid choice"),
    ({"priority": "no-such-priority"}, 400, "Not a valid choice"),
    ({"listing": "00000000-0000-0000-0000-000000000000"}, 400, "We could not find the listing"),
    ({"email": "not an email"}, 400, "Enter an email address like name@example.com"),
    ({"website": "http://spam.example"}, 400, "Your comment could not be sent"),
])
def test_bad_feedback_is_refused_with_a_message_and_nothing_stored(setup, app, data, status, message):
    """Empty, huge, unknown or spam submissions: a clear message, a 4xx, and nothing stored."""
    response = leave(app.test_client(), **data)
    assert response.status_code == status and message in text_of(response)
    assert feedback_count() == 0


def test_html_and_script_are_stored_clean_and_shown_escaped(setup, app):
    """Markup in a comment is stripped on the way in and escaped on the way out."""
    leave(app.test_client(), comment='Hello <script>alert("x")</script><b>bold</b> & <3',
          name="<img src=x onerror=alert(1)>", email="a@example.org")
    feedback = db.session.execute(select(Feedback)).scalar_one()
    assert "<script>" not in feedback.comment and "<b>" not in feedback.comment
    assert feedback.contact.name == ""
    staff = coordinator(app)
    page = staff.get(f"/coordinators/feedback/{feedback.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;3" in page
    staff.post(f"/coordinators/feedback/{feedback.id}/publish", data={
        "published_text": feedback.comment + " <i>x</i>", "confirm": "y"})
    public = app.test_client().get("/you-said-we-did").get_data(as_text=True)
    assert "<script>alert" not in public and "<i>x</i>" not in public


def test_a_forged_form_without_csrf_is_refused(setup, app):
    """Without a CSRF token the form is refused and nothing stored."""
    app.config["WTF_CSRF_ENABLED"] = True
    response = leave(app.test_client())
    assert response.status_code == 400 and feedback_count() == 0
    assert "This form had expired, or was sent from another site" in text_of(response)


def test_a_flood_from_one_address_is_throttled(setup, migrated_database):
    """Many submissions from one address get 429 after the limit, and no more are stored."""
    from local_offer import create_app


    throttled = create_app(make_test_config(migrated_database, RATELIMIT_ENABLED=True,
                                            FEEDBACK_LIMIT="3 per minute"))
    limiter.reset()
    client = throttled.test_client()
    with throttled.app_context():
        statuses = [client.post("/feedback", data={"topic": "content", "comment": f"Comment {n}",
                                                   "respondent": "other"}).status_code for n in range(5)]
    limiter.reset()
    assert statuses == [302, 302, 302, 429, 429]
    assert feedback_count() == 3


@pytest.mark.parametrize("query", ["topic=nonsense", "priority=nope", "year=abc", "page=-1", "page=999999999",
                                   "year=1200"])
def test_bad_filters_on_the_public_page_are_400(setup, app, query):
    """A mangled address gets a clear 400, never a 500."""
    assert app.test_client().get(f"/you-said-we-did?{query}").status_code == 400


@pytest.mark.parametrize("query", ["start=x", "start=1&start=2", "start=31&start=2&start=2026&end=1&end=3&end=2026",
                                   "start=1&start=3&start=2026&end=1&end=1&end=2026"])
def test_bad_report_periods_are_400(setup, app, query):
    """Dates that are not dates, or a period running backwards: 400 with the form shown again."""
    staff = coordinator(app)
    assert staff.get(f"/coordinators/feedback/report?{query}").status_code == 400
    assert staff.get(f"/coordinators/feedback/report.csv?{query}").status_code == 400


def test_moderation_is_for_coordinators_only(setup, app):
    """Providers get 403 on the moderation pages; anonymous visitors are sent to sign in."""
    leave(app.test_client())
    feedback = db.session.execute(select(Feedback)).scalar_one()
    make_user("provider@example.org", Role.PROVIDER)
    provider = app.test_client()
    sign_in(provider, "provider@example.org")
    for url in ("/coordinators/feedback/", f"/coordinators/feedback/{feedback.id}", "/coordinators/feedback/report"):
        assert provider.get(url).status_code == 403
    assert provider.post(f"/coordinators/feedback/{feedback.id}/publish",
                         data={"published_text": "x", "confirm": "y"}).status_code == 403
    assert app.test_client().get("/coordinators/feedback/").status_code == 302


# --- retention and the yearly duty ---------------------------------------------------------------------


def test_purge_removes_contacts_unpublished_words_and_redacted_originals(setup, app, runner):
    """After the retention period: contact details gone, unpublished words gone, only the redacted text kept."""
    old = datetime.now(timezone.utc) - timedelta(days=400)
    staff_user = db.session.execute(select(User)).scalars().first()
    waiting = comments.submit("content", "parent_carer", "Old unpublished words", email="old@example.org")
    redacted = comments.submit("content", "parent_carer", "Mia at Oak School needs more")
    recent = comments.submit("content", "parent_carer", "Recent words", email="new@example.org")
    comments.publish(redacted, "[removed] needs more", staff_user, theme_ids=[], priority_id=None)
    for row in (waiting, redacted):
        row.created_at = old
    db.session.commit()
    result = runner.invoke(args=["feedback", "purge"])
    assert result.exit_code == 0 and "Removed 1 contact details" in result.output
    db.session.expire_all()
    assert db.session.get(Feedback, waiting.id).comment == "" and db.session.get(Feedback, waiting.id).anonymised_at
    assert db.session.get(Feedback, redacted.id).comment == "[removed] needs more"
    assert db.session.get(Feedback, recent.id).comment == "Recent words"
    assert [c.email for c in db.session.execute(select(FeedbackContact)).scalars()] == ["new@example.org"]
    assert "Retention purge last ran" in text_of(coordinator(app).get("/coordinators/feedback/"))
    assert runner.invoke(args=["feedback", "purge"]).exit_code == 0  # safe to run again


def test_dashboard_warns_when_a_year_passes_without_publication(setup, app):
    """The coordinators' page warns when nothing has been published for twelve months."""
    staff = coordinator(app)
    assert "No comments or responses have been published yet" in text_of(staff.get("/coordinators/feedback/"))
    user = db.session.execute(select(User)).scalars().first()
    feedback = comments.submit("content", "other", "A comment")
    comments.publish(feedback, "A comment", user, theme_ids=[], priority_id=None)
    assert "law asks for at least one publication" not in text_of(staff.get("/coordinators/feedback/"))
    feedback.published_at = datetime.now(timezone.utc) - timedelta(days=400)
    db.session.commit()
    assert "More than a year has passed" in text_of(staff.get("/coordinators/feedback/"))


def test_demo_feedback_fills_the_pages_and_loads_once(setup, app):
    """The demo year of moderated feedback with responses loads once and makes the pages real."""
    path = Path(app.config["CONTENT_PATH"]) / "demo" / "feedback.yaml"
    first, second = LoadReport(), LoadReport()
    load_demo_feedback(path, first)
    db.session.commit()
    load_demo_feedback(path, second)
    db.session.commit()
    assert first.added["feedback"] >= 60 and not second.added.get("feedback")
    published = db.session.execute(select(func.count()).select_from(Feedback)
                                   .where(Feedback.status == FeedbackStatus.PUBLISHED)).scalar_one()
    responses = db.session.execute(select(func.count()).select_from(CouncilResponse)).scalar_one()
    assert published >= 40 and responses >= 8
    page = text_of(app.test_client().get("/you-said-we-did"))
    assert "We did:" in page
    assert "[removed]" in text_of(app.test_client().get("/you-said-we-did?page=2")) or "[removed]" in page


def test_review_fixes_blank_text_empty_responses_tagging_and_shared_limits(setup, app, migrated_database):
    """Whitespace or markup-only comments are refused; a response must answer something; any comment can be tagged."""
    assert leave(app.test_client(), comment="  <b></b>  ").status_code == 400 and feedback_count() == 0
    staff = coordinator(app)
    response = staff.post("/coordinators/feedback/responses/new", data={
        "title": "T", "you_said": "S", "we_did": "D", "theme": "", "publish": "Publish"})
    assert response.status_code == 400 and "Choose the comments it answers, or a theme" in text_of(response)
    assert db.session.execute(select(func.count()).select_from(CouncilResponse)).scalar_one() == 0
    leave(app.test_client())
    feedback = db.session.execute(select(Feedback)).scalar_one()
    theme = db.session.execute(select(Theme)).scalar_one()
    priority = tags.active_priorities()[1]
    assert staff.post(f"/coordinators/feedback/{feedback.id}/tag", data={
        "tag-themes": [theme.id], "tag-priority": priority.id}).status_code == 302
    db.session.expire_all()
    feedback = db.session.get(Feedback, feedback.id)
    assert feedback.status is FeedbackStatus.NEW and feedback.themes == [theme] and feedback.priority_id == priority.id
    assert staff.get("/coordinators/feedback/report?start=1&start=1&start=0001&end=1&end=1&end=2026"
                     ).status_code == 400


def test_both_forms_share_one_allowance_and_errors_are_free(setup, migrated_database):
    """An address cannot double its allowance by using both forms; refused submissions do not count."""
    from local_offer import create_app


    throttled = create_app(make_test_config(migrated_database, RATELIMIT_ENABLED=True,
                                            FEEDBACK_LIMIT="2 per minute"))
    limiter.reset()
    client = throttled.test_client()
    with throttled.app_context():
        statuses = [client.post("/feedback", data={"topic": "content", "comment": "", "respondent": "other"}
                                ).status_code for _ in range(3)]
        statuses += [client.post("/feedback", data={"topic": "content", "comment": "One", "respondent": "other"}
                                 ).status_code,
                     client.post("/feedback/young-people", data={"topic": "content", "comment": "Two"}).status_code,
                     client.post("/feedback/young-people", data={"topic": "content", "comment": "Three"}).status_code]
        page = client.post("/feedback", data={"topic": "content", "comment": "Four", "respondent": "other"})
    limiter.reset()
    assert statuses == [400, 400, 400, 302, 302, 429]
    assert page.status_code == 429 and "Wait a few minutes" in text_of(page)
    assert feedback_count() == 2
