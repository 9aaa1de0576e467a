"""Co-production forms: the public feedback form (and its simpler version) and the coordinators' forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp, ValidationError

from local_offer.feedback.comments import COMMENT_MAX
from local_offer.feedback.labels import (
    EXCLUSION_LABELS,
    PROMISE_LABELS,
    RESPONDENT_LABELS,
    TOPIC_LABELS,
    TOPIC_SHORT,
)
from local_offer.fields import DayMonthYear, choices
from local_offer.i18n import _, _l
from local_offer.models import PromiseStatus
from local_offer.sanitise import clean_text


class HasText:
    """Refuse text that is empty once markup is stripped ("   ", "<b></b>")."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if not clean_text(field.data or "").strip():
            raise ValidationError(self.message)


class _Honeypot:
    """A field people never see or fill in; automated spam usually does."""

    def __call__(self, form, field):
        if (field.data or "").strip():
            raise ValidationError(_("Your comment could not be sent. Please try again."))


def _contact_fields():
    return (
        StringField(_l("Your name (optional)"), widget=GovTextInput(), validators=[Optional(), Length(max=255)]),
        StringField(_l("Email address (optional)"), widget=GovTextInput(), validators=[
            Optional(), Length(max=254),
            Email(message=_l("Enter an email address like name@example.com"), check_deliverability=False)]),
        StringField(_l("Phone number (optional)"), widget=GovTextInput(), validators=[
            Optional(), Regexp(r"^[0-9 +()\-]{6,20}$", message=_l("Enter a phone number, like 01785 223121"))]),
    )


class FeedbackForm(FlaskForm):
    """Tell the council what you think of the Local Offer."""

    topic = RadioField(_l("What is your comment about?"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Choose what your comment is about"))],
        choices=choices([(topic.value, label) for topic, label in TOPIC_LABELS.items()]))
    comment = TextAreaField(_l("Your comment"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Enter your comment")), HasText(_l("Enter your comment")),
        Length(max=COMMENT_MAX, message=_l("Your comment must be 5,000 characters or fewer"))])
    priority = SelectField(_l("Which of these is it about? (optional)"), widget=GovSelect(),
                           choices=[], validators=[Optional()],
                           description=_l("The council and families have agreed to work on these first."))
    respondent = RadioField(_l("Who are you?"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Tell us who you are"))],
        choices=choices([(respondent.value, label) for respondent, label in RESPONDENT_LABELS.items()]))
    name, email, phone = _contact_fields()
    listing = HiddenField()
    #: The honeypot: hidden from people (and from screen readers), filled in by bots.
    website = StringField(_l("Leave this empty"), validators=[_Honeypot()])
    submit = SubmitField(_l("Send your comment"), widget=GovSubmitInput())


class SimpleFeedbackForm(FlaskForm):
    """The same, in shorter words, for children and young people."""

    topic = RadioField(_l("What is it about?"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Pick one"))], choices=choices([
        ("content", _l("Things to do, places and help, or something missing")),
        ("usability", _l("Using this website")),
        ("development", _l("How young people can help make this website better"))]))
    comment = TextAreaField(_l("What do you want to tell us?"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Write what you want to tell us")), HasText(_l("Write what you want to tell us")),
        Length(max=COMMENT_MAX, message=_l("That is too long. Use 5,000 characters or fewer."))])
    name, email, phone = _contact_fields()
    listing = HiddenField()
    website = StringField(_l("Leave this empty"), validators=[_Honeypot()])
    submit = SubmitField(_l("Send"), widget=GovSubmitInput())


class PublishForm(FlaskForm):
    """Publish a comment, after checking (and redacting) it."""

    published_text = TextAreaField(_l("What the public will read"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Enter the text to publish")), HasText(_l("Enter the text to publish")),
        Length(max=COMMENT_MAX)],
        description=_l("Phone numbers, email addresses, postcodes, streets, dates of birth, names and schools "
                       "we find are listed below. Also remove anything else that could identify a person, such "
                       "as a diagnosis with a date. The original stays private."))
    priority = SelectField(_l("Partnership priority"), widget=GovSelect(), choices=[], validators=[Optional()])
    themes = SelectMultipleField(_l("Themes"), widget=GovCheckboxesInput(), choices=[], validators=[Optional()])
    confirm = BooleanField(_l("I have checked that this identifies no one"), widget=GovCheckboxInput(),
                           validators=[InputRequired(message=_l(
                               "Confirm you have checked that the comment identifies no one"))])
    publish = SubmitField(_l("Publish"), widget=GovSubmitInput())


class TagForm(FlaskForm):
    """Tag a comment with a priority and themes, whatever its status."""

    priority = SelectField(_l("Partnership priority"), widget=GovSelect(), choices=[], validators=[Optional()])
    themes = SelectMultipleField(_l("Themes"), widget=GovCheckboxesInput(), choices=[], validators=[Optional()])
    tag = SubmitField(_l("Save tags"), widget=GovSubmitInput())


class ExcludeForm(FlaskForm):
    """Exclude a comment with a reason."""

    reason = RadioField(_l("Why is it not published?"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Choose why it is not published"))],
        choices=choices([(reason.value, label) for reason, label in EXCLUSION_LABELS.items()]))
    note = TextAreaField(_l("Note for the record (optional)"), widget=GovTextArea(), validators=[
        Optional(), Length(max=2000)])
    exclude = SubmitField(_l("Exclude"), widget=GovSubmitInput())


class ReplyForm(FlaskForm):
    """A private reply by email."""

    body = TextAreaField(_l("Your reply"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Write your reply")), HasText(_l("Write your reply")), Length(max=5000)])
    send = SubmitField(_l("Send reply"), widget=GovSubmitInput())


class ThemeForm(FlaskForm):
    """A new theme."""

    name = StringField(_l("Theme"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the theme")), HasText(_l("Enter the theme")), Length(max=120)],
        description=_l("For example: gaps for teenagers, short breaks, finding information"))
    add = SubmitField(_l("Add theme"), widget=GovSubmitInput())


class PriorityForm(FlaskForm):
    """A priority of the SEND partnership."""

    title = StringField(_l("Priority"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the priority")), HasText(_l("Enter the priority")), Length(max=255)])
    description = TextAreaField(_l("Description (optional)"), widget=GovTextArea(), validators=[
        Optional(), Length(max=2000)])
    save = SubmitField(_l("Save"), widget=GovSubmitInput())


class CommentChoices(SelectMultipleField):
    """The comments a response answers (ticked on the page), with a message a coordinator can act on."""

    def pre_validate(self, form):
        """Refuse an id that is not a published comment on offer."""
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_("A comment you chose is not published, or does not exist. Find it again, "
                                    "or leave it out.")) from None


class ResponseForm(FlaskForm):
    """The council's response: you said, we did, by when, how far it has got, and the comments it answers."""

    title = StringField(_l("Title"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter a title")), HasText(_l("Enter a title")), Length(max=255)])
    you_said = TextAreaField(_l("You said"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Summarise what people told us")), HasText(_l("Summarise what people told us")),
        Length(max=5000, message=_l("Use 5,000 characters or fewer"))])
    we_did = TextAreaField(_l("We did, or we will"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Say what the council did or will do")),
        HasText(_l("Say what the council did or will do")),
        Length(max=5000, message=_l("Use 5,000 characters or fewer"))])
    action_due = DayMonthYear(_l("By when (optional)"), widget=GovDateInput(), format="%d %m %Y",
                           validators=[Optional()],
                           description=_l("For example, 27 3 2027. The public page shows it as late if it is "
                                          "not done by then."))
    progress = RadioField(_l("How far has it got?"), widget=GovRadioInput(), default=PromiseStatus.PLANNED.value,
                          validators=[Optional()],  # left out: it stays as it was (planned when new)
                          choices=choices([(status.value, PROMISE_LABELS[status.value]) for status in PromiseStatus]))
    theme = SelectField(_l("Theme it answers (optional)"), widget=GovSelect(), choices=[], validators=[Optional()],
                        description=_l("When you publish, it also answers the published comments that have this "
                                       "theme at that moment. Comments given the theme later are not added."))
    feedback = CommentChoices(_l("Comments it answers"), choices=[], validators=[Optional()])
    save = SubmitField(_l("Save as draft"), widget=GovSubmitInput())
    publish = SubmitField(_l("Publish"), widget=GovSubmitInput())

    def validate_action_due(self, field):
        """A promise is due in a year the site could be running."""
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_("Enter a date between 2000 and 2100"))

    def validate(self, extra_validators=None) -> bool:
        """Check each field, then that the response answers comments or a theme."""
        valid = super().validate(extra_validators)
        if not self.feedback.data and not self.theme.data:
            self.feedback.errors = list(self.feedback.errors) + [_("Choose the comments it answers, or a theme")]
            self._errors = None
            return False
        return valid


class CommentFinderForm(FlaskForm):
    """Find published comments for a response by words, theme, topic and when they were published."""

    class Meta:
        csrf = False  # read from the address too: it changes nothing

    words = StringField(_l("Words in the comment"), widget=GovTextInput(), validators=[
        Optional(), Length(max=200, message=_l("Use 200 characters or fewer"))])
    theme = SelectField(_l("Theme"), widget=GovSelect(), choices=[], validators=[Optional()])
    topic = SelectField(_l("Topic"), widget=GovSelect(), validators=[Optional()], choices=choices(
        [("", _l("Any topic"))] + [(topic.value, label) for topic, label in TOPIC_SHORT.items()]))
    since = DayMonthYear(_l("Published on or after"), widget=GovDateInput(), format="%d %m %Y",
                      validators=[Optional()], description=_l("For example, 1 9 2026"))
    until = DayMonthYear(_l("Published on or before"), widget=GovDateInput(), format="%d %m %Y",
                      validators=[Optional()])

    def validate_since(self, field):
        """Dates are within the years the site could have comments for."""
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_("Enter a date between 2000 and 2100"))

    def validate_until(self, field):
        """The period runs forwards."""
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_("Enter a date between 2000 and 2100"))
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("The last day must be on or after the first"))


class ReportForm(FlaskForm):
    """The period of a partnership report."""

    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    start = DateField(_l("First day"), widget=GovDateInput(), format="%d %m %Y", validators=[
        InputRequired(message=_l("Enter the first day of the period"))])
    end = DateField(_l("Last day"), widget=GovDateInput(), format="%d %m %Y", validators=[
        InputRequired(message=_l("Enter the last day of the period"))])

    def validate_start(self, field):
        """A report starts in a year the site could have feedback for."""
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_("Enter a date between 2000 and 2100"))

    def validate_end(self, field):
        """A period runs forwards and is at most ten years."""
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_("Enter a date between 2000 and 2100"))
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_("The end must be on or after the start"))
            if (field.data - self.start.data).days > 3660:
                raise ValidationError(_("Choose a period of ten years or less"))
