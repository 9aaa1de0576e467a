"""The shortlist's forms: each a POST with a CSRF token, working without JavaScript."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, UUID

from local_offer.fields import choices, email_field
from local_offer.i18n import _l
from local_offer.shortlists import NOTE_LENGTH


class ListingForm(FlaskForm):
    """Names one listing, and the page to go back to afterwards."""

    listing_id = HiddenField(validators=[DataRequired(message=_l("Choose a service")),
                                         UUID(message=_l("That is not a service in the directory"))])
    next = HiddenField(validators=[Optional(), Length(max=1000, message=_l("The address to go back to is too long"))])


class NoteForm(ListingForm):
    """The owner's private note on a saved listing."""

    note = TextAreaField(
        _l("Your note"), widget=GovTextArea(),
        validators=[Optional(), Length(max=NOTE_LENGTH, message=_l("The note must be %(max)s characters or fewer",
                                                                  max=NOTE_LENGTH))],
        description=_l("Only you see this. It is not shown on the shared link or in emails."))


class EmailForm(FlaskForm):
    """Sends the shortlist's links, in our words, to an email address."""

    recipient = RadioField(
        _l("Who is it for?"), widget=GovRadioInput(), default="self",
        choices=choices([("self", _l("Me")), ("professional", _l("A professional, for example a teacher or key worker"))]),
        validators=[DataRequired(message=_l("Choose who the email is for"))])
    email = email_field(_l("Email address"))


class DeviceForm(FlaskForm):
    """Keep the shortlist on this device (``keep=yes``) or stop keeping it (``keep=no``)."""

    keep = HiddenField(validators=[DataRequired(message=_l("Choose whether to keep the shortlist on this device")),
                                   AnyOf(["yes", "no"], message=_l("Choose whether to keep the shortlist on this device"))])
