"""Moderation a coordinator reads in seconds: labels and words, changed words marked, previews that store nothing."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import event, func, select

from local_offer.extensions import db
from local_offer.listings import data as listing_data, readable, workflow
from local_offer.models import (
    AuditEvent,
    Contact,
    CostOption,
    Listing,
    ListingRevision,
    ListingStatus,
    ListingTerm,
    Location,
    RevisionStatus,
    Role,
    Schedule,
    SearchChange,
    ServiceAtLocation,
    User,
)
from local_offer.sanitise import clean_markdown

from support import SWIM, make_user, sign_in, text_of

OTTERS = "6f1c2a40-1d0b-4c51-9a57-0d2f0c1a0001"  # runs SWIM

NEW = {
    **listing_data.new_listing_data("Kingfisher Canoe Club", "activity"),
    "level": "targeted", "categories": ["sport-and-swimming"], "summary": "Relaxed canoe sessions.",
    "description": "We paddle **slowly**.\n\n- Buoyancy aids provided\n- Changing rooms",
    "schedules": [{"days": ["FR"], "opens": "18:00", "closes": "19:00", "period": "all_year"}],
    "costs": [{"option": "Per session", "amount": "4.5", "description": "Carers free"}],
    "delivery_methods": ["venue"], "access_routes": ["booking"], "accepts_direct_payments": True,
    "locations": [{"name": "Leek Canal Wharf", "address_1": "Barnfields Road", "town": "Leek",
                   "postcode": "ST13 6AA", "mask_address": False}],
}


def rows_of(sections) -> dict[str, readable.Row]:
    return {row.field: row for section in sections for row in section.rows}


def plain(markup) -> str:
    """The words a screen reader meets, tags and notes left out."""
    return html.unescape(re.sub(r"<[^>]+>", "", str(markup)))


# --- the readable view ---------------------------------------------------------------------------


def test_a_new_listing_reads_in_words_not_codes(demo):
    with demo.test_request_context():
        sections = readable.readable_sections(None, NEW)
        rows = rows_of(sections)
    assert [section.title for section in sections][:2] == ["About the listing", "Who it is for"]
    assert all(row.before is None for row in rows.values())  # nothing live: no empty "Before"
    assert str(rows["kind"].after) == "Out-of-school activity"
    assert str(rows["level"].after) == "Targeted support"
    assert str(rows["categories"].after) == "Sport and swimming"
    assert str(rows["schedules"].after) == "Fridays, 6pm to 7pm"
    assert str(rows["costs"].after) == "Per session, £4.50, Carers free"
    assert str(rows["delivery_methods"].after) == "At a venue"
    assert str(rows["access_routes"].after) == "Book a place"
    assert str(rows["accepts_direct_payments"].after) == "Yes"
    assert rows["description"].html and "<strong>slowly</strong>" in str(rows["description"].after)
    assert "<li>Buoyancy aids provided</li>" in str(rows["description"].after)
    assert rows["ofsted_urn"].empty_after


def test_markdown_is_rendered_through_the_one_allow_list(demo):
    hostile = ("Hello <script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)>"
               "\n\n<a href=\"https://ok.example\" onclick=\"evil()\">ok</a>")
    with demo.test_request_context():
        row = rows_of(readable.readable_sections(None, {**NEW, "description": hostile}))["description"]
    shown = str(row.after)
    assert "<script" not in shown and "<img" not in shown and "onclick" not in shown
    assert "javascript:" not in shown.replace("(javascript:alert(2))", "")
    assert shown == clean_markdown(hostile)


def test_changed_words_are_marked_in_every_text_field_and_hostile_html_is_escaped(demo):
    live = {**NEW, "summary": "Relaxed canoe <b>sessions</b>.", "schedules": NEW["schedules"],
            "eligibility": "Young people aged 8 to 18"}
    after = {**live, "name": "Kingfisher Kayak Club", "summary": "Relaxed <img src=x onerror=alert(1)> sessions.",
             "schedules": [{**NEW["schedules"][0], "days": ["SA"]}],
             "costs": [{**NEW["costs"][0], "amount": "5"}], "eligibility": "Young people aged 8 to 25"}
    with demo.test_request_context():
        sections = readable.readable_sections(live, after)
        rows = rows_of(sections)
    assert {row.field for row in rows.values() if row.changed} == {"name", "summary", "schedules", "costs",
                                                                   "eligibility"}
    assert re.search(r'<del class="lo-diff-del"><span class="govuk-visually-hidden">removed: </span>Canoe</del>',
                     str(rows["name"].before))
    assert re.search(r'<ins class="lo-diff-ins"><span class="govuk-visually-hidden">added: </span>Kayak</ins>',
                     str(rows["name"].after))
    assert "<img" not in str(rows["summary"].after) and "&lt;img" in str(rows["summary"].after)
    assert "<b>" not in str(rows["summary"].before) and "&lt;b&gt;" in str(rows["summary"].before)
    assert "Saturdays" in str(rows["schedules"].after) and "<ins" in str(rows["schedules"].after)
    assert "£5.00" in str(rows["costs"].after) and "£4.50" in str(rows["costs"].before)
    assert plain(rows["costs"].after) == "Per session, added: £5.00, Carers free"  # the item changed in place
    assert plain(rows["eligibility"].after) == "Young people aged 8 to added: 25"
    unchanged = sum(len(section.unchanged) for section in sections)
    assert unchanged == len(listing_data.CONTENT_FIELDS) - 5


def test_changes_inside_the_rendered_description_are_marked_and_its_tags_kept(demo):
    before = "Our sessions have no more than **eight** swimmers.\n\n- changing rooms\n- a visual timetable"
    after = "Our sessions have no more than **six** swimmers.\n\n- changing rooms\n- a visual timetable\n- siblings"
    with demo.test_request_context():
        row = rows_of(readable.readable_sections({**NEW, "description": before},
                                                 {**NEW, "description": after}))["description"]
    assert "<strong><del" in str(row.before) and "eight</del></strong>" in str(row.before)
    assert "<strong><ins" in str(row.after) and "six</ins></strong>" in str(row.after)
    assert "<li><ins" in str(row.after) and "siblings</ins></li>" in str(row.after)
    unmarked = re.sub(r'<(ins|del) class="lo-diff-\w+"><span class="govuk-visually-hidden">\w+: </span>', "",
                      str(row.after)).replace("</ins>", "").replace("</del>", "")
    assert unmarked == clean_markdown(after)


WORDS = st.lists(st.sampled_from(list("ab <>&\"'\n") + ["<b>", "</p>", "ok", "<script>", "  "]),
                 max_size=20).map("".join)
UNMARK = re.compile(r'<(ins|del) class="lo-diff-(ins|del)"><span class="govuk-visually-hidden">(added|removed): '
                    r'</span>|</ins>|</del>')


@given(before=WORDS, after=WORDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_word_diff_keeps_every_character_and_lets_no_markup_through(app, before, after):
    """Property: take the marks away and each side is its own text, escaped; no tag but ours survives."""
    with app.test_request_context():
        words, lines = readable.word_diff(before, after), readable.line_diff(before, after)
    for marked, original in ((words[0], before), (words[1], after), (lines[0], before), (lines[1], after)):
        assert html.unescape(UNMARK.sub("", str(marked))) == original
        assert re.sub(r"</?(ins|del|span)[^>]*>", "", str(marked)).count("<") == 0


@given(before=st.text(max_size=60), after=st.text(max_size=60))
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_html_diff_leaves_the_sanitised_description_whole(app, before, after):
    """Property: take the marks away from a rendered description's diff and it is the rendered description."""
    with app.test_request_context():
        old, new = readable.html_diff(clean_markdown(before), clean_markdown(after))
    assert UNMARK.sub("", str(old)) == clean_markdown(before)
    assert UNMARK.sub("", str(new)) == clean_markdown(after)


# --- the pages -----------------------------------------------------------------------------------


@pytest.fixture
def waiting(demo):
    """The Otters' provider changes their live listing and sends it; return the change's id."""
    provider = make_user("provider@example.org", Role.PROVIDER, [db.session.get(Listing, SWIM).organisation])
    make_user("other@example.org", Role.PROVIDER, [])
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    listing = db.session.get(Listing, SWIM)
    revision = workflow.begin_change(listing, provider)
    data = dict(revision.data)
    data["description"] = data["description"].replace("no more than eight swimmers", "no more than six swimmers")
    data["costs"] = [{**data["costs"][0], "amount": "5.00"}]
    data["name"] = "Otters quiet swim sessions"
    workflow.save_section(listing, revision, "about", data, provider)
    workflow.submit(listing, revision, "Smaller groups from May", provider)
    return revision.id


def as_user(app, email):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def test_the_change_page_reads_in_words_with_unchanged_fields_folded(app, waiting):
    page = as_user(app, "coordinator@example.gov.uk").get(f"/moderation/changes/{waiting}").get_data(as_text=True)
    assert "Changes 3 things: Listing name, Description, Costs." in text_of_html(page)
    assert 'Preview as families will see it' in page
    assert "Sport and swimming" in page and "sport-and-swimming" not in page  # folded away, in words
    assert "Targeted support" in page and ">targeted<" not in page
    assert "£5.00" in page and "£4.50" in page
    assert "<li>siblings are welcome too</li>" in page and "- siblings" not in page  # Markdown rendered
    assert re.search(r"<ins[^>]*>.*?six</ins>", page)
    assert '<details class="govuk-details lo-unchanged">' in page
    queue = text_of(as_user(app, "coordinator@example.gov.uk").get("/moderation/"))
    assert "Changes: Listing name, Description, Costs" in queue


def text_of_html(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_a_new_listing_shows_its_values_once_with_no_empty_before_column(app, demo):
    provider = make_user("provider@example.org", Role.PROVIDER, [db.session.get(Listing, SWIM).organisation])
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    listing = workflow.start_listing(OTTERS, "Kingfisher Canoe Club", "activity", provider)
    revision = workflow.open_revision(listing)
    for section in listing_data.SECTIONS:
        workflow.save_section(listing, revision, section, {k: NEW[k] for k in listing_data.SECTION_FIELDS[section]},
                              provider)
    workflow.submit(listing, revision, "", provider)
    page = as_user(app, "coordinator@example.gov.uk").get(f"/moderation/changes/{revision.id}").get_data(as_text=True)
    words = text_of_html(page)
    assert "The whole new listing" in words and "Live now" not in words and "Before" not in words
    for shown in ("Out-of-school activity", "Sport and swimming", "Targeted support", "Fridays, 6pm to 7pm",
                  "£4.50", "At a venue"):
        assert shown in words, shown
    assert "<strong>slowly</strong>" in page and "**slowly**" not in page
    for code in ("sport-and-swimming", "FR 18:00", ">activity<", ">targeted<"):
        assert code not in page
    preview = as_user(app, "coordinator@example.gov.uk").get(f"/moderation/changes/{revision.id}/preview")
    assert preview.status_code == 200
    assert "Kingfisher Canoe Club" in text_of(preview) and "Fridays, 6pm to 7pm" in text_of(preview)


def test_the_preview_is_the_listing_page_with_the_change_marked_and_not_indexed(app, waiting):
    coordinator = as_user(app, "coordinator@example.gov.uk")
    response = coordinator.get(f"/moderation/changes/{waiting}/preview")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow" and 'name="robots" content="noindex' in page
    assert 'rel="canonical"' not in page and "application/ld+json" not in page
    assert "Preview: not published" in page and "Otters quiet swim sessions" in page
    assert "no more than six swimmers" in page and "£5.00" in page
    assert "Save to shortlist" not in page and "Approve and publish" in page
    live = app.test_client().get(f"/listings/{SWIM}", follow_redirects=True)
    assert "Otters calm swim sessions" in text_of(live) and "Preview" not in text_of(live)


@pytest.mark.parametrize("who, status", [(None, 302), ("provider@example.org", 403), ("other@example.org", 403)])
def test_only_coordinators_see_a_changes_preview(app, waiting, who, status):
    client = as_user(app, who) if who else app.test_client()
    assert client.get(f"/moderation/changes/{waiting}/preview").status_code == status


def test_providers_preview_only_their_own_listings(app, waiting):
    own = as_user(app, "provider@example.org").get(f"/portal/listings/{SWIM}/preview")
    assert own.status_code == 200 and "Otters quiet swim sessions" in text_of(own)
    assert "waiting for them to check" in text_of(own)
    assert as_user(app, "other@example.org").get(f"/portal/listings/{SWIM}/preview").status_code == 403
    assert app.test_client().get(f"/portal/listings/{SWIM}/preview").status_code == 302
    assert as_user(app, "coordinator@example.gov.uk").get(f"/portal/listings/{SWIM}/preview").status_code == 200


def test_a_listing_deleted_meanwhile_is_a_404_that_says_so(app, waiting):
    coordinator, provider = as_user(app, "coordinator@example.gov.uk"), as_user(app, "provider@example.org")
    assert coordinator.get(f"/moderation/changes/{waiting}/preview").status_code == 200
    db.session.delete(db.session.get(Listing, SWIM))
    db.session.commit()
    for response in (coordinator.get(f"/moderation/changes/{waiting}/preview"),
                     coordinator.post(f"/moderation/changes/{waiting}/approve", data={"version": "2"}),
                     coordinator.get(f"/moderation/changes/{waiting}")):
        assert response.status_code == 404
        assert "its listing may have been deleted" in text_of(response)
    response = provider.get(f"/portal/listings/{SWIM}/preview")
    assert response.status_code == 404 and "it may have been deleted" in text_of(response)


WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def counts() -> dict:
    return {model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Listing, ListingRevision, Location, ServiceAtLocation, Schedule, CostOption, Contact,
                          ListingTerm, AuditEvent, SearchChange)}


def test_previews_write_nothing(app, waiting):
    coordinator, provider = as_user(app, "coordinator@example.gov.uk"), as_user(app, "provider@example.org")
    before, live = counts(), listing_data.listing_data(db.session.get(Listing, SWIM))
    version = db.session.get(Listing, SWIM).version
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert coordinator.get(f"/moderation/changes/{waiting}/preview").status_code == 200
        assert provider.get(f"/portal/listings/{SWIM}/preview").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [statement for statement in statements if WRITES.match(statement)] == []
    db.session.expire_all()
    assert counts() == before
    listing = db.session.get(Listing, SWIM)
    assert listing_data.listing_data(listing) == live and listing.version == version
    assert listing.name == "Otters calm swim sessions" and listing.status is ListingStatus.PUBLISHED


def test_approve_or_send_back_from_the_preview(app, waiting):
    coordinator = as_user(app, "coordinator@example.gov.uk")
    version = db.session.get(ListingRevision, waiting).version
    empty = coordinator.post(f"/moderation/changes/{waiting}/send-back", data={"version": version, "reason": "",
                                                                             "from": "preview"})
    assert empty.status_code == 400
    assert "Preview: not published" in text_of(empty) and "Tell the provider what needs to change" in text_of(empty)
    approved = coordinator.post(f"/moderation/changes/{waiting}/approve", data={"version": version})
    assert approved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Listing, SWIM).name == "Otters quiet swim sessions"
    preview = coordinator.get(f"/moderation/changes/{waiting}/preview")
    assert preview.status_code == 200 and "not waiting for checks (it is approved)" in text_of(preview)
    assert "Approve and publish" not in text_of(preview)


@given(reason=st.text(max_size=300))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_sending_back_from_the_preview_takes_any_reason_or_refuses_it_with_nothing_changed(app, waiting, reason):
    """Property: any reason is a send-back (302) or a 400 on the preview with the change still waiting; never a 500."""
    change = db.session.get(ListingRevision, waiting)
    if change.status is not RevisionStatus.PENDING:  # an earlier example sent it back: send it again
        workflow.submit(change.listing, change, "", db.session.execute(
            select(User).where(User.email == "provider@example.org")).scalar_one())
    version = change.version
    response = as_user(app, "coordinator@example.gov.uk").post(
        f"/moderation/changes/{waiting}/send-back", data={"version": version, "reason": reason, "from": "preview"})
    db.session.expire_all()
    change = db.session.get(ListingRevision, waiting)
    if response.status_code == 400:
        assert change.status is RevisionStatus.PENDING and change.version == version
        assert "Preview: not published" in text_of(response)
    else:
        assert response.status_code == 302 and change.status is RevisionStatus.RETURNED
