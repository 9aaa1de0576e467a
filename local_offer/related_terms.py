"""Related terms, kept by coordinators: what families type, and the service words that help with it.

A synonym group says several words mean the same ("ASD", "autism").  A related-terms
entry is different: it maps an everyday thing a parent types ("being bullied") to the
service words that help with it ("anti-bullying", "confidence", "mentoring").  Search
uses the words as extra, lower-weighted alternatives when one of the phrases matches,
and reads the entries afresh when they change.  Typed words are cleaned here, once, on
the way in; every change is audited.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.models import RelatedTerms, User, record_audit
from local_offer.sanitise import clean_text

#: The longest phrase or word an entry may hold.
WORD_MAX = 100
#: The most words to look for (and the most phrases) one entry may hold.
WORDS_PER_ENTRY_MAX = 30


def clean_word(text: str | None) -> str:
    """Clean one phrase or word: no HTML, no control characters, single spaces."""
    return " ".join(clean_text(text).split())


def distinct_words(words: Iterable[str | None]) -> list[str]:
    """Clean each phrase or word and drop empty ones and repeats (whatever their case), keeping the order."""
    seen, kept = set(), []
    for word in map(clean_word, words):
        if word and word.casefold() not in seen:
            seen.add(word.casefold())
            kept.append(word)
    return kept


def split_words(text: str | None) -> list[str]:
    """Split typed phrases or words (separated by commas) into clean, distinct ones, in the order typed.

    Nothing is shortened here: ``problems`` says what is too long, so nobody's words are cut silently.
    """
    return distinct_words((text or "").split(","))


def problems(phrases: list[str], terms: list[str]) -> dict[str, str]:
    """Return what is wrong with an entry, by field ("phrases" or "terms"): empty when it can be saved."""
    found = {}
    checks = (("phrases", phrases, _("Enter at least one thing families say, separated by commas"),
               _("Enter %(max)s things families say or fewer (you entered %(num)s)",
                 max=WORDS_PER_ENTRY_MAX, num=len(phrases))),
              ("terms", terms, _("Enter at least one word to look for, separated by commas"),
               _("Enter %(max)s words to look for or fewer (you entered %(num)s)",
                 max=WORDS_PER_ENTRY_MAX, num=len(terms))))
    for field, words, empty, too_many in checks:
        too_long = next((word for word in words if len(word) > WORD_MAX), None)
        if not words:
            found[field] = empty
        elif len(words) > WORDS_PER_ENTRY_MAX:
            found[field] = too_many
        elif too_long is not None:
            found[field] = _("Each one must be %(max)s characters or fewer: shorten “%(start)s…”",
                             max=WORD_MAX, start=too_long[:30])
    return found


def check(phrases: list[str], terms: list[str], entry: RelatedTerms | None = None) -> dict[str, str]:
    """Return what stops an entry being saved, by field: ``problems``, and a phrase another entry already has."""
    found = problems(phrases, terms)
    if "phrases" not in found:
        wanted = {phrase.casefold(): phrase for phrase in phrases}
        for other in all_entries():
            repeated = next((wanted[p.casefold()] for p in other.phrases if p.casefold() in wanted), None)
            if other is not entry and repeated is not None:
                found["phrases"] = _("“%(phrase)s” is already in another entry (%(entry)s): change that one, "
                                     "or take it out here", phrase=repeated, entry=", ".join(other.phrases)[:80])
                break
    return found


def all_entries() -> list[RelatedTerms]:
    """Return every entry, the most recently changed first."""
    return list(db.session.execute(
        select(RelatedTerms).order_by(RelatedTerms.updated_at.desc(), RelatedTerms.id)).scalars())


def add_entry(phrases: list[str], terms: list[str], actor: User) -> RelatedTerms:
    """Add what families say and the words to look for (already split and checked)."""
    entry = RelatedTerms(phrases=phrases, terms=terms)
    db.session.add(entry)
    db.session.flush()
    record_audit("related_terms.added", "related_terms", entry.id, actor=actor,
                 changes={"phrases": phrases, "terms": terms})
    db.session.commit()
    return entry


def change_entry(entry: RelatedTerms, phrases: list[str], terms: list[str], actor: User) -> None:
    """Replace an entry's phrases and words to look for."""
    record_audit("related_terms.changed", "related_terms", entry.id, actor=actor,
                 changes={"phrases": [entry.phrases, phrases], "terms": [entry.terms, terms]})
    entry.phrases = phrases
    entry.terms = terms
    db.session.commit()


def remove_entry(entry: RelatedTerms, actor: User) -> None:
    """Remove an entry."""
    record_audit("related_terms.removed", "related_terms", entry.id, actor=actor,
                 changes={"phrases": entry.phrases, "terms": entry.terms})
    db.session.delete(entry)
    db.session.commit()
