"""The Open Referral UK v1 read API, checked the way the ORUK validator checks it (levels 1 and 2).

The standard's JSON schemas are read from ../shared/oruk-samples/spec/v1 (never copied
into the project); the schema checks skip when that folder is absent.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from local_offer import geo
from local_offer.extensions import db
from local_offer.models import Contact, Listing, Term, Vocabulary

from support import CHILDMINDER, SWIM, errors, needs_samples


@pytest.fixture
def api(directory):
    """A client of the whole demo directory (see conftest), which the API only reads."""
    return directory.test_client()


def get(client, path: str, status: int = 200):
    response = client.get(path)
    assert response.status_code == status, (path, response.get_data(as_text=True)[:500])
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


# --- level 1 ------------------------------------------------------------------------------------------


@needs_samples
def test_level_1_services_list_paging_and_each_service(api):
    """/services is valid, pages of five behave, and every id from the pages is a valid /services/{id}."""
    first = get(api, "/api/v1/services?per_page=5&page=1")
    assert errors("service_list.json", first) == []
    pages = first["totalPages"]
    assert first["first"] and not first["last"] and first["size"] == 5 == len(first["content"])
    ids = []
    for number in (1, 2, pages // 2, pages - 1, pages):
        body = get(api, f"/api/v1/services?per_page=5&page={number}")
        assert errors("service_list.json", body) == []
        assert body["number"] == number and body["size"] == len(body["content"])
        assert body["first"] is (number == 1) and body["last"] is (number == pages)
        assert len(body["content"]) == (5 if number < pages else body["totalElements"] - 5 * (pages - 1))
        ids += [item["id"] for item in body["content"]]
    assert len(set(ids)) == len(ids)
    for service_id in ids:
        assert errors("service.json", get(api, f"/api/v1/services/{service_id}")) == []


@needs_samples
def test_level_2_taxonomies_organizations_locations(api):
    """Taxonomies (list and by id), organizations and locations are valid against the standard's schemas."""
    body = get(api, "/api/v1/taxonomies?per_page=50")
    assert errors("taxonomy_list.json", body) == [] and body["content"]
    for item in body["content"][:10]:
        assert errors("taxonomy.json", get(api, f"/api/v1/taxonomies/{item['id']}")) == []
    assert errors("organization_list.json", get(api, "/api/v1/organizations")) == []
    assert errors("location_list.json", get(api, "/api/v1/locations")) == []
    assert get(api, "/api/v1/vocabularies") == ["category", "need", "accessibility"]


@needs_samples
@pytest.mark.parametrize("query", [
    "text=swimming", "minimum_age=5", "maximum_age=10", "minimum_age=12&maximum_age=16",
    "postcode=ST13%206AA&proximity=1000", "day=SA", "start_time=09:00&end_time=12:00", "day=MO&start_time=15:00",
    "vocabulary=need", "text=autism&postcode=ST16%202AD&proximity=20000"])
def test_level_2_parameters_stay_valid(api, query):
    """Each of the standard's parameters gives a valid page."""
    assert errors("service_list.json", get(api, f"/api/v1/services?{query}")) == []


# --- what the parameters mean ------------------------------------------------------------------------


def ids_of(client, query: str) -> set[str]:
    body = get(client, f"/api/v1/services?per_page=100&{query}")
    assert body["totalElements"] == len(body["content"]) or body["totalPages"] > 1
    return {item["id"] for item in body["content"]}


def test_filters_mean_what_the_standard_says(api):
    """Ages overlap, proximity is strict, taxonomy ids match any (narrower terms too), filters AND together."""
    swim = db.session.get(Listing, SWIM)
    everything = get(api, "/api/v1/services?per_page=100")["totalElements"]
    # A service matches an age range when the two ranges overlap.
    for item in get(api, "/api/v1/services?per_page=100&minimum_age=24&maximum_age=25")["content"]:
        ages = item["eligibilitys"][0]
        assert ages.get("maximum_age", 99) >= 24 and ages.get("minimum_age", 0) <= 25
    # Proximity is a strict filter in metres from the postcode.
    near = ids_of(api, "postcode=ST13%206AA&proximity=1000")
    assert SWIM in near and len(near) < everything
    assert SWIM not in ids_of(api, "postcode=ST16%202AD&proximity=1000")
    # taxonomy_id: repeated values match any of them.
    codes = [link.term for link in swim.listing_terms if link.term.vocabulary is Vocabulary.CATEGORY]
    other = db.session.execute(select(Term).where(Term.vocabulary == Vocabulary.CATEGORY,
                                                  Term.id.notin_([t.id for t in codes]), Term.parent_id.isnot(None))
                               ).scalars().first()
    one = ids_of(api, f"taxonomy_id={codes[0].id}")
    both = ids_of(api, f"taxonomy_id={codes[0].id}&taxonomy_id={other.id}")
    assert SWIM in one and one < both
    parent = db.session.get(Term, codes[0].parent_id)
    assert SWIM in ids_of(api, f"taxonomy_id={parent.id}")
    # Different parameters combine with AND.
    assert ids_of(api, f"taxonomy_id={codes[0].id}&postcode=ST13%206AA&proximity=1000") == one & near
    # Text is ranked by the site's own search.
    assert get(api, "/api/v1/services?text=calm%20swim")["content"][0]["id"] == SWIM


def test_only_public_data_leaves_the_api(api):
    """Private contacts never appear; a masked childminder shows its sector and its sector's centre only."""
    private = db.session.execute(select(Contact).where(Contact.is_public.is_(False))).scalars().first()
    body = json.dumps(get(api, f"/api/v1/services/{private.listing_id}"))
    assert private.name not in body and (private.email or "@@") not in body
    childminder = get(api, f"/api/v1/services/{CHILDMINDER}")
    venue = childminder["service_at_locations"][0]["location"]
    assert "12 Example Close" not in json.dumps(childminder)
    assert venue["physical_addresses"][0]["postal_code"] == "ST15 8"
    listing = db.session.get(Listing, CHILDMINDER)
    assert (venue["latitude"], venue["longitude"]) == geo.public_point(listing.locations[0])
    draft = db.session.execute(select(Listing).where(Listing.status.notin_(["published", "temporarily_closed"]))
                               ).scalars().first()
    if draft is not None:
        get(api, f"/api/v1/services/{draft.id}", 404)


def test_front_door_slashes_and_cors(api):
    """/api/v1/ names the version; lists answer with and without a slash, never redirecting."""
    assert get(api, "/api/v1/")["version"] == "HSDS-UK-1.0"
    assert get(api, "/api/v1")["version"] == "HSDS-UK-1.0"
    for path in ("services", "taxonomies", "organizations", "locations", "vocabularies"):
        with_slash, without = api.get(f"/api/v1/{path}/"), api.get(f"/api/v1/{path}")
        assert with_slash.status_code == without.status_code == 200, path
        assert with_slash.get_json() == without.get_json()
    assert get(api, f"/api/v1/services/{SWIM}/")["id"] == SWIM


@pytest.mark.parametrize("query, status, words", [
    ("per_page=0", 400, "'per_page' must be between 1 and"),
    ("per_page=lots", 400, "'per_page' must be a whole number"),
    ("page=-1", 400, "'page' must be between"),
    ("page=abc", 400, "'page' must be a whole number"),
    ("postcode=NOT%20A%20POSTCODE&proximity=1000", 400, "is not a postcode"),
    ("proximity=1000", 400, "'proximity' needs a 'postcode'"),
    ("proximity=far&postcode=ST13%206AA", 400, "'proximity' must be a number"),
    ("day=XX", 400, "'day' must be one of"),
    ("start_time=25:99", 400, "'start_time' must be a time"),
    ("minimum_age=10&maximum_age=5", 400, "'minimum_age' must not be more"),
])
def test_bad_values_of_parameters_we_honour_get_a_json_4xx(api, query, status, words):
    """Malformed values of parameters the API honours: a clear JSON error and a 4xx, never a 500."""
    body = get(api, f"/api/v1/services?{query}", status)
    assert body["status"] == status and words in body["error"]


@pytest.mark.parametrize("query, ignored", [
    ("colour=blue", "colour"),
    ("circumstance=x&need=need:122&coverage=", "circumstance, need, coverage"),
    ("startTime=06:00&endTime=14:00", "startTime, endTime"),
    ("day=SA&day=SU", "day (after the first)"),
    ("vocabulary=esdServiceTypes", "vocabulary=esdServiceTypes"),
    ("per_page=5000", "per_page above 1000"),
])
def test_parameters_we_do_not_honour_are_ignored_and_named(api, query, ignored):
    """Other clients' parameters, misspellings and repeats: answered (200) as if absent, and named in a header."""
    response = api.get(f"/api/v1/services?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["X-Ignored-Parameters"] == ignored
    assert "X-Ignored-Parameters" in response.headers["Access-Control-Expose-Headers"]
    assert response.get_json()["content"]


def test_include_per_page_500_and_taxonomies_as_clients_ask(api):
    """include= changes nothing; per_page=500 is answered; taxonomies by parent, root only, unknown vocabulary."""
    plain = get(api, "/api/v1/services?text=swim")
    included = api.get("/api/v1/services?text=swim&include=contacts,service_at_locations")
    assert included.get_json() == plain and "X-Ignored-Parameters" not in included.headers
    big = get(api, "/api/v1/services?page=1&per_page=500")
    assert big["size"] == len(big["content"]) == min(500, big["totalElements"]) and big["last"] is True
    assert get(api, "/api/v1/services?per_page=5000")["size"] == min(1000, big["totalElements"])
    roots = get(api, "/api/v1/taxonomies?root_only=true&per_page=500")["content"]
    assert roots and all(term["parent"] is None for term in roots)
    parent = next(term for term in get(api, "/api/v1/taxonomies?per_page=500")["content"] if term["parent"])["parent"]
    children = get(api, f"/api/v1/taxonomies?parent_id={parent['id']}&per_page=500")["content"]
    assert children and all(term["parent"]["id"] == parent["id"] for term in children)
    for vocabulary in ("esdCircumstances", "esdNeeds", "esdServiceTypes"):  # no licensed copy found: none held
        assert get(api, f"/api/v1/taxonomies/?per_page=500&vocabulary={vocabulary}")["content"] == []
    assert get(api, "/api/v1/taxonomies?vocabulary=nothing-we-hold")["content"] == []
    assert get(api, "/api/v1/services?taxonomy_id=not-one-of-ours")["totalElements"] == 0
    get(api, "/api/v1/taxonomies?root_only=perhaps", 400)


def test_sessions_sit_under_each_venue_and_free_services_say_free(api):
    """regular_schedule under each service_at_location; a free service has a cost option saying free."""
    swim = get(api, f"/api/v1/services/{SWIM}")
    venue = swim["service_at_locations"][0]
    assert venue["regular_schedule"] and venue["regular_schedule"][0]["byday"] == "SA"
    free = next(item for item in get(api, "/api/v1/services?per_page=500")["content"] if item["fees"] == "Free")
    assert free["cost_options"] == [{"id": f"{free['id']}:free", "option": "Free", "amount": 0.0,
                                     "amount_description": "Free"}]


def test_unknown_ids_are_json_404s(api):
    for path in ("services", "taxonomies", "organizations", "locations"):
        body = get(api, f"/api/v1/{path}/00000000-0000-0000-0000-000000000000", 404)
        assert "There is no" in body["error"]
    assert get(api, "/api/v1/nothing-here", 404)["error"] == "Not found."


# --- for search engines ------------------------------------------------------------------------------


def test_sitemap_lists_public_pages_only(api):
    """sitemap.xml is well-formed and lists public listings (with last-checked dates), not drafts."""
    from xml.etree import ElementTree

    response = api.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    tree = ElementTree.fromstring(response.data)
    spaces = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = [node.text for node in tree.findall("s:url/s:loc", spaces)]
    assert any(location.endswith("/listings/otters-calm-swim-sessions-6a2b0001") for location in locations)
    assert any(location.endswith("/information/ehc-needs-assessment") for location in locations)
    public = db.session.execute(select(Listing).where(Listing.status.in_(["published", "temporarily_closed"]))
                                ).scalars().all()
    assert sum("/listings/" in location for location in locations) == len(public)
    assert "Sitemap: http" in api.get("/robots.txt").get_data(as_text=True)


def test_listing_pages_carry_schema_org_json_ld(api):
    """Each listing page describes itself in JSON-LD; a masked venue gives no street."""
    import re

    page = api.get(f"/listings/{CHILDMINDER}", follow_redirects=True).get_data(as_text=True)
    block = re.search(r'<script type="application/ld\+json" nonce="[^"]+">(.*?)</script>', page, re.S).group(1)
    data = json.loads(block)
    assert data["@type"] == "Service" and data["name"] == db.session.get(Listing, CHILDMINDER).name
    assert data["url"] == data["@id"] and data["url"].endswith("-6a2b0003") and CHILDMINDER not in data["url"]
    assert f'<link rel="canonical" href="{data["url"]}">' in page
    place = data["availableChannel"][0]["serviceLocation"]
    assert "streetAddress" not in place["address"] and place["address"]["postalCode"] == "ST15 8"
    assert "12 Example Close" not in block


# --- the OpenAPI document, checked by schemathesis -------------------------------------------------------


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_matches_its_openapi_document(directory, mode):
    """schemathesis generates valid and invalid requests for every operation: documented statuses and bodies, no 500.

    Every check runs except "positive data acceptance": rules OpenAPI cannot express (proximity needs a
    postcode; a postcode must exist; taxonomy ids must be ours; youngest <= oldest) rightly give a
    documented 400 to requests that are valid field by field. (Run through Hypothesis directly:
    schemathesis's pytest plugin does not work with pytest 9.)
    """
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", directory)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10
    for operation in operations:
        if mode == "negative" and not operation.definition.raw.get("parameters"):
            continue  # nothing to make invalid
        @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)
        def check(case):
            # Asked for uncompressed: through WSGI nothing undoes the brotli an HTTP client would (test_assets.py).
            response = case.call(headers={"Accept-Encoding": "identity"})
            if response.status_code == 414:  # the site's own limit on address length: a rejection too
                assert response.json()["status"] == 414
                return
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

        check()
