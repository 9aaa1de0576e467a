"""One search, as a pipeline of small steps over the facet table and the text engine.

    read the request  ->  match the words  ->  filter masks  ->  hide what may not be seen
    ->  counts  ->  radius  ->  order  ->  one page of hits  ->  "did you mean"

Each step is a plain function of arrays and values, so it can be read and
tested on its own; ``run`` puts them together for ``SearchService.search``.
"""

from __future__ import annotations

import time
from contextlib import ExitStack

import numpy as np
from flask import current_app
from flask_babel import gettext as _

from local_offer.search.engine import IndexUnavailable, TextMatches
from local_offer.search.facets import FacetTable
from local_offer.search.languages import known_words, rewrite, words_as_typed
from local_offer.search.results import RADII, SORTS, Hit, SearchError, SearchRequest, SearchResults
from local_offer.search.sources import Place, SearchSources
from local_offer.search.understanding import Concept, Understood, concepts, understand

#: With a radius, show at least this many results, labelling those beyond it.
MINIMUM_SHOWN = 5
#: A text match this far below the best is not shown (no page of loosely related junk).
RELATIVE_SCORE_FLOOR = 0.06
#: Words matching more than this share of listings are generic: preferences then outweigh them more.
GENERIC_SHARE = 0.3
#: What a listing's relevance is multiplied by when it says the words a preference came from ("toddlers").
HINTED = 1.3
#: What a listing's relevance is multiplied by when it does not fit a preference taken from the
#: words (an age typed, a life stage, days, time of year, cost, activities): it moves down, never out.
MISFIT = {"age": 0.35, "ages": 0.55, "days": 0.4, "period": 0.7, "free": 0.5, "low": 0.75,
          "kind": 0.6}
#: ... and when it has no sessions to say (days, times of year): a little less than fitting.
UNKNOWN = {"days": 0.45, "period": 0.85}
FEW_RESULTS = 3
#: A town typed last without "in" or "near" is read as a place only with a listing this close to it.
LOCAL_MILES = 25.0
#: What a listing for older people only is multiplied by (see ``for_older_people``).
OLDER_PEOPLE = 0.5
OLDER_PHRASES = [["dementia"], ["alzheimer"], ["alzheimers"], ["older", "people"], ["older", "adults"],
                 ["elderly"], ["pensioners"], ["retired"], ["later", "life"], ["over", "50s"], ["over", "55s"],
                 ["over", "60s"], ["over", "65s"]]
OLDER_WORDS = {"dementia", "alzheimer", "alzheimers", "older", "elderly", "pensioners", "retired", "grandparents",
               "grandparent", "grandad", "grandma", "nan", "later", "memory"}
YOUNG_PHRASES = [["children"], ["child"], ["young", "people"], ["young", "person"], ["youth"], ["teenagers"],
                 ["families"], ["family"], ["parents"], ["kids"], ["babies"], ["toddlers"], ["pupils"],
                 ["school"], ["send"], ["sen"], ["young", "carers"]]
#: The two concepts ``for_older_people`` asks the index about (scored ahead by the warmer too).
AUDIENCE_CONCEPTS = (Concept("older", OLDER_PHRASES), Concept("young", YOUNG_PHRASES))
#: Filter groups read from vocabularies, with the vocabulary each uses.
VOCABULARY_GROUPS = (("category", "category"), ("need", "need"), ("access", "accessibility"))


def read_request(request: SearchRequest, sources: SearchSources, table: FacetTable | None = None,
                 synonym_groups=()) -> tuple[Understood, Place | None, str | None]:
    """Read the parent's words (place, age, day, words) and find the place they mean."""
    is_place = is_local_place = None
    if not request.where and not request.near:
        def is_place(text: str) -> bool:
            """Say whether text names a place or postcode the gazetteer knows."""
            return sources.find_place(text)[0] is not None

        def is_local_place(text: str) -> bool:
            """Say whether text names a known place with a listing within LOCAL_MILES of it."""
            place = sources.find_place(text)[0]
            if place is None or table is None or table.size == 0:
                return place is not None
            return bool(np.nanmin(table.nearest_miles(place.latitude, place.longitude)) <= LOCAL_MILES)
    language_books = getattr(sources, "language_books", None)
    rewritten = rewrite(request.text, request.language, language_books() if language_books else {},
                        known=known_words(synonym_groups).__contains__)
    understood = understand(rewritten.text, is_place=is_place, is_local_place=is_local_place)
    understood.other_language = rewritten.other_language
    if rewritten.other_language:  # the heading shows what the parent typed, not the English it was read as
        understood.said = [word.lower() for word in words_as_typed(request.text)]
    if request.near:
        return understood, Place(request.near[0], request.near[1], "your location", "location"), None
    where = request.where or understood.place or ""
    if not where:
        return understood, None, None
    place, problem = sources.find_place(where)
    return understood, place, problem


def match_text(service, table: FacetTable, words: list[str], readable: bool = True):
    """Score the words against the index: return (mask of matches, scores by row, the engine's matches).

    When there is no index to read (``readable`` False), nothing matches the words.
    """
    found = concepts(words, service.synonyms(), service.related_terms())
    matches = (service.engine.match(found) if readable
               else TextMatches({}, [], []))
    if matches.listings:
        for listing_id in for_older_people(service.engine, words, matches.listings):
            matches.listings[listing_id] *= OLDER_PEOPLE
        best = max(matches.listings.values())
        kept = {i: s for i, s in matches.listings.items() if s >= best * RELATIVE_SCORE_FLOOR}
    else:
        kept = {}
    scores = np.zeros(table.size)
    for listing_id, score in kept.items():
        row = table.row_of.get(listing_id)
        if row is not None:
            scores[row] = score
    return table.mask_of_ids(kept), scores, matches


def for_older_people(engine, words: list[str], listings: dict[str, float]) -> set[str]:
    """Return the listings among these whose words say they are for older people and never for
    children, young people or families ("Respite day centre for people living with dementia").

    Councils' open data mixes adult social care into the feed; a Local Offer is for 0 to 25,
    so such a listing moves down (``OLDER_PEOPLE``), unless the parent asked about it
    ("dementia", "grandparents").  Listings' ages are not used: imported ones rarely have any.
    """
    if any(word in OLDER_WORDS for word in words):
        return set()
    older = engine.match([AUDIENCE_CONCEPTS[0]]).listings
    if not older.keys() & listings.keys():
        return set()
    young = engine.match([AUDIENCE_CONCEPTS[1]]).listings
    return (older.keys() & listings.keys()) - young.keys()


def _any_of(table: FacetTable, arrays) -> np.ndarray:
    """Return a mask of rows set in any of the arrays (OR within a filter group)."""
    result = np.zeros(table.size, dtype=bool)
    for array in arrays:
        result |= array
    return result


def _term_ids(sources: SearchSources, vocabulary: str, codes: list[str]) -> list[str]:
    """Return the ids of the given codes in a vocabulary, refusing unknown codes."""
    if not codes:
        return []
    found = sources.term_ids(vocabulary, codes)
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise SearchError(_("There is no %(filter)s filter called %(value)s.", filter=vocabulary,
                            value=", ".join(unknown)))
    return [found[code] for code in codes]


def filter_masks(table: FacetTable, request: SearchRequest, age, days: list[str],
                 sources: SearchSources) -> dict[str, np.ndarray]:
    """Build one mask per filter group the request uses (OR within a group, AND across)."""
    masks: dict[str, np.ndarray] = {}
    if request.category:
        (term_id,) = _term_ids(sources, "category", [request.category])
        masks["category"] = table.term_mask(term_id)
    if request.needs:
        masks["need"] = _any_of(table, (table.term_mask(t) for t in _term_ids(sources, "need", request.needs)))
    if request.access:
        mask = table.everything()
        for term_id in _term_ids(sources, "accessibility", request.access):
            mask = mask & table.term_mask(term_id)
        masks["access"] = mask
    if age is not None:
        masks["age"] = table.age_mask(age)
    if request.free:
        masks["free"] = table.free
    chosen = {"funding": request.funding, "day": days, "period": request.periods, "delivery": request.delivery,
              "kind": request.kinds, "level": request.levels}
    for group, values in chosen.items():
        if values:
            masks[group] = _any_of(table, (table.groups[group][value] for value in values))
    if request.area == "in":
        masks["area"] = table.in_area
    elif request.area == "out":
        masks["area"] = ~table.in_area
    return masks


def count_options(table: FacetTable, base: np.ndarray, groups: dict[str, np.ndarray],
                  sources: SearchSources) -> dict[str, dict[str, int]]:
    """Count, for each filter option, how many results choosing it would leave."""
    def base_without(group: str) -> np.ndarray:
        mask = base.copy()
        for name, other in groups.items():
            if name != group:
                mask &= other
        return mask

    counts: dict[str, dict[str, int]] = {}
    terms = sources.vocabulary_terms()
    for group, vocabulary in VOCABULARY_GROUPS:
        mask = base_without(group)
        counts[group] = {code: int((mask & table.term_mask(term_id)).sum())
                         for term_id, code, vocab in terms if vocab == vocabulary}
    for group, arrays in table.groups.items():
        mask = base_without(group)
        counts[group] = {value: int((mask & array).sum()) for value, array in arrays.items()}
    mask = base_without("free")
    counts["free"] = {"yes": int((mask & table.free).sum())}
    mask = base_without("area")
    counts["area"] = {"in": int((mask & table.in_area).sum()), "out": int((mask & ~table.in_area).sum())}
    return counts


def preferences(table: FacetTable, understood: Understood) -> np.ndarray | None:
    """Return each listing's fit to what the words prefer (1 fits; less moves it down), or None."""
    if not (understood.ages or understood.days or understood.period or understood.cost or understood.kind):
        return None
    fit = np.ones(table.size)
    if understood.ages:
        youngest, oldest = understood.ages
        overlaps = (table.min_age <= oldest) & (table.max_age >= youngest)
        fit *= np.where(overlaps, 1.0, MISFIT["age" if understood.age is not None else "ages"])
    if understood.days:
        runs = _any_of(table, (table.groups["day"][day] for day in understood.days if day in table.groups["day"]))
        unknown = ~_any_of(table, table.groups["day"].values())
        fit *= np.where(runs, 1.0, np.where(unknown, UNKNOWN["days"], MISFIT["days"]))
    if understood.period and understood.period in table.groups["period"]:
        runs = table.groups["period"][understood.period]
        unknown = ~_any_of(table, table.groups["period"].values())
        fit *= np.where(runs, 1.0, np.where(unknown, UNKNOWN["period"], MISFIT["period"]))
    if understood.cost:
        fit *= np.where(table.free, 1.0, MISFIT[understood.cost])
    if understood.kind and understood.kind in table.groups["kind"]:
        fit *= np.where(table.groups["kind"][understood.kind], 1.0, MISFIT["kind"])
    return fit


def choose_sort(request: SearchRequest, words: list[str], place: Place | None) -> str:
    """Sort as asked when it makes sense; else by relevance with words, distance with a place, else checked."""
    sort = request.sort if request.sort in SORTS else ("relevance" if words else "distance" if place else "checked")
    if sort == "distance" and place is None:
        sort = "relevance" if words else "checked"
    if sort == "relevance" and not words:
        sort = "distance" if place else "checked"
    return sort


def apply_radius(rows: np.ndarray, table: FacetTable, distances: np.ndarray, request: SearchRequest):
    """Keep rows within the radius (services with no venue too); return (rows, within, wider, rows beyond).

    The API's strict radius drops everything beyond it.  The website never hides the
    nearest services: with fewer than MINIMUM_SHOWN within it, the nearest beyond are
    kept, labelled, and the next radius is offered.
    """
    near = distances[rows] <= request.radius
    # Services with no venue (online, phone, county-wide) are kept and labelled.
    no_venue = ~table.has_venue[rows]
    within_radius = int((near | no_venue).sum())
    wider_radius = None
    if request.strict_radius:
        rows = rows[near]
    elif within_radius < MINIMUM_SHOWN:
        order = np.argsort(distances[rows], kind="stable")
        extra = [r for r in rows[order] if not (distances[r] <= request.radius or not table.has_venue[r])]
        keep = set(rows[near | no_venue].tolist()) | set(extra[: MINIMUM_SHOWN - within_radius])
        rows = np.array(sorted(keep), dtype=np.int64)
        wider_radius = next((r for r in RADII if r > request.radius), None)
    else:
        rows = rows[near | no_venue]
    beyond = (distances[rows] > request.radius) & table.has_venue[rows]
    return rows, within_radius, wider_radius, set(rows[beyond].tolist()) if beyond.size else set()


def order_rows(rows: np.ndarray, sort: str, scores, distances, table: FacetTable) -> np.ndarray:
    """Order result rows: by relevance (nearer breaks ties), distance, or most recently checked."""
    if rows.size == 0:
        return rows
    if sort == "relevance" and scores is not None:
        key = -scores[rows]
        near = np.zeros(rows.size)
        if distances is not None:
            # Near the place, a close match beats a somewhat better one ten miles away
            # (relevance halves at 10 miles); services with no venue are not penalised.
            near = np.where(np.isfinite(distances[rows]), np.minimum(distances[rows], 60.0), 0.0)
            key = key / (1.0 + near / 10.0)
        # Equal relevance: nearer first, then the most recently checked.
        return rows[np.lexsort((-table.assured[rows], near, np.round(key, 9)))]
    if sort == "distance" and distances is not None:
        return rows[np.argsort(distances[rows], kind="stable")]
    return rows[np.argsort(-table.assured[rows], kind="stable")]


def suggest(engine, matches, words: list[str], total: int, said: list[str] | None = None,
            other_language: bool = False) -> str | None:
    """Offer "did you mean" only when results are few and some words are unknown to the index.

    Not for words typed with accents or in another script: the spelling graph holds words
    folded to plain letters, so its suggestion would lose the accents ("zajeciowa").
    """
    if matches is None or total >= FEW_RESULTS or not matches.unknown_words:
        return None
    if other_language:  # English spelling would mangle words of another language ("basen" -> "base")
        return None
    if any(typed != word for typed, word in zip(said or words, words)):
        return None
    corrected = [engine.suggest(word) or word for word in matches.unknown_words]
    if corrected == matches.unknown_words:
        return None
    return " ".join(corrected[matches.unknown_words.index(w)] if w in matches.unknown_words else w for w in words)


def run(service, request: SearchRequest) -> SearchResults:
    """Answer a search, reading one version of the index from start to end.

    With no index to read (none built yet, or one being replaced as we opened it),
    the search is answered from the filters alone: nothing matches words.
    """
    with ExitStack() as held:
        try:
            held.enter_context(service.engine.reading())
        except IndexUnavailable as error:
            current_app.logger.warning("Searching without the text index: %s", error)
            return answer(service, request, readable=False)
        return answer(service, request)


def answer(service, request: SearchRequest, readable: bool = True) -> SearchResults:
    """Answer a search: text, place, filters, counts, sorting and one page of hits."""
    sources: SearchSources = service.sources
    timings: dict[str, float] = {}
    started = time.perf_counter()
    table = service.table()
    understood, place, place_error = read_request(request, sources, table, service.synonyms())
    # Only what the parent picked filters; what we read in their words is a preference.
    age = request.age
    days = list(request.days)
    timings["understand"] = time.perf_counter() - started

    words = understood.words
    if readable:
        service.warm_if_new()
    text_mask, scores, matches = match_text(service, table, words, readable) if words else (None, None, None)
    fit = preferences(table, understood)
    if fit is not None and understood.hints and readable:
        hinted = service.engine.match([[[word] for word in understood.hints]])
        fit = fit * np.where(table.mask_of_ids(hinted.listings), HINTED, 1.0)
    if fit is not None:
        # Preferences weigh against text relevance on a gentler scale (square root of the share of the
        # best score): a listing strongly about ADHD but not on Saturdays does not outrank an ADHD-friendly
        # Saturday club.
        # When the words match much of the directory ("disabled"), they say little: the preferences lead.
        best = scores.max() if scores is not None and scores.size else 0.0
        generic = text_mask is not None and text_mask.sum() > GENERIC_SHARE * max(1, table.size)
        if scores is not None and best > 0:
            scores = (scores / best) ** (0.25 if generic else 0.5)
        scores = fit if scores is None else scores * fit
    timings["text"] = time.perf_counter() - started

    groups = filter_masks(table, request, age, days, sources)
    base = text_mask if text_mask is not None else table.everything()
    # Listings long overdue for review are hidden from results and counts until confirmed.
    cutoff = sources.hidden_cutoff()
    if cutoff is not None:
        base = base & table.reviewed_mask(cutoff)
    combined = base.copy()
    for mask in groups.values():
        combined &= mask
    counts = {} if request.ids_only else count_options(table, base, groups, sources)
    timings["filters"] = time.perf_counter() - started

    distances = table.nearest_miles(place.latitude, place.longitude) if place else None
    sort = choose_sort(request, words or ([""] if fit is not None else []), place)
    rows = np.flatnonzero(combined)
    within_radius = wider_radius = None
    beyond: set[int] = set()
    if place is not None and request.radius:
        rows, within_radius, wider_radius, beyond = apply_radius(rows, table, distances, request)
    rows = order_rows(rows, sort, scores, distances, table)
    total = len(rows)
    relaxed = bool(matches and matches.relaxed)
    if request.ids_only:
        return SearchResults(
            request=request, hits=[], total=total, page=1, pages=1, sort=sort, words=words, place=place,
            place_error=place_error, guesses=understood.guesses, counts={},
            information_pages=[], suggestion=None, relaxed=relaxed,
            within_radius=within_radius, wider_radius=None, timings=timings,
            ids=[table.ids[r] for r in rows])
    pages = max(1, -(-total // request.per_page))
    if request.page > pages and total:
        raise SearchError(_("There are only %(pages)s pages of results.", pages=pages))
    page_rows = rows[(request.page - 1) * request.per_page: request.page * request.per_page]
    loaded = sources.load_listings([table.ids[r] for r in page_rows])
    hits = [Hit(loaded[table.ids[r]], float(scores[r]) if scores is not None else 0.0,
                float(distances[r]) if distances is not None and np.isfinite(distances[r]) else None,
                r in beyond, table.nearest_point(r, place))
            for r in page_rows if table.ids[r] in loaded]
    timings["page"] = time.perf_counter() - started

    suggestion = suggest(service.engine, matches, words, total, understood.said, understood.other_language)
    timings["total"] = time.perf_counter() - started
    return SearchResults(
        request=request, hits=hits, total=total, page=request.page, pages=pages, sort=sort,
        words=words, place=place, place_error=place_error,
        guesses=understood.guesses, counts=counts,
        information_pages=matches.pages[:3] if matches else [], suggestion=suggestion,
        relaxed=relaxed, within_radius=within_radius, wider_radius=wider_radius, timings=timings,
        said=understood.said)
