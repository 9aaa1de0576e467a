"""Home, category, listing and information pages show what families need."""

from sqlalchemy import select

from local_offer.extensions import db
from local_offer.models import Listing, ListingStatus

from support import CHILDMINDER, COLLEGE, PHONE_LINE, SCHOOL, SWIM, text_of


def test_home_has_the_search_boxes_categories_and_key_pages(demo, client):
    """The home page asks what and where, and links to categories and key information."""
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'action="/search"' in html and 'method="get"' in html
    assert 'name="q"' in html and 'name="where"' in html
    for category in ("Education", "Health", "Activities and leisure", "Preparing for adulthood"):
        assert category in html
    assert 'href="/categories/activities"' in html
    assert "Demo" in html  # demo data is labelled


def test_home_without_demo_data_has_no_demo_label(app, client):
    """An empty council's site does not claim to show demo data."""
    assert "demonstration data" not in client.get("/").get_data(as_text=True)


def test_category_page_lists_listings_in_it_and_below_it(demo, client):
    """A parent category includes its subcategories' listings."""
    page = text_of(client.get("/categories/activities"))
    assert "Otters calm swim sessions" in page
    assert "Hollybank Special School" not in page
    sub = client.get("/categories/sport-and-swimming")
    assert sub.status_code == 200
    assert "Otters calm swim sessions" in text_of(sub)
    assert "Activities and leisure" in text_of(sub)  # breadcrumb to the parent


def test_category_pages_paginate(demo, client, app):
    """More listings than fit on a page are split, with links between pages."""
    app.config["PER_PAGE"] = 1
    first = client.get("/categories/advice-and-support")
    html = first.get_data(as_text=True)
    assert "govuk-pagination" in html
    assert "page=2" in html
    assert client.get("/categories/advice-and-support?page=2").status_code == 200
    assert client.get("/categories/advice-and-support?page=99").status_code == 404


def test_listing_page_shows_every_field(demo, client):
    """A listing page shows everything requirements.md item 3 names."""
    response = client.get(f"/listings/{SWIM}", follow_redirects=True)
    assert response.status_code == 200
    page = text_of(response)
    expected = [
        "Moorlands Otters Swimming Club",          # who runs it
        "Otters calm swim sessions",               # name
        "Quiet swimming sessions in a smaller pool",  # summary
        "no more than eight swimmers",             # description
        "Out-of-school activity",                  # kind
        "Targeted support",                        # level
        "Children with autism, ADHD or anxiety",   # eligibility
        "Ages 4 to 16",                            # age range
        "Autism", "ADHD", "Anxiety",               # needs
        "Book a place",                            # access route
        "Places go to families on the waiting list",  # how decisions are made
        "At a venue",                              # delivery
        "Staffordshire Moorlands",                 # service area
        "£4.50", "Per session",                    # cost
        "personal budgets, direct payments",       # funding accepted
        "A carer can come free",                   # free carer entry
        "Saturdays, 9am to 10am, term time only",  # sessions, in words
        "Wednesdays, 5:30pm to 6:30pm, school holidays only. Extra sessions in the summer holidays",
        "Brough Park Leisure Centre", "Fynney Street", "Leek", "ST13 6AA",  # venue
        "Wheelchair access", "Changing Places toilet beside the poolside",  # accessibility + details
        "Staff trained in autism", "Quiet or sensory-friendly sessions",
        "English, Polish",                         # languages
        "01538 000 102", "calmswim@otters.example.org",  # contacts
        "Jo Baxter", "Session lead",               # public contact
        "Last checked by the provider on",         # assured date
        "Next review due by",                      # review date
        "Sport and swimming",                      # category
    ]
    missing = [item for item in expected if item not in page]
    assert missing == []
    html = response.get_data(as_text=True)
    assert 'href="https://otters.example.org/calm-swim"' in html  # website
    assert '<a href="https://otters.example.org/guide" rel="nofollow">' in html  # Markdown link, sanitised


def test_listing_page_never_shows_private_contacts(demo, client):
    """Contacts the provider kept private do not appear anywhere on the page."""
    html = client.get(f"/listings/{SWIM}", follow_redirects=True).get_data(as_text=True)
    assert "Sam Okafor" not in html
    assert "safeguarding@otters.example.org" not in html
    assert "07700 900999" not in html


def test_masked_address_shows_only_town_and_sector(demo, client):
    """A childminder's home address is masked to town and postcode sector."""
    response = client.get(f"/listings/{CHILDMINDER}", follow_redirects=True)
    html = response.get_data(as_text=True)
    page = text_of(response)
    assert "Stone" in page and "ST15 8" in page
    assert "12 Example Close" not in html
    assert "ST15 8AB" not in html
    assert "Priya Sharma" not in html  # private contact
    assert "52.90358" not in html and "-2.14845" not in html


def test_school_listing_shows_sen_report_and_urn(demo, client):
    """Schools link to their SEN information report and show their Ofsted URN."""
    response = client.get(f"/listings/{SCHOOL}", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert 'href="https://hollybank.example.sch.uk/sen-information-report"' in html
    assert "999104" in text_of(response)
    assert "EHCP funding" in text_of(response)


def test_out_of_area_and_remote_listings_say_so(demo, client):
    """Out-of-area provision is labelled; a phone service says it has no venue."""
    assert "Outside the area" in text_of(client.get(f"/listings/{COLLEGE}", follow_redirects=True))
    phone = text_of(client.get(f"/listings/{PHONE_LINE}", follow_redirects=True))
    assert "By phone" in phone and "Online" in phone
    assert "This service has no venue to visit" in phone


def test_unpublished_listings_are_not_shown(demo, client):
    """Draft, pending and archived listings are not public; temporarily closed ones are, labelled."""
    listing = db.session.execute(select(Listing).where(Listing.id == SWIM)).scalar_one()
    for status in (ListingStatus.DRAFT, ListingStatus.PENDING, ListingStatus.ARCHIVED):
        listing.status = status
        db.session.commit()
        assert client.get(f"/listings/{SWIM}", follow_redirects=True).status_code == 404
        assert "Otters calm swim" not in client.get("/categories/activities").get_data(as_text=True)
    listing.status = ListingStatus.TEMPORARILY_CLOSED
    db.session.commit()
    response = client.get(f"/listings/{SWIM}", follow_redirects=True)
    assert response.status_code == 200
    assert "Temporarily closed" in text_of(response)


def test_listing_page_has_a_print_layout(demo, client):
    """The stylesheet has print rules and the page marks what not to print."""
    html = client.get(f"/listings/{SWIM}", follow_redirects=True).get_data(as_text=True)
    assert "lo-no-print" in html
    assert 'data-module="lo-print"' in html


def test_information_pages_render_with_the_councils_details(app, client, tmp_path):
    """Markdown pages from content/ show with their title and the council's name filled in."""
    pages = tmp_path / "content" / "pages"
    pages.mkdir(parents=True)
    (pages / "short-breaks.md").write_text(
        "---\ntitle: Short breaks\nsummary: Breaks for carers.\nkey: true\norder: 5\n"
        "updated: 2026-11-01\n---\n## What they are\n\nRun by {council}. Call {council_phone}.\n"
    )
    app.config["CONTENT_PATH"] = str(tmp_path / "content")
    response = client.get("/information/short-breaks")
    page = text_of(response)
    assert response.status_code == 200
    assert "Short breaks" in page
    assert "Run by Example County Council. Call 0300 111 8000." in page
    assert "1 November 2026" in page
    assert 'id="what-they-are"' in response.get_data(as_text=True)
    assert "Short breaks" in text_of(client.get("/information/"))
    assert "Short breaks" in text_of(client.get("/"))  # a key page
    assert client.get("/information/no-such-page").status_code == 404
    assert client.get("/information/..%2Fsecret").status_code == 404


def test_every_required_information_page_exists(demo, client):
    """The pages requirements.md item 5 lists are all published from content/."""
    for slug in (
        "ehc-needs-assessment", "identifying-needs", "travel-and-transport",
        "preparing-for-adulthood", "information-advice-and-support",
        "complaints-and-disagreements", "short-breaks", "help-without-the-internet",
        "accessibility-statement", "privacy-notice", "glossary", "data-sources",
    ):
        response = client.get(f"/information/{slug}")
        assert response.status_code == 200, slug
        assert "{council}" not in response.get_data(as_text=True)
