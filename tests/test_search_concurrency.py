"""The search index under concurrent writes: one version per search, no lost changes, nothing left behind.

Two ``SearchService`` objects on one index folder are two workers; another
``Engine`` writing between the steps of a search, or a publish injected between
a rebuild's document pass and its switch, make the races of issue 13 happen
every time rather than now and then.  (Timings belong in ``bench/``.)
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import update

from local_offer.extensions import db
from local_offer.models import Listing, SearchChange, record_change, utcnow
from local_offer.search import SearchRequest, SearchService, get_service
from local_offer.search import engine as engine_module
from local_offer.search import service as service_module
from local_offer.search_sources import DirectorySources

from support import PHONE_LINE, SWIM, text_of


def another_worker(app) -> SearchService:
    """Return a second process's search service over the same index folder."""
    return SearchService(Path(app.instance_path) / "search", DirectorySources())


def found_ids(service: SearchService, text: str, **filters) -> list[str]:
    """Return the ids of every listing a search finds."""
    return [hit.listing.id for hit in service.search(SearchRequest(text=text, per_page=50, **filters)).hits]


def index_folder(app) -> Path:
    """Return the index folder of the app's instance."""
    return Path(app.instance_path) / "search"


def publish_name(listing_id: str, name: str) -> None:
    """Change a listing's name the way publishing does: the edit and its outbox row in one commit."""
    listing = db.session.get(Listing, listing_id)
    listing.name = name
    record_change(listing_id)
    db.session.commit()


# --- one version per search ---------------------------------------------------------------------


def test_a_search_reads_one_index_version_even_when_a_write_lands_midway(demo, app, monkeypatch, caplog):
    """Another worker's commit between scoring and reading document ids cannot mix two versions.

    Before: the engine refreshed its searcher at each step, so document numbers from
    one version were looked up in another's ids (IndexError, or the wrong listings).
    """
    service = get_service()
    other = another_worker(app)
    documents, _ = DirectorySources().documents(sorted(DirectorySources().expected_ids()))
    reordered = [service_module.engine_fields(document) for document in reversed(documents)]
    run = engine_module.Engine._run
    written = []

    def scored_then_written(query, searcher):
        found = run(query, searcher)
        if not written:  # meanwhile the other worker rewrites every document, enough times for merges
            for _ in range(12):  # to renumber them
                other.engine.write(reordered, [])
                reordered.reverse()
            written.append(True)
        return found

    monkeypatch.setattr(engine_module.Engine, "_run", staticmethod(scored_then_written))
    hits = service.search(SearchRequest(text="swim")).hits
    assert written and SWIM in [hit.listing.id for hit in hits]  # the version the search began with
    assert "changed under a search" not in caplog.text  # answered in one go, not by retrying
    monkeypatch.undo()
    assert SWIM in [hit.listing.id for hit in service.search(SearchRequest(text="swim")).hits]  # the new version
    other.engine.close()


@pytest.mark.parametrize("error", [FileNotFoundError("_MAIN_7.toc"), IndexError("docnum"), "ReaderClosed"])
def test_a_version_vanishing_under_a_search_is_retried_once_on_the_live_one(demo, monkeypatch, error):
    """What a reader meets when files vanish under it never reaches a request."""
    from whoosh.reading import ReaderClosed

    error = ReaderClosed() if error == "ReaderClosed" else error
    service = get_service()
    documents = engine_module.Engine._documents
    raised = []

    def vanishing(self, *args):
        if not raised:
            raised.append(True)
            raise error
        return documents(self, *args)

    monkeypatch.setattr(engine_module.Engine, "_documents", vanishing)
    results = service.search(SearchRequest(text="swim"))
    assert raised and SWIM in [hit.listing.id for hit in results.hits]


def test_searching_while_another_thread_publishes_never_errors(demo, app):
    """A thread writing the index over and over never makes a search fail or lose a listing."""
    service = get_service()
    other = another_worker(app)
    documents, _ = DirectorySources().documents(sorted(DirectorySources().expected_ids()))
    fields = [service_module.engine_fields(document) for document in documents]
    stop, failures = threading.Event(), []

    def publisher():
        try:
            while not stop.is_set():
                other.engine.write(fields, [])  # replaces every document: new segments, merges, new numbers
                fields.reverse()
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)

    thread = threading.Thread(target=publisher)
    thread.start()
    try:
        for _ in range(60):
            assert SWIM in [hit.listing.id for hit in service.search(SearchRequest(text="swim")).hits]
    finally:
        stop.set()
        thread.join()
        other.engine.close()
    assert not failures


# --- readers never create, switch or delete -------------------------------------------------------


def test_a_reader_never_creates_switches_or_deletes_an_index(demo, app):
    """With the pointer naming a generation that has just gone, a search leaves the folder alone.

    Before: the read path created an empty index, switched to it and deleted the others.
    """
    service = get_service()
    service.engine.close()
    folder = index_folder(app)
    live = service.engine.generation()
    (folder / "CURRENT").write_text("gen-99")  # a rebuild's generation removed after we read the pointer
    before = sorted(p.name for p in folder.iterdir())
    everything = service.search(SearchRequest()).total
    results = service.search(SearchRequest(text="swim"))
    assert results.total == 0  # no words can match without an index, but the page answers
    assert everything and service.search(SearchRequest(free=True)).total  # filters alone still work
    assert sorted(p.name for p in folder.iterdir()) == before and (folder / live).is_dir()
    (folder / "CURRENT").write_text(live)
    assert SWIM in [hit.listing.id for hit in service.search(SearchRequest(text="swim")).hits]


def test_without_any_index_a_search_answers_and_creates_nothing(app):
    """No index yet: searches answer from the filters; only a writer builds one."""
    service = get_service()
    assert service.search(SearchRequest(text="swim")).total == 0
    assert not index_folder(app).exists() or not any(index_folder(app).iterdir())
    assert service.ensure_index() is True
    assert service.engine.generation() is not None


def test_a_search_keeps_reading_its_version_across_a_rebuild(demo, app):
    """A reader still using the previous generation can finish: it is kept until the next switch."""
    service = get_service()
    other = another_worker(app)
    with service.engine.reading() as version:
        other.rebuild()
        assert version.generation != service.engine.generation()
        assert SWIM in service.engine.match([[["swim"]]]).listings
    assert service.engine.version_key()[0] == version.generation  # the next search moves on
    assert SWIM in [hit.listing.id for hit in service.search(SearchRequest(text="swim")).hits]
    assert service.engine.version_key()[0] == other.engine.generation()
    other.engine.close()


# --- rebuilds lose nothing -------------------------------------------------------------------------


def test_a_rebuild_keeps_changes_published_while_it_ran(demo, app, monkeypatch):
    """Changes published during a rebuild, synced or not by another worker, are in the new generation.

    Before: a change another worker indexed into the old generation (and marked
    indexed) while the rebuild ran was dropped at the switch, and nothing noticed.
    """
    service = get_service()
    other = another_worker(app)
    documents = service.sources.all_documents

    def then_publish(progress=None):
        yield from documents(progress)
        # Between the rebuild's document pass and its switch:
        publish_name(SWIM, "Otters kayak adventures")
        assert other.sync() == (1, 0)  # another worker indexes it into the generation being replaced
        publish_name(PHONE_LINE, "Helpline canoe advice")  # and one nobody has indexed yet

    monkeypatch.setattr(service.sources, "all_documents", then_publish)
    service.rebuild()
    monkeypatch.undo()
    assert found_ids(service, "kayak") == [SWIM]
    assert found_ids(service, "canoe") == [PHONE_LINE]
    assert not service.waiting()
    assert service.check(repair=False) == {"missing": [], "extra": [], "stale": []}
    other.engine.close()


def test_a_sync_waits_for_a_rebuild_switching_and_writes_into_the_new_generation(demo, app, monkeypatch):
    """A sync that reaches the writer lock while a rebuild replays lands in the generation that goes live."""
    service = get_service()
    other = another_worker(app)
    waited, workers, results = [], [], []
    switch_to = service.engine.generations.switch_to

    def switch_after_a_publish(name):
        publish_name(SWIM, "Otters kayak adventures")  # after the replay read the outbox
        worker = threading.Thread(target=lambda: results.append(_sync_in(app, other)))
        worker.start()
        worker.join(0.5)  # it cannot write while the rebuild holds the lock
        waited.append(worker.is_alive())
        workers.append(worker)
        switch_to(name)

    monkeypatch.setattr(service.engine.generations, "switch_to", switch_after_a_publish)
    service.rebuild()
    workers[0].join(30)
    assert waited == [True] and results == [(1, 0)]
    assert found_ids(service, "kayak") == [SWIM]
    other.engine.close()


def _sync_in(app, service: SearchService):
    """Run a sync in an app context of its own (another thread)."""
    with app.app_context():
        result = service.sync()
        db.session.remove()
        return result


# --- check finds stale content and leftovers --------------------------------------------------------


def test_check_finds_stale_content_and_repairs_it(demo, runner):
    """A listing changed without its outbox row is stale in the index: check says so and repairs it."""
    service = get_service()
    db.session.execute(update(Listing).where(Listing.id == SWIM).values(name="Otters kayak adventures"))
    db.session.commit()
    assert service.check(repair=False)["stale"] == [SWIM]
    output = runner.invoke(args=["index", "check"]).output
    assert "indexed with old content: 1" in output and "Repaired." in output
    assert found_ids(service, "kayak") == [SWIM]
    assert service.check(repair=False) == {"missing": [], "extra": [], "stale": []}


def test_a_crashed_rebuilds_partial_generation_is_removed_by_the_next_check(demo, app, runner):
    """A generation a rebuild left unfinished goes; the live one, the previous one and one being built stay."""
    from whoosh import index as whoosh_index

    service = get_service()
    folder = index_folder(app)
    live = service.engine.generation()
    (folder / "gen-41").mkdir()
    whoosh_index.create_in(str(folder / "gen-41"), engine_module.make_schema())  # crashed before its switch
    (folder / "gen-42").mkdir()  # crashed before writing anything
    building, lock = service.engine.generations.start_building()  # a rebuild running right now
    try:
        output = runner.invoke(args=["index", "check"]).output
        assert "Removed gen-41" in output and "Removed gen-42" in output
        left = sorted(p.name for p in folder.iterdir() if p.is_dir())
        assert left == sorted([live, building])
    finally:
        service.engine.generations.finish_building(building, lock, keep=False)
    service.rebuild()
    service.rebuild()
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == sorted(
        [service.engine.generations.previous(), service.engine.generation()])


# --- every worker sees changes -------------------------------------------------------------------------


def test_a_long_lived_worker_sees_bulk_changes_after_a_rebuild_elsewhere(demo, app):
    """After bulk changes without outbox rows and a rebuild in another process, the next search has them all.

    Before: the worker reopened the index but kept its filter arrays until restarted.
    """
    worker = another_worker(app)
    assert worker.search(SearchRequest(text="kayak")).total == 0
    everything = worker.search(SearchRequest()).total
    free_before = worker.search(SearchRequest(free=True)).total
    db.session.execute(update(Listing).values(name=Listing.name + " kayak", is_free=True))
    db.session.commit()
    get_service().rebuild()  # `flask index rebuild` in another process
    assert worker.search(SearchRequest(text="kayak", free=True)).total == everything > free_before
    worker.engine.close()


def test_a_long_lived_app_renders_cards_afresh_after_a_rebuild_elsewhere(demo, app, client):
    """A bulk change (no listing version bumped) and a rebuild: the next results page shows the new text."""
    assert "kayak lessons" not in text_of(client.get("/search?q=swim"))  # its card is now cached
    db.session.execute(update(Listing).where(Listing.id == SWIM).values(summary="Now with kayak lessons"))
    db.session.commit()
    other = another_worker(app)
    other.rebuild()  # `flask index rebuild` in another process
    assert "Now with kayak lessons" in text_of(client.get("/search?q=swim"))
    other.engine.close()


def test_a_failed_index_write_is_retried_by_the_next_search(demo, app, monkeypatch):
    """A change whose index write failed is indexed by a later search, without cron or another publish."""
    service = get_service()
    write = service.engine.write

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(service.engine, "write", broken)
    publish_name(SWIM, "Otters kayak adventures")
    assert service.sync() == (0, 1)
    monkeypatch.setattr(service.engine, "write", write)
    app.config["SEARCH_RETRY_AFTER_SECONDS"] = 0  # the row is "old enough" at once
    worker = another_worker(app)
    assert found_ids(worker, "kayak") == [SWIM]
    assert not worker.waiting()
    worker.engine.close()


def test_a_change_committed_late_during_a_rebuild_is_not_settled_unindexed(demo, app, monkeypatch):
    """A transaction numbered before the rebuild began but committed after its document pass is replayed.

    On PostgreSQL a change's outbox number is taken when it is written, not when it
    commits, so a later change can be visible first.  Before: the rebuild settled
    every change up to the newest number it saw, marking this one indexed unindexed.
    (SQLite allows one writer at a time, so this cannot happen there.)
    """
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers: no change can commit out of order")
    service = get_service()
    late = db.engine.connect()
    transaction = late.begin()
    late.execute(update(Listing).where(Listing.id == SWIM).values(name="Otters kayak adventures",
                                                                  version=Listing.version + 1))
    late.execute(SearchChange.__table__.insert().values(document_id=SWIM, changed_at=utcnow(), attempts=0,
                                                        last_error=""))
    publish_name(PHONE_LINE, "Helpline canoe advice")  # a later number, committed first
    documents = service.sources.all_documents

    def then_commit(progress=None):
        yield from documents(progress)  # read the old name
        transaction.commit()

    monkeypatch.setattr(service.sources, "all_documents", then_commit)
    try:
        service.rebuild()
    finally:
        late.close()
    monkeypatch.undo()
    assert found_ids(service, "kayak") == [SWIM]
    assert found_ids(service, "canoe") == [PHONE_LINE]


def test_a_search_time_retry_never_waits_for_another_writer(demo, app):
    """While another writer holds the lock, the retry gives up at once; a later search indexes the change."""
    service = get_service()
    publish_name(SWIM, "Otters kayak adventures")  # its publisher's sync never ran
    app.config["SEARCH_RETRY_AFTER_SECONDS"] = 0
    holder = another_worker(app)
    held, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with holder.engine.writing():
            held.set()
            release.wait(60)

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    try:
        assert held.wait(60)
        assert service.sync(wait=False) == (0, 0)
        assert service.search(SearchRequest(text="kayak")).total == 0  # answered, not kept waiting
    finally:
        release.set()
        thread.join()
    later = another_worker(app)  # a worker whose next search looks at the outbox
    assert found_ids(later, "kayak") == [SWIM]
    later.engine.close()


def test_warming_stops_when_the_index_has_moved_on_since_it_was_asked_for(demo, app):
    """While changes keep coming, warming a version the next change replaces only slows searches.

    Before: the warmer scored every concept on whatever version was live when it ran,
    after every change, even though the next change threw the scores away.
    """
    service = get_service()
    wanted = service.warm_concepts()
    with service.engine.reading() as version:
        asked_for = version.key
    publish_name(SWIM, "Swimming for everyone (renamed)")
    service.sync()
    assert service.engine.warm(wanted, expected=asked_for) == 0
    with service.engine.reading() as version:
        now = version.key
        assert now != asked_for and not version.cache
    assert service.engine.warm(wanted, expected=now) > 0  # the index is quiet: this version is warmed
