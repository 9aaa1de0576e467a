"""Shared fixtures: apps and databases built once per run, reset cheaply before every test.

* ``app``, ``client``, ``runner``: the main app, on a migrated database whose
  content tables are emptied before each test (its gazetteer keeps the areas
  tests looked up; see ``SharedApp.empty``), with the settings, instance
  folder and services of a new app (``sites.py``).
* ``demo``: the vocabularies, synonyms and six demo listings with their search
  index, loaded and indexed once, then copied in per test.
* ``full_demo``: every demo file, as ``make run`` loads it, copied in the same way.
* ``directory``: the whole demo directory with a gazetteer for Staffordshire and
  around, in a database of its own that its tests only read.

Databases are SQLite files, or PostgreSQL schemas when
``LOCAL_OFFER_TEST_DATABASE_URL`` is set (``databases.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from local_offer.content_loader import LoadReport, load_demo, load_synonyms, load_vocabularies
from local_offer.extensions import db
from local_offer.search import get_service

from sites import SharedApp, build_app, load_directory, shared_app


@pytest.fixture(scope="session")
def main_site(tmp_path_factory):
    """Build the main app on a migrated database once per run."""
    with shared_app(tmp_path_factory.mktemp("main"), "lo_test") as site:
        yield site


@pytest.fixture(scope="session")
def migrated_database(main_site) -> str:
    """Return the URL of the migrated main database, for tests that build an app of their own."""
    return main_site.database.url


@pytest.fixture(scope="session")
def demo_state(main_site, tmp_path_factory):
    """Load the vocabularies, synonyms and six demo listings once, index them, and keep both."""
    folder = tmp_path_factory.mktemp("demo")
    main_site.empty()
    with main_site.test(folder / "instance") as app:
        content = Path(app.config["CONTENT_PATH"])
        report = LoadReport()
        load_vocabularies(content / "vocabularies", report)
        load_synonyms(content / "synonyms.yaml", report)
        load_demo(content / "demo" / "directory.yaml", report)
        db.session.commit()
        get_service().rebuild()
    return main_site.save("demo", folder)


@pytest.fixture(scope="session")
def directory_site(tmp_path_factory):
    """Build the whole demo directory, its gazetteer and its index once, in a database of its own."""
    folder = tmp_path_factory.mktemp("directory")
    with shared_app(folder, "lo_directory") as site:
        with site.app.app_context():
            load_directory()
            db.session.remove()
        site.pristine = site.save("pristine", folder)
        yield site


@pytest.fixture
def instance_path(tmp_path, monkeypatch):
    """Give each test an instance folder of its own."""
    folder = tmp_path / "instance"
    monkeypatch.setenv("LOCAL_OFFER_INSTANCE_PATH", str(folder))
    return folder


@pytest.fixture
def app(main_site, instance_path, request):
    """Hand out the main app on an emptied database, as a newly created app would be.

    A test marked ``own_app`` changes what ``create_app`` wired (it adds a route, which
    Flask refuses once an app has served a request): it gets an app of its own.
    """
    main_site.empty()
    if request.node.get_closest_marker("own_app") is None:
        with main_site.test(instance_path) as app:
            yield app
        return
    own = SharedApp(build_app(main_site.database.url, instance_path), main_site.database)
    with own.test(instance_path) as app:
        yield app
    own.close()


@pytest.fixture
def client(app):
    """Return a test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """Return a runner for the app's ``flask`` commands."""
    return app.test_cli_runner()


@pytest.fixture
def demo(demo_state, main_site, app, instance_path):
    """Copy in the vocabularies, synonyms and six demo listings (content/demo/directory.yaml), indexed."""
    main_site.restore(demo_state, instance_path)
    return app


@pytest.fixture
def full_demo(directory_site, main_site, app, instance_path):
    """Copy in the vocabularies and every demo file, as `make run` loads them, indexed."""
    main_site.restore(directory_site.pristine, instance_path)
    return app


@pytest.fixture
def small_content(app, tmp_path):
    """Point CONTENT_PATH at content/ with one demo file, the six worked listings (and the feedback on them).

    Loading all 300 demo listings takes seconds and is done once per run (``directory``);
    tests of what loading does, twice over, prove it on these six.
    """
    source, folder = Path(app.config["CONTENT_PATH"]), tmp_path / "content"
    (folder / "demo").mkdir(parents=True)
    for name in ("vocabularies", "synonyms.yaml", "related-terms.yaml", "priorities.yaml", "term-dates.yaml", "pages",
                 "demo/directory.yaml", "demo/feedback.yaml"):
        (folder / name).symlink_to(source / name)
    app.config["CONTENT_PATH"] = str(folder)
    return folder


@pytest.fixture
def directory(directory_site):
    """The whole demo directory's app, in a fresh app context; its tests only read."""
    with directory_site.read() as app:
        yield app
