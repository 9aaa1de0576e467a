"""Whole public pages kept as rendered, for visitors with nothing of their own on them.

A results page takes about 20 ms to answer (the search, then some 80 KB of
HTML); the same address asked again by another family gets the same page, so
the home, results, category and information pages are kept for
``PAGE_CACHE_SECONDS`` (60) under a key of everything they show:

* the address as asked (path and query string) and the host;
* the language the page is in and today's date (cards say "last checked");
* what the page was built from, which the view passes in: for results and
  categories the search index version searches read and the filters' last
  change (so a listing published, changed or withdrawn shows on the next
  request, in every worker), and for the home and information pages the
  information pages' files.
  Vocabulary names may show for up to the vocabulary cache's 30 seconds more.

Only a visitor who is not signed in, has no shortlist (in the session or kept
on the device) and no message waiting is given (or gives) a kept page: nobody's shortlist, account or notice is ever
in one.  Two things differ on every response and are put back per request: the
CSRF token of the page's save buttons and the CSP nonce of its scripts.  They
are kept as markers derived from the secret key, so no listing text can name
them.  Side effects a view has on every request (the anonymous search log) are
kept with the page and done again on each request it serves.

Storage is Flask-Caching: each process's memory by default (``memory://``, at
most ``PAGE_CACHE_ENTRIES`` pages), or Redis (``PAGE_CACHE_URL=redis://127.0.0.1:6379/0``)
so every gunicorn worker shares one copy.  Pages are kept zlib-compressed (a
results page of 80 KB takes about 12 KB), so someone asking thousands of
different addresses a minute fills Redis six times more slowly.  A store that cannot be reached is logged and the page is
rendered as usual: never a 500 because Redis is down.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import zlib
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request, session
from flask_caching import Cache
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from local_offer.i18n import current_language
from local_offer.security import csp_nonce
from local_offer.shortlists import DEVICE_COOKIE, SESSION_KEY

log = logging.getLogger(__name__)

cache = Cache()

#: Where Flask-WTF keeps the signed token it puts in this request's forms.
_CSRF_FIELD = "csrf_token"
#: Session keys that make a page this visitor's own: a shortlist, pending messages, a signed-in account.
_PERSONAL_SESSION_KEYS = (SESSION_KEY, "_flashes", "_user_id")


@dataclass
class Kept:
    """A rendered page as kept: HTML with markers (zlib-compressed), and what each request it serves must do again."""

    packed: bytes
    private: bool = False
    #: Arguments for the view's ``again`` callback (the search log's entry), or None.
    again: tuple | None = None


def enabled() -> bool:
    """Say whether this request may be answered from, or kept in, the page cache."""
    if not current_app.config.get("PAGE_CACHE_SECONDS"):
        return False
    if request.method not in ("GET", "HEAD"):
        return False
    if any(key in session for key in _PERSONAL_SESSION_KEYS) or DEVICE_COOKIE in request.cookies:
        return False
    return not getattr(current_user, "is_authenticated", False)


def _markers() -> tuple[str, str]:
    """Return the stand-ins for the CSRF token and the nonce: unguessable without the secret key."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    token = hmac.new(secret, b"page-cache csrf", hashlib.sha256).hexdigest()[:24]
    nonce = hmac.new(secret, b"page-cache nonce", hashlib.sha256).hexdigest()[:24]
    return f"lo-csrf-{token}", f"lo-nonce-{nonce}"


def _key(view: str, state) -> str:
    """Return the cache key of this request's page of ``view`` built from ``state``."""
    raw = repr((view, request.host.lower(), request.full_path, current_language(), date.today().isoformat(), state))
    return hashlib.sha256(raw.encode()).hexdigest()


def serve(view: str, state, again=None) -> Response | None:
    """Answer this request from a kept page, or return None (then render it and call ``keep``).

    ``state`` is what the page was built from (see the module's notes); ``again``,
    if given, is called with the kept arguments on every request the page serves.
    """
    if not enabled():
        return None
    g.lo_page_cache_key = key = _key(view, state)
    try:
        kept = cache.get(key)
    except Exception:  # a store that went away: render the page as usual
        log.warning("The page cache could not be read; rendering the page", exc_info=True)
        return None
    if not isinstance(kept, Kept):
        return None
    token_marker, nonce_marker = _markers()
    html = zlib.decompress(kept.packed).decode()
    if token_marker in html:
        html = html.replace(token_marker, generate_csrf())
    if nonce_marker in html:
        html = html.replace(nonce_marker, csp_nonce())
    if kept.private:
        g.lo_shortlist_private = True
    if again is not None and kept.again is not None:
        again(*kept.again)
    return Response(html, mimetype="text/html")


def keep(body, again_args: tuple | None = None) -> Response:
    """Keep this request's freshly rendered page (if it may be kept) and return it as a response."""
    response = body if isinstance(body, Response) else Response(body, mimetype="text/html")
    key = g.pop("lo_page_cache_key", None)
    if (key is None or response.status_code != 200 or response.mimetype != "text/html"
            or "Set-Cookie" in response.headers or not enabled()):
        return response
    html = response.get_data(as_text=True)
    token_marker, nonce_marker = _markers()
    token = g.get(_CSRF_FIELD)
    if token:
        html = html.replace(token, token_marker)
    nonce = g.get("csp_nonce")
    if nonce:
        html = html.replace(nonce, nonce_marker)
    kept = Kept(zlib.compress(html.encode(), 1), private=bool(g.get("lo_shortlist_private")), again=again_args)
    try:
        cache.set(key, kept, timeout=int(current_app.config["PAGE_CACHE_SECONDS"]))
    except Exception:
        log.warning("The page cache could not be written; the page is sent all the same", exc_info=True)
    return response


def clear() -> None:
    """Forget every kept page of this app (tests; after restoring a database)."""
    try:
        cache.clear()
    except Exception:
        log.warning("The page cache could not be cleared", exc_info=True)


def _cache_config(app: Flask) -> dict:
    """Translate ``PAGE_CACHE_URL`` into Flask-Caching's settings for this app."""
    url = str(app.config.get("PAGE_CACHE_URL") or "memory://")
    # Keys of different sites (or test databases) sharing one Redis never meet.
    scope = hashlib.sha256(f"{app.config['SECRET_KEY']}|{app.config['SQLALCHEMY_DATABASE_URI']}".encode())
    settings = {"CACHE_DEFAULT_TIMEOUT": int(app.config.get("PAGE_CACHE_SECONDS") or 60),
                "CACHE_KEY_PREFIX": f"lo-page-{scope.hexdigest()[:12]}-"}
    if url.startswith(("redis://", "rediss://", "unix://")):
        database = urlsplit(url).path.strip("/")
        settings.update({"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url,
                         "CACHE_REDIS_DB": int(database) if database.isdecimal() else 0,
                         "CACHE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}})
    elif url == "memory://":
        settings.update({"CACHE_TYPE": "SimpleCache",
                         "CACHE_THRESHOLD": int(app.config.get("PAGE_CACHE_ENTRIES") or 300)})
    else:
        from local_offer.config import ConfigError

        raise ConfigError(f"LOCAL_OFFER_PAGE_CACHE_URL must be memory:// or a redis:// address, not {url!r}.")
    return settings


def init_app(app: Flask) -> None:
    """Give the app its page cache (in memory, or in Redis when configured)."""
    app.config.setdefault("PAGE_CACHE_SECONDS", 60)
    app.config.setdefault("PAGE_CACHE_URL", "memory://")
    cache.init_app(app, config=_cache_config(app))
