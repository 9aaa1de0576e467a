"""The coordinators' home: what needs doing today, counted, each thing listed newest first, jobs for administrators."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from local_offer import coordinator_home
from local_offer.extensions import db
from local_offer.models import (
    AuditEvent,
    Feed,
    Feedback,
    FeedbackStatus,
    FeedbackTopic,
    JoinRequest,
    Listing,
    ListingRevision,
    Respondent,
    RevisionStatus,
    Role,
)

from support import CHILDMINDER, FORUM, SWIM, make_user, sign_in, text_of

NOW = datetime.now(timezone.utc)
TODAY = date.today()


def staff(app, role: Role):
    """Return a client signed in as a new account with ``role``."""
    make_user(f"{role.value}@example.gov.uk", role)
    client = app.test_client()
    assert sign_in(client, f"{role.value}@example.gov.uk").status_code == 302
    return client


def nothing_waiting() -> None:
    """Every listing's review far off, nothing pending: each test chooses what waits."""
    for listing in db.session.execute(select(Listing)).scalars():
        listing.review_due = TODAY + timedelta(days=3000)
    for revision in db.session.execute(select(ListingRevision).where(
            ListingRevision.status == RevisionStatus.PENDING)).scalars():
        revision.status = RevisionStatus.DRAFT
    db.session.execute(Feedback.__table__.update().values(status=FeedbackStatus.PUBLISHED))
    db.session.commit()


def some_of_everything() -> dict[str, str]:
    """One thing of each kind, each a day apart: feedback newest, then change, feed, import, review, join."""
    nothing_waiting()
    db.session.get(Listing, CHILDMINDER).review_due = TODAY - timedelta(days=6)
    db.session.get(Listing, FORUM).review_due = TODAY + timedelta(days=5)  # due soon, not overdue
    swim = db.session.get(Listing, SWIM)
    revision = ListingRevision(listing_id=swim.id, status=RevisionStatus.PENDING, data={"name": swim.name},
                               submitted_at=NOW - timedelta(days=2))
    feedback = Feedback(topic=FeedbackTopic.CONTENT, respondent=Respondent.PARENT_CARER,
                        comment="Nothing for teenagers near Leek on Saturdays.", created_at=NOW - timedelta(hours=3))
    feed = Feed(name="Neighbourshire's Local Offer", url="https://neighbour.example/api/v1/services",
                licence="OGL", problem="The feed did not answer (timed out).", last_pull_at=NOW - timedelta(days=3))
    db.session.add_all([revision, feedback, feed, AuditEvent(
        action="import.applied", entity_type="import", actor="coordinator@example.gov.uk",
        changes={"format": "csv", "created": 4, "rejected": 3}, occurred_at=NOW - timedelta(days=4)),
        AuditEvent(action="import.applied", entity_type="import", changes={"created": 9},
                   occurred_at=NOW - timedelta(days=1)),  # nothing left out: nothing to do
        JoinRequest(name="Ann Lee", email="ann@riverside.example.org", organisation_name="Riverside Play",
                    created_at=NOW - timedelta(days=8))])
    db.session.commit()
    return {"revision": revision.id, "feedback": feedback.id, "feed": feed.id}


def test_today_counts_each_kind_and_lists_them_newest_first(demo, app):
    some_of_everything()
    today = coordinator_home.today()
    assert (today.changes, today.feedback, today.overdue_reviews, today.due_soon_reviews) == (1, 1, 1, 1)
    assert (today.failed_feeds, today.failed_imports, today.join_requests, today.problems) == (1, 1, 1, 2)
    assert [thing.kind for thing in today.newest] == ["feedback", "change", "feed", "import", "review", "join"]
    assert today.total == 6


def test_nothing_waiting_says_so(demo, app):
    nothing_waiting()
    client = staff(app, Role.COORDINATOR)
    page = text_of(client.get("/admin/"))
    assert "Nothing is waiting for you." in page
    assert "Changes to check 0 None waiting." in page and "Feedback to moderate 0 None waiting." in page


def test_the_home_page_shows_counts_and_every_link_works(demo, app):
    ids = some_of_everything()
    client = staff(app, Role.COORDINATOR)
    response = client.get("/admin/")
    assert response.status_code == 200
    page = text_of(response)
    assert "What needs doing today" in page
    assert "Changes to check 1 The oldest has waited since" in page
    assert "Feedback to moderate 1 The oldest was left" in page
    assert "Reviews overdue 1 1 more is due in the next 28 days." in page
    assert "Failed imports and feeds 2 1 neighbour's feed failed" in page and "1 upload in the last two" in page
    assert "Requests to join 1" in page
    newest = page[page.index("Waiting for you, newest first"):page.index("Everything else")]
    order = [newest.index(words) for words in ("Nothing for teenagers near Leek", "Feedback to moderate",
                                                 "Change to check", "Neighbourshire's Local Offer",
                                                 "left 3 records out", "Review overdue", "Riverside Play")]
    assert order == sorted(order)
    html = response.get_data(as_text=True)
    assert f"/coordinators/feedback/{ids['feedback']}" in html and f"/moderation/changes/{ids['revision']}" in html
    assert f"/admin/feeds/{ids['feed']}" in html
    links = set(re.findall(r'href="(/(?:admin|moderation|coordinators)[^"#]*)"', html))
    assert len(links) >= 15
    for link in sorted(links):
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_jobs_are_for_administrators_only(demo, app):
    nothing_waiting()
    coordinator = text_of(staff(app, Role.COORDINATOR).get("/admin/"))
    assert "scheduled job" not in coordinator.lower() and "For administrators" not in coordinator
    admin = text_of(staff(app, Role.ADMIN).get("/admin/"))
    assert "For administrators" in admin and "scheduled jobs are overdue or failing" in admin


def test_providers_cannot_see_the_home(demo, app):
    assert staff(app, Role.PROVIDER).get("/admin/").status_code == 403
    assert "/account/sign-in" in app.test_client().get("/admin/").headers["Location"]


def test_the_home_list_leaves_out_what_could_identify_someone(demo, app):
    """The newest comments are read at a glance: a phone number or a child's name never shows there."""
    from local_offer.models import Feedback, FeedbackTopic, Respondent

    db.session.add(Feedback(topic=FeedbackTopic.CONTENT, respondent=Respondent.PARENT_CARER,
                            comment="Please call me on 07700 900123, my son Alfie goes to Leek High School"))
    db.session.commit()
    page = text_of(staff(app, Role.COORDINATOR).get("/admin/"))
    assert "Please call me on [phone number removed], my son [name removed] goes to [school removed]" in page
    assert "07700" not in page and "Alfie" not in page
