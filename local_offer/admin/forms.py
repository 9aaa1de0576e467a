"""Forms for coordinators and administrators."""

import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from local_offer.fields import DayMonthYear, choices, email_field
from local_offer.i18n import _l
from local_offer.reviews import MAX_HIDE_AFTER_DAYS


class InviteForm(FlaskForm):
    """Invite someone to an account."""

    email = email_field()
    name = StringField(_l("Their name (optional)"), widget=GovTextInput(), validators=[Optional(), Length(max=255)])
    role = RadioField(_l("What they will do"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Choose what they will do"))], choices=[])
    organisation = SelectField(_l("Organisation (for providers)"), widget=GovSelect(), choices=[],
                               validators=[Optional()])
    submit = SubmitField(_l("Send invitation"), widget=GovSubmitInput())


class DecisionForm(FlaskForm):
    """Approve or decline a request to join."""

    decision = RadioField(_l("Decision"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Choose approve or decline"))],
        choices=choices([("approve", _l("Approve and send an invitation")), ("decline", _l("Decline"))]))
    organisation = SelectField(_l("Their organisation"), widget=GovSelect(), choices=[], validators=[Optional()],
                               description=_l("Choose an existing organisation, or leave it to create a new one"))
    reason = TextAreaField(_l("Reason (sent to them if you decline)"), widget=GovTextArea(), validators=[
        Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save decision"), widget=GovSubmitInput())


class UserForm(FlaskForm):
    """An administrator's changes to an account."""

    role = RadioField(_l("Role"), widget=GovRadioInput(), choices=[], validators=[InputRequired()])
    organisations = TextAreaField(_l("Organisation ids, one a line"), widget=GovTextArea(),
                                  validators=[Optional(), Length(max=5000)])
    active = BooleanField(_l("Account can sign in"), widget=GovCheckboxInput())
    submit = SubmitField(_l("Save changes"), widget=GovSubmitInput())


class SynonymForm(FlaskForm):
    """One group of words that mean the same."""

    terms = StringField(_l("Words that mean the same, separated by commas"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter at least two words, separated by commas")), Length(max=1000)],
        description=_l("For example: autism, ASD, ASC, autistic"))
    submit = SubmitField(_l("Save"), widget=GovSubmitInput())


class RelatedTermsForm(FlaskForm):
    """What families say, and the words search should also look for."""

    phrases = TextAreaField(_l("What families say"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Enter at least one thing families say, separated by commas")),
        Length(max=4000, message=_l("Enter at most 30 things families say, each up to 100 characters"))],
        description=_l("The everyday words a parent or young person might type, separated by commas. "
                       "For example: being bullied, bullied, picked on"))
    terms = TextAreaField(_l("Words search should also look for"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Enter at least one word to look for, separated by commas")),
        Length(max=4000, message=_l("Enter at most 30 words to look for, each up to 100 characters"))],
        description=_l("Words services use in their listings for help with it, separated by commas. "
                       "For example: anti-bullying, confidence, mentoring"))
    submit = SubmitField(_l("Save"), widget=GovSubmitInput())


class SettingsForm(FlaskForm):
    """Site settings for administrators."""

    require_two_factor = BooleanField(_l("Require a second factor (an authenticator app) for coordinators and administrators"),
                                      widget=GovCheckboxInput())
    label_overdue = BooleanField(_l("Tell families when a listing is overdue for review"), widget=GovCheckboxInput(),
                                 description=_l("Overdue listings show, for example, “Not checked since March 2025”"))
    hide_after_days = StringField(
        _l("Hide overdue listings from search after this many days (optional)"), widget=GovTextInput(),
        validators=[Optional(), Length(max=10)],
        description=_l("Counted from the day the review fell due. They come back as soon as the provider "
                       "confirms them. Leave empty never to hide them."))
    submit = SubmitField(_l("Save settings"), widget=GovSubmitInput())

    def validate_hide_after_days(self, field) -> None:
        """Accept a whole number of days from 1 to 3650, or nothing (never hide)."""
        text = (field.data or "").strip()
        if text and not (re.fullmatch(r"[0-9]{1,5}", text) and 1 <= int(text) <= MAX_HIDE_AFTER_DAYS):
            raise ValidationError(_l("Enter a whole number of days from 1 to %(max)s, or leave it empty",
                                     max=MAX_HIDE_AFTER_DAYS))

    @property
    def hide_after(self) -> int | None:
        """Return the validated grace period in days, or None to never hide."""
        text = (self.hide_after_days.data or "").strip()
        return int(text) if text else None


class TermForm(FlaskForm):
    """One school term or half term: its name, first day and last day."""

    name = StringField(_l("Name"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the term's name, like Autumn term 1")), Length(max=60)],
        description=_l("For example, Autumn term 1"))
    starts = DayMonthYear(_l("First day"), widget=GovDateInput(), format="%d %m %Y", validators=[
        InputRequired(message=_l("Enter the first day of the term, like 2 9 2026"))],
        description=_l("For example, 2 9 2026"))
    ends = DayMonthYear(_l("Last day"), widget=GovDateInput(), format="%d %m %Y", validators=[
        InputRequired(message=_l("Enter the last day of the term, like 23 10 2026"))],
        description=_l("For example, 23 10 2026"))
    submit = SubmitField(_l("Add term"), widget=GovSubmitInput())

    def validate_starts(self, field):
        """Terms fall in years the site could be used for."""
        if field.data and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_l("Enter a date between 2000 and 2100"))

    validate_ends = validate_starts


class FeedForm(FlaskForm):
    """A neighbour's Open Referral UK feed to pull: where, whose, and under which licence."""

    url = StringField(_l("Feed address"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the feed's address, starting with https://")), Length(max=500)],
        description=_l("The services list of their Open Referral UK API, like https://example.gov.uk/api/v1/services"))
    name = StringField(_l("Whose directory it is"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter whose directory it is, like Derbyshire's Local Offer")), Length(max=120)],
        description=_l("Families see this on each of its services, for example Derbyshire's Local Offer"))
    licence = StringField(_l("Licence"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the licence the data is published under, like Open Government Licence v3.0")),
        Length(max=200)], description=_l("As the publisher states it, for example Open Government Licence v3.0"))
    site_url = StringField(_l("Their directory's web address (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=500)], description=_l("Each service links there, so families can see it at its source"))
    submit = SubmitField(_l("Add feed"), widget=GovSubmitInput())


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""

    submit = SubmitField(_l("Confirm"), widget=GovSubmitInput())
