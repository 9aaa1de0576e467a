"""Form fields more than one blueprint's forms use, with GOV.UK widgets and translated messages."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, ValidationError

from local_offer.i18n import _l

EMAIL_MAX = 254


def _ascii_email(form, field):
    """Refuse look-alike (non-ASCII) characters in the part of an email address before the @."""
    local = (field.data or "").split("@")[0]
    if not local.isascii():
        raise ValidationError(_l("Enter an email address using only standard letters and numbers"))


def email_field(label=None):
    """Return an email address field with the checks every account form needs."""
    return StringField(label or _l("Email address"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter your email address")),
        Length(max=EMAIL_MAX, message=_l("Email address must be 254 characters or fewer")),
        Email(message=_l("Enter an email address in the correct format, like name@example.com"),
              check_deliverability=False),
        _ascii_email,
    ])


def choices(pairs) -> list[SelectChoice]:
    """Turn (value, label) pairs into the options WTForms wants for select, radio and checkbox fields."""
    return [SelectChoice(value, label) for value, label in pairs]
