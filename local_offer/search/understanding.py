"""Read what a parent typed: the place, age, day and cost hidden in their words, and what they want.

"something for my daughter who has adhd on saturdays" becomes words ``adhd``
and a preference for Saturdays; "swimming near Stone" becomes words
``swimming``, place ``Stone``; "music for my baby" becomes ``music`` and a
preference for ages 0 to 1.  Phrasing that says nothing about the service
("my son", "help with", "looking for") is dropped so it cannot push the right
listings down.

Ages, days, times of year and cost taken from the words are *preferences*:
they raise the listings that fit and lower the rest, never hide them (only
what a parent picks in the filters is a filter).  Each is a ``Guess`` that
remembers the words it came from, so the page can show it and offer to
remove it.

Synonym groups ("ASD, autism, autistic, ASC") come from the database; each
concept the parent wrote is expanded to every way of saying it, and the
search engine matches any of them.  Related terms ("being bullied" ->
anti-bullying, confidence...) are weaker alternatives of the phrase they
belong to.  Nothing here knows about Whoosh.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field

from local_offer.search.dictionary import is_english_word

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
    "close to me", "near me", "around here", "please", "good", "best",
]
#: Single words that carry no meaning for a search.
STOPWORDS = {
    "a", "an", "and", "the", "for", "of", "to", "with", "on", "in", "at", "by", "is", "are",
    "any", "some", "my", "our", "me", "i", "we", "who", "has", "have", "that", "this", "there",
    "what", "where", "which", "can", "do", "does", "get", "find", "or", "it", "be", "son",
    "daughter", "child", "children", "kid", "kids", "year", "years", "old", "aged", "age",
    "boy", "girl", "please", "thanks", "something", "anything", "help",
    "support", "services", "service", "activities", "activity", "things", "near", "around",
    "about", "he", "she", "his", "her", "him", "they", "them", "their", "us", "am", "was", "been",
    "would", "could", "should", "will", "just", "really", "very", "so", "from", "into", "up",
    "out", "if", "how", "when", "want", "need", "like", "someone", "somewhere", "anyone",
    "local", "nearby", "locally", "area", "stuff", "isn't", "yet", "still",
}
#: Words that say what shape a service takes, not what it is about: they count for little
#: and never exclude a listing that matches what the parent needs.
INCIDENTAL = {
    "club", "clubs", "group", "groups", "class", "classes", "lesson", "lessons", "session",
    "sessions", "course", "courses", "centre", "center", "programme", "program", "fun", "place",
    "places", "go", "do", "day", "days", "time", "times", "thing", "ideas", "idea", "info",
    "information", "advice", "online", "event", "events", "new", "week", "weekly", "meet",
    "people", "young", "person", "family", "families", "parent", "parents",
}
#: Words that say little on their own: a related phrase that is only one of these once its stop
#: words are out ("days out", "need a break", "on their own") is not taken to mean it.
GENERIC_ALONE = INCIDENTAL | {
    "days", "day", "getting", "own", "parent", "carer", "caring", "weekend", "play", "nothing", "left",
    "moving", "live", "living", "adult", "growing", "can't", "start", "ask", "pay", "costs", "school", "care",
    "break", "work", "home", "house", "going", "out", "time", "money", "life", "family", "friends",
}
#: How much an incidental word counts, against 1 for any other.
INCIDENTAL_WEIGHT = 0.3

DAY_WORDS = {
    "monday": "MO", "mondays": "MO", "tuesday": "TU", "tuesdays": "TU", "wednesday": "WE",
    "wednesdays": "WE", "thursday": "TH", "thursdays": "TH", "friday": "FR", "fridays": "FR",
    "saturday": "SA", "saturdays": "SA", "sunday": "SU", "sundays": "SU",
}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")

#: Life-stage words, as soft age ranges (inclusive, in years).
LIFE_STAGES = {
    "new born": (0, 1), "newborn": (0, 1), "newborns": (0, 1), "baby": (0, 1), "babies": (0, 1),
    "infant": (0, 2), "infants": (0, 2), "toddler": (1, 3), "toddlers": (1, 3),
    "under fives": (0, 4), "under 5s": (0, 4), "under 5": (0, 4), "under five": (0, 4),
    "pre school": (2, 4), "pre-school": (2, 4), "preschool": (2, 4), "preschooler": (2, 4),
    "nursery age": (2, 4), "early years": (0, 4),
    "primary school": (4, 11), "primary age": (4, 11), "primary": (4, 11), "junior school": (7, 11),
    "secondary school": (11, 16), "secondary age": (11, 16), "secondary": (11, 16),
    "high school": (11, 16), "teenager": (13, 19), "teenagers": (13, 19), "teen": (13, 19),
    "teens": (13, 19), "teenage": (13, 19), "adolescent": (13, 19), "adolescents": (13, 19),
    "sixth form": (16, 19), "post 16": (16, 25), "post-16": (16, 25), "young adult": (16, 25),
    "young adults": (16, 25), "adult": (18, 25), "adults": (18, 25), "over 18s": (18, 25),
    "over 16s": (16, 25),
}
#: Life stages that also name a setting families look for ("pre-school for my son"): kept in the words too.
SETTINGS = {"pre school", "pre-school", "preschool", "primary school", "secondary school", "high school",
            "junior school", "sixth form", "nursery age"}
#: Words that ask for something to do (an activity, not a support service or a school), preferred.
ACTIVITY_WORDS = ("things to do", "stuff to do", "something to do", "activities", "activity", "days out",
                  "day out", "hobbies", "hobby", "fun")
#: Times of the week or year, as soft preferences: (days, period).
WHEN_PHRASES = {
    "at the weekend": ({"SA", "SU"}, None), "at weekends": ({"SA", "SU"}, None),
    "weekends": ({"SA", "SU"}, None), "weekend": ({"SA", "SU"}, None),
    "after school": (set(WEEKDAYS), "term_time"), "after-school": (set(WEEKDAYS), "term_time"),
    "in the school holidays": (set(), "school_holidays"), "school holidays": (set(), "school_holidays"),
    "in the holidays": (set(), "school_holidays"), "summer holidays": (set(), "school_holidays"),
    "easter holidays": (set(), "school_holidays"), "christmas holidays": (set(), "school_holidays"),
    "half term": (set(), "school_holidays"), "half-term": (set(), "school_holidays"),
    "holidays": (set(), "school_holidays"), "term time": (set(), "term_time"),
}
#: Cost words, as soft preferences: "free" (free listings first) or "low" (free ones first, gently).
COST_PHRASES = {
    "free of charge": "free", "no cost": "free", "for free": "free", "free": "free",
    "low cost": "low", "low-cost": "low", "cheap": "low", "cheaper": "low", "affordable": "low",
    "inexpensive": "low", "not expensive": "low", "on a budget": "low", "budget": "low",
}


def _phrases(table) -> str:
    """A regex alternation of a table's phrases, longest first, spaces matching any gap."""
    return "|".join(re.escape(p).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]*")
                    for p in sorted(table, key=len, reverse=True))


_AGE = re.compile(r"\b(?:for\s+)?(?:a\s+|an\s+|my\s+|our\s+)?(?:aged?\s+)?(\d{1,2})\s*(?:-|\s)?\s*(?:years?|yrs?|yr)(?:\s*-?\s*olds?)?\b|\baged?\s+(\d{1,2})\b",
                  re.IGNORECASE)
_DAY = re.compile(r"\b(?:on\s+|every\s+)?(" + "|".join(DAY_WORDS) + r")\b", re.IGNORECASE)
_LIFE = re.compile(r"\b(?:for\s+|with\s+)?(?:a\s+|an\s+|my\s+|our\s+)?(" + _phrases(LIFE_STAGES) + r")\b",
                   re.IGNORECASE)
# "holiday club" and "holiday scheme" are a kind of service (synonyms), not a time of year.
_WHEN = re.compile(r"\b(?:on\s+|for\s+|during\s+|over\s+)?(" + _phrases(WHEN_PHRASES)
                   + r")\b(?!\s+(?:club|clubs|scheme|schemes|play|care|activit))", re.IGNORECASE)
_ACTIVITY = re.compile(r"\b(" + _phrases(ACTIVITY_WORDS) + r")\b", re.IGNORECASE)
_COST = re.compile(r"\b(" + _phrases(COST_PHRASES) + r")\b", re.IGNORECASE)
_PLACE_MARKER = re.compile(r"\b(?:near|in|around|at|close to|nearby)\s+(.+)$", re.IGNORECASE)
_POSTCODE_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2})\b", re.IGNORECASE)
_NOT_WORDS = re.compile(r"\S+@\S+|\+?\d[\d\s()-]{6,}\d")
#: A word in any script (letters and digits), with an apostrophe inside ("don't").
#: Vowel signs and other marks inside words of Bengali, Hindi, Arabic and Hebrew: Python's \w does not
#: count them, and without them "সাঁতার" (swimming) would fall apart into pieces.
_MARKS = ("\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7\u0610-\u061a"
          "\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
          "\u0900-\u0963\u0966-\u0dff\u200c\u200d")
_LETTER = rf"(?:[^\W_]|[{_MARKS}])"
_WORD = re.compile(rf"{_LETTER}+(?:['’]{_LETTER}+)*")
#: Letters NFKD does not take apart: fold them by hand (ł to l, ß to ss).
_FOLD = str.maketrans({"ł": "l", "Ł": "l", "ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o",
                       "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h"})


def fold(text: str) -> str:
    """Lower-case text and fold accents for matching: "Zajęcia" -> "zajecia", "Łódź" -> "lodz", "ß" -> "ss"."""
    decomposed = unicodedata.normalize("NFKD", (text or "").translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().translate(_FOLD)


def words_of(text: str) -> list[str]:
    """Split text into folded words, dropping a possessive "'s" ("daughter's" -> "daughter")."""
    found = []
    for word in _WORD.findall(fold(text).replace("’", "'")):
        if word.endswith("'s"):
            word = word[:-2]
        found.append(word)
    return found


@dataclass
class Guess:
    """Something the search took from the parent's words, shown so they can remove it."""

    #: "place", "age", "day", "when" or "cost".
    kind: str
    #: The words it came from, as typed ("near Leek", "8 year old", "cheap").
    phrase: str
    #: The place text; the (youngest, oldest) ages; the day codes; (day codes, period); "free" or "low".
    value: object


@dataclass
class Understood:
    """What we took from the parent's words."""

    #: The words left that describe the service, folded, in order.
    words: list[str] = field(default_factory=list)
    place: str | None = None
    #: An age the parent typed ("my 8 year old").
    age: int | None = None
    #: The ages the words suggest (from an age or a life stage), preferred, not required.
    ages: tuple[int, int] | None = None
    #: A day the parent typed (the first), preferred.
    day: str | None = None
    #: Days preferred (a day, or Saturday and Sunday for "weekend").
    days: set[str] = field(default_factory=set)
    #: "term_time" or "school_holidays", preferred.
    period: str | None = None
    #: "free" or "low", preferred.
    cost: str | None = None
    #: "activity" when the words ask for something to do, preferred.
    kind: str | None = None
    guesses: list[Guess] = field(default_factory=list)
    #: The words as the parent typed them (accents kept), for headings: "zajęcia", not "zajecia".
    said: list[str] = field(default_factory=list)
    #: A life-stage word ("baby"): searched for beside the other words (listings for babies say so),
    #: never alone (then every listing for that age is wanted).
    stage: list[str] = field(default_factory=list)
    #: True when some words were another language's, read into English (no "did you mean" then).
    other_language: bool = False

    @property
    def hints(self) -> list[str]:
        """The words the preferences came from ("toddlers", "weekend", "free"): a listing that says them gains a little."""
        said = [words_of(guess.phrase) for guess in self.guesses if guess.kind in ("when", "cost", "day")
                or (guess.kind == "age" and not self.stage and fold(guess.phrase).replace("-", " ") not in SETTINGS)]
        return [word for words in said for word in words if word not in STOPWORDS and not word.isdigit()
                and word not in ("olds", "yr", "yrs")]

    @property
    def text(self) -> str:
        """Return the remaining words as one string."""
        return " ".join(self.words)


def understand(text: str, is_place=None, is_local_place=None) -> Understood:
    """Pull a place, an age, days, a time of year and a cost out of free text, and keep the words that matter.

    ``is_place(candidate)`` says whether a phrase after "near"/"in" is a known
    place; without it, such phrases are left in the words.  A town typed last
    without "in" or "near" must pass ``is_local_place`` (when given) as well:
    "struggles with reading" is not a search near Reading, 100 miles away.
    """
    result = Understood()
    # Email addresses and phone numbers say nothing about the service wanted.
    working = " " + _NOT_WORDS.sub(" ", (text or "").strip()) + " "
    if match := _POSTCODE_IN_TEXT.search(working):
        result.place = match.group(1).upper()
        result.guesses.append(Guess("place", match.group(0).strip(), result.place))
        working = working.replace(match.group(0), " ")
    working = _take_age(working, result)
    while match := _DAY.search(working):
        code = DAY_WORDS[match.group(1).lower()]
        result.day = result.day or code
        result.days.add(code)
        result.guesses.append(Guess("day", match.group(0).strip(), {code}))
        working = working[: match.start()] + " " + working[match.end():]
    if match := _WHEN.search(working):
        days, period = WHEN_PHRASES[_key(match.group(1), WHEN_PHRASES)]
        result.days |= days
        result.period = period
        result.guesses.append(Guess("when", match.group(0).strip(), (set(days), period)))
        working = working[: match.start()] + " " + working[match.end():]
    if match := _COST.search(working):
        result.cost = COST_PHRASES[_key(match.group(1), COST_PHRASES)]
        result.guesses.append(Guess("cost", match.group(0).strip(), result.cost))
        working = working[: match.start()] + " " + working[match.end():]
    if match := _ACTIVITY.search(working):
        result.kind = "activity"
        result.guesses.append(Guess("kind", match.group(0).strip(), "activity"))
    if result.place is None and is_place is not None:
        working = _take_place(working, result, is_place, is_local_place or is_place)
    lowered = " " + " ".join(words_of(working)) + " "
    for phrase in sorted(FILLER_PHRASES, key=len, reverse=True):
        lowered = lowered.replace(f" {' '.join(words_of(phrase))} ", " ")
    result.words = [word for word in lowered.split() if word not in STOPWORDS]
    if result.words and result.stage:
        result.words += [word for word in result.stage if word not in result.words]
    else:
        result.stage = []
    typed = {}
    for word in _WORD.findall((text or "").lower().replace("’", "'")):
        typed.setdefault(words_of(word)[0] if words_of(word) else word, word.removesuffix("'s"))
    result.said = [typed.get(word, word) for word in result.words]
    return result


def _key(said: str, table: dict) -> str:
    """Find the table's key for a phrase as typed ("Low-Cost" -> "low-cost" or "low cost")."""
    lowered = said.lower()
    if lowered in table:
        return lowered
    spaced = re.sub(r"[\s-]+", " ", lowered)
    if spaced in table:
        return spaced
    return next(key for key in table if re.sub(r"[\s-]+", "", key) == re.sub(r"[\s-]+", "", lowered))


def _take_age(working: str, result: Understood) -> str:
    """Take "my 8 year old" or a life stage ("teenager", "baby") out of the words as preferred ages."""
    if match := _AGE.search(working):
        value = int(match.group(1) or match.group(2))
        if 0 <= value <= 25:
            result.age = value
            result.ages = (value, value)
            result.guesses.append(Guess("age", match.group(0).strip(), result.ages))
            return working[: match.start()] + " " + working[match.end():]
    if match := _LIFE.search(working):
        stage = _key(match.group(1), LIFE_STAGES)
        result.ages = LIFE_STAGES[stage]
        result.guesses.append(Guess("age", match.group(0).strip(), result.ages))
        if stage in SETTINGS:
            return working
        last = words_of(stage)[-1]
        if last.isalpha() and last not in STOPWORDS and not stage.startswith(("under", "over", "post")):
            result.stage = [last]
        return working[: match.start()] + " " + working[match.end():]
    return working


def _take_place(working: str, result: Understood, is_place, is_local_place) -> str:
    """Find "near Stone" / "in Leek" (or a trailing town) and move it into result.place."""
    match = _PLACE_MARKER.search(working.strip())
    if match:
        words = match.group(1).strip(" ?.!,").split()
        # Try the longest run of words after the marker first: "Newcastle under Lyme".
        for length in range(min(4, len(words)), 0, -1):
            candidate = " ".join(words[:length])
            if is_place(candidate):
                result.place = candidate
                stripped = working.strip()
                result.guesses.append(Guess("place", stripped[match.start(): match.start(1)] + candidate, candidate))
                before = stripped[: match.start()]
                after = " ".join(words[length:])
                return f" {before} {after} "
    # A town typed last without a marker: "swimming leek".
    words = working.split()
    for length in (3, 2, 1):
        if len(words) > length:
            candidate = " ".join(words[-length:])
            if is_local_place(candidate):
                result.place = candidate
                result.guesses.append(Guess("place", candidate, candidate))
                return " " + " ".join(words[:-length]) + " "
    return working


def without(text: str, guess: Guess) -> str:
    """Return what the parent typed without the words a guess came from (to remove the guess)."""
    pattern = r"[\s,]*".join(re.escape(part) for part in guess.phrase.split())
    return re.sub(r"\s+", " ", re.sub(pattern, " ", text or "", count=1, flags=re.IGNORECASE)).strip()


@dataclass
class Concept:
    """One thing the parent asked for, with every way of saying it (each a list of words)."""

    said: str
    alternatives: list[list[str]]
    #: Weaker ways in (from the related-terms list): listings about them help with this.
    related: list[list[str]] = field(default_factory=list)
    #: How much the concept counts (incidental words count for little).
    weight: float = 1.0


def concepts(words: list[str], synonym_groups: list[list[str]],
             related_terms: list[tuple[list[str], list[str]]] = ()) -> list[Concept]:
    """Group the words into concepts, expanding each through the synonym groups and related terms.

    Multi-word synonyms ("short breaks", "speech and language therapy") and
    everyday phrases ("being bullied") are matched greedily, longest first, so
    "holiday club" is one concept.
    """
    phrases, related, stems = _phrase_tables(synonym_groups, related_terms)
    longest = max((len(key) for key in [*phrases, *related]), default=1)
    found, index = [], 0
    while index < len(words):
        for length in range(min(longest, len(words) - index), 0, -1):
            key = tuple(words[index: index + length])
            if key in phrases or key in related:
                # The words as typed come first: the engine counts the other ways of saying them a little less.
                alternatives = [list(key), *(v for v in phrases.get(key, []) if v != list(key))]
                more = [w for w in related.get(key, []) if w not in alternatives]
                for variant in alternatives:  # "being bullied" said as a synonym's other words too
                    more += [w for w in related.get(tuple(variant), []) if w not in alternatives and w not in more]
                found.append(Concept(" ".join(key), alternatives, more))
                index += length
                break
        else:
            stemmed = _stemmed(words, index, stems)
            if stemmed:
                length, variants = stemmed
                key = words[index: index + length]
                found.append(Concept(" ".join(key), [key, *(v for v in variants if v != key)]))
                index += length
                continue
            word = words[index]
            found.append(Concept(word, [[word]], related.get((word,), []),
                                 INCIDENTAL_WEIGHT if word in INCIDENTAL else 1.0))
            index += 1
    return found


def _stemmed(words: list[str], index: int, stems) -> tuple[int, list[list[str]]] | None:
    """Match a synonym written with a trailing "*" ("autyzm*": autyzmem, autyzmu) at ``index``, longest stem first."""
    for before, stem, variants in stems:
        end = index + len(before)
        if end < len(words) and tuple(words[index:end]) == before and words[end].startswith(stem) \
                and words[end] not in STOPWORDS and not is_english_word(words[end]):  # "meditation" is not "meditați*"
            return len(before) + 1, variants
    return None


#: The last synonym and related-terms lists read into phrase tables, and the tables: the lists
#: only change when a coordinator edits them, and reading 800 phrases took 30 ms a search.
_tables_cache: list = [None, None, None]
_tables_lock = threading.Lock()


def _phrase_tables(synonym_groups, related_terms):
    """Return (phrases, related): each way of saying a thing -> its synonyms, and -> its related terms."""
    cached = _tables_cache
    if cached[0] is synonym_groups and cached[1] is related_terms and cached[2] is not None:
        return cached[2]
    phrases: dict[tuple[str, ...], list[list[str]]] = {}
    stems: list[tuple[tuple[str, ...], str, list[list[str]]]] = []
    for group in synonym_groups:
        # "autyzm*" (another language's word with any ending) matches by its stem; it is searched as typed.
        wild = [item for item in group if str(item).strip().endswith("*")]
        variants = [variant for variant in (_content_words(item) for item in group if item not in wild) if variant]
        for variant in variants:
            phrases.setdefault(tuple(variant), [])
            for other in variants:
                if other not in phrases[tuple(variant)]:
                    phrases[tuple(variant)].append(other)
        for item in wild:
            words = _content_words(str(item).strip().rstrip("*"))
            if words and len(words[-1]) >= 3:
                stems.append((tuple(words[:-1]), words[-1], variants))
    stems.sort(key=lambda entry: (len(entry[0]), len(entry[1])), reverse=True)
    related: dict[tuple[str, ...], list[list[str]]] = {}
    # A phrase whose other words are all stop words ("need a break", "which school") would stand
    # for its one remaining word in every search: where that word says little on its own
    # ("school", "days", "7"), it counts only if the word is listed on its own too.
    alone = {tuple(_content_words(phrase)) for said, _terms in related_terms for phrase in said
             if len(words_of(phrase)) == 1}
    for said, terms in related_terms:
        wanted = [variant for variant in (_content_words(term) for term in terms) if variant]
        for phrase in said:
            key = tuple(_content_words(phrase))
            if (len(key) == 1 and len(words_of(phrase)) > 1 and key not in alone
                    and (key[0] in GENERIC_ALONE or not key[0].isalpha())):
                continue
            if key:
                related.setdefault(key, [])
                related[key] += [w for w in wanted if w not in related[key]]
    with _tables_lock:
        _tables_cache[:] = [synonym_groups, related_terms, (phrases, related, stems)]
    return phrases, related, stems


def _content_words(text: str) -> list[str]:
    """The words of a synonym or related term that count (folded, stop words out)."""
    return [word for word in words_of(text) if word not in STOPWORDS]
