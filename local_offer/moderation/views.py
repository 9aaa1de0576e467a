"""Coordinators' moderation: a queue of waiting changes, each read as a difference, approved or sent back.

Approval goes through ``publishing.approve`` (the one publish path), so search
shows the change as soon as it is committed.  A change made against an older
live version is merged field by field; where both sides changed the same field,
the coordinator is shown both versions and must choose.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from local_offer import interchange, publishing
from local_offer.auth import requires, second_factor_first
from local_offer.extensions import db
from local_offer.i18n import _, _l
from local_offer.models import (
    AuditEvent,
    Listing,
    ListingRevision,
    ListingStatus,
    Organisation,
    RevisionStatus,
    Role,
    User,
    record_audit,
    utcnow,
)
from local_offer.moderation import bp
from local_offer.portal.forms import DecideForm, ReturnForm
from local_offer.portal.views import notify_providers
from local_offer.users import client_ip


bp.before_request(second_factor_first)


@bp.get("/")
@requires(Role.COORDINATOR)
def queue():
    """List new listings and changes waiting for checks, oldest first."""
    waiting = db.session.execute(
        select(ListingRevision).where(ListingRevision.status == RevisionStatus.PENDING)
        .options(selectinload(ListingRevision.listing).selectinload(Listing.organisation),
                 selectinload(ListingRevision.created_by))
        .order_by(ListingRevision.submitted_at, ListingRevision.created_at)).scalars().all()
    return render_template("moderation/queue.html", waiting=waiting, now=utcnow())


def _pending_or_404(revision_id) -> ListingRevision:
    return db.get_or_404(ListingRevision, str(revision_id))


def _review_page(revision: ListingRevision, decide: DecideForm | None = None, send_back: ReturnForm | None = None,
                 conflict: publishing.Conflict | None = None, status: int = 200):
    """Show a change as a difference against what is live, with the decision forms."""
    listing = revision.listing
    live = publishing.listing_data(listing) if revision.base_data is not None else None
    changes = publishing.diff(live, revision.data if live is None
                              else publishing.merge(revision.base_data, live, revision.data)[0])
    meanwhile = publishing.diff(revision.base_data, live) if live is not None and revision.base_data else []
    conflicts = []
    if conflict is not None:
        conflicts = [(publishing.label_of(field), publishing._display(field, live.get(field)),
                      publishing._display(field, revision.data.get(field))) for field in conflict.fields]
    decide = decide or DecideForm(version=revision.version)
    send_back = send_back or ReturnForm(version=revision.version)
    return render_template("moderation/revision.html", revision=revision, listing=listing, changes=changes,
                           meanwhile=meanwhile, conflicts=conflicts, decide=decide, send_back=send_back,
                           is_new=live is None, form=send_back if send_back.errors else None), status


@bp.get("/changes/<uuid:revision_id>")
@requires(Role.COORDINATOR)
def revision(revision_id):
    """Show one change: what it alters, the provider's note, approve or send back."""
    return _review_page(_pending_or_404(revision_id))


def _still_current(revision: ListingRevision, form) -> bool:
    """Say whether the change is still waiting and unchanged since the coordinator opened it."""
    return revision.status is RevisionStatus.PENDING and str(form.version.data) == str(revision.version)


@bp.post("/changes/<uuid:revision_id>/approve")
@requires(Role.COORDINATOR)
def approve(revision_id):
    """Publish a change (search shows it within a second), unless it changed or conflicts."""
    change = _pending_or_404(revision_id)
    form = DecideForm()
    if not form.validate() or not _still_current(change, form):
        flash(_("This change was edited or decided by someone else since you opened it. Check it again."))
        return _review_page(change, status=409)
    return _approve(change, bool(form.accept_conflicts.data))


def _approve(change: ListingRevision, accept_conflicts: bool):
    """Publish a change through the one publish path, tell its providers, and go back to the queue."""
    revision_id = change.id
    try:
        overrode = publishing.approve(change, current_user, accept_conflicts=accept_conflicts,
                                      ip_address=client_ip())
    except publishing.Conflict as conflict:
        return _review_page(change, conflict=conflict, status=409)
    except publishing.StaleEdit:
        flash(_("Someone else changed this listing at the same moment. Check it again."))
        return _review_page(db.session.get(ListingRevision, revision_id), status=409)
    except publishing.PublishError as error:
        flash(_("This change cannot be published: %(reason)s Send it back or edit it.", reason=str(error)))
        return _review_page(db.session.get(ListingRevision, revision_id), status=400)
    listing = change.listing
    notify_providers(listing, _("Your listing %(name)s is live", name=listing.name), _(
        "Hello,\n\nThe Local Offer team has checked and published your changes to %(name)s. "
        "Families can see them now:\n%(link)s\n\nThank you for keeping your listing up to date.",
        name=listing.name, link=url_for("directory.listing", listing_id=listing.id, _external=True)), change)
    flash(_("Published. Families can find %(name)s now.", name=listing.name) if not overrode else
          _("Published over the other change to: %(fields)s.",
            fields=", ".join(publishing.label_of(field) for field in overrode)))
    return redirect(url_for("moderation.queue"))


@bp.post("/changes/<uuid:revision_id>/send-back")
@requires(Role.COORDINATOR)
def send_back(revision_id):
    """Return a change to the provider with a reason they see in the portal and by email."""
    change = _pending_or_404(revision_id)
    form = ReturnForm()
    if not form.validate():
        return _review_page(change, send_back=form, status=400)
    if not _still_current(change, form):
        flash(_("This change was edited or decided by someone else since you opened it. Check it again."))
        return _review_page(change, status=409)
    reason = publishing.clean_text(form.reason.data)
    change.status = RevisionStatus.RETURNED
    change.decision_reason = reason
    change.decided_by_id = current_user.id
    change.decided_at = utcnow()
    listing = change.listing
    if listing.status is ListingStatus.PENDING:
        listing.status = ListingStatus.DRAFT
    record_audit("revision.returned", "listing", listing.id, actor=current_user,
                 changes={"revision": change.id, "reason": reason}, ip_address=client_ip())
    db.session.commit()
    notify_providers(listing, _("Changes needed to %(name)s", name=listing.name), _(
        "Hello,\n\nThe Local Offer team has looked at your changes to %(name)s and sent them back:\n\n"
        "%(reason)s\n\nYour changes are saved. Make the changes and send them again from the portal:\n%(link)s",
        name=listing.name, reason=reason,
        link=url_for("portal.listing", listing_id=listing.id, _external=True)), change)
    flash(_("Sent back to the provider with your reason."))
    return redirect(url_for("moderation.queue"))


@bp.get("/listings")
@requires(Role.COORDINATOR)
def listings():
    """Find any listing, in any state, to edit it directly or read its history."""
    words = (request.args.get("q") or "").strip()[:200]
    status = request.args.get("status") or ""
    query = select(Listing).options(selectinload(Listing.organisation)).order_by(Listing.name).limit(50)
    if words:
        like = f"%{words.lower()}%"
        query = query.join(Organisation).where(or_(func.lower(Listing.name).like(like),
                                                   func.lower(Organisation.name).like(like)))
    if status in {item.value for item in ListingStatus}:
        query = query.where(Listing.status == ListingStatus(status))
    found = db.session.execute(query).scalars().all() if words or status else []
    return render_template("moderation/listings.html", found=found, words=words, status=status,
                           searched=bool(words or status))


@bp.get("/listings/<uuid:listing_id>/history")
@requires(Role.COORDINATOR)
def history(listing_id):
    """Show who changed what, and when, from the audit log."""
    listing = db.get_or_404(Listing, str(listing_id))
    events = db.session.execute(select(AuditEvent).where(AuditEvent.entity_type == "listing",
                                                         AuditEvent.entity_id == listing.id)
                                .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())).scalars().all()
    revisions = db.session.execute(select(ListingRevision).where(ListingRevision.listing_id == listing.id)
                                   .order_by(ListingRevision.created_at.desc())).scalars().all()
    names = {user.id: user.name or user.email for user in db.session.execute(
        select(User).where(User.id.in_({event.actor_id for event in events if event.actor_id}))).scalars()}
    return render_template("moderation/history.html", listing=listing, events=events, revisions=revisions,
                           names=names, label_of=publishing.label_of, AUDIT_LABELS=AUDIT_LABELS)


#: What the history page calls each audited action.
AUDIT_LABELS = {
    "listing.seeded": _l("Loaded from the demo content"),
    "listing.started": _l("Started as a new listing"),
    "revision.submitted": _l("Sent a change for checking"),
    "revision.withdrawn": _l("Threw away a change"),
    "revision.returned": _l("Sent a change back"),
    "listing.approved": _l("Approved and published a change"),
    "listing.published": _l("Published"),
    "listing.confirmed": _l("Confirmed still accurate"),
    "listing.review_reminded": _l("Reminded the provider to check it"),
}


@bp.post("/listings/<uuid:listing_id>/publish")
@requires(Role.COORDINATOR)
def publish_now(listing_id):
    """A coordinator's own edit: publish the open change straight away (it is checked by its author)."""
    listing = db.get_or_404(Listing, str(listing_id))
    change = publishing.open_revision(listing)
    form = DecideForm()
    if change is None or not form.validate() or str(form.version.data) != str(change.version):
        flash(_("This listing changed while you were looking at it. Check it again."))
        return redirect(url_for("portal.listing", listing_id=listing.id)), 303
    if change.base_data is None and set(change.data.get("_done") or []) != set(publishing.SECTIONS):
        flash(_("Complete every section before publishing."))
        return redirect(url_for("portal.listing", listing_id=listing.id)), 303
    change.status = RevisionStatus.PENDING
    change.submitted_at = change.submitted_at or utcnow()
    record_audit("revision.submitted", "listing", listing.id, actor=current_user,
                 changes={"revision": change.id}, ip_address=client_ip())
    db.session.commit()  # so a conflict page's approve form finds it waiting
    return _approve(change, accept_conflicts=False)


# --- open data: imports and exports for coordinators -------------------------------------------------------


@bp.route("/data", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def data():
    """Exports, and an upload that is checked (a dry run) before anything is written."""
    from local_offer.portal.forms import ImportForm

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
    return Response(interchange.to_json(interchange.export_oruk()), mimetype="application/json",
                    headers={"Content-Disposition": "attachment; filename=directory-oruk.json"})


@bp.get("/data/directory.csv")
@requires(Role.COORDINATOR)
def export_csv():
    """Download the public directory in the CSV import layout."""
    return Response(interchange.export_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=directory.csv"})
