"""Health checks for load balancers and monitoring: ``/healthz`` (alive) and ``/readyz`` (ready to serve).

Both answer JSON, never HTML, with ``Cache-Control: no-store``, and name no setting,
host, address, path or key.

* ``/healthz``: the process answers (no database, no disk): ``{"status": "ok"}``,
  also during maintenance.  Use it to decide whether to restart a process.
* ``/readyz``: this server can serve families well: the database answers and its
  schema is this code's or newer, the search index is open and has every change
  older than a minute, the clocks agree and the secret key is the other servers'
  (``startup_checks.readiness``).  ``{"status": "ready"}`` 200, or
  ``{"status": "not ready", "problems": [...]}`` 503; also 503 during maintenance,
  so load balancers drain.  Use it to decide whether to send traffic.

A load balancer often names the server by its IP address in ``Host``; with
``LOCAL_OFFER_TRUSTED_HOSTS`` set, that would be refused with 400.  These two
addresses build no links and show nothing of the host, so they answer whatever
``Host`` a request names (``HostFreeChecks``).  They are exempt from rate limits and
CSRF, never kept in the page cache and never in the search log.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, jsonify

from local_offer.auth import public
from local_offer.extensions import csrf, limiter
from local_offer.startup_checks import readiness

bp = Blueprint("health", __name__)

PATHS = ("/healthz", "/readyz")


def _json(body: dict, status: int = 200):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@public
def healthz():
    """Answer that the process is up (no I/O at all)."""
    return _json({"status": "ok"})


@bp.get("/readyz")
@public
def readyz():
    """Answer whether this server is ready for traffic, listing in plain English what is not."""
    problems = readiness(current_app._get_current_object())
    if problems:
        return _json({"status": "not ready", "problems": problems}, 503)
    return _json({"status": "ready"})


class HostFreeChecks:
    """WSGI middleware: ``/healthz`` and ``/readyz`` are answered whatever ``Host`` the request names.

    They are given the site's own host (from ``LOCAL_OFFER_PUBLIC_URL``), so a load
    balancer asking by IP address passes ``TRUSTED_HOSTS``; every other address is untouched.
    """

    def __init__(self, wrapped, host: str):
        self.wrapped = wrapped
        self.host = host

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in PATHS:
            environ["HTTP_HOST"] = self.host
            environ.pop("HTTP_X_FORWARDED_HOST", None)
        return self.wrapped(environ, start_response)


def init_app(app: Flask) -> None:
    """Register the checks, outside rate limits and CSRF, answering any Host when TRUSTED_HOSTS is set."""
    limiter.exempt(bp)
    csrf.exempt(bp)
    app.register_blueprint(bp)
    if app.config.get("TRUSTED_HOSTS"):
        app.wsgi_app = HostFreeChecks(app.wsgi_app, urlsplit(app.config["PUBLIC_URL"]).netloc)
