"""A new worker warms itself on a background thread as it starts (``local_offer.warmup``), never writing.

(Timings belong in ``bench/search.py``, which measures a new worker's first requests.)
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from local_offer import warmup
from local_offer.search import SearchRequest, get_service
from local_offer.search import engine as engine_module

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_freeze(app, monkeypatch):
    """As in a new process (the tests share one app); the garbage collector is left as it is."""
    monkeypatch.delitem(app.extensions, "local_offer_warmed_in", raising=False)
    monkeypatch.setattr(warmup.gc, "freeze", lambda: None)


def refuse_writes(monkeypatch) -> None:
    """Make every way of writing the index fail loudly."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("warming wrote to the index")
    for name in ("write", "rebuild", "writing", "clean_up"):
        monkeypatch.setattr(engine_module.Engine, name, refuse)


def test_a_new_worker_warms_itself_on_a_background_thread_without_writing(demo, app, monkeypatch, no_freeze):
    """Facet table, index version, concepts, templates and cards are ready before the first search asks."""
    app.config["SEARCH_WARM"] = True
    service = get_service()
    service.engine.close()
    generation = service.engine.generation()
    refuse_writes(monkeypatch)
    thread = warmup.start(app)
    assert thread is not None and thread.name == "search-start-warmer"
    thread.join(60)
    assert not thread.is_alive()
    assert service._table is not None
    version = service.engine.version_key()
    assert version is not None and version[0] == generation  # the live version, opened as it was
    assert len(service.engine._cache) > 20  # the synonyms are scored
    compiled = {key[1] for key in app.jinja_env.cache.keys()}
    assert {"directory/search.html", "directory/_card_body.html", "base.html"} <= compiled
    assert warmup.start(app) is None  # once per process
    before = len(service.engine._cache)
    service.search(SearchRequest(text="respite"))
    assert len(service.engine._cache) == before  # answered from what was warmed
    assert service._warmer is thread  # and the first search started no other warmer
    assert service.engine.version_key() == version  # nothing was written


def test_no_warming_when_search_warm_is_off(demo, app, no_freeze):
    """``SEARCH_WARM = False`` (the tests' setting) starts nothing."""
    app.config["SEARCH_WARM"] = False
    service = get_service()
    assert warmup.start(app) is None
    assert service._warmer is None and service._table is None


def test_warming_without_an_index_builds_none(app, monkeypatch, no_freeze):
    """With no index yet the warmer prepares the rest and leaves building it to `flask index ensure`."""
    app.config["SEARCH_WARM"] = True
    refuse_writes(monkeypatch)
    service = get_service()
    assert service.engine.generation() is None
    warmup.start(app).join(60)
    assert service.engine.generation() is None
    assert service._table is not None
    assert "directory/search.html" in {key[1] for key in app.jinja_env.cache.keys()}


def test_gunicorn_starts_warming_in_each_worker(app, monkeypatch):
    """``gunicorn.conf.py``'s ``post_worker_init`` finds the app, even inside middleware, and starts warming."""
    started = []
    monkeypatch.setattr(warmup, "start", started.append)

    class Middleware:
        def __init__(self, wrapped):
            self.wrapped = wrapped

    class Worker:
        wsgi = Middleware(app)

    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_worker_init"](Worker())
    assert started == [app]


def test_requests_in_flight_are_counted_for_the_warmer_to_wait_for(app):
    """The warmer waits while a request is being answered: every request is counted in and out."""
    in_flight = app.extensions["local_offer_in_flight"]
    with app.test_request_context("/"):
        app.preprocess_request()
        assert in_flight.count == 1
    assert in_flight.count == 0
    app.test_client().get("/healthz")
    assert in_flight.count == 0


def test_compiled_templates_are_kept_for_the_next_process(app, tmp_path):
    """A new process loads compiled templates from the instance folder; a cache that cannot be written fails no page."""
    from jinja2 import Environment, FileSystemLoader

    assert isinstance(app.jinja_env.bytecode_cache, warmup.TemplateCache)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text("Hello {{ name }}")
    folder = tmp_path / "cache"
    first = Environment(loader=FileSystemLoader(tmp_path / "templates"), bytecode_cache=warmup.TemplateCache(str(folder)))
    assert first.get_template("page.html").render(name="Leek") == "Hello Leek"
    assert len(list(folder.iterdir())) == 1
    second = Environment(loader=FileSystemLoader(tmp_path / "templates"), bytecode_cache=warmup.TemplateCache(str(folder)))
    second.compile = None  # loading from the cache must not compile again
    assert second.get_template("page.html").render(name="Stone") == "Hello Stone"
    (tmp_path / "templates" / "page.html").write_text("Goodbye {{ name }}")  # an edited template is compiled afresh
    third = Environment(loader=FileSystemLoader(tmp_path / "templates"), bytecode_cache=warmup.TemplateCache(str(folder)))
    assert third.get_template("page.html").render(name="Leek") == "Goodbye Leek"
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    fourth = Environment(loader=FileSystemLoader(tmp_path / "templates"), bytecode_cache=third.bytecode_cache)
    assert fourth.get_template("page.html").render(name="Cannock") == "Goodbye Cannock"


def test_concepts_are_warmed_as_searches_read_them_related_terms_too(demo, app, monkeypatch):
    """A concept with related terms is scored ahead under the key its search looks for (no scoring again)."""
    service = get_service()
    # A word of a synonym group, named: PostgreSQL returns the groups in no set order.
    said = next(variant for group in service.synonyms() for variant in group if variant == "autism")
    monkeypatch.setattr(service, "related_terms", lambda: [([said], ["hydrotherapy"])])
    wanted = service.warm_concepts()
    assert any(concept.related == [["hydrotherapy"]] for concept in wanted)
    assert service.engine.warm(wanted) > 0
    before = len(service.engine._cache)
    service.search(SearchRequest(text=said))
    assert len(service.engine._cache) == before


def test_templates_can_be_compiled_ahead_when_deploying(app, runner):
    """`flask compile-templates` fills the cache new workers load compiled templates from."""
    folder = Path(app.jinja_env.bytecode_cache.directory)
    for path in folder.iterdir():
        path.unlink()
    app.jinja_env.cache.clear()  # as in the new process the command runs in
    result = runner.invoke(args=["compile-templates"])
    assert result.exit_code == 0, result.output
    assert "templates compiled" in result.output
    assert len(list(folder.iterdir())) > 50
