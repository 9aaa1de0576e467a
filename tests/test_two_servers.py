"""Two app servers on one database: each keeps its own index on its own disk and follows the change feed.

The database (SQLite here, PostgreSQL with ``LOCAL_OFFER_TEST_DATABASE_URL``) is the source
of truth.  Server A is the test's app; server B is a second app with its own instance
folder, so its own index folder, as a second machine behind a load balancer would be.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import update

from local_offer import warmup
from local_offer.extensions import db
from local_offer.listings import data as listing_data
from local_offer.listings import workflow
from local_offer.models import Listing, SearchChange, record_change, utcnow
from local_offer.search import SearchRequest, get_service

from sites import build_app, stop_background_work
from support import SWIM

#: Generous: the follower looks every 0.2 s here, every 2 s by default.
LIMIT_SECONDS = 60


def names_found(client, text: str) -> str:
    """Return the results page a server answers for a search, as text."""
    response = client.get("/search", query_string={"q": text})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def wait_for(condition, limit: float = LIMIT_SECONDS) -> float:
    """Poll ``condition`` until it holds; return the seconds it took (fail past ``limit``)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit:
            pytest.fail(f"not true within {limit} seconds")
        time.sleep(0.1)
    return time.monotonic() - started


@pytest.fixture
def server_b(demo, main_site, tmp_path):
    """Start a second server on the same database with an empty disk; stop it after the test."""
    other = build_app(main_site.database.url, tmp_path / "server-b")
    other.config.update(SEARCH_FOLLOW_SECONDS=0.2, SEARCH_WARM=False)
    follower = warmup.follow(other)
    yield other
    follower.stop.set()
    follower.join(10)
    with other.app_context():
        stop_background_work(other)
        db.session.remove()
    with other.app_context():
        db.engine.dispose()


def test_a_change_published_through_one_server_is_found_through_the_other(demo, app, server_b):
    """B builds its index from the database on start, then finds a change published through A."""
    b_service = server_b.extensions["local_offer_search"]
    built = wait_for(lambda: b_service.engine.generation() is not None)
    assert Path(server_b.instance_path) / "search" != Path(app.instance_path) / "search"
    client_b = server_b.test_client()
    assert "Otters" in names_found(client_b, "swimming")
    assert "Otters kayak adventures" not in names_found(client_b, "kayak")

    listing = db.session.get(Listing, SWIM)
    workflow.publish(listing, {**listing_data.listing_data(listing), "name": "Otters kayak adventures"},
                     actor=None, action="listing.published")
    assert "Otters kayak adventures" in names_found(app.test_client(), "kayak")  # A indexed it as it published

    seen = wait_for(lambda: "Otters kayak adventures" in names_found(client_b, "kayak"))
    print(f"\nB built its index in {built:.1f} s; found A's change {seen:.2f} s after it was published")
    with server_b.app_context():
        assert b_service.readiness() == []
        assert b_service.check(repair=False) == {"missing": [], "extra": [], "stale": []}


def test_a_server_that_stopped_following_says_it_is_not_ready_until_it_catches_up(demo, app, server_b):
    """Readiness names a lagging index; the next sync (or follower) brings it back."""
    b_service = server_b.extensions["local_offer_search"]
    wait_for(lambda: b_service.engine.generation() is not None)
    with server_b.app_context():
        assert b_service.readiness() == []
    with b_service.engine.writing():  # B's follower cannot write meanwhile
        listing = db.session.get(Listing, SWIM)
        workflow.publish(listing, {**listing_data.listing_data(listing), "name": "Otters kayak adventures"},
                         actor=None, action="listing.published")
        with server_b.app_context():
            problems = b_service.readiness(max_lag_seconds=0)
    assert problems and "lacks 1 change" in problems[0]
    with server_b.app_context():
        wait_for(lambda: b_service.readiness(max_lag_seconds=0) == [])
        assert [hit.listing.name for hit in b_service.search(SearchRequest(text="kayak")).hits] == [
            "Otters kayak adventures"]


def test_an_index_written_before_cursors_continues_from_the_outbox_marks(demo, app):
    """After upgrading, an index with no record of its changes follows on from what the old code marked indexed."""
    service = get_service()
    state = Path(app.instance_path) / "search" / service.engine.generation() / "applied.json"
    assert state.is_file()
    state.unlink()
    db.session.execute(update(SearchChange).values(indexed_at=utcnow()))  # as the old code marked them
    record_change(SWIM)  # and one it had not indexed yet
    db.session.commit()
    assert [document_id for _seq, document_id, _at in service.waiting()] == [SWIM]
    assert service.sync() == (1, 0)
    assert state.is_file() and service.waiting() == []


def test_a_server_without_an_index_builds_it_in_a_process_of_its_own_once(demo, app, tmp_path):
    """The build runs as a separate command (so a killed worker cannot stop it or keep its lock), and a second
    worker finds it running and leaves it; a failed command is reported, not hidden."""
    import sys
    import threading

    from local_offer.search import SearchService
    from local_offer.search_sources import DirectorySources

    service = SearchService(tmp_path / "search", DirectorySources())
    started, release = tmp_path / "started", tmp_path / "release"
    wait = (f"import pathlib, time; pathlib.Path({str(started)!r}).touch()\n"
            f"while not pathlib.Path({str(release)!r}).exists(): time.sleep(0.05)\nprint('Indexed 0 documents')")
    results = []
    first = threading.Thread(target=lambda: results.append(service.build_in_another_process([sys.executable, "-c",
                                                                                              wait])))
    first.start()
    wait_for(started.exists)
    assert service.build_in_another_process([sys.executable, "-c", "raise SystemExit(3)"]) == (False, "")
    release.touch()
    first.join(30)
    assert results == [(True, "Indexed 0 documents")]
    built, said = service.build_in_another_process([sys.executable, "-c", "raise SystemExit('disk full')"])
    assert not built and "disk full" in said


def test_searches_on_a_server_building_its_first_index_are_told_to_try_again_at_once(demo, app, main_site, tmp_path):
    """While a worker builds the missing index, a search answers 503 with Retry-After straight away (the page and
    the API), instead of holding a worker while it reads every listing's filters."""
    from local_offer.search.generations import _Flock

    other = build_app(main_site.database.url, tmp_path / "server-c")
    other.config.update(SEARCH_FOLLOW_SECONDS=0, SEARCH_WARM=False)
    service = other.extensions["local_offer_search"]
    lock = _Flock(service.engine.folder.parent / (service.engine.folder.name + "-build.lock"))
    assert lock.acquire(None)  # as build_in_another_process holds it
    try:
        client = other.test_client()
        page = client.get("/search", query_string={"q": "swimming"})
        assert page.status_code == 503 and page.headers["Retry-After"] == "60"
        assert "Search is getting ready" in page.get_data(as_text=True)
        api = client.get("/api/v1/services", query_string={"text": "swimming"})
        assert api.status_code == 503 and api.is_json
        assert client.get("/healthz").status_code == 200
        with other.app_context():
            assert service.readiness() == ["The search index is being built."]
    finally:
        lock.release()
    assert client.get("/search", query_string={"q": "swimming"}).status_code == 200  # no build: filters alone
    with other.app_context():
        stop_background_work(other)
        db.engine.dispose()
