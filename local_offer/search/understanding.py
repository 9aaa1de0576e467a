"""Read what a parent typed: the place, age and day hidden in their words, and what they want.

"something for my daughter who has adhd on saturdays" becomes words ``adhd``,
day ``SA``; "swimming near Stone" becomes words ``swimming``, place ``Stone``;
"holiday club for my 9 year old" becomes ``holiday club``, age 9.  Phrasing
that says nothing about the service ("my son", "help with", "looking for")
is dropped so it cannot push the right listings down.

Synonym groups ("ASD, autism, autistic, ASC") come from the database; each
concept the parent wrote is expanded to every way of saying it, and the
search engine matches any of them.  Nothing here knows about Whoosh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Words that describe the family, not the service.  Matched as whole phrases, longest first.
FILLER_PHRASES = [
    "is there anything", "are there any", "is there a", "is there", "can i find", "where can i",
    "i am looking for", "i'm looking for", "im looking for", "looking for", "i need", "we need",
    "i want", "we want", "something for", "anything for", "somewhere for", "help with", "help for",
    "support with", "support for", "things to do", "stuff to do", "what is there", "places to go",
    "my son who has", "my daughter who has", "my child who has", "my son with", "my daughter with",
    "my child with", "who has", "that has", "who have", "who is", "with a", "with an",
    "my son", "my daughter", "my child", "my kid", "my kids", "my children", "my boy", "my girl",
    "our son", "our daughter", "our child", "for kids", "for children", "for a child", "for a",
    "local", "nearby", "close to me", "near me", "around here", "please", "good", "best",
]
#: Single words that carry no meaning for a search.
STOPWORDS = {
    "a", "an", "and", "the", "for", "of", "to", "with", "on", "in", "at", "by", "is", "are",
    "any", "some", "my", "our", "me", "i", "we", "who", "has", "have", "that", "this", "there",
    "what", "where", "which", "can", "do", "does", "get", "find", "or", "it", "be", "son",
    "daughter", "child", "children", "kid", "kids", "year", "years", "old", "aged", "age",
    "boy", "girl", "teenager", "teen", "please", "thanks", "something", "anything", "help",
    "support", "services", "service", "activities", "activity", "things", "near", "around",
}
DAY_WORDS = {
    "monday": "MO", "mondays": "MO", "tuesday": "TU", "tuesdays": "TU", "wednesday": "WE",
    "wednesdays": "WE", "thursday": "TH", "thursdays": "TH", "friday": "FR", "fridays": "FR",
    "saturday": "SA", "saturdays": "SA", "sunday": "SU", "sundays": "SU",
}
_AGE = re.compile(r"\b(?:aged?\s+)?(\d{1,2})\s*(?:-|\s)?\s*(?:years?|yrs?|yr)(?:\s*-?\s*old)?\b|\baged?\s+(\d{1,2})\b",
                  re.IGNORECASE)
_DAY = re.compile(r"\b(?:on\s+|every\s+)?(" + "|".join(DAY_WORDS) + r")\b", re.IGNORECASE)
_PLACE_MARKER = re.compile(r"\b(?:near|in|around|at|close to|nearby)\s+(.+)$", re.IGNORECASE)
_POSTCODE_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2})\b", re.IGNORECASE)
_NOT_WORDS = re.compile(r"\S+@\S+|\+?\d[\d\s()-]{6,}\d")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


@dataclass
class Understood:
    """What we took from the parent's words."""

    #: The words left that describe the service, lower case, in order.
    words: list[str] = field(default_factory=list)
    place: str | None = None
    age: int | None = None
    day: str | None = None

    @property
    def text(self) -> str:
        """Return the remaining words as one string."""
        return " ".join(self.words)


def understand(text: str, is_place=None) -> Understood:
    """Pull a place, an age and a day out of free text, and keep the words that matter.

    ``is_place(candidate)`` says whether a phrase after "near"/"in" is a known
    place; without it, such phrases are left in the words.
    """
    result = Understood()
    # Email addresses and phone numbers say nothing about the service wanted.
    working = " " + _NOT_WORDS.sub(" ", (text or "").strip()) + " "
    if match := _POSTCODE_IN_TEXT.search(working):
        result.place = match.group(1).upper()
        working = working.replace(match.group(0), " ")
    if match := _AGE.search(working):
        value = int(match.group(1) or match.group(2))
        if 0 <= value <= 25:
            result.age = value
            working = working[: match.start()] + " " + working[match.end():]
    if match := _DAY.search(working):
        result.day = DAY_WORDS[match.group(1).lower()]
        working = working[: match.start()] + " " + working[match.end():]
    if result.place is None and is_place is not None:
        working = _take_place(working, result, is_place)
    lowered = " " + re.sub(r"\s+", " ", working.lower()) + " "
    for phrase in sorted(FILLER_PHRASES, key=len, reverse=True):
        lowered = lowered.replace(f" {phrase} ", " ")
    result.words = [word for word in _WORD.findall(lowered) if word not in STOPWORDS]
    return result


def _take_place(working: str, result: Understood, is_place) -> str:
    """Find "near Stone" / "in Leek" (or a trailing town) and move it into result.place."""
    match = _PLACE_MARKER.search(working.strip())
    if match:
        words = match.group(1).strip(" ?.!,").split()
        # Try the longest run of words after the marker first: "Newcastle under Lyme".
        for length in range(min(4, len(words)), 0, -1):
            candidate = " ".join(words[:length])
            if is_place(candidate):
                result.place = candidate
                before = working.strip()[: match.start()]
                after = " ".join(words[length:])
                return f" {before} {after} "
    # A town typed last without a marker: "swimming leek".
    words = working.split()
    for length in (3, 2, 1):
        if len(words) > length:
            candidate = " ".join(words[-length:])
            if is_place(candidate):
                result.place = candidate
                return " " + " ".join(words[:-length]) + " "
    return working


@dataclass
class Concept:
    """One thing the parent asked for, with every way of saying it (each a list of words)."""

    said: str
    alternatives: list[list[str]]


def concepts(words: list[str], synonym_groups: list[list[str]]) -> list[Concept]:
    """Group the words into concepts, expanding each through the synonym groups.

    Multi-word synonyms ("short breaks", "speech and language therapy") are
    matched greedily, longest first, so "holiday club" is one concept.
    """
    phrases: dict[tuple[str, ...], list[list[str]]] = {}
    for group in synonym_groups:
        variants = [[word for word in _WORD.findall(item.lower()) if word not in STOPWORDS]
                    for item in group]
        variants = [variant for variant in variants if variant]
        for variant in variants:
            phrases.setdefault(tuple(variant), [])
            for other in variants:
                if other not in phrases[tuple(variant)]:
                    phrases[tuple(variant)].append(other)
    longest = max((len(key) for key in phrases), default=1)
    found, index = [], 0
    while index < len(words):
        for length in range(min(longest, len(words) - index), 0, -1):
            key = tuple(words[index: index + length])
            if key in phrases:
                found.append(Concept(" ".join(key), phrases[key]))
                index += length
                break
        else:
            found.append(Concept(words[index], [[words[index]]]))
            index += 1
    return found
