"""What families look for: an anonymous log of searches, for the unmet-demand report.

Each search is recorded with its words (after removing anything that looks
like an email address, phone number, postcode or long number), its filters,
the outward code only of a postcode (or the town typed) and how many results
it found: no IP address, no cookie, nothing that identifies a person.

Searches never wait for the database: rows go onto an in-memory queue that a
background thread writes in batches.  ``flask demand prune`` (daily from cron)
folds rows older than the retention period (90 days by default) into daily
counts and deletes them.
"""

from __future__ import annotations

import queue
import re
import threading
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app
from sqlalchemy import delete, func, insert, select

from local_offer import geo
from local_offer.extensions import db
from local_offer.models import SearchDemand, SearchLog

_EMAIL = re.compile(r"\S+@\S+")
_PHONE = re.compile(r"(?:\+?\d[\d\s()-]{6,}\d)")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2}\b", re.IGNORECASE)
_OUTWARD = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\b(?=\s|$)", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"\d{4,}")


def scrub(text: str) -> str:
    """Remove email addresses, phone numbers, postcodes and long numbers from search words."""
    cleaned = _EMAIL.sub(" ", text or "")
    cleaned = _POSTCODE.sub(" ", cleaned)
    cleaned = _PHONE.sub(" ", cleaned)
    cleaned = _LONG_NUMBER.sub(" ", cleaned)
    cleaned = " ".join(word for word in cleaned.split() if not (_OUTWARD.fullmatch(word) and any(c.isdigit() for c in word)))
    return cleaned.lower()[:200]


def place_for_log(point: geo.Point | None) -> str:
    """Return what may be kept of a place: a town's name, or only a postcode's outward code."""
    if point is None or point.kind == "location":
        return ""
    if point.kind in ("postcode", "sector", "outward"):
        return point.label.split(" ")[0]
    return point.label[:100]


class DemandLog:
    """Queue search records and write them in batches on a background thread."""

    def __init__(self, app: Flask):
        """Remember the app (for the writer's context) and its flush interval."""
        self.app = app
        self.interval = float(app.config.get("SEARCH_LOG_FLUSH_SECONDS", 2.0))
        self.enabled = bool(app.config.get("SEARCH_LOG_ENABLED", True))
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def record(self, text: str, filters: dict, place: geo.Point | None, results: int) -> None:
        """Queue one search; returns at once."""
        if not self.enabled:
            return
        self.queue.put({"occurred_at": datetime.now(timezone.utc), "words": scrub(text),
                        "filters": filters, "place": place_for_log(place), "results": results})
        self._ensure_writer()

    def _ensure_writer(self) -> None:
        """Start the background writer the first time it is needed in this process."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="search-demand-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        """Write queued rows every few seconds until the process ends."""
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # never let logging take a worker down; rows are retried next time
                self.app.logger.exception("Could not write the search demand log")

    def stop(self) -> None:
        """Stop the background writer (queued rows not yet written stay in the queue)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def flush(self) -> int:
        """Write every queued row now, in one transaction; return how many."""
        rows = []
        while True:
            try:
                rows.append(self.queue.get_nowait())
            except queue.Empty:
                break
        if not rows:
            return 0
        with self.app.app_context():
            try:
                db.session.execute(insert(SearchLog), rows)
                db.session.commit()
            except Exception:
                db.session.rollback()
                for row in rows:
                    self.queue.put(row)
                raise
            finally:
                db.session.remove()
        return len(rows)


def prune(days: int) -> int:
    """Fold log rows older than ``days`` into daily counts and delete them; return rows removed."""
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    old = db.session.execute(select(SearchLog.occurred_at, SearchLog.words, SearchLog.results)
                             .where(SearchLog.occurred_at < cutoff)).all()
    totals: dict[tuple, list[int]] = {}
    for occurred_at, words, results in old:
        key = (occurred_at.date(), words)
        bucket = totals.setdefault(key, [0, 0])
        bucket[0] += 1
        bucket[1] += 1 if results == 0 else 0
    for (day, words), (searches, empty) in totals.items():
        existing = db.session.get(SearchDemand, (day, words))
        if existing:
            existing.searches += searches
            existing.without_results += empty
        else:
            db.session.add(SearchDemand(day=day, words=words, searches=searches, without_results=empty))
    db.session.execute(delete(SearchLog).where(SearchLog.occurred_at < cutoff))
    db.session.commit()
    return len(old)


def top_unmet(days: int, limit: int = 20) -> list[tuple[str, int]]:
    """Return the most common searches that found nothing in the last ``days`` days."""
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    return list(db.session.execute(
        select(SearchLog.words, func.count()).where(SearchLog.occurred_at >= cutoff, SearchLog.results == 0,
                                                    SearchLog.words != "")
        .group_by(SearchLog.words).order_by(func.count().desc()).limit(limit)).all())


def top_searches(days: int, limit: int = 100) -> list[tuple[str, int]]:
    """Return the commonest searches of the last ``days`` days, with how often each was made."""
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    return list(db.session.execute(
        select(SearchLog.words, func.count()).where(SearchLog.occurred_at >= cutoff, SearchLog.words != "")
        .group_by(SearchLog.words).order_by(func.count().desc()).limit(limit)).all())


def log_search(text: str, filters: dict, place: geo.Point | None, results: int) -> None:
    """Record a search, anonymously and without waiting, for the unmet-demand report."""
    current_app.extensions["local_offer_demand"].record(text, filters, place, results)


def init_app(app: Flask) -> None:
    """Give the app its demand log (the background writer starts with the first search)."""
    app.extensions["local_offer_demand"] = DemandLog(app)
