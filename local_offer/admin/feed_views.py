"""Routes for coordinators: neighbours' feeds (subscribe, see each pull's report, hide a service, stop pulling)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from local_offer import feeds
from local_offer.admin.forms import ActionForm, FeedForm
from local_offer.admin.views import bp
from local_offer.auth import requires
from local_offer.errors import refuse
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.models import PUBLIC_STATUSES, Feed, Listing, Role


@bp.route("/feeds", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def feeds_page():
    """Neighbours' directories we pull, how each last pull went, and a form to add one."""
    form = FeedForm()
    if form.validate_on_submit():
        try:
            feed = feeds.add(form.url.data, form.name.data, form.licence.data, form.site_url.data, current_user)
        except feeds.FeedError as error:
            getattr(form, error.field).errors = [*getattr(form, error.field).errors, str(error)]
        else:
            flash(_("%(name)s added. Its services are pulled within the hour, when the scheduled jobs next run.",
                    name=feed.name))
            return redirect(url_for("admin.feed_page", feed_id=feed.id))
    counts = dict(db.session.execute(select(Listing.feed_id, func.count()).where(
        Listing.feed_id.isnot(None), Listing.status.in_(PUBLIC_STATUSES)).group_by(Listing.feed_id)).all())
    return render_template("admin/feeds.html", form=form, feeds=feeds.all_feeds(), counts=counts,
                           summary=feeds.summary), 400 if form.errors else 200


def _feed(feed_id) -> Feed:
    return db.get_or_404(Feed, str(feed_id))


@bp.get("/feeds/<uuid:feed_id>")
@requires(Role.COORDINATOR)
def feed_page(feed_id):
    """One feed: its last pull's report (what was added, changed, withdrawn and rejected, and why) and its services."""
    feed = _feed(feed_id)
    listings = list(db.session.execute(select(Listing).where(Listing.feed_id == feed.id)
                                       .order_by(Listing.feed_hidden, Listing.name)).scalars())
    return render_template("admin/feed.html", feed=feed, listings=listings, form=ActionForm(),
                           summary=feeds.summary, public=PUBLIC_STATUSES)


@bp.post("/feeds/<uuid:feed_id>/pull")
@requires(Role.COORDINATOR)
def pull_feed_soon(feed_id):
    """Ask for the feed to be pulled at the next run of the scheduled jobs (even while it is backing off)."""
    feed = _feed(feed_id)
    if not ActionForm().validate_on_submit():
        refuse(400, _("The form had expired. Try again."))
    feeds.ask_for_pull(feed, current_user)
    flash(_("%(name)s will be pulled within the hour, when the scheduled jobs next run.", name=feed.name))
    return redirect(url_for("admin.feed_page", feed_id=feed.id))


@bp.post("/feeds/<uuid:feed_id>/remove")
@requires(Role.COORDINATOR)
def remove_feed(feed_id):
    """Stop pulling a feed; its services leave the directory."""
    feed = _feed(feed_id)
    if not ActionForm().validate_on_submit():
        refuse(400, _("The form had expired. Try again."))
    name, withdrawn = feed.name, feeds.remove(feed, current_user)
    flash(_("%(name)s removed; %(num)s of its services left the directory.", name=name, num=withdrawn))
    return redirect(url_for("admin.feeds_page"))


@bp.post("/feeds/listings/<uuid:listing_id>/<string:action>")
@requires(Role.COORDINATOR)
def hide_feed_listing(listing_id, action):
    """Hide a neighbour's service from our directory (``hide``), or show it again (``show``)."""
    if action not in ("hide", "show"):
        abort(404)
    listing = db.get_or_404(Listing, str(listing_id))
    if not ActionForm().validate_on_submit():
        refuse(400, _("The form had expired. Try again."))
    try:
        feeds.hide(listing, action == "hide", current_user)
    except feeds.FeedError as error:
        refuse(400, str(error))
    flash(_("%(name)s is hidden from the directory.", name=listing.name) if action == "hide"
          else _("%(name)s is shown in the directory again.", name=listing.name))
    return redirect(url_for("admin.feed_page", feed_id=listing.feed_id))
