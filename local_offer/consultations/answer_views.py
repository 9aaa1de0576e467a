"""Have your say: the list of consultations, and answering one a question a page, for everyone.

Every page has a version for young people under ``/young-people`` (simpler
introduction, questions and scale).  The pages only read what was sent, call
``answering`` and show what it says; the browser's key lives in a cookie of
its own per consultation, under ``/have-your-say`` only.
"""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address

from local_offer.auth import public
from local_offer.consultation_rules import answering
from local_offer.consultations import common
from local_offer.consultations.answer_forms import SendForm, question_form
from local_offer.consultations.blueprint import bp
from local_offer.errors import refuse
from local_offer.extensions import limiter
from local_offer.i18n import current_language
from local_offer.models import Consultation, ConsultationResponse
from local_offer.security import no_store



def _limit() -> str:
    """Return the allowance of answers per address (the setting, read when an answer comes in)."""
    return answering.limit()


#: One allowance per address for every answer and every "Send", across all consultations.
answer_limit = limiter.shared_limit(_limit, scope="consultation-answers", methods=["POST"],
                                    key_func=get_remote_address)


def _send_limit() -> str:
    """Return the allowance of sets of answers sent per address (the setting, read when one is sent)."""
    return answering.send_limit()


#: A smaller allowance for "Send" alone: one address cannot send hundreds of made-up sets of answers.
send_limit = limiter.shared_limit(_send_limit, scope="consultation-sends", methods=["POST"],
                                  key_func=get_remote_address)

YOUNG = "/young-people"


def say_url(page: str, simple: bool, **values) -> str:
    """Return the address of a Have your say page, in the young people's version when ``simple``."""
    return url_for(f"consultations.{page}{'_young' if simple else ''}", **values)


def _consultation(slug: str) -> Consultation:
    """Return the consultation the public may see, or answer 404."""
    try:
        return answering.public_consultation(slug)
    except answering.NotFound as error:
        refuse(404, error.message)


def _token(consultation: Consultation) -> str | None:
    """Return the token this browser holds for the consultation, if any."""
    return request.cookies.get(answering.cookie_name(consultation))


def _page(template: str, status: int = 200, **context):
    """Render a page of answers, kept out of every cache: what it shows is this browser's own."""
    response = no_store(make_response(render_template(template, closed_on=answering.closed_on, say_url=say_url,
                                                      max_text=common.MAX_TEXT, **context)))
    response.status_code = status
    return response


def _refused(consultation: Consultation, error: answering.Refused, simple: bool):
    """Show why answering is not possible now: closed (410), already answered (409), or not found (404)."""
    if isinstance(error, answering.Closed):
        return _page("consultations/public_closed.html", 410, consultation=consultation, simple=simple,
                     results_public=common.results_public(consultation))
    if isinstance(error, answering.AlreadyAnswered):
        return _page("consultations/public_answered.html", 409, consultation=consultation, simple=simple)
    refuse(error.status, error.message)


def _gate(consultation: Consultation, response: ConsultationResponse | None, simple: bool):
    """Return the refusal page when this browser may not answer now, else None."""
    try:
        answering.check_answerable(consultation, response)
    except answering.Refused as error:
        return _refused(consultation, error, simple)
    return None


@bp.get("/have-your-say")
@public
def have_your_say():
    """Open consultations, then closed ones with their results once published."""
    open_now, closed = answering.listed()
    return render_template("consultations/public_list.html", open_now=open_now, closed=closed,
                           results_public=common.results_public, closed_on=answering.closed_on, say_url=say_url)


@bp.get("/have-your-say/<slug>")
@public
def introduction(slug):
    """What the consultation is about, for whom, how long it takes, that it is anonymous; start or carry on."""
    return _introduction(slug, simple=False)


@bp.get("/have-your-say/<slug>" + YOUNG)
@public
def introduction_young(slug):
    """The same in simpler words, for young people."""
    return _introduction(slug, simple=True)


def _introduction(slug: str, simple: bool):
    """Show the introduction, with Start, or Carry on for a browser half-way through."""
    consultation = _consultation(slug)
    if common.state(consultation) == common.CLOSED:
        return _refused(consultation, answering.Closed(), simple)
    response = answering.response_for(consultation, _token(consultation))
    return _page("consultations/public_intro.html", consultation=consultation, simple=simple, response=response,
                 intro=answering.introduction(consultation, simple),
                 minutes=answering.minutes_to_answer(consultation),
                 first=consultation.questions[0] if consultation.questions else None,
                 resume=answering.resume_at(consultation, response) if response else None)


def _question_page(consultation, number, question, form, simple, change, status=200):
    """Render one question's page, with Back to the question before (or to the introduction, or the check)."""
    before, _after = answering.neighbours(consultation, question)
    if change:
        back = say_url("check_answers", simple, slug=consultation.slug)
    elif before is not None:
        back = say_url("question", simple, slug=consultation.slug, question_id=before.id)
    else:
        back = say_url("introduction", simple, slug=consultation.slug)
    return _page("consultations/public_question.html", status, consultation=consultation, question=question,
                 number=number, total=len(consultation.questions), form=form, simple=simple, change=change,
                 back=back, question_text=answering.question_text(question, simple))


@bp.route("/have-your-say/<slug>/questions/<question_id>", methods=["GET", "POST"])
@answer_limit
@public
def question(slug, question_id):
    """One question: show it with the answer given so far; Continue keeps the answer and goes on."""
    return _question(slug, question_id, simple=False)


@bp.route("/have-your-say/<slug>" + YOUNG + "/questions/<question_id>", methods=["GET", "POST"])
@answer_limit
@public
def question_young(slug, question_id):
    """One question in simpler words, with the simpler agreement scale."""
    return _question(slug, question_id, simple=True)


def _question(slug: str, question_id: str, simple: bool):
    """Show a question, or keep its answer and go on to the next (or back to the check page)."""
    consultation = _consultation(slug)
    token = _token(consultation)
    response = answering.response_for(consultation, token)
    refused = _gate(consultation, response, simple)
    if refused is not None:
        return refused
    try:
        number, asked = answering.question_of(consultation, question_id)
    except answering.NotFound as error:
        refuse(404, error.message)
    change = bool(request.values.get("change"))
    if request.method == "GET":
        answer = answering.answers_of(response).get(asked.id)
        return _question_page(consultation, number, asked, question_form(asked, simple, answer), simple, change)
    form = question_form(asked, simple, formdata=request.form)
    if not form.validate():
        return _question_page(consultation, number, asked, form, simple, change, 400)
    try:
        new_token = answering.save_answer(consultation, asked, token, request.form.getlist("answer"),
                                          request.form.get("answer"), simple=simple, language=current_language())
    except answering.BadAnswer as error:
        form.answer.errors = [error.message]
        return _question_page(consultation, number, asked, form, simple, change, 400)
    except answering.Refused as error:
        return _refused(consultation, error, simple)
    _before, after = answering.neighbours(consultation, asked)
    if change or after is None:
        target = say_url("check_answers", simple, slug=consultation.slug)
    else:
        target = say_url("question", simple, slug=consultation.slug, question_id=after.id)
    redirected = redirect(target)
    if new_token or token:
        # Set again each time: the closing date (and so the cookie's end) may have moved since it was made.
        redirected.set_cookie(answering.cookie_name(consultation), new_token or token,
                              **answering.cookie_settings(consultation))
    return redirected


@bp.route("/have-your-say/<slug>/check-your-answers", methods=["GET", "POST"])
@answer_limit
@send_limit
@public
def check_answers(slug):
    """Every question with its answer and a link to change it; Send keeps them for good."""
    return _check_answers(slug, simple=False)


@bp.route("/have-your-say/<slug>" + YOUNG + "/check-your-answers", methods=["GET", "POST"])
@answer_limit
@send_limit
@public
def check_answers_young(slug):
    """Check your answers, in the young people's version."""
    return _check_answers(slug, simple=True)


def _check_answers(slug: str, simple: bool):
    """Show every answer with a Change link, or send them all."""
    consultation = _consultation(slug)
    token = _token(consultation)
    response = answering.response_for(consultation, token)
    refused = _gate(consultation, response, simple)
    if refused is not None:
        return refused
    if response is None and request.method == "GET":
        return redirect(say_url("introduction", simple, slug=consultation.slug))
    form = SendForm()
    problem = None
    if request.method == "POST" and form.validate():
        try:
            answering.submit(consultation, token, simple=simple, language=current_language())
            return redirect(say_url("thank_you", simple, slug=consultation.slug))
        except answering.BadAnswer as error:
            problem = error.message
        except answering.Refused as error:
            return _refused(consultation, error, simple)
    answers = answering.answers_of(response)
    rows = [(number, question, answering.question_text(question, simple),
             answering.shown_answer(question, answers.get(question.id), simple))
            for number, question in enumerate(consultation.questions, start=1)]
    return _page("consultations/public_check.html", 400 if request.method == "POST" else 200,
                 consultation=consultation, simple=simple, rows=rows, send_form=form, problem=problem,
                 missing=answering.missing(consultation, response))


@bp.get("/have-your-say/<slug>/thank-you")
@public
def thank_you(slug):
    """Say the answers are in, and when and where the results will be published."""
    return _thank_you(slug, simple=False)


@bp.get("/have-your-say/<slug>" + YOUNG + "/thank-you")
@public
def thank_you_young(slug):
    """The thank-you page in simpler words."""
    return _thank_you(slug, simple=True)


def _thank_you(slug: str, simple: bool):
    """Say the answers are in, and when the results will be published."""
    consultation = _consultation(slug)
    return _page("consultations/public_thanks.html", consultation=consultation, simple=simple)
