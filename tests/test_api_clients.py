"""Real ORUK v1 clients' request sequences, replayed: each must answer 200 with content the client can use.

The sequences were read from the clients' own source (the closing note of issue 17 lists the files):
OpenReferralUK/ServiceFinder, OpenReferralUK/LGA-Service-Finder and AaronJY/fh-or-tester.
"""

from __future__ import annotations

import re

import pytest

from support import SWIM

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
BASE = "/api/v1"


@pytest.fixture
def api(directory):
    """A client of the whole demo directory, which the API only reads."""
    return directory.test_client()


def ok(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


def test_servicefinder(api):
    """ServiceFinder: four taxonomy lists on page load, searches with its own parameters, paging, details."""
    for vocabulary in ("esdCircumstances", "esdNeeds", "esdServiceTypes"):
        body = ok(api, f"{BASE}/taxonomies/?per_page=500&vocabulary={vocabulary}")
        assert body["content"] == [] and body["number"] == 1 and body["last"] is True
    ok(api, f"{BASE}/taxonomies/?vocabulary=esdCircumstances&per_page=500&parent_id=circumstance:191")
    first = ok(api, f"{BASE}/services/?page=1&per_page=10&")
    assert first["number"] == 1 and len(first["content"]) == 10 and first["totalPages"] > 1
    second = ok(api, f"{BASE}/services/?page=2&per_page=10&")
    assert second["number"] == 2 and {s["id"] for s in second["content"]}.isdisjoint(
        {s["id"] for s in first["content"]})
    # postcode and words, encoded twice as ServiceFinder does ("ST13%25206AA" is "ST13 6AA")
    near = ok(api, f"{BASE}/services/?page=1&per_page=10&postcode=ST13%25206AA&proximity=1609&text=calm%2520swim&")
    assert near["content"][0]["id"] == SWIM
    # its time-slot, need and circumstance filters: ignored and named, the search still answers
    response = api.get(f"{BASE}/services/?circumstance=circumstance:192&day=SA&endTime=14:00&need=need:122"
                       f"&page=1&per_page=10&startTime=06:00&")
    assert response.status_code == 200 and response.get_json()["content"]
    assert response.headers["X-Ignored-Parameters"] == "circumstance, endTime, need, startTime"
    for item in first["content"][:5] + near["content"][:1]:
        detail = ok(api, f"{BASE}/services/{item['id']}")
        assert detail["name"] and isinstance(detail["description"], str)
        assert isinstance(detail["contacts"], list) and isinstance(detail["service_at_locations"], list)
        for link in detail["service_at_locations"]:
            address = link["location"]["physical_addresses"][0]
            assert {"address_1", "city", "postal_code"} <= set(address)


def test_lga_service_finder(api):
    """LGA-Service-Finder: include= on every search, automatic paging to the end, venue sessions, costs."""
    include = "include=contacts,service_at_locations"
    found, number = [], 1
    while True:
        query = f"postcode=ST13+6AA&proximity=10000&{include}" + (f"&page={number}" if number > 1 else "")
        body = ok(api, f"{BASE}/services?{query}")
        assert body["number"] == number
        found += body["content"]
        if not body["totalPages"] > body["number"]:
            break
        number += 1
        assert number < 100, "paging never ends"
    assert len(found) == body["totalElements"] > 0
    assert any(link["regular_schedule"] and link["regular_schedule"][0].get("description") is not None
               for item in found for link in item["service_at_locations"])
    mapped = [link["location"] for item in found for link in item["service_at_locations"]]
    assert mapped and all(isinstance(place["latitude"], float) for place in mapped if "latitude" in place)
    assert all(item["organization"]["name"] for item in found)
    free = [item for item in found if item["fees"] == "Free"]
    assert free and all(item["cost_options"] for item in free)  # "no cost" was shown as unknown before
    words = ok(api, f"{BASE}/services?text=swimming&{include}")
    assert words["content"]
    typed = ok(api, f"{BASE}/services?text=swimming&{include}&taxonomy_id=1284&vocabulary=esdServiceTypes")
    assert typed["totalElements"] == 0  # an ESD id we do not hold: nothing, not an error
    detail = ok(api, f"{BASE}/services/{found[0]['id']}")
    assert detail["id"] == found[0]["id"] and "cost_options" in detail


def test_fh_or_tester(api):
    """fh-or-tester: every page of 500 until last is true; each service scored as that tool scores it."""
    services, number = [], 1
    while True:
        body = ok(api, f"{BASE}/services?page={number}&per_page=500")
        services += body["content"]
        if body["last"] is True:
            break
        assert body["last"] is False
        number += 1
    assert len(services) == body["totalElements"] > 0
    usable = [s for s in services if isinstance(s["id"], str) and UUID.match(s["id"].strip())
              and s["status"] == "active" and s["name"] and s["description"]
              and re.match(r"^https?://", s.get("url") or "") and s["organization"].get("id")
              and s["organization"].get("name") and s.get("email")]
    print(f"fh-or-tester would rate {len(usable)} of {len(services)} services usable")
    assert all(isinstance(s["id"], str) and UUID.match(s["id"]) for s in services)
    assert len(usable) > 0
