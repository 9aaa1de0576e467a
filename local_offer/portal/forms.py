"""The portal's forms, one per section of a listing, each reading and writing listing data.

Each section form knows how to fill itself from listing data (``load``) and
how to give back the fields it edits (``dump``), cleaned by the one sanitiser.
Repeating parts (venues, times, costs, people) are the rows in ``rows.py``.
"""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    FieldList,
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

from local_offer.fields import choices
from local_offer.formats import WEB_ADDRESS
from local_offer.i18n import _, _l
from local_offer.listings import limits, plain_text
from local_offer.portal.rows import (
    PHONE,
    ContactRow,
    CostRow,
    LocationRow,
    ScheduleRow,
    clean,
    fill,
    filled_rows,
    money,
)
from local_offer.sanitise import clean_text

WEB = Regexp(WEB_ADDRESS, message=_l("Enter a web address starting with https://"))


def _line(value) -> str:
    """Clean a one-line field: line breaks become spaces."""
    return " ".join(clean_text(value or "").split())


class SectionForm(FlaskForm):
    """A section of a listing, saved into the change being written."""

    #: The change this form was filled in against, and its version (see listings.workflow.StaleEdit).
    revision = HiddenField()
    version = HiddenField()
    save = SubmitField(_l("Save and continue"), widget=GovSubmitInput())
    #: Save, then send the whole change for checking at once (when every section is complete).
    save_and_send = SubmitField(_l("Save and send for checking"), widget=GovSubmitInput())

    #: What the section held before this form was sent (set by the view), so text left alone stays as stored.
    before: dict | None = None
    #: Repeating rows, and how each is named in its errors ("Cost 2: Enter an amount..."), as on the page.
    ROW_NAMES = {"locations": "Venue %(num)s", "schedules": "Session %(num)s", "costs": "Cost %(num)s",
                 "contacts": "Contact %(num)s"}

    def validate(self, extra_validators=None) -> bool:
        """Check every field; an error in a repeating row names the row, so the summary says which one."""
        valid = super().validate(extra_validators)
        self.name_row_errors()
        return valid

    def name_row_errors(self) -> None:
        """Begin each error inside a repeating row with the row's name ("Session 2: ..."), once."""
        for name, words in self.ROW_NAMES.items():
            rows = getattr(self, name, None)
            for number, entry in enumerate(rows.entries if rows is not None else [], 1):
                row_name = _(words, num=number)
                for field in entry.form:
                    if isinstance(field.errors, list) and field.errors:
                        field.errors = [error if str(error).startswith(row_name + ":") else f"{row_name}: {error}"
                                        for error in field.errors]
                entry.form._errors = None
            if rows is not None and rows.errors:
                rows.errors = [entry.errors for entry in rows.entries]
        self._errors = None

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        return {}


class AboutForm(SectionForm):
    """Name, kind, what it is, categories."""

    name = StringField(_l("Listing name"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the name of the listing")),
        Length(max=limits.NAME, message=_l("Name must be 255 characters or fewer"))],
        description=_l("What families will know it by, like 'Saturday Sharks swimming club'"))
    kind = RadioField(_l("What kind of listing is it?"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Choose what kind of listing it is"))], choices=choices([
        ("provider", _l("A provider, like a school, college, nursery or childminder")),
        ("activity", _l("An activity, like a club, sport, group or short break")),
        ("support_service", _l("A support service, like advice, therapy, health or social care"))]))
    summary = TextAreaField(_l("Summary"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Enter a summary")),
        Length(max=limits.SUMMARY, message=_l("Summary must be 300 characters or fewer"))],
        description=_l("One or two sentences shown in search results"))
    description = TextAreaField(_l("Description"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Enter a description")),
        Length(max=limits.DESCRIPTION, message=_l("Description must be 20,000 characters or fewer"))],
        description=_l("What happens, what it is like, and how it helps. Leave a blank line between paragraphs. "
                       "Start a line with - for a list, or with 1. for a numbered list. Web addresses become links."))
    categories = SelectMultipleField(_l("Categories"), widget=GovCheckboxesInput(), choices=[], validators=[
        InputRequired(message=_l("Choose at least one category"))])
    ofsted_urn = StringField(_l("Ofsted unique reference number (optional)"), widget=GovTextInput(), validators=[
        Optional(), Regexp(r"^(SC|EY)?\d{6,8}$", message=_l("Enter the Ofsted URN, like 124356 or EY123456"))])
    sen_information_report_url = StringField(_l("SEN information report web address (schools, optional)"),
                                             widget=GovTextInput(),
                                             validators=[Optional(), Length(max=limits.WEBSITE), WEB])

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""
        for key in ("name", "kind", "summary", "categories", "ofsted_urn", "sen_information_report_url"):
            getattr(self, key).data = data.get(key)
        # Shown as plain text: paragraphs and lists as typed, never Markdown's marks.
        self.description.data = plain_text.to_plain(limits.description_text(data))

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        return {"name": _line(self.name.data), "kind": self.kind.data, "summary": clean(self.summary.data),
                "description": self._description(),
                "categories": list(self.categories.data or []), "ofsted_urn": clean(self.ofsted_urn.data).upper(),
                "sen_information_report_url": (self.sen_information_report_url.data or "").strip()}


    def validate_description(self, field):
        """A description has words in it, not only spaces and blank lines."""
        if not plain_text.normalise(field.data):
            raise ValidationError(_("Enter a description"))

    def _description(self) -> str:
        """Return the description as Markdown: the stored one when the text is unchanged, else the text's own."""
        before = limits.description_text(self.before) if self.before else None
        if before is not None and plain_text.to_plain(before) == plain_text.normalise(self.description.data):
            return (self.before or {}).get("description") or before
        return plain_text.to_markdown_keeping(self.description.data, before)


class WhoForm(SectionForm):
    """Ages, needs, eligibility, languages."""

    min_age = IntegerField(_l("Youngest age (optional)"), widget=GovTextInput(), validators=[
        Optional(), NumberRange(min=0, max=25, message=_l("Youngest age must be between 0 and 25"))])
    max_age = IntegerField(_l("Oldest age (optional)"), widget=GovTextInput(), validators=[
        Optional(), NumberRange(min=0, max=25, message=_l("Oldest age must be between 0 and 25"))])
    level = RadioField(_l("Who can use it?"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Choose who can use it"))], choices=choices([
        ("universal", _l("Anyone (universal)")),
        ("targeted", _l("Some children and young people, for example with a particular need (targeted)")),
        ("specialist", _l("Only with a referral or assessment (specialist)"))]))
    eligibility = TextAreaField(_l("Who it is for (optional)"), widget=GovTextArea(), validators=[
        Optional(), Length(max=limits.ELIGIBILITY, message=_l("Who it is for must be 2,000 characters or fewer"))])
    needs = SelectMultipleField(_l("Needs it is set up to support (optional)"), widget=GovCheckboxesInput(),
                                choices=[], validators=[Optional()])
    languages = StringField(_l("Languages other than English (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.LANGUAGES)],
        description=_l("Separate them with commas, like Polish, British Sign Language"))

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
        languages = [clean(item) for item in (self.languages.data or "").split(",")]
        return {"min_age": self.min_age.data, "max_age": self.max_age.data, "level": self.level.data,
                "eligibility": clean(self.eligibility.data), "needs": list(self.needs.data or []),
                "languages": [item for item in languages if item]}


class WhenWhereForm(SectionForm):
    """How it is offered, where, and when."""

    delivery_methods = SelectMultipleField(_l("How is it offered?"), widget=GovCheckboxesInput(), choices=choices([
        ("venue", _l("At a venue")), ("online", _l("Online")), ("phone", _l("By phone")),
        ("home_visit", _l("At home (home visits)"))]), validators=[
        InputRequired(message=_l("Choose how it is offered"))])
    in_area = RadioField(_l("Is it in the council's area?"), widget=GovRadioInput(), choices=choices([
        ("yes", _l("Yes")), ("no", _l("No, it is outside the area"))]), validators=[
        InputRequired(message=_l("Say whether it is in the council's area"))])
    service_area = StringField(_l("Area it covers (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.SERVICE_AREA)], description=_l("For example, Stafford district, or County-wide"))
    locations = FieldList(FormField(LocationRow), min_entries=1)
    schedules = FieldList(FormField(ScheduleRow), min_entries=1, max_entries=limits.COUNTS["schedules"])
    #: "Add another session": the page again with one more blank session, nothing saved (works without JavaScript).
    add_session = SubmitField(_l("Add another session"), widget=GovSubmitInput())

    def validate_delivery_methods(self, field):
        """A service offered at a venue needs at least one venue."""
        if "venue" in (field.data or []) and not filled_rows(self.locations):
            raise ValidationError(_("Add a venue, or untick 'At a venue'"))

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""
        self.delivery_methods.data = data.get("delivery_methods") or []
        self.in_area.data = "yes" if data.get("in_area", True) else "no"
        self.service_area.data = data.get("service_area") or ""
        fill(self.locations, data.get("locations") or [], extra=1)
        fill(self.schedules, data.get("schedules") or [], extra=0 if data.get("schedules") else 1)

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        locations = [{"id": row.id.data or None, "name": clean(row.name.data), "address_1": clean(row.address_1.data),
                      "address_2": clean(row.address_2.data), "town": clean(row.town.data),
                      "county": clean(row.county.data),
                      "postcode": row.postcode.data.strip().upper(), "mask_address": bool(row.mask_address.data)}
                     for row in filled_rows(self.locations)]
        schedules = [row.dump() for row in filled_rows(self.schedules)]
        return {"delivery_methods": list(self.delivery_methods.data or []), "in_area": self.in_area.data == "yes",
                "service_area": clean(self.service_area.data), "locations": locations, "schedules": schedules}


class CostForm(SectionForm):
    """What it costs and which funding it takes."""

    is_free = RadioField(_l("Is it free?"), widget=GovRadioInput(), choices=choices([
        ("yes", _l("Yes, it is free")), ("no", _l("No, there is a cost"))]), validators=[
        InputRequired(message=_l("Say whether it is free"))])
    costs = FieldList(FormField(CostRow), min_entries=1)
    funding = SelectMultipleField(_l("Funding and concessions (optional)"), widget=GovCheckboxesInput(), choices=choices([
        ("accepts_ehcp_funding", _l("Can be paid for through an EHC plan")),
        ("accepts_personal_budget", _l("Takes personal budgets")),
        ("accepts_direct_payments", _l("Takes direct payments")),
        ("free_carer_entry", _l("Free entry for a carer or personal assistant"))]), validators=[Optional()])

    def validate_is_free(self, field):
        """Something that costs money says what it costs."""
        if field.data == "no" and not filled_rows(self.costs):
            raise ValidationError(_("Tell families what it costs, or choose 'Yes, it is free'"))

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""
        self.is_free.data = "yes" if data.get("is_free") else ("no" if data.get("costs") else None)
        self.funding.data = [choice.value for choice in self.funding.choices if data.get(choice.value)]
        fill(self.costs, data.get("costs") or [], extra=1)

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        free = self.is_free.data == "yes"
        costs = [] if free else [{
            "id": row.id.data or None, "option": clean(row.option.data),
            "amount": f"{Decimal(money(row.amount.data)):.2f}" if (row.amount.data or "").strip() else "",
            "description": clean(row.description.data)} for row in filled_rows(self.costs)]
        chosen = set(self.funding.data or [])
        return {"is_free": free, "costs": costs, **{choice.value: choice.value in chosen for choice in self.funding.choices}}


class AccessForm(SectionForm):
    """Accessibility features and how to get a place."""

    accessibility = SelectMultipleField(_l("Accessibility"), widget=GovCheckboxesInput(), choices=[],
                                        validators=[Optional()])
    access_routes = SelectMultipleField(_l("How do families get a place?"), widget=GovCheckboxesInput(), choices=choices([
        ("drop_in", _l("Just turn up (drop in)")), ("booking", _l("Book a place")),
        ("referral", _l("Referral by a professional")), ("membership", _l("Become a member"))]), validators=[
        InputRequired(message=_l("Choose how families get a place"))])
    how_to_access = TextAreaField(_l("How to get a place"), widget=GovTextArea(), validators=[
        InputRequired(message=_l("Tell families how to get a place")),
        Length(max=limits.HOW_TO_ACCESS, message=_l("How to get a place must be 2,000 characters or fewer"))],
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
        for code in (choice.value for choice in self.accessibility.choices):
            value = clean(formdata.get(f"details-{code}", ""))
            if value:
                self.details[code] = value[:limits.FEATURE_DETAILS]

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        return {"accessibility": [{"code": code, "details": self.details.get(code, "")}
                                  for code in self.accessibility.data or []],
                "access_routes": list(self.access_routes.data or []), "how_to_access": clean(self.how_to_access.data)}


class ContactsForm(SectionForm):
    """How families get in touch."""

    website = StringField(_l("Website (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.WEBSITE), WEB])
    email = StringField(_l("Email address (optional)"), widget=GovTextInput(), validators=[
        Optional(), Length(max=limits.EMAIL), Email(message=_l("Enter an email address like name@example.com"),
                                           check_deliverability=False)])
    phone = StringField(_l("Phone number (optional)"), widget=GovTextInput(), validators=[Optional(), PHONE])
    contacts = FieldList(FormField(ContactRow), min_entries=1)

    def validate(self, extra_validators=None) -> bool:
        """Check each field, then that families have at least one way to get in touch."""
        valid = super().validate(extra_validators)
        if not any((f.data or "").strip() for f in (self.website, self.email, self.phone)) \
                and not any(row.public.data for row in filled_rows(self.contacts)):
            self.website.errors = list(self.website.errors) + [
                _("Give families at least one way to get in touch: a website, email or phone")]
            self._errors = None
            return False
        return valid

    def load(self, data: dict) -> None:
        """Fill the form from listing data."""
        for key in ("website", "email", "phone"):
            getattr(self, key).data = data.get(key) or ""
        fill(self.contacts, data.get("contacts") or [], extra=1)

    def dump(self) -> dict:
        """Return the listing data fields this form edits."""
        contacts = [{"id": row.id.data or None, "name": clean(row.name.data), "title": clean(row.title.data),
                     "phone": clean(row.phone.data), "email": (row.email.data or "").strip(),
                     "public": bool(row.public.data)} for row in filled_rows(self.contacts)]
        return {"website": (self.website.data or "").strip(), "email": (self.email.data or "").strip(),
                "phone": clean(self.phone.data), "contacts": contacts}


FORMS = {"about": AboutForm, "who": WhoForm, "when_where": WhenWhereForm, "cost": CostForm,
         "access": AccessForm, "contacts": ContactsForm}


class NewListingForm(FlaskForm):
    """Start a listing: its name and kind, and whose it is."""

    organisation = SelectField(_l("Organisation"), widget=GovSelect(), choices=[], validators=[
        InputRequired(message=_l("Choose the organisation"))])
    name = AboutForm.name
    kind = AboutForm.kind
    submit = SubmitField(_l("Start"), widget=GovSubmitInput())


class CopyListingForm(FlaskForm):
    """Start a listing as a copy of one of the person's own, under a new name."""

    source = RadioField(_l("Which listing do you want to copy?"), widget=GovRadioInput(), choices=[],
                        validate_choice=False, validators=[InputRequired(message=_l("Choose the listing to copy"))])
    name = StringField(_l("Name of the new listing"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the name of the new listing")),
        Length(max=limits.NAME, message=_l("Name must be 255 characters or fewer"))],
        description=_l("What families will know it by. You can change anything else before you send it."))
    submit = SubmitField(_l("Copy it"), widget=GovSubmitInput())

    def validate_source(self, field):
        """Only one of the person's own listings may be copied."""
        if field.data not in [choice.value for choice in field.choices]:
            raise ValidationError(_("Choose the listing to copy"))

    def validate_name(self, field):
        """A name is words, not only spaces or marks the sanitiser removes."""
        if not _line(field.data):
            raise ValidationError(_("Enter the name of the new listing"))


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
