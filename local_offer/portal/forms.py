"""The portal's forms, one per section of a listing, each reading and writing listing data.

Each section form knows how to fill itself from listing data (``load``) and
how to give back the fields it edits (``dump``), cleaned by the one sanitiser.
Repeating parts (venues, times, costs, people) are fixed sets of rows, so the
forms work without JavaScript: blank rows are ignored.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from local_offer import publishing
from local_offer.formats import WEB_ADDRESS
from local_offer.i18n import _, _l
from local_offer.sanitise import clean_text

TIME = Regexp(r"^([01]?\d|2[0-3])[:.][0-5]\d$", message=_l("Enter a time like 09:30 or 17:00"))
PHONE = Regexp(r"^[0-9 +()\-]{6,20}$", message=_l("Enter a phone number, like 01785 223121"))
WEB = Regexp(WEB_ADDRESS,
             message=_l("Enter a web address starting with https://"))


def _text(value) -> str:
    return clean_text(value or "")


def _line(value) -> str:
    """Clean a one-line field: line breaks become spaces."""
    return " ".join(clean_text(value or "").split())


def _money(value: str) -> str:
    """Read an amount of pounds as typed ("£4.50", "4,50")."""
    return value.strip().lstrip("£").strip().replace(",", ".")


def _time(value: str) -> str:
    """Write a time the one way ("9.30" -> "09:30")."""
    if not value:
        return ""
    hours, minutes = re.split(r"[:.]", value.strip())
    return f"{int(hours):02d}:{minutes}"


class SectionForm(FlaskForm):
    """A section of a listing, saved into the change being written."""

    #: The change this form was filled in against, and its version (see publishing.StaleEdit).
    revision = HiddenField()
    version = HiddenField()
    save = SubmitField(_l("Save and continue"), widget=GovSubmitInput())

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        return {}


class AboutForm(SectionForm):
    """Name, kind, what it is, categories."""

    name = StringField(_l("Listing name"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the name of the listing")),
        Length(max=255, message=_l("Name must be 255 characters or fewer"))],
        description=_l("What families will know it by, like 'Saturday Sharks swimming club'"))
    kind = RadioField(_l("What kind of listing is it?"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Choose what kind of listing it is"))], choices=[
        ("provider", _l("A provider, like a school, college, nursery or childminder")),
        ("activity", _l("An activity, like a club, sport, group or short break")),
        ("support_service", _l("A support service, like advice, therapy, health or social care"))])
    summary = TextAreaField(_l("Summary"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Enter a summary")),
        Length(max=300, message=_l("Summary must be 300 characters or fewer"))],
        description=_l("One or two sentences shown in search results"))
    description = TextAreaField(_l("Description"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Enter a description")),
        Length(max=publishing.DESCRIPTION_MAX, message=_l("Description must be 20,000 characters or fewer"))],
        description=_l("What happens, what it is like, and how it helps. Leave a blank line between "
                       "paragraphs; start lines with - for a list; **bold**; [link text](https://example.org)."))
    categories = SelectMultipleField(_l("Categories"), widget=GovCheckboxesInput(), choices=[], validators=[
        InputRequired(message=_l("Choose at least one category"))])
    ofsted_urn = StringField(_l("Ofsted unique reference number (optional)"), widget=GovTextInput(), validators=[
        Optional(), Regexp(r"^(SC|EY)?\d{6,8}$", message=_l("Enter the Ofsted URN, like 124356 or EY123456"))])
    sen_information_report_url = StringField(_l("SEN information report web address (schools, optional)"),
                                             widget=GovTextInput(), validators=[Optional(), Length(max=500), WEB])

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""
        for key in ("name", "kind", "summary", "description", "categories", "ofsted_urn",
                    "sen_information_report_url"):
            getattr(self, key).data = data.get(key)

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        return {"name": _line(self.name.data), "kind": self.kind.data, "summary": _text(self.summary.data),
                # Markdown stays as written (it is rendered through the allow-list when published).
                "description": (self.description.data or "").replace("\r\n", "\n").strip(),
                "categories": list(self.categories.data or []), "ofsted_urn": _text(self.ofsted_urn.data).upper(),
                "sen_information_report_url": (self.sen_information_report_url.data or "").strip()}


class WhoForm(SectionForm):
    """Ages, needs, eligibility, languages."""

    min_age = IntegerField(_l("Youngest age (optional)"), widget=GovTextInput(), validators=[
        Optional(), NumberRange(min=0, max=25, message=_l("Youngest age must be between 0 and 25"))])
    max_age = IntegerField(_l("Oldest age (optional)"), widget=GovTextInput(), validators=[
        Optional(), NumberRange(min=0, max=25, message=_l("Oldest age must be between 0 and 25"))])
    level = RadioField(_l("Who can use it?"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Choose who can use it"))], choices=[
        ("universal", _l("Anyone (universal)")),
        ("targeted", _l("Some children and young people, for example with a particular need (targeted)")),
        ("specialist", _l("Only with a referral or assessment (specialist)"))])
    eligibility = TextAreaField(_l("Who it is for (optional)"), widget=GovTextArea(), validators=[
        Optional(), Length(max=2000, message=_l("Who it is for must be 2,000 characters or fewer"))])
    needs = SelectMultipleField(_l("Needs it is set up to support (optional)"), widget=GovCheckboxesInput(),
                                choices=[], validators=[Optional()])
    languages = StringField(_l("Languages other than English (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=500)], description=_l("Separate them with commas, like Polish, British Sign Language"))

    def validate_max_age(self, field):
        """An age range must run from youngest to oldest."""
        if field.data is not None and self.min_age.data is not None and field.data < self.min_age.data:
            raise ValidationError(_("Oldest age must be the same as or more than the youngest age"))

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""
        for key in ("min_age", "max_age", "level", "eligibility", "needs"):
            getattr(self, key).data = data.get(key)
        self.languages.data = ", ".join(data.get("languages") or [])

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        languages = [_text(item) for item in (self.languages.data or "").split(",")]
        return {"min_age": self.min_age.data, "max_age": self.max_age.data, "level": self.level.data,
                "eligibility": _text(self.eligibility.data), "needs": list(self.needs.data or []),
                "languages": [item for item in languages if item]}


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
    name = StringField(_l("Venue name"), widget=GovTextInput(), validators=[Optional(), Length(max=255)])
    address_1 = StringField(_l("Address line 1"), widget=GovTextInput(), validators=[Optional(), Length(max=255)])
    address_2 = StringField(_l("Address line 2 (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=255)])
    town = StringField(_l("Town"), widget=GovTextInput(), validators=[Optional(), Length(max=120)])
    postcode = StringField(_l("Postcode"), widget=GovTextInput(), validators=[Optional(), Length(max=10)])
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
            self.postcode.data = publishing.resolve_postcode(self.postcode.data, masked=bool(self.mask_address.data)).label
        except publishing.PublishError as error:
            self.postcode.errors = list(self.postcode.errors) + [str(error)]


DAYS = [("", _l("Choose a day")), ("MO", _l("Monday")), ("TU", _l("Tuesday")), ("WE", _l("Wednesday")),
        ("TH", _l("Thursday")), ("FR", _l("Friday")), ("SA", _l("Saturday")), ("SU", _l("Sunday"))]
PERIODS = [("all_year", _l("All year")), ("term_time", _l("Term time only")),
           ("school_holidays", _l("School holidays only"))]


class ScheduleRow(_Row):
    """A regular session."""

    KEYS = ("day", "opens", "closes", "notes")
    day = SelectField(_l("Day"), widget=GovSelect(), choices=DAYS, validators=[Optional()])
    opens = StringField(_l("Opens"), widget=GovTextInput(), validators=[Optional(), TIME],
                        description=_l("For example, 09:30"))
    closes = StringField(_l("Closes"), widget=GovTextInput(), validators=[Optional(), TIME],
                         description=_l("For example, 17:00"))
    period = SelectField(_l("When in the year"), widget=GovSelect(), choices=PERIODS, validators=[Optional()])
    notes = StringField(_l("Notes (optional)"), widget=GovTextInput(), validators=[Optional(), Length(max=500)],
                        description=_l("For example, first Saturday of the month"))

    def validate_closes(self, field):
        """A session closes after it opens."""
        if self.is_blank() or not field.data or not self.opens.data or self.opens.errors or field.errors:
            return
        if _time(field.data) <= _time(self.opens.data):
            raise ValidationError(_("Closing time must be after the opening time"))

    def check_row(self) -> None:
        """A session needs a day, unless a note explains when it runs."""
        if not (self.notes.data or "").strip():
            self._require(self.day, _("Choose a day, or explain when it runs in the notes"))


class CostRow(_Row):
    """One price."""

    KEYS = ("option", "amount", "description")
    option = StringField(_l("What it is for"), widget=GovTextInput(), validators=[Optional(), Length(max=255)],
                         description=_l("For example, per session"))
    amount = StringField(_l("Amount in pounds"), widget=GovTextInput(), validators=[Optional(), Length(max=12)])
    description = StringField(_l("Details (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=255)])

    def check_row(self) -> None:
        """A cost has an amount or says in words what it is."""
        if not (self.description.data or "").strip():
            self._require(self.amount, _("Enter an amount, or describe the cost in the details"))

    def validate_amount(self, field):
        """An amount is money: a number of pounds, up to two decimal places."""
        try:
            value = Decimal(_money(field.data))
        except InvalidOperation as error:
            raise ValidationError(_("Enter an amount in pounds, like 4.50")) from error
        if not value.is_finite() or value < 0 or value > 99999 or value.as_tuple().exponent < -2:
            raise ValidationError(_("Enter an amount in pounds, like 4.50"))


class ContactRow(_Row):
    """A person or team to contact."""

    KEYS = ("name", "title", "phone", "email")
    name = StringField(_l("Name"), widget=GovTextInput(), validators=[Optional(), Length(max=255)])
    title = StringField(_l("Role (optional)"), widget=GovTextInput(), validators=[Optional(), Length(max=255)])
    phone = StringField(_l("Phone (optional)"), widget=GovTextInput(), validators=[Optional(), PHONE])
    email = StringField(_l("Email (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=254), Email(message=_l("Enter an email address like name@example.com"),
                                           check_deliverability=False)])
    public = BooleanField(_l("Show these details to families"), widget=GovCheckboxInput())

    def check_row(self) -> None:
        """A contact row needs a name or a role."""
        if not (self.title.data or "").strip():
            self._require(self.name, _("Enter the person's name or their role"))


def _rows(field) -> list:
    return [entry.form for entry in field.entries if not entry.form.is_blank()]


class WhenWhereForm(SectionForm):
    """How it is offered, where, and when."""

    delivery_methods = SelectMultipleField(_l("How is it offered?"), widget=GovCheckboxesInput(), choices=[
        ("venue", _l("At a venue")), ("online", _l("Online")), ("phone", _l("By phone")),
        ("home_visit", _l("At home (home visits)"))], validators=[
        InputRequired(message=_l("Choose how it is offered"))])
    in_area = RadioField(_l("Is it in the council's area?"), widget=GovRadioInput(), choices=[
        ("yes", _l("Yes")), ("no", _l("No, it is outside the area"))], validators=[
        InputRequired(message=_l("Say whether it is in the council's area"))])
    service_area = StringField(_l("Area it covers (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=120)], description=_l("For example, Stafford district, or County-wide"))
    locations = FieldList(FormField(LocationRow), min_entries=1)
    schedules = FieldList(FormField(ScheduleRow), min_entries=1)

    def validate_delivery_methods(self, field):
        """A service offered at a venue needs at least one venue."""
        if "venue" in (field.data or []) and not _rows(self.locations):
            raise ValidationError(_("Add a venue, or untick 'At a venue'"))

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""
        self.delivery_methods.data = data.get("delivery_methods") or []
        self.in_area.data = "yes" if data.get("in_area", True) else "no"
        self.service_area.data = data.get("service_area") or ""
        _fill(self.locations, data.get("locations") or [], extra=1)
        _fill(self.schedules, data.get("schedules") or [], extra=2)

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        locations = [{"id": row.id.data or None, "name": _text(row.name.data), "address_1": _text(row.address_1.data),
                      "address_2": _text(row.address_2.data), "town": _text(row.town.data),
                      "county": _text(row.county.data),
                      "postcode": row.postcode.data.strip().upper(), "mask_address": bool(row.mask_address.data)}
                     for row in _rows(self.locations)]
        schedules = [{"id": row.id.data or None, "day": row.day.data or "", "opens": _time(row.opens.data),
                      "closes": _time(row.closes.data), "period": row.period.data or "all_year",
                      "notes": _text(row.notes.data)} for row in _rows(self.schedules)]
        return {"delivery_methods": list(self.delivery_methods.data or []), "in_area": self.in_area.data == "yes",
                "service_area": _text(self.service_area.data), "locations": locations, "schedules": schedules}


class CostForm(SectionForm):
    """What it costs and which funding it takes."""

    is_free = RadioField(_l("Is it free?"), widget=GovRadioInput(), choices=[
        ("yes", _l("Yes, it is free")), ("no", _l("No, there is a cost"))], validators=[
        InputRequired(message=_l("Say whether it is free"))])
    costs = FieldList(FormField(CostRow), min_entries=1)
    funding = SelectMultipleField(_l("Funding and concessions (optional)"), widget=GovCheckboxesInput(), choices=[
        ("accepts_ehcp_funding", _l("Can be paid for through an EHC plan")),
        ("accepts_personal_budget", _l("Takes personal budgets")),
        ("accepts_direct_payments", _l("Takes direct payments")),
        ("free_carer_entry", _l("Free entry for a carer or personal assistant"))], validators=[Optional()])

    def validate_is_free(self, field):
        """Something that costs money says what it costs."""
        if field.data == "no" and not _rows(self.costs):
            raise ValidationError(_("Tell families what it costs, or choose 'Yes, it is free'"))

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""
        self.is_free.data = "yes" if data.get("is_free") else ("no" if data.get("costs") else None)
        self.funding.data = [key for key, _label in self.funding.choices if data.get(key)]
        _fill(self.costs, data.get("costs") or [], extra=1)

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        free = self.is_free.data == "yes"
        costs = [] if free else [{
            "id": row.id.data or None, "option": _text(row.option.data),
            "amount": f"{Decimal(_money(row.amount.data)):.2f}" if (row.amount.data or "").strip() else "",
            "description": _text(row.description.data)} for row in _rows(self.costs)]
        chosen = set(self.funding.data or [])
        return {"is_free": free, "costs": costs, **{key: key in chosen for key, _label in self.funding.choices}}


class AccessForm(SectionForm):
    """Accessibility features and how to get a place."""

    accessibility = SelectMultipleField(_l("Accessibility"), widget=GovCheckboxesInput(), choices=[],
                                        validators=[Optional()])
    access_routes = SelectMultipleField(_l("How do families get a place?"), widget=GovCheckboxesInput(), choices=[
        ("drop_in", _l("Just turn up (drop in)")), ("booking", _l("Book a place")),
        ("referral", _l("Referral by a professional")), ("membership", _l("Become a member"))], validators=[
        InputRequired(message=_l("Choose how families get a place"))])
    how_to_access = TextAreaField(_l("How to get a place"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Tell families how to get a place")),
        Length(max=2000, message=_l("How to get a place must be 2,000 characters or fewer"))],
        description=_l("Who to contact, what happens next, and how places are decided"))
    #: Filled per request with one details box per accessibility feature (see ``details_field``).
    details: dict[str, str]

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""
        self.accessibility.data = [item["code"] for item in data.get("accessibility") or []]
        self.details = {item["code"]: item.get("details", "") for item in data.get("accessibility") or []}
        self.access_routes.data = data.get("access_routes") or []
        self.how_to_access.data = data.get("how_to_access") or ""

    def read_details(self, formdata) -> None:
        """Read the details boxes from the submitted form, cleaned and bounded."""
        self.details = {}
        for code, _label in self.accessibility.choices:
            value = _text(formdata.get(f"details-{code}", ""))
            if value:
                self.details[code] = value[:500]

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        return {"accessibility": [{"code": code, "details": self.details.get(code, "")}
                                  for code in self.accessibility.data or []],
                "access_routes": list(self.access_routes.data or []), "how_to_access": _text(self.how_to_access.data)}


class ContactsForm(SectionForm):
    """How families get in touch."""

    website = StringField(_l("Website (optional)"), widget=GovTextInput(), validators=[Optional(), Length(max=500),
                                                                                      WEB])
    email = StringField(_l("Email address (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=254), Email(message=_l("Enter an email address like name@example.com"),
                                           check_deliverability=False)])
    phone = StringField(_l("Phone number (optional)"), widget=GovTextInput(), validators=[Optional(), PHONE])
    contacts = FieldList(FormField(ContactRow), min_entries=1)

    def validate(self, extra_validators=None) -> bool:
        """Check each field, then that families have at least one way to get in touch."""
        valid = super().validate(extra_validators)
        if not any((f.data or "").strip() for f in (self.website, self.email, self.phone)) \
                and not any(row.public.data for row in _rows(self.contacts)):
            self.website.errors = list(self.website.errors) + [
                _("Give families at least one way to get in touch: a website, email or phone")]
            self._errors = None
            return False
        return valid

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""
        for key in ("website", "email", "phone"):
            getattr(self, key).data = data.get(key) or ""
        _fill(self.contacts, data.get("contacts") or [], extra=1)

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        contacts = [{"id": row.id.data or None, "name": _text(row.name.data), "title": _text(row.title.data),
                     "phone": _text(row.phone.data), "email": (row.email.data or "").strip(),
                     "public": bool(row.public.data)} for row in _rows(self.contacts)]
        return {"website": (self.website.data or "").strip(), "email": (self.email.data or "").strip(),
                "phone": _text(self.phone.data), "contacts": contacts}


def _fill(field: FieldList, rows: list[dict], extra: int) -> None:
    """Put existing rows in a repeating field, with ``extra`` blank ones to add more."""
    while field.entries:
        field.pop_entry()
    for row in rows:
        field.append_entry(row)
    for _index in range(extra):
        field.append_entry()


FORMS = {"about": AboutForm, "who": WhoForm, "when_where": WhenWhereForm, "cost": CostForm,
         "access": AccessForm, "contacts": ContactsForm}


class NewListingForm(FlaskForm):
    """Start a listing: its name and kind, and whose it is."""

    organisation = SelectField(_l("Organisation"), widget=GovSelect(), choices=[], validators=[
        InputRequired(message=_l("Choose the organisation"))])
    name = AboutForm.name
    kind = AboutForm.kind
    submit = SubmitField(_l("Start"), widget=GovSubmitInput())


class SubmitForm(FlaskForm):
    """Send a change for checking, with a note for the coordinator."""

    revision = HiddenField()
    version = HiddenField()
    note = TextAreaField(_l("Anything the Local Offer team should know? (optional)"), widget=GovTextArea(),
                         validators=[Optional(), Length(max=2000, message=_l("Note must be 2,000 characters or fewer"))])
    submit = SubmitField(_l("Send for checking"), widget=GovSubmitInput())


class StatusForm(FlaskForm):
    """Ask to close temporarily, archive, or reopen."""

    status = RadioField(_l("What would you like to do?"), widget=GovRadioInput(), choices=[], validators=[
        InputRequired(message=_l("Choose what you would like to do"))])
    note = TextAreaField(_l("Tell families and the Local Offer team why, and until when"), widget=GovTextArea(),
                         validators=[InputRequired(message=_l("Say why")),
                                     Length(max=2000, message=_l("Reason must be 2,000 characters or fewer"))])
    submit = SubmitField(_l("Send request"), widget=GovSubmitInput())


class ConfirmForm(FlaskForm):
    """Confirm a listing is still accurate (a button with CSRF)."""

    submit = SubmitField(_l("Confirm it is still accurate"), widget=GovSubmitInput())


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
