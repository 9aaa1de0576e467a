"""Relevance bench (issue 14): our search against SQLite FTS5 and SQL LIKE on judged query sets.

    python bench/relevance.py [--set heldout-norfolk|heldout-north-lincolnshire|tuning-demo|tuning-bristol|tuning|all]
                              [--pool FILE]

Two kinds of set live in bench/relevance/:

* the FROZEN held-out sets (heldout-norfolk, heldout-north-lincolnshire): listings from an ORUK
  feed. Never tune search on them; they say whether tuning carried over.
* the TUNING sets: tuning-demo, the demo directory (content/demo/), and tuning-bristol, the real
  Bristol ORUK v1 feed (read from ../shared/oruk-samples/v1-real/, never copied into the project,
  skipped when absent, built like North Lincolnshire's). Tuning on them is allowed.

``--set all`` (the default, and what ``make bench`` runs) means the held-out sets only; ask for a
tuning set by name, or ``--set tuning`` for both. Held-out and tuning results are printed in
separate tables.

For each set it makes a throwaway site (SQLite in a temporary instance folder; the code is in
bench/relevance_site.py). A held-out set's site is set up the way a new council's would be:
`flask db upgrade`, `flask geo build` (the set's postcode areas), `flask content load --no-demo`
(vocabularies and synonyms, no demo directory), then the set's listings through
`flask oruk import FILE --apply --publish` and `flask index rebuild`. The tuning set's site is
the demo site `make run` makes: `flask db upgrade`, `flask geo build` (the default postcode areas,
ST,WS,DE,B,WV,DY,CW,SK, and their neighbours), `flask content load --demo` (which also builds
the areas of the demo's venues further away) and `flask index rebuild`.
The commands run in this process through Flask's CLI runner, so they are exactly the commands a
council runs.

Every query is then answered three ways, top 10 each:

* ours: the v1 API, ``GET /api/v1/services?text=...&per_page=10`` through the test client. A
  query's ``where`` goes in ``postcode`` when it is a postcode or outward code; a town cannot go
  in the API's ``postcode``, so it is added to the words ("autism swimming Norwich"), which is how
  a family using the API would ask and what our query understanding reads places from. ``age``
  goes in ``minimum_age`` and ``maximum_age`` (the API's hard age filter, as if picked in the age
  box). The API has no cost parameter; the cost queries carry "free" or "cheap" in their words.
* FTS5: a plain SQLite FTS5 table built in memory from the database after the import (each
  published listing's name, description as text (the stored HTML's tags dropped), and the names of
  its category and need terms), queried with every word of the query joined by OR, ordered by bm25.
* LIKE: published listings whose name or description (the same text, in an in-memory SQLite
  table) contains any word of the query of 3 or more letters, ordered by the number of words
  matched (then by name).

The baselines are deliberately plain words: no place, age or cost understanding and no hard
filters, even where the query gives an age or a cost. That is the baseline issue 14 measures
against; ours gets the same words plus the where and age a family would have entered.

Grades (0-3, ``grades.yaml`` beside the queries, keyed by the feed's service ids, or for the
tuning set by the demo listings' ids in content/demo/*.yaml) are mapped to the database's
listings with ``stable_id(id, "service")``, the id the importer (and the demo loader, which goes
through the importer) gives them; the bench checks every listing of the source is found under
that id. Metrics per set, method and kind:
nDCG@10 (gain = grade, ideal from every graded listing of the query; queries with no graded
listing are left out), success@3 (a listing graded 2 or 3 in the top 3; queries with no listing
graded 2 or more are left out) and, for "no-answer" queries, the average number of results
returned (ours: the API's ``totalElements``; the baselines: every listing matched).

A set with no grades yet (North Lincolnshire) only gets counts of results returned; ``--pool FILE``
writes the pooled candidates (the union of the three top 10s, per query, with each listing's
name and the first 300 characters of its description) as YAML for a person to grade.

The held-out sets are FROZEN: never tune search on them (see their READMEs); tune on the tuning sets
(tuning-demo, tuning-bristol).
Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from relevance_site import (TOP, Answer, ask_fts, ask_like, ask_ours, baseline_tables,  # noqa: E402
                            build_site, published, say)  # (bench modules sit beside this script)

HERE = ROOT / "bench" / "relevance"
DEMO = ROOT / "content" / "demo"
METHODS = ("ours", "fts5", "like")


@dataclass
class JudgedSet:
    """One judged set: its queries, where its listings come from (an ORUK feed, or the demo directory
    when ``feed`` is None), its grades (if any), the postcode areas it needs and whether it is held out."""

    name: str
    feed: Path | None
    areas: str
    grades: Path | None = None
    heldout: bool = True

    @property
    def queries(self) -> Path:
        return HERE / self.name / "queries.yaml"


SETS = {
    "heldout-norfolk": JudgedSet(
        "heldout-norfolk", HERE / "heldout-norfolk" / "listings.json", "NR,PE,IP",
        HERE / "heldout-norfolk" / "grades.yaml"),
    # Read from beside the project, never copied into it; the feed has no venues, so DN is only for the gazetteer.
    "heldout-north-lincolnshire": JudgedSet(
        "heldout-north-lincolnshire",
        ROOT.parent / "shared" / "oruk-samples" / "v1-real" / "north-lincolnshire-council-services.json", "DN",
        HERE / "heldout-north-lincolnshire" / "grades.yaml"),
    # The demo directory, loaded by `flask content load`; the areas are the configured default the demo is made for.
    "tuning-demo": JudgedSet(
        "tuning-demo", None, "ST,WS,DE,B,WV,DY,CW,SK", HERE / "tuning-demo" / "grades.yaml", heldout=False),
    # A second tuning set over a real feed, read from beside the project like North Lincolnshire's (skipped when
    # absent); BS is only for the gazetteer, the feed has no venues.
    "tuning-bristol": JudgedSet(
        "tuning-bristol",
        ROOT.parent / "shared" / "oruk-samples" / "v1-real" / "bristol-council-services.json", "BS",
        HERE / "tuning-bristol" / "grades.yaml", heldout=False),
}
HELDOUT = [name for name, chosen in SETS.items() if chosen.heldout]
TUNING = [name for name, chosen in SETS.items() if not chosen.heldout]


@dataclass
class Outcome:
    """Everything measured on one set."""

    name: str
    queries: list[dict]
    answers: dict[str, dict[str, Answer]] = field(default_factory=dict)  # query id -> method -> answer
    grades: dict[str, dict[str, int]] | None = None  # query id -> listing id -> grade
    heldout: bool = True


def has_grades(chosen: JudgedSet) -> bool:
    return bool(chosen.grades and chosen.grades.exists())


# --- grades --------------------------------------------------------------------------------------------


def source_ids(chosen: JudgedSet) -> list[str]:
    """The ids the set's grades use: the feed's service ids, or the demo listings' ids."""
    if chosen.feed is not None:
        return feed_ids(chosen.feed)
    return demo_ids(DEMO)


def demo_ids(folder: Path) -> list[str]:
    """The ids of every demo listing (content/demo/*.yaml), as the demo loader reads them."""
    found = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found += [str(entry["id"]) for entry in data.get("listings", []) or []
                  if isinstance(entry, dict) and entry.get("id")]
    return found


def feed_ids(feed: Path) -> list[str]:
    """The service ids in an ORUK feed file (an array of services, or a v1 page with ``content``)."""
    data = json.loads(feed.read_text(encoding="utf-8"))
    items = data.get("content", []) if isinstance(data, dict) else data
    return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id") is not None]


def map_ids(chosen: JudgedSet, listing_ids: set[str]) -> dict[str, str]:
    """Source id (feed service or demo listing) -> database listing id, checked: every one must be found."""
    from local_offer.interchange.fields import stable_id

    mapping = {identifier: stable_id(identifier, "service") for identifier in source_ids(chosen)}
    missing = [identifier for identifier, listing_id in mapping.items() if listing_id not in listing_ids]
    source = "services in the feed" if chosen.feed is not None else "listings in content/demo"
    say(f"  ids: {len(mapping)} {source}, {len(mapping) - len(missing)} found as public listings "
        f"through stable_id(id, 'service')" + (f"; NOT FOUND: {', '.join(missing[:10])}" if missing else ""))
    return mapping


def load_grades(path: Path, mapping: dict[str, str]) -> dict[str, dict[str, int]]:
    """Grades keyed by query id and imported listing id."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    graded, unknown = {}, []
    for query_id, listings in raw.items():
        graded[str(query_id)] = {}
        for feed_id, grade in (listings or {}).items():
            if str(feed_id) not in mapping:
                unknown.append(str(feed_id))
                continue
            graded[str(query_id)][mapping[str(feed_id)]] = int(grade)
    if unknown:
        say(f"  WARNING: grades name {len(unknown)} ids not in the source: {', '.join(sorted(set(unknown))[:10])}")
    return graded


def ndcg(ranked: list[str], grades: dict[str, int]) -> float | None:
    """nDCG@10 with gain = grade; None when nothing is graded for the query."""
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:TOP]
    if not ideal:
        return None
    dcg = sum(grades.get(identifier, 0) / math.log2(rank + 2) for rank, identifier in enumerate(ranked[:TOP]))
    best = sum(grade / math.log2(rank + 2) for rank, grade in enumerate(ideal))
    return dcg / best


def success(ranked: list[str], grades: dict[str, int]) -> float | None:
    """1 when a listing graded 2 or 3 is in the top 3; None when no listing is graded 2 or more."""
    if not any(grade >= 2 for grade in grades.values()):
        return None
    return 1.0 if any(grades.get(identifier, 0) >= 2 for identifier in ranked[:3]) else 0.0


# --- one set -------------------------------------------------------------------------------------------


def run_set(chosen: JudgedSet, pool: Path | None, keep: bool) -> Outcome | None:
    """Build the site, ask every query three ways, and return what was found."""
    say(f"\n== {chosen.name} ==")
    if chosen.feed is not None and not chosen.feed.exists():
        say(f"  skipped: {chosen.feed} is absent (the feed is read from there, never copied into the project)")
        return None
    queries = yaml.safe_load(chosen.queries.read_text(encoding="utf-8"))
    say(f"  {len(queries)} queries; listings from {chosen.feed or DEMO.relative_to(ROOT)} "
        f"({'held out, FROZEN' if chosen.heldout else 'tuning set'})")
    folder = tempfile.mkdtemp(prefix=f"lo-relevance-{chosen.name}-")
    say(f"  throwaway site in {folder} (SQLite; postcode areas {chosen.areas})")
    try:
        app = build_site(chosen, folder)
        from local_offer.extensions import db
        from local_offer.search import SearchRequest, get_service

        outcome = Outcome(chosen.name, queries, heldout=chosen.heldout)
        client = app.test_client()
        with app.app_context():
            rows = published(db)
            listing_ids = {row[0] for row in rows}
            mapping = map_ids(chosen, listing_ids)
            if has_grades(chosen):
                outcome.grades = load_grades(chosen.grades, mapping)
                say(f"  grades: {chosen.grades.relative_to(ROOT)} ({len(outcome.grades)} queries)")
            else:
                say("  grades: MISSING for this set (only counts of results returned are shown)")
            connection = baseline_tables(rows)
            service = get_service()
            service.search(SearchRequest(text="warm"))
            service.wait_until_warm()
            started = time.perf_counter()
            for number, query in enumerate(queries, 1):
                outcome.answers[query["id"]] = {
                    "ours": ask_ours(client, query),
                    "fts5": ask_fts(connection, query["text"]),
                    "like": ask_like(connection, query["text"]),
                }
                if number % 10 == 0 or number == len(queries):
                    say(f"  asked {number}/{len(queries)} queries three ways ({time.perf_counter() - started:.1f} s)")
            if pool:
                write_pool(pool, chosen, outcome, rows, mapping)
        return outcome
    finally:
        if keep:
            say(f"  kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def write_pool(pool: Path, chosen: JudgedSet, outcome: Outcome, rows, mapping: dict[str, str]) -> None:
    """Write the pooled candidates per query (union of the three top 10s) for a person to grade."""
    by_listing = {row[0]: row for row in rows}
    feed_id = {listing_id: identifier for identifier, listing_id in mapping.items()}
    document = {}
    for query in outcome.queries:
        answers = outcome.answers[query["id"]]
        candidates = {}
        for method in METHODS:
            for listing_id in answers[method].ids:
                row = by_listing.get(listing_id)
                candidates.setdefault(feed_id.get(listing_id, listing_id), {
                    "listing_id": listing_id,
                    "name": row[1] if row else "",
                    "description": (row[2] if row else "")[:300],
                })
        # Sorted by name, and without saying which way found each, so the grader reads the listings blind.
        candidates = dict(sorted(candidates.items(), key=lambda item: (item[1]["name"].lower(), item[0])))
        document[query["id"]] = {"text": query["text"], "kind": query["kind"], "need": query.get("need", ""),
                                 "candidates": candidates}
    header = (f"# Pooled candidates for {chosen.name}: per query, the union of the top {TOP} of ours, FTS5 and LIKE.\n"
              f"# Keys are the feed's service ids, or the demo listings' ids (the database id is stable_id(id, 'service')).\n"
              f"# Listed by name, not saying which way found them. Grade each 0-3 by reading the listing;\n"
              f"# grades go in a separate file {{query_id: {{service_id: grade}}}}, which the bench reads as grades.yaml.\n")
    text = header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
    target = pool
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    say(f"  pool: {sum(len(q['candidates']) for q in document.values())} candidates for {len(document)} queries "
        f"written to {target}")


# --- the table ------------------------------------------------------------------------------------------


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def cell(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def summarise(outcome: Outcome) -> list[list[str]]:
    """Rows of the table for one set: per kind, then all kinds."""
    kinds = []
    for query in outcome.queries:
        if query["kind"] not in kinds:
            kinds.append(query["kind"])
    rows = []
    for kind in kinds + ["all"]:
        chosen = [q for q in outcome.queries if kind == "all" or q["kind"] == kind]
        row = [outcome.name, kind, str(len(chosen))]
        if outcome.grades is not None:
            for metric in (ndcg, success):
                for method in METHODS:
                    values = [metric(outcome.answers[q["id"]][method].ids, outcome.grades.get(q["id"], {}))
                              for q in chosen]
                    row.append(cell(mean([v for v in values if v is not None])))
            scored = [q for q in chosen if ndcg([], outcome.grades.get(q["id"], {})) is not None]
            row.insert(3, str(len(scored)))
        none = [q for q in chosen if q["kind"] == "no-answer"]
        for method in METHODS:
            row.append(cell(mean([outcome.answers[q["id"]][method].total for q in none]), 1))
        if outcome.grades is None:
            for method in METHODS:
                row.append(cell(mean([outcome.answers[q["id"]][method].total for q in chosen]), 1))
            for method in METHODS:
                row.append(str(sum(1 for q in chosen if outcome.answers[q["id"]][method].total == 0)))
        rows.append(row)
    return rows


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(v).ljust(w) if i < 2 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths)))
    say(line(header))
    say("  ".join("-" * w for w in widths))
    for row in rows:
        say(line(row))


def report(outcomes: list[Outcome]) -> None:
    graded = [o for o in outcomes if o.grades is not None]
    ungraded = [o for o in outcomes if o.grades is None]
    header = ["set", "kind", "n", "graded", "nDCG ours", "nDCG FTS5", "nDCG LIKE", "S@3 ours", "S@3 FTS5",
              "S@3 LIKE", "no-ans ours", "no-ans FTS5", "no-ans LIKE"]
    for heldout, title in ((True, "HELD-OUT sets (FROZEN: never tune on these)"),
                           (False, "TUNING sets (the demo directory, the Bristol feed; tuning on them is allowed)")):
        chosen = [o for o in graded if o.heldout == heldout]
        if not chosen:
            continue
        say(f"\n{title}. Relevance (nDCG@10, gain = grade 0-3; success@3 = a grade >= 2 in the top 3; "
            f"no-answer = average results returned)")
        print_table(header, [row for o in chosen for row in summarise(o)])
    if graded:
        say("n = queries; graded = queries with a listing graded >= 1 (the nDCG queries); success@3 leaves out "
            "queries with no listing graded >= 2; no-answer columns average over the kind's no-answer queries.")
    for outcome in ungraded:
        say(f"\n{outcome.name}: grades are MISSING, so no nDCG or success@3; results returned only "
            f"(use --pool FILE to write the candidates for grading)")
        header = ["set", "kind", "n", "no-ans ours", "no-ans FTS5", "no-ans LIKE", "avg ours", "avg FTS5",
                  "avg LIKE", "zero ours", "zero FTS5", "zero LIKE"]
        print_table(header, summarise(outcome))
        say("avg = average results returned per query (ours: totalElements); zero = queries with no result.")


def per_query(outcome: Outcome) -> None:
    """One line per query: nDCG@10 of each way and how many results ours returned (for studying failures)."""
    say(f"\n{outcome.name}{'' if outcome.grades is not None else ' (no grades)'}: per query "
        f"(nDCG@10 ours / FTS5 / LIKE; ours = results our search returned)")
    for query in outcome.queries:
        grades = (outcome.grades or {}).get(query["id"], {})
        scores = [cell(ndcg(outcome.answers[query["id"]][method].ids, grades)) for method in METHODS]
        extra = "".join(f" {key}={query[key]}" for key in ("where", "age", "cost") if query.get(key) is not None)
        say(f"  {query['id']:<8} {query['kind']:<10} {' / '.join(scores):<18} "
            f"ours={outcome.answers[query['id']]['ours'].total:<4} {query['text']}{extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*SETS, "all", "tuning"], default="all",
                        help="which set (default all: the held-out sets only; tuning: both tuning sets, "
                             "tuning-demo and tuning-bristol)")
    parser.add_argument("--pool", type=Path, help="write pooled candidates to this YAML file (for sets without grades; "
                                                  "when several sets are pooled, one file per set beside it)")
    parser.add_argument("--pool-all", action="store_true", help="with --pool, pool graded sets too")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway instance folders")
    parser.add_argument("--per-query", action="store_true", help="also print each query's nDCG@10 and result count")
    options = parser.parse_args()
    names = HELDOUT if options.set == "all" else TUNING if options.set == "tuning" else [options.set]
    pooled = [name for name in names if options.pool and (options.pool_all or not has_grades(SETS[name]))]
    outcomes = []
    for name in names:
        pool = None
        if name in pooled:  # more than one set pooled: one file per set, named after it
            pool = options.pool if len(pooled) == 1 else \
                options.pool.with_name(f"{options.pool.stem}-{name}{options.pool.suffix or '.yaml'}")
        outcome = run_set(SETS[name], pool, options.keep)
        if outcome is not None:
            outcomes.append(outcome)
    if options.pool and not pooled:
        say("\nNo pool written: every set asked has grades (add --pool-all to pool them anyway).")
    if options.per_query:
        for outcome in outcomes:
            per_query(outcome)
    report(outcomes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
