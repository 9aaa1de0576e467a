"""The portal's repeating rows (venues, sessions, costs, people): fixed sets of fields that work without JavaScript.

Each section form holds its rows in a ``FieldList``; ``fill`` puts existing rows
in with spare blank ones to add more, and ``filled_rows`` leaves the blank ones
out.  A row checks what a filled-in row needs as a whole (``check_row``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSelect, GovTextInput
from wtforms import BooleanField, FieldList, Form, HiddenField, SelectField, StringField
from wtforms.validators import Email, Length, Optional, Regexp, ValidationError

from local_offer.fields import choices
from local_offer.i18n import _, _l
from local_offer.listings import limits
from local_offer.listings.labels import WEEKDAY_LABELS
from local_offer.listings.when import TimeError, parse_time
from local_offer.listings.writing import PublishError, resolve_postcode
from local_offer.sanitise import clean_text

def session_time(message):
    """Check a time as a person types it ("6pm", "18:00", "6.30pm", "noon"); the message names the field."""
    def check(form, field):
        if (field.data or "").strip():
            try:
                parse_time(field.data)
            except TimeError:
                raise ValidationError(message) from None
    return check


OPENS = session_time(_l("Enter the opening time like 9am, 5:30pm or 17:30"))
CLOSES = session_time(_l("Enter the closing time like 9am, 5:30pm or 17:30"))
PHONE = Regexp(r"^[0-9 +()\-]{6,20}$", message=_l("Enter a phone number, like 01785 223121"))


def clean(value) -> str:
    """Clean a field's text with the one sanitiser."""
    return clean_text(value or "")


def money(value: str) -> str:
    """Read an amount of pounds as typed ("£4.50", "4,50")."""
    return value.strip().lstrip("£").strip().replace(",", ".")


def time_text(value: str) -> str:
    """Write a checked time the one way ("9.30" and "9:30am" -> "09:30", "6pm" -> "18:00")."""
    if not (value or "").strip():
        return ""
    return parse_time(value).strftime("%H:%M")


class _Row(Form):
    """A repeating row: blank rows are ignored."""

    id = HiddenField()
    KEYS: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        """Say whether nothing was entered in this row."""
        return not any(str(getattr(self, key).data or "").strip() for key in self.KEYS)

    def validate(self, extra_validators=None) -> bool:
        """Check each field, then what a filled-in row needs as a whole (blank rows need nothing)."""
        valid = super().validate(extra_validators)
        if not self.is_blank():
            self.check_row()
            self._errors = None
        return valid and not any(field.errors for field in self)

    def check_row(self) -> None:
        """Add errors to fields that a filled-in row must have."""

    @staticmethod
    def _require(field, message) -> None:
        if not str(field.data or "").strip() and not field.errors:
            field.errors = list(field.errors) + [message]


class LocationRow(_Row):
    """A venue."""

    KEYS = ("name", "address_1", "address_2", "town", "postcode")
    #: Kept as it was (the portal does not ask for it; imports may bring it).
    county = HiddenField()
    name = StringField(_l("Venue name"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.VENUE["name"])])
    address_1 = StringField(_l("Address line 1"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.VENUE["address_1"])])
    address_2 = StringField(_l("Address line 2 (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.VENUE["address_2"])])
    town = StringField(_l("Town"), widget=GovTextInput(), validators=[Optional(), Length(max=limits.VENUE["town"])])
    postcode = StringField(_l("Postcode"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.VENUE["postcode"])])
    mask_address = BooleanField(_l("Show families only the town and the first part of the postcode "
                                   "(for example, a childminder working from home)"), widget=GovCheckboxInput())

    def check_row(self) -> None:
        """A venue needs a full postcode the gazetteer knows (so distances work), an address and a town."""
        if not self.mask_address.data:
            self._require(self.address_1, _("Enter the first line of the venue's address"))
        self._require(self.town, _("Enter the venue's town"))
        self._require(self.postcode, _("Enter the venue's postcode"))
        if self.postcode.errors:
            return
        try:
            self.postcode.data = resolve_postcode(self.postcode.data, masked=bool(self.mask_address.data)).label
        except PublishError as error:
            self.postcode.errors = list(self.postcode.errors) + [str(error)]


DAYS = choices([("", _l("Choose a day"))] + [(day.value, label) for day, label in WEEKDAY_LABELS.items()])
PERIODS = choices([("all_year", _l("All year")), ("term_time", _l("Term time only")),
                   ("school_holidays", _l("School holidays only"))])


class ScheduleRow(_Row):
    """A regular session."""

    KEYS = ("day", "opens", "closes", "notes")
    day = SelectField(_l("Day"), widget=GovSelect(), choices=DAYS, validators=[Optional()])
    opens = StringField(_l("Opens"), widget=GovTextInput(), validators=[Optional(), OPENS],
                        description=_l("For example, 9:30am"))
    closes = StringField(_l("Closes"), widget=GovTextInput(), validators=[Optional(), CLOSES],
                         description=_l("For example, 5pm"))
    period = SelectField(_l("When in the year"), widget=GovSelect(), choices=PERIODS, validators=[Optional()])
    notes = StringField(_l("Notes (optional)"), widget=GovTextInput(),
                        validators=[Optional(), Length(max=limits.SESSION_NOTES)],
                        description=_l("For example, first Saturday of the month"))

    def validate_closes(self, field):
        """A session closes after it opens."""
        if self.is_blank() or not field.data or not self.opens.data or self.opens.errors or field.errors:
            return
        if time_text(field.data) <= time_text(self.opens.data):
            raise ValidationError(_("Closing time must be after the opening time"))

    def check_row(self) -> None:
        """A session needs a day, unless a note explains when it runs."""
        if not (self.notes.data or "").strip():
            self._require(self.day, _("Choose a day, or explain when it runs in the notes"))


class CostRow(_Row):
    """One price."""

    KEYS = ("option", "amount", "description")
    option = StringField(_l("What it is for"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.COST["option"])],
                         description=_l("For example, per session"))
    amount = StringField(_l("Amount in pounds"), widget=GovTextInput(), validators=[Optional(), Length(max=12)])
    description = StringField(_l("Details (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.COST["description"])])

    def check_row(self) -> None:
        """A cost has an amount or says in words what it is."""
        if not (self.description.data or "").strip():
            self._require(self.amount, _("Enter an amount, or describe the cost in the details"))

    def validate_amount(self, field):
        """An amount is money: a number of pounds, up to two decimal places."""
        try:
            value = Decimal(money(field.data))
        except InvalidOperation as error:
            raise ValidationError(_("Enter an amount in pounds, like 4.50")) from error
        if not value.is_finite() or value < 0 or value >= limits.COST_AMOUNT_BELOW or value.as_tuple().exponent < -2:
            raise ValidationError(_("Enter an amount in pounds, like 4.50"))


class ContactRow(_Row):
    """A person or team to contact."""

    KEYS = ("name", "title", "phone", "email")
    name = StringField(_l("Name"), widget=GovTextInput(), validators=[Optional(), Length(max=limits.CONTACT["name"])])
    title = StringField(_l("Role (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.CONTACT["title"])])
    phone = StringField(_l("Phone (optional)"), widget=GovTextInput(), validators=[Optional(), PHONE])
    email = StringField(_l("Email (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.EMAIL), Email(message=_l("Enter an email address like name@example.com"),
                                           check_deliverability=False)])
    public = BooleanField(_l("Show these details to families"), widget=GovCheckboxInput())

    def check_row(self) -> None:
        """A contact row needs a name or a role."""
        if not (self.title.data or "").strip():
            self._require(self.name, _("Enter the person's name or their role"))


def filled_rows(field) -> list:
    """Return the rows of a repeating field that have something in them."""
    return [entry.form for entry in field.entries if not entry.form.is_blank()]


def fill(field: FieldList, rows: list[dict], extra: int) -> None:
    """Put existing rows in a repeating field, with ``extra`` blank ones to add more."""
    while field.entries:
        field.pop_entry()
    for row in rows:
        field.append_entry(row)
    for _index in range(extra):
        field.append_entry()
