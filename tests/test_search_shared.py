"""The facet table is built once and shared: a new process loads it and reads only the changes since.

Two ``SearchService`` objects on one instance folder are two worker processes.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from local_offer.extensions import db
from local_offer.models import Listing, record_change
from local_offer.search import SearchService, get_service
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
    seq, table = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps((seq + 1000, table)))
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
    seq, table = pickle.loads(path.read_bytes())  # saved again, whole
    table.ancestors = {"a term": ["one that is gone"]}
    path.write_bytes(pickle.dumps((seq, table)))
    third = another_worker(app)
    builds = count_full_builds(third)
    third.table()
    assert builds == [1]
