"""Account forms: GOV.UK widgets, translated labels and messages, CSRF on every one."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import PasswordField, StringField, SubmitField, TextAreaField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from local_offer.fields import email_field
from local_offer.i18n import _l
from local_offer.users import MIN_PASSWORD

def new_password_fields():
    """Return a new password and its confirmation."""
    return (
        PasswordField(_l("New password"), widget=GovPasswordInput(), description=_l(
            "At least 12 characters. A few words together is easy to remember and hard to guess."),
            validators=[InputRequired(message=_l("Enter a new password")),
                        Length(min=MIN_PASSWORD, max=200,
                               message=_l("Password must be between 12 and 200 characters"))]),
        PasswordField(_l("Confirm new password"), widget=GovPasswordInput(), validators=[
            InputRequired(message=_l("Confirm your new password")),
            EqualTo("password", message=_l("The passwords do not match"))]),
    )


class SignInForm(FlaskForm):
    """Email and password."""

    email = email_field()
    password = PasswordField(_l("Password"), widget=GovPasswordInput(), validators=[
        InputRequired(message=_l("Enter your password")), Length(max=200)])
    submit = SubmitField(_l("Sign in"), widget=GovSubmitInput())


class ForgotPasswordForm(FlaskForm):
    """Where to send a reset link."""

    email = email_field()
    submit = SubmitField(_l("Send reset link"), widget=GovSubmitInput())


class ResetPasswordForm(FlaskForm):
    """A new password through an emailed link."""

    password, confirm = new_password_fields()
    submit = SubmitField(_l("Save password"), widget=GovSubmitInput())


class AcceptInvitationForm(FlaskForm):
    """Name and first password for an invited account."""

    name = StringField(_l("Your name"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter your name")), Length(max=255)])
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Create account"), widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    """Current and new password."""

    current = PasswordField(_l("Current password"), widget=GovPasswordInput(), validators=[
        InputRequired(message=_l("Enter your current password")), Length(max=200)])
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Change password"), widget=GovSubmitInput())


class JoinForm(FlaskForm):
    """A provider asking for an account."""

    name = StringField(_l("Your name"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter your name")), Length(max=255)])
    email = email_field(_l("Your work email address"))
    organisation_name = StringField(_l("Organisation name"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter your organisation's name")), Length(max=255)])
    organisation_website = StringField(_l("Organisation website (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=500)])
    phone = StringField(_l("Phone number (optional)"), widget=GovTextInput(), validators=[Optional(), Length(max=50)])
    message = TextAreaField(_l("What do you offer families? (optional)"), widget=GovTextArea(), validators=[
        Optional(), Length(max=2000, message=_l("Tell us in 2,000 characters or fewer"))])
    submit = SubmitField(_l("Send request"), widget=GovSubmitInput())


class CodeForm(FlaskForm):
    """A code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), widget=GovTextInput(), description=_l(
        "The 6-digit code from your authenticator app, or one of your recovery codes"), validators=[
        InputRequired(message=_l("Enter the code")), Length(max=20, message=_l("Enter the code"))])
    submit = SubmitField(_l("Continue"), widget=GovSubmitInput())


class TwoFactorSetupForm(FlaskForm):
    """Confirm the authenticator app works."""

    code = StringField(_l("Code from your authenticator app"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the code")), Length(max=20, message=_l("Enter the code"))])
    submit = SubmitField(_l("Turn on"), widget=GovSubmitInput())


class TwoFactorOffForm(FlaskForm):
    """Turn the second factor off, confirming with the password."""

    password = PasswordField(_l("Your password"), widget=GovPasswordInput(), validators=[
        InputRequired(message=_l("Enter your password")), Length(max=200)])
    submit = SubmitField(_l("Turn off"), widget=GovSubmitInput())
