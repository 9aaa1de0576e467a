"""Provider forms that fit the week: landing on "Your listings", descriptions as plain text, accessibility
details only for ticked features, copying a listing, and saying when a coordinator will look."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from local_offer.extensions import db
from local_offer.listings import data as listing_data, plain_text, workflow
from local_offer.models import AuditEvent, Listing, ListingRevision, ListingStatus, Role

from support import CHILDMINDER, SWIM, make_user, sign_in, text_of
from test_portal import OTTERS, as_user, fields_of, people, save  # noqa: F401  (people is a fixture)

PROPERTIES = settings(max_examples=40, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def about_of(listing_id: str) -> dict:
    """The about section of a live listing as a provider's browser sends it back (description as shown)."""
    data = listing_data.listing_data(db.session.get(Listing, listing_id))
    return {"name": data["name"], "kind": data["kind"], "summary": data["summary"],
            "description": plain_text.to_plain(data["description"]), "categories": data["categories"]}


# --- signing in --------------------------------------------------------------------------------


def test_providers_land_on_their_listings_and_a_safe_next_is_kept(app, people):
    """A provider signs in to "Your listings"; a page asked for (on this site) still wins; others keep their account."""
    client = app.test_client()
    assert sign_in(client, "provider@example.org").headers["Location"] == "/portal/"
    assert "Your listings" in text_of(client.get("/portal/"))
    asked = app.test_client()
    response = sign_in(asked, "provider@example.org", query_string={"next": f"/portal/listings/{SWIM}"})
    assert response.headers["Location"] == f"/portal/listings/{SWIM}"
    elsewhere = app.test_client()
    response = sign_in(elsewhere, "provider@example.org", query_string={"next": "https://evil.example/x"})
    assert response.headers["Location"] == "/portal/"
    account = app.test_client()
    assert sign_in(account, "provider@example.org", query_string={"next": "/account/"}).headers["Location"] == "/account/"
    assert sign_in(app.test_client(), "coordinator@example.gov.uk").headers["Location"] == "/admin/"


# --- the description as plain text ---------------------------------------------------------------


def test_the_description_is_edited_as_plain_text(app, people):
    """No Markdown in the hint or the box; paragraphs and lists typed are kept; coordinators read it plain."""
    listing = db.session.get(Listing, SWIM)
    listing.description_source = "We swim **slowly**.\n\n* towels\n* [goggles](https://example.org/goggles)"
    db.session.commit()
    provider = as_user(app, "provider@example.org")
    page = provider.get(f"/portal/listings/{SWIM}/sections/about").get_data(as_text=True)
    assert "Markdown" not in page and "**" not in page and "[link text]" not in page
    assert "We swim slowly.\n\n- towels\n- goggles (https://example.org/goggles)" in page.replace("&#39;", "'")
    typed = "We swim on Saturdays. Bring *two* towels.\n\nWhat to bring:\n- a towel\n- goggles"
    assert save(provider, SWIM, "about", {**about_of(SWIM), "description": typed}).status_code == 302
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    assert revision.data["description"] == ("We swim on Saturdays. Bring \\*two\\* towels.\n\nWhat to bring:\n\n"
                                            "- a towel\n- goggles")
    task_list = text_of(provider.get(f"/portal/listings/{SWIM}"))
    assert "Bring *two* towels" in task_list and "\\*" not in task_list


def test_a_description_left_alone_stays_as_stored(app, people):
    """Saving the about section with the description as shown changes nothing about it (no false change)."""
    listing = db.session.get(Listing, SWIM)
    listing.description_source = "We swim **slowly**.\n\n* towels"
    db.session.commit()
    provider = as_user(app, "provider@example.org")
    sent = {**about_of(SWIM), "summary": "Now on Sundays too."}
    assert save(provider, SWIM, "about", sent).status_code == 302
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    assert revision.data["description"] == "We swim **slowly**.\n\n* towels"
    assert [change.field for change in listing_data.diff(revision.base_data, revision.data)] == ["summary"]


def test_a_too_long_or_empty_description_names_its_field(app, people):
    """20,001 characters or nothing: a 400 naming the description, and nothing saved."""
    provider = as_user(app, "provider@example.org")
    for description, message in (("x" * 20_001, "Description must be 20,000 characters or fewer"),
                                 ("", "Enter a description"), (" \n\n\t ", "Enter a description")):
        response = save(provider, SWIM, "about", {**about_of(SWIM), "description": description})
        assert response.status_code == 400 and text_of(response).count(message) == 2  # summary and field
        assert workflow.open_revision(db.session.get(Listing, SWIM)) is None


# --- accessibility details -----------------------------------------------------------------------


def test_accessibility_details_open_only_for_ticked_features(app, people):
    """Each feature's details box is a conditional reveal, hidden (with JavaScript) until it is ticked."""
    provider = as_user(app, "provider@example.org")
    page = provider.get(f"/portal/listings/{SWIM}/sections/access").get_data(as_text=True)
    assert "data-lo-reveal" in page
    ticked = {item["code"] for item in listing_data.listing_data(db.session.get(Listing, SWIM))["accessibility"]}
    boxes = re.findall(r'<div class="govuk-checkboxes__conditional( govuk-checkboxes__conditional--hidden)?" '
                       r'data-reveal-for="([^"]+)"', page)
    assert boxes and ticked
    assert {code for hidden, code in boxes if not hidden} == ticked
    assert "aria-expanded" not in page and "data-aria-controls" not in page


# --- copying a listing ---------------------------------------------------------------------------


def test_a_copy_is_a_new_draft_with_the_content_and_nothing_else(app, people):
    """Choose a listing, name the copy: a draft with its content (not its id, reviews or history), ready to send."""
    provider = as_user(app, "provider@example.org")
    dashboard = provider.get("/portal/").get_data(as_text=True)
    assert 'href="/portal/listings/copy"' in dashboard
    page = provider.get("/portal/listings/copy", query_string={"from": SWIM})
    assert page.status_code == 200 and f'value="{SWIM}" checked' in page.get_data(as_text=True)
    assert CHILDMINDER not in page.get_data(as_text=True)  # someone else's listing is not offered
    response = provider.post("/portal/listings/copy", data={"source": SWIM, "name": "  Otters   junior squad "})
    assert response.status_code == 302
    copy_id = response.headers["Location"].rsplit("/", 1)[1]
    copy, source = db.session.get(Listing, copy_id), db.session.get(Listing, SWIM)
    assert copy.id != SWIM and copy.status is ListingStatus.DRAFT and copy.name == "Otters junior squad"
    assert copy.organisation_id == source.organisation_id and copy.assured_date is None and copy.review_due is None
    assert copy.feed_id is None
    revision = workflow.open_revision(copy)
    original = listing_data.listing_data(source)
    for key in ("summary", "description", "categories", "costs", "accessibility", "how_to_access", "website"):
        if key == "costs":
            assert [{k: v for k, v in row.items() if k != "id"} for row in original[key]] == revision.data[key]
        else:
            assert revision.data[key] == original[key], key
    assert all("id" not in row for key in ("schedules", "costs", "contacts") for row in revision.data[key])
    assert revision.data["name"] == "Otters junior squad" and revision.data["status"] == "published"
    started = db.session.execute(select(AuditEvent).where(AuditEvent.entity_id == copy_id)).scalar_one()
    assert started.action == "listing.started" and started.changes["copied_from"] == SWIM
    task_list = provider.get(f"/portal/listings/{copy_id}").get_data(as_text=True)
    assert "Send for checking" in task_list and "Not yet started" not in task_list
    sent = provider.post(f"/portal/listings/{copy_id}/submit", data=fields_of(provider, f"/portal/listings/{copy_id}"),
                         follow_redirects=True)
    assert "A coordinator will look at it within 5 working days." in text_of(sent)
    db.session.expire_all()
    assert workflow.open_revision(copy).status.value == "pending"
    coordinator = as_user(app, "coordinator@example.gov.uk")
    assert coordinator.post(f"/moderation/changes/{revision.id}/approve",
                            data={"version": workflow.open_revision(copy).version}).status_code in (302, 303)
    db.session.expire_all()
    copy, source = db.session.get(Listing, copy_id), db.session.get(Listing, SWIM)
    assert copy.status is ListingStatus.PUBLISHED and len(copy.schedules) == len(source.schedules)
    assert {s.id for s in copy.schedules}.isdisjoint({s.id for s in source.schedules})
    assert source.name != copy.name and len(source.schedules) > 0


def test_someone_elses_listing_cannot_be_copied(app, people):
    """A listing of another organisation, or none, is a 400 naming the field; nothing is created."""
    provider = as_user(app, "provider@example.org")
    before = db.session.scalar(select(func.count()).select_from(Listing))
    for data in ({"source": CHILDMINDER, "name": "Mine now"}, {"name": "No source"}, {"source": SWIM, "name": " "}):
        response = provider.post("/portal/listings/copy", data=data)
        assert response.status_code == 400
        assert "Choose the listing to copy" in text_of(response) or "Enter the name of the new listing" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Listing)) == before
    lonely = make_user("lonely@example.org", Role.PROVIDER, [])
    assert lonely.organisations == []
    client = app.test_client()
    sign_in(client, "lonely@example.org")
    assert client.get("/portal/listings/copy").status_code == 302


def test_save_and_send_sends_a_finished_change_from_the_section_page(app, people):
    """Changing one thing on a live listing: open the section, "Save and send for checking", done."""
    provider = as_user(app, "provider@example.org")
    assert "Save and send for checking" in text_of(provider.get(f"/portal/listings/{SWIM}/sections/about"))
    changed = {**about_of(SWIM), "summary": "Friendly lessons for nervous swimmers", "save_and_send": "y"}
    response = save(provider, SWIM, "about", changed, follow_redirects=True)
    assert response.status_code == 200 and "Sent for checking" in text_of(response)
    revision = db.session.execute(select(ListingRevision).where(ListingRevision.listing_id == SWIM)).scalar_one()
    assert revision.status.value == "pending" and revision.data["summary"] == "Friendly lessons for nervous swimmers"


def test_save_and_send_is_offered_only_when_the_rest_is_complete(app, people):
    provider = as_user(app, "provider@example.org")
    response = provider.post("/portal/listings/new", data={"organisation": OTTERS, "name": "Kingfisher Canoe Club",
                                                           "kind": "activity"})
    listing_id = response.headers["Location"].rsplit("/", 1)[1]
    assert "Save and send for checking" not in text_of(provider.get(f"/portal/listings/{listing_id}/sections/cost"))


def test_an_error_in_a_repeating_row_names_its_row_once(app, people):
    """Two costs, the second wrong: the summary and the field say "Cost 2", once each."""
    provider = as_user(app, "provider@example.org")
    response = save(provider, SWIM, "cost", {"is_free": "no", "costs-0-option": "per session", "costs-0-amount": "4.50",
                                             "costs-1-option": "per term", "costs-1-amount": "lots"})
    assert response.status_code == 400
    page = text_of(response)
    error = re.search(r"Cost 2: [^.]*", page).group(0)
    assert page.count(error) == 2 and "Cost 1:" not in page and "Cost 2: Cost 2:" not in page


def test_the_service_level_is_configured(app, people):
    """The promise follows MODERATION_DAYS (one day reads "1 working day")."""
    app.config["MODERATION_DAYS"] = 1
    provider = as_user(app, "provider@example.org")
    save(provider, SWIM, "about", {**about_of(SWIM), "summary": "Now on Sundays too."})
    sent = provider.post(f"/portal/listings/{SWIM}/submit", data=fields_of(provider, f"/portal/listings/{SWIM}"),
                         follow_redirects=True)
    assert "A coordinator will look at it within 1 working day." in text_of(sent)
    assert "soon" not in text_of(sent)


names = st.one_of(st.none(), st.text(max_size=300), st.sampled_from(["", " ", "\x00", "<script>x</script>", "a" * 256]))
sources = st.one_of(st.none(), st.text(max_size=40), st.sampled_from([SWIM, CHILDMINDER, "", "example", SWIM + "x"]))


@PROPERTIES
@given(source=sources, name=names, extra=st.dictionaries(st.sampled_from(["organisation", "kind", "id"]),
                                                         st.text(max_size=20), max_size=2))
def test_any_copy_form_input_gets_a_clear_answer_never_a_500(app, people, source, name, extra):
    """Whatever is posted to "Copy an existing listing": a new draft of the provider's own listing, or a 400."""
    provider = as_user(app, "provider@example.org")
    before = db.session.scalar(select(func.count()).select_from(Listing))
    fields = {**extra, **({"source": source} if source is not None else {}), **({"name": name} if name is not None else {})}
    response = provider.post("/portal/listings/copy", data=fields)
    assert response.status_code in (302, 400), response.status_code
    after = db.session.scalar(select(func.count()).select_from(Listing))
    if response.status_code == 302:
        assert source == SWIM and after == before + 1
        copy = db.session.get(Listing, response.headers["Location"].rsplit("/", 1)[1])
        assert copy.organisation_id == OTTERS and copy.name and "<" not in copy.name and len(copy.name) <= 255
    else:
        assert after == before and "There is a problem" in text_of(response)


descriptions = st.one_of(st.text(max_size=400), st.lists(st.sampled_from(
    ["- ", "* ", "• ", "1. ", "# ", "> ", "**", "_", "`", "[a](javascript:x)", "<script>", "&amp;", "\n", "\n\n",
     "\r\n", "\x00", "\u2028", "words", "https://example.org/a_b"]), max_size=30).map("".join))


@PROPERTIES
@given(description=descriptions)
def test_any_description_typed_is_kept_as_typed_or_refused_clearly(app, people, description):
    """Whatever is typed in the description: saved and shown back the one way, or a 400 naming it; never a 500."""
    provider = as_user(app, "provider@example.org")
    response = save(provider, SWIM, "about", {**about_of(SWIM), "description": description})
    assert response.status_code in (302, 400), response.status_code
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    if response.status_code == 302:
        assert plain_text.to_plain(revision.data["description"]) == plain_text.normalise(description)
        shown = provider.get(f"/portal/listings/{SWIM}/sections/about").get_data(as_text=True)
        assert "<script>" not in shown
    else:
        assert revision is None and "Enter a description" in text_of(response)
    if revision is not None:  # the next example starts from the live listing again
        workflow.withdraw(db.session.get(Listing, SWIM), revision, people["provider"])
