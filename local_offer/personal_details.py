"""The personal-details guard: what in a comment could identify someone, found before it is published.

Families write to the council in their own words, and their words hold phone
numbers, email addresses, postcodes, street addresses, children's dates of
birth, people's names and the schools or settings their children go to.  Before
a comment is published the guard finds these so a coordinator can remove each
one, or keep it with a reason.  It reads the text it is given and keeps
nothing: the findings live only on the moderation page (and, as counts and
reasons, in the audit log).

    found = find("Call me on 07700 900123, I'm Sarah Jones", settings=["Leek High School"])
    [(f.kind, f.text) for f in found]   # [("phone", "07700 900123"), ("name", "Sarah Jones")]
    redact(text, found)                 # "Call me on [phone number removed], I'm [name removed]"

Names come from Faker's lists of first names and surnames (MIT licence: the
British, American, Irish, Indian, Pakistani, Nigerian and Polish lists, about
4,000 names, well under a megabyte).  A name that is also an ordinary word
("Rose", "Hope", "Will", "May") or a place ("Kingsley", "Stanley") counts only
where the words around it say it is a person ("my daughter Rose", "Hope is 9",
"Mrs Stanley") or a surname follows.  Schools and settings are named by pattern
("... Primary", "... Academy") and from the directory's own education settings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from local_offer.guard_names import WORD_NAMES as _WORD_NAMES
from local_offer.guard_names import NameLists as _NameLists
from local_offer.guard_names import fold as _fold
from local_offer.guard_names import load as _names
from local_offer.search.dictionary import is_english_word

PHONE = "phone"
EMAIL = "email"
POSTCODE = "postcode"
ADDRESS = "address"
DATE_OF_BIRTH = "date_of_birth"
NAME = "name"
SCHOOL = "school"
KINDS = (PHONE, EMAIL, POSTCODE, ADDRESS, DATE_OF_BIRTH, NAME, SCHOOL)
#: Which kind wins when two findings overlap by the same length (an email holds a name, a school a saint's name).
_PRECEDENCE = {EMAIL: 0, PHONE: 1, POSTCODE: 2, ADDRESS: 3, DATE_OF_BIRTH: 4, SCHOOL: 5, NAME: 6}
#: The longest text the guard reads; comments are at most 5,000 characters, this leaves room for pasted text.
MAX_TEXT = 50_000


@dataclass(frozen=True)
class Finding:
    """One thing that could identify someone: what kind, and where it is in the text."""

    kind: str
    start: int
    end: int
    text: str

    @property
    def key(self) -> str:
        """Return a stable name for this finding (kind and words), to match a decision to it."""
        return f"{self.kind}:{' '.join(self.text.lower().split())}"


# --- patterns -----------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+"
    r"|[\w.+-]+\s?(?:\(at\)|\[at\]|\sat\s)\s?[\w-]+\s?(?:\.|\(dot\)|\[dot\]|\sdot\s)\s?"
    r"(?:com|co|org|net|uk|gov)\b(?:\s?(?:\.|\sdot\s)\s?uk\b)?", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w/.:£-])(?:\+\s?44\s?(?:\(0\)\s?)?|\(?0)[\d][\d \-()]{7,16}\d(?![\w/:])")
_POSTCODE = re.compile(r"(?<![\w-])([A-Z]{1,2}\d[A-Z\d]?) ?(\d[ABD-HJLNP-UW-Z]{2})(?![\w-])", re.IGNORECASE)
_STREET_TYPES = ("road|rd|street|st|lane|ln|avenue|ave|close|drive|dr|way|crescent|grove|place|court|gardens|"
                 "terrace|walk|rise|hill|row|square|mews|green|view|parade|croft|fields|meadows?|chase|vale|"
                 "boulevard|park|gate|wharf|brow|bank|end")
_ADDRESS = re.compile(
    r"(?:\b(?:flat|apartment|unit)\s+\d+[a-z]?,?\s+)?\b\d{1,4}[a-z]?,?\s+"
    r"(?:[A-Za-z][a-z'’]+\s+){1,3}(?:" + _STREET_TYPES + r")\b\.?", re.IGNORECASE)
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE = (r"(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:" + _MONTHS + r")\.?,?(?:\s+\d{2,4})?"
         r"|(?:" + _MONTHS + r")\.?\s+\d{1,2}(?:st|nd|rd|th)?,?(?:\s+\d{4})?"
         r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
         r"|(?:" + _MONTHS + r")\s+\d{4})")
_DATE_OF_BIRTH = re.compile(
    r"\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birthday(?:\s+is)?(?:\s+on)?|birth\s+date)"
    r"(?:\s+(?:is|was|:|-))?[\s:,-]*(?P<date>" + _DATE + r")", re.IGNORECASE)

#: Words that end a school's or setting's name.
_SCHOOL_END = (r"(?:(?:C\.?\s?of\s?E\.?|CE|RC|Catholic|Church\sof\sEngland|Community|Special|Infants?|Junior|"
               r"Juniors|Nursery|First|Middle|Primary|High|Secondary|Grammar|Free)\s+)?"
               r"(?:School|Academy|Primary|College|Nursery|Pre-?school|Playgroup|Infants|Juniors|"
               r"Sixth\s+Form|Day\s+Nursery|Montessori|High(?!\s+(?:Street|St|Road|Rd|Lane|Court|Park|Peak|"
               r"Wycombe|Hall|House|Needs|Dependency|Support|Level|Quality|Court)\b))\b")
_SCHOOL = re.compile(
    r"\b(?P<name>(?:(?:St\.?|Saint|[A-Z][\w'’&-]*)\s+(?:(?:of|the|and|&|de|la|C\.?\s?of\s?E)\s+)?){1,5}"
    + _SCHOOL_END + r")")
#: Capitalised words that do not make a school's name on their own ("Forest School", "a Special School").
_GENERIC = frozenset(
    "a an the my our his her their your this that any every some one new local nearest mainstream special "
    "secondary primary high infant infants junior juniors nursery grammar independent free forest sunday summer "
    "holiday boarding residential state private village day community faith catholic church england c e of ce rc "
    "first middle upper lower sixth form school schools academy college pre-school preschool playgroup send "
    "sen autism autistic asd adhd he she they we i it at in on to from for with and or but so his hers "
    "and when if then after before because while where which who".split())

_NAME_TOKEN = re.compile(r"(?<![\w'’-])[A-Za-zÀ-ÖØ-öø-ÿĀ-ſ][a-zà-öø-ÿā-ſ]*(?:['’-][A-Za-zÀ-ÖØ-öø-ÿĀ-ſ][a-zà-öø-ÿā-ſ]+)*(?![\w])")
_TITLES = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Master)\.?\s+(?P<name>[A-Z][\w'’-]+(?:[ -][A-Z][\w'’-]+)?)")
_RELATIONS = (r"son|daughter|child|children|boy|girl|kid|kids|grandson|granddaughter|grandchild|nephew|niece|"
              r"brother|sister|twins?|husband|wife|partner|friend|teacher|carer|key\s?worker|social\s+worker|"
              r"mum|dad|mother|father|stepson|stepdaughter|baby|toddler|teenager|young\s+person")
_CONTEXT_BEFORE = re.compile(
    r"(?:\b(?:my|our|her|his|their)\s+(?:\w+\s+){0,2}(?:" + _RELATIONS + r")\s*,?\s*(?:is\s+|called\s+|named\s+)?"
    r"|\b(?:my|her|his)\s+name\s+is\s+|\bnamed\s+|\bcalled\s+|\bi\s+am\s+|\bi'?m\s+|\bthis\s+is\s+"
    r"|\bsigned\s*,?\s+|\bthanks\s*,?\s+|\bregards\s*,?\s+)$",
    re.IGNORECASE)
_CONTEXT_AFTER = re.compile(
    r"^(?:\s*\(\d{1,2}\)|\s*,\s*(?:aged?\s+)?\d{1,2}\s*(?:,|\)|years?|yrs?)|\s+(?:is|was|who\s+is|has\s+been|turned|aged?)"
    r"\s+(?:\d{1,2}\b|"
    r"(?:non-?verbal|autistic|diagnosed|deaf|blind|registered|in\s+year)))", re.IGNORECASE)
#: "my son", "my name is": the next word is a name even when typed without a capital.
_RELATION_BEFORE = re.compile(r"(?:\b(?:my|our|her|his|their)\s+(?:\w+\s+){0,2}(?:" + _RELATIONS + r")\s*,?\s*"
                              r"(?:is\s+|called\s+|named\s+)?|\b(?:my|her|his)\s+name\s+is\s+)$", re.IGNORECASE)
#: Words before a capitalised word that make it a place ("in Stafford", "near Burton").
_PLACE_BEFORE = re.compile(r"\b(?:in|at|to|from|near|around|of|into|towards|outside|inside|via|between|round|"
                           r"across|through|past|and|or|visit|visiting)\s+$", re.IGNORECASE)
_POSSESSIVE_PERSON = re.compile(
    r"^(?:'s|’s)\s+(?:mum|dad|mother|father|school|teacher|class|ehcp|needs|diagnosis|brother|sister|carer|"
    r"support|place|statement|keyworker|key\s+worker|nursery|friend)\b", re.IGNORECASE)



# --- finding ----------------------------------------------------------------------------------------


def _sentence_start(text: str, start: int) -> bool:
    """Return whether a word begins a sentence (or a line), where capitals say nothing about names."""
    before = text[:start].rstrip(" \t\"'“‘(")
    return not before or before[-1] in ".!?\n:;" or before.endswith(("...", "…"))


def _is_surname(lists: _NameLists, word: str, after_plain_name: bool = False) -> bool:
    """Return whether a capitalised word after a first name reads as a surname (listed, or no English word).

    After a first name that is no ordinary word ("Emma"), a listed surname that
    is also a word counts too ("Emma Wood"); after "Hope" or "Grace" it does not.
    """
    folded = _fold(word)
    if not word[0].isupper() or folded in _WORD_NAMES:
        return False
    if folded in lists.wordlike:
        return after_plain_name and folded in lists.last
    return folded in lists.last or not is_english_word(folded)


def _names_found(text: str) -> list[Finding]:
    """Return the people's names in a text.

    A listed first name counts with a capital (unless it is also a word or a
    place: then the words around it must say it is a person); a word that is
    no English word counts after "my son", "my name is" and the like, or before
    a listed surname; a title counts with the word after it.  A surname after
    a name is part of it.
    """
    lists = _names()
    found = [Finding(NAME, match.start(), match.end(), match.group(0)) for match in _TITLES.finditer(text)]
    tokens = list(_NAME_TOKEN.finditer(text))
    index = 0
    while index < len(tokens):
        token = tokens[index]
        word, folded = token.group(0), _fold(token.group(0))
        if folded not in lists.first and "-" in folded and all(part in lists.first for part in folded.split("-")):
            folded = folded.split("-")[0]  # "Mary-Jane" is a name as "Mary" is
        capital = word[0].isupper()
        listed = folded in lists.first
        if not listed and (len(folded) < 3 or folded in _WORD_NAMES or is_english_word(folded)):
            index += 1  # an ordinary word (most words): nothing more to ask
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        plain = listed and folded not in lists.wordlike and folded not in lists.ambiguous
        surname = (following is not None and text[token.end():following.start()] in (" ", "-")
                   and _is_surname(lists, following.group(0), plain))
        before, after = text[max(0, token.start() - 60):token.start()], text[token.end():token.end() + 40]

        def context() -> bool:
            return bool(_CONTEXT_BEFORE.search(before) or _CONTEXT_AFTER.match(after)
                        or _POSSESSIVE_PERSON.match(after))

        if not listed:  # no English word: a name when said to be a person, or before a listed surname
            counts = bool(_RELATION_BEFORE.search(before)) or (
                capital and (bool(_CONTEXT_BEFORE.search(before))
                             or (surname and _fold(following.group(0)) in lists.last)))
        elif folded in lists.wordlike:
            counts = (capital and surname) or context()
        elif folded in lists.ambiguous:
            counts = (capital and (surname or not (_sentence_start(text, token.start())
                                                   or _PLACE_BEFORE.search(before)))) or context()
        else:
            counts = capital or context()
        if counts:
            end = following.end() if surname else token.end()
            found.append(Finding(NAME, token.start(), end, text[token.start():end]))
            index += 2 if surname else 1
            continue
        index += 1
    return found


def _schools_found(text: str, settings: Iterable[str]) -> list[Finding]:
    """Return schools and settings named by pattern, and the directory's own settings named in any case."""
    found = []
    for match in _SCHOOL.finditer(text):
        words = match.group("name").split()
        # Drop leading words that are not part of a name ("at Leek High School" -> "Leek High School").
        start = match.start("name")
        while words and (words[0].lower().strip(".,") in _GENERIC and words[0].lower() not in ("st", "st.", "saint")):
            start = text.index(words[0], start) + len(words[0])
            words.pop(0)
            while start < len(text) and text[start].isspace():
                start += 1
        if not words or all(word.lower().strip(".,'’s") in _GENERIC for word in words):
            continue
        found.append(Finding(SCHOOL, start, match.end("name"), text[start:match.end("name")]))
    lowered = text.lower()
    for name in settings:
        name = " ".join(name.split())
        if len(name) < 6:
            continue
        for variant in {name, re.sub(r"^the\s+", "", name, flags=re.IGNORECASE)}:
            for match in re.finditer(r"(?<!\w)" + re.escape(variant.lower()) + r"(?!\w)", lowered):
                found.append(Finding(SCHOOL, match.start(), match.end(), text[match.start():match.end()]))
    return found


def _phones_found(text: str) -> list[Finding]:
    """Return UK phone numbers as people type them (spaces, dashes, brackets, +44)."""
    found = []
    for match in _PHONE.finditer(text):
        candidate = match.group(0).rstrip(" -(")
        digits = re.sub(r"\D", "", candidate)
        if candidate.lstrip().startswith("+"):
            digits = "0" + digits[2:].lstrip("0") if digits.startswith("44") else digits
        if digits.startswith("0") and 10 <= len(digits) <= 11 and not digits.startswith("00"):
            found.append(Finding(PHONE, match.start(), match.start() + len(candidate), candidate))
    return found


def find(text: str, settings: Iterable[str] = ()) -> list[Finding]:
    """Return what in ``text`` could identify someone, in order, without overlaps.

    ``settings`` are the names of schools and early years settings in the
    directory, found in any case ("leek high school").
    """
    text = (text or "")[:MAX_TEXT]
    found: list[Finding] = []
    found += [Finding(EMAIL, m.start(), m.end(), m.group(0)) for m in _EMAIL.finditer(text)]
    found += _phones_found(text)
    found += [Finding(POSTCODE, m.start(), m.end(), m.group(0)) for m in _POSTCODE.finditer(text)]
    found += [Finding(ADDRESS, m.start(), m.end(), m.group(0)) for m in _ADDRESS.finditer(text)]
    found += [Finding(DATE_OF_BIRTH, m.start("date"), m.end("date"), m.group("date"))
              for m in _DATE_OF_BIRTH.finditer(text)]
    found += _schools_found(text, settings)
    found += _names_found(text)
    # Keep the longest of overlapping findings (an email holds a name; a school a saint's name).
    kept: list[Finding] = []
    for cluster in _overlapping(sorted(found, key=lambda f: f.start)):
        chosen: list[Finding] = []
        for finding in sorted(cluster, key=lambda f: (-(f.end - f.start), _PRECEDENCE[f.kind], f.start)):
            if all(finding.end <= other.start or finding.start >= other.end for other in chosen):
                chosen.append(finding)
        kept += chosen
    return sorted(kept, key=lambda f: f.start)


def _overlapping(found: list[Finding]) -> list[list[Finding]]:
    """Return findings (in order of start) grouped into runs that overlap one another."""
    clusters: list[list[Finding]] = []
    end = -1
    for finding in found:
        if clusters and finding.start < end:
            clusters[-1].append(finding)
        else:
            clusters.append([finding])
        end = max(end, finding.end) if len(clusters[-1]) > 1 else finding.end
    return clusters


REMOVAL_NOTES = {PHONE: "[phone number removed]", EMAIL: "[email address removed]", POSTCODE: "[postcode removed]",
                ADDRESS: "[address removed]", DATE_OF_BIRTH: "[date of birth removed]", NAME: "[name removed]",
                SCHOOL: "[school removed]"}


def redact(text: str, findings: Iterable[Finding]) -> str:
    """Return the text with each finding replaced by a plain note ("[phone number removed]")."""
    parts, position = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < position:
            continue
        parts += [text[position:finding.start], REMOVAL_NOTES[finding.kind]]
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def only_removal_notes(text: str) -> bool:
    """Return whether nothing but removal notes and punctuation is left of a text after redaction."""
    rest = text
    for note in REMOVAL_NOTES.values():
        rest = rest.replace(note, " ")
    return not re.search(r"[^\W\d_]{2,}", rest)


def highlighted(text: str, findings: Iterable[Finding]) -> list[tuple[str, Finding | None]]:
    """Return the text as pieces, each plain (None) or one finding, for a template to mark up."""
    pieces: list[tuple[str, Finding | None]] = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < position:
            continue
        if finding.start > position:
            pieces.append((text[position:finding.start], None))
        pieces.append((text[finding.start:finding.end], finding))
        position = finding.end
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces


#: What a provider's description may hold without a warning: their own phone, email and address are expected.
PROVIDER_WARNED = (NAME, DATE_OF_BIRTH)
_PRIVATE_PERSON = re.compile(r"\b(?:my|our)\s+(?:" + _RELATIONS + r")\b|\b(?:born|d\.?o\.?b\.?)\b", re.IGNORECASE)


def provider_warnings(text: str) -> list[Finding]:
    """Return what in a provider's description looks like a private person's details.

    Listings rightly hold a phone number, an email address and a venue, so only
    dates of birth, and people's names where the text speaks of a child or family
    ("my son Alfie"), are returned.  Providers are warned, never stopped.
    """
    found = [finding for finding in find(text) if finding.kind in PROVIDER_WARNED]
    if not _PRIVATE_PERSON.search(text or ""):
        found = [finding for finding in found if finding.kind == DATE_OF_BIRTH]
    return found
