"""The groups of words search treats as the same, kept by coordinators; each change is audited.

Search reads the groups afresh when they change, so a saved group applies to
the next search.  Typed words are cleaned here, once, on the way in.
"""

from __future__ import annotations

from sqlalchemy import select

from local_offer.extensions import db
from local_offer.models import SynonymGroup, User, record_audit
from local_offer.sanitise import clean_text

#: The longest word or phrase a group may hold.
TERM_MAX = 100


def split_terms(text: str | None) -> list[str]:
    """Split typed synonyms (separated by commas) into clean, distinct words."""
    seen, terms = set(), []
    for part in (text or "").split(","):
        term = clean_text(part)[:TERM_MAX]
        if term and term.lower() not in seen:
            seen.add(term.lower())
            terms.append(term)
    return terms


def all_groups() -> list[SynonymGroup]:
    """Return every group of words, the most recently changed first."""
    return list(db.session.execute(select(SynonymGroup).order_by(SynonymGroup.updated_at.desc())).scalars())


def add_group(terms: list[str], actor: User) -> SynonymGroup:
    """Add a group of words search treats as the same."""
    group = SynonymGroup(terms=terms)
    db.session.add(group)
    db.session.flush()
    record_audit("synonyms.added", "synonym_group", group.id, actor=actor, changes={"terms": terms})
    db.session.commit()
    return group


def change_group(group: SynonymGroup, terms: list[str], actor: User) -> None:
    """Replace the words of a group."""
    record_audit("synonyms.changed", "synonym_group", group.id, actor=actor, changes={"terms": [group.terms, terms]})
    group.terms = terms
    db.session.commit()


def remove_group(group: SynonymGroup, actor: User) -> None:
    """Remove a group of words."""
    record_audit("synonyms.removed", "synonym_group", group.id, actor=actor, changes={"terms": group.terms})
    db.session.delete(group)
    db.session.commit()
