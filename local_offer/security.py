"""Security baseline applied to every response and request.

Each response gets a Content-Security-Policy with a fresh nonce (the only way
an inline script may run), ``X-Content-Type-Options: nosniff``, a strict
Referrer-Policy and frame protection.  Each request is checked for query
strings that are too long or carry control characters, which would otherwise
reach the database or the search engine.  Addresses to go back to after
signing in or choosing a language pass ``safe_next``, so a link can never send
someone on to another site.  Every response to a signed-in account, and every
private download, carries ``Cache-Control: no-store``: a shared computer's
browser or a proxy never keeps a page of contacts.  The one exception is a
static file asked for by its content hash (``local_offer.assets``): the same
public file for everyone, kept for a year.
"""

from __future__ import annotations

import secrets
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, g, request, url_for
from flask_login import current_user
from werkzeug.urls import iri_to_uri

from local_offer.errors import refuse
from local_offer.i18n import _

#: Characters a person never types; NUL in particular breaks PostgreSQL text.
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"}


def new_csp_nonce() -> None:
    """Give each request a fresh CSP nonce (never reuse one across requests)."""
    g.csp_nonce = secrets.token_urlsafe(18)


def csp_nonce() -> str:
    """Return this request's CSP nonce."""
    if "csp_nonce" not in g:
        new_csp_nonce()
    return g.csp_nonce


def _tile_origin() -> str:
    """Return the map tile server's origin for img-src, or nothing when maps have no tiles."""
    parts = urlsplit(current_app.config.get("MAP_TILE_URL") or "")
    return f" {parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def content_security_policy(nonce: str) -> str:
    """Build the Content-Security-Policy header for one response."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            f"img-src 'self' data:{_tile_origin()}",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def check_request() -> None:
    """Reject query strings that are over-long or contain control characters."""
    raw = request.query_string
    if len(raw) > _max_query():
        abort(414)
    for values in request.args.listvalues():
        for value in values:
            if _CONTROL.intersection(value):
                abort(400, description="The address contains characters that cannot be used.")
    for key in request.args.keys():
        if _CONTROL.intersection(key):
            abort(400, description="The address contains characters that cannot be used.")


def _max_query() -> int:
    """Return the longest query string this site accepts."""
    return current_app.config["MAX_QUERY_STRING"]


#: Decoding rounds ``safe_next`` looks through: ``%252F`` is ``%2F`` is ``/``.
_DECODE_ROUNDS = 3


def _forms(target: str) -> list[str]:
    """Return the target and what it becomes when percent-decoded, once and again."""
    forms = [target]
    for _round in range(_DECODE_ROUNDS):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    return forms


def _invisible(text: str) -> bool:
    """Say whether text holds a control, format or line-separator character (CR, LF, tab, NUL, U+2028...)."""
    return any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp") for char in text)


def _off_site(form: str) -> bool:
    """Say whether a browser could read this address as another site's, or as a script."""
    parts = urlsplit(form)
    return (not form.startswith("/") or form.startswith("//") or "\\" in form
            or bool(parts.scheme) or bool(parts.netloc))


def safe_next(target: str | None, fallback: str | None = None) -> str:
    """Return a same-site path to go back to, never another site's address.

    A target holding a control character (CR/LF would inject a header; browsers
    drop a tab or newline, so "/", tab, "/evil" becomes ``//evil``), plainly or
    percent-encoded, stops the request with 400.  One that could lead off the site
    (a scheme, ``//host``, a backslash, anything not starting with ``/``, or any of
    these once decoded) gives the fallback.  What is returned is plain ASCII, safe
    in a ``Location`` header.
    """
    fallback = fallback or url_for("directory.home")
    if not target:
        return fallback
    forms = _forms(target)
    if any(_invisible(form) for form in forms):
        refuse(400, _("The address to go back to contains characters that cannot be used."))
    if any(_off_site(form) for form in forms):
        return fallback
    return iri_to_uri(target)


def no_store(response):
    """Keep a response out of every cache (browser, proxy, back button): a private page or download."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _signed_in() -> bool:
    """Say whether the response is for a signed-in account (when that cannot be told, assume it is)."""
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # noqa: BLE001  (the account could not be loaded: keep the response out of caches)
        return True


def add_headers(response):
    """Add the security headers to a response; anything sent to a signed-in account is never stored."""
    if _signed_in():
        no_store(response)
    response.headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), payment=(), geolocation=(self)"
    if current_app.config["HSTS"]:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def init_app(app: Flask) -> None:
    """Install the request check, the headers and the nonce template global."""
    app.before_request(new_csp_nonce)
    app.before_request(check_request)
    app.after_request(add_headers)
    app.add_template_global(csp_nonce)
