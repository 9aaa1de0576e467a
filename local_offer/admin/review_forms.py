"""Forms for the review queue: acting on many listings at once."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import BooleanField, HiddenField, RadioField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from local_offer.fields import choices
from local_offer.i18n import _l
from local_offer.review_queue import NOTE_MAX


class ChosenListings(SelectMultipleField):
    """The listings ticked: any values are read here; the service checks each exists (and how many)."""

    def pre_validate(self, form):
        """Accept any value (the queue changes between showing and sending); the service decides."""


class BulkReviewForm(FlaskForm):
    """Remind, mark checked, hide or extend the listings ticked (or every listing matching the filters)."""

    listing = ChosenListings(_l("Listings"), choices=[], validate_choice=False)
    all_matching = BooleanField(_l("Every listing matching the filters, not only the ones ticked"),
                                widget=GovCheckboxInput())
    state = HiddenField()
    organisation = HiddenField()
    action = RadioField(_l("What to do with them"), widget=GovRadioInput(), validators=[
        InputRequired(message=_l("Choose what to do"))], choices=choices([
            ("remind", _l("Remind the provider now")),
            ("checked", _l("Mark as checked")),
            ("hide", _l("Hide from families until checked")),
            ("extend", _l("Give more time"))]))
    how = RadioField(_l("How did you check them?"), widget=GovRadioInput(), validators=[Optional()],
                     choices=choices([("phone", _l("By phone")), ("email", _l("By email")),
                                      ("visit", _l("By a visit"))]))
    months = RadioField(_l("How much more time?"), widget=GovRadioInput(), validators=[Optional()],
                        choices=choices([("1", _l("1 month")), ("3", _l("3 months")), ("6", _l("6 months"))]))
    note = TextAreaField(_l("Note for the listing's history (optional)"), widget=GovTextArea(), validators=[
        Optional(), Length(max=NOTE_MAX, message=_l("Note must be %(max)s characters or fewer", max=NOTE_MAX))])
    submit = SubmitField(_l("Apply to the chosen listings"), widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        """Check each field, then what the chosen action needs: how it was checked, how much more time."""
        valid = super().validate(extra_validators)
        needs = [(self.action.data == "checked" and not self.how.data, self.how, _l("Choose how you checked them")),
                 (self.action.data == "extend" and not self.months.data, self.months,
                  _l("Choose how much more time to give")),
                 (not self.all_matching.data and not [value for value in self.listing.data or [] if value],
                  self.listing, _l("Tick the listings to change, or choose every listing matching the filters"))]
        for missing, field, message in needs:
            if missing:
                field.errors = [*field.errors, message]
                valid = False
        return valid
