"""Shortlists without an account: save listings, order them, note them, share and email them.

The owner's private token (``secrets.token_urlsafe(24)``, 192 random bits)
lives in their signed session cookie, which is set the first time they save
something, and only if they ask ("Keep on this device") also in a cookie of its
own for ``SHORTLIST_KEEP_DAYS`` days, so closing the browser does not lose the
list (never the default: on a shared computer the next person would see it);
the database keeps its SHA-256.  The read-only link has its own
token (``token_urlsafe(16)``, 128 bits).  Every page that shows a count or a
list is sent ``Cache-Control: private, no-store``; a visitor with no shortlist
gets no session cookie and the same cacheable pages as before.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app, g, request, session, url_for
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from local_offer import mail, throttle
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.listings.queries import LISTING_LOAD
from local_offer.listings.links import listing_page_link
from local_offer.models import PUBLIC_STATUSES, Listing, Shortlist, ShortlistItem, utcnow
from local_offer.sanitise import clean_text

#: The session key that holds the owner's private token.
SESSION_KEY = "shortlist"
#: The most listings one shortlist holds (a page of 500 still renders in well under a second).
MAX_ITEMS = 500
#: The longest private note, in characters.
NOTE_LENGTH = 500
#: What a share token looks like (``token_urlsafe(16)``); anything else is not one.
SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
#: What an owner's token looks like (``token_urlsafe(24)``).
OWNER_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
#: The cookie that keeps the owner's token on this device, set only when they ask ("Keep on this device").
DEVICE_COOKIE = "lo_shortlist"


class ShortlistError(Exception):
    """A change that cannot be made; its message says why, for the person who asked."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Entry:
    """One saved listing as a page shows it: the listing (None once withdrawn) and the owner's note."""

    listing_id: str
    listing: Listing | None
    note: str
    first: bool
    last: bool


def _hash(token: str) -> str:
    """Return the stored form of a private token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def current(create: bool = False) -> Shortlist | None:
    """Return this visitor's shortlist (a new one when ``create``), or None."""
    if "lo_shortlist" in g and (g.lo_shortlist is not None or not create):
        return g.lo_shortlist
    found = None
    token = session.get(SESSION_KEY)
    if isinstance(token, str) and token:
        found = db.session.execute(select(Shortlist).where(Shortlist.token_hash == _hash(token))).scalar_one_or_none()
        if found is None:
            session.pop(SESSION_KEY, None)  # removed after months unused: start afresh
    if found is None and create:
        token = secrets.token_urlsafe(24)
        found = Shortlist(token_hash=_hash(token), share_token=secrets.token_urlsafe(16))
        db.session.add(found)
        db.session.commit()
        session[SESSION_KEY] = token
    g.lo_shortlist = found
    return found


def saved_ids() -> frozenset[str]:
    """Return the ids of the listings this visitor has saved (none without a shortlist)."""
    if "lo_shortlist_ids" not in g:
        shortlist = current() if SESSION_KEY in session else None
        g.lo_shortlist_ids = frozenset() if shortlist is None else frozenset(db.session.execute(
            select(ShortlistItem.listing_id).where(ShortlistItem.shortlist_id == shortlist.id)).scalars())
    return g.lo_shortlist_ids


def count() -> int | None:
    """Return how many listings this visitor has saved, or None when they have no shortlist."""
    if SESSION_KEY not in session:
        return None
    return len(saved_ids())


def _forget_cached() -> None:
    """Drop what this request remembered of the visitor's saved ids after a change."""
    g.pop("lo_shortlist_ids", None)


def _public_listing(listing_id: str) -> Listing:
    """Return a listing families may see, or raise: only those can be saved."""
    listing = db.session.execute(select(Listing).where(Listing.id == listing_id, Listing.status.in_(PUBLIC_STATUSES))
                                 ).scalar_one_or_none()
    if listing is None:
        raise ShortlistError(_("That listing could not be found. It may have been withdrawn."), 404)
    return listing


def _item(shortlist: Shortlist | None, listing_id: str) -> ShortlistItem:
    """Return the saved item for a listing, or raise when it is not in the shortlist."""
    item = None if shortlist is None else db.session.execute(select(ShortlistItem).where(
        ShortlistItem.shortlist_id == shortlist.id, ShortlistItem.listing_id == listing_id)).scalar_one_or_none()
    if item is None:
        raise ShortlistError(_("That listing is not in your shortlist."), 404)
    return item


def add(listing_id: str) -> Listing:
    """Save a public listing to this visitor's shortlist (saving it twice changes nothing)."""
    listing = _public_listing(listing_id)
    shortlist = current(create=True)
    items = db.session.execute(select(func.count(), func.max(ShortlistItem.position))
                               .where(ShortlistItem.shortlist_id == shortlist.id)).one()
    if listing.id in saved_ids():
        return listing
    if items[0] >= MAX_ITEMS:
        raise ShortlistError(_("Your shortlist is full: it holds up to %(max)s services. Remove some to save "
                               "more.", max=MAX_ITEMS), 409)
    db.session.add(ShortlistItem(shortlist_id=shortlist.id, listing_id=listing.id, position=(items[1] or 0) + 1,
                                 note=""))
    shortlist.updated_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # saved at the same moment from another tab: it is saved either way
        db.session.rollback()
    _forget_cached()
    return listing


def remove(listing_id: str) -> None:
    """Take a listing off this visitor's shortlist."""
    shortlist = current()
    item = _item(shortlist, listing_id)
    db.session.delete(item)
    shortlist.updated_at = utcnow()
    db.session.commit()
    _forget_cached()


def move(listing_id: str, direction: str) -> None:
    """Move a saved listing one place up or down (at either end, it stays where it is)."""
    shortlist = current()
    item = _item(shortlist, listing_id)
    items = list(shortlist.items)
    index = items.index(item)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        # Renumber the whole list: positions stay distinct whatever gaps removals left.
        items[index], items[other] = items[other], items[index]
        for position, each in enumerate(items, start=1):
            each.position = position
    shortlist.updated_at = utcnow()
    db.session.commit()


def set_note(listing_id: str, note: str) -> str:
    """Keep the owner's private note on a saved listing, as plain text; return what was kept."""
    shortlist = current()
    item = _item(shortlist, listing_id)
    cleaned = clean_text(note)
    if len(cleaned) > NOTE_LENGTH:
        raise ShortlistError(_("The note must be %(max)s characters or fewer.", max=NOTE_LENGTH))
    item.note = cleaned
    shortlist.updated_at = utcnow()
    db.session.commit()
    return cleaned


def by_share_token(token: str) -> Shortlist | None:
    """Return the shortlist a share link names, or None (a tampered or expired link)."""
    if not SHARE_TOKEN.fullmatch(token or ""):
        return None
    return db.session.execute(select(Shortlist).where(Shortlist.share_token == token)).scalar_one_or_none()


def entries(shortlist: Shortlist | None) -> list[Entry]:
    """Return a shortlist's listings in order, each loaded for display (None for a withdrawn one)."""
    if shortlist is None:
        return []
    items = db.session.execute(select(ShortlistItem.listing_id, ShortlistItem.note)
                               .where(ShortlistItem.shortlist_id == shortlist.id)
                               .order_by(ShortlistItem.position, ShortlistItem.id)).all()
    ids = [row.listing_id for row in items]
    found = {listing.id: listing for listing in db.session.execute(
        select(Listing).where(Listing.id.in_(ids), Listing.status.in_(PUBLIC_STATUSES)).options(*LISTING_LOAD)
    ).scalars()} if ids else {}
    return [Entry(row.listing_id, found.get(row.listing_id), row.note, index == 0, index == len(items) - 1)
            for index, row in enumerate(items)]


def touch(shortlist: Shortlist) -> None:
    """Note that the owner looked at their shortlist (expiry counts from the last visit or change)."""
    if utcnow() - shortlist.updated_at > timedelta(hours=1):
        shortlist.updated_at = utcnow()
        db.session.commit()


def share_link(shortlist: Shortlist) -> str:
    """Return the full read-only address of a shortlist, on the site's public URL."""
    return mail.link("shortlist.shared", token=shortlist.share_token)


def email(shortlist: Shortlist, to: str, recipient: str) -> None:
    """Email the shortlist's links to ``to`` (``recipient``: "self" or "professional"), within the limits.

    The text is ours alone: the sender writes nothing that reaches the recipient.
    """
    listed = [entry for entry in entries(shortlist) if entry.listing is not None]
    if not listed:
        raise ShortlistError(_("Your shortlist is empty. Save some services first."))
    sender = request.remote_addr or "unknown"
    if not (throttle.allow("shortlist-email-sender", sender, "SHORTLIST_EMAIL_LIMIT")
            and throttle.allow("shortlist-email-shortlist", shortlist.id, "SHORTLIST_EMAIL_LIMIT")
            and throttle.allow("shortlist-email-recipient", to.lower(), "SHORTLIST_EMAIL_LIMIT")):
        raise ShortlistError(_("Too many emails have been sent from here or to that address. Wait an hour, "
                               "then try again. You can still copy the link."), 429)
    config = current_app.config
    service = f"{config['SERVICE_NAME']} – {config['COUNCIL_NAME']}"
    if recipient == "professional":
        subject = _("A shortlist of services from %(service)s", service=config["SERVICE_NAME"])
        opening = _("Someone using %(service)s has shared a shortlist of services with you. They typed this "
                    "email address; we have not kept it. If you were not expecting this, you can ignore it.",
                    service=service)
    else:
        subject = _("Your shortlist from %(service)s", service=config["SERVICE_NAME"])
        opening = _("Here is the shortlist you asked us to send from %(service)s.", service=service)
    lines = [opening, "", _("See the shortlist (read only, without any notes):"), share_link(shortlist), "",
             _("The services on it:")]
    for entry in listed:
        lines += [f"- {entry.listing.name}", f"  {listing_page_link(entry.listing)}"]
    lines += ["", _("The link works until the shortlist has not been used for %(days)s days.",
                    days=config["SHORTLIST_KEEP_DAYS"]),
              _("Questions? Contact the Local Offer team: %(phone)s, %(email)s.", phone=config["COUNCIL_PHONE"],
                email=config["COUNCIL_EMAIL"])]
    mail.send(to, subject, "\n".join(lines))
    shortlist.updated_at = utcnow()
    db.session.commit()


def expire(days: int) -> int:
    """Remove the shortlists nobody has used for ``days`` days; return how many."""
    cutoff = utcnow() - timedelta(days=days)
    old = select(Shortlist.id).where(Shortlist.updated_at < cutoff)
    ids = list(db.session.execute(old).scalars())
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        db.session.execute(delete(ShortlistItem).where(ShortlistItem.shortlist_id.in_(chunk)))
        db.session.execute(delete(Shortlist).where(Shortlist.id.in_(chunk)))
    db.session.commit()
    return len(ids)


# --- keeping the list on this device -------------------------------------------------------------


def kept_on_device() -> bool:
    """Say whether this device keeps the key to the visitor's shortlist beyond the browser session."""
    token = request.cookies.get(DEVICE_COOKIE)
    return bool(token) and token == session.get(SESSION_KEY)


def keep_on_device() -> None:
    """Keep the key to this visitor's shortlist in a cookie for ``SHORTLIST_KEEP_DAYS`` days (they asked)."""
    if current() is None:
        raise ShortlistError(_("Your shortlist is empty. Save some services first."))
    g.lo_device_cookie = session[SESSION_KEY]


def forget_on_device() -> None:
    """Stop keeping the key on this device: the list stays until the browser is closed, then is out of reach."""
    g.lo_device_cookie = ""


def renew_on_device() -> None:
    """Count the keeping period again from today, when this device keeps the list (the owner used it)."""
    if kept_on_device():
        g.lo_device_cookie = session[SESSION_KEY]


def _restore_from_device() -> None:
    """A new browser session on a device that keeps a shortlist: put its key back in the session."""
    token = request.cookies.get(DEVICE_COOKIE)
    if not token or SESSION_KEY in session or request.endpoint == "static":
        return
    if OWNER_TOKEN.fullmatch(token) and db.session.execute(
            select(Shortlist.id).where(Shortlist.token_hash == _hash(token))).first() is not None:
        session[SESSION_KEY] = token
    else:
        g.lo_device_cookie = ""  # removed after months unused, or not one of ours: forget it


def _write_device_cookie(response):
    """Set or remove the device cookie when this request asked to."""
    value = g.pop("lo_device_cookie", None)
    if value is None:
        return response
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    if value:
        response.set_cookie(DEVICE_COOKIE, value, max_age=int(current_app.config["SHORTLIST_KEEP_DAYS"]) * 86400,
                            secure=secure, httponly=True, samesite="Lax")
    else:
        response.delete_cookie(DEVICE_COOKIE, secure=secure, httponly=True, samesite="Lax")
    return response


def _keep_private(response):
    """Keep any page that may show this visitor's shortlist out of shared caches."""
    if SESSION_KEY in session or g.get("lo_shortlist_private"):
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Pragma"] = "no-cache"
        response.vary.add("Cookie")
    return response


def button_words() -> dict[str, str]:
    """Return the save buttons' addresses and words, worked out once a request (a page has up to 20 buttons)."""
    if "lo_shortlist_words" not in g:
        g.lo_shortlist_words = {"save_url": url_for("shortlist.save"), "remove_url": url_for("shortlist.remove"),
                                "save": _("Save to shortlist"), "saved": _("Saved – remove from shortlist")}
    return g.lo_shortlist_words


def mark_private() -> str:
    """Note that this page carries the visitor's own forms or list (templates call it); returns nothing to show."""
    g.lo_shortlist_private = True
    return ""


def _forget_request() -> None:
    """Start each request without the last one's shortlist (a test's app context outlives its requests)."""
    for key in ("lo_shortlist", "lo_shortlist_ids", "lo_shortlist_private", "lo_device_cookie", "lo_shortlist_words"):
        g.pop(key, None)


def init_app(app: Flask) -> None:
    """Give templates the visitor's count and saved ids, and keep their pages private."""
    app.add_template_global(count, "shortlist_count")
    app.add_template_global(saved_ids, "shortlist_saved_ids")
    app.add_template_global(MAX_ITEMS, "SHORTLIST_MAX")
    app.add_template_global(mark_private, "shortlist_private")
    app.add_template_global(lambda: bool(g.get("lo_shortlist_private")), "shortlist_form_needed")
    app.add_template_global(button_words, "shortlist_button_words")
    app.before_request(_forget_request)
    app.before_request(_restore_from_device)
    app.after_request(_keep_private)
    app.after_request(_write_device_cookie)
