"""Forms for coordinators and administrators."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from local_offer.accounts.forms import email_field
from local_offer.i18n import _l


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
        choices=[("approve", _l("Approve and send an invitation")), ("decline", _l("Decline"))])
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


class SettingsForm(FlaskForm):
    """Site settings for administrators."""

    require_two_factor = BooleanField(_l("Require a second factor (an authenticator app) for coordinators and administrators"),
                                      widget=GovCheckboxInput())
    submit = SubmitField(_l("Save settings"), widget=GovSubmitInput())
