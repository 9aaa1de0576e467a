"""One log line per request, a reference for each request, and the log's format.

Every request gets a reference (``request_id``): the one a trusted proxy sent in
``X-Request-Id`` when it looks like one (8 to 64 letters, digits, ``.``, ``_`` or
``-``; only when ``LOCAL_OFFER_PROXIES`` says a proxy is in front), otherwise a new
random one.  It is sent back in the ``X-Request-Id`` header, shown on error pages
("quote this reference") and in the API's JSON errors, and added to every log
record made while the request is answered, so a parent's reference finds the
request and any error with its traceback.

At the end of each request one line goes to the ``local_offer.access`` logger:
the method, the path (query values replaced by "…", and the secret part of
emailed and shared links, such as ``/account/reset/<token>``, masked), the
status, the time taken and, for a signed-in account, its role.  Never an email
address, a search's words or an IP address.

``configure_logging`` gives the process one handler on stderr, as text or as
JSON lines (``LOCAL_OFFER_LOG_FORMAT``), unless logging is already set up (a test
runner, a council's own logging configuration).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
import traceback
from datetime import datetime, timezone

from flask import Flask, current_app, g, has_request_context, request

#: What an incoming request id must look like to be kept (anything else is replaced).
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
HEADER = "X-Request-Id"
#: What stands in for a query value or the secret part of a link.
MASK = "…"

access_log = logging.getLogger("local_offer.access")


def accepted_request_id(value: str | None) -> str | None:
    """Return an incoming request id if it is safe to keep (a whole match of ``REQUEST_ID``), else None."""
    if value and REQUEST_ID.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    """Return a fresh random reference: 16 hexadecimal characters."""
    return secrets.token_hex(8)


def request_id() -> str:
    """Return this request's reference (a template global; empty outside a request)."""
    if not has_request_context():
        return ""
    if "request_id" not in g:
        _start()
    return g.request_id


def _start() -> None:
    """Give the request its reference and note when it started (the first thing done for each request)."""
    g.request_started = time.perf_counter()
    incoming = request.headers.get(HEADER) if current_app.config.get("PROXIES") else None
    g.request_id = accepted_request_id(incoming) or new_request_id()


# --- the path as logged ----------------------------------------------------------------------------


def secret_prefixes(app: Flask) -> tuple[str, ...]:
    """Return the static start of every route whose next part is a secret (a variable named like ``token``)."""
    prefixes = set()
    for rule in app.url_map.iter_rules():
        for part in re.finditer(r"<(?:[^:<>]+:)?([^<>]+)>", rule.rule):
            if "token" in part.group(1).lower():
                prefixes.add(rule.rule[: part.start()])
    return tuple(sorted(prefixes, key=len, reverse=True))


def _printable(text: str) -> str:
    """Escape characters that could break a log line (newlines, other controls)."""
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" if ord(char) < 256
                   else f"\\u{ord(char):04x}" for char in text)


def logged_path(path: str, query: dict | None = None, prefixes: tuple[str, ...] = ()) -> str:
    """Return a path fit for the log: secret link parts masked, query keys kept and their values masked."""
    for prefix in prefixes:
        if path.startswith(prefix) and len(path) > len(prefix):
            rest = path[len(prefix):]
            tail = rest[rest.index("/"):] if "/" in rest else ""
            path = prefix + MASK + tail
            break
    if query:
        path += "?" + "&".join(f"{key}={MASK}" for key in query)
    return _printable(path)[:500]


def _path_of_request() -> str:
    """Return this request's path as the log shows it."""
    prefixes = current_app.extensions.get("local_offer_secret_prefixes", ())
    keys = dict.fromkeys(request.args.keys()) if request.args else None
    return logged_path(request.path, keys, prefixes)


def _role() -> str | None:
    """Return the signed-in account's role when it is already loaded (never loads it: no query of its own)."""
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    role = getattr(user, "role", None)
    return getattr(role, "value", None)


def _finish(response):
    """Send the reference back and write the request's access line (the last hook to run)."""
    response.headers[HEADER] = request_id()
    if not access_log.isEnabledFor(logging.INFO):
        return response
    started = g.get("request_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started else None
    fields = {"method": request.method, "path": _path_of_request(), "status": response.status_code,
              "duration_ms": duration}
    role = _role()
    if role:
        fields["role"] = role
    message = f"{fields['method']} {fields['path']} {fields['status']} {duration}ms"
    if role:
        message += f" role={role}"
    access_log.info(message, extra={"access": fields})
    return response


def describe_request() -> str:
    """Return "METHOD path" of this request as the log shows it, for error messages."""
    if not has_request_context():
        return ""
    return f"{request.method} {_path_of_request()}"


# --- formatting ------------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Add the request's reference to each record made while a request is answered (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class TextFormatter(logging.Formatter):
    """``2026-12-06T10:15:02Z INFO local_offer.access [3f9a…] GET /search?q=… 200 12.5ms``; tracebacks follow."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatTime(self, record, datefmt=None):  # noqa: N802  (logging's name)
        return _utc(record.created)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, the access fields, a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": _utc(record.created), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        rid = getattr(record, "request_id", "-")
        if rid and rid != "-":
            entry["request_id"] = rid
        entry.update(getattr(record, "access", None) or {})
        if record.exc_info:
            entry["traceback"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def _utc(created: float) -> str:
    """Return a record's time in UTC, ISO 8601 with milliseconds."""
    moment = datetime.fromtimestamp(created, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def make_handler(log_format: str, stream=None) -> logging.Handler:
    """Return a handler writing records in the given format (``text`` or ``json``) to a stream (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    return handler


#: The handler this process installed, once.
_installed: logging.Handler | None = None


def configure_logging(app: Flask) -> None:
    """Send the process's log to stderr in the configured format, once, unless logging is already set up."""
    global _installed
    root = logging.getLogger()
    if _installed is not None or root.handlers:
        return  # set up already: by us, by a test runner or by the council's own logging configuration
    from flask.logging import default_handler

    _installed = make_handler(app.config["LOG_FORMAT"])
    root.addHandler(_installed)
    logging.getLogger("local_offer").setLevel(app.config["LOG_LEVEL"])
    app.logger.removeHandler(default_handler)  # ours is on the root: no line twice


def init_app(app: Flask) -> None:
    """Give each request its reference first, and write its access line last."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)  # after-hooks run last-registered first
    app.add_template_global(request_id)
    app.extensions["local_offer_secret_prefixes"] = ()


def learn_secret_paths(app: Flask) -> None:
    """Note which routes carry secrets in their path (call once every blueprint is registered)."""
    app.extensions["local_offer_secret_prefixes"] = secret_prefixes(app)
