"""Search alerts: "email me new results for this search", with double opt-in and one-click unsubscribe.

A visitor asks from a results page; we keep the address and the search's
normalised query string, and email a confirmation link.  Its token
(``token_urlsafe(24)``, 192 bits) is kept only as a SHA-256.  Nothing more is
sent until the owner opens the link and presses the button (a GET never
confirms, so mail scanners that fetch links confirm nothing).

Every email carries an unsubscribe link.  Its token is
``<alert id>.<HMAC-SHA256 of the id under SECRET_KEY>`` (256 bits), so every
digest can carry it while the database holds only its SHA-256.  Unsubscribing
deletes the alert and the address.  A genuine link whose alert is already gone
answers 410; anything else 404.

``flask jobs run`` sends each confirmed alert at most one digest a week, listing
the services the search finds that were published or changed since the last
one and were never sent before, and removes alerts unconfirmed after
``ALERT_PENDING_DAYS`` days.  A permanent refusal by the mail server stops an
alert (its address is removed with it after the same few days).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from flask import current_app
from sqlalchemy import and_, delete, or_, select
from werkzeug.datastructures import MultiDict

from local_offer import mail, throttle
from local_offer.directory import search_params
from local_offer.extensions import db
from local_offer.i18n import _, in_language, language_to_keep
from local_offer.listings.links import listing_page_link
from local_offer.models import PUBLIC_STATUSES, AlertStatus, Listing, SearchAlert, new_id, utcnow
from local_offer.search import SearchError, get_service

#: At most one digest per alert in this long.
DIGEST_EVERY = timedelta(days=7)
#: A listing changed this long before the last digest may not have been indexed in time: look back this far too.
INDEX_LAG = timedelta(hours=1)
#: The most listings one digest names (the rest are on the results page it links to).
DIGEST_MAX = 30
#: The most sent listing ids remembered per alert.
SENT_MAX = 2000
#: Search parameters an alert keeps: the words, the place and the filters (not the page, view or order).
KEPT = sorted(search_params.KNOWN - {"page", "view", "sort", "lat", "lng"})
CONFIRM_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
UNSUBSCRIBE_TOKEN = re.compile(r"(?P<id>[0-9a-f-]{36})\.(?P<mac>[A-Za-z0-9_-]{43})")


class AlertError(Exception):
    """A request about an alert that cannot be met; its message says why, for the person who asked."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _hash(token: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _mac(alert_id: str) -> str:
    """Return the HMAC part of an alert's unsubscribe token."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    digest = hmac.new(key, f"search-alert-unsubscribe:{alert_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def unsubscribe_token(alert_id: str) -> str:
    """Return the unsubscribe token of an alert (the same in every email it is sent)."""
    return f"{alert_id}.{_mac(alert_id)}"


def normalise_query(args: MultiDict) -> str:
    """Return a search's query string with only the parameters an alert keeps, checked as the search checks them."""
    if args.get("lat") or args.get("lng"):
        raise AlertError(_("Alerts cannot use your device's location. Search for a postcode or a town instead, then "
                           "ask for alerts."))
    pairs = [(key, value.strip()) for key in KEPT for value in args.getlist(key) if value and value.strip()]
    if not pairs:
        raise AlertError(_("Search for something first, then ask for emails about new results."))
    kept = MultiDict(pairs)
    try:
        search_params.parse(kept, 1)
    except SearchError as error:
        raise AlertError(str(error)) from error
    return urlencode(pairs)


def query_args(query: str) -> MultiDict:
    """Return an alert's query string as the arguments of a results page."""
    return MultiDict(parse_qsl(query, keep_blank_values=False))


def _search_words(query: str) -> str:
    """Describe a search in a few words for an email: what was typed and where."""
    args = query_args(query)
    words, where = args.get("q", ""), args.get("where", "")
    if words and where:
        return _("“%(words)s” near %(place)s", words=words, place=where)
    if words:
        return _("“%(words)s”", words=words)
    if where:
        return _("services near %(place)s", place=where)
    return _("services with the filters you chose")


def _footer(alert: SearchAlert) -> list[str]:
    """Return the lines every alert email ends with: the unsubscribe link and who to contact."""
    config = current_app.config
    return ["", _("Stop these emails (one click, and we delete your address):"),
            mail.link("directory.alert_unsubscribe", token=unsubscribe_token(alert.id)), "",
            _("Questions? Contact the Local Offer team: %(phone)s, %(email)s.", phone=config["COUNCIL_PHONE"],
              email=config["COUNCIL_EMAIL"])]


def _headers(alert: SearchAlert) -> dict[str, str]:
    """Return the RFC 8058 one-click unsubscribe headers for an alert's emails."""
    return {"List-Unsubscribe": f"<{mail.link('directory.alert_unsubscribe', token=unsubscribe_token(alert.id))}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def create(email: str, query: str, sender: str) -> None:
    """Keep a pending alert and email its confirmation link, within the limits per sender and per address.

    Asking again for a search the address already has confirmed sends nothing and answers the same,
    so the form never tells anyone which addresses have alerts.
    """
    email = email.strip()
    if not (throttle.allow("alert-sender", sender, "ALERT_LIMIT")
            and throttle.allow("alert-recipient", email.lower(), "ALERT_LIMIT")):
        raise AlertError(_("Too many alerts have been asked for from here or for that address. Wait an hour, then "
                           "try again."), 429)
    same = list(db.session.execute(select(SearchAlert).where(SearchAlert.email == email,
                                                             SearchAlert.query == query)).scalars())
    if any(alert.status is AlertStatus.CONFIRMED for alert in same):
        return
    for alert in same:
        db.session.delete(alert)
    token = secrets.token_urlsafe(24)
    alert = SearchAlert(id=new_id(), email=email, query=query, confirm_hash=_hash(token),
                        status=AlertStatus.PENDING, sent_ids=[], language=language_to_keep())
    alert.unsubscribe_hash = _hash(unsubscribe_token(alert.id))
    db.session.add(alert)
    db.session.flush()
    config = current_app.config
    days = config["ALERT_PENDING_DAYS"]
    lines = [_("Someone, probably you, asked %(service)s to email this address about new results for a search: "
               "%(search)s.", service=f"{config['SERVICE_NAME']} – {config['COUNCIL_NAME']}",
               search=_search_words(query)), "",
             _("To start the emails, open this link and press the button:"),
             mail.link("directory.alert_confirm", token=token), "",
             _("We send at most one email a week, only when there is something new."),
             _("If you did not ask for this, ignore this email: we delete the address in %(days)s days.", days=days)]
    mail.send(email, _("Confirm your search alert from %(service)s", service=config["SERVICE_NAME"]),
              "\n".join(lines + _footer(alert)), headers=_headers(alert))
    db.session.commit()


def by_confirm_token(token: str) -> SearchAlert:
    """Return the alert a confirmation link names, or raise 404 (tampered, expired or unsubscribed)."""
    alert = None
    if CONFIRM_TOKEN.fullmatch(token or ""):
        alert = db.session.execute(select(SearchAlert).where(SearchAlert.confirm_hash == _hash(token))
                                   ).scalar_one_or_none()
    if alert is None:
        raise AlertError(_("This confirmation link is not valid. It may have expired after %(days)s days or been "
                           "unsubscribed. Ask for the alert again from the search results.",
                           days=current_app.config["ALERT_PENDING_DAYS"]), 404)
    return alert


def confirm(token: str) -> bool:
    """Confirm the alert a link names; return False when it was already confirmed (nothing changes then)."""
    alert = by_confirm_token(token)
    if alert.status is not AlertStatus.PENDING:
        return False
    now = utcnow()
    alert.status, alert.confirmed_at, alert.changes_since = AlertStatus.CONFIRMED, now, now
    db.session.commit()
    return True


def by_unsubscribe_token(token: str) -> SearchAlert:
    """Return the alert an unsubscribe link names; raise 410 when it is already gone, 404 for any other token."""
    match = UNSUBSCRIBE_TOKEN.fullmatch(token or "")
    if match is None or not hmac.compare_digest(match["mac"], _mac(match["id"])):
        raise AlertError(_("This unsubscribe link is not valid. Check you copied the whole link from the email."), 404)
    alert = db.session.execute(select(SearchAlert).where(SearchAlert.unsubscribe_hash == _hash(token))
                               ).scalar_one_or_none()
    if alert is None:
        raise AlertError(_("You have already unsubscribed: we send no more emails about this search and have "
                           "deleted the address."), 410)
    return alert


def unsubscribe(token: str) -> None:
    """Delete the alert an unsubscribe link names, and with it the address."""
    db.session.delete(by_unsubscribe_token(token))
    db.session.commit()


# --- the jobs ---------------------------------------------------------------------------------------


@dataclass
class DigestReport:
    """What one digest run did."""

    sent: int = 0
    listings: int = 0
    nothing_new: int = 0
    bounced: int = 0
    failed: int = 0


def _search_ids(query: str, language: str | None = None) -> list[str]:
    """Return every listing id an alert's search finds, read in the alert's language (none for loose matches only)."""
    try:
        request = search_params.parse(query_args(query), 1)
        request.ids_only, request.strict_radius = True, True
        request.language = language or current_app.config["BABEL_DEFAULT_LOCALE"]
        results = get_service().search(request)
    except SearchError:
        return []  # a filter since removed from the site, say: nothing can match it
    return [] if results.relaxed else list(results.ids)  # only loose matches: not "results for this search"


def _new_listings(alert: SearchAlert, found_ids: list[str]) -> list[Listing]:
    """Return the public listings of a search's results that changed since the alert's last digest, never sent."""
    sent = set(alert.sent_ids or [])
    wanted = [listing_id for listing_id in found_ids if listing_id not in sent]
    since = (alert.changes_since or alert.confirmed_at or alert.created_at) - INDEX_LAG
    found: dict[str, Listing] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        found.update((listing.id, listing) for listing in db.session.execute(
            select(Listing).where(Listing.id.in_(chunk), Listing.status.in_(PUBLIC_STATUSES),
                                  Listing.updated_at > since)).scalars())
    return [found[listing_id] for listing_id in wanted if listing_id in found]


def _is_bounce(error: Exception) -> bool:
    """Say whether a sending error means the address is refused for good (a 5xx for the recipient)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _message in error.recipients.values())
    return False


def _digest(alert: SearchAlert, listings: list[Listing]) -> None:
    """Email one alert's new listings, in the language of the page it was set up on."""
    with in_language(alert.language):
        _digest_now(alert, listings)


def _digest_now(alert: SearchAlert, listings: list[Listing]) -> None:
    config = current_app.config
    lines = [_("New or updated services on %(service)s for your search: %(search)s.",
               service=config["SERVICE_NAME"], search=_search_words(alert.query)), ""]
    for listing in listings[:DIGEST_MAX]:
        lines += [f"- {listing.name}", f"  {listing_page_link(listing)}"]
    if len(listings) > DIGEST_MAX:
        lines += ["", _("And %(count)s more.", count=len(listings) - DIGEST_MAX)]
    lines += ["", _("See every result for this search:"),
              mail.link("directory.search", **query_args(alert.query).to_dict(flat=False))]
    subject = (_("A new service for your search on %(service)s", service=config["SERVICE_NAME"])
               if len(listings) == 1 else
               _("%(count)s new services for your search on %(service)s", count=len(listings),
                 service=config["SERVICE_NAME"]))
    mail.send(alert.email, subject, "\n".join(lines + _footer(alert)), headers=_headers(alert))


def send_digests(now: datetime | None = None) -> DigestReport:
    """Send each confirmed alert due a digest (a week since its last) the services new to it."""
    now = now or utcnow()
    report = DigestReport()
    searched: dict[tuple, list[str]] = {}  # many alerts share a search: run each once per run
    due = db.session.execute(select(SearchAlert.id).where(
        SearchAlert.status == AlertStatus.CONFIRMED,
        or_(SearchAlert.last_sent_at <= now - DIGEST_EVERY,
            and_(SearchAlert.last_sent_at.is_(None), SearchAlert.confirmed_at <= now - DIGEST_EVERY)))
    ).scalars().all()
    for alert_id in due:
        alert = db.session.get(SearchAlert, alert_id)
        if alert is None:  # unsubscribed meanwhile
            continue
        key = (alert.query, alert.language)
        if key not in searched:
            searched[key] = _search_ids(alert.query, alert.language)
        listings = _new_listings(alert, searched[key])
        if not listings:
            report.nothing_new += 1
            continue
        try:
            _digest(alert, listings)
        except Exception as error:  # noqa: BLE001  (one address's failure must not stop the others)
            if _is_bounce(error):
                alert.status, alert.bounced_at = AlertStatus.BOUNCED, now
                db.session.commit()
                report.bounced += 1
            else:
                current_app.logger.warning("Search alert %s could not be sent: %s", alert.id, error)
                report.failed += 1
            continue
        alert.last_sent_at, alert.changes_since = now, now
        alert.sent_ids = ((alert.sent_ids or []) + [listing.id for listing in listings])[-SENT_MAX:]
        db.session.commit()
        report.sent += 1
        report.listings += len(listings)
    return report


def expire(now: datetime | None = None) -> int:
    """Remove alerts unconfirmed after ``ALERT_PENDING_DAYS`` days, and stopped ones as long after their bounce."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["ALERT_PENDING_DAYS"])
    result = db.session.execute(delete(SearchAlert).where(or_(
        and_(SearchAlert.status == AlertStatus.PENDING, SearchAlert.created_at < cutoff),
        and_(SearchAlert.status == AlertStatus.BOUNCED, SearchAlert.bounced_at < cutoff))))
    db.session.commit()
    return result.rowcount
