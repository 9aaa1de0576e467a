"""Co-production pages: leave feedback, "You said, we did", and the coordinators' moderation and report."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from local_offer import jobs
from local_offer.auth import public, requires, second_factor_first
from local_offer.coproduction.forms import (
    ExcludeForm,
    FeedbackForm,
    PriorityForm,
    PublishForm,
    ReplyForm,
    SimpleFeedbackForm,
    TagForm,
    ThemeForm,
)
from local_offer.errors import refuse
from local_offer.extensions import db, limiter
from local_offer.fields import choices
from local_offer.feedback import comments, council_responses, guard, labels, tags
from local_offer.i18n import _
from local_offer.models import (
    PUBLIC_STATUSES,
    Feedback,
    Listing,
    Priority,
    Role,
)
from local_offer.users import client_ip

bp = Blueprint("coproduction", __name__)
bp.add_app_template_global(comments.waiting_count, "feedback_waiting_count")
bp.add_app_template_global(guard.kind_label, "guard_kind")
bp.add_app_template_global(guard.digest, "guard_digest")
bp.app_context_processor(labels.template_labels)


def _limit():
    """Return how many comments one address may leave (the setting, read when a comment comes in)."""
    return current_app.config["FEEDBACK_LIMIT"]


# --- leaving feedback (public) ----------------------------------------------------------------------


def _listing_for(value: str | None) -> Listing | None:
    """Return the public listing a comment is about, or None; raise 400 for one that does not exist."""
    if not value:
        return None
    listing = db.session.execute(select(Listing).where(Listing.id == str(value)[:36],
                                                       Listing.status.in_(PUBLIC_STATUSES))).scalar_one_or_none()
    if listing is None:
        refuse(400, _("We could not find the listing this comment is about."))
    return listing


def _leave(form, template: str, simple: bool):
    """Show a feedback form, or store the comment it sends and say thank you."""
    listing = _listing_for(request.values.get("listing"))
    if hasattr(form, "priority"):
        form.priority.choices = choices([("", _("Not sure, or none of these"))] + [
            (priority.id, priority.title) for priority in tags.active_priorities()])
    if listing is not None and not form.is_submitted():
        form.listing.data = listing.id
    if form.validate_on_submit():
        feedback = comments.submit(
            form.topic.data, "young_person" if simple else form.respondent.data, form.comment.data,
            listing_id=listing.id if listing else None,
            priority_id=form.priority.data if hasattr(form, "priority") else None, simple_form=simple,
            name=form.name.data or "", email=form.email.data or "", phone=form.phone.data or "")
        return redirect(url_for("coproduction.thanks", reply="yes" if feedback.contact else "no"))
    return render_template(template, form=form, listing=listing), 400 if form.errors else 200


def _stored(response) -> bool:
    """Count only comments actually stored against the limit (a form shown again with errors is free)."""
    return response.status_code == 302


#: One allowance per address for both forms together.
feedback_limit = limiter.shared_limit(_limit, scope="feedback", methods=["POST"], key_func=get_remote_address,
                                      deduct_when=_stored)


@bp.route("/feedback", methods=["GET", "POST"])
@feedback_limit
@public
def leave():
    """Anyone can tell the council what they think of the Local Offer, or what is missing."""
    return _leave(FeedbackForm(), "coproduction/leave.html", simple=False)


@bp.route("/feedback/young-people", methods=["GET", "POST"])
@feedback_limit
@public
def leave_simple():
    """The same form in shorter words, for children and young people."""
    return _leave(SimpleFeedbackForm(), "coproduction/leave_simple.html", simple=True)


@bp.get("/feedback/thank-you")
@public
def thanks():
    """Say what happens next."""
    return render_template("coproduction/thanks.html", reply=request.args.get("reply") == "yes")


# --- coordinators ----------------------------------------------------------------------------------------

@bp.before_request
def coordinators_second_factor():
    """Coordinators' pages need a second factor when the council requires one; public pages never do."""
    if request.path.startswith("/coordinators/"):
        return second_factor_first()
    return None


@bp.get("/coordinators/feedback/")
@requires(Role.COORDINATOR)
def queue():
    """New comments, oldest first, with reminders of what the law asks for."""
    return render_template("coproduction/queue.html", waiting=comments.waiting(),
                           recent=comments.recently_moderated(20),
                           last_publication=council_responses.last_publication(),
                           overdue=council_responses.publication_overdue(),
                           purged_at=jobs.last_success("feedback-purge"))


def _feedback_or_404(feedback_id) -> Feedback:
    """Return the comment with this id, or answer 404."""
    return db.get_or_404(Feedback, str(feedback_id))


def _moderation_page(feedback: Feedback, status: int = 200, check: guard.Check | None = None,
                     decisions: dict | None = None, removed_all: int | None = None, **forms):
    """Show one comment with its moderation forms (any form given keeps what was typed and its errors).

    What the personal-details guard finds is marked in the comment, and each
    thing found in the text to publish asks: remove it, or keep it and say why.
    """
    publish_form = forms.get("publish_form") or PublishForm(published_text=feedback.published_text or feedback.comment,
                                                            priority=feedback.priority_id or "",
                                                            themes=[theme.id for theme in feedback.themes])
    priorities = [("", _("None"))] + [(p.id, p.title) for p in tags.active_priorities()]
    if feedback.priority is not None and feedback.priority.retired_at is not None:
        priorities.append((feedback.priority.id, _("%(title)s (earlier wording)", title=feedback.priority.title)))
    publish_form.priority.choices = choices(priorities)
    publish_form.themes.choices = choices((theme.id, theme.name) for theme in tags.all_themes())
    tag_form = forms.get("tag_form") or TagForm(prefix="tag", priority=feedback.priority_id or "",
                                                themes=[theme.id for theme in feedback.themes])
    tag_form.priority.choices, tag_form.themes.choices = publish_form.priority.choices, publish_form.themes.choices
    failed = next((form for form in forms.values() if form.errors), None)
    check = check or guard.review(publish_form.published_text.data or "", decisions or {})
    problems = dict(check.problems) if status == 400 else {}
    guard_summary = bool(problems or check.nothing_left and status == 400)
    return render_template("coproduction/moderate.html", feedback=feedback, publish_form=publish_form,
                           comment_pieces=guard.highlight(feedback.comment or ""), check=check,
                           decisions=decisions or {}, guard_problems=problems, removed_all=removed_all,
                           problem=guard_summary,
                           tag_form=tag_form,
                           exclude_form=forms.get("exclude_form") or ExcludeForm(),
                           reply_form=forms.get("reply_form") or ReplyForm(),
                           form=None if guard_summary else failed,
                           responses=council_responses.responses_for(feedback)), status


def _tagging_choices(form):
    """Offer every priority (earlier wordings too) and every theme, so any a comment has is accepted."""
    form.priority.choices = choices([("", "")] + [(p.id, p.title) for p in tags.priority_history()])
    form.themes.choices = choices((theme.id, theme.name) for theme in tags.all_themes())
    return form


@bp.get("/coordinators/feedback/<uuid:feedback_id>")
@requires(Role.COORDINATOR)
def moderate(feedback_id):
    """One comment: publish (after checking, with redaction), exclude, reply, tag."""
    return _moderation_page(_feedback_or_404(feedback_id))


@bp.post("/coordinators/feedback/<uuid:feedback_id>/publish")
@requires(Role.COORDINATOR)
def publish(feedback_id):
    """Publish once every personal detail found is removed or kept with a reason, and the checks are confirmed.

    "Remove everything found" only shows the text again with the removals made:
    nothing is published until the coordinator looks at it and publishes.
    """
    feedback = _feedback_or_404(feedback_id)
    form = _tagging_choices(PublishForm())
    decisions = guard.decisions_from(request.form)
    if request.form.get("remove_all"):
        text = form.published_text.data or ""
        form.published_text.data = guard.remove_all(text)
        form.confirm.data = False
        return _moderation_page(feedback, publish_form=form, removed_all=len(guard.find(text)))
    valid = form.validate()
    check = guard.review(form.published_text.data or "", decisions)
    if check.nothing_left:
        form.published_text.errors = list(form.published_text.errors) + [
            _("Removing these leaves nothing to publish. Exclude the comment instead, or reply privately.")]
    if not valid or not check.ready:
        return _moderation_page(feedback, 400, check=check, decisions=decisions, publish_form=form)
    try:
        comments.publish(feedback, check.public_text, current_user, theme_ids=form.themes.data,
                         priority_id=form.priority.data, ip_address=client_ip(), removed=check.removed,
                         kept=check.kept)
    except comments.PersonalDetailsLeft:  # cleaning the text showed something new: decide it too
        form.published_text.data = check.public_text
        return _moderation_page(feedback, 400, decisions=decisions, publish_form=form)
    flash(_("Published. It is on the 'You said, we did' page."))
    return redirect(url_for("coproduction.queue"))


@bp.post("/coordinators/feedback/<uuid:feedback_id>/tag")
@requires(Role.COORDINATOR)
def tag(feedback_id):
    """Tag a comment with a priority and themes, whatever its status (the report counts them)."""
    feedback = _feedback_or_404(feedback_id)
    form = _tagging_choices(TagForm(prefix="tag"))
    if not form.validate():
        return _moderation_page(feedback, 400, tag_form=form)
    comments.tag(feedback, form.themes.data, form.priority.data, current_user)
    flash(_("Tags saved."))
    return redirect(url_for("coproduction.moderate", feedback_id=feedback.id))


@bp.post("/coordinators/feedback/<uuid:feedback_id>/exclude")
@requires(Role.COORDINATOR)
def exclude(feedback_id):
    """Exclude with a reason."""
    feedback = _feedback_or_404(feedback_id)
    form = ExcludeForm()
    if not form.validate():
        return _moderation_page(feedback, 400, exclude_form=form)
    emailed = comments.exclude(feedback, form.reason.data, form.note.data or "", current_user, ip_address=client_ip())
    flash(_("Excluded. We emailed them where to raise their own case.") if emailed else _("Excluded."))
    return redirect(url_for("coproduction.queue"))


@bp.post("/coordinators/feedback/<uuid:feedback_id>/reply")
@requires(Role.COORDINATOR)
def reply(feedback_id):
    """Reply privately by email to someone who left an email address."""
    feedback = _feedback_or_404(feedback_id)
    form = ReplyForm()
    if feedback.contact is None or not feedback.contact.email:
        form.validate()
        form.body.errors = list(form.body.errors) + [_("They did not leave an email address")]
        return _moderation_page(feedback, 400, reply_form=form)
    if not form.validate():
        return _moderation_page(feedback, 400, reply_form=form)
    try:
        comments.send_reply(feedback, form.body.data, current_user)
    except comments.ReplyFailed:
        form.body.errors = list(form.body.errors) + [
            _("The email could not be sent just now. Nothing was recorded; try again later.")]
        return _moderation_page(feedback, 503, reply_form=form)
    flash(_("Reply sent."))
    return redirect(url_for("coproduction.moderate", feedback_id=feedback.id))


@bp.route("/coordinators/feedback/themes", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def themes():
    """The themes comments are tagged with."""
    form = ThemeForm()
    if form.validate_on_submit():
        if tags.add_theme(form.name.data) is None:
            form.name.errors.append(_("There is already a theme called that"))
        else:
            flash(_("Theme added."))
            return redirect(url_for("coproduction.themes"))
    return render_template("coproduction/themes.html", form=form, themes=tags.all_themes()), \
        400 if form.errors else 200


@bp.route("/coordinators/feedback/priorities", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def priorities():
    """The partnership's priorities: add, reword (a new version), retire; earlier versions are kept."""
    form = PriorityForm()
    if form.validate_on_submit():
        tags.add_priority(form.title.data, form.description.data or "", current_user)
        flash(_("Priority added."))
        return redirect(url_for("coproduction.priorities"))
    return render_template("coproduction/priorities.html", form=form, current=tags.active_priorities(),
                           history=tags.priority_history()), 400 if form.errors else 200


@bp.route("/coordinators/feedback/priorities/<uuid:priority_id>", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def priority(priority_id):
    """Reword a priority (comments keep the wording they were tagged with) or retire it."""
    row = db.get_or_404(Priority, str(priority_id))
    if row.retired_at is not None:
        refuse(409, _("This is an earlier wording of a priority; change the current one."))
    form = PriorityForm(obj=row) if request.method == "GET" else PriorityForm()
    if request.method == "POST" and request.form.get("retire"):
        tags.retire_priority(row, current_user)
        flash(_("Priority retired. Comments tagged with it keep it."))
        return redirect(url_for("coproduction.priorities"))
    if form.validate_on_submit():
        tags.revise_priority(row, form.title.data, form.description.data or "", current_user)
        flash(_("Priority changed. Comments tagged before keep the earlier wording."))
        return redirect(url_for("coproduction.priorities"))
    return render_template("coproduction/priority.html", form=form, priority=row), 400 if form.errors else 200


def _three_parts(*fields) -> None:
    """Give date fields exactly three typed parts (day, month, year), so a mangled address cannot break them."""
    for field in fields:
        if field.raw_data is not None and len(field.raw_data) != 3:
            field.raw_data = (list(field.raw_data) + ["", "", ""])[:3]
