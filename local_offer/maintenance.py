"""Maintenance mode: a friendly "service unavailable" page while the database is being changed.

``flask maintenance on`` writes a flag file (``MAINTENANCE`` in the instance folder,
or ``LOCAL_OFFER_MAINTENANCE_FILE``: point every server at one file on a shared disk,
or run the command on each server).  While it is there every page, form and API
address answers 503 with ``Retry-After`` and ``Cache-Control: no-store``: people get
a page saying when the service will be back (if known), that nothing they saved is
lost and how to reach the council; the API gets JSON.  ``/healthz`` still answers
(the process is up); ``/readyz`` says "not ready", so load balancers drain.

The check is one ``os.stat`` a second per process and never touches the database
(its schema may be half-way through a migration): the page is rendered with nobody
signed in, no shortlist and no demo banner.  ``flask maintenance off`` removes the
file.  A file with anything else in it (``touch``) also turns maintenance on.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from flask import Flask, current_app, g, jsonify, render_template, request
from flask.cli import AppGroup
from flask.globals import request_ctx

from local_offer.models import utcnow

#: Seconds a process trusts what it last saw of the flag file.
CHECK_EVERY = 1.0
DEFAULT_RETRY_AFTER = 300
#: Endpoints that answer during maintenance: the liveness check, and what the page itself needs.
OPEN_ENDPOINTS = frozenset({"static", "health.healthz", "health.readyz", "site.theme_css", "site.favicon",
                            "site.favicon_ico"})

#: How the flag file is looked at and the time told (tests count and move them).
_stat = os.stat
_clock = time.monotonic

maintenance_cli = AppGroup("maintenance", help="Turn maintenance mode on or off (every page answers 503).")


@dataclass(frozen=True)
class State:
    """Maintenance as the flag file describes it."""

    since: datetime | None
    retry_after: int
    message: str
    until: datetime | None = None

    def seconds_to_wait(self) -> int:
        """Return the ``Retry-After`` seconds: until the time given, or the retry interval."""
        if self.until is not None:
            return max(60, int((self.until - utcnow()).total_seconds()))
        return self.retry_after


def flag_path(app: Flask | None = None) -> Path:
    """Return the flag file's path: ``MAINTENANCE_FILE`` when set, else ``MAINTENANCE`` in the instance folder."""
    app = app or current_app
    configured = app.config.get("MAINTENANCE_FILE")
    return Path(configured) if configured else Path(app.instance_path) / "MAINTENANCE"


class _Seen:
    """What this process last saw of the flag file, and when it looked."""

    def __init__(self):
        self.lock = threading.Lock()
        self.path: Path | None = None
        self.looked = 0.0
        self.stamp: tuple | None = None
        self.state: State | None = None


_seen = _Seen()


def forget() -> None:
    """Look at the flag file again on the next request (after turning maintenance on or off here)."""
    with _seen.lock:
        _seen.looked, _seen.path = 0.0, None


def _parse(text: str) -> State:
    """Read the flag file's JSON; anything unreadable means maintenance with the defaults."""
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}

    def moment(value):
        try:
            parsed = datetime.fromisoformat(str(value))
        except (TypeError, ValueError):
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

    retry = data.get("retry_after")
    retry = retry if isinstance(retry, int) and not isinstance(retry, bool) and retry > 0 else DEFAULT_RETRY_AFTER
    message = data.get("message") if isinstance(data.get("message"), str) else ""
    return State(moment(data.get("since")), retry, message[:1000], moment(data.get("until")))


def current(app: Flask | None = None) -> State | None:
    """Return maintenance's state, or None when the site is open (the file is looked at once a second)."""
    path = flag_path(app)
    now = _clock()
    with _seen.lock:
        if _seen.path == path and now - _seen.looked < CHECK_EVERY:
            return _seen.state
        try:
            info = _stat(path)
        except OSError:
            _seen.path, _seen.looked, _seen.stamp, _seen.state = path, now, None, None
            return None
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        if _seen.path != path or stamp != _seen.stamp:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            _seen.state, _seen.stamp = _parse(text), stamp
        _seen.path, _seen.looked = path, now
        return _seen.state


def turn_on(retry_after: int = DEFAULT_RETRY_AFTER, message: str = "", until: datetime | None = None,
            app: Flask | None = None) -> Path:
    """Write the flag file (atomically); return its path."""
    path = flag_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"since": utcnow().isoformat(), "retry_after": retry_after, "message": message,
            "until": until.isoformat() if until else None}
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    forget()
    return path


def turn_off(app: Flask | None = None) -> bool:
    """Remove the flag file; return whether maintenance was on."""
    path = flag_path(app)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    finally:
        forget()
    return True


# --- the answer ------------------------------------------------------------------------------------


def _answer(state: State):
    """Return the 503 answer for this request: JSON for the API, the page for everything else."""
    from flask_login import AnonymousUserMixin

    # Nothing below may reach the database: nobody is signed in, no shortlist, no demo banner.
    g._login_user = AnonymousUserMixin()
    g.lo_has_demo = False
    g.lo_shortlist_ids = frozenset()
    wait = state.seconds_to_wait()
    if request.path.startswith("/api/"):
        from local_offer.request_log import request_id

        response = jsonify({"error": "The service is unavailable while it is being updated. Try again later.",
                            "status": 503, "request_id": request_id()})
        response.status_code = 503
    else:
        response = current_app.make_response(
            (render_template("errors/maintenance.html", state=state, **_back_at(state.until)), 503))
    response.headers["Retry-After"] = str(wait)
    response.headers["Cache-Control"] = "no-store"
    return response


def _back_at(moment: datetime | None) -> dict:
    """Return when the service should be back as the page says it (the site's timezone, the reader's language)."""
    if moment is None:
        return {"back_time": None, "back_day": None}
    from flask_babel import format_datetime

    return {"back_time": format_datetime(moment, "HH:mm"), "back_day": format_datetime(moment, "EEEE d MMMM y")}


def check() -> object | None:
    """Before each request: answer 503 while maintenance is on (except the liveness check and static files)."""
    if request.endpoint in OPEN_ENDPOINTS or request_ctx.url_adapter is None:
        return None  # (no address can be built for an untrusted host: its 400 comes first)
    state = current()
    if state is None:
        return None
    return _answer(state)


def init_app(app: Flask) -> None:
    """Install the check: ``create_app`` calls this before any hook that could reach the database or refuse a form."""
    app.before_request(check)
    app.cli.add_command(maintenance_cli)


# --- the commands ----------------------------------------------------------------------------------


def _until(text: str | None) -> datetime | None:
    """Read ``--until``: ``HH:MM`` today (the site's timezone) or an ISO date and time."""
    if not text:
        return None
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    try:
        if len(text) <= 5 and ":" in text:
            hours, minutes = (int(part) for part in text.split(":"))
            moment = datetime.now(zone).replace(hour=hours, minute=minutes, second=0, microsecond=0)
            if moment < datetime.now(zone):
                moment += timedelta(days=1)
        else:
            moment = datetime.fromisoformat(text)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    except ValueError:
        raise click.BadParameter("give a time like 14:30 or a date and time like 2026-12-06T14:30.",
                                 param_hint="--until") from None
    return moment.astimezone(timezone.utc)


@maintenance_cli.command("on")
@click.option("--retry-after", type=click.IntRange(1, 7 * 24 * 3600), default=DEFAULT_RETRY_AFTER,
              show_default=True, help="Seconds browsers and clients are told to wait before trying again.")
@click.option("--until", "until_text", metavar="TIME",
              help="When the service should be back (14:30, or 2026-12-06T14:30): shown on the page.")
@click.option("--message", default="", help="A sentence shown on the page, for example why.")
def maintenance_on(retry_after: int, until_text: str | None, message: str) -> None:
    """Answer every page with "Sorry, the service is unavailable" (503) until `flask maintenance off`."""
    until = _until(until_text)
    try:
        path = turn_on(retry_after, message.strip(), until)
    except OSError as error:
        raise click.ClickException(f"The flag file {flag_path()} could not be written: {error.strerror}.") from None
    click.echo(f"Maintenance mode is on ({path}). Every page answers 503 with Retry-After; /healthz still "
               "answers. Turn it off with `flask maintenance off` (on every server, unless they share this file).")


@maintenance_cli.command("off")
def maintenance_off() -> None:
    """Open the site again."""
    try:
        was_on = turn_off()
    except OSError as error:
        raise click.ClickException(f"The flag file {flag_path()} could not be removed: {error.strerror}.") from None
    if was_on:
        click.echo(f"Maintenance mode is off ({flag_path()} removed). Pages answer again.")
    else:
        click.echo(f"Maintenance mode was not on ({flag_path()} does not exist).")


@maintenance_cli.command("status")
def maintenance_status() -> None:
    """Say whether maintenance mode is on, since when and with what message."""
    forget()
    state = current()
    if state is None:
        click.echo(f"Maintenance mode is off (no {flag_path()}).")
        return
    since = state.since.isoformat(timespec="seconds") if state.since else "an unknown time"
    lines = [f"Maintenance mode is on since {since} ({flag_path()}); Retry-After {state.seconds_to_wait()} seconds."]
    if state.until:
        lines.append(f"Back expected at {state.until.isoformat(timespec='minutes')}.")
    if state.message:
        lines.append(f"Message: {state.message}")
    click.echo("\n".join(lines))
