"""Results pages: the coordinators' (any time after opening) and everyone's (once published), downloads,
and the moderation of written answers through the personal-details guard.

The rules (what counts, publishing, the guard, the audit) are in ``results``
and ``free_text``; these views read forms and show pages.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from local_offer.auth import public, requires
from local_offer.consultation_rules import free_text, results, results_document
from local_offer.consultations import common
from local_offer.consultations.blueprint import bp
from local_offer.consultations.results_forms import (
    ExcludeAnswerForm,
    PublishAnswerForm,
    PublishResultsForm,
    WithdrawResultsForm,
)
from local_offer.errors import refuse
from local_offer.extensions import db
from local_offer.feedback import guard
from local_offer.i18n import _
from local_offer.models import Consultation, ConsultationAnswer, Role
from local_offer.security import no_store
from local_offer.users import client_ip


def _consultation_or_404(consultation_id) -> Consultation:
    """Return the consultation with this id, or answer 404."""
    return db.get_or_404(Consultation, str(consultation_id))


def _opened_or_409(consultation_id) -> Consultation:
    """Return a consultation that has been opened (results exist from then on), or refuse."""
    consultation = _consultation_or_404(consultation_id)
    if common.state(consultation) == common.DRAFT:
        refuse(409, _("This consultation is still a draft, so it has no results yet. Open it first."))
    return consultation


def _results_page(consultation: Consultation, status: int = 200, **forms):
    """Show the coordinators' results page (any form given keeps what was typed and its errors)."""
    tally = results.tally(consultation)
    publish_form = forms.get("publish_form") or PublishResultsForm(formdata=None,
                                                                           outcome=consultation.outcome)
    return render_template("consultations/results.html", consultation=consultation, results=tally,
                           charts=results.charts(tally), state=common.state(consultation),
                           state_labels=common.STATE_LABELS, publish_form=publish_form,
                           withdraw_form=WithdrawResultsForm(prefix="withdraw"),
                           public=common.results_public(consultation),
                           responses_sentence=results_document.responses_sentence(tally),
                           form=next((form for form in forms.values() if form.errors), None)), status


@bp.get("/coordinators/consultations/<uuid:consultation_id>/results")
@requires(Role.COORDINATOR)
def staff_results(consultation_id):
    """Every question's counts, percentages, charts and breakdowns; publish or withdraw the results."""
    return _results_page(_opened_or_409(consultation_id))


@bp.post("/coordinators/consultations/<uuid:consultation_id>/results/publish")
@requires(Role.COORDINATOR)
def staff_results_publish(consultation_id):
    """Publish the results of a closed consultation (or change what we will do next)."""
    consultation = _opened_or_409(consultation_id)
    if common.state(consultation) != common.CLOSED:
        refuse(409, _("The consultation is still open. Publish the results once it has closed."))
    form = PublishResultsForm()
    if not form.validate():
        return _results_page(consultation, 400, publish_form=form)
    first = consultation.results_published_at is None
    results.publish(consultation, form.outcome.data or "", current_user, ip_address=client_ip())
    flash(_("The results are published.") if first else _("What we will do next is saved."))
    return redirect(url_for("consultations.staff_results", consultation_id=consultation.id))


@bp.post("/coordinators/consultations/<uuid:consultation_id>/results/withdraw")
@requires(Role.COORDINATOR)
def staff_results_withdraw(consultation_id):
    """Take the results off the public pages."""
    consultation = _opened_or_409(consultation_id)
    form = WithdrawResultsForm(prefix="withdraw")
    if not form.validate():
        refuse(400, _("The form could not be read. Go back to the results and try again."))
    try:
        results.withdraw(consultation, current_user, ip_address=client_ip())
    except results.NotPublished:
        refuse(409, _("The results are not published, so there is nothing to withdraw."))
    flash(_("The results are withdrawn: only coordinators can see them now."))
    return redirect(url_for("consultations.staff_results", consultation_id=consultation.id))


def _download(body, mimetype: str, filename: str) -> Response:
    """Return a download nobody's browser or proxy keeps."""
    return no_store(Response(body, mimetype=mimetype,
                             headers={"Content-Disposition": f"attachment; filename={filename}"}))


@bp.get("/coordinators/consultations/<uuid:consultation_id>/results.csv")
@requires(Role.COORDINATOR)
def staff_results_csv(consultation_id):
    """The figures as CSV: a row per question and choice, the breakdowns, published answers only."""
    consultation = _opened_or_409(consultation_id)
    return _download(results_document.results_csv(results.tally(consultation, public=True)), "text/csv",
                     f"consultation-{consultation.slug}-results.csv")


@bp.get("/coordinators/consultations/<uuid:consultation_id>/results.docx")
@requires(Role.COORDINATOR)
def staff_results_docx(consultation_id):
    """The results as a Word document for the committee's papers."""
    consultation = _opened_or_409(consultation_id)
    return _download(results_document.results_docx(results.tally(consultation, public=True)),
                     results_document.DOCX_MIMETYPE, f"consultation-{consultation.slug}-results.docx")


# --- the public results ----------------------------------------------------------------------------------


def _published_or_404(slug: str) -> Consultation:
    """Return the consultation with this address whose results are public, or answer 404."""
    consultation = db.session.execute(select(Consultation).where(Consultation.slug == slug[:120])).scalar_one_or_none()
    if consultation is None or not common.results_public(consultation):
        refuse(404, _("There are no published results at this address."))
    return consultation


@bp.get("/have-your-say/<slug>/results")
@public
def public_results(slug):
    """What everyone said, question by question, and what the council will do next."""
    consultation = _published_or_404(slug)
    tally = results.tally(consultation, public=True)
    return render_template("consultations/results_public.html", consultation=consultation, results=tally,
                           charts=results.charts(tally),
                           responses_sentence=results_document.responses_sentence(tally))


@bp.get("/have-your-say/<slug>/results.csv")
@public
def public_results_csv(slug):
    """The published results as CSV (the same figures as the committee's)."""
    consultation = _published_or_404(slug)
    return Response(results_document.results_csv(results.tally(consultation, public=True)), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=consultation-{consultation.slug}-"
                                                    f"results.csv"})


# --- written answers ---------------------------------------------------------------------------------------


@bp.get("/coordinators/consultations/<uuid:consultation_id>/answers")
@requires(Role.COORDINATOR)
def staff_answers(consultation_id):
    """Written answers waiting to be published or kept private, oldest first, and those already decided."""
    consultation = _opened_or_409(consultation_id)
    return render_template("consultations/staff_answers.html", consultation=consultation,
                           waiting=free_text.waiting(consultation), moderated=free_text.moderated(consultation))


def _answer_or_404(consultation: Consultation, answer_id) -> ConsultationAnswer:
    """Return the consultation's written answer with this id, or answer 404."""
    answer = free_text.answer_of(consultation, str(answer_id))
    if answer is None:
        refuse(404, _("There is no written answer with this address in this consultation."))
    return answer


def _answer_page(consultation: Consultation, answer: ConsultationAnswer, status: int = 200,
                 check: guard.Check | None = None, decisions: dict | None = None, removed_all: int | None = None,
                 **forms):
    """Show one written answer with the guard's findings and the forms to publish it or keep it private."""
    publish_form = forms.get("publish_form") or PublishAnswerForm(
        formdata=None, public_text=answer.public_text or answer.text)
    exclude_form = forms.get("exclude_form") or ExcludeAnswerForm(
        formdata=None, prefix="exclude", note=answer.exclusion_note or None)
    check = check or guard.review(publish_form.public_text.data or "", decisions or {})
    problems = dict(check.problems) if status == 400 else {}
    guard_summary = bool(problems or check.nothing_left and status == 400)
    failed = next((form for form in (publish_form, exclude_form) if form.errors), None)
    return render_template("consultations/staff_answers_one.html", consultation=consultation, answer=answer,
                           publish_form=publish_form, exclude_form=exclude_form, check=check,
                           text_pieces=guard.highlight(answer.text or ""), decisions=decisions or {},
                           guard_problems=problems, removed_all=removed_all, problem=guard_summary,
                           form=None if guard_summary else failed), status


@bp.get("/coordinators/consultations/<uuid:consultation_id>/answers/<uuid:answer_id>")
@requires(Role.COORDINATOR)
def staff_answer(consultation_id, answer_id):
    """One written answer: publish it through the personal-details guard, or keep it private with a note."""
    consultation = _opened_or_409(consultation_id)
    return _answer_page(consultation, _answer_or_404(consultation, answer_id))


@bp.post("/coordinators/consultations/<uuid:consultation_id>/answers/<uuid:answer_id>/publish")
@requires(Role.COORDINATOR)
def staff_answer_publish(consultation_id, answer_id):
    """Publish once every personal detail found is removed or kept with a reason, and the check is confirmed.

    "Remove everything found" only shows the text again with the removals made:
    nothing is published until the coordinator looks at it and publishes.
    """
    consultation = _opened_or_409(consultation_id)
    answer = _answer_or_404(consultation, answer_id)
    form = PublishAnswerForm()
    decisions = guard.decisions_from(request.form)
    if request.form.get("remove_all"):
        text = form.public_text.data or ""
        form.public_text.data = guard.remove_all(text)
        form.confirm.data = False
        return _answer_page(consultation, answer, publish_form=form, removed_all=len(guard.find(text)))
    valid = form.validate()
    check = guard.review(form.public_text.data or "", decisions)
    if check.nothing_left:
        form.public_text.errors = list(form.public_text.errors) + [
            _("Removing these leaves nothing to publish. Do not publish this answer instead.")]
    if not valid or not check.ready:
        return _answer_page(consultation, answer, 400, check=check, decisions=decisions, publish_form=form)
    try:
        free_text.publish(answer, check.public_text, current_user, ip_address=client_ip(), removed=check.removed,
                          kept=check.kept)
    except free_text.PersonalDetailsLeft:  # cleaning the text showed something new: decide it too
        form.public_text.data = check.public_text
        return _answer_page(consultation, answer, 400, decisions=decisions, publish_form=form)
    flash(_("Published. It is shown with the results once they are published."))
    return redirect(url_for("consultations.staff_answers", consultation_id=consultation.id))


@bp.post("/coordinators/consultations/<uuid:consultation_id>/answers/<uuid:answer_id>/exclude")
@requires(Role.COORDINATOR)
def staff_answer_exclude(consultation_id, answer_id):
    """Keep a written answer private, with a note for the record."""
    consultation = _opened_or_409(consultation_id)
    answer = _answer_or_404(consultation, answer_id)
    form = ExcludeAnswerForm(prefix="exclude")
    if not form.validate():
        return _answer_page(consultation, answer, 400, exclude_form=form)
    free_text.exclude(answer, form.note.data, current_user, ip_address=client_ip())
    flash(_("Kept private. It still counts as an answer."))
    return redirect(url_for("consultations.staff_answers", consultation_id=consultation.id))
