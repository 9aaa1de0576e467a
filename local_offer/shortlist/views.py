"""Routes of the shortlist: every change is a POST form that goes back to its page; scripts get JSON instead."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from local_offer import shortlists
from local_offer.auth import public
from local_offer.errors import refuse
from local_offer.i18n import _
from local_offer.security import safe_next
from local_offer.shortlist.forms import DeviceForm, EmailForm, ListingForm, NoteForm

bp = Blueprint("shortlist", __name__)


def _wants_json() -> bool:
    """Say whether the request came from the page's script (which asks for JSON)."""
    return request.headers.get("X-Requested-With") == "fetch"


def _first_error(form) -> str:
    """Return the first message of an invalid form."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("Something in the form could not be understood.")


def _fail(message: str, status: int):
    """Answer a change that could not be made: JSON for scripts, a styled error page otherwise."""
    if _wants_json():
        return jsonify({"error": message}), status
    refuse(status, message)


def _back(form: ListingForm):
    """Go back to the page the form was on (a same-site path only), or to the shortlist."""
    return redirect(safe_next(form.next.data, url_for("shortlist.page")), code=303)


def _state(saved: bool, message: str):
    """Answer a script with the listing's new state, the count and what to announce."""
    return jsonify({"saved": saved, "count": shortlists.count() or 0, "message": message})


def _page(status: int = 200, note_form: NoteForm | None = None, email_form: EmailForm | None = None,
          failed_note: str | None = None):
    """Render the owner's shortlist page."""
    g.lo_shortlist_private = True
    shortlist = shortlists.current()
    if shortlist is not None:
        shortlists.touch(shortlist)
        shortlists.renew_on_device()
    return render_template(
        "shortlist/page.html", shortlist=shortlist, entries=shortlists.entries(shortlist),
        share_link=shortlists.share_link(shortlist) if shortlist else None,
        kept_here=shortlists.kept_on_device() or bool(g.get("lo_device_cookie")),
        form=note_form or email_form, note_form=note_form, failed_note=failed_note,
        email_form=email_form or EmailForm(formdata=None)), status


@bp.get("/shortlist")
@public
def page():
    """Show the visitor's shortlist: reorder, remove, note, share, email, print."""
    return _page()


@bp.post("/shortlist/save")
@public
def save():
    """Save a listing to the shortlist."""
    form = ListingForm()
    if not form.validate():
        return _fail(_first_error(form), 400)
    try:
        listing = shortlists.add(form.listing_id.data)
    except shortlists.ShortlistError as error:
        if not _wants_json() and error.status == 409:
            flash(str(error))
            return _back(form)
        return _fail(str(error), error.status)
    if _wants_json():
        return _state(True, _("%(name)s saved to your shortlist.", name=listing.name))
    return _back(form)


@bp.post("/shortlist/remove")
@public
def remove():
    """Take a listing off the shortlist."""
    form = ListingForm()
    if not form.validate():
        return _fail(_first_error(form), 400)
    try:
        shortlists.remove(form.listing_id.data)
    except shortlists.ShortlistError as error:
        return _fail(str(error), error.status)
    if _wants_json():
        return _state(False, _("Removed from your shortlist."))
    return _back(form)


@bp.post("/shortlist/move/<direction>")
@public
def move(direction: str):
    """Move a saved listing one place up or down."""
    if direction not in ("up", "down"):
        abort(404)
    form = ListingForm()
    if not form.validate():
        return _fail(_first_error(form), 400)
    try:
        shortlists.move(form.listing_id.data, direction)
    except shortlists.ShortlistError as error:
        return _fail(str(error), error.status)
    return redirect(url_for("shortlist.page") + f"#item-{form.listing_id.data}", code=303)


@bp.post("/shortlist/note")
@public
def note():
    """Keep the owner's private note on a saved listing."""
    form = NoteForm()
    if not form.validate():
        return _page(400, note_form=form, failed_note=str(form.listing_id.data or ""))
    try:
        shortlists.set_note(form.listing_id.data, form.note.data or "")
    except shortlists.ShortlistError as error:
        return _fail(str(error), error.status)
    flash(_("Your note was saved."))
    return redirect(url_for("shortlist.page") + f"#item-{form.listing_id.data}", code=303)


@bp.post("/shortlist/email")
@public
def email():
    """Email the shortlist's links, in our words, to the visitor or a professional."""
    form = EmailForm()
    if not form.validate():
        return _page(400, email_form=form)
    shortlist = shortlists.current()
    if shortlist is None:
        refuse(400, _("Your shortlist is empty. Save some services first."))
    try:
        shortlists.email(shortlist, form.email.data.strip(), form.recipient.data)
    except shortlists.ShortlistError as error:
        refuse(error.status, str(error))
    flash(_("We have emailed the link to %(email)s.", email=form.email.data.strip()))
    return redirect(url_for("shortlist.page"), code=303)


@bp.post("/shortlist/device")
@public
def device():
    """Keep the shortlist on this device for months, or stop keeping it (the owner chooses)."""
    form = DeviceForm()
    if not form.validate():
        return _fail(_first_error(form), 400)
    if form.keep.data == "yes":
        try:
            shortlists.keep_on_device()
        except shortlists.ShortlistError as error:
            return _fail(str(error), error.status)
        flash(_("This device will keep your shortlist for %(days)s days after you last use it.",
                days=current_app.config["SHORTLIST_KEEP_DAYS"]))
    else:
        shortlists.forget_on_device()
        flash(_("This device will no longer keep your shortlist once you close the browser."))
    return redirect(url_for("shortlist.page") + "#device-heading", code=303)


@bp.get("/s/<token>")
@public
def shared(token: str):
    """Show a shared shortlist, read only, without the owner's notes."""
    g.lo_shortlist_private = True
    shortlist = shortlists.by_share_token(token)
    if shortlist is None:
        abort(404)
    response = render_template("shortlist/shared.html", entries=shortlists.entries(shortlist))
    return response, 200, {"X-Robots-Tag": "noindex"}
