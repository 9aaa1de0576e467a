"""Ranked retrieval: combine what each concept matched into one ordered list, without Whoosh.

Every concept the parent typed contributes; none is required on its own.  A
listing's score is the sum of its concepts' BM25F scores (each times the
concept's weight), times its *coverage* squared: the share of the query's
importance it matches, where a concept's importance is its weight times how
rare it is (inverse document frequency).  So a listing that matches the core
need ("climbing") and not an incidental word ("wall") still ranks, while one
that only matches a common word ("wheelchair" in "wheelchair repairs") does
not.

Two rules keep queries with no good answer short:

* a listing must cover at least ``MIN_COVERAGE`` of the query's importance,
  and match a minimum number of the concepts that count, adapting to how many
  there are (one of one or two, two of three or four, half of more);
* a word the index has never seen counts as rare (as if one listing had it),
  at half weight: what the parent asked for and we do not have is not
  silently replaced by the rest of their words, but a stray word of theirs
  does not empty the list.

A cut-off relative to the best score is applied by the caller (pipeline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: A listing must match at least this share of the query's importance.
MIN_COVERAGE = 0.4
#: Coverage is raised to this power: matching more of what was asked counts for a lot.
COORDINATION = 2.0
#: How much a word no listing uses counts, against a word one listing uses.
UNSEEN = 0.5
#: A concept at or above this weight counts towards the minimum number of concepts matched.
COUNTS_FROM = 1.0


@dataclass
class ConceptMatches:
    """One concept's matches: document numbers (ascending), their scores, and how much it counts."""

    docnums: np.ndarray
    scores: np.ndarray
    weight: float = 1.0


@dataclass
class Ranked:
    """The combined matches: document numbers and scores (unordered), and whether any matched everything."""

    docnums: np.ndarray
    scores: np.ndarray
    #: True when at least one document matched every concept that counts.
    complete: bool


def idf(matched: int, documents: int) -> float:
    """Return BM25's inverse document frequency; a word nobody uses counts as if one document had it."""
    matched = max(matched, 1)
    return math.log(1.0 + (documents - matched + 0.5) / (matched + 0.5))


def needed(counting: int) -> int:
    """Return how many of the concepts that count a listing must match (adapting to how many there are)."""
    if counting <= 2:
        return 1
    if counting <= 4:
        return 2
    return math.ceil(counting / 2)


def combine(found: list[ConceptMatches], documents: int) -> Ranked:
    """Combine concepts' matches into scored documents (see the module's docstring)."""
    if not found or all(item.docnums.size == 0 for item in found):
        return Ranked(np.zeros(0, np.int64), np.zeros(0), False)
    weights = np.array([item.weight for item in found])
    importance = weights * np.array([idf(item.docnums.size, documents) * (UNSEEN if item.docnums.size == 0 else 1.0)
                                     for item in found])
    counting = weights >= COUNTS_FROM
    if not counting.any():
        counting = np.ones(len(found), dtype=bool)
    docnums = np.unique(np.concatenate([item.docnums for item in found]))
    present = np.zeros((len(found), docnums.size), dtype=bool)
    raw = np.zeros(docnums.size)
    for row, item in enumerate(found):
        if item.docnums.size == 0:
            continue
        positions = np.searchsorted(docnums, item.docnums)
        present[row, positions] = True
        raw[positions] += item.weight * item.scores
    coverage = importance @ present / importance.sum()
    matched = present[counting].sum(axis=0)
    keep = (coverage >= MIN_COVERAGE - 1e-9) & (matched >= needed(int(counting.sum())))
    complete = bool((matched == int(counting.sum())).any())
    scores = raw * coverage ** COORDINATION
    return Ranked(docnums[keep], scores[keep], complete)


@dataclass
class TextMatches:
    """What the text search found."""

    #: Listing id -> relevance score.
    listings: dict[str, float]
    #: Information pages, best first: (slug, title).
    pages: list[tuple[str, str]]
    #: Words the index does not know (matched fuzzily).
    unknown_words: list[str]
    #: True when not every concept could be matched together and we relaxed to most of them.
    relaxed: bool = False


def spec_of(concept) -> tuple[list[list[str]], list[list[str]], float]:
    """Read a concept as (alternatives, related alternatives, weight): a plain list is just alternatives."""
    if isinstance(concept, list):
        return concept, [], 1.0
    return concept.alternatives, getattr(concept, "related", []), getattr(concept, "weight", 1.0)
