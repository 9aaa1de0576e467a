"""Starting a listing as a copy of one of the provider's own: choose it, name the new one, send it.

The copy is a new draft holding the chosen listing's content (never its id, reviews,
history or feed), every section filled in, so "Your listings", this page, the new
listing's page and its confirmation are all it takes (``listings.workflow.copy_listing``).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from local_offer.auth import requires
from local_offer.fields import choices
from local_offer.i18n import _
from local_offer.listings import workflow
from local_offer.listings.queries import organisation_listings
from local_offer.models import Listing, Role
from local_offer.portal.forms import CopyListingForm
from local_offer.portal.views import bp
from local_offer.users import client_ip


def copyable_listings() -> list[tuple[Listing, str]]:
    """Return the person's own listings that may be copied (not a neighbour's), each with the name shown."""
    found = organisation_listings([organisation.id for organisation in current_user.organisations])
    return [(listing, (revision.data.get("name") if revision else None) or listing.name)
            for listing, revision in found if listing.feed_id is None]


@bp.route("/listings/copy", methods=["GET", "POST"])
@requires(Role.PROVIDER)
def copy_listing():
    """Choose one of your listings and a new name: a new draft with its content, ready to check and send."""
    own = copyable_listings()
    if not own:
        flash(_("You have no listings to copy yet. Add a listing instead."))
        return redirect(url_for("portal.new_listing"))
    form = CopyListingForm()
    by_id = {listing.id: listing for listing, _name in own}
    form.source.choices = choices((listing.id, name) for listing, name in own)
    if not form.is_submitted():
        chosen = request.args.get("from")
        form.source.data = chosen if chosen in by_id else (own[0][0].id if len(own) == 1 else None)
    if form.validate_on_submit():
        listing = workflow.copy_listing(by_id[form.source.data], form.name.data, current_user,
                                        ip_address=client_ip())
        flash(_("Copy made. Change anything that is different, then send it for checking."))
        return redirect(url_for("portal.listing", listing_id=listing.id))
    return render_template("portal/copy_listing.html", form=form), 400 if form.errors else 200
