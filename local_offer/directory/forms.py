"""The search form (a GET form over the query string, so every result page can be bookmarked) and the alert form."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import StringField
from wtforms.validators import Length, Optional

from local_offer.fields import email_field
from local_offer.i18n import _l


class SearchForm(FlaskForm):
    """What a family is looking for, and where."""

    class Meta:
        """A search changes nothing, so it needs no CSRF token and reads ``request.args``."""

        csrf = False

    q = StringField(
        _l("What are you looking for?"),
        widget=GovTextInput(),
        validators=[Optional(), Length(max=200, message=_l("Search words must be 200 characters or fewer"))],
        description=_l("For example, autism swimming, holiday club or speech and language therapy"),
    )
    where = StringField(
        _l("Where?"),
        widget=GovTextInput(),
        validators=[Optional(), Length(max=100, message=_l("The place must be 100 characters or fewer"))],
        description=_l("A postcode or a town, for example ST16 2AB or Leek"),
    )


class AlertForm(FlaskForm):
    """The address a search's new results are emailed to (after it confirms)."""

    email = email_field(_l("Email address"))
