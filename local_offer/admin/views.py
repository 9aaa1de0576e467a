"""Routes for coordinators (invitations, join requests, synonyms, related terms, reviews, term dates) and
administrators (accounts)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from local_offer import (
    coordinator_home, jobs, related_terms as related, reviews, synonyms as synonym_groups, term_dates, users,
)
from local_offer.admin.forms import (
    DecisionForm, InviteForm, RelatedTermsForm, SettingsForm, SynonymForm, TermForm, UserForm,
)
from local_offer.auth import requires, second_factor_first
from local_offer.extensions import db
from local_offer.fields import choices
from local_offer.i18n import _
from local_offer.models import (
    JoinRequest, JoinStatus, Organisation, RelatedTerms, Role, SchoolTerm, SignIn, SynonymGroup, User,
)
from local_offer.sanitise import clean_text

bp = Blueprint("admin", __name__, url_prefix="/admin")

def _role_choices(actor: User) -> list[tuple[str, str]]:
    """Return the roles this person may give: coordinators invite providers only."""
    labels = {Role.PROVIDER: _("Provider: keeps their organisation's listings up to date"),
              Role.COORDINATOR: _("Coordinator: checks listings and feedback"),
              Role.ADMIN: _("Administrator: also manages accounts and settings")}
    allowed = [Role.PROVIDER] if actor.role is Role.COORDINATOR else list(Role)
    return [(role.value, labels[role]) for role in allowed]


def _organisation_choices(blank: str) -> list[tuple[str, str]]:
    """Return every organisation as select options, with a first blank choice."""
    rows = db.session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name)).all()
    return [("", blank)] + [(row.id, row.name) for row in rows]


bp.before_request(second_factor_first)


@bp.route("/settings", methods=["GET", "POST"])
@requires(Role.ADMIN)
def settings():
    """Settings administrators change in the site."""
    form = SettingsForm()
    if form.validate_on_submit():
        users.set_two_factor_required(bool(form.require_two_factor.data), current_user)
        reviews.save_settings(bool(form.label_overdue.data), form.hide_after, current_user,
                              ip_address=users.client_ip())
        flash(_("Saved."))
        return redirect(url_for("admin.settings"))
    if not form.is_submitted():
        form.require_two_factor.data = users.two_factor_required()
        chosen = reviews.settings()
        form.label_overdue.data = chosen.label_overdue
        form.hide_after_days.data = str(chosen.hide_after_days) if chosen.hide_after_days else ""
    return render_template("admin/settings.html", form=form), 400 if form.errors else 200


@bp.post("/users/<uuid:user_id>/two-factor/off")
@requires(Role.ADMIN)
def user_two_factor_off(user_id):
    """Remove someone's second factor when they have lost their phone and recovery codes."""
    user = db.get_or_404(User, str(user_id))
    users.turn_off_two_factor(user, actor=current_user)
    flash(_("Their second factor is turned off. They can set it up again when they next sign in."))
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.get("/")
@requires(Role.COORDINATOR)
def index():
    """The coordinators' home: what needs doing today, counted, each thing newest first, then every page."""
    # Scheduled jobs are the administrators' to fix: coordinators are not shown them.
    attention = jobs.needing_attention() if current_user.has_role(Role.ADMIN) else []
    return render_template("admin/index.html", today=coordinator_home.today(), jobs_needing_attention=attention)


@bp.get("/jobs")
@requires(Role.ADMIN)
def scheduled_jobs():
    """Show each scheduled job's schedule, last run, outcome and error."""
    return render_template("admin/jobs.html", statuses=jobs.statuses())


@bp.route("/invite", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def invite():
    """Invite a provider (coordinators) or anyone (administrators) by email."""
    form = InviteForm()
    form.role.choices = choices(_role_choices(current_user))
    form.organisation.choices = choices(_organisation_choices(_("No organisation")))
    if form.validate_on_submit():
        role = Role(form.role.data)
        organisation = db.session.get(Organisation, form.organisation.data) if form.organisation.data else None
        if role is Role.PROVIDER and organisation is None:
            form.organisation.errors.append(_("Choose the provider's organisation"))
        elif users.find_user(form.email.data) is not None:
            form.email.errors.append(_("There is already an account with this email address"))
        else:
            users.invite(form.email.data, role, [organisation] if organisation else [], current_user,
                         name=clean_text(form.name.data or ""))
            flash(_("Invitation sent to %(email)s.", email=users.normalise_email(form.email.data)))
            return redirect(url_for("admin.index"))
        return render_template("admin/invite.html", form=form), 400
    return render_template("admin/invite.html", form=form), 400 if form.errors else 200


@bp.get("/join-requests")
@requires(Role.COORDINATOR)
def join_requests():
    """List requests to join, waiting ones first."""
    rows = db.session.execute(select(JoinRequest).order_by(
        (JoinRequest.status == JoinStatus.PENDING).desc(), JoinRequest.created_at)).scalars().all()
    return render_template("admin/join_requests.html", requests=rows)


@bp.route("/join-requests/<uuid:request_id>", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def join_request(request_id):
    """Approve (with an invitation) or decline a request to join."""
    join = db.get_or_404(JoinRequest, str(request_id))
    form = DecisionForm()
    form.organisation.choices = choices(_organisation_choices(_("Create a new organisation from the request")))
    if join.status is not JoinStatus.PENDING:
        return render_template("admin/join_request.html", join=join, form=None)
    if form.validate_on_submit():
        if form.decision.data == "approve":
            organisation = db.session.get(Organisation, form.organisation.data) if form.organisation.data else None
            users.approve_join(join, organisation, current_user)
            flash(_("Approved: an invitation has been emailed to %(email)s.", email=join.email))
            return redirect(url_for("admin.join_requests"))
        reason = clean_text(form.reason.data or "")
        if not reason:
            form.reason.errors.append(_("Say why you are declining: it is sent to them"))
        else:
            users.decline_join(join, reason, current_user)
            flash(_("Declined: %(email)s has been told why.", email=join.email))
            return redirect(url_for("admin.join_requests"))
    return render_template("admin/join_request.html", join=join, form=form), 400 if form.errors else 200


@bp.get("/users")
@requires(Role.ADMIN)
def user_list():
    """List every account with its role, organisations and last sign-in."""
    rows = db.session.execute(select(User).order_by(User.role, User.email)).scalars().all()
    return render_template("admin/users.html", users=rows)


@bp.route("/users/<uuid:user_id>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def user_detail(user_id):
    """Change an account's role, organisations or whether it can sign in; see its recent sign-ins."""
    user = db.get_or_404(User, str(user_id))
    form = UserForm()
    form.role.choices = choices(_role_choices(current_user))
    if form.validate_on_submit():
        ids = [line.strip() for line in (form.organisations.data or "").splitlines() if line.strip()]
        organisations = [db.session.get(Organisation, i) for i in ids]
        if None in organisations:
            form.organisations.errors.append(_("One of those organisation ids does not exist"))
        elif user.id == current_user.id and (not form.active.data or form.role.data != Role.ADMIN.value):
            form.role.errors.append(_("You cannot remove your own administrator access"))
        else:
            users.change_account(user, Role(form.role.data), bool(form.active.data), organisations, current_user)
            flash(_("Saved."))
            return redirect(url_for("admin.user_detail", user_id=user.id))
    elif not form.is_submitted():
        form.role.data = user.role.value
        form.active.data = user.active
        form.organisations.data = "\n".join(o.id for o in user.organisations)
    recent = db.session.execute(select(SignIn).where(SignIn.user_id == user.id)
                                .order_by(SignIn.occurred_at.desc()).limit(20)).scalars().all()
    return render_template("admin/user.html", user=user, form=form, recent=recent), \
        400 if form.errors else 200


@bp.route("/synonyms", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def synonyms():
    """List and add the groups of words search treats as the same; changes apply to the next search."""
    form = SynonymForm()
    terms = _valid_terms(form)
    if terms:
        synonym_groups.add_group(terms, current_user)
        flash(_("Saved. The next search uses it."))
        return redirect(url_for("admin.synonyms"))
    return render_template("admin/synonyms.html", form=form, groups=synonym_groups.all_groups()), \
        400 if form.errors else 200


@bp.route("/synonyms/<uuid:group_id>", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def synonym(group_id):
    """Change one group of words."""
    group = db.get_or_404(SynonymGroup, str(group_id))
    form = SynonymForm()
    terms = _valid_terms(form)
    if terms:
        synonym_groups.change_group(group, terms, current_user)
        flash(_("Saved. The next search uses it."))
        return redirect(url_for("admin.synonyms"))
    elif not form.is_submitted():
        form.terms.data = ", ".join(group.terms)
    return render_template("admin/synonym.html", form=form, group=group), 400 if form.errors else 200


@bp.post("/synonyms/<uuid:group_id>/delete")
@requires(Role.COORDINATOR)
def delete_synonym(group_id):
    """Remove a group of words."""
    group = db.get_or_404(SynonymGroup, str(group_id))
    synonym_groups.remove_group(group, current_user)
    flash(_("Removed."))
    return redirect(url_for("admin.synonyms"))


def _valid_terms(form: SynonymForm) -> list[str] | None:
    """Return the submitted group's words when there are at least two, else None (errors on the form)."""
    if not form.validate_on_submit():
        return None
    terms = synonym_groups.split_terms(form.terms.data)
    if len(terms) < 2:
        form.terms.errors.append(_("Enter at least two words, separated by commas"))
        return None
    return terms


@bp.route("/related-terms", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def related_terms():
    """List and add the everyday things families say, with the words search should also look for."""
    form = RelatedTermsForm()
    words = _valid_related(form)
    if words:
        related.add_entry(*words, current_user)
        flash(_("Saved. The next search uses it."))
        return redirect(url_for("admin.related_terms"))
    return render_template("admin/related_terms.html", form=form, entries=related.all_entries()), \
        400 if form.errors else 200


@bp.route("/related-terms/<uuid:entry_id>", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def related_term(entry_id):
    """Change one entry of what families say and the words to look for."""
    entry = db.get_or_404(RelatedTerms, str(entry_id))
    form = RelatedTermsForm()
    words = _valid_related(form, entry)
    if words:
        related.change_entry(entry, *words, current_user)
        flash(_("Saved. The next search uses it."))
        return redirect(url_for("admin.related_terms"))
    elif not form.is_submitted():
        form.phrases.data = ", ".join(entry.phrases)
        form.terms.data = ", ".join(entry.terms)
    return render_template("admin/related_term.html", form=form, entry=entry), 400 if form.errors else 200


@bp.post("/related-terms/<uuid:entry_id>/delete")
@requires(Role.COORDINATOR)
def delete_related_term(entry_id):
    """Remove an entry."""
    entry = db.get_or_404(RelatedTerms, str(entry_id))
    related.remove_entry(entry, current_user)
    flash(_("Removed."))
    return redirect(url_for("admin.related_terms"))


def _valid_related(form: RelatedTermsForm, entry: RelatedTerms | None = None) -> tuple[list[str], list[str]] | None:
    """Return the submitted (phrases, terms) when they can be saved, else None (errors on the form)."""
    if not form.validate_on_submit():
        return None
    phrases, terms = related.split_words(form.phrases.data), related.split_words(form.terms.data)
    wrong = related.check(phrases, terms, entry)
    for name, message in wrong.items():
        form[name].errors.append(message)
    return None if wrong else (phrases, terms)


@bp.route("/term-dates", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def term_dates_page():
    """List the school terms by school year and add one; "term time only" sessions follow them."""
    form = TermForm()
    if form.validate_on_submit():
        try:
            term_dates.add(form.name.data, form.starts.data, form.ends.data, current_user)
        except term_dates.TermError as error:
            getattr(form, error.field).errors = [*getattr(form, error.field).errors, str(error)]
        else:
            flash(_("Term added."))
            return redirect(url_for("admin.term_dates_page"))
    years: dict[int, list[SchoolTerm]] = {}
    for term in term_dates.all_terms():
        years.setdefault(term.school_year, []).append(term)
    return render_template("admin/term_dates.html", form=form, years=years), 400 if form.errors else 200


@bp.post("/term-dates/<uuid:term_id>/delete")
@requires(Role.COORDINATOR)
def delete_term(term_id):
    """Remove a term."""
    term_dates.remove(db.get_or_404(SchoolTerm, str(term_id)), current_user)
    flash(_("Term removed."))
    return redirect(url_for("admin.term_dates_page"))
