"""The provider portal: a dashboard, a listing written in sections, and requests to the council.

Providers see and change only their organisations' listings; coordinators may
open any listing here to edit it directly.  Nothing saved here reaches families
until a coordinator approves it (see the moderation blueprint), except "still
accurate", which only moves the review dates.  Every step is a function of
``listings.workflow``: these views check the form, call it and show the result.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from local_offer import personal_details, reviews
from local_offer.auth import requires, second_factor_first
from local_offer.errors import refuse
from local_offer.extensions import db
from local_offer.fields import choices
from local_offer.i18n import _, current_language, ngettext
from local_offer.listings import data as listing_data, limits, readable, workflow
from local_offer.listings.labels import SECTION_TITLES
from local_offer.listings.queries import all_organisations, organisation_listings, vocabulary_trees
from local_offer.models import Listing, ListingRevision, ListingStatus, Role, User, Vocabulary
from local_offer.portal.forms import FORMS, AccessForm, ConfirmForm, NewListingForm, StatusForm, SubmitForm
from local_offer.users import client_ip

bp = Blueprint("portal", __name__, url_prefix="/portal")

#: Descriptions may be long: let a too-long one reach the form's own check (up to this size).
PORTAL_FORM_LIMIT = 8 * 1024 * 1024


bp.before_request(second_factor_first)


@bp.before_request
def portal_limits() -> None:
    """Let a too-long description reach the form's own check, rather than a bare 413."""
    request.max_content_length = PORTAL_FORM_LIMIT
    request.max_form_memory_size = PORTAL_FORM_LIMIT


@bp.context_processor
def section_titles():
    """Give every portal page the sections' names."""
    return {"section_titles": SECTION_TITLES}


# --- who may edit what ---------------------------------------------------------------------


def may_edit(user: User, listing: Listing) -> bool:
    """Say whether someone may change a listing: its organisation's providers, and coordinators."""
    if user.has_role(Role.COORDINATOR):
        return True
    return any(organisation.id == listing.organisation_id for organisation in user.organisations)


def editable_listing(listing_id) -> Listing:
    """Return the listing if the signed-in person may edit it: 404 if there is none, 403 if not theirs."""
    listing = db.get_or_404(Listing, str(listing_id))
    if not may_edit(current_user, listing):
        abort(403)
    if listing.feed_id is not None:  # a neighbour's service: changed at its source, hidden (not edited) here
        refuse(409, _("This service comes from %(feed)s. It is changed there; here a coordinator can only hide it, "
                      "from the feed's page in the admin pages.", feed=listing.feed.name))
    return listing


def current_data(listing: Listing, revision: ListingRevision | None) -> dict:
    """Return what the portal shows: the open change if there is one, else the live listing."""
    return dict(revision.data) if revision is not None else listing_data.listing_data(listing)


def section_states(listing: Listing, revision: ListingRevision | None) -> dict[str, str]:
    """Return each section's state for the task list: completed, in progress or not started."""
    if revision is None or revision.base_data is not None:
        return {section: "completed" for section in listing_data.SECTIONS}
    done = set(revision.data.get("_done") or [])
    return {section: "completed" if section in done else "not_started" for section in listing_data.SECTIONS}


def moderation_promise() -> str:
    """Say when a coordinator will look at something sent for checking (the configured service level)."""
    days = current_app.config["MODERATION_DAYS"]
    return ngettext("A coordinator will look at it within %(num)s working day.",
                    "A coordinator will look at it within %(num)s working days.", days)


def _changes(revision: ListingRevision | None) -> list[listing_data.Change]:
    """Return what an open change to a live listing alters (nothing for a new listing's first change)."""
    return listing_data.diff(revision.base_data, revision.data) if revision is not None and revision.base_data else []


# --- the dashboard ---------------------------------------------------------------------------


@bp.get("/")
@requires(Role.PROVIDER)
def dashboard():
    """List the organisation's listings with their status, waiting changes and review dates."""
    rows = []
    for listing, revision in organisation_listings([organisation.id for organisation in current_user.organisations]):
        name = (revision.data.get("name") if revision else None) or listing.name
        rows.append({"listing": listing, "revision": revision, "name": name,
                     "review": reviews.review_state(listing) if listing.is_visible else None})
    return render_template("portal/dashboard.html", rows=rows, confirm_form=ConfirmForm(),
                           organisations=current_user.organisations)


# --- starting a listing ----------------------------------------------------------------------


@bp.route("/listings/new", methods=["GET", "POST"])
@requires(Role.PROVIDER)
def new_listing():
    """Start a new listing for one of the person's organisations (any, for coordinators)."""
    form = NewListingForm()
    if current_user.has_role(Role.COORDINATOR):
        organisations = all_organisations()
    else:
        organisations = sorted(current_user.organisations, key=lambda organisation: organisation.name)
    if not organisations:
        flash(_("Your account is not linked to an organisation yet. Ask the Local Offer team to link it."))
        return redirect(url_for("portal.dashboard"))
    form.organisation.choices = choices((organisation.id, organisation.name) for organisation in organisations)
    if len(organisations) == 1 and not form.is_submitted():
        form.organisation.data = organisations[0].id
    if form.validate_on_submit():
        listing = workflow.start_listing(form.organisation.data, form.name.data, form.kind.data, current_user,
                                         ip_address=client_ip())
        flash(_("Listing started. Fill in each section, then send it for checking."))
        return redirect(url_for("portal.listing", listing_id=listing.id))
    own = organisation_listings([organisation.id for organisation in current_user.organisations])
    return render_template("portal/new_listing.html", form=form, can_copy=bool(own)), 400 if form.errors else 200


# --- the task list -----------------------------------------------------------------------------


def _render_task_list(listing: Listing, revision: ListingRevision | None, submit_form: SubmitForm,
                      ready: bool | None = None, status: int = 200):
    """Show a listing's sections and state, with what can be done next."""
    states = section_states(listing, revision)
    return render_template(
        "portal/listing.html", listing=listing, revision=revision, data=current_data(listing, revision), states=states,
        changes=_changes(revision), submit_form=submit_form, confirm_form=ConfirmForm(),
        changed_sections=readable.readable_sections(revision.base_data, revision.data)
        if revision is not None and revision.base_data is not None else [],
        ready=all(state == "completed" for state in states.values()) if ready is None else ready,
        review=reviews.review_state(listing) if listing.is_visible and status == 200 else None), status


@bp.get("/listings/<uuid:listing_id>", endpoint="listing")
@requires(Role.PROVIDER)
def task_list(listing_id):
    """Show a listing's sections and state, with what can be done next."""
    listing = editable_listing(listing_id)
    revision = workflow.open_revision(listing)
    return _render_task_list(listing, revision, SubmitForm(revision=revision.id if revision else "",
                                                           version=revision.version if revision else ""))


@bp.post("/listings/<uuid:listing_id>/edit")
@requires(Role.PROVIDER)
def start_edit(listing_id):
    """Begin a change to a live listing: it waits beside the published version until approved."""
    listing = editable_listing(listing_id)
    try:
        revision = workflow.begin_change(listing, current_user)
    except workflow.StaleEdit:  # someone else opened a change at the same moment
        return _changed_meanwhile(listing)
    section = request.form.get("section")
    return redirect(url_for("portal.section", listing_id=listing.id,
                            section=section if section in listing_data.SECTIONS else "about", revision=revision.id))


def _choices_from_tree(vocabulary: Vocabulary) -> tuple[list, list]:
    """Return (choices, groups) for a vocabulary: leaf terms, grouped under their top term."""
    tops, _by_code = vocabulary_trees()
    language = current_language()
    groups, options = [], []
    for top in tops[vocabulary]:
        group = [(top.code, _("%(name)s (in general)", name=top.label(language)) if top.children
                  else top.label(language))]
        group += [(term.code, term.label(language)) for term in top.children]
        groups.append((top.label(language), group))
        options.extend(group)
    return choices(options), groups


def _prepare(form, section: str) -> dict:
    """Give a section form its vocabulary choices; return what its template needs."""
    extra = {}
    if section == "about":
        form.categories.choices, extra["category_groups"] = _choices_from_tree(Vocabulary.CATEGORY)
    elif section == "who":
        form.needs.choices, extra["need_groups"] = _choices_from_tree(Vocabulary.NEED)
    elif section == "access":
        form.accessibility.choices, _groups = _choices_from_tree(Vocabulary.ACCESSIBILITY)
    return extra


@bp.route("/listings/<uuid:listing_id>/sections/<section>", methods=["GET", "POST"])
@requires(Role.PROVIDER)
def section(listing_id, section):
    """Edit one section of the open change; saving keeps it as a draft to come back to."""
    listing = editable_listing(listing_id)
    if section not in FORMS:
        abort(404)
    revision = workflow.open_revision(listing)
    form = FORMS[section]()
    extra = _prepare(form, section)
    if isinstance(form, AccessForm):
        form.details = {}
    if not form.is_submitted():
        if revision is None:
            # Looking before changing anything: the form shows the live listing.
            form.load(listing_data.listing_data(listing))
            form.version.data = f"live-{listing.version}"
        else:
            form.load(revision.data)
            form.revision.data, form.version.data = revision.id, revision.version
        return _render_section(listing, revision, section, form, extra)
    if isinstance(form, AccessForm):
        form.read_details(request.form)
    form.before = current_data(listing, revision)  # text left as it was stays as stored
    if revision is None:
        if form.revision.data or form.version.data != f"live-{listing.version}":
            return _stale(listing, None, form, section)
    elif form.revision.data != revision.id or str(form.version.data) != str(revision.version):
        return _stale(listing, revision, form, section)
    if getattr(form, "add_session", None) is not None and form.add_session.data:
        # "Add another session": the same page with one more blank session; nothing checked or saved yet
        if len(form.schedules.entries) < form.schedules.max_entries:
            form.schedules.append_entry()
        return _render_section(listing, revision, section, form, extra)
    if not form.validate():
        return _render_section(listing, revision, section, form, extra, status=400)
    try:
        workflow.save_section(listing, revision, section, form.dump(), current_user)
    except workflow.StaleEdit:
        return _stale(listing, workflow.open_revision(listing), form, section)
    if form.save_and_send.data:
        response = _send_after_saving(listing, SECTION_TITLES[section])
    else:
        flash(_("%(section)s saved.", section=SECTION_TITLES[section]))
        response = redirect(url_for("portal.listing", listing_id=listing.id))
    _warn_about_private_people(form)
    return response


def _send_after_saving(listing: Listing, title: str):
    """"Save and send for checking": send the change at once when it is complete and changes something."""
    revision = workflow.open_revision(listing)
    complete = all(state == "completed" for state in section_states(listing, revision).values())
    if revision is None or not complete:
        flash(_("%(section)s saved. Complete every section before sending it for checking.", section=title))
    elif revision.base_data is not None and not _changes(revision):
        flash(_("%(section)s saved. You have not changed anything yet.", section=title))
    else:
        try:
            workflow.submit(listing, revision, "", current_user, ip_address=client_ip())
        except workflow.StaleEdit:
            return _changed_meanwhile(listing)
        flash(_("Sent for checking. %(when)s We will email you when they have.", when=moderation_promise()))
    return redirect(url_for("portal.listing", listing_id=listing.id))


def _warn_about_private_people(form) -> None:
    """Warn (never stop) when a description seems to hold a private person's details ("my son Alfie")."""
    text = getattr(getattr(form, "description", None), "data", None) or ""
    found = personal_details.provider_warnings(text)
    if found:
        flash(_("Check your description before you send it: it seems to mention a private person (%(what)s). "
                "Listings are public, so include someone's name or date of birth only if they have agreed.",
                what=", ".join(f"“{finding.text}”" for finding in found[:5])))


def _render_section(listing, revision, section, form, extra, status=200):
    """Show one section's form; "Save and send for checking" too when the other sections are complete."""
    others = {name: state for name, state in section_states(listing, revision).items() if name != section}
    return render_template("portal/section.html", listing=listing, revision=revision, section=section,
                           title=SECTION_TITLES[section], form=form,
                           can_send=all(state == "completed" for state in others.values()),
                           description_max=limits.DESCRIPTION, **extra), status


def _stale(listing, revision, form, section):
    """Someone else saved this change (or approved it) since the form was opened: show both versions."""
    db.session.rollback()
    mine = None
    if form.validate():
        base = dict(revision.data) if revision is not None else listing_data.listing_data(listing)
        mine = {**base, **form.dump()}
        changes = listing_data.diff(base, mine)
    else:
        changes = []
    return render_template("portal/stale.html", listing=listing, revision=revision, section=section,
                           title=SECTION_TITLES[section], changes=changes, theirs=current_data(listing, revision),
                           form=form, submitted=mine is not None), 409


# --- sending for checking --------------------------------------------------------------------


def _changed_meanwhile(listing: Listing):
    """Someone else saved, sent or decided this change since the page was opened: show it as it is now, a 409."""
    flash(_("This listing changed while you were looking at it. Check it again, then send it."))
    revision = workflow.open_revision(listing)
    return _render_task_list(listing, revision, SubmitForm(revision=revision.id if revision else "",
                                                           version=revision.version if revision else ""),
                             status=409)


def _unchanged_since_opened(revision: ListingRevision | None, form) -> bool:
    """Say whether the change is still the version the form was filled in against."""
    return revision is not None and form.revision.data == revision.id and str(form.version.data) == str(revision.version)


@bp.post("/listings/<uuid:listing_id>/submit")
@requires(Role.PROVIDER)
def submit(listing_id):
    """Send the open change for a coordinator to check."""
    listing = editable_listing(listing_id)
    revision = workflow.open_revision(listing)
    form = SubmitForm()
    if not _unchanged_since_opened(revision, form):
        return _changed_meanwhile(listing)
    complete = all(state == "completed" for state in section_states(listing, revision).values())
    if not form.validate() or not complete:
        if not complete:
            form.note.errors = list(form.note.errors) + [_("Complete every section before sending it for checking")]
        return _render_task_list(listing, revision, form, ready=False, status=400)
    if revision.base_data is not None and not _changes(revision):
        flash(_("You have not changed anything yet."))
        return redirect(url_for("portal.listing", listing_id=listing.id)), 303
    try:
        workflow.submit(listing, revision, form.note.data, current_user, ip_address=client_ip())
    except workflow.StaleEdit:
        return _changed_meanwhile(listing)
    flash(_("Sent for checking. %(when)s We will email you when they have.", when=moderation_promise()))
    return redirect(url_for("portal.listing", listing_id=listing.id))


@bp.post("/listings/<uuid:listing_id>/withdraw")
@requires(Role.PROVIDER)
def withdraw(listing_id):
    """Throw away the open change; the live listing (if any) is untouched."""
    listing = editable_listing(listing_id)
    revision = workflow.open_revision(listing)
    form = SubmitForm()
    if revision is not None and not _unchanged_since_opened(revision, form):
        return _changed_meanwhile(listing)
    if revision is not None:
        try:
            workflow.withdraw(listing, revision, current_user, ip_address=client_ip())
        except workflow.StaleEdit:
            return _changed_meanwhile(listing)
        flash(_("Your changes have been thrown away."))
    return redirect(url_for("portal.listing", listing_id=listing.id))


@bp.route("/listings/<uuid:listing_id>/status", methods=["GET", "POST"])
@requires(Role.PROVIDER)
def change_status(listing_id):
    """Ask to close temporarily, archive, or reopen; a coordinator approves it like any change."""
    listing = editable_listing(listing_id)
    offered = {
        ListingStatus.PUBLISHED: [("temporarily_closed", _("Close it for a while (families still see it, marked closed)")),
                                  ("archived", _("Archive it: it has stopped and families should no longer see it"))],
        ListingStatus.TEMPORARILY_CLOSED: [("published", _("Reopen it")), ("archived", _("Archive it"))],
        ListingStatus.ARCHIVED: [("published", _("Bring it back"))],
    }.get(listing.status)
    if not offered:
        flash(_("A listing that has not been published yet cannot be closed or archived."))
        return redirect(url_for("portal.listing", listing_id=listing.id))
    if workflow.open_revision(listing) is not None:
        flash(_("This listing has changes that are not published yet. Send them for checking (or throw them "
                "away) and wait for them to be checked before asking to close, archive or reopen it."))
        return redirect(url_for("portal.listing", listing_id=listing.id)), 303
    form = StatusForm()
    form.status.choices = choices(offered)
    if form.validate_on_submit():
        workflow.request_status_change(listing, form.status.data, form.note.data, current_user, ip_address=client_ip())
        flash(_("Request sent. %(when)s", when=moderation_promise()))
        return redirect(url_for("portal.listing", listing_id=listing.id))
    return render_template("portal/status.html", listing=listing, form=form), 400 if form.errors else 200


@bp.post("/listings/<uuid:listing_id>/confirm")
@requires(Role.PROVIDER)
def confirm(listing_id):
    """Confirm in one click that a live listing is still accurate: moves its review date on."""
    listing = editable_listing(listing_id)
    form = ConfirmForm()
    if not form.validate() or not listing.is_visible:
        abort(400)
    try:
        workflow.confirm_accurate(listing, current_user, ip_address=client_ip())
    except workflow.StaleEdit:
        pass  # a second click at the same moment: the first one counted
    flash(_("Thank you. %(name)s is marked as checked today.", name=listing.name))
    target = request.form.get("next")
    return redirect(url_for("portal.dashboard") if target == "dashboard"
                    else url_for("portal.listing", listing_id=listing.id))
