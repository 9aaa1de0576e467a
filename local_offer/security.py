"""Security baseline applied to every response and request.

Each response gets a Content-Security-Policy with a fresh nonce (the only way
an inline script may run), ``X-Content-Type-Options: nosniff``, a strict
Referrer-Policy and frame protection.  Each request is checked for query
strings that are too long or carry control characters, which would otherwise
reach the database or the search engine.  Addresses to go back to after
signing in or choosing a language pass ``safe_next``, so a link can never send
someone on to another site.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, request, url_for

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


def safe_next(target: str | None, fallback: str | None = None) -> str:
    """Return a same-site path to go back to, never another site's address."""
    fallback = fallback or url_for("directory.home")
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


def add_headers(response):
    """Add the security headers to a response."""
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
