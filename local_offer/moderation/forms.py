"""The moderation forms: a decision on a change, a reason to send it back, and a file to import."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovFileInput, GovSubmitInput, GovTextArea
from wtforms import BooleanField, HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from local_offer.i18n import _l


class DecideForm(FlaskForm):
    """A coordinator's approval or return of a change."""

    version = HiddenField()
    accept_conflicts = BooleanField(_l("I have compared both versions: publish this change over the other one"),
                                    widget=GovCheckboxInput())
    approve = SubmitField(_l("Approve and publish"), widget=GovSubmitInput())


class ReturnForm(FlaskForm):
    """Send a change back with a reason."""

    version = HiddenField()
    reason = TextAreaField(_l("What needs to change?"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Tell the provider what needs to change")),
        Length(max=4000, message=_l("Reason must be 4,000 characters or fewer"))],
        description=_l("The provider sees this in the portal and by email"))
    send_back = SubmitField(_l("Send back to the provider"), widget=GovSubmitInput())


class ImportForm(FlaskForm):
    """Upload a file of listings to check, then import."""

    file = FileField(_l("File"), widget=GovFileInput(), validators=[
        FileRequired(message=_l("Choose a file to upload")),
        FileAllowed(["json", "csv"], message=_l("Upload an Open Referral UK .json file or a .csv file"))],
        description=_l("Open Referral UK JSON (version 1 or 3), or a CSV in the import layout. Up to 5 MB."))
    publish = BooleanField(_l("Publish at once, without each listing waiting for a check"),
                           widget=GovCheckboxInput())
    check = SubmitField(_l("Check the file"), widget=GovSubmitInput())
