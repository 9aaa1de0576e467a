"""Warming a new worker process, so its first requests are as quick as the rest.

A new process has nothing ready: the facet table, the search index, the scores of
common concepts, compiled templates and rendered result cards are all made on first
use, which made a new worker's first searches take seconds.  ``start(app)`` makes
them on a background thread as the worker starts, without delaying it: requests are
answered meanwhile (one that needs the facet table while it is being built waits for
it).  Warming only reads; it never builds, writes or switches the search index.

Compiling templates is the largest part of a first request: compiled templates are
kept in the instance folder (``TemplateCache``), so a new process loads them instead;
``flask compile-templates`` (a deployment step: ``make run`` runs it) compiles them all
ahead, so even the first worker after a deployment finds them.
Requests go first: between steps (a template, a few concepts, a card) the warmer
waits while a request is being answered (``pause``), for at most ``PAUSE_LIMIT``
seconds a step, so it still finishes under steady traffic.  Once warm, what was made
is moved out of the garbage collector's sight (``gc.freeze``): it lives as long as
the process, and full collections no longer walk it in the middle of a request.

gunicorn calls ``start`` from ``post_worker_init`` (``gunicorn.conf.py`` at the
project root, read when gunicorn starts there); any other server can call it once
the app is made.  Nothing happens when ``SEARCH_WARM`` is False (the tests).
``start`` also starts the process's follower thread (``follow``): it keeps this
server's own search index up to date with changes published through any server.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from jinja2 import FileSystemBytecodeCache

from local_offer.search import get_service

#: The longest the warmer waits for requests to finish before each step (seconds).
PAUSE_LIMIT = 0.25
PAUSE_STEP = 0.002


class InFlight:
    """How many requests this process is answering now (the warmer lets them go first)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0

    def enter(self) -> None:
        with self._lock:
            self.count += 1

    def leave(self, _error=None) -> None:
        with self._lock:
            self.count = max(0, self.count - 1)


class TemplateCache(FileSystemBytecodeCache):
    """Compiled templates in the instance folder, shared by every process and kept across restarts.

    Jinja checks each template's source against what was compiled, so an edited
    template is compiled afresh.  A page never fails because the cache could not be written.
    """

    def __init__(self, directory: str):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        super().__init__(directory)

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@click.command("compile-templates")
@with_appcontext
def compile_templates_command() -> None:
    """Compile every template into the instance folder's cache, so new workers load them (a deployment step)."""
    count = compile_templates(current_app)
    click.echo(f"{count} templates compiled into {os.path.join(current_app.instance_path, 'template-cache')}")


def init_app(app: Flask) -> None:
    """Count the requests being answered, so warming can wait for them; keep compiled templates on disk."""
    app.cli.add_command(compile_templates_command)
    in_flight = app.extensions["local_offer_in_flight"] = InFlight()
    app.before_request_funcs.setdefault(None, []).insert(0, in_flight.enter)
    app.teardown_request(in_flight.leave)
    if app.config.get("TEMPLATE_CACHE", True):
        app.jinja_env.bytecode_cache = TemplateCache(os.path.join(app.instance_path, "template-cache"))


def pause(app: Flask) -> None:
    """Wait while requests are being answered (at most ``PAUSE_LIMIT`` seconds)."""
    in_flight = app.extensions.get("local_offer_in_flight")
    deadline = time.monotonic() + PAUSE_LIMIT
    while in_flight is not None and in_flight.count and time.monotonic() < deadline:
        time.sleep(PAUSE_STEP)

#: Templates a results page needs, compiled first: a new worker's first requests are mostly searches.
FIRST_TEMPLATES = ("directory/search.html", "directory/_card_body.html", "directory/home.html",
                   "directory/listing.html", "directory/category.html", "errors/error.html")


def start(app: Flask) -> threading.Thread | None:
    """Start following the change feed, and warming this process, on background threads (once per process).

    Returns the warming thread; None when warming is off.
    """
    if app.extensions.get("local_offer_warmed_in") == os.getpid():
        return None  # already started in this process (a forked child starts its own)
    app.extensions["local_offer_warmed_in"] = os.getpid()
    app.extensions["local_offer_follower"] = follow(app)
    if not app.config.get("SEARCH_WARM", True):
        return None
    gc.freeze()  # the modules and the app itself: full collections need not walk them again
    with app.app_context():
        return get_service().warm_at_start(app, then=compile_templates, last=freeze, pause=lambda: pause(app))


def follow(app: Flask) -> threading.Thread | None:
    """Keep this server's search index following the database's change feed, on a background thread.

    Every ``SEARCH_FOLLOW_SECONDS`` it indexes what the index lacks (changes published
    through another server, or a write that failed), unless another worker is already
    writing; on a server whose disk has no index yet it first builds one from the
    database (one worker builds, the others wait for it).  ``/readyz`` answers 503
    until the index is built and up to date, so a load balancer sends no one here before.
    None when following is off (``SEARCH_FOLLOW_SECONDS`` 0).
    """
    every = app.config.get("SEARCH_FOLLOW_SECONDS", 2.0)
    if not every:
        return None
    stop = threading.Event()
    thread = threading.Thread(target=_follow, args=(app, every, stop), daemon=True, name="search-follower")
    thread.stop = stop  # set it to end the thread (tests)
    thread.start()
    return thread


def _follow(app: Flask, every: float, stop: threading.Event) -> None:
    """Build the index if there is none, then index what it lacks every ``every`` seconds (the follower thread)."""
    service = None
    while not stop.is_set():
        try:
            with app.app_context():
                service = service or get_service()
                if service.engine.generation() is None:
                    _build_missing_index(app, service)
                else:
                    service.follow()
        except Exception:  # the follower must outlive a database or disk hiccup; it tries again
            app.logger.exception("Following the change feed failed; trying again in %s seconds", every)
        stop.wait(every)


def _build_missing_index(app: Flask, service) -> None:
    """Build the index a server without one needs: in a process of its own (``SEARCH_BUILD_AT_START``
    "process", the default), or on this thread ("thread": an app whose settings came from code, as in tests)."""
    if app.config.get("SEARCH_BUILD_AT_START", "process") == "thread":
        if service.build_if_missing():
            app.logger.info("Built the search index, which this server did not have")
        return
    command = [sys.executable, "-m", "flask", "--app", "local_offer", "index", "ensure"]
    built, said = service.build_in_another_process(command)
    if built:
        summary = next((line for line in said.splitlines() if line.startswith("Indexed")), "")
        app.logger.info("Built the search index, which this server did not have. %s", summary)
    elif said:
        app.logger.error("Building the search index failed; trying again shortly: %s", said[-2000:])


def compile_templates(app: Flask) -> int:
    """Compile every template of the site ahead (a results page's first): return how many."""
    environment = app.jinja_env
    every = environment.list_templates()
    names = [name for name in FIRST_TEMPLATES if name in every]
    names += sorted(name for name in every if name.endswith((".html", ".txt", ".xml")) and name not in names)
    for name in names:
        pause(app)
        environment.get_template(name)
    return len(names)

def freeze(_app: Flask | None = None) -> None:
    """Keep what warming made out of the garbage collector's full collections (it lives as long as the process)."""
    gc.collect()
    gc.freeze()


def flask_app(wsgi) -> Flask | None:
    """Find the Flask app inside what a server serves (middleware may wrap it as ``.wrapped``)."""
    for _depth in range(5):
        if isinstance(wsgi, Flask):
            return wsgi
        wsgi = getattr(wsgi, "wrapped", None)
    return None
