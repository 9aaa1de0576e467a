"""Neighbours' directories in ours: subscribe to another council's Open Referral UK feed and keep it current.

A Local Offer must include provision outside the area that local children are
likely to use.  A coordinator subscribes to a neighbour's feed (v1 or v3) with
its name and licence; ``pull`` reads it through the same importer as any ORUK
file and publishes its services as listings marked with the feed:

* searchable, labelled with where they come from and linked to the source;
* never edited here (a coordinator can hide one), kept out of our own API and
  exports (an aggregator reading both would count them twice) and out of reviews;
* ids namespaced by feed, so a neighbour's id can never overwrite one of ours.

Pulls are bounded and polite: each page has a timeout and a size limit, a feed
has a page limit and a service limit, and a feed that fails is tried again after
1, 2, 4... hours (at most a day).  A feed that answers ``modified_after`` (v3) is
asked for changes only between complete pulls, which happen weekly.  Only a
complete, successful pull withdraws services that have gone, and not when it
lists fewer than half of last time's: then it warns and withdraws nothing.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select

from local_offer.extensions import db
from local_offer.formats import is_web_address
from local_offer.i18n import _
from local_offer.interchange import oruk, sources
from local_offer.interchange.fields import plain_text, stable_id
from local_offer.interchange.importer import Mapper, run_import
from local_offer.models import (
    PUBLIC_STATUSES,
    Feed,
    Listing,
    ListingStatus,
    Term,
    User,
    record_audit,
    record_change,
    utcnow,
)
from local_offer.search import get_service

#: The most services one pull reads (more is reported, and nothing is withdrawn).
MAX_SERVICES = 20_000
#: How often a pull is complete (every service) when the feed can give changes only in between.
FULL_EVERY = timedelta(days=7)
#: How many names of added, changed and withdrawn services a report keeps (counts are whole).
REPORT_NAMES = 200
#: How often a feed is pulled.
PULL_EVERY = timedelta(hours=6)
#: The longest wait after failures.
MOST_BACKOFF = timedelta(hours=24)


class FeedError(ValueError):
    """A subscription that cannot be kept; ``field`` names the box to fix."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def all_feeds() -> list[Feed]:
    return list(db.session.execute(select(Feed).order_by(Feed.name)).scalars())


def add(url: str, name: str, licence: str, site_url: str = "", actor: User | None = None) -> Feed:
    """Subscribe to a feed (pulled at the next run of the feeds job, or at once with ``pull``)."""
    url, name, licence, site_url = (url or "").strip(), plain_text(name, 120), plain_text(licence, 200), \
        (site_url or "").strip()
    if not is_web_address(url) or len(url) > 500:
        raise FeedError(_("Enter the feed's address, starting with https://"), "url")
    if db.session.execute(select(Feed).where(Feed.url == url)).scalar_one_or_none() is not None:
        raise FeedError(_("That feed is already pulled"), "url")
    if not name:
        raise FeedError(_("Enter whose directory it is, like Derbyshire's Local Offer"), "name")
    if not licence:
        raise FeedError(_("Enter the licence the data is published under, like Open Government Licence v3.0"),
                        "licence")
    if site_url and (not is_web_address(site_url) or len(site_url) > 500):
        raise FeedError(_("Enter the directory's web address, starting with https://"), "site_url")
    feed = Feed(url=url, name=name, licence=licence, site_url=site_url, last_report={})
    db.session.add(feed)
    db.session.flush()
    record_audit("feed.added", "feed", feed.id, actor=actor, changes={"url": url, "name": name, "licence": licence})
    db.session.commit()
    return feed


def remove(feed: Feed, actor: User | None = None) -> int:
    """Stop pulling a feed; its services are withdrawn from the directory. Return how many."""
    withdrawn = 0
    for listing in _listings_of(feed):
        if listing.status in PUBLIC_STATUSES:
            _withdraw(listing, "listing.feed_removed")
            withdrawn += 1
        listing.feed_id = None
    record_audit("feed.removed", "feed", feed.id, actor=actor, changes={"url": feed.url, "withdrawn": withdrawn})
    db.session.delete(feed)
    db.session.commit()
    get_service().sync()
    return withdrawn


def ask_for_pull(feed: Feed, actor: User | None = None) -> None:
    """Have the feed pulled at the next run of the jobs, even while it is backing off after failures."""
    feed.next_try_at = utcnow()
    record_audit("feed.pull_asked", "feed", feed.id, actor=actor)
    db.session.commit()


def hide(listing: Listing, hidden: bool, actor: User | None = None) -> None:
    """Hide a neighbour's service from our directory (or show it again): kept so whatever its feed says."""
    if listing.feed_id is None:
        raise FeedError(_("Only services from a neighbour's feed can be hidden here"), "listing")
    listing.feed_hidden = hidden
    if hidden and listing.status in PUBLIC_STATUSES:
        listing.status = ListingStatus.ARCHIVED
    elif not hidden and listing.status is ListingStatus.ARCHIVED:
        listing.status = ListingStatus.PUBLISHED  # the next complete pull withdraws it again if it has gone
    record_audit("listing.feed_hidden" if hidden else "listing.feed_shown", "listing", listing.id, actor=actor)
    record_change(listing.id)
    db.session.commit()
    get_service().sync()


def _listings_of(feed: Feed) -> list[Listing]:
    return list(db.session.execute(select(Listing).where(Listing.feed_id == feed.id)).scalars())


def _withdraw(listing: Listing, action: str) -> None:
    listing.status = ListingStatus.ARCHIVED
    record_audit(action, "listing", listing.id)
    record_change(listing.id)


# --- pulling ------------------------------------------------------------------------------------------


def _namespaced(feed: Feed, record: dict) -> tuple[dict, str]:
    """The record with its service and organisation ids made the feed's own; and its id at the source."""
    if not isinstance(record, dict):
        return record, ""
    source_id = str(record.get("id") or "").strip()[:200]
    record = dict(record)
    if source_id:
        record["id"] = stable_id(f"feed:{feed.id}:{source_id}", "service")
    owner = record.get("organization")
    if isinstance(owner, dict) and owner.get("id"):
        record["organization"] = {**owner, "id": stable_id(f"feed:{feed.id}:{owner['id']}", "organisation")}
    return record, source_id


def _with(url: str, **values: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k not in values]
    query += list(values.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _stamp(moment: datetime) -> str:
    """A UTC date-time as feeds take it ("2026-12-06T05:40:00Z")."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def due(feed: Feed, now: datetime) -> bool:
    """Whether to pull the feed now: asked for, or its wait after failures is over, or not pulled for a while."""
    if feed.next_try_at is not None:
        return feed.next_try_at <= now  # backing off after failures, or a coordinator asked for a pull
    return feed.last_pull_at is None or now - feed.last_pull_at >= PULL_EVERY


def pull(feed: Feed, fetch: Callable[[str], bytes] | None = None, now: datetime | None = None,
         accept_fewer: bool = False, progress: Callable[[Iterable], Iterable] | None = None) -> dict:
    """Pull one feed: add and update its services, withdraw those gone (after a complete pull); return the report."""
    now = now or utcnow()
    most = current_app.config.get("FEEDS_MAX_SERVICES", MAX_SERVICES)
    complete = not (feed.incremental and feed.last_full_at and feed.last_success_at
                    and now - feed.last_full_at < FULL_EVERY)
    address = feed.url if complete else _with(feed.url, modified_after=_stamp(feed.last_success_at - timedelta(hours=1)))
    feed.last_pull_at = now
    report = {"at": now.isoformat(), "complete": complete, "services": 0, "created": 0, "updated": 0,
              "unchanged": 0, "withdrawn": 0, "rejected": [], "warnings": [], "problem": "",
              "names": {"created": [], "updated": [], "withdrawn": []}}
    records, source_ids = [], {}
    try:
        for record in sources.read_source(address, fetch=fetch):
            if len(records) >= most:
                report["warnings"].append(str(_(
                    "The feed has more than %(most)s services: only the first %(most)s were read, and nothing "
                    "was withdrawn.", most=f"{most:,}")))
                complete = False
                break
            record, source_id = _namespaced(feed, record)
            records.append(record)
            source_ids[record.get("id") if isinstance(record, dict) else ""] = source_id
    except (sources.UnreadableImport, OSError, ValueError) as error:
        return _failed(feed, report, str(error), now)
    report["services"] = len(records)
    terms = db.session.execute(select(Term)).scalars().all()
    by_id, by_name = {term.id: term for term in terms}, {term.name.lower(): term for term in terms}
    mapper = Mapper(to_listing=lambda item: oruk.map_service(item, by_id, by_name),
                    identify=lambda item: (str(item.get("id") or "")[:200], plain_text(item.get("name"), 120))
                    if isinstance(item, dict) else ("", ""),
                    audit_action="listing.from_feed", audit_note=lambda sid: {"feed": feed.name,
                                                                             "source_id": source_ids.get(sid, sid)})
    outcome = run_import(progress(records) if progress else records, mapper, apply=True, publish=True, sync=False)
    seen = set()
    for item in outcome.outcomes:
        if item.action == "rejected":
            if len(report["rejected"]) < 1000:
                report["rejected"].append({"id": source_ids.get(item.source_id, item.source_id),
                                           "name": item.name, "why": item.reason})
            continue
        kind = "created" if item.action == "created" else "updated" if item.action == "updated" else "unchanged"
        report[kind] += 1
        if kind != "unchanged" and len(report["names"][kind]) < REPORT_NAMES:
            report["names"][kind].append(item.name)
        listing = db.session.get(Listing, item.source_id)
        if listing is None:
            continue
        seen.add(listing.id)
        _mark(listing, feed, now)
    if complete:
        report["withdrawn"] = _withdraw_gone(feed, seen, report, accept_fewer)
    feed.failures, feed.next_try_at, feed.problem = 0, None, ""
    feed.last_success_at = now
    feed.incremental = "/v3/" in feed.url or feed.incremental
    if complete:
        feed.last_full_at, feed.last_count = now, len(records)
    feed.last_report = report
    record_audit("feed.pulled", "feed", feed.id, changes={k: report[k] for k in (
        "complete", "services", "created", "updated", "withdrawn")} | {"rejected": len(report["rejected"])})
    db.session.commit()
    get_service().sync()
    return report


def _mark(listing: Listing, feed: Feed, now: datetime) -> None:
    """Mark a listing as the feed's: where it is from, when it was last listed there, and not ours to review."""
    listing.feed_id = feed.id
    listing.source_url = feed.site_url or None
    listing.source_checked_on = now.date()
    listing.review_due = None
    if listing.feed_hidden and listing.status in PUBLIC_STATUSES:
        listing.status = ListingStatus.ARCHIVED
        record_change(listing.id)


def _withdraw_gone(feed: Feed, seen: set[str], report: dict, accept_fewer: bool) -> int:
    """Withdraw the feed's services this complete pull did not list, unless it listed suspiciously few."""
    if feed.last_count and report["services"] < feed.last_count / 2 and not accept_fewer:
        report["warnings"].append(str(_(
            "The feed listed %(now)s services, fewer than half of last time's %(before)s: nothing was withdrawn. "
            "If that is right, pull it again accepting fewer.", now=report["services"], before=feed.last_count)))
        return 0
    gone = [listing for listing in _listings_of(feed) if listing.id not in seen and listing.status in PUBLIC_STATUSES]
    for listing in gone:
        _withdraw(listing, "listing.feed_withdrawn")
    report["names"]["withdrawn"] = [listing.name for listing in gone[:REPORT_NAMES]]
    return len(gone)


def _failed(feed: Feed, report: dict, problem: str, now: datetime) -> dict:
    """A pull that failed: nothing withdrawn, the problem kept, the next try later (backing off)."""
    db.session.rollback()
    feed = db.session.get(Feed, feed.id)
    feed.failures = (feed.failures or 0) + 1
    feed.next_try_at = now + min(timedelta(hours=2 ** (feed.failures - 1)), MOST_BACKOFF)
    feed.last_pull_at = now
    feed.problem = problem[:500]
    report["problem"] = feed.problem
    feed.last_report = report
    record_audit("feed.failed", "feed", feed.id, changes={"problem": feed.problem, "failures": feed.failures})
    db.session.commit()
    return report


def pull_due(now: datetime | None = None, fetch: Callable[[str], bytes] | None = None) -> list[tuple[Feed, dict]]:
    """Pull every feed not backing off; return each with its report."""
    now = now or utcnow()
    return [(feed, pull(feed, fetch=fetch, now=now)) for feed in all_feeds() if due(feed, now)]


def summary(report: dict) -> str:
    """Say a pull's report in a sentence."""
    if report.get("problem"):
        return str(_("The pull failed: %(problem)s. Nothing was withdrawn.", problem=report["problem"]))
    return str(_("%(services)s services read: %(created)s added, %(updated)s changed, %(unchanged)s unchanged, "
                 "%(withdrawn)s withdrawn, %(rejected)s rejected.", services=report.get("services", 0),
                 created=report.get("created", 0), updated=report.get("updated", 0),
                 unchanged=report.get("unchanged", 0), withdrawn=report.get("withdrawn", 0),
                 rejected=len(report.get("rejected", []))))
