"""The portal's repeating rows (venues, sessions, costs, people): fixed sets of fields that work without JavaScript.

Each section form holds its rows in a ``FieldList``; ``fill`` puts existing rows
in with spare blank ones to add more, and ``filled_rows`` leaves the blank ones
out.  A row checks what a filled-in row needs as a whole (``check_row``).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import get_timezone
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, Length, Optional, Regexp, ValidationError

from local_offer.fields import DateInput, DayMonthYear, choices
from local_offer.i18n import _, _l
from local_offer.listings import limits, recurrence, when
from local_offer.listings.labels import WEEKDAY_LABELS
from local_offer.listings.when import TimeError, parse_time, parse_times
from local_offer.models import SchedulePeriod
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


def _typed(value) -> str:
    """What was typed or ticked in a field, as text ("" for nothing)."""
    if isinstance(value, (list, tuple)):
        return " ".join(str(item) for item in value).strip()
    return str(value or "").strip()


class _Row(Form):
    """A repeating row: blank rows are ignored."""

    id = HiddenField()
    KEYS: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        """Say whether nothing was entered in this row."""
        return not any(_typed(getattr(self, key).data) for key in self.KEYS)

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


DAYS = choices([(day.value, label) for day, label in WEEKDAY_LABELS.items()])
PERIODS = choices([("all_year", _l("All year")), ("term_time", _l("Term time only")),
                   ("school_holidays", _l("School holidays only"))])
#: How often a session runs, as a provider says it; each maps to a ``recurrence.Rule``.
HOW_OFTEN = choices([
    ("weekly", _l("Every week")),
    ("every_n", _l("Every 2 weeks or more")),
    ("monthly_day", _l("Once a month, on a weekday (for example, the first Saturday)")),
    ("monthly_date", _l("Once a month, on a date (for example, the 15th)")),
    ("dates", _l("On dates I list"))])
WHICH_WEEK = choices([("", _l("Choose which one")), ("1", _l("First")), ("2", _l("Second")), ("3", _l("Third")),
                      ("4", _l("Fourth")), ("-1", _l("Last"))])
#: An empty ``DayMonthYear`` reads as three empty boxes.
_NO_DATE = ("", "", "")


class ScheduleRow(_Row):
    """A regular session: the days it runs on (tick several), its times and how often."""

    KEYS = ("days", "opens", "closes", "notes", "dates", "monthday")
    days = SelectMultipleField(_l("Days"), widget=GovCheckboxesInput(), choices=DAYS, validators=[Optional()],
                               description=_l("Tick every day it runs at these times"))
    opens = StringField(_l("From"), widget=GovTextInput(), validators=[Optional(), Length(max=40)],
                        description=_l("For example, 9am, 5:30pm or 17:30"))
    closes = StringField(_l("To"), widget=GovTextInput(), validators=[Optional(), CLOSES],
                         description=_l("For example, 4pm"))
    how_often = RadioField(_l("How often"), widget=GovRadioInput(), choices=HOW_OFTEN, default="weekly",
                           validators=[Optional()])
    interval = StringField(_l("How many weeks between sessions"), widget=GovTextInput(),
                           validators=[Optional(), Length(max=4)], description=_l("For example, 2 for every other week"))
    ordinal = SelectField(_l("Which one in the month"), widget=GovSelect(), choices=WHICH_WEEK, validate_choice=False,
                          validators=[Optional()])
    monthday = StringField(_l("Date in the month"), widget=GovTextInput(), validators=[Optional(), Length(max=4)],
                           description=_l("A number from 1 to 31. Months without that date are skipped."))
    dates = TextAreaField(_l("Dates"), widget=GovTextArea(), validators=[Optional(), Length(max=4000, message=_l(
        "Enter at most 60 dates. For a session that repeats, choose how often instead"))],
                          description=_l("One on each line, like 12/12/2026 or 12 December 2026"))
    period = SelectField(_l("When in the year"), widget=GovSelect(), choices=PERIODS, validators=[Optional()])
    valid_from = DayMonthYear(_l("First date (optional)"), widget=DateInput(), format="%d %m %Y",
                              validators=[Optional()],
                              description=_l("Needed for every 2 weeks or more: the date of a session"))
    valid_to = DayMonthYear(_l("Last date (optional)"), widget=DateInput(), format="%d %m %Y",
                            validators=[Optional()], description=_l("Leave blank if it carries on"))
    notes = StringField(_l("Notes (optional)"), widget=GovTextInput(),
                        validators=[Optional(), Length(max=limits.SESSION_NOTES)],
                        description=_l("For example, ages 8 to 14, or the venue"))

    remove = BooleanField(_l("Remove this session"), widget=GovCheckboxInput())

    def is_blank(self) -> bool:
        """Nothing typed or ticked (how often and the year period have defaults, so do not count), or removed."""
        return bool(self.remove.data) or (super().is_blank() and not self.valid_from.data
                                          and not self.valid_to.data)

    def validate_opens(self, field):
        """Read a start time as typed; a range typed in one box ("9-12", "9am to 3pm") fills both."""
        text = (field.data or "").strip()
        if text and not (self.closes.data or "").strip() and re.search(r"\d\s*[-–]|\s(to|till|until)\s", text):
            try:
                start, end = parse_times(text)
            except TimeError as error:
                raise ValidationError(str(error)) from None
            field.data, self.closes.data = start.strftime("%H:%M"), end.strftime("%H:%M")
            return
        OPENS(self, field)

    def validate_closes(self, field):
        """A session closes after it opens."""
        if self.is_blank() or not field.data or not self.opens.data or self.opens.errors or field.errors:
            return
        try:
            opens = time_text(self.opens.data)
        except TimeError:
            return
        if time_text(field.data) <= opens:
            raise ValidationError(_("The closing time must be after the opening time"))

    def validate_valid_to(self, field):
        """A session's last date is on or after its first."""
        if field.data and self.valid_from.data and field.data < self.valid_from.data:
            raise ValidationError(_("The last date must be the same as or after the first date"))

    def check_row(self) -> None:
        """What each way of saying how often needs, each message by its own box."""
        how = self.how_often.data or "weekly"
        if how in ("weekly", "every_n", "monthly_day") and not self.days.data and \
                not (self.notes.data or "").strip():
            self._require(self.days, _("Tick the days it runs, or explain when it runs in the notes"))
        if how == "every_n":
            number = _whole(self.interval.data)
            if number is None or not 2 <= number <= recurrence.MAX_INTERVAL:
                self._fail(self.interval, _("Enter the number of weeks between sessions, from 2 to %(most)s",
                                            most=recurrence.MAX_INTERVAL))
            if not self.valid_from.data and not self.valid_from.errors:
                self._fail(self.valid_from, _("Enter the date of one session, so families know which weeks"))
        if how == "monthly_day" and self.ordinal.data not in {str(o) for o in recurrence.ORDINALS}:
            self._fail(self.ordinal, _("Choose which one in the month: first, second, third, fourth or last"))
        if how == "monthly_date":
            number = _whole(self.monthday.data)
            if number is None or not 1 <= number <= 31:
                self._fail(self.monthday, _("Enter a date in the month, from 1 to 31"))
        if how == "dates":
            try:
                self.parsed_dates = when.parse_dates_typed(self.dates.data or "", _today())
            except when.DateError as error:
                self._fail(self.dates, str(error))

    @staticmethod
    def _fail(field, message) -> None:
        if not field.errors:
            field.errors = list(field.errors) + [message]

    def load(self, entry: dict) -> None:
        """Fill the row from a session in a listing's data."""
        rule = recurrence.Rule.from_data(entry)
        self.id.data = entry.get("id") or ""
        self.days.data = [day.value for day in rule.days]
        self.opens.data = rule.opens.strftime("%H:%M") if rule.opens else ""
        self.closes.data = rule.closes.strftime("%H:%M") if rule.closes else ""
        self.period.data, self.notes.data = rule.period.value, rule.notes
        self.valid_from.data, self.valid_to.data = rule.valid_from, rule.valid_to
        self.how_often.data = "weekly"
        if rule.freq == recurrence.ONCE:
            self.how_often.data = "dates"
            self.dates.data = "\n".join(day.strftime("%d/%m/%Y") for day in rule.dates)
        elif rule.freq == recurrence.MONTHLY and rule.monthday:
            self.how_often.data, self.monthday.data = "monthly_date", str(rule.monthday)
        elif rule.freq == recurrence.MONTHLY:
            self.how_often.data = "monthly_day"
            self.ordinal.data = str(rule.ordinals[0]) if rule.ordinals else ""
        elif rule.interval > 1:
            self.how_often.data, self.interval.data = "every_n", str(rule.interval)

    def dump(self) -> dict:
        """Return the session as a listing's data keeps it."""
        how = self.how_often.data or "weekly"
        freq = {"monthly_day": recurrence.MONTHLY, "monthly_date": recurrence.MONTHLY,
                "dates": recurrence.ONCE}.get(how, recurrence.WEEKLY)
        rule = recurrence.Rule(
            days=tuple(day for day in recurrence.DAYS if day.value in (self.days.data or []))
            if how != "monthly_date" and how != "dates" else (),
            opens=parse_time(self.opens.data) if (self.opens.data or "").strip() else None,
            closes=parse_time(self.closes.data) if (self.closes.data or "").strip() else None,
            period=SchedulePeriod(self.period.data or "all_year"),
            valid_from=self.valid_from.data if how != "dates" else None,
            valid_to=self.valid_to.data if how != "dates" else None,
            notes=clean(self.notes.data), freq=freq,
            interval=_whole(self.interval.data) or 1 if how == "every_n" else 1,
            ordinals=(int(self.ordinal.data),) if how == "monthly_day" else (),
            monthday=_whole(self.monthday.data) if how == "monthly_date" else None,
            dates=tuple(getattr(self, "parsed_dates", ())) if how == "dates" else ())
        return {"id": self.id.data or None, **rule.to_data()}


def _whole(text) -> int | None:
    """Read a whole number as typed ("2", " 15 "), or None."""
    text = str(text or "").strip()
    return int(text) if re.fullmatch(r"\d{1,3}", text) else None


def _today():
    """Today in the council's time zone (dates typed without a year are the next such date)."""
    return datetime.now(get_timezone()).date()


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
        if hasattr(field.unbound_field.args[0], "load"):
            field.append_entry().form.load(row)
        else:
            field.append_entry(row)
    for _index in range(extra):
        field.append_entry()
