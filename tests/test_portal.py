"""The provider portal and moderation: providers write, coordinators check, families see it a moment later."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from local_offer import mail
from local_offer.listings import data as listing_data, workflow
from local_offer.extensions import db
from local_offer.models import (
    AuditEvent,
    Listing,
    ListingRevision,
    ListingStatus,
    Location,
    Organisation,
    RevisionStatus,
    Role,
    User,
)

from support import CHILDMINDER, FORUM, SWIM, make_user, sign_in, text_of

OTTERS = "6f1c2a40-1d0b-4c51-9a57-0d2f0c1a0001"  # runs SWIM

SECTIONS = {
    "about": {"name": "Kingfisher Canoe Club", "kind": "activity",
              "summary": "Relaxed canoe sessions for autistic young people on the canal at Leek.",
              "description": "We paddle slowly.\n\n- Buoyancy aids provided\n- Changing rooms",
              "categories": ["sport-and-leisure"]},
    "who": {"min_age": "8", "max_age": "18", "level": "targeted", "needs": ["autism"], "languages": "Polish"},
    "when_where": {"delivery_methods": ["venue"], "in_area": "yes", "service_area": "Staffordshire Moorlands",
                   "locations-0-name": "Leek Canal Wharf", "locations-0-address_1": "Barnfields Road",
                   "locations-0-town": "Leek", "locations-0-postcode": "st13 6aa",
                   "schedules-0-days": "SA", "schedules-0-opens": "10:00", "schedules-0-closes": "11.30",
                   "schedules-0-period": "all_year"},
    "cost": {"is_free": "no", "costs-0-option": "per session", "costs-0-amount": "£4,50",
             "funding": ["accepts_direct_payments"]},
    "access": {"accessibility": ["quiet-sessions"], "details-quiet-sessions": "Small groups of six",
               "access_routes": ["booking"], "how_to_access": "Book by phone with Sam."},
    "contacts": {"phone": "01538 000111", "contacts-0-name": "Sam Carter", "contacts-0-title": "Coach",
                 "contacts-0-email": "sam@example.org", "contacts-0-public": "y"},
}


def fields_of(client, url: str) -> dict:
    """Return the hidden revision and version fields of a section form."""
    page = client.get(url).get_data(as_text=True)
    found = dict(re.findall(r'name="(revision|version)" type="hidden" value="([^"]*)"', page))
    found.update({name: value for value, name in re.findall(
        r'<input[^>]*value="([^"]*)"[^>]*name="(revision|version)"', page)})
    return found


def save(client, listing_id: str, section: str, data: dict, **kwargs):
    """Open a section, then post it with its hidden fields."""
    url = f"/portal/listings/{listing_id}/sections/{section}"
    hidden = fields_of(client, url)
    return client.post(url, data={**hidden, **data}, **kwargs)


@pytest.fixture
def vocab_codes(demo):
    """Make the SECTIONS data use codes the demo vocabularies really have."""
    from local_offer.models import Term, Vocabulary

    def leaf(vocabulary, wanted):
        codes = [t.code for t in db.session.execute(select(Term).where(Term.vocabulary == vocabulary)).scalars()
                 if not t.children]
        return wanted if wanted in codes else codes[0]

    SECTIONS["about"]["categories"] = [leaf(Vocabulary.CATEGORY, "sport-and-leisure")]
    SECTIONS["who"]["needs"] = [leaf(Vocabulary.NEED, "autism")]
    SECTIONS["access"]["accessibility"] = [leaf(Vocabulary.ACCESSIBILITY, "quiet-sessions")]
    code = SECTIONS["access"]["accessibility"][0]
    SECTIONS["access"] = {k: v for k, v in SECTIONS["access"].items() if not k.startswith("details-")}
    SECTIONS["access"][f"details-{code}"] = "Small groups of six"
    return SECTIONS


@pytest.fixture
def people(demo):
    """A provider of the Otters (who run SWIM), a provider elsewhere, and a coordinator."""
    otters = db.session.get(Organisation, OTTERS)
    other = db.session.execute(select(Organisation).where(Organisation.id != OTTERS)).scalars().first()
    return {"provider": make_user("provider@example.org", Role.PROVIDER, [otters]),
            "other": make_user("other@example.org", Role.PROVIDER, [other]),
            "coordinator": make_user("coordinator@example.gov.uk", Role.COORDINATOR)}


def as_user(app, email):
    """Return a fresh client signed in as ``email``."""
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def new_listing(client) -> str:
    """Start a listing as the Otters' provider; return its id."""
    response = client.post("/portal/listings/new", data={"organisation": OTTERS, "name": "Kingfisher Canoe Club",
                                                         "kind": "activity"})
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[1]


def search_names(client, words: str) -> str:
    return text_of(client.get("/search", query_string={"q": words}))


# --- the whole journey ------------------------------------------------------------------------


def test_provider_adds_coordinator_approves_parent_finds_it(app, people, vocab_codes):
    """Done when: the provider adds a listing, the coordinator approves it, a parent finds it by search."""
    provider = as_user(app, "provider@example.org")
    listing_id = new_listing(provider)
    page = text_of(provider.get(f"/portal/listings/{listing_id}"))
    assert "Not yet started" in page and "Send for checking" not in page
    for section, data in vocab_codes.items():
        response = save(provider, listing_id, section, data)
        assert response.status_code == 302, (section, text_of(response)[:2000])
    page = text_of(provider.get(f"/portal/listings/{listing_id}"))
    assert "Not yet started" not in page and "Send for checking" in page
    assert "Kingfisher" not in search_names(app.test_client(), "canoe")
    hidden = fields_of(provider, f"/portal/listings/{listing_id}")
    response = provider.post(f"/portal/listings/{listing_id}/submit", data={**hidden, "note": "New this spring"})
    assert response.status_code == 302
    assert db.session.get(Listing, listing_id).status is ListingStatus.PENDING
    assert "Kingfisher" not in search_names(app.test_client(), "canoe")

    coordinator = as_user(app, "coordinator@example.gov.uk")
    queue = text_of(coordinator.get("/moderation/"))
    assert "Kingfisher Canoe Club" in queue and "New listing" in queue
    revision = db.session.execute(select(ListingRevision).where(ListingRevision.listing_id == listing_id)).scalar_one()
    page = coordinator.get(f"/moderation/changes/{revision.id}").get_data(as_text=True)
    assert "New this spring" in page and "Leek Canal Wharf" in page
    response = coordinator.post(f"/moderation/changes/{revision.id}/approve", data={"version": revision.version})
    assert response.status_code == 302

    db.session.expire_all()
    listing = db.session.get(Listing, listing_id)
    assert listing.status is ListingStatus.PUBLISHED
    assert listing.description == "<p>We paddle slowly.</p>\n<ul>\n<li>Buoyancy aids provided</li>\n<li>Changing rooms</li>\n</ul>"
    assert listing.locations[0].postcode == "ST13 6AA" and listing.locations[0].latitude is not None
    assert listing.schedules[0].closes_at.strftime("%H:%M") == "11:30"
    assert str(listing.cost_options[0].amount) == "4.50"  # typed as "£4,50"
    assert listing.assured_date is not None and listing.review_due > listing.assured_date
    # The parent's search, straight after approval.
    parent = app.test_client()
    assert "Kingfisher Canoe Club" in search_names(parent, "canoe")
    public = text_of(parent.get(f"/listings/{listing_id}", follow_redirects=True))
    assert "Small groups of six" in public and "Sam Carter" in public
    assert any("is live" in message["Subject"] for message in mail.sent_messages())
    history = text_of(coordinator.get(f"/moderation/listings/{listing_id}/history"))
    assert "Approved and published a change" in history and "Sent a change for checking" in history


def test_an_edit_to_a_live_listing_stays_invisible_until_approved(app, people):
    """A pending change waits beside the live version, which stays searchable as it was."""
    provider = as_user(app, "provider@example.org")
    live_name = db.session.get(Listing, SWIM).name
    response = save(provider, SWIM, "about", {**publishing_about(SWIM), "name": "Otters Splash Club"})
    assert response.status_code == 302
    hidden = fields_of(provider, f"/portal/listings/{SWIM}")
    assert provider.post(f"/portal/listings/{SWIM}/submit", data=hidden).status_code == 302
    parent = app.test_client()
    assert live_name in text_of(parent.get(f"/listings/{SWIM}", follow_redirects=True))
    assert "Otters Splash Club" not in search_names(parent, "splash")
    coordinator = as_user(app, "coordinator@example.gov.uk")
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    page = text_of(coordinator.get(f"/moderation/changes/{revision.id}"))
    # Changed words are marked for screen readers too ("removed: calm swim sessions").
    assert "Changes to a live listing" in page and "Otters Splash Club" in page
    assert live_name in page.replace("removed: ", "")
    assert coordinator.post(f"/moderation/changes/{revision.id}/approve",
                            data={"version": revision.version}).status_code == 302
    assert "Otters Splash Club" in search_names(parent, "splash")


def publishing_about(listing_id: str) -> dict:
    """Return the about section of a live listing as form data."""
    data = listing_data.listing_data(db.session.get(Listing, listing_id))
    return {"name": data["name"], "kind": data["kind"], "summary": data["summary"],
            "description": data["description"], "categories": data["categories"]}


def test_a_change_sent_back_reaches_the_provider_with_its_reason(app, people):
    """Sending back needs a reason; the provider sees it in the portal and by email."""
    provider = as_user(app, "provider@example.org")
    save(provider, SWIM, "about", {**publishing_about(SWIM), "summary": "Now on Sundays too."})
    provider.post(f"/portal/listings/{SWIM}/submit", data=fields_of(provider, f"/portal/listings/{SWIM}"))
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    coordinator = as_user(app, "coordinator@example.gov.uk")
    response = coordinator.post(f"/moderation/changes/{revision.id}/send-back", data={"version": revision.version})
    assert response.status_code == 400 and "Tell the provider what needs to change" in text_of(response)
    response = coordinator.post(f"/moderation/changes/{revision.id}/send-back",
                                data={"version": revision.version, "reason": "Which Sunday times? Add them."})
    assert response.status_code == 302
    page = text_of(provider.get(f"/portal/listings/{SWIM}"))
    assert "Sent back" in page and "Which Sunday times? Add them." in page
    message = mail.sent_messages()[-1]
    assert message["To"] == "provider@example.org" and "Which Sunday times?" in message.get_content()
    assert "Now on Sundays too." not in text_of(app.test_client().get(f"/listings/{SWIM}", follow_redirects=True))


# --- locking ------------------------------------------------------------------------------------


def test_a_stale_form_after_approval_is_refused_and_shows_both_versions(app, people):
    """A form opened before someone else's approval cannot overwrite it: 409, both versions shown."""
    provider = as_user(app, "provider@example.org")
    save(provider, SWIM, "about", {**publishing_about(SWIM), "summary": "First change."})
    stale = fields_of(provider, f"/portal/listings/{SWIM}/sections/about")
    provider.post(f"/portal/listings/{SWIM}/submit", data=fields_of(provider, f"/portal/listings/{SWIM}"))
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    coordinator = as_user(app, "coordinator@example.gov.uk")
    coordinator.post(f"/moderation/changes/{revision.id}/approve", data={"version": revision.version})
    response = provider.post(f"/portal/listings/{SWIM}/sections/about",
                             data={**stale, **publishing_about(SWIM), "summary": "Second change."})
    assert response.status_code == 409
    page = text_of(response)
    assert "Someone else changed this listing" in page and "Second change." in page and "First change." in page
    db.session.expire_all()
    assert db.session.get(Listing, SWIM).summary == "First change."


def test_approval_merges_untouched_fields_and_stops_at_real_conflicts(app, people):
    """A change never silently undoes another: untouched fields keep the live value, clashes need a choice."""
    listing = db.session.get(Listing, SWIM)
    coordinator = db.session.execute(select(User).where(
        User.email == "coordinator@example.gov.uk")).scalar_one()
    provider_user = db.session.execute(select(User).where(
        User.email == "provider@example.org")).scalar_one()
    mine = workflow.start_revision(listing, provider_user)
    mine.data = {**mine.data, "summary": "Provider's summary.", "eligibility": "Provider's eligibility."}
    mine.status = RevisionStatus.PENDING
    db.session.commit()
    # Meanwhile a coordinator edits the live listing directly.
    live = listing_data.listing_data(listing)
    workflow.publish(listing, {**live, "name": "Renamed by the council", "summary": "Council's summary."},
                       actor=coordinator, action="listing.published")
    with pytest.raises(workflow.Conflict) as conflict:
        workflow.approve(mine, coordinator)
    assert conflict.value.fields == ["summary"]
    db.session.expire_all()
    assert db.session.get(Listing, SWIM).summary == "Council's summary."
    workflow.approve(db.session.get(ListingRevision, mine.id), coordinator, accept_conflicts=True)
    db.session.expire_all()
    listing = db.session.get(Listing, SWIM)
    assert (listing.name, listing.summary, listing.eligibility) == (
        "Renamed by the council", "Provider's summary.", "Provider's eligibility.")
    audit = db.session.execute(select(AuditEvent).where(AuditEvent.action == "listing.approved")).scalar_one()
    assert audit.changes["overrode"] == ["summary"]


def test_the_conflict_page_shows_both_versions(app, people):
    """The coordinator is shown the live and the proposed value side by side, with a 409."""
    listing = db.session.get(Listing, SWIM)
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    mine = workflow.start_revision(listing, users["provider@example.org"])
    mine.data = {**mine.data, "summary": "Provider's summary."}
    mine.status = RevisionStatus.PENDING
    db.session.commit()
    workflow.publish(listing, {**listing_data.listing_data(listing), "summary": "Council's summary."},
                       actor=users["coordinator@example.gov.uk"], action="listing.published")
    coordinator = as_user(app, "coordinator@example.gov.uk")
    response = coordinator.post(f"/moderation/changes/{mine.id}/approve", data={"version": mine.version})
    assert response.status_code == 409
    page = text_of(response)
    assert "Someone else changed the same things" in page and "Council's summary." in page
    assert "Provider's summary." in page
    response = coordinator.post(f"/moderation/changes/{mine.id}/approve",
                                data={"version": mine.version, "accept_conflicts": "y"})
    assert response.status_code == 302


def test_approving_a_change_edited_since_it_was_opened_is_refused(app, people):
    """The coordinator approves what they read: a later provider edit makes the approval stale."""
    provider = as_user(app, "provider@example.org")
    save(provider, SWIM, "about", {**publishing_about(SWIM), "summary": "Read by the coordinator."})
    provider.post(f"/portal/listings/{SWIM}/submit", data=fields_of(provider, f"/portal/listings/{SWIM}"))
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    seen_version = revision.version
    save(provider, SWIM, "about", {**publishing_about(SWIM), "summary": "Changed after they read it."})
    coordinator = as_user(app, "coordinator@example.gov.uk")
    response = coordinator.post(f"/moderation/changes/{revision.id}/approve", data={"version": seen_version})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Listing, SWIM).summary != "Changed after they read it."


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("section, data, message", [
    ("about", {"name": "", "kind": "activity", "summary": "x", "description": "y"}, "Enter the name of the listing"),
    ("about", {"name": "N", "kind": "activity", "summary": "x", "description": "y" * 20_001},
     "Description must be 20,000 characters or fewer"),
    ("who", {"min_age": "12", "max_age": "9", "level": "universal"},
     "Oldest age must be the same as or more than the youngest age"),
    ("who", {"min_age": "-1", "max_age": "30", "level": "universal"}, "Youngest age must be between 0 and 25"),
    ("who", {"min_age": "three", "level": "universal"}, "Not a valid integer value"),
    ("when_where", {"delivery_methods": ["venue"], "in_area": "yes", "schedules-0-days": "MO",
                    "schedules-0-opens": "18:00", "schedules-0-closes": "17:00"},
     "The closing time must be after the opening time"),
    ("when_where", {"delivery_methods": ["venue"], "in_area": "yes", "locations-0-name": "Hall",
                    "locations-0-address_1": "1 Road", "locations-0-town": "Leek", "locations-0-postcode": "ZZ99 9ZZ"},
     "We could not find the postcode"),
    ("when_where", {"delivery_methods": ["venue"], "in_area": "yes"}, "Add a venue"),
    ("when_where", {"delivery_methods": ["venue"], "in_area": "yes", "locations-0-name": "Hall",
                    "locations-0-town": "Leek"}, "Enter the venue's postcode"),
    ("when_where", {"delivery_methods": ["online"], "in_area": "yes", "schedules-0-opens": "10:00",
                    "schedules-0-closes": "11:00"}, "Tick the days it runs, or explain when it runs in the notes"),
    ("when_where", {"delivery_methods": ["online"], "in_area": "yes", "schedules-0-days": "TU",
                    "schedules-0-opens": "6pm", "schedules-0-how_often": "monthly_day", "schedules-0-ordinal": "5"},
     "Choose which one in the month: first, second, third, fourth or last"),
    ("when_where", {"delivery_methods": ["online"], "in_area": "yes", "schedules-0-opens": "10am",
                    "schedules-0-how_often": "dates", "schedules-0-dates": "12/12/2026\n30/2/2027"},
     "Date 2 (30/2/2027) is not a real date"),
    ("when_where", {"delivery_methods": ["online"], "in_area": "yes", "schedules-0-opens": "10am",
                    "schedules-0-how_often": "dates", "schedules-0-dates": "\n".join(["1/1/2027"] * 10_000)},
     "Enter at most 60 dates"),
    ("when_where", {"delivery_methods": ["online"], "in_area": "yes", "schedules-0-opens": "10am",
                    "schedules-0-how_often": "monthly_date", "schedules-0-monthday": "32"},
     "Enter a date in the month, from 1 to 31"),
    ("when_where", {"delivery_methods": ["online"], "in_area": "yes", "schedules-0-days": "FR",
                    "schedules-0-opens": "6pm", "schedules-0-how_often": "every_n", "schedules-0-interval": "2"},
     "Enter the date of one session, so families know which weeks"),
    ("when_where", {"delivery_methods": ["online"], "in_area": "yes", "schedules-0-days": "FR",
                    "schedules-0-opens": "6pm", "schedules-0-valid_from": ["1", "9", "2027"],
                    "schedules-0-valid_to": ["1", "8", "2027"]},
     "The last date must be the same as or after the first date"),
    ("when_where", {"delivery_methods": ["online"], "in_area": "yes", "schedules-0-days": "FR",
                    "schedules-0-opens": "18:00-09:00"}, "The end time must be after the start time"),
    ("when_where", {"delivery_methods": ["online"], "in_area": "yes", "schedules-0-days": "MO",
                    "schedules-0-opens": "6pm-ish", "schedules-0-closes": "7pm"},
     "Enter the opening time like 9am, 5:30pm or 17:30"),
    ("when_where", {"delivery_methods": ["online"], "in_area": "yes", "schedules-0-days": "MO",
                    "schedules-0-opens": "6pm", "schedules-0-closes": "25:00"},
     "Enter the closing time like 9am, 5:30pm or 17:30"),
    ("cost", {"is_free": "no", "costs-0-option": "per session"}, "Enter an amount, or describe the cost"),
    ("cost", {"is_free": "no", "costs-0-option": "per session", "costs-0-amount": "NaN"},
     "Enter an amount in pounds"),
    ("contacts", {"website": "https://example.org", "contacts-0-email": "a@example.org"},
     "Enter the person's name or their role"),
    ("cost", {"is_free": "no", "costs-0-option": "per session", "costs-0-amount": "lots"},
     "Enter an amount in pounds"),
    ("contacts", {"website": "javascript:alert(1)"}, "Enter a web address starting with https://"),
    ("contacts", {}, "Give families at least one way to get in touch"),
])
def test_bad_input_is_shown_next_to_the_field_with_a_400(app, people, section, data, message):
    """Bad input: the form again, with the GOV.UK error summary and the message, and nothing stored."""
    provider = as_user(app, "provider@example.org")
    before = listing_data.listing_data(db.session.get(Listing, SWIM))
    response = save(provider, SWIM, section, data)
    assert response.status_code == 400, text_of(response)[:500]
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page and message in text_of(response)
    assert "<title>Error:" in page
    db.session.expire_all()
    assert workflow.open_revision(db.session.get(Listing, SWIM)) is None
    assert listing_data.listing_data(db.session.get(Listing, SWIM)) == before


def test_times_are_taken_as_people_type_them_and_each_error_names_its_field(app, people):
    """"6pm" and "7.30pm" are stored as 18:00 and 19:30; two bad times give two different messages, once each."""
    provider = as_user(app, "provider@example.org")
    listing_id = new_listing(provider)
    response = save(provider, listing_id, "when_where", {
        "delivery_methods": ["online"], "in_area": "yes", "schedules-0-days": "MO",
        "schedules-0-opens": "6pm", "schedules-0-closes": "7.30pm"})
    assert response.status_code in (302, 303), text_of(response)[:500]
    db.session.expire_all()
    draft = workflow.open_revision(db.session.get(Listing, listing_id)).data["schedules"][0]
    assert (draft["opens"], draft["closes"]) == ("18:00", "19:30")
    response = save(provider, listing_id, "when_where", {
        "delivery_methods": ["online"], "in_area": "yes", "schedules-0-days": "MO",
        "schedules-0-opens": "soon", "schedules-0-closes": "later"})
    assert response.status_code == 400
    page = text_of(response)
    summary = page.split("There is a problem", 1)[1]
    for message in ("Enter the opening time like 9am, 5:30pm or 17:30", "Enter the closing time like 9am, 5:30pm or 17:30"):
        assert page.count(message) == 2  # once in the summary, once by its field
        assert message in summary


def test_a_five_megabyte_description_is_refused_at_the_field(app, people):
    """A pasted 5 MB description gets the field's message and a 400, not a crash or a bare 413."""
    provider = as_user(app, "provider@example.org")
    response = save(provider, SWIM, "about", {**publishing_about(SWIM), "description": "a" * (5 * 1024 * 1024)})
    assert response.status_code == 400
    assert "Description must be 20,000 characters or fewer" in text_of(response)


def test_script_and_javascript_links_never_reach_the_page(app, people):
    """Descriptions are plain text: markup typed shows as typed, never runs; web addresses become links."""
    provider = as_user(app, "provider@example.org")
    description = ("Hello <script>alert('x')</script> [click](javascript:alert(1)) "
                   "<img src=x onerror=alert(1)> [fine](https://example.org)")
    response = save(provider, SWIM, "about", {**publishing_about(SWIM), "description": description,
                                              "name": "<b>Otters</b>"})
    assert response.status_code == 302
    provider.post(f"/portal/listings/{SWIM}/submit", data=fields_of(provider, f"/portal/listings/{SWIM}"))
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    coordinator = as_user(app, "coordinator@example.gov.uk")
    review_page = coordinator.get(f"/moderation/changes/{revision.id}").get_data(as_text=True)
    assert "<script>alert" not in review_page
    coordinator.post(f"/moderation/changes/{revision.id}/approve", data={"version": revision.version})
    page = app.test_client().get(f"/listings/{SWIM}", follow_redirects=True).get_data(as_text=True)
    assert "<script>alert" not in page and 'href="javascript:' not in page and "<img" not in page
    assert "Hello &lt;script&gt;alert" in page  # the words as typed
    assert 'href="https://example.org"' in page
    assert db.session.get(Listing, SWIM).name == "Otters"


def test_an_unknown_postcode_is_never_published_without_coordinates(app, people):
    """The publish path itself refuses a venue it cannot place (imports reach it without a form)."""
    listing = db.session.get(Listing, SWIM)
    data = listing_data.listing_data(listing)
    data["locations"] = [{"name": "Nowhere", "address_1": "1 Road", "town": "Leek", "postcode": "ZZ99 9ZZ"}]
    with pytest.raises(workflow.PublishError):
        workflow.publish(listing, data, actor=None, action="listing.published")
    db.session.expire_all()
    assert [location.postcode for location in db.session.get(Listing, SWIM).locations] == ["ST13 6AA"]


# --- who may do what -----------------------------------------------------------------------------


def test_providers_reach_only_their_own_listings(app, people):
    """Another organisation's provider gets 403 on every portal page of this listing; moderation is 403."""
    other = as_user(app, "other@example.org")
    for url in (f"/portal/listings/{SWIM}", f"/portal/listings/{SWIM}/sections/about", f"/portal/listings/{SWIM}/status"):
        assert other.get(url).status_code == 403, url
    for url in (f"/portal/listings/{SWIM}/edit", f"/portal/listings/{SWIM}/confirm",
                f"/portal/listings/{SWIM}/submit", f"/portal/listings/{SWIM}/withdraw"):
        assert other.post(url).status_code == 403, url
    assert other.get("/moderation/").status_code == 403
    assert "Otters" not in text_of(other.get("/portal/"))


def test_confirm_still_accurate_moves_the_review_date_only(app, people):
    """One click sets the last-checked date and the next review, and changes nothing else."""
    provider = as_user(app, "provider@example.org")
    listing = db.session.get(Listing, SWIM)
    before = listing_data.listing_data(listing)
    assert provider.post(f"/portal/listings/{SWIM}/confirm").status_code == 302
    db.session.expire_all()
    listing = db.session.get(Listing, SWIM)
    from datetime import date

    assert listing.assured_date == date.today() and listing.review_due > date.today()
    assert listing_data.listing_data(listing) == before


def test_asking_to_close_temporarily_waits_for_approval(app, people):
    """A request to close is a change like any other: the coordinator approves it, then families see it."""
    provider = as_user(app, "provider@example.org")
    response = provider.post(f"/portal/listings/{SWIM}/status", data={"status": "temporarily_closed"})
    assert response.status_code == 400 and "Say why" in text_of(response)
    response = provider.post(f"/portal/listings/{SWIM}/status",
                             data={"status": "temporarily_closed", "note": "Pool closed for repairs until May"})
    assert response.status_code == 302
    assert db.session.get(Listing, SWIM).status is ListingStatus.PUBLISHED
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    coordinator = as_user(app, "coordinator@example.gov.uk")
    page = text_of(coordinator.get(f"/moderation/changes/{revision.id}"))
    assert "Pool closed for repairs until May" in page and "Temporarily closed" in page
    coordinator.post(f"/moderation/changes/{revision.id}/approve", data={"version": revision.version})
    db.session.expire_all()
    assert db.session.get(Listing, SWIM).status is ListingStatus.TEMPORARILY_CLOSED


def test_a_shared_venue_is_copied_not_changed_under_other_listings(app, people):
    """Editing a venue another listing also uses gives this listing its own copy."""
    forum = db.session.get(Listing, FORUM)
    shared = forum.locations[0]
    swim = db.session.get(Listing, SWIM)
    data = listing_data.listing_data(swim)
    data["locations"] = [{"id": shared.id, "name": shared.name, "address_1": "Changed Street",
                          "town": shared.town, "postcode": shared.postcode}]
    workflow.publish(swim, data, actor=None, action="listing.published")
    db.session.expire_all()
    assert db.session.get(Location, shared.id).address_1 != "Changed Street"
    assert db.session.get(Listing, SWIM).locations[0].address_1 == "Changed Street"


def test_search_index_failure_leaves_the_database_right_and_the_outbox_pending(app, people, monkeypatch):
    """If indexing fails after approval, the listing is still published and the change waits to be retried."""
    from local_offer.search import get_service

    service = get_service()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(service.engine, "write", broken)
    listing = db.session.get(Listing, SWIM)
    workflow.publish(listing, {**listing_data.listing_data(listing), "name": "Otters After Outage"},
                       actor=None, action="listing.published")
    db.session.expire_all()
    assert db.session.get(Listing, SWIM).name == "Otters After Outage"
    assert [document_id for _seq, document_id, _at in service.waiting()] == [SWIM]
    monkeypatch.undo()
    assert service.sync() == (1, 0)
    assert "Otters After Outage" in search_names(app.test_client(), "outage")


def test_the_masked_childminder_keeps_its_mask_through_an_edit(app, people):
    """A childminder's address stays hidden after an edit goes through the publish path."""
    listing = db.session.get(Listing, CHILDMINDER)
    workflow.publish(listing, {**listing_data.listing_data(listing), "summary": "Updated."}, actor=None,
                       action="listing.published")
    page = text_of(app.test_client().get(f"/listings/{CHILDMINDER}", follow_redirects=True))
    assert "12 Example Close" not in page


def test_a_coordinator_edits_a_listing_directly_and_publishes_it(app, people):
    """Coordinators use the same sections on any listing, then publish straight away."""
    coordinator = as_user(app, "coordinator@example.gov.uk")
    assert save(coordinator, SWIM, "about", {**publishing_about(SWIM), "summary": "Edited by the council."}
                ).status_code == 302
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    assert "Publish these changes now" in text_of(coordinator.get(f"/portal/listings/{SWIM}"))
    stale = coordinator.post(f"/moderation/listings/{SWIM}/publish", data={"version": revision.version - 1})
    assert stale.status_code == 409 and db.session.get(Listing, SWIM).summary != "Edited by the council."
    response = coordinator.post(f"/moderation/listings/{SWIM}/publish", data={"version": revision.version})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Listing, SWIM).summary == "Edited by the council."
    audit = db.session.execute(select(AuditEvent).where(AuditEvent.action == "listing.approved")).scalar_one()
    assert audit.actor == "coordinator@example.gov.uk" and audit.changes["summary"][1] == "Edited by the council."
    provider = as_user(app, "provider@example.org")
    assert provider.post(f"/moderation/listings/{SWIM}/publish", data={"version": 1}).status_code == 403


def test_a_coordinators_direct_publish_is_sent_and_approved_together_or_left_waiting(app, people):
    """The history shows a direct publish as sent for checking and approved; one that conflicts waits in the queue."""
    coordinator = as_user(app, "coordinator@example.gov.uk")
    save(coordinator, SWIM, "about", {**publishing_about(SWIM), "summary": "Edited by the council."})
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    assert coordinator.post(f"/moderation/listings/{SWIM}/publish",
                            data={"version": revision.version}).status_code == 302
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.entity_id == SWIM)
                                 .order_by(AuditEvent.id)).scalars().all()
    assert actions[-2:] == ["revision.submitted", "listing.approved"]
    assert "Sent a change for checking" in text_of(coordinator.get(f"/moderation/listings/{SWIM}/history"))
    save(coordinator, SWIM, "about", {**publishing_about(SWIM), "summary": "Second council edit."})
    mine = workflow.open_revision(db.session.get(Listing, SWIM))
    listing = db.session.get(Listing, SWIM)
    workflow.publish(listing, {**listing_data.listing_data(listing), "summary": "Someone else's summary."},
                     actor=None, action="listing.published")
    conflict = coordinator.post(f"/moderation/listings/{SWIM}/publish", data={"version": mine.version})
    assert conflict.status_code == 409
    db.session.expire_all()
    waiting = db.session.get(ListingRevision, mine.id)
    assert waiting.status is RevisionStatus.PENDING
    assert db.session.get(Listing, SWIM).summary == "Someone else's summary."


def test_a_status_request_never_carries_unsent_changes(app, people):
    """Asking to close while a draft is open is refused, so the draft is not published with it."""
    provider = as_user(app, "provider@example.org")
    save(provider, SWIM, "about", {**publishing_about(SWIM), "summary": "Half-written."})
    response = provider.post(f"/portal/listings/{SWIM}/status", data={"status": "archived", "note": "Stopped"})
    assert response.status_code == 303
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    assert revision.status is RevisionStatus.DRAFT and revision.data["status"] == "published"


def test_untouched_old_descriptions_and_parent_terms_survive_an_approval(app, people):
    """A listing stored before Markdown was kept keeps its HTML; a top-level term it had stays chosen."""
    from local_offer.models import ListingTerm, Term, Vocabulary

    listing = db.session.get(Listing, SWIM)
    listing.description, listing.description_source = "<ol><li>One <em>two</em></li></ol>", ""
    top = db.session.execute(select(Term).where(Term.vocabulary == Vocabulary.CATEGORY,
                                                Term.parent_id.is_(None))).scalars().first()
    listing.listing_terms.append(ListingTerm(term=top))
    db.session.commit()
    provider = as_user(app, "provider@example.org")
    assert top.code in provider.get(f"/portal/listings/{SWIM}/sections/about").get_data(as_text=True)
    assert save(provider, SWIM, "about", {**publishing_about(SWIM), "name": "Otters\nrenamed"}).status_code == 302
    provider.post(f"/portal/listings/{SWIM}/submit", data=fields_of(provider, f"/portal/listings/{SWIM}"))
    revision = workflow.open_revision(db.session.get(Listing, SWIM))
    coordinator = as_user(app, "coordinator@example.gov.uk")
    assert coordinator.post(f"/moderation/changes/{revision.id}/approve",
                            data={"version": revision.version}).status_code == 302
    db.session.expire_all()
    listing = db.session.get(Listing, SWIM)
    assert listing.name == "Otters renamed"
    assert listing.description == "<ol><li>One <em>two</em></li></ol>"
    assert top.code in [link.term.code for link in listing.listing_terms]


# --- two people at once --------------------------------------------------------------------------


def test_two_first_saves_at_once_make_one_change_and_the_second_sees_both_versions(app, people, monkeypatch):
    """Both saves read "no change open" before either committed: the database keeps one, the other is a 409."""
    listing = db.session.get(Listing, SWIM)
    provider = db.session.get(User, people["provider"].id)
    workflow.save_section(listing, None, "about", {"summary": "First person's summary."}, provider)
    monkeypatch.setattr(workflow, "open_revision", lambda listing: None)  # what the second read a moment before
    with pytest.raises(workflow.StaleEdit):
        workflow.save_section(db.session.get(Listing, SWIM), None, "about", {"summary": "Second's."}, provider)
    monkeypatch.undo()
    open_changes = db.session.execute(select(ListingRevision).where(
        ListingRevision.listing_id == SWIM, ListingRevision.status.in_(workflow.OPEN_REVISIONS))).scalars().all()
    assert [change.data["summary"] for change in open_changes] == ["First person's summary."]
    # Through the page: the view read "no change open" just before the other save committed.
    client = as_user(app, "provider@example.org")
    hidden = {"revision": "", "version": f"live-{db.session.get(Listing, SWIM).version}"}
    reads = []
    real_open_revision = workflow.open_revision

    def read_before_the_other_committed(listing):
        """Answer "no change open" to the view's first look only, as a request a moment earlier would have."""
        reads.append(listing.id)
        return None if len(reads) <= 2 else real_open_revision(listing)

    monkeypatch.setattr(workflow, "open_revision", read_before_the_other_committed)
    response = client.post(f"/portal/listings/{SWIM}/sections/about",
                           data={**hidden, **publishing_about(SWIM), "summary": "Third's."})
    monkeypatch.undo()
    assert response.status_code == 409
    assert "First person" in text_of(response)
    assert len(db.session.execute(select(ListingRevision).where(
        ListingRevision.listing_id == SWIM, ListingRevision.status.in_(workflow.OPEN_REVISIONS))).all()) == 1


def test_two_coordinators_publishing_at_once_is_a_409_never_a_500(app, people, monkeypatch):
    """Someone else saved the change between the page's check and the publish: StaleEdit, shown as a 409."""
    from sqlalchemy import update

    coordinator = as_user(app, "coordinator@example.gov.uk")
    save(coordinator, SWIM, "about", {**publishing_about(SWIM), "summary": "Edited by the council."})
    change = workflow.open_revision(db.session.get(Listing, SWIM))
    staff = db.session.get(User, people["coordinator"].id)
    with db.engine.begin() as other:  # the other coordinator's publish committed first
        other.execute(update(ListingRevision).where(ListingRevision.id == change.id)
                      .values(version=ListingRevision.version + 1))
    with pytest.raises(workflow.StaleEdit):
        workflow.publish_now(db.session.get(Listing, SWIM), change, staff)
    db.session.rollback()
    db.session.expire_all()
    fresh = workflow.open_revision(db.session.get(Listing, SWIM))
    original_publish_now = workflow.publish_now

    def beaten_to_it(listing, revision, actor, ip_address=None):
        """Publish as if the other coordinator had committed the same change a moment earlier."""
        with db.engine.begin() as other:
            other.execute(update(ListingRevision).where(ListingRevision.id == revision.id)
                          .values(version=ListingRevision.version + 1))
        return original_publish_now(listing, revision, actor, ip_address)

    monkeypatch.setattr(workflow, "publish_now", beaten_to_it)
    response = coordinator.post(f"/moderation/listings/{SWIM}/publish", data={"version": fresh.version})
    assert response.status_code == 409
    assert "Edited by the council." in text_of(response)
    assert db.session.get(Listing, SWIM).summary != "Edited by the council."


def test_stale_sends_and_throw_aways_are_409_pages_with_the_change_as_it_is_now(app, people):
    """A form filled in against an older version of the change is never a silent redirect."""
    provider = as_user(app, "provider@example.org")
    save(provider, SWIM, "about", {**publishing_about(SWIM), "summary": "Saved in another tab."})
    old = fields_of(provider, f"/portal/listings/{SWIM}")
    save(provider, SWIM, "about", {**publishing_about(SWIM), "summary": "Kingfishers saved later."})
    for action in ("submit", "withdraw"):
        response = provider.post(f"/portal/listings/{SWIM}/{action}", data=old)
        assert response.status_code == 409, action
        assert "Kingfishers" in text_of(response)
    assert workflow.open_revision(db.session.get(Listing, SWIM)).status is RevisionStatus.DRAFT
