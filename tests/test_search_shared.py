"""The facet table is built once and shared: a new process loads it and reads only the changes since.

Two ``SearchService`` objects on one instance folder are two worker processes.
"""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import numpy as np

from local_offer.extensions import db
from local_offer.models import Listing, record_change
from local_offer.search import SearchService, get_service
from local_offer.search.facets import FacetTable, Record
from local_offer.search_sources import DirectorySources

from support import SWIM


def another_worker(app) -> SearchService:
    """Return a second process's search service over the same instance folder."""
    return SearchService(Path(app.instance_path) / "search", DirectorySources())


def count_full_builds(service: SearchService) -> list:
    """Record each time a service reads every listing's facts from the database."""
    builds = []
    reads = service.sources.facet_records

    class Counting(DirectorySources):
        def facet_records(self, ids=None):
            if ids is None:
                builds.append(1)
            return reads(ids)

    service.sources = Counting()
    return builds


def change_ages(listing_id: str, youngest: int, oldest: int) -> None:
    """Edit a listing's ages as an editor does: the edit and its outbox row in one commit."""
    listing = db.session.get(Listing, listing_id)
    listing.min_age, listing.max_age = youngest, oldest
    record_change(listing_id)
    db.session.commit()


def test_a_new_process_loads_the_table_another_built_and_reads_the_changes_since(demo, app):
    """The second worker reads no listing's facts in bulk, and still sees an edit made after the table was saved."""
    first = get_service()
    table = first.table()
    generation = first.engine.generation()
    saved = Path(app.instance_path) / "search-tables" / f"{generation}.table"
    assert saved.is_file()
    assert not (Path(app.instance_path) / "search" / saved.name).exists()  # beside the index, never in it
    change_ages(SWIM, 17, 18)
    second = another_worker(app)
    builds = count_full_builds(second)
    shared = second.table()
    assert builds == []
    assert shared.size == table.size and shared.ids == table.ids
    row = shared.row_of[SWIM]
    assert (shared.min_age[row], shared.max_age[row]) == (17, 18)
    assert (first.table().min_age[row], first.table().max_age[row]) == (17, 18)  # as the builder sees it too


def test_a_table_from_later_changes_than_the_database_has_is_not_used(demo, app):
    """A restored database (fewer changes than the saved table had seen) means building afresh."""
    first = get_service()
    first.table()
    generation = first.engine.generation()
    path = Path(app.instance_path) / "search-tables" / f"{generation}.table"
    state, table = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps(({**state, "through": state["through"] + 1000}, table)))
    second = another_worker(app)
    builds = count_full_builds(second)
    second.table()
    assert builds == [1]


def test_a_damaged_or_outdated_table_is_rebuilt(demo, app):
    """An unreadable file, or one built with other vocabularies, is ignored and replaced."""
    first = get_service()
    first.table()
    generation = first.engine.generation()
    path = Path(app.instance_path) / "search-tables" / f"{generation}.table"
    path.write_bytes(b"not a table")
    second = another_worker(app)
    builds = count_full_builds(second)
    second.table()
    assert builds == [1]
    state, table = pickle.loads(path.read_bytes())  # saved again, whole
    table.ancestors = {"a term": ["one that is gone"]}
    path.write_bytes(pickle.dumps((state, table)))
    third = another_worker(app)
    builds = count_full_builds(third)
    third.table()
    assert builds == [1]


def same_table(patched: FacetTable, built: FacetTable) -> None:
    """Assert two tables answer every filter, count and distance alike."""
    assert patched.ids == built.ids and patched.row_of == built.row_of and patched.size == built.size
    for name in ("min_age", "max_age", "assured", "review_due", "free", "in_area", "has_venue",
                 "venue_row", "venue_lat", "venue_lon"):
        assert np.array_equal(getattr(patched, name), getattr(built, name)), name
    for group, arrays in built.groups.items():
        for value, array in arrays.items():
            assert np.array_equal(patched.groups[group][value], array), (group, value)
    for term_id in patched.terms.keys() | built.terms.keys():
        assert np.array_equal(patched.term_mask(term_id), built.term_mask(term_id)), term_id


def random_record(rng: random.Random, listing_id: str, table: FacetTable, term_ids: list[str]) -> Record:
    """Return a record with random facts (and, one time in two, a new venue or two)."""
    return Record(
        id=listing_id, min_age=rng.randint(0, 10), max_age=rng.randint(11, 25), free=rng.random() < 0.5,
        funding=set(rng.sample(sorted(table.values["funding"]), 1)), in_area=rng.random() < 0.5,
        kind=rng.choice(table.values["kind"]), level=rng.choice(table.values["level"]),
        delivery=set(rng.sample(table.values["delivery"], 2)), days=set(rng.sample(table.values["day"], 2)),
        periods=set(rng.sample(table.values["period"], 1)), terms=set(rng.sample(term_ids, 3)),
        assured=rng.randint(700000, 740000), review_due=rng.randint(700000, 740000),
        venues=[] if rng.random() < 0.3 else [(52.8 + rng.random(), -2.1 + rng.random())
                                               for _ in range(rng.randint(1, 2))])


def test_changes_patch_the_table_into_the_one_a_full_build_would_make(demo):
    """Listings edited, removed and added patch copies of the arrays: the same table as built afresh.

    The table searches were reading is left as it was.
    """
    service = get_service()
    table = first = service.table()
    before = {name: getattr(first, name).copy() for name in ("min_age", "free", "venue_lat")}
    rng = random.Random(5)
    records = service.sources.facet_records()
    term_ids = sorted({term for record in records.values() for term in record.terms} | set(table.ancestors))
    assert table.size >= 5
    for number in range(30):
        changed = {listing_id: random_record(rng, listing_id, table, term_ids)
                   for listing_id in rng.sample(table.ids, 2)}
        if number % 3 == 1:
            changed.update({listing_id: None for listing_id in rng.sample(table.ids, 2)})
        if number % 3 == 2:
            for extra in range(3):
                changed[f"new-{number}-{extra}"] = random_record(rng, f"new-{number}-{extra}", table, term_ids)
            changed[f"never-there-{number}"] = None
        for listing_id, record in changed.items():
            if record is None:
                records.pop(listing_id, None)
            else:
                records[listing_id] = record
        table = table.with_changes(changed)
        same_table(table, FacetTable(dict(records), first.ancestors, first.values))
    for name, array in before.items():
        assert np.array_equal(getattr(first, name), array)


def test_a_loaded_table_applies_the_changes_since(demo, app):
    """A new process loads the arrays and patches the rows changed since: the same as a full build."""
    get_service().table()
    change_ages(SWIM, 3, 4)
    second = another_worker(app)
    builds = count_full_builds(second)
    updated = second.table()
    assert builds == []
    assert (updated.min_age[updated.row_of[SWIM]], updated.max_age[updated.row_of[SWIM]]) == (3, 4)
    fresh = another_worker(app)
    fresh.shared.folder = Path(app.instance_path) / "elsewhere"
    same_facts(updated, fresh.table())


def same_facts(patched: FacetTable, built: FacetTable) -> None:
    """Assert two tables hold the same facts for every listing, whatever order their rows are in.

    A full build reads rows in the database's order, which PostgreSQL changes when a row is updated;
    a patched table keeps its order.
    """
    assert sorted(patched.ids) == sorted(built.ids)
    by_id = lambda table, array: {i: array[table.row_of[i]] for i in table.ids}
    for name in ("min_age", "max_age", "assured", "review_due", "free", "in_area", "has_venue"):
        assert by_id(patched, getattr(patched, name)) == by_id(built, getattr(built, name)), name
    for group, arrays in built.groups.items():
        for value, array in arrays.items():
            assert by_id(patched, patched.groups[group][value]) == by_id(built, array), (group, value)
    for term_id in patched.terms.keys() | built.terms.keys():
        assert by_id(patched, patched.term_mask(term_id)) == by_id(built, built.term_mask(term_id)), term_id
    for point in ((52.80, -2.12), (53.10, -2.02), (52.60, -1.70)):
        assert by_id(patched, patched.nearest_miles(*point)) == by_id(built, built.nearest_miles(*point)), point
