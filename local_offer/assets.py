"""Light pages: compressed responses and fingerprinted, year-long cached static files.

Every ``url_for('static', filename=...)`` of a file that exists gains ``?v=<hash>``,
the first characters of the SHA-256 of its contents; a request carrying the file's
current hash is answered with ``Cache-Control: public, max-age=31536000, immutable``,
so a browser keeps the file for a year and never asks again.  When the file changes
its hash (and so its address) changes.  A request without ``v``, or with an old one,
still gets the file, revalidated on each use as before.  Hashes are kept per file and
worked out again only when the file's size or modification time moves.

Responses are compressed (brotli or gzip, as the browser accepts) by Flask-Compress:
HTML, CSS, JavaScript, JSON and SVG.  A response to a signed-in account (staff and
providers' pages, private downloads) is sent uncompressed, so nothing private on it can
be guessed from its compressed length (BREACH).  A public page's CSRF token (the
shortlist's save buttons) is safe to compress: Flask-WTF signs it with a timestamp, so
the token changes every second and cannot be recovered by comparing lengths.

Static files, the theme stylesheet and the favicon never touch the session: their
responses carry no ``Set-Cookie`` and no ``Vary: Cookie``, which would otherwise make
a browser holding a session cookie (anyone who opened a form) ask for them again on
every page, as the cookie is refreshed.
"""

from __future__ import annotations

import hashlib
import os
import threading

from flask import Flask, current_app, request
from flask_login import current_user
from flask.sessions import SessionInterface
from flask_compress import Compress

ONE_YEAR = 60 * 60 * 24 * 365
#: Characters of the SHA-256 hex digest kept in an address: enough to tell versions apart.
HASH_LENGTH = 12
#: What is compressed: pages, styles, scripts, data and vector images.
COMPRESSED_TYPES = [
    "text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
    "application/json", "application/ld+json", "application/geo+json", "application/xml", "text/xml",
    "image/svg+xml",
]

#: Endpoints that serve the same file to everyone: the session is never saved on their responses.
SHARED_FILES = frozenset({"static", "site.theme_css", "site.favicon"})

compress = Compress()
_hashes: dict[str, tuple[int, int, str]] = {}
_lock = threading.Lock()


def file_hash(path: str) -> str | None:
    """Return the content hash of a file, or None when it is not a file."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    if not os.path.isfile(path):
        return None
    known = _hashes.get(path)
    if known and known[0] == stat.st_mtime_ns and known[1] == stat.st_size:
        return known[2]
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(65536), b""):
            digest.update(chunk)
    value = digest.hexdigest()[:HASH_LENGTH]
    with _lock:
        _hashes[path] = (stat.st_mtime_ns, stat.st_size, value)
    return value


def static_hash(filename: str) -> str | None:
    """Return the content hash of a file under the static folder, or None when there is no such file."""
    folder = current_app.static_folder
    if not folder or not filename:
        return None
    path = os.path.realpath(os.path.join(folder, filename))
    if not path.startswith(os.path.realpath(folder) + os.sep):
        return None
    return file_hash(path)


def _fingerprint(endpoint: str, values: dict) -> None:
    """Add ``v=<hash>`` to the address of a static file (``url_for`` calls this)."""
    if endpoint != "static" or "v" in values:
        return
    value = static_hash(values.get("filename") or "")
    if value:
        values["v"] = value


def _cache_fingerprinted(response):
    """Let browsers keep a static file for a year when it is asked for by its current hash."""
    if request.endpoint != "static" or response.status_code not in (200, 206, 304):
        return response
    asked = request.args.get("v")
    if asked and asked == static_hash((request.view_args or {}).get("filename") or ""):
        # The same public file for everyone, signed in or not: nothing private to keep out of caches.
        response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
        response.headers.pop("Pragma", None)
        response.headers.pop("Expires", None)
    return response


def _compress_unless_private(response):
    """Compress a response, unless it goes to a signed-in account (sent as it is)."""
    if current_user and getattr(current_user, "is_authenticated", False):
        return response
    return compress.after_request(response)


def _sessionless_files(interface: SessionInterface) -> SessionInterface:
    """Wrap the app's session interface so shared files' responses never save the session."""
    base = type(interface)

    class SharedFilesSkipTheSession(base):
        """The app's own session interface, except that shared files leave the session alone."""

        def save_session(self, app, session, response):
            """Save the session as usual, except on the response of a shared file."""
            if request.endpoint in SHARED_FILES:
                return None
            return super().save_session(app, session, response)

    wrapped = SharedFilesSkipTheSession.__new__(SharedFilesSkipTheSession)
    wrapped.__dict__.update(interface.__dict__)
    return wrapped


def init_app(app: Flask) -> None:
    """Fingerprint static addresses, cache fingerprinted files for a year and compress responses.

    Call this before installing any other ``after_request`` hook: Flask runs those
    hooks last-registered first, so compression then sees each response as finished.
    """
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "deflate"])
    app.config.setdefault("COMPRESS_REGISTER", False)
    compress.init_app(app)
    app.after_request(_compress_unless_private)
    app.after_request(_cache_fingerprinted)
    app.url_defaults(_fingerprint)
    app.session_interface = _sessionless_files(app.session_interface)
