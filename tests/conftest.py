"""Shared fixtures: an isolated app, client and CLI runner on a migrated test database.

The database is SQLite in a temporary folder, or PostgreSQL when
``LOCAL_OFFER_TEST_DATABASE_URL`` is set: each run then works in a schema of
its own, dropped at the end.  Migrations run once per session; after every
test all rows are deleted, so tests never see each other's data.
"""

from __future__ import annotations

import contextvars
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from local_offer import create_app
from local_offer.content_loader import LoadReport, load_demo, load_synonyms, load_vocabularies
from local_offer.search import get_service
from local_offer.extensions import db

POSTGRES_URL = os.environ.get("LOCAL_OFFER_TEST_DATABASE_URL")


def with_search_path(url: str, schema: str) -> str:
    """Return a PostgreSQL URL whose connections use the given schema."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def empty_database(folder, prefix: str):
    """Yield the URL of a new, empty database: a SQLite file in folder, or a PostgreSQL schema."""
    if not POSTGRES_URL:
        yield "sqlite:///" + str(folder / f"{prefix}.sqlite3")
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(POSTGRES_URL, schema)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@contextmanager
def module_app(tmp_path_factory, name: str):
    """Yield an app, inside its context, on a migrated database and instance of its own."""
    folder = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCAL_OFFER_INSTANCE_PATH", str(folder / "instance"))
        with empty_database(folder, f"lo_{name}") as url:
            app = create_app(make_test_config(url))
            with app.app_context():
                upgrade()
                yield app
                get_service().engine.close()
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """Yield the URL of an empty database for this test run, removing it afterwards."""
    with empty_database(tmp_path_factory.mktemp("db"), "lo_test") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_database(database_url, tmp_path_factory):
    """Migrate the test database to the latest revision once per run."""
    os.environ["LOCAL_OFFER_INSTANCE_PATH"] = str(tmp_path_factory.mktemp("instance"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "migrate"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def make_test_config(database_url: str, **overrides) -> dict:
    """Return the settings every test app starts from."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False,
        "MAP_TILE_URL": "",  # tests never fetch map tiles
        "SEARCH_LOG_FLUSH_SECONDS": 0.2,
        "SEARCH_WARM": False,
        "VOCABULARY_CACHE_SECONDS": 0,
        "SEARCH_INDEX_PROCS": 1,
        "CARD_PRERENDER": False,  # no forking inside the test process (threads, browsers)
        "WTF_CSRF_ENABLED": False,  # CSRF has its own tests, which turn it on  # one test turns it on; elsewhere it would race the assertions
    }
    config.update(overrides)
    return config


class IsolatedClient(FlaskClient):
    """A test client whose every request gets a fresh app context, as in production.

    The ``app`` fixture keeps an app context pushed so tests can use the
    database; without this, requests would share its ``g`` (and with it the
    chosen language, the CSP nonce and, later, the signed-in user).
    """

    def open(self, *args, **kwargs):
        """Send the request from an empty context, so Flask pushes a new app context."""
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def instance_path(tmp_path, monkeypatch):
    """Give each test an instance folder of its own."""
    folder = tmp_path / "instance"
    monkeypatch.setenv("LOCAL_OFFER_INSTANCE_PATH", str(folder))
    return folder


@pytest.fixture
def app(migrated_database, instance_path):
    """Create an app on the migrated database; empty every table afterwards."""
    app = create_app(make_test_config(migrated_database))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        get_service().engine.close()
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def client(app):
    """Return a test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Return a runner for the app's ``flask`` commands."""
    return app.test_cli_runner()


@pytest.fixture
def demo(app):
    """Load the vocabularies and the six worked demo listings in content/demo/directory.yaml."""
    content = Path(app.config["CONTENT_PATH"])
    report = LoadReport()
    load_vocabularies(content / "vocabularies", report)
    load_synonyms(content / "synonyms.yaml", report)
    load_demo(content / "demo" / "directory.yaml", report)
    db.session.commit()
    get_service().rebuild()
    return app


@pytest.fixture
def full_demo(app):
    """Load the vocabularies and every demo file, as `make run` does."""
    result = app.test_cli_runner().invoke(args=["content", "load", "--demo"])
    assert result.exit_code == 0, result.output
    get_service().rebuild()
    return app


#: Ids of demo listings the tests look at (content/demo/directory.yaml).
SWIM = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0001"
FORUM = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0002"
CHILDMINDER = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0003"
SCHOOL = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0004"
PHONE_LINE = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0005"
COLLEGE = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0006"
