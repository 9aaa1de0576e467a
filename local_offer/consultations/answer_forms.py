"""The forms people answer a consultation with: one question a page, then "Check your answers".

The forms carry the CSRF token and draw the GOV.UK components; they accept
whatever is posted, and ``answering.clean_answer`` decides what may be kept
(so the rules are in one place, whichever page sends the answer).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
)
from wtforms import RadioField, SelectMultipleField, SubmitField, TextAreaField

from local_offer.consultation_rules import answering
from local_offer.i18n import _l
from local_offer.models import ConsultationAnswer, ConsultationQuestion, QuestionKind


class OneChoiceForm(FlaskForm):
    """An agreement or single choice question: radios."""

    answer = RadioField(_l("Your answer"), widget=GovRadioInput(), choices=[], validate_choice=False)
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


class ChoicesForm(FlaskForm):
    """A multiple choice question: checkboxes."""

    answer = SelectMultipleField(_l("Your answer"), widget=GovCheckboxesInput(), choices=[], validate_choice=False)
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


class TextForm(FlaskForm):
    """A free-text question: a text box that counts characters."""

    answer = TextAreaField(_l("Your answer"), widget=GovCharacterCount())
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


class SendForm(FlaskForm):
    """Send the answers, from "Check your answers"."""

    submit = SubmitField(_l("Send your answers"), widget=GovSubmitInput())


_FORMS = {QuestionKind.AGREEMENT: OneChoiceForm, QuestionKind.SINGLE: OneChoiceForm,
          QuestionKind.MULTIPLE: ChoicesForm, QuestionKind.TEXT: TextForm}


def question_form(question: ConsultationQuestion, simple: bool, answer: ConsultationAnswer | None = None,
                  formdata=None):
    """Return the form for one question, with its choices, showing what was posted or the earlier answer."""
    data = {}
    if answer is not None:
        if question.kind == QuestionKind.TEXT:
            data["answer"] = answer.text
        elif question.kind == QuestionKind.MULTIPLE:
            data["answer"] = list(answer.choices)
        else:
            data["answer"] = answer.choices[0] if answer.choices else None
    form = _FORMS[question.kind](formdata=formdata, data=data)
    if question.kind != QuestionKind.TEXT:
        form.answer.choices = answering.choices_for(question, simple)
    form.answer.label.text = answering.question_text(question, simple)
    return form
