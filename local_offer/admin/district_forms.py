"""The districts form: a district's name and the outward codes it covers."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length

from local_offer.i18n import _l


class DistrictForm(FlaskForm):
    """One district: what commissioners call it, and the first part of the postcodes in it."""

    name = StringField(_l("Name"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter the district's name")),
        Length(max=120, message=_l("The name must be 120 characters or fewer"))],
        description=_l("As commissioners and families know it, for example Staffordshire Moorlands"))
    codes = StringField(_l("Outward codes"), widget=GovTextInput(), validators=[
        InputRequired(message=_l("Enter at least one outward code, like ST10")),
        Length(max=1000, message=_l("Enter 1,000 characters or fewer"))],
        description=_l("The first part of the postcodes in the district, separated by commas, for example "
                       "ST10, ST13. Each outward code can be in one district only."))
    submit = SubmitField(_l("Save"), widget=GovSubmitInput())
