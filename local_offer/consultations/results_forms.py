"""The coordinators' forms for a consultation's results and its written answers.

The personal-details guard's answers on the publish form are read by
``feedback.guard.decisions_from``, as on the feedback moderation page.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput, GovTextArea
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from local_offer.consultations.common import MAX_TEXT
from local_offer.consultation_rules.free_text import NOTE_MAX
from local_offer.consultation_rules.results import OUTCOME_MAX
from local_offer.i18n import _l
from local_offer.sanitise import clean_text

class HasText:
    """Refuse text that is empty once markup is stripped ("   ", "<b></b>")."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if not clean_text(field.data or "").strip():
            raise ValidationError(self.message)


class PublishResultsForm(FlaskForm):
    """Publish a closed consultation's results, with what the council will do next."""

    outcome = TextAreaField(_l("What we will do next (optional)"), widget=GovTextArea(), validators=[
        Optional(), Length(max=OUTCOME_MAX, message=_l("Use 5,000 characters or fewer"))],
        description=_l("Shown with the results. For example: what changes because of the answers, and when."))
    publish = SubmitField(_l("Publish the results"), widget=GovSubmitInput())


class WithdrawResultsForm(FlaskForm):
    """Take the results off the public pages."""

    withdraw = SubmitField(_l("Withdraw the results"), widget=GovSubmitInput())


class PublishAnswerForm(FlaskForm):
    """Publish a written answer, after checking (and redacting) it."""

    public_text = TextAreaField(_l("What the public will read"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Enter the text to publish")), HasText(_l("Enter the text to publish")),
        Length(max=MAX_TEXT, message=_l("Use 5,000 characters or fewer"))],
        description=_l("Phone numbers, email addresses, postcodes, streets, dates of birth, names and schools "
                       "we find are listed below. Also remove anything else that could identify a person. What "
                       "they wrote stays private."))
    confirm = BooleanField(_l("I have checked that this identifies no one"), widget=GovCheckboxInput(),
                           validators=[InputRequired(message=_l(
                               "Confirm you have checked that the answer identifies no one"))])
    publish = SubmitField(_l("Publish"), widget=GovSubmitInput())


class ExcludeAnswerForm(FlaskForm):
    """Keep a written answer off the public pages, with a note."""

    note = TextAreaField(_l("Why is it not published?"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Say why it is not published")), HasText(_l("Say why it is not published")),
        Length(max=NOTE_MAX, message=_l("Use 2,000 characters or fewer"))],
        description=_l("For the record only: for example, it is about one person's own case."))
    exclude = SubmitField(_l("Do not publish"), widget=GovSubmitInput())
