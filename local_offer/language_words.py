"""Add each language's search words (``content/languages/*.yaml``) to the synonym groups and related terms.

"autyzm*", "توحد" and "অটিজম" join the group that holds "autism", so a search in
Polish, Arabic or Bengali finds the English listings, and the demand page counts
the concept once whatever the language.  Coordinators maintain the groups after
(Coordinators' pages > Words that mean the same).  Each version of a file is loaded
once (the audit log says which): a word a coordinator removed comes back only if a
new version of the file is loaded, and then only words a group lacks are added;
nothing is ever removed or changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select

from local_offer.extensions import db
from local_offer.models import AuditEvent, RelatedTerms, SynonymGroup, record_audit
from local_offer.related_terms import problems as related_problems
from local_offer.sanitise import clean_text
from local_offer.search.languages import read_book
from local_offer.search.understanding import fold


#: The audit action recording that a version of a language file was loaded.
LOADED = "search_words.loaded"


class LanguageWordsError(ValueError):
    """A language file cannot be read: the message names the file and the reason."""


def _key(term: str) -> str:
    return " ".join(fold(term).split())


def load_language_words(folder: Path, report) -> None:
    """Add every language file's concept words to the synonym groups and its phrases to the related terms."""
    if not folder.is_dir():
        return
    groups = list(db.session.execute(select(SynonymGroup).order_by(SynonymGroup.id)).scalars())
    entries = list(db.session.execute(select(RelatedTerms).order_by(RelatedTerms.created_at,
                                                                    RelatedTerms.id)).scalars())
    for path in sorted(folder.glob("*.yaml")):
        version = f"{path.stem[:10]}:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"
        if db.session.execute(select(AuditEvent.id).where(AuditEvent.action == LOADED,
                                                          AuditEvent.entity_id == version).limit(1)).first():
            report.skipped[f"{path.stem} search words"] = 1  # this version was loaded before
            continue
        try:
            book = read_book(path)
        except ValueError as error:
            raise LanguageWordsError(str(error)) from error
        except Exception as error:  # YAML syntax: say which file
            raise LanguageWordsError(f"{path.name}: {error}") from error
        added = 0
        for concept, terms in book.concepts.items():
            added += _add_to_group(groups, concept, terms)
        phrases = sum(_add_to_related(entries, phrase, said) for phrase, said in book.related.items())
        report.added[f"{book.code} search words"] = added
        report.added[f"{book.code} everyday phrases"] = phrases
        record_audit(LOADED, "search_words", version, changes={"file": path.name, "words_added": added,
                                                               "phrases_added": phrases})


def _add_to_group(groups: list[SynonymGroup], concept: str, terms: list[str]) -> int:
    """Add a concept's words to the group holding the concept (a new group when none does)."""
    wanted = [clean_text(term).strip() for term in terms if clean_text(term).strip()]
    group = next((g for g in groups if _key(concept) in {_key(term) for term in g.terms}), None)
    if group is None:
        group = SynonymGroup(terms=[clean_text(concept).strip()])
        db.session.add(group)
        groups.append(group)
    have = {_key(term) for term in group.terms}
    new = [term for term in dict.fromkeys(wanted) if _key(term) not in have]
    if new:
        group.terms = [*group.terms, *new]
    return len(new)


def _add_to_related(entries: list[RelatedTerms], phrase: str, said: list[str]) -> int:
    """Add a language's phrases to the related-terms entry that holds ``phrase``, within the entry's limits."""
    entry = next((e for e in entries if _key(phrase) in {_key(p) for p in e.phrases}), None)
    if entry is None:
        return 0
    taken = {_key(p) for e in entries for p in e.phrases}
    new = [clean_text(p).strip() for p in said if clean_text(p).strip() and _key(p) not in taken]
    new = list(dict.fromkeys(new))
    while new and related_problems([*entry.phrases, *new], list(entry.terms)):
        new.pop()  # over an entry's limits: keep what fits
    if new:
        entry.phrases = [*entry.phrases, *new]
    return len(new)
