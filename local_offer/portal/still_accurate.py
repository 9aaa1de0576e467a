"""The "Still accurate" page a provider opens from a review reminder: no sign-in, one button, a POST.

Opening the link changes nothing (mail scanners follow links); only the button does.
The link is signed, bound to the listing and its review date, works once and for 30
days (see ``review_links``).  A used, expired or mangled link gets a page saying so,
with a 4xx status, and nothing changes.
"""

from __future__ import annotations

from flask import current_app, make_response, render_template, request
from flask_limiter.util import get_remote_address

from local_offer import review_queue
from local_offer.auth import public
from local_offer.extensions import limiter
from local_offer.portal.forms import ConfirmForm
from local_offer.portal.views import bp
from local_offer.security import no_store
from local_offer.users import client_ip


def _limit() -> str:
    """Return how often one address may open or use these links (``STILL_ACCURATE_LIMIT``)."""
    return current_app.config.get("STILL_ACCURATE_LIMIT", "60 per hour")


def _page(status: int = 200, **values):
    return no_store(make_response(render_template("portal/still_accurate.html", **values), status))


@bp.route("/still-accurate/<token>", methods=["GET", "POST"])
@public
@limiter.limit(_limit, key_func=get_remote_address)
def still_accurate(token):
    """Show the listing and one button (GET); confirm it is still accurate (POST)."""
    form = ConfirmForm()
    try:
        listing = review_queue.listing_for_link(token)
        if request.method != "POST":  # GET and HEAD: look, change nothing
            return _page(listing=listing, form=form)
        if not form.validate_on_submit():
            return _page(400, listing=listing, form=form, expired_form=True)
        listing = review_queue.confirm_link(token, ip_address=client_ip())
    except review_queue.LinkRefused as refused:
        return _page(refused.status, refused=refused.reason)
    return _page(listing=listing, confirmed=True)
