"""The coordinators' forms for writing a consultation: its details, a question, and the buttons that change it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from local_offer.consultations.common import (
    MAX_AUDIENCE,
    MAX_HINT,
    MAX_INTRODUCTION,
    MAX_OPTION_LENGTH,
    MAX_OPTIONS,
    MAX_QUESTION,
    MAX_TITLE,
)
from local_offer.fields import DayMonthYear, choices
from local_offer.i18n import _, _l
from local_offer.sanitise import clean_text

#: What each kind of question is called on the coordinators' pages.
KIND_LABELS = {
    "agreement": _l("Agreement scale (strongly agree to strongly disagree, and don't know)"),
    "single": _l("One choice from a list"),
    "multiple": _l("Any number of choices from a list"),
    "text": _l("Free text"),
}
#: The same, short, for the list of questions.
KIND_SHORT = {"agreement": _l("Agreement scale"), "single": _l("One choice"), "multiple": _l("Several choices"),
              "text": _l("Free text")}


class HasText:
    """Refuse text that is empty once markup is stripped ("   ", "<b></b>")."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        """Raise the message when nothing is left after cleaning."""
        if not clean_text(field.data or "").strip():
            raise ValidationError(self.message)


def _too_long(limit: int):
    """Return a length check whose message says the limit in words."""
    return Length(max=limit, message=_l("Use %(limit)s characters or fewer", limit=f"{limit:,}"))


def _year_check(field) -> None:
    """Refuse a year the site could not be running in."""
    if field.data and not 2000 <= field.data.year <= 2100:
        raise ValidationError(_("Enter a date between 2000 and 2100"))


class DetailsForm(FlaskForm):
    """A consultation's title, introductions, who it is for, and when it opens and closes."""

    title = StringField(_l("Title"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter a title")), HasText(_l("Enter a title")), _too_long(MAX_TITLE)],
        description=_l("For example: Short breaks: what would help your family?"))
    introduction = TextAreaField(_l("Introduction"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Enter an introduction")), HasText(_l("Enter an introduction")),
        _too_long(MAX_INTRODUCTION)],
        description=_l("Why the council is asking, and what it will do with the answers."))
    simple_introduction = TextAreaField(_l("Introduction for young people (optional)"), widget=GovTextArea(),
                                        validators=[Optional(), _too_long(MAX_INTRODUCTION)],
                                        description=_l("The same in simpler words. Left empty, young people "
                                                       "read the introduction above."))
    audience = StringField(_l("Who it is for (optional)"), widget=GovTextInput(), validators=[
        Optional(), _too_long(MAX_AUDIENCE)],
        description=_l("For example: parents and carers of children with SEND, and young people"))
    opens_on = DayMonthYear(_l("Opening date"), widget=GovDateInput(), format="%d %m %Y", validators=[
        InputRequired(message=_l("Enter the opening date"))], description=_l("For example, 2 9 2026"))
    closes_on = DayMonthYear(_l("Closing date"), widget=GovDateInput(), format="%d %m %Y", validators=[
        InputRequired(message=_l("Enter the closing date"))],
        description=_l("People can answer until the end of this day."))
    save = SubmitField(_l("Save"), widget=GovSubmitInput())

    def validate_opens_on(self, field):
        """The opening date is in a year the site could be running."""
        _year_check(field)

    def validate_closes_on(self, field):
        """The closing date is a real year, and on or after the opening date."""
        _year_check(field)
        if field.data and self.opens_on.data and field.data < self.opens_on.data:
            raise ValidationError(_("The closing date must be on or after the opening date"))


class QuestionForm(FlaskForm):
    """One question: its kind, its words (and simpler words), a hint, its choices, and whether it must be answered."""

    kind = RadioField(_l("What kind of question is it?"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Choose what kind of question it is"))],
        choices=choices(KIND_LABELS.items()))
    text = StringField(_l("Question"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the question")), HasText(_l("Enter the question")),
        _too_long(MAX_QUESTION)],
        description=_l("For an agreement scale, write the statement people agree with or not, for example: "
                       "Our first priority should be getting support in place earlier."))
    simple_text = StringField(_l("The question for young people (optional)"), widget=GovTextInput(), validators=[
        Optional(), _too_long(MAX_QUESTION)], description=_l("Left empty, young people read the question above."))
    hint = StringField(_l("Hint (optional)"), widget=GovTextInput(), validators=[Optional(), _too_long(MAX_HINT)],
                       description=_l("Shown under the question, to help people answer."))
    options = TextAreaField(_l("Choices"), widget=GovTextArea(), validators=[
        Optional(), _too_long(MAX_OPTIONS * (MAX_OPTION_LENGTH + 2))],
        description=_l("For one choice or several choices only: write each choice on its own line, "
                       "from 2 to %(most)s choices.", most=MAX_OPTIONS))
    required = BooleanField(_l("People must answer this question"), widget=GovCheckboxInput())
    about_you = BooleanField(_l("This is an \"about you\" question (results can be broken down by it)"),
                             widget=GovCheckboxInput())
    save = SubmitField(_l("Save question"), widget=GovSubmitInput())

    def option_lines(self) -> list[str]:
        """Return the choices typed, one a line, blank lines left out."""
        return [line.strip() for line in (self.options.data or "").splitlines() if line.strip()]

    def validate_options(self, field):
        """A choice question needs 2 to MAX_OPTIONS different choices, none too long; other kinds none."""
        if self.kind.data not in ("single", "multiple"):
            return
        lines = [clean_text(line) for line in self.option_lines()]
        lines = [line for line in lines if line]
        if len(lines) < 2:
            raise ValidationError(_("Give at least 2 choices, one on each line"))
        if len(lines) > MAX_OPTIONS:
            raise ValidationError(_("Give %(most)s choices or fewer", most=MAX_OPTIONS))
        if any(len(line) > MAX_OPTION_LENGTH for line in lines):
            raise ValidationError(_("Each choice must be %(most)s characters or fewer", most=MAX_OPTION_LENGTH))
        if len({line.casefold() for line in lines}) < len(lines):
            raise ValidationError(_("Each choice must be different"))


class ActionForm(FlaskForm):
    """A button that changes a consultation (add the "about you" questions, remove a question): CSRF only."""

    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


class MoveForm(FlaskForm):
    """Move a question up or down."""

    direction = HiddenField(validators=[InputRequired(message=_l("Say which way to move the question")),
                                        AnyOf(["up", "down"], message=_l("A question can only move up or down"))])


class ConfirmForm(FlaskForm):
    """Confirm opening a consultation, or closing it early."""

    confirm = BooleanField(_l("I understand"), widget=GovCheckboxInput(), validators=[
        InputRequired(message=_l("Tick the box to confirm"))])
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())
