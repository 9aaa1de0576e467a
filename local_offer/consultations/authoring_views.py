"""The coordinators' pages for writing a consultation: list, details, questions, preview, open and close early.

Every page is under /coordinators/consultations/ and for coordinators only.  The
rules (and every change stored) are in ``local_offer.consultation_rules.authoring``;
a refusal there comes back as the page again with its message and the status it
names, and nothing stored changes.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from local_offer.auth import requires
from local_offer.consultation_rules import answering, authoring
from local_offer.consultations.authoring_forms import (
    KIND_LABELS,
    KIND_SHORT,
    ActionForm,
    ConfirmForm,
    DetailsForm,
    MoveForm,
    QuestionForm,
)
from local_offer.consultations.blueprint import bp
from local_offer.consultations.common import STATE_LABELS, state
from local_offer.errors import refuse
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.models import Consultation, Role

#: The colour of each state's tag on the coordinators' pages.
STATE_TAGS = {"draft": "govuk-tag--grey", "scheduled": "govuk-tag--blue", "open": "govuk-tag--green",
              "closed": "govuk-tag--purple"}


def consultation_results_url(consultation: Consultation) -> str | None:
    """Return the address of a consultation's results for coordinators, or None while there is no such page."""
    if "consultations.staff_results" not in current_app.view_functions:
        return None
    try:
        return url_for("consultations.staff_results", consultation_id=consultation.id)
    except BuildError:
        return None


bp.add_app_template_global(consultation_results_url, "consultation_results_url")


@bp.app_context_processor
def authoring_labels() -> dict:
    """Give the consultation templates the words for states and kinds of question."""
    return {"CONSULTATION_STATES": STATE_LABELS, "CONSULTATION_STATE_TAGS": STATE_TAGS,
            "QUESTION_KINDS": KIND_SHORT}


def _consultation(consultation_id) -> Consultation:
    """Return the consultation with this id, or answer 404."""
    return db.get_or_404(Consultation, str(consultation_id))


def _page(consultation: Consultation, **context):
    """Render the consultation's own page (details, questions and what can be done next)."""
    return render_template("consultations/staff_questions.html", consultation=consultation,
                           current=state(consultation), editable=authoring.editable(consultation),
                           submitted=authoring.submitted_count(consultation), action=ActionForm(),
                           **context)


@bp.get("/coordinators/consultations/")
@requires(Role.COORDINATOR)
def staff_list():
    """Every consultation, newest first, with its state and how many people answered."""
    return render_template("consultations/staff_list.html", consultations=authoring.all_consultations())


@bp.route("/coordinators/consultations/new", methods=["GET", "POST"])
@bp.route("/coordinators/consultations/<uuid:consultation_id>/details", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def staff_details(consultation_id=None):
    """Write a new consultation's details, or change them (once opened: the words and a later closing date)."""
    consultation = _consultation(consultation_id) if consultation_id else None
    form = DetailsForm()
    if request.method == "GET" and consultation:
        form = DetailsForm(obj=consultation)
        form.introduction.data = authoring.introduction_source(consultation.introduction)
        form.simple_introduction.data = authoring.introduction_source(consultation.simple_introduction)
    problem = None
    if form.validate_on_submit():
        try:
            saved = authoring.save_details(
                consultation, title=form.title.data, introduction=form.introduction.data,
                simple_introduction=form.simple_introduction.data or "", audience=form.audience.data or "",
                opens_on=form.opens_on.data, closes_on=form.closes_on.data, actor=current_user)
        except authoring.Refused as refusal:
            db.session.rollback()
            problem = refusal
        else:
            flash(_("Consultation saved.") if consultation else
                  _("Consultation saved as a draft. Now add its questions."))
            return redirect(url_for("consultations.staff_questions", consultation_id=saved.id))
    status = problem.status if problem else (400 if form.errors else 200)
    return render_template("consultations/staff_details.html", form=form, consultation=consultation,
                           editable=consultation is None or authoring.editable(consultation),
                           problem=problem.message if problem else None), status


@bp.get("/coordinators/consultations/<uuid:consultation_id>")
@requires(Role.COORDINATOR)
def staff_questions(consultation_id):
    """A consultation's details and questions, with what can be done next (preview, open, close early)."""
    return _page(_consultation(consultation_id))


@bp.route("/coordinators/consultations/<uuid:consultation_id>/questions/new", methods=["GET", "POST"])
@bp.route("/coordinators/consultations/<uuid:consultation_id>/questions/<uuid:question_id>",
          methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def staff_question(consultation_id, question_id=None):
    """Add a question to a draft, or change one of its questions."""
    consultation = _consultation(consultation_id)
    question = None
    if question_id is not None:
        question = authoring.question_of(consultation, question_id)
        if question is None:
            refuse(404, _("This consultation has no such question."))
    if request.method == "GET" and question is not None:
        form = QuestionForm(obj=question)
        form.kind.data, form.options.data = question.kind.value, "\n".join(question.options or [])
    else:
        form = QuestionForm()
    problem = None
    if not authoring.editable(consultation):
        problem = authoring.Refused(_("The questions cannot change once the consultation has been opened: "
                                      "people may be answering them."))
    elif form.validate_on_submit():
        try:
            authoring.save_question(
                consultation, question, kind=form.kind.data, text=form.text.data,
                simple_text=form.simple_text.data or "", hint=form.hint.data or "", options=form.option_lines(),
                required=form.required.data, about_you=form.about_you.data, actor=current_user)
        except authoring.Refused as refusal:
            db.session.rollback()
            problem = refusal
        else:
            flash(_("Question saved."))
            return redirect(url_for("consultations.staff_questions", consultation_id=consultation.id,
                                    _anchor="questions"))
    status = 400 if form.errors else (problem.status if problem and request.method == "POST" else 200)
    return render_template("consultations/staff_question.html", form=form, consultation=consultation,
                           question=question, kinds=KIND_LABELS,
                           problem=problem.message if problem else None), status


def _act(consultation: Consultation, form, change, done: str, anchor: str = "questions"):
    """Check a button's form, make the change, and go back to the consultation's page with what happened.

    ``change`` may return its own message, said instead of ``done``.
    """
    if not form.validate_on_submit():
        return _page(consultation, problem=" ".join(str(error) for errors in form.errors.values()
                                                    for error in errors)), 400
    try:
        said = change()
    except authoring.Refused as refusal:
        db.session.rollback()
        return _page(consultation, problem=refusal.message), refusal.status
    flash(said if isinstance(said, str) and said else done)
    return redirect(url_for("consultations.staff_questions", consultation_id=consultation.id, _anchor=anchor))


@bp.post("/coordinators/consultations/<uuid:consultation_id>/questions/<uuid:question_id>/remove")
@requires(Role.COORDINATOR)
def staff_remove_question(consultation_id, question_id):
    """Take a question out of a draft."""
    consultation = _consultation(consultation_id)
    question = authoring.question_of(consultation, question_id)
    if question is None:
        refuse(404, _("This consultation has no such question."))
    return _act(consultation, ActionForm(), lambda: authoring.remove_question(consultation, question, current_user),
                _("Question removed."))


@bp.post("/coordinators/consultations/<uuid:consultation_id>/questions/<uuid:question_id>/move")
@requires(Role.COORDINATOR)
def staff_move_question(consultation_id, question_id):
    """Move a question of a draft one place up or down."""
    consultation = _consultation(consultation_id)
    question = authoring.question_of(consultation, question_id)
    if question is None:
        refuse(404, _("This consultation has no such question."))
    form = MoveForm()
    return _act(consultation, form,
                lambda: authoring.move_question(consultation, question, form.direction.data, current_user),
                _("Question moved."), anchor=f"question-{question.id}")


@bp.post("/coordinators/consultations/<uuid:consultation_id>/about-you")
@requires(Role.COORDINATOR)
def staff_about_you(consultation_id):
    """Add the standard "about you" questions a draft does not ask yet."""
    consultation = _consultation(consultation_id)

    def add() -> str:
        """Add them, and say how many were added."""
        added = authoring.add_about_you(consultation, current_user)
        if not added:
            return _("The \"about you\" questions are already there.")
        return _("%(num)s \"about you\" questions added at the end.", num=added) if added > 1 else \
            _("1 \"about you\" question added at the end.")

    return _act(consultation, ActionForm(), add, "")


@bp.get("/coordinators/consultations/<uuid:consultation_id>/preview")
@requires(Role.COORDINATOR)
def staff_preview(consultation_id):
    """Show the consultation as a parent sees it, or (version=young-people) as a young person does."""
    consultation = _consultation(consultation_id)
    version = request.args.get("version", "standard")
    if version not in ("standard", "young-people"):
        refuse(400, _("There is no version called that."))
    simple = version == "young-people"
    # The words and choices come from the rules the answering pages use, so the preview matches them.
    questions = [{"question": question, "text": answering.question_text(question, simple),
                  "choices": answering.choices_for(question, simple)} for question in consultation.questions]
    return render_template("consultations/staff_preview.html", consultation=consultation, simple=simple,
                           questions=questions, intro=answering.introduction(consultation, simple),
                           minutes=answering.minutes_to_answer(consultation))


def _confirm(consultation: Consultation, which: str):
    """Show the page confirming opening or closing early, and do it when confirmed."""
    form = ConfirmForm()
    form.confirm.label.text = (_("I have checked the questions and dates") if which == "open"
                               else _("I understand nobody can answer it after this"))
    problems = (authoring.problems_opening if which == "open" else authoring.problems_closing)(consultation)
    status = 200
    if request.method == "POST" and not problems:
        if form.validate_on_submit():
            change = authoring.open_consultation if which == "open" else authoring.close_early
            try:
                change(consultation, current_user)
            except authoring.Refused as refusal:
                db.session.rollback()
                problems, status = [refusal.message], refusal.status
            else:
                flash(_("The consultation is open.") if which == "open" else
                      _("The consultation is closed. Nobody can answer it any more."))
                return redirect(url_for("consultations.staff_questions", consultation_id=consultation.id))
        else:
            status = 400
    elif request.method == "POST":
        status = 409
    return render_template("consultations/staff_confirm.html", form=form, consultation=consultation, which=which,
                           problems=problems, current=state(consultation),
                           submitted=authoring.submitted_count(consultation)), status


@bp.route("/coordinators/consultations/<uuid:consultation_id>/open", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def staff_open(consultation_id):
    """Check a draft can open, say what opening means, and open it once confirmed."""
    return _confirm(_consultation(consultation_id), "open")


@bp.route("/coordinators/consultations/<uuid:consultation_id>/close", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def staff_close(consultation_id):
    """Say what closing early means, and close the consultation once confirmed."""
    return _confirm(_consultation(consultation_id), "close")
