"""The demo directory reads like a real Local Offer, and the generator's output is valid."""

import re
from collections import Counter
from datetime import date
from functools import cache

import yaml
from geopy.distance import great_circle
from sqlalchemy import select

from local_offer import geo
from local_offer.config import PROJECT_ROOT
from local_offer.extensions import db
from local_offer.models import Listing, ListingStatus, Location, Vocabulary

DEMO = PROJECT_ROOT / "content" / "demo"
TOWNS = ["Stafford", "Stoke-on-Trent", "Newcastle-under-Lyme", "Leek", "Cannock", "Lichfield",
         "Tamworth", "Burton upon Trent", "Uttoxeter", "Stone", "Biddulph", "Kidsgrove", "Rugeley",
         "Cheadle"]


@cache
def demo_listings() -> tuple[dict, ...]:
    """Read every listing in the demo files, once (libyaml's safe loader reads them ten times faster)."""
    listings = []
    for path in sorted(DEMO.glob("*.yaml")):
        listings.extend((yaml.load(path.read_text(), Loader=yaml.CSafeLoader) or {}).get("listings", []))
    return tuple(listings)


def sentences(markdown: str) -> list[str]:
    """Split a description into its sentences (ignoring very short fragments)."""
    parts = re.split(r"(?<=[.!?])\s+|\n+", markdown)
    return [part.strip(" -*") for part in parts if len(part.strip(" -*")) >= 25]


def test_demo_directory_has_at_least_300_listings_across_the_towns():
    """300+ listings, in every one of Staffordshire's main towns."""
    listings = demo_listings()
    assert len(listings) >= 300
    towns = Counter(location["town"] for listing in listings for location in listing.get("locations") or [])
    missing = [town for town in TOWNS if towns[town] == 0]
    assert missing == []


def test_no_two_listings_share_a_description_sentence_or_summary():
    """Descriptions and summaries read like different providers wrote them."""
    seen, repeated = {}, []
    for listing in demo_listings():
        for sentence in sentences(listing.get("description", "")):
            if sentence in seen and seen[sentence] != listing["id"]:
                repeated.append(sentence)
            seen.setdefault(sentence, listing["id"])
    assert repeated == []
    summaries = [listing["summary"] for listing in demo_listings()]
    assert len(summaries) == len(set(summaries))


def test_demo_directory_varies_like_a_real_one():
    """Out of area, remote-only, two venues, masked childminders, overdue reviews, closures."""
    listings = demo_listings()
    assert sum(1 for l in listings if l.get("in_area") is False) >= 10
    assert sum(1 for l in listings if "venue" not in (l.get("delivery") or [])) >= 10
    assert sum(1 for l in listings if len(l.get("locations") or []) >= 2) >= 5
    assert sum(1 for l in listings for loc in l.get("locations") or [] if loc.get("mask_address")) >= 5
    assert sum(1 for l in listings if (l.get("checked_days_ago") or 0) > 365) >= 20
    assert sum(1 for l in listings if l.get("status") == "temporarily_closed") >= 3
    assert len({l["kind"] for l in listings}) == 3 and len({l["level"] for l in listings}) == 3
    text = " ".join(l.get("description", "") + " " + l.get("summary", "") for l in listings)
    for word in ("ASD", "autism", "ASC", "SALT", "respite", "SEMH", "playscheme"):
        assert re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE), word


def test_every_demo_listing_loads_and_is_valid_against_the_model(full_demo):
    """All demo files load; each listing has a category, sane ages and a review date."""
    listings = db.session.execute(select(Listing)).scalars().all()
    assert len(listings) >= 300
    for listing in listings:
        assert listing.organisation.is_demo
        assert listing.terms(Vocabulary.CATEGORY), listing.name
        assert listing.min_age is None or 0 <= listing.min_age <= (listing.max_age or 25) <= 25
        assert listing.assured_date and listing.review_due
        assert listing.summary and listing.description
    overdue = [l for l in listings if l.review_due < date.today()]
    assert len(overdue) >= 20


def test_demo_venues_sit_within_100_metres_of_their_postcode(full_demo):
    """Every demo venue's coordinates match its real postcode in the gazetteer."""
    far = []
    for location in db.session.execute(select(Location)).scalars():
        point = geo.lookup_postcode(location.postcode)
        if great_circle((point.latitude, point.longitude), (location.latitude, location.longitude)).meters > 100:
            far.append(location.postcode)
    assert far == []


def test_demo_pages_render(full_demo, client):
    """Every demo listing's page renders."""
    ids = db.session.execute(select(Listing.id)).scalars().all()
    for listing_id in ids:
        assert client.get(f"/listings/{listing_id}", follow_redirects=True).status_code == 200


def test_generator_makes_valid_listings_at_real_postcodes(runner, app):
    """`flask demo generate` makes published, categorised listings at real postcodes across England."""
    assert runner.invoke(args=["content", "load", "--no-demo"]).exit_code == 0
    result = runner.invoke(args=["demo", "generate", "--count", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "Generated 300 synthetic listings" in result.output
    listings = db.session.execute(select(Listing)).scalars().all()
    assert len(listings) == 300
    assert all(listing.status is ListingStatus.PUBLISHED for listing in listings)
    assert all(listing.terms(Vocabulary.CATEGORY) for listing in listings)
    assert all(0 <= listing.min_age <= listing.max_age <= 25 for listing in listings)
    assert all(listing.organisation.is_demo for listing in listings)
    descriptions = {listing.description for listing in listings}
    assert len(descriptions) == 300
    locations = db.session.execute(select(Location)).scalars().all()
    areas = {geo.postcode_area(location.postcode) for location in locations}
    assert len(areas) >= 20  # spread across England
    for location in locations[:25]:
        point = geo.lookup_postcode(location.postcode)
        assert great_circle((point.latitude, point.longitude), (location.latitude, location.longitude)).meters < 1


def test_generator_needs_vocabularies_first(runner):
    """Without vocabularies the generator says what to do instead of failing."""
    result = runner.invoke(args=["demo", "generate", "--count", "5"])
    assert result.exit_code != 0
    assert "flask content load" in result.output
