"""Telling people what happened to their listings: emails after a decision, with links that work from anywhere.

A decision is saved before anyone is told, so a mail failure never undoes or
hides it: each message is sent on its own and a failure is logged.  Links are
full addresses on the site's public URL (``LOCAL_OFFER_PUBLIC_URL``), the same
in a request, a command or a test, never taken from a request's ``Host``.
"""

from __future__ import annotations

from flask import current_app

from local_offer import mail
from local_offer.listings.links import listing_ref
from local_offer.i18n import _, in_language
from local_offer.models import Listing, ListingRevision, Role


def external_url(endpoint: str, **values) -> str:
    """Return the full address of a page for an email, on the site's public URL (see ``mail.link``)."""
    return mail.link(endpoint, **values)


def notify_providers(listing: Listing, compose, revision: ListingRevision | None = None) -> int:
    """Email the people who look after a listing: its organisation's accounts and the change's author.

    ``compose()`` returns (subject, body) and is called in each person's language.
    """
    people = {user.email: user for user in listing.organisation.members if user.active}
    if revision is not None and revision.created_by is not None and revision.created_by.active \
            and not revision.created_by.has_role(Role.COORDINATOR):
        people.setdefault(revision.created_by.email, revision.created_by)
    sent = 0
    for email in sorted(people):
        try:
            with in_language(people[email].language):
                subject, body = compose()
            mail.send(email, subject, body)
            sent += 1
        except Exception:  # the decision is saved; a mail failure must not undo or hide it
            current_app.logger.exception("Could not email %s about %s", email, listing.id)
    current_app.logger.info("Told %s of %s people about %s", sent, len(people), listing.id)
    return sent


def change_published(listing: Listing, revision: ListingRevision) -> int:
    """Tell a listing's providers that their change has been checked and is live."""
    return notify_providers(listing, lambda: (_("Your listing %(name)s is live", name=listing.name), _(
        "Hello,\n\nThe Local Offer team has checked and published your changes to %(name)s. "
        "Families can see them now:\n%(link)s\n\nThank you for keeping your listing up to date.",
        name=listing.name, link=external_url("directory.listing", ref=listing_ref(listing)))), revision)


def change_sent_back(listing: Listing, reason: str, revision: ListingRevision) -> int:
    """Tell a listing's providers why their change was sent back, and where to make it again."""
    return notify_providers(listing, lambda: (_("Changes needed to %(name)s", name=listing.name), _(
        "Hello,\n\nThe Local Offer team has looked at your changes to %(name)s and sent them back:\n\n"
        "%(reason)s\n\nYour changes are saved. Make the changes and send them again from the portal:\n%(link)s",
        name=listing.name, reason=reason, link=external_url("portal.listing", listing_id=listing.id))), revision)
