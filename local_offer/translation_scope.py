"""Which interface strings each language's catalogue must translate, and how complete each one is.

Coordinators' and administrators' pages stay in English (they are marked
``lang="en"``), so a string used only there need not be translated.  Every
other string (public pages, the provider portal, the emails families and
providers receive, form labels and errors) must be.  A translation identical
to its English counts as missing unless the translator marks it as meant to
be the same, with the flag ``#, same-as-english`` ("ADHD", "Email").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

#: Source files whose strings only coordinators and administrators see.
STAFF_SOURCES = re.compile("|".join([
    r"templates/admin/", r"templates/moderation/", r"templates/consultations/staff_",
    r"templates/consultations/results\.html",
    r"templates/coproduction/(demand|moderate|priorities|priority|queue|report|response|responses|themes)\.html",
    r"templates/macros/guard\.html", r"local_offer/admin/", r"local_offer/moderation/",
    r"consultations/authoring", r"consultation_rules/authoring", r"demand_report\.py",
    r"feedback/partnership_report", r"feedback/report_document", r"consultation_rules/results_document",
    r"coproduction/(demand_views|report_views|response_forms)",
]))
#: The flag a translator sets on a translation meant to read the same as the English.
SAME_FLAG = "same-as-english"
#: URL paths whose pages are for staff only, always shown in English.
STAFF_PATHS = ("/admin", "/moderation", "/coordinators")


class _Anything(dict):
    def __missing__(self, key):
        return 1


def formats_cleanly(text: str) -> bool:
    """Say whether text survives %-formatting with any named values (templates always %-format)."""
    try:
        text % _Anything()
    except (KeyError, ValueError, TypeError):
        return False
    return True


def is_staff_only(message) -> bool:
    """Return True when every place a message is used is a coordinators' or administrators' page."""
    return bool(message.locations) and all(STAFF_SOURCES.search(path) for path, _line in message.locations)


def is_staff_path(path: str) -> bool:
    """Return True for an address under the coordinators' or administrators' pages."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PATHS)


def _texts(value) -> tuple:
    return value if isinstance(value, (tuple, list)) else (value,)


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\([a-z_0-9]+\)[sd]|\{[a-z_0-9]*\}", text or ""))


@dataclass
class Completeness:
    """How much of one catalogue is done."""

    language: str
    needed: int = 0
    translated: int = 0
    missing: list[str] = field(default_factory=list)
    #: Translated as the English without the same-as-english flag.
    same: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    #: (message, reason) where a translation's placeholders differ from the English.
    broken: list[tuple[str, str]] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.translated / self.needed if self.needed else 100.0

    @property
    def problems(self) -> list[str]:
        return self.missing + self.same + self.fuzzy + [message for message, _reason in self.broken]


def completeness(po_path: Path, language: str) -> Completeness:
    """Read one catalogue and say what it lacks among the strings families and providers see."""
    from babel.messages.pofile import read_po

    with open(po_path, "rb") as handle:
        catalogue = read_po(handle)
    result = Completeness(language)
    for message in catalogue:
        if not message.id or is_staff_only(message):
            continue
        result.needed += 1
        english = _texts(message.id)
        translated = _texts(message.string)
        key = english[0]
        if not all(translated):
            result.missing.append(key)
            continue
        if message.fuzzy:
            result.fuzzy.append(key)
            continue
        if SAME_FLAG not in message.flags and any(text == english[0] or text == english[-1] for text in translated) \
                and re.search(r"[A-Za-z]{2}", key):
            result.same.append(key)
            continue
        wanted = _placeholders(english[-1])
        bad = [text for text in translated if set(_placeholders(text)) - set(wanted)
               or (len(english) == 1 and _placeholders(text) != wanted)
               or (formats_cleanly(english[0]) and not formats_cleanly(text))]  # "100%" breaks a template's %-formatting
        if bad:
            result.broken.append((key, f"placeholders {wanted} but got {_placeholders(bad[0])}"))
            continue
        result.translated += 1
    return result
