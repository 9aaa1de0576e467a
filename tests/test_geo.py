"""The offline gazetteer: postcodes, sectors, outward codes and places, with clear errors."""

import pytest
from geopy.distance import great_circle
from sqlalchemy import select

from local_offer import geo
from local_offer.extensions import db
from local_offer.models import GazetteerArea, Location


#: Published positions (Code-Point Open via the ONS postcode directory), for checking conversion.
KNOWN = {
    "SW1A 1AA": (51.501009, -0.141588),   # Buckingham Palace
    "SW1A 2AA": (51.503540, -0.127695),   # 10 Downing Street
    "ST1 1AF": (53.025, -2.174),          # the guide's check point, Stoke-on-Trent
}


@pytest.fixture
def gazetteer(directory):
    """The directory's gazetteer (ST and the areas around it, and GB places), for a council of ST alone."""
    directory.config["POSTCODE_AREAS"] = ["ST"]
    return directory


@pytest.mark.parametrize("postcode", sorted(KNOWN))
def test_known_postcodes_resolve_within_100_metres(gazetteer, postcode):
    """Conversion from the national grid lands within 100 m of the published position."""
    point = geo.lookup(postcode)
    assert point.kind == "postcode"
    assert great_circle((point.latitude, point.longitude), KNOWN[postcode]).meters < 100


@pytest.mark.parametrize("typed", ["st1 1af", "ST11AF", " ST1  1AF ", "St1 1aF"])
def test_any_reasonable_typing_finds_the_postcode(gazetteer, typed):
    """Case and spaces do not matter."""
    assert geo.lookup(typed).label == "ST1 1AF"


def test_sectors_and_outward_codes_resolve_to_their_centres(gazetteer):
    """"ST16 2" and "ST16" resolve near Stafford, the sector inside its district."""
    sector = geo.lookup("st16 2")
    outward = geo.lookup("ST16")
    assert (sector.kind, sector.label) == ("sector", "ST16 2")
    assert (outward.kind, outward.label) == ("outward", "ST16")
    stafford = (52.806, -2.117)
    assert great_circle((sector.latitude, sector.longitude), stafford).km < 3
    assert great_circle((outward.latitude, outward.longitude), stafford).km < 5


def test_place_names_prefer_the_councils_area(gazetteer):
    """"Stone" is the Staffordshire one (there are four), and hyphens do not matter."""
    stone = geo.lookup("Stone")
    assert great_circle((stone.latitude, stone.longitude), (52.9059, -2.1541)).km < 2
    assert geo.lookup("newcastle-under-lyme").label == "Newcastle under Lyme"
    assert geo.lookup("BURTON UPON TRENT").kind == "place"
    leek = geo.lookup("Leek")
    assert great_circle((leek.latitude, leek.longitude), (53.105, -2.023)).km < 2


def test_postcodes_outside_built_areas_are_looked_up_and_remembered(gazetteer):
    """A postcode in an unbuilt area is found from the packaged file, and its area kept."""
    assert db.session.get(GazetteerArea, "EH") is None
    point = geo.lookup("EH1 1YZ")
    assert great_circle((point.latitude, point.longitude), (55.95, -3.19)).km < 2
    remembered = db.session.get(GazetteerArea, "EH")
    assert remembered is not None and remembered.on_demand and remembered.postcodes > 10_000


@pytest.mark.parametrize(
    "typed, message",
    [
        ("BT1 1AA", "Northern Ireland"),
        ("IM1 1AA", "Isle of Man"),
        ("JE2 3AB", "Jersey"),
        ("ST99 9ZZ", "could not find the postcode ST99 9ZZ"),
        ("Atlantis", "could not find a place called Atlantis"),
        ("", "Enter a postcode or the name of a town"),
        ("   ", "Enter a postcode or the name of a town"),
        ("x" * 101, "too long"),
        ("'; DROP TABLE postcode; --", "could not find a place"),
        ("\u202e\u0000", "Enter a postcode or the name of a town"),
        ("Atlantis\u0000", "could not find a place called Atlantis"),
    ],
)
def test_unknown_and_malformed_input_gives_a_clear_error(gazetteer, typed, message):
    """Bad input raises UnknownPlace with a message for the person, never another exception."""
    with pytest.raises(geo.UnknownPlace, match=message):
        geo.lookup(typed)


def test_parse_postcode_recognises_each_form():
    """Full postcodes, sectors and outward codes are told apart; other text is not a postcode."""
    assert geo.parse_postcode("b79 7af") == ("postcode", "B79 7AF")
    assert geo.parse_postcode("B79 7") == ("sector", "B79 7")
    assert geo.parse_postcode("b79") == ("outward", "B79")
    assert geo.parse_postcode("SW1A1AA") == ("postcode", "SW1A 1AA")
    for text in ("Leek", "ST162", "12345", "", "ST16 2AD extra"):
        assert geo.parse_postcode(text) is None


def test_masked_venues_use_their_sector_centre(gazetteer):
    """A masked address is placed at its postcode sector's centre, never its own point."""
    home = Location(postcode="ST1 1AF", latitude=53.02506, longitude=-2.17432, mask_address=True)
    sector = geo.lookup("ST1 1")
    assert geo.public_point(home) == (sector.latitude, sector.longitude)
    assert geo.public_point(home) != (home.latitude, home.longitude)
    home.mask_address = False
    assert geo.public_point(home) == (53.02506, -2.17432)


def test_offline_geocoder_behind_geopys_interface(gazetteer):
    """The geopy seam answers from the gazetteer and returns None for unknown places."""
    geocoder = geo.OfflineGeocoder()
    found = geocoder.geocode("ST1 1AF")
    assert found.address == "ST1 1AF"
    assert round(found.latitude, 3) == 53.025
    assert geocoder.geocode("Atlantis") is None


def test_distances_are_in_miles(gazetteer):
    """Stafford to Leek is about 20 miles as the crow flies."""
    stafford, leek = geo.lookup("ST16 2"), geo.lookup("Leek")
    miles = geo.distance_miles((stafford.latitude, stafford.longitude), (leek.latitude, leek.longitude))
    assert 17 < miles < 23


def test_geo_commands_build_once_and_look_up(runner, app):
    """`flask geo build` builds the areas with their neighbours once; `lookup` answers or explains."""
    first = runner.invoke(args=["geo", "build", "--areas", "ST"])
    assert first.exit_code == 0, first.output
    assert "Built" in first.output and "ST" in first.output
    areas = set(db.session.execute(select(GazetteerArea.area)).scalars())
    assert {"ST", "CW", "WS", "DE"} <= areas  # ST and neighbours
    again = runner.invoke(args=["geo", "build", "--areas", "ST"])
    assert "already built" in again.output
    assert "ST16 2AD" in runner.invoke(args=["geo", "lookup", "st162ad"]).output
    bad = runner.invoke(args=["geo", "lookup", "BT1 1AA"])
    assert bad.exit_code != 0 and "Northern Ireland" in bad.output
    unknown_area = runner.invoke(args=["geo", "build", "--areas", "QQ"])
    assert unknown_area.exit_code != 0 and "QQ" in unknown_area.output
