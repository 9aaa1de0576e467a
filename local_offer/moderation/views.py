"""Coordinators' moderation: a queue of waiting changes, each read as a difference, approved or sent back.

Approval goes through ``listings.workflow.approve`` (the one publish path), so
search shows the change as soon as it is committed.  A change made against an
older live version is merged field by field; where both sides changed the same
field, the coordinator is shown both versions and must choose.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from local_offer import interchange, personal_details
from local_offer.auth import requires, second_factor_first
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.listings import data as listing_data, limits, preview as listing_preview, readable, workflow
from local_offer.listings.labels import AUDIT_LABELS
from local_offer.errors import refuse
from local_offer.security import no_store
from local_offer.listings.queries import (
    count_waiting_changes,
    find_listings,
    latest_revision,
    listing_history,
    waiting_changes,
)
from local_offer.models import Listing, ListingRevision, RevisionStatus, Role, utcnow
from local_offer.moderation.forms import DecideForm, ImportForm, ReturnForm
from local_offer.users import client_ip

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


bp.before_request(second_factor_first)


@bp.app_template_global("changes_waiting_count")
def changes_waiting_count() -> int:
    """Return how many changes wait for checks (shown on the coordinators' pages)."""
    return count_waiting_changes()


@bp.get("/")
@requires(Role.COORDINATOR)
def queue():
    """List new listings and changes waiting for checks, oldest first."""
    waiting = waiting_changes()
    altered = {change.id: readable.changed_labels(change.base_data, change.data) for change in waiting}
    return render_template("moderation/queue.html", waiting=waiting, altered=altered, now=utcnow())


def _revision_or_404(revision_id) -> ListingRevision:
    """Return a change by its id, or a 404 that says why it may have gone."""
    change = db.session.get(ListingRevision, str(revision_id))
    if change is None:
        refuse(404, _("This change is no longer here: its listing may have been deleted, or the change thrown "
                      "away. Go back to the changes waiting for checks."))
    return change


def _review_page(revision: ListingRevision, decide: DecideForm | None = None, send_back: ReturnForm | None = None,
                 conflict: workflow.Conflict | None = None, status: int = 200):
    """Show a change as a difference against what is live, with the decision forms."""
    listing = revision.listing
    live = listing_data.listing_data(listing) if revision.base_data is not None else None
    meanwhile = listing_data.diff(revision.base_data, live) if live is not None and revision.base_data else []
    after = revision.data if live is None else listing_data.merge(revision.base_data, live, revision.data)[0]
    sections = readable.readable_sections(live, after)
    changes = [row for section in sections for row in section.changed]
    conflicts = []
    if conflict is not None:
        names = readable.term_names(live, revision.data)
        conflicts = [(listing_data.label_of(field), readable.value_markup(field, live.get(field), names),
                      readable.value_markup(field, revision.data.get(field), names)) for field in conflict.fields]
    decide = decide or DecideForm(version=revision.version)
    send_back = send_back or ReturnForm(version=revision.version)
    try:
        private = personal_details.provider_warnings(limits.description_text(after))
    except TypeError:  # a description that is not text at all says nothing about anyone
        private = []
    return render_template("moderation/revision.html", revision=revision, listing=listing, changes=changes,
                           private_people=private,
                           sections=sections, meanwhile=meanwhile, conflicts=conflicts, decide=decide,
                           send_back=send_back, is_new=live is None,
                           form=send_back if send_back.errors else None), status


@bp.get("/changes/<uuid:revision_id>")
@requires(Role.COORDINATOR)
def revision(revision_id):
    """Show one change: what it alters, the provider's note, approve or send back."""
    return _review_page(_revision_or_404(revision_id))


def _preview_page(revision: ListingRevision, send_back: ReturnForm | None = None, status: int = 200):
    """Show the public listing page as it would be once the change is approved, with the decision forms.

    Built in memory from the change (``listings.preview``): nothing is stored; search engines are told not to keep it.
    """
    send_back = send_back or ReturnForm(version=revision.version)
    response = make_response(render_template(
        "moderation/preview.html", listing=listing_preview.revision_preview(revision), revision=revision,
        live=revision.listing, is_new=revision.base_data is None, decide=DecideForm(version=revision.version),
        send_back=send_back, form=send_back if send_back.errors else None, preview=True, back=None, distance=None,
        calendar_ready=False), status)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/changes/<uuid:revision_id>/preview")
@requires(Role.COORDINATOR)
def preview(revision_id):
    """Show the listing as families will see it once this change is approved; approve or send back from here."""
    return _preview_page(_revision_or_404(revision_id))


def _still_current(revision: ListingRevision, form) -> bool:
    """Say whether the change is still waiting and unchanged since the coordinator opened it."""
    return revision.status is RevisionStatus.PENDING and str(form.version.data) == str(revision.version)


@bp.post("/changes/<uuid:revision_id>/approve")
@requires(Role.COORDINATOR)
def approve(revision_id):
    """Publish a change (search shows it within a second), unless it changed or conflicts."""
    change = _revision_or_404(revision_id)
    form = DecideForm()
    if not form.validate() or not _still_current(change, form):
        flash(_("This change was edited or decided by someone else since you opened it. Check it again."))
        return _review_page(change, status=409)
    return _decided(change, lambda: workflow.approve(change, current_user, accept_conflicts=bool(
        form.accept_conflicts.data), ip_address=client_ip()))


def _decided(change: ListingRevision, publish):
    """Publish a change (``publish`` calls the workflow), then go back to the queue, or say why it could not be."""
    revision_id, listing = change.id, change.listing
    try:
        overrode = publish()
    except workflow.Conflict as conflict:
        return _review_page(db.session.get(ListingRevision, revision_id), conflict=conflict, status=409)
    except workflow.StaleEdit:
        flash(_("Someone else changed this listing at the same moment. Check it again."))
        return _review_page(db.session.get(ListingRevision, revision_id), status=409)
    except workflow.PublishError as error:
        flash(_("This change cannot be published: %(reason)s Send it back or edit it.", reason=str(error)))
        return _review_page(db.session.get(ListingRevision, revision_id), status=400)
    flash(_("Published. Families can find %(name)s now.", name=listing.name) if not overrode else
          _("Published over the other change to: %(fields)s.",
            fields=", ".join(listing_data.label_of(field) for field in overrode)))
    return redirect(url_for("moderation.queue"))


@bp.post("/changes/<uuid:revision_id>/send-back")
@requires(Role.COORDINATOR)
def send_back(revision_id):
    """Return a change to the provider with a reason they see in the portal and by email."""
    change = _revision_or_404(revision_id)
    form = ReturnForm()
    if not form.validate():
        if request.form.get("from") == "preview":
            return _preview_page(change, send_back=form, status=400)
        return _review_page(change, send_back=form, status=400)
    if not _still_current(change, form):
        flash(_("This change was edited or decided by someone else since you opened it. Check it again."))
        return _review_page(change, status=409)
    workflow.send_back(change, form.reason.data, current_user, ip_address=client_ip())
    flash(_("Sent back to the provider with your reason."))
    return redirect(url_for("moderation.queue"))


@bp.get("/listings")
@requires(Role.COORDINATOR)
def listings():
    """Find any listing, in any state, to edit it directly or read its history."""
    words = (request.args.get("q") or "").strip()[:200]
    status = request.args.get("status") or ""
    found = find_listings(words, status) if words or status else []
    return render_template("moderation/listings.html", found=found, words=words, status=status,
                           searched=bool(words or status))


@bp.get("/listings/<uuid:listing_id>/history")
@requires(Role.COORDINATOR)
def history(listing_id):
    """Show who changed what, and when, from the audit log."""
    listing = db.get_or_404(Listing, str(listing_id))
    events, revisions, names = listing_history(listing.id)
    return render_template("moderation/history.html", listing=listing, events=events, revisions=revisions,
                           names=names, label_of=listing_data.label_of, AUDIT_LABELS=AUDIT_LABELS)


@bp.post("/listings/<uuid:listing_id>/publish")
@requires(Role.COORDINATOR)
def publish_now(listing_id):
    """A coordinator's own edit: publish the open change straight away (it is checked by its author)."""
    listing = db.get_or_404(Listing, str(listing_id))
    change = workflow.open_revision(listing)
    form = DecideForm()
    if change is None or not form.validate() or str(form.version.data) != str(change.version):
        # Someone else saved, sent or decided it meanwhile: show what it is now, beside what is live.
        flash(_("This listing changed while you were looking at it. Check it again."))
        latest = change or latest_revision(listing.id)
        if latest is None:
            refuse(409, _("This listing changed while you were looking at it. Check it again."))
        return _review_page(latest, status=409)
    if change.base_data is None and set(change.data.get("_done") or []) != set(listing_data.SECTIONS):
        flash(_("Complete every section before publishing."))
        return redirect(url_for("portal.listing", listing_id=listing.id)), 303
    return _decided(change, lambda: workflow.publish_now(listing, change, current_user, ip_address=client_ip()))


# --- open data: imports and exports for coordinators -------------------------------------------------------


@bp.route("/data", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def data():
    """Exports, and an upload that is checked (a dry run) before anything is written."""
    form = ImportForm()
    if form.validate_on_submit():
        try:
            token, report = interchange.check_upload(form.file.data)
        except interchange.UnreadableImport as error:  # not JSON, wrong columns, not UTF-8
            form.file.errors.append(str(error))
            return render_template("moderation/data.html", form=form), 400
        return render_template("moderation/import_report.html", report=report, token=token,
                               publish=bool(form.publish.data), applied=False, form=None)
    return render_template("moderation/data.html", form=form), 400 if form.errors else 200


@bp.post("/data/apply")
@requires(Role.COORDINATOR)
def data_apply():
    """Apply an upload that was checked: pending changes for moderation, or published at once."""
    publish = request.form.get("publish") == "yes"
    report = interchange.apply_upload(request.form.get("token", ""), publish=publish, actor=current_user,
                                      ip_address=client_ip())
    if report is None:
        flash(_("That upload was not found. Upload the file again."))
        return redirect(url_for("moderation.data")), 303
    return render_template("moderation/import_report.html", report=report, token=None, publish=publish,
                           applied=True, form=None)


@bp.get("/data/directory.json")
@requires(Role.COORDINATOR)
def export_json():
    """Download the public directory as Open Referral UK JSON."""
    return no_store(Response(interchange.to_json(interchange.export_oruk()), mimetype="application/json",
                             headers={"Content-Disposition": "attachment; filename=directory-oruk.json"}))


@bp.get("/data/directory.csv")
@requires(Role.COORDINATOR)
def export_csv():
    """Download the public directory in the CSV import layout."""
    return no_store(Response(interchange.export_csv(), mimetype="text/csv",
                             headers={"Content-Disposition": "attachment; filename=directory.csv"}))
