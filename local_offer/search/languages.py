"""Read a search typed in another language: Polish, Romanian, Arabic, Urdu, Bengali.

Each language has a file ``content/languages/<code>.yaml`` (see its header):

- ``stopwords``: words that say nothing about the service ("dla", "my", "children");
- ``prefixes``: letters glued to the front of a word (Arabic "ال", "بال"), tried off a
  word that is not known as typed;
- ``phrases``: words rewritten into the English the search already reads (days,
  "free", "years old", "teenager", "near"), so "basen w soboty" finds Saturday
  swimming the same way "swimming on saturdays" does.  A trailing ``*`` matches
  any ending ("sobot*": sobota, soboty, sobotę);
- ``concepts``: each concept's words in the language.  ``flask content load`` adds
  them to the synonym groups, where coordinators maintain them; search matches them
  there, with the same trailing ``*`` ("autyzm*" for autyzmem, autyzmu).

``rewrite`` runs before the English reading of the words.  The page's language
comes first; the other languages' words apply only where they are not English
search words, so an English "care" is never read as Romanian.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from local_offer.search.dictionary import is_english_word
from local_offer.search.understanding import (
    COST_PHRASES, DAY_WORDS, GENERIC_ALONE, INCIDENTAL, LIFE_STAGES, STOPWORDS, WHEN_PHRASES, _WORD, fold,
)

#: A wildcard stem shorter than this would match too much ("ab*").
MIN_STEM = 3
#: The longest phrase, in words, a book's entries may have.
LONGEST = 4

#: English words the search reads: another language's entry never overrides them.
ENGLISH_WORDS = frozenset(STOPWORDS | INCIDENTAL | GENERIC_ALONE | set(DAY_WORDS)
                          | {word for table in (LIFE_STAGES, WHEN_PHRASES, COST_PHRASES)
                             for phrase in table for word in fold(phrase).split()})


@dataclass
class Book:
    """One language's search words, folded for matching."""

    code: str
    stopwords: set[str] = field(default_factory=set)
    #: Stop words that are also English words: dropped only on pages in this language.
    own_page_stopwords: set[str] = field(default_factory=set)
    prefixes: list[str] = field(default_factory=list)
    #: (words) -> English text; the last word may end in "*" (a stem).
    phrases: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: Words of the language's concepts (for trying a glued prefix off).
    concept_words: set[str] = field(default_factory=set)
    #: The concepts' words and phrases, folded (a trailing "*" kept): kept as typed, never rewritten.
    concept_phrases: set[tuple[str, ...]] = field(default_factory=set)
    #: concept English key -> the language's words for it, as written.
    concepts: dict[str, list[str]] = field(default_factory=dict)
    #: related-terms phrase -> the language's phrases.
    related: dict[str, list[str]] = field(default_factory=dict)


def _folded_words(text: str) -> tuple[str, ...]:
    """Fold an entry into words, keeping a trailing "*" on the last."""
    text = str(text).strip()
    star = text.endswith("*")
    words = tuple(_WORD.findall(fold(text.rstrip("*"))))
    if star and words:
        words = (*words[:-1], words[-1] + "*")
    return words


def read_book(path: Path) -> Book:
    """Read one language's file; raise ValueError with the reason when it is malformed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping of stopwords, prefixes, phrases and concepts")
    book = Book(code=str(data.get("language") or path.stem))
    for key, target in (("stopwords", book.stopwords), ("stopwords_also_english", book.own_page_stopwords)):
        for word in data.get(key) or []:
            target.update(_WORD.findall(fold(str(word))))
    book.prefixes = sorted({fold(str(p)) for p in data.get("prefixes") or [] if str(p).strip()}, key=len,
                           reverse=True)
    for said, english in (data.get("phrases") or {}).items():
        words = _folded_words(said)
        if not words or len(words) > LONGEST:
            raise ValueError(f"{path.name}: phrase {said!r} must have 1 to {LONGEST} words")
        if words[-1].endswith("*") and len(words[-1]) - 1 < MIN_STEM:
            raise ValueError(f"{path.name}: the stem of {said!r} is shorter than {MIN_STEM} letters")
        book.phrases[words] = str(english or "")
    for concept, said in (data.get("concepts") or {}).items():
        terms = [str(term) for term in (said if isinstance(said, list) else [said]) if str(term).strip()]
        book.concepts[str(concept)] = terms
        book.concept_words.update(word.rstrip("*") for term in terms for word in _folded_words(term))
        book.concept_phrases.update(words for words in map(_folded_words, terms) if words)
    for phrase, said in (data.get("related") or {}).items():
        book.related[str(phrase)] = [str(term) for term in (said if isinstance(said, list) else [said])]
    return book


_books: dict[str, tuple[tuple, dict[str, Book]]] = {}
_books_lock = threading.Lock()


def books(content_path: str | Path) -> dict[str, Book]:
    """Return every language's book from ``content/languages``, read again when a file changes."""
    folder = Path(content_path) / "languages"
    try:
        files = sorted(folder.glob("*.yaml"))
        stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        return {}
    cached = _books.get(str(folder))
    if cached and cached[0] == stamp:
        return cached[1]
    found = {}
    for path in files:
        try:
            book = read_book(path)
        except (ValueError, yaml.YAMLError, OSError):
            continue  # `flask content check` names a broken file; search carries on without it
        found[book.code] = book
    with _books_lock:
        _books[str(folder)] = (stamp, found)
    return found


_known_cache: list = [None, frozenset()]


def known_words(synonym_groups) -> frozenset[str]:
    """Return the plain-letter words of the synonym groups ("dla" of DLA): never another language's stop word."""
    cached = _known_cache
    if cached[0] is synonym_groups:
        return cached[1]
    words = frozenset(word for group in synonym_groups for term in group if not str(term).endswith("*")
                      for word in _WORD.findall(fold(str(term))) if word.isascii() and word.isalpha())
    _known_cache[:] = [synonym_groups, words]
    return words


def words_as_typed(text: str) -> list[str]:
    """Split text into words as typed (marks and accents kept)."""
    return _WORD.findall(text or "")


def _ascii_digits(text: str) -> str:
    """Write Arabic-Indic, Persian and Bengali digits as 0-9."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text)


def _again(rewritten: "Rewritten") -> "Rewritten":
    return Rewritten(rewritten.text, True)


@dataclass
class Rewritten:
    """A search's words with the other languages' words put into English."""

    text: str
    #: True when any word was read as another language's (then "did you mean" stays quiet).
    other_language: bool = False


def _match(book: Book, words: list[str], index: int):
    """Return (length, English) for the longest phrase of a book starting at ``index``, or None."""
    for length in range(min(LONGEST, len(words) - index), 0, -1):
        key = tuple(words[index: index + length])
        if key in book.phrases:
            return length, book.phrases[key]
        for entry, english in book.phrases.items():
            if (len(entry) == length and entry[-1].endswith("*") and entry[:-1] == key[:-1]
                    and key[-1].startswith(entry[-1][:-1])):
                return length, english
    return None


def _concept_length(book: Book, words: list[str], index: int) -> int:
    """Return how many words from ``index`` make one of the book's concepts ("club de vacanță"), or 0."""
    for length in range(min(LONGEST, len(words) - index), 0, -1):
        key = tuple(words[index: index + length])
        if key in book.concept_phrases:
            return length
        if any(len(entry) == length and entry[-1].endswith("*") and entry[:-1] == key[:-1]
               and len(entry[-1]) > MIN_STEM and key[-1].startswith(entry[-1][:-1]) for entry in book.concept_phrases):
            return length
    return 0


def _unglued(book: Book, word: str, known) -> str | None:
    """Return the word without a glued-on prefix when what is left is a word the book or search knows."""
    for prefix in book.prefixes:
        rest = word[len(prefix):]
        if word.startswith(prefix) and len(rest) >= 2 and (
                rest in book.concept_words or rest in book.stopwords or (rest,) in book.phrases or known(rest)):
            return rest
    return None


def rewrite(text: str, language: str | None, every: dict[str, Book], known=lambda word: False) -> Rewritten:
    """Put the words of other languages into the English the search reads.

    ``language`` is the page's; its book is tried first and in full.  The other
    books apply only to words that are not English search words.  ``known(word)``
    says whether search knows a (folded) word, for trying glued prefixes off.
    Words no book knows are kept as typed.
    """
    order = ([every[language]] if language in every else []) + [
        book for code, book in every.items() if code != language]
    if not order or not text:
        return Rewritten(text or "")
    ascii_digits = _ascii_digits(text)
    if ascii_digits != text:  # "٥ سنوات", "৫ বছর": the ages are read from ASCII digits
        return _again(rewrite(ascii_digits, language, every, known))
    typed = _WORD.findall(text)
    words = [fold(word) for word in typed]
    out: list[str] = []
    other = False
    index = 0
    while index < len(words):
        word = words[index]
        for book in order:
            own = book.code == language
            # Another language's single word never replaces an English one ("care", "vacant", "DLA");
            # its longer phrases still apply ("club de vacanță").
            guard = not own and (word in ENGLISH_WORDS or is_english_word(word) or known(word))
            concept = _concept_length(book, words, index)
            found = _match(book, words, index)
            if guard:
                concept = concept if concept > 1 else 0
                found = found if found and found[0] > 1 else None
            if concept and (not found or found[0] <= concept):
                # A concept's own words stay as typed, for the synonym groups. "autism" is a Romanian
                # word too: only the page's own language or letters beyond ASCII say it is not English.
                kept = typed[index: index + concept]
                out.extend(kept)
                other = other or own or not "".join(kept).isascii()
                index += concept
                break
            if found:  # the longest phrase first: "w pobliżu" is "near" before "w" is a stop word
                length, english = found
                out.append(english)
                index, other = index + length, True
                break
            if guard:
                continue
            acronym = len(typed[index]) > 1 and typed[index].isupper()  # "DLA" typed in capitals is meant
            if not acronym and (word in book.stopwords or (own and word in book.own_page_stopwords)):
                index, other = index + 1, True
                break
            rest = _unglued(book, word, known)
            if rest is not None:
                words[index] = typed[index] = rest
                other = True
                found = _match(book, words, index)
                if found:
                    out.append(found[1])
                    index += found[0]
                else:
                    if rest not in book.stopwords:
                        out.append(rest)
                    index += 1
                break
        else:
            out.append(typed[index])
            if any(ord(ch) > 0x24F for ch in word):  # a script other than Latin: not English
                other = True
            index += 1
    if not other:
        return Rewritten(text)  # all English: kept exactly as typed (postcodes, hyphens, apostrophes)
    return Rewritten(" ".join(part for part in out if part), other)
