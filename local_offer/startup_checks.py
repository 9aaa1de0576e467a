"""What must hold before a server answers: checked when gunicorn starts, by ``flask check-startup`` and by ``/readyz``.

1. The database answers and its schema is not older than this code (a newer one is
   the expand step of an upgrade, and fine): otherwise "run `flask db upgrade` first".
2. Every server signs sessions with the same secret key.  The first server to start
   stores an HMAC-SHA256 of a fixed text under its key (never the key) in the
   ``site_setting`` table; a server whose key gives another value refuses to start,
   saying why.  ``flask check-startup --accept-new-secret-key`` records a new key on
   purpose (rotation: change the key on every server, run it once, restart them).
3. This server's clock agrees with the database's within 30 seconds (PostgreSQL;
   SQLite is on the same machine): emailed links and sign-in codes expire by it.

``/readyz`` asks the same of the database (read-only, never recording a key), plus
the search index's readiness, on a background thread it waits for at most
``READY_TIMEOUT`` seconds, so a database that hangs makes a "not ready", never a
stuck worker.  Its messages name no host, address, path or key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from local_offer import maintenance
from local_offer.extensions import db
from local_offer.models import SiteSetting, record_audit, utcnow

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The ``site_setting`` row holding the secret key's fingerprint.
CHECK_KEY = "secret_key_check"
#: Seconds this server's clock and the database's may differ.
CLOCK_LIMIT = 30
#: Seconds ``/readyz`` waits for the database; PostgreSQL statements stop after STATEMENT_TIMEOUT_MS.
READY_TIMEOUT = 3.0
STATEMENT_TIMEOUT_MS = 2000
#: Seconds the search index may be behind the change feed before the server is not ready.
INDEX_LAG_LIMIT = 60

KEY_DIFFERS = ("This server's secret key differs from the one the other servers use; copy instance/secret_key "
               "from them or set LOCAL_OFFER_SECRET_KEY the same everywhere. (To change the key on purpose, set "
               "the new one on every server and run `flask check-startup --accept-new-secret-key` once.)")
NOT_SET_UP = "The database has not been set up: run `flask db upgrade`."
SCHEMA_OLDER = "The database is older than this version of the site: run `flask db upgrade` first."
UNREACHABLE = "The database cannot be reached."


class StartupRefused(RuntimeError):
    """This server must not start; the message says why and what to do."""


# --- the checks, each on an open connection ----------------------------------------------------------


@lru_cache(maxsize=1)
def _revisions() -> tuple[frozenset[str], frozenset[str]]:
    """Return the migrations' heads and every revision this code knows (read once per process)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    return frozenset(script.get_heads()), frozenset(revision.revision for revision in script.walk_revisions())


def schema_problem(connection) -> str | None:
    """Say what is wrong with the schema's version, or None when it is this code's or newer."""
    if not inspect(connection).has_table("alembic_version"):
        return NOT_SET_UP
    current = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    if not current:
        return NOT_SET_UP
    heads, known = _revisions()
    if current & heads or current - known:
        return None  # at this code's head, or at a revision this code does not know yet: newer (expand step)
    return SCHEMA_OLDER


def database_time(connection) -> datetime | None:
    """Return the database server's clock (PostgreSQL), or None when it shares this machine's (SQLite)."""
    if connection.dialect.name != "postgresql":
        return None
    return connection.execute(text("SELECT clock_timestamp()")).scalar_one()


def _moment(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def clock_problem(connection) -> str | None:
    """Say so when this server's clock and the database's are more than ``CLOCK_LIMIT`` seconds apart."""
    theirs = database_time(connection)
    if theirs is None:
        return None
    ours = utcnow()
    apart = abs((ours - theirs).total_seconds())
    if apart <= CLOCK_LIMIT:
        return None
    return (f"This server's clock ({_moment(ours)}) and the database's ({_moment(theirs)}) are {apart:.0f} seconds "
            f"apart, more than {CLOCK_LIMIT}: set both to keep time (NTP). Emailed links and sign-in codes expire "
            "by the clock.")


def key_fingerprint(secret: str | bytes) -> str:
    """Return the HMAC-SHA256 of a fixed text under the secret key: the same key gives the same value, and no key."""
    key = secret if isinstance(secret, bytes) else str(secret).encode()
    return hmac.new(key, b"local-offer: the secret key every server shares", hashlib.sha256).hexdigest()


def recorded_fingerprint(connection) -> str | None:
    """Return the secret key's fingerprint the servers recorded, or None before the first server started."""
    value = connection.execute(select(SiteSetting.value).where(SiteSetting.key == CHECK_KEY)).scalar()
    return value.get("fingerprint") if isinstance(value, dict) else None


def secret_key_problem(connection, secret: str | bytes) -> str | None:
    """Say so when this server's secret key is not the one recorded (read-only: nothing recorded yet is fine)."""
    recorded = recorded_fingerprint(connection)
    if recorded is None or hmac.compare_digest(str(recorded), key_fingerprint(secret)):
        return None
    return KEY_DIFFERS


def database_problems(engine, secret: str | bytes) -> list[str]:
    """Check the database on one connection, read-only: reachable, clock, schema, secret key."""
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            connection.execute(text("SELECT 1"))
            problems = [problem for problem in (clock_problem(connection), schema_problem(connection)) if problem]
            if not problems:
                problem = secret_key_problem(connection, secret)
                problems += [problem] if problem else []
            connection.rollback()
            return problems
    except Exception:  # noqa: BLE001  (whatever the driver raises, the answer is the same)
        log.warning("Readiness: the database check failed", exc_info=True)
        return [UNREACHABLE]


# --- /readyz -------------------------------------------------------------------------------------


class _Probe:
    """The readiness check running now in this process, so a hung database never piles up threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.result: list[str] | None = None


def _probe_in_thread(app: Flask, probe: _Probe) -> None:
    """Run the checks that may wait on the database, in an app context of their own."""
    with app.app_context():
        try:
            problems = database_problems(db.engine, app.config["SECRET_KEY"])
            if UNREACHABLE not in problems:
                problems += _index_problems()
        finally:
            db.session.remove()
    probe.result = problems


def _index_problems() -> list[str]:
    """Ask the search service whether the index is open and up to date with the change feed."""
    from local_offer.search import get_service

    try:
        return list(get_service().readiness(max_lag_seconds=INDEX_LAG_LIMIT))
    except Exception:  # noqa: BLE001  (a readiness check never raises)
        log.warning("Readiness: the search index could not be checked", exc_info=True)
        return ["The search index could not be checked."]


def readiness(app: Flask, timeout: float | None = None) -> list[str]:
    """Return what stops this server answering well, in plain English (empty: ready). Never raises."""
    timeout = READY_TIMEOUT if timeout is None else timeout
    if maintenance.current(app) is not None:
        return ["The service is in maintenance mode."]
    probe = app.extensions.setdefault("local_offer_readiness", _Probe())
    with probe.lock:
        if probe.thread is None or not probe.thread.is_alive():
            probe.result = None
            probe.thread = threading.Thread(target=_probe_in_thread, args=(app, probe), name="readyz", daemon=True)
            probe.thread.start()
        thread = probe.thread
    thread.join(timeout)
    if thread.is_alive():
        return [f"The database did not answer within {timeout:g} seconds."]
    return list(probe.result) if probe.result is not None else ["The readiness check failed."]


# --- at start-up ---------------------------------------------------------------------------------


def record_secret_key(secret: str | bytes, accept_new: bool = False) -> str:
    """Record this server's key fingerprint the first time; refuse a different one unless accepted. Commits.

    Returns "recorded" (the first server), "agrees" or "replaced" (``accept_new``).
    """
    fingerprint = key_fingerprint(secret)
    value = {"fingerprint": fingerprint, "recorded_at": utcnow().isoformat()}
    for _attempt in range(2):
        row = db.session.get(SiteSetting, CHECK_KEY)
        if row is not None and hmac.compare_digest(str((row.value or {}).get("fingerprint", "")), fingerprint):
            return "agrees"
        if row is not None and not accept_new:
            raise StartupRefused(KEY_DIFFERS)
        if row is None:
            db.session.add(SiteSetting(key=CHECK_KEY, value=value))
            outcome = "recorded"
        else:
            row.value = value
            outcome = "replaced"
            record_audit("secret key replaced", "site_setting", CHECK_KEY,
                         changes={"note": "a new secret key was accepted with flask check-startup"})
        try:
            db.session.commit()
            return outcome
        except IntegrityError:  # another server recorded its key at the same moment: compare with it
            db.session.rollback()
    raise StartupRefused("The secret key could not be recorded: try again.")


def run(app: Flask, accept_new_secret_key: bool = False) -> list[str]:
    """Check, and record the secret key, as a server starts: return the problems (empty: it may start)."""
    with app.app_context():
        try:
            try:
                with db.engine.connect() as connection:
                    problems = [problem for problem in (schema_problem(connection), clock_problem(connection))
                                if problem]
            except Exception as error:  # noqa: BLE001  (the operator needs the driver's reason)
                reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
                return [f"{UNREACHABLE} ({reason})"]
            if problems:
                return problems
            try:
                record_secret_key(app.config["SECRET_KEY"], accept_new_secret_key)
            except StartupRefused as refused:
                db.session.rollback()
                return [str(refused)]
            return []
        finally:
            db.session.remove()


def refuse_unless_ready(app: Flask) -> None:
    """Raise ``StartupRefused`` naming every problem, for a server about to start (gunicorn's ``on_starting``)."""
    try:
        problems = run(app)
    finally:
        with app.app_context():
            db.engine.dispose()  # no connection is handed to the processes forked next (gunicorn's workers)
    if problems:
        raise StartupRefused("Local Offer will not start: " + " ".join(problems))


@click.command("check-startup")
@click.option("--accept-new-secret-key", is_flag=True,
              help="Record this server's secret key as the one every server must use (after changing it everywhere).")
def check_startup_command(accept_new_secret_key: bool) -> None:
    """Run the checks gunicorn runs before it starts: schema, secret key, clock."""
    problems = run(current_app._get_current_object(), accept_new_secret_key)
    if problems:
        raise click.ClickException("\n".join(problems))
    if accept_new_secret_key:
        click.echo("This server's secret key is now the one every server must use. Restart the other servers "
                   "with the same key.")
    click.echo("Start-up checks passed: the database is at this code's version or newer, the secret key agrees "
               "with the other servers', and the clocks agree.")
