"""Apps built once per run and handed to test after test, each test finding them as a new app would be.

An app is costly to build the first time it renders (Jinja compiles every
template) and its database costlier to fill, so the fixtures share a few
apps, each on a database of its own (``databases.py``).  Between tests a
shared app gets back everything a test may change:

* its settings (tests turn CSRF or rate limits on, or point CONTENT_PATH elsewhere);
* the instance folder (mail outbox, uploads, the search index), a new one per test;
* its per-app services and caches in ``app.extensions``: the search service and
  the search log writer are made anew, the review settings cache is dropped, and
  the result-card cache (module-wide) is cleared;
* the shared rate limiter, which an app a test builds for itself may have turned on.

Before that, the test's background threads are stopped (the search log writer,
the search warmer), so nothing one test queued lands in the next test's rows.
"""

from __future__ import annotations

import contextvars
import copy
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, current_app
from flask.testing import FlaskClient
from flask_migrate import upgrade

from local_offer import create_app, demand, geo, page_cache, search
from local_offer.extensions import db, limiter
from local_offer.models import GazetteerArea, Place
from local_offer.listings.cards import forget_cards
from local_offer.search import get_service
from local_offer.search_sources import DirectorySources

from databases import Database, Snapshot, no_disk_sync, reset_rows
from support import make_test_config

#: The postcode areas the whole demo directory's gazetteer is built for (Staffordshire and around).
DIRECTORY_AREAS = ["ST", "WS", "DE", "B"]


class IsolatedClient(FlaskClient):
    """A test client whose every request gets a fresh app context, as in production.

    The ``app`` fixture keeps an app context pushed so tests can use the
    database; without this, requests would share its ``g`` (and with it the
    chosen language, the CSP nonce and, later, the signed-in user).
    """

    def open(self, *args, **kwargs):
        """Send the request from an empty context, so Flask pushes a new app context."""
        return contextvars.Context().run(super().open, *args, **kwargs)


def build_app(url: str, instance: Path) -> Flask:
    """Create a test app on a database, with its own instance folder, and migrate the database."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCAL_OFFER_INSTANCE_PATH", str(instance))
        app = create_app(make_test_config(url))
    app.test_client_class = IsolatedClient
    with app.app_context():
        no_disk_sync(db.engine)
        upgrade()
    return app


def load_directory() -> None:
    """Fill the current app's database with the gazetteer, the whole demo directory and its index."""
    geo.build(DIRECTORY_AREAS)
    result = current_app.test_cli_runner().invoke(args=["content", "load", "--demo"])
    assert result.exit_code == 0, result.output
    get_service().rebuild()


@dataclass(frozen=True)
class State:
    """A database state built once: a snapshot of its rows and a copy of its search index."""

    rows: Snapshot
    index: Path


@dataclass
class SharedApp:
    """An app built once per run on a database of its own, and what it needs to be reset."""

    app: Flask
    database: Database
    engine: sa.Engine = field(init=False)
    settings: dict = field(init=False)
    #: The state it was built in, when tests copy it elsewhere or put it back.
    pristine: State | None = None

    def __post_init__(self):
        """Remember the database engine and the settings the app started with."""
        with self.app.app_context():
            self.engine = db.engine
        self.settings = copy.deepcopy(dict(self.app.config))

    def restore_settings(self) -> None:
        """Put back the settings the app started with, and the shared rate limiter's switch."""
        self.app.config.clear()
        self.app.config.update(copy.deepcopy(self.settings))
        limiter.init_app(self.app)  # reads RATELIMIT_ENABLED again: a test's own throttled app turned it on

    def empty(self) -> None:
        """Empty the content tables; empty the gazetteer too if a test built more than areas on demand."""
        with self.engine.connect() as connection:
            grew = connection.execute(sa.select(Place.id).limit(1)).first() or connection.execute(
                sa.select(GazetteerArea.area).where(GazetteerArea.on_demand.is_(False)).limit(1)).first()
        reset_rows(self.engine, db.metadata.sorted_tables if grew else None)

    def restore(self, state: State, instance: Path) -> None:
        """Copy a saved state's rows into the database and its index into the instance folder."""
        reset_rows(self.engine, fill_from=state.rows)
        shutil.rmtree(instance / "search", ignore_errors=True)
        shutil.rmtree(instance / "search-tables", ignore_errors=True)  # facet tables saved from other rows
        shutil.copytree(state.index, instance / "search")

    def save(self, name: str, folder: Path) -> State:
        """Keep the database's rows and the search index as they are now, to restore per test."""
        state = State(self.database.snapshot(self.engine, name), folder / name / "search")
        shutil.copytree(Path(self.app.instance_path) / "search", state.index)
        return state

    def reset_to(self, state: State) -> None:
        """Put a live app back to a saved state between tests: rows, index and services (same instance folder)."""
        stop_background_work(self.app)
        self.restore(state, Path(self.app.instance_path))
        fresh_services(self.app)
        self.restore_settings()

    @contextmanager
    def test(self, instance: Path) -> Iterator[Flask]:
        """Run one test in the app: a fresh instance folder and services, an app context, then all put back."""
        self.app.instance_path = str(instance)
        instance.mkdir(parents=True, exist_ok=True)
        fresh_services(self.app)
        try:
            with self.app.app_context():
                try:
                    yield self.app
                finally:
                    stop_background_work(self.app)
                    db.session.remove()
        finally:
            self.restore_settings()

    @contextmanager
    def read(self) -> Iterator[Flask]:
        """Run one test that only reads the app's rows and index: an app context, then the settings put back."""
        forget_cards()  # cards rendered from another database's listings with the same ids
        try:
            with self.app.app_context():
                page_cache.clear()  # pages rendered from another test's rows, under the same index version
                yield self.app
                db.session.remove()
        finally:
            self.restore_settings()

    def close(self) -> None:
        """Stop the app's background work and close its database connections (end of the run)."""
        stop_background_work(self.app)
        self.engine.dispose()


@contextmanager
def shared_app(folder: Path, name: str, sqlite: bool = False, copy_of: Path | None = None) -> Iterator[SharedApp]:
    """Yield an app on a new migrated database (a copy of a SQLite file, if given); close and drop it after."""
    database = Database(folder, name, sqlite=sqlite)
    database.create()
    if copy_of is not None:
        shutil.copyfile(copy_of, database.path)
    site = SharedApp(build_app(database.url, folder / "instance"), database)
    try:
        yield site
    finally:
        site.close()
        database.drop()


def fresh_services(app: Flask) -> None:
    """Give the app the per-app services and caches a newly created app has (as ``create_app`` does)."""
    search.init_app(app, DirectorySources())
    demand.init_app(app)
    app.extensions.pop("local_offer_reviews", None)
    forget_cards()
    with app.app_context():
        page_cache.clear()


def stop_background_work(app: Flask) -> None:
    """Stop the search warmer and the search log writer and close the index (queued log rows are dropped)."""
    service = app.extensions["local_offer_search"]
    service.wait_until_warm()
    follower = app.extensions.pop("local_offer_follower", None)
    if follower is not None:
        follower.stop.set()
        follower.join(30)
    app.extensions["local_offer_demand"].stop()
    service.engine.close()
