"""'You said, we did': responses answer only the comments they were written for, promises show their progress,
the response form finds comments by theme, topic, date and words, and the public page opens with the latest
responses by theme."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from local_offer import create_app
from local_offer.extensions import db
from local_offer.feedback import comments, council_responses, you_said
from local_offer.models import (
    AuditEvent,
    CouncilResponse,
    Feedback,
    PromiseStatus,
    ResponseStatus,
    Theme,
    User,
    feedback_themes,
    response_feedback,
)

from databases import empty_database
from support import make_test_config, text_of
from test_feedback import coordinator, setup  # noqa: F401  (fixtures and helpers)

NEXT_YEAR = str(date.today().year + 1)


def staff_user() -> User:
    return db.session.execute(select(User).where(User.email == "coordinator@example.gov.uk")).scalar_one()


def published_comment(text: str, themes=(), topic: str = "content", days_ago: float = 0) -> Feedback:
    """A comment left and published (tagged with themes), as if ``days_ago`` days ago."""
    row = comments.submit(topic, "parent_carer", text)
    comments.publish(row, text, staff_user(), theme_ids=[theme.id for theme in themes], priority_id=None)
    if days_ago:
        row.published_at = datetime.now(timezone.utc) - timedelta(days=days_ago)
        db.session.commit()
    return row


def response_data(**overrides) -> dict:
    return {"title": "Saturday clubs", "you_said": "Too little at weekends.", "we_did": "We funded a club.",
            "action_due": ["", "", ""], "theme": "", "progress": "planned", "publish": "Publish", **overrides}


def responses_count() -> int:
    return db.session.execute(select(func.count()).select_from(CouncilResponse)).scalar_one()


@pytest.fixture
def theme(setup):
    return db.session.execute(select(Theme)).scalar_one()


# --- which comments a response answers -----------------------------------------------------------------


def test_tagging_a_theme_never_attaches_an_older_response_to_a_new_comment(setup, app, theme):
    """A theme response answers the comments with its theme when published, never ones tagged afterwards."""
    earlier = published_comment("Nothing for teenagers in Leek on Saturdays", [theme], days_ago=10)
    staff = coordinator(app)
    assert staff.post("/coordinators/feedback/responses/new", data=response_data(theme=theme.id)).status_code == 302
    answer = db.session.execute(select(CouncilResponse)).scalar_one()
    assert [row.id for row in answer.feedback] == [earlier.id]
    assert council_responses.responses_for(earlier) == [answer]

    later = published_comment("My teenager has no friends to go out with", [theme])
    assert council_responses.responses_for(later) == []  # before the fix: [answer], through the theme
    tagged_late = published_comment("Where can autistic teenagers meet?")
    assert staff.post(f"/coordinators/feedback/{tagged_late.id}/tag",
                      data={"tag-themes": [theme.id], "tag-priority": ""}).status_code == 302
    assert council_responses.responses_for(tagged_late) == []
    page = you_said.published(None, None, None, 1)
    answered = {row.id: [item.id for item in answers] for row, answers in page.items}
    assert answered == {earlier.id: [answer.id], later.id: [], tagged_late.id: []}

    # Saving the published response again adds nothing; changing its theme would take the new theme's comments.
    assert staff.post(f"/coordinators/feedback/responses/{answer.id}", data=response_data(
        theme=theme.id, feedback=[earlier.id])).status_code == 302
    db.session.expire_all()
    assert [row.id for row in db.session.get(CouncilResponse, answer.id).feedback] == [earlier.id]


def test_a_draft_with_a_theme_answers_the_comments_it_has_when_published(setup, app, theme):
    """A theme draft links nothing until published; then the comments tagged by that moment."""
    staff = coordinator(app)
    draft = response_data(theme=theme.id, save="Save as draft")
    draft.pop("publish")
    assert staff.post("/coordinators/feedback/responses/new", data=draft).status_code == 302
    answer = db.session.execute(select(CouncilResponse)).scalar_one()
    assert answer.status is ResponseStatus.DRAFT and answer.feedback == []
    first = published_comment("Short breaks wait is too long", [theme])
    assert staff.post(f"/coordinators/feedback/responses/{answer.id}", data=response_data(theme=theme.id)
                      ).status_code == 302
    db.session.expire_all()
    assert [row.id for row in db.session.get(CouncilResponse, answer.id).feedback] == [first.id]


# --- promises: planned, in progress, done, late --------------------------------------------------------


def test_a_promise_past_its_date_shows_late_until_a_coordinator_marks_it_done(setup, app, theme):
    """Late is worked out from the date; coordinators set planned, in progress or done, which is recorded."""
    comment = published_comment("Listings are out of date", [theme], days_ago=200)
    staff = coordinator(app)
    last_month = date.today() - timedelta(days=31)
    assert staff.post("/coordinators/feedback/responses/new", data=response_data(
        feedback=[comment.id], action_due=[str(last_month.day), str(last_month.month), str(last_month.year)])
    ).status_code == 302
    answer = db.session.execute(select(CouncilResponse)).scalar_one()
    assert answer.progress is PromiseStatus.PLANNED and council_responses.promise_state(answer) == "late"
    public = text_of(app.test_client().get("/you-said-we-did"))
    assert "Late" in public and "We will say here when it is" in public
    assert "Late" in text_of(staff.get("/coordinators/feedback/responses"))

    assert staff.post(f"/coordinators/feedback/responses/{answer.id}", data=response_data(
        feedback=[comment.id], progress="done",
        action_due=[str(last_month.day), str(last_month.month), str(last_month.year)])).status_code == 302
    db.session.expire_all()
    answer = db.session.get(CouncilResponse, answer.id)
    assert answer.progress is PromiseStatus.DONE and answer.progress_updated_at is not None
    assert council_responses.promise_state(answer) == "done"
    assert "We will say here when it is" not in text_of(app.test_client().get("/you-said-we-did"))
    audit = db.session.execute(select(AuditEvent).where(AuditEvent.action == "response.changed")).scalar_one()
    assert audit.changes["progress"] == ["planned", "done"]


def test_promise_states_from_progress_and_date(setup, app):
    """Planned and in progress stay so until the day after their date; done is never late."""
    today = date(2027, 3, 1)
    row = CouncilResponse(title="x", progress=PromiseStatus.IN_PROGRESS, action_due=today)
    assert council_responses.promise_state(row, today) == "in_progress"
    assert council_responses.promise_state(row, today + timedelta(days=1)) == "late"
    row.progress = PromiseStatus.DONE
    assert council_responses.promise_state(row, today + timedelta(days=99)) == "done"
    row.progress, row.action_due = PromiseStatus.PLANNED, None
    assert council_responses.promise_state(row, today) == "planned"


# --- the response form's comment finder -----------------------------------------------------------------


def test_the_finder_finds_by_words_theme_topic_and_date_and_keeps_ticked_comments(setup, app, theme):
    """Find comments with the address or the Find button; ticked comments stay chosen while searching."""
    swim = published_comment("The swimming pool changing rooms have no hoist", days_ago=40)
    teen = published_comment("Nothing for teenagers on Saturdays", [theme], days_ago=5)
    site = published_comment("The website search is hard on a phone", topic="usability", days_ago=2)
    staff = coordinator(app)
    page = text_of(staff.get("/coordinators/feedback/responses/new", query_string={"find-words": "HOIST pool"}))
    assert "changing rooms" in page and "on Saturdays" not in page and "1 comment found" in page
    page = text_of(staff.get("/coordinators/feedback/responses/new", query_string={"find-theme": theme.id}))
    assert "on Saturdays" in page and "changing rooms" not in page
    page = text_of(staff.get("/coordinators/feedback/responses/new", query_string={"find-topic": "usability"}))
    assert "website search" in page and "on Saturdays" not in page
    ten_days = date.today() - timedelta(days=10)
    page = text_of(staff.get("/coordinators/feedback/responses/new", query_string={
        "find-since": [str(ten_days.day), str(ten_days.month), str(ten_days.year)]}))
    assert "on Saturdays" in page and "website search" in page and "changing rooms" not in page

    # "Write a response to this comment" (on the moderation page) starts with that comment chosen.
    assert "1 comment chosen" in text_of(staff.get(f"/coordinators/feedback/responses/new?feedback={teen.id}"))
    # Tick one, search for something else: the ticked one is kept (and nothing is saved).
    found = staff.post("/coordinators/feedback/responses/new", data=response_data(
        feedback=[swim.id], find="1", **{"find-words": "phone"}))
    assert found.status_code == 200 and responses_count() == 0
    html = found.get_data(as_text=True)
    assert f'value="{swim.id}" checked' in html and f'value="{site.id}"' in html and teen.id not in html
    assert "1 comment chosen" in text_of(found)


def test_the_finder_pages_through_many_comments(setup, app):
    """Twenty comments a page; the page buttons keep what was typed."""
    for number in range(45):
        published_comment(f"Comment number {number}")
    staff = coordinator(app)
    first = staff.get("/coordinators/feedback/responses/new")
    assert first.get_data(as_text=True).count('name="feedback"') == 20
    assert "45 comments found, page 1 of 3" in text_of(first)
    third = staff.post("/coordinators/feedback/responses/new", data=response_data(
        title="Kept title", **{"find-page": "3"}))
    assert third.status_code == 200 and "page 3 of 3" in text_of(third)
    assert third.get_data(as_text=True).count('name="feedback"') == 5 and 'value="Kept title"' in \
        third.get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ({"find-since": ["31", "2", "2026"]}, "Enter a real date"),
    ({"find-since": ["1", "1", "1200"]}, "Enter a date between 2000 and 2100"),
    ({"find-since": ["2", "3", "2026"], "find-until": ["1", "3", "2026"]}, "The last day must be on or after"),
    ({"find-theme": "no-such-theme"}, "Not a valid choice"),
    ({"find-topic": "gossip"}, "Not a valid choice"),
    ({"find-words": "x" * 300}, "Use 200 characters or fewer"),
    ({"find-page": "abc"}, None),
    ({"find-page": "0"}, None),
])
def test_bad_finder_input_is_a_clear_400(setup, app, query, message):
    """Mangled filters: the form again with a message (or an error page), a 400, never a 500."""
    response = coordinator(app).get("/coordinators/feedback/responses/new", query_string=query)
    assert response.status_code == 400
    if message:
        assert message in text_of(response)


def test_bad_response_input_is_refused_and_nothing_stored(setup, app):
    """Unknown comments, progress or dates: 400 with a message, and no response stored."""
    staff = coordinator(app)
    for data, message in [
        (response_data(feedback=["00000000-0000-0000-0000-000000000000"]), "A comment you chose is not published"),
        (response_data(theme="nope"), "Not a valid choice"),
        (response_data(progress="finished"), "Not a valid choice"),
        (response_data(action_due=["1", "1", "1900"], theme=""), "Enter a date between 2000 and 2100"),
        (response_data(title="  <b></b> "), "Enter a title"),
    ]:
        response = staff.post("/coordinators/feedback/responses/new", data=data)
        assert response.status_code == 400 and message in text_of(response), data
    assert responses_count() == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(max_size=300), words=st.text(max_size=250),
       due=st.lists(st.one_of(st.text(max_size=5), st.integers(-5, 3000).map(str)), max_size=4),
       since=st.lists(st.one_of(st.text(max_size=5), st.integers(-5, 3000).map(str)), max_size=4),
       progress=st.sampled_from(["planned", "in_progress", "done", "late", "", "x"]),
       page=st.one_of(st.none(), st.text(max_size=4), st.integers(-3, 20000).map(str)),
       find=st.booleans())
def test_any_response_form_gets_a_redirect_a_page_or_a_400(setup, app, title, words, due, since, progress, page,
                                                           find):
    """Whatever is typed into the response form and its finder: never a 500, and nothing stored on a 400."""
    staff = coordinator(app)
    data = response_data(title=title, action_due=due, progress=progress, feedback=[],
                         **{"find-words": words, "find-since": since})
    data["theme"] = db.session.execute(select(Theme.id)).scalar_one()
    if page is not None:
        data["find-page"] = page
    if find:
        data["find"] = "1"
    before = responses_count()
    response = staff.post("/coordinators/feedback/responses/new", data=data)
    assert response.status_code in (200, 302, 400)
    assert responses_count() == before + (1 if response.status_code == 302 else 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["topic", "theme", "priority", "year", "page"]),
                              st.one_of(st.text(max_size=12), st.integers(-5, 30000).map(str)), max_size=5))
def test_any_public_filter_is_a_page_or_a_400(setup, app, params):
    """Whatever is in the public page's address: the page, or a clear 400."""
    assert app.test_client().get("/you-said-we-did", query_string=params).status_code in (200, 400)


# --- the public page and the plain-words forms -----------------------------------------------------------


def test_the_public_page_opens_with_an_explanation_and_the_latest_responses_by_theme(setup, app, theme):
    """Explanation, then the latest responses under their theme, then the filters and the comments."""
    comment = published_comment("Nothing for teenagers in Leek", [theme])
    other = published_comment("The search is hard to use", topic="usability")
    staff = coordinator(app)
    staff.post("/coordinators/feedback/responses/new", data=response_data(title="Clubs for teenagers",
                                                                          theme=theme.id))
    staff.post("/coordinators/feedback/responses/new", data=response_data(title="Better search",
                                                                          feedback=[other.id]))
    page = text_of(app.test_client().get("/you-said-we-did"))
    positions = [page.index(words) for words in (
        "Families, young people and professionals tell us", "Our latest responses", "Gaps for teenagers",
        "Clubs for teenagers", "Other responses", "Better search", "Show comments", "Nothing for teenagers")]
    assert positions == sorted(positions)
    filtered = text_of(app.test_client().get(f"/you-said-we-did?theme={theme.code}"))
    assert "Nothing for teenagers" in filtered and "The search is hard" not in filtered
    assert "Our latest responses" not in filtered and comment.id
    assert app.test_client().get("/you-said-we-did?theme=no-such-theme").status_code == 400


def test_public_forms_use_plain_words(setup, app):
    """No partnership jargon on a parent's form."""
    page = text_of(app.test_client().get("/feedback"))
    assert "Which of these is it about? (optional)" in page and "partnership's priorities" not in page.lower()


# --- the migration ---------------------------------------------------------------------------------------


def test_migration_links_theme_responses_to_the_comments_they_were_written_for(tmp_path, instance_path):
    """0016 keeps what each published theme response answered when published, not what was tagged later."""
    with empty_database(tmp_path, "lo_0016") as url:
        app = create_app(make_test_config(url))
        with app.app_context():
            upgrade(revision="0015")
            now = datetime(2026, 6, 1, tzinfo=timezone.utc)
            db.session.execute(sa.insert(Theme.__table__).values(id="t1", code="teens", name="Teens", created_at=now))
            for ident, days in (("before", -10), ("after", 10)):
                db.session.execute(sa.insert(Feedback.__table__).values(
                    id=ident, created_at=now, topic="content", respondent="other", simple_form=False, comment="x",
                    status="published", published_text="x", redacted=False, exclusion_note="",
                    published_at=now + timedelta(days=days)))
                db.session.execute(sa.insert(feedback_themes).values(feedback_id=ident, theme_id="t1"))
            db.session.execute(sa.text(
                "INSERT INTO council_response (id, title, you_said, we_did, status, theme_id, created_at, "
                "published_at) VALUES ('r1', 'R', '', '', 'published', 't1', :now, :now)"), {"now": now})
            db.session.commit()
            upgrade()
            links = db.session.execute(select(response_feedback.c.feedback_id)).scalars().all()
            assert links == ["before"]
            answer = db.session.get(CouncilResponse, "r1")
            assert answer.progress is PromiseStatus.PLANNED and answer.progress_updated_at is None
            db.session.remove()
            db.engine.dispose()
