"""Slowing down password guessing without letting anyone lock an account's owner out.

Sign-in has two throttles.  Per IP address, a plain limit (``SIGN_IN_LIMIT`` on
the route).  Per email address typed, a progressive delay: each failed sign-in
counts against the email and against the pair (email, address it came from).
Once the email has had ``SIGN_IN_FREE_FAILURES`` failures in
``SIGN_IN_FAILURE_WINDOW`` seconds, an address that has itself failed for that
email must wait before its next try: 2, 4, 8... seconds, up to
``SIGN_IN_MAX_DELAY``, counted from its own last failure.  An address with no
recent failure for the email is never refused, so ten wrong tries from
elsewhere cannot keep the owner out; a success clears that address's record.

Password-reset emails are limited per email address (``RESET_LIMIT``) without
ever refusing the request: past the limit the answer is the same and no further
email is sent, so the owner can always reset with a link already in their inbox.

The counts live in the rate limiter's storage (Redis with several workers, so
every worker sees them).  When that storage cannot be reached, this process's
memory stands in, with a WARNING logged, as flask-limiter does for its limits.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import current_app
from limits import parse_many
from limits.storage import MemoryStorage, Storage
from limits.strategies import FixedWindowRateLimiter

from local_offer.extensions import limiter

log = logging.getLogger(__name__)

#: This process's stand-in when the shared storage cannot be reached.
_memory = MemoryStorage()


def _enabled() -> bool:
    """Say whether throttling is on (``RATELIMIT_ENABLED``: off in most tests)."""
    return bool(current_app.config.get("RATELIMIT_ENABLED", True)) and limiter.enabled


def _shared() -> Storage:
    """Return the rate limiter's storage (its in-memory fallback while the main one is down)."""
    return limiter.limiter.storage


def _call(operation: str, *args):
    """Run one storage operation on the shared storage, or on this process's memory if it fails."""
    storage = _shared()
    try:
        return getattr(storage, operation)(*args)
    except Exception as error:  # noqa: BLE001  (Redis down: any connection error)
        log.warning("Sign-in throttle storage unreachable - using this process's memory: %s", error)
        return getattr(_memory, operation)(*args)


def _key(kind: str, email: str, address: str | None = None) -> str:
    """Return a storage key: the email (and address) hashed, so neither is stored as typed."""
    subject = email if address is None else f"{email}\n{address}"
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
    return f"{current_app.config.get('RATELIMIT_KEY_PREFIX', '')}lo-sign-in/{kind}/{digest}"


def wait_seconds(email: str, address: str | None) -> int:
    """Return how long this address must wait before trying this email again (0: try now)."""
    if not _enabled():
        return 0
    if _call("get", _key("pair", email, address)) == 0:
        return 0  # no recent failure from here: never refused
    wait = _key("wait", email, address)
    if _call("get", wait) == 0:
        return 0
    return max(1, math.ceil(_call("get_expiry", wait) - time.time()))


def failed(email: str, address: str | None) -> None:
    """Count a failed sign-in for the email and for this address, and set this address's next wait."""
    if not _enabled():
        return
    config = current_app.config
    window = int(config["SIGN_IN_FAILURE_WINDOW"])
    for_email = _call("incr", _key("email", email), window)
    for_pair = _call("incr", _key("pair", email, address), window)
    over = max(for_email, for_pair) - int(config["SIGN_IN_FREE_FAILURES"])
    if over >= 0:
        delay = min(int(config["SIGN_IN_MAX_DELAY"]), 2 ** min(over + 1, 30))
        wait = _key("wait", email, address)
        _call("clear", wait)
        _call("incr", wait, delay)


def succeeded(email: str, address: str | None) -> None:
    """Forget this address's failures for the email (the email's own count runs out by itself)."""
    if not _enabled():
        return
    _call("clear", _key("pair", email, address))
    _call("clear", _key("wait", email, address))


def may_email_reset(email: str) -> bool:
    """Say whether another reset email may go to this address now (``RESET_LIMIT`` per email)."""
    return allow("reset", email, "RESET_LIMIT")


def allow(kind: str, subject: str, setting: str) -> bool:
    """Count one use of ``kind`` by ``subject`` against the limit in ``setting``; False once it is over.

    For sending that must not be a free-for-all (a shortlist by email): each
    sender and each recipient is counted in the shared storage, hashed.
    """
    if not _enabled():
        return True
    key = _key(kind, subject)
    for item in parse_many(current_app.config[setting]):
        try:
            allowed = limiter.limiter.hit(item, key)
        except Exception as error:  # noqa: BLE001  (Redis down)
            log.warning("Limit storage unreachable - using this process's memory: %s", error)
            allowed = FixedWindowRateLimiter(_memory).hit(item, key)
        if not allowed:
            return False
    return True
