"""Pages for "You said, we did": the public page, and the coordinators' responses with their comment finder.

Routes on the ``coproduction`` blueprint (``views`` holds the rest); the rules live in
``local_offer.feedback.council_responses`` and ``local_offer.feedback.you_said``.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from local_offer.auth import public, requires
from local_offer.coproduction.forms import CommentFinderForm, ResponseForm
from local_offer.coproduction.views import bp
from local_offer.errors import refuse
from local_offer.extensions import db
from local_offer.feedback import council_responses, tags, you_said
from local_offer.fields import choices
from local_offer.i18n import _
from local_offer.models import CouncilResponse, FeedbackTopic, ResponseStatus, Role

bp.add_app_template_global(council_responses.promise_state, "promise_state")


def _whole_number(name: str, low: int, high: int) -> int | None:
    """Return a whole number from the address or form, or None when absent; answer 400 when it is not one."""
    value = request.values.get(name)
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        refuse(400, _("The year and page must be numbers."))
    if not low <= number <= high:
        refuse(400, _("There is no page like that."))
    return number


@bp.get("/you-said-we-did")
@public
def you_said_we_did():
    """The latest responses by theme, then published comments with their answers, by topic, theme, priority, year."""
    topic = request.args.get("topic") or None
    if topic and topic not in {item.value for item in FeedbackTopic}:
        refuse(400, _("There is no topic called that."))
    priority = request.args.get("priority") or None
    codes = tags.priority_titles_by_code()
    if priority and priority not in codes:
        refuse(400, _("There is no priority called that."))
    theme = request.args.get("theme") or None
    if theme and theme not in {row.code for row in tags.all_themes()}:
        refuse(400, _("There is no theme called that."))
    year = _whole_number("year", 2000, 2100)
    page = _whole_number("page", 1, 10_000) or 1
    result = you_said.published(topic, priority, year, page, theme_code=theme)
    return render_template("coproduction/you_said.html", result=result, topic=topic, priority=priority, year=year,
                           theme=theme, latest=you_said.latest_by_theme(), themes=you_said.themes_with_comments(),
                           priorities=tags.active_priorities(), all_priorities=codes,
                           filtered=bool(topic or priority or theme or year))


@bp.get("/coordinators/feedback/responses")
@requires(Role.COORDINATOR)
def responses():
    """The council's responses, drafts first, each promise with how far it has got (late when its date passed)."""
    return render_template("coproduction/responses.html", responses=council_responses.all_responses())


def _finder(themes) -> tuple[CommentFinderForm, int]:
    """Read the comment finder (from the address, or the form when "Find" or a page is pressed)."""
    finder = CommentFinderForm(formdata=request.values, prefix="find")
    finder.theme.choices = choices([("", _("Any theme"))] + [(theme.id, theme.name) for theme in themes])
    page = _whole_number("find-page", 1, 10_000) or 1
    return finder, page


@bp.route("/coordinators/feedback/responses/new", methods=["GET", "POST"])
@bp.route("/coordinators/feedback/responses/<uuid:response_id>", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def response(response_id=None):
    """Write the council's response to comments or a theme, say how far it has got, and publish it.

    The comments it answers are found by words, theme, topic and date ("Find comments" and the
    page buttons send the whole form back, so nothing typed or ticked is lost; the same filters
    work in the address); chosen comments stay ticked above the results.
    """
    row = db.get_or_404(CouncilResponse, str(response_id)) if response_id else None
    if request.method == "GET":
        form = ResponseForm(obj=row) if row else ResponseForm(feedback=request.args.getlist("feedback"))
        if row:
            form.feedback.data = [item.id for item in row.feedback]
            form.theme.data = row.theme_id or ""
            form.progress.data = row.progress.value
    else:
        form = ResponseForm()
    themes = tags.all_themes()
    form.theme.choices = choices([("", _("None"))] + [(theme.id, theme.name) for theme in themes])
    chosen = council_responses.chosen_comments([str(value) for value in form.feedback.data or []])
    finder, page = _finder(themes)
    found = None
    if finder.validate():
        found = council_responses.find_comments(
            words=finder.words.data or "", theme_id=finder.theme.data or None, topic=finder.topic.data or None,
            since=finder.since.data, until=finder.until.data, leave_out=[item.id for item in chosen], page=page)
    form.feedback.choices = choices((item.id, item.id) for item in chosen + (found.items if found else []))
    finding = request.method == "GET" or "find" in request.form or "find-page" in request.form
    if not finding and form.validate():
        saved = council_responses.save_response(
            row, title=form.title.data, you_said=form.you_said.data, we_did=form.we_did.data,
            action_due=form.action_due.data, feedback_ids=form.feedback.data, theme_id=form.theme.data,
            publish_now=bool(form.publish.data), actor=current_user,
            progress=form.progress.data if "progress" in request.form else None)
        flash(_("Published on 'You said, we did'.") if saved.status is ResponseStatus.PUBLISHED
              else _("Saved as a draft."))
        return redirect(url_for("coproduction.responses"))
    status = 400 if form.errors or finder.errors else 200
    return render_template("coproduction/response.html", form=form, response=row, finder=finder, found=found,
                           chosen=chosen), status
