"""Routes for coordinators: the review queue (filter, tick many, remind, mark checked, hide, give more time)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from local_offer import review_queue, reviews
from local_offer.admin.review_forms import BulkReviewForm
from local_offer.admin.views import bp
from local_offer.auth import requires
from local_offer.i18n import _, ngettext
from local_offer.models import Role
from local_offer.users import client_ip

#: Form parts the bulk form may send: every listing ticked (and more, refused with a message) and the rest.
BULK_FORM_PARTS = 5000


@bp.url_value_preprocessor
def room_for_many_ticks(endpoint, values) -> None:
    """Let a form with a thousand ticks be read (and answered with a message), not refused as too large.

    Runs before the CSRF check, which is the first to read the form.
    """
    if endpoint == "admin.review_bulk":
        request.max_form_parts = BULK_FORM_PARTS


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdecimal() and len(value) < 6 else 1


def _render(form: BulkReviewForm, state: str, organisation: str, status: int = 200, page: int = 1):
    board = review_queue.queue(state, organisation, page)
    chosen = set(form.listing.data or []) if form.is_submitted() else set()
    return render_template("admin/reviews.html", board=board, form=form, chosen=chosen,
                           settings=reviews.settings(), max_at_once=review_queue.MAX_AT_ONCE,
                           page_size=review_queue.PAGE_SIZE), status


@bp.get("/reviews")
@requires(Role.COORDINATOR)
def review_dashboard():
    """The review queue: listings due soon, overdue or hidden, filtered, to act on many at once."""
    state, organisation = review_queue.clean_filters(request.args.get("state"), request.args.get("organisation"))
    form = BulkReviewForm(formdata=None, state=state, organisation=organisation)
    return _render(form, state, organisation, page=_page_number())


def _summary(result: review_queue.BulkResult) -> str:
    done = {
        "remind": ngettext("Reminded the provider of %(num)s listing (%(emails)s emails sent).",
                           "Reminded the providers of %(num)s listings (%(emails)s emails sent).",
                           result.done, emails=result.emails),
        "checked": ngettext("Marked %(num)s listing as checked. Its next review is in a year.",
                            "Marked %(num)s listings as checked. Their next review is in a year.", result.done),
        "hide": ngettext("Hid %(num)s listing from families until it is checked.",
                         "Hid %(num)s listings from families until they are checked.", result.done),
        "extend": ngettext("Gave %(num)s listing more time.", "Gave %(num)s listings more time.", result.done),
    }[result.action]
    if result.skipped:
        done += " " + ngettext("%(num)s left as it was:", "%(num)s left as they were:", len(result.skipped)) + " " \
            + "; ".join(_("%(name)s (%(why)s)", name=name, why=why) for name, why in result.skipped[:10])
        if len(result.skipped) > 10:
            done += " " + _("and %(num)s more.", num=len(result.skipped) - 10)
    return done


@bp.post("/reviews")
@requires(Role.COORDINATOR)
def review_bulk():
    """Remind, mark checked, hide or give more time to the listings ticked (or all matching the filters)."""
    form = BulkReviewForm()
    state, organisation = review_queue.clean_filters(form.state.data, form.organisation.data)
    if form.validate_on_submit():
        ids = (review_queue.matching_ids(state, organisation, limit=None) if form.all_matching.data
               else form.listing.data)
        try:
            result = review_queue.apply(form.action.data, ids, current_user, how=form.how.data or "",
                                        months=int(form.months.data) if form.months.data else None,
                                        note=form.note.data or "", ip_address=client_ip())
        except review_queue.QueueError as error:
            form.listing.errors = [*form.listing.errors, str(error)]
        else:
            flash(_summary(result))
            return redirect(url_for("admin.review_dashboard", state=state or None, organisation=organisation or None))
    return _render(form, state, organisation, 400)
