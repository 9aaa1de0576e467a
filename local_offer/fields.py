"""Form fields more than one blueprint's forms use, with GOV.UK widgets and translated messages."""

from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovTextInput
from wtforms import DateField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, ValidationError

from local_offer.i18n import _, _l

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


class DayMonthYear(DateField):
    """A GOV.UK date input (day, month and year boxes of one name) that survives any number of boxes sent.

    The widget needs exactly three values to show the form again; a request with
    fewer or more (a hand-made post) would otherwise be a 500 instead of a message.
    """

    def process_formdata(self, valuelist):
        """Keep exactly three boxes (missing ones empty), then read the date as DateField does."""
        valuelist = [str(value).strip() for value in (list(valuelist or []) + ["", "", ""])[:3]]
        self.raw_data = valuelist
        if not any(valuelist):
            return  # nothing typed: InputRequired (or Optional) says what to do
        try:
            if not all(valuelist):
                raise ValueError("a box is empty")
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Enter a real date, like 2 9 2026"))) from None


class DateInput(GovDateInput):
    """GOV.UK's day, month and year boxes with their labels in the page's language (the widget's are English)."""

    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        labels = {"Day": _("Day"), "Month": _("Month"), "Year": _("Year")}
        for item in params.get("items") or []:
            item["label"] = labels.get(item.get("label"), item.get("label"))
        return params
