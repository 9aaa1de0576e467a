"""The Open Referral UK v3 read API, checked as the ORUK validator's HSDS-UK-3.0 profile checks it (levels 1 and 2).

The tests re-implement the profile's list (``spec/validator-test-profiles/HSDS-UK-3.0.json``):
each endpoint's answer against the standard's own v3 schema, list pages followed, and each
saved id fetched by id.  Schemas are read from ../shared/oruk-samples (skipped when absent).
"""

from __future__ import annotations

import json

import pytest

from local_offer.extensions import db
from local_offer.models import Listing, Term, Vocabulary

from support import SWIM, errors as v1_or_v3_errors, needs_samples

BASE = "/api/v3"


@pytest.fixture
def api(directory):
    """A client of the whole demo directory, which the API only reads."""
    return directory.test_client()


def errors(name: str, document) -> list[str]:
    return v1_or_v3_errors(name, document, "v3")


def get(client, path: str, status: int = 200):
    response = client.get(path)
    assert response.status_code == status, (path, response.get_data(as_text=True)[:400])
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


def pages(client, path: str, schema: str, per_page: int = 50) -> list[dict]:
    """Follow a list's pages as the validator does, checking each against the schema; return every item."""
    found, number = [], 1
    while True:
        body = get(client, f"{path}?page={number}&per_page={per_page}")
        if schema:
            assert errors(schema, body) == [], path
        assert body["page_number"] == number and body["size"] == len(body["contents"])
        assert body["first_page"] is (number == 1) and body["last_page"] is (number == body["total_pages"])
        found += body["contents"]
        if body["last_page"]:
            break
        number += 1
    assert len(found) == body["total_items"] and len({item["id"] for item in found}) == len(found)
    return found


@needs_samples
def test_level_1_api_details_services_and_each_service(api):
    """Level 1: the front door, every page of services, and each service by id, fully nested."""
    details = get(api, f"{BASE}/")
    assert errors("api_details.json", details) == [] and details["version"] == "HSDS-UK-3.0"
    assert details["openapi_url"].endswith("/api/v3/openapi.json")
    services = pages(api, f"{BASE}/services", "service_list.json", per_page=100)
    assert len(services) == db.session.query(Listing).filter(Listing.status.in_(
        ["published", "temporarily_closed"])).count()
    for item in services:
        full = get(api, f"{BASE}/services/{item['id']}")
        assert errors("service.json", full) == [], item["id"]
    swim = get(api, f"{BASE}/services/{SWIM}")
    assert swim["schedules"][0]["freq"] == "WEEKLY" and swim["schedules"][0]["byday"] == "SA"
    assert swim["schedules"][0]["description"] == "term time"
    assert any(attribute["taxonomy_term"]["taxonomy"] == "category" for attribute in swim["attributes"])
    address = swim["service_at_locations"][0]["location"]["addresses"][0]
    assert address["country"] == "GB" and address["address_type"] == "physical"


@needs_samples
def test_level_2_taxonomies_terms_and_services_at_locations(api):
    """Level 2: taxonomies, taxonomy terms and services at locations, listed and by id."""
    for item in pages(api, f"{BASE}/taxonomies", "taxonomy_list.json"):
        assert errors("taxonomy.json", get(api, f"{BASE}/taxonomies/{item['id']}")) == []
    terms = pages(api, f"{BASE}/taxonomy_terms", "taxonomy_term_list.json", per_page=200)
    for item in terms[:40]:
        assert errors("taxonomy_term.json", get(api, f"{BASE}/taxonomy_terms/{item['id']}")) == []
    links = pages(api, f"{BASE}/service_at_locations", "service_at_location_list.json", per_page=200)
    for item in links[:40]:
        assert errors("service_at_location.json", get(api, f"{BASE}/service_at_locations/{item['id']}")) == []
    # not in the profile; the standard's organization_list.json is a copy of organization.json, so each is checked
    for item in pages(api, f"{BASE}/organizations", None)[:20]:
        assert errors("organization.json", item) == []
        assert errors("organization.json", get(api, f"{BASE}/organizations/{item['id']}")) == []


def ids(client, query: str) -> list[str]:
    return [item["id"] for item in get(client, f"{BASE}/services?per_page=1000&{query}")["contents"]]


def test_parameters_mean_what_the_standard_says(api):
    """search ranks as the site does; terms, taxonomies, organisations, dates, ages and days narrow it."""
    swim = db.session.get(Listing, SWIM)
    assert ids(api, "search=calm%20swim")[0] == SWIM
    category = next(link.term for link in swim.listing_terms if link.term.vocabulary is Vocabulary.CATEGORY)
    assert SWIM in ids(api, f"taxonomy_term_id={category.id}")
    if category.parent_id:
        assert SWIM in ids(api, f"taxonomy_term_id={category.parent_id}")  # a broader term matches too
    taxonomies = {item["name"]: item["id"] for item in get(api, f"{BASE}/taxonomies")["contents"]}
    assert SWIM in ids(api, f"taxonomy_id={taxonomies['category']}")
    assert ids(api, "taxonomy_id=not-ours") == []
    assert set(ids(api, f"organization_id={swim.organisation_id}")) == {
        listing.id for listing in swim.organisation.listings if listing.status.value in ("published",
                                                                                         "temporarily_closed")}
    assert ids(api, "modified_after=2999-01-01T00:00:00Z") == []
    assert SWIM in ids(api, "modified_after=2000-01-01T00:00:00Z")
    assert SWIM in ids(api, "day=SA&minimum_age=5")
    minimal = get(api, f"{BASE}/services?minimal=true")
    assert isinstance(minimal, list) and set(minimal[0]) == {"id", "last_modified"}
    full = get(api, f"{BASE}/services?full=true&per_page=5")["contents"][0]
    assert "schedules" in full and "attributes" in full
    near = get(api, f"{BASE}/service_at_locations?postcode=ST13%206AA&proximity=1000&full=true")["contents"]
    assert SWIM in {item["service_id"] for item in near} and near[0]["service"]["name"]
    roots = get(api, f"{BASE}/taxonomy_terms?top_only=true&per_page=500")["contents"]
    assert roots and all("parent_id" not in term for term in roots)
    parent = db.session.query(Term).filter(Term.parent_id.isnot(None)).first().parent_id
    assert {term["parent_id"] for term in get(api, f"{BASE}/taxonomy_terms?parent_id={parent}")["contents"]} == {
        parent}
    organisation = get(api, f"{BASE}/organizations/{swim.organisation_id}?full_service=true")
    assert organisation["services"] and "schedules" in organisation["services"][0]


def test_ndjson_streams_every_result_and_bad_values_are_a_400(api):
    """format=ndjson: every service, one a line; bad formats, types and dates: a JSON 400; others named."""
    response = api.get(f"{BASE}/services?format=ndjson")
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert len(lines) == get(api, f"{BASE}/services")["total_items"]
    for query, words in (("format=xml", "'format' must be json or ndjson"), ("page=abc", "'page' must be a whole"),
                         ("full=maybe", "'full' must be true or false"),
                         ("modified_after=yesterday", "'modified_after' must be a date"),
                         ("proximity=10", "'proximity' needs a 'postcode'")):
        body = get(api, f"{BASE}/services?{query}", 400)
        assert words in body["error"], query
    response = api.get(f"{BASE}/services?include=everything&text=swim")
    assert response.status_code == 200 and response.headers["X-Ignored-Parameters"] == "include, text"
    assert get(api, f"{BASE}/services/00000000-0000-0000-0000-000000000000", 404)["status"] == 404
    assert get(api, f"{BASE}/nothing", 404)["error"] == "Not found."


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_v3_matches_its_openapi_document(directory, mode):
    """schemathesis over every v3 operation: documented statuses and bodies, never a 500."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    schema = schemathesis.openapi.from_wsgi("/api/v3/openapi.json", directory)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11
    for operation in operations:
        if mode == "negative" and not operation.definition.raw.get("parameters"):
            continue
        @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)
        def check(case):
            response = case.call(headers={"Accept-Encoding": "identity"})
            if response.status_code == 414:
                return
            case.validate_response(response, excluded_checks=[positive_data_acceptance])

        check()
