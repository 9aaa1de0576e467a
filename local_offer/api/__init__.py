"""Open data: the Open Referral UK read API."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from local_offer.api import views  # noqa: E402,F401  (routes attach to bp)
