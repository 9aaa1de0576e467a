"""The unmet-demand page's form: the months it covers."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect
from wtforms import SelectField
from wtforms.validators import ValidationError

from local_offer.fields import choices
from local_offer.i18n import _, _l


def month_of(value: str | None) -> date | None:
    """Read a month written "2026-03" as its first day, or None when it is not one."""
    text = (value or "").strip()
    if len(text) != 7 or text[4] != "-" or not (text[:4].isdecimal() and text[5:].isdecimal()):
        return None
    year, month = int(text[:4]), int(text[5:])
    return date(year, month, 1) if 2000 <= year <= 2100 and 1 <= month <= 12 else None


class MonthField(SelectField):
    """A month chosen from a list (newest first); a month typed into the address is checked with a clear message."""

    def pre_validate(self, form):
        """Refuse a month that is not one, or one that has not happened yet, saying which."""
        month = month_of(self.data)
        if month is None:
            raise ValidationError(_("Choose a month from the list"))
        if month > form.this_month:
            raise ValidationError(_("That month has not happened yet: choose this month or an earlier one"))
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(_("Choose a month from the list"))


class DemandPeriodForm(FlaskForm):
    """The months the unmet-demand report covers."""

    class Meta:
        csrf = False  # a GET form: bookmarkable, changes nothing

    start = MonthField(_l("From the start of"), widget=GovSelect())
    end = MonthField(_l("To the end of"), widget=GovSelect())

    def __init__(self, this_month: date, months: list[tuple[str, str]], **kwargs):
        """Offer the months given (value "2026-03", label "March 2026"), newest first."""
        super().__init__(**kwargs)
        self.this_month = this_month
        self.start.choices = choices(months)
        self.end.choices = choices(months)

    def validate_end(self, field):
        """A period runs forwards."""
        first, last = month_of(self.start.data), month_of(field.data)
        if first and last and last < first:
            raise ValidationError(_("The last month must be the same as the first or after it"))
