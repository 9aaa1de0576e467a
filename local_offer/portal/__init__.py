"""The provider portal: providers keep their own listings current; every change waits for a coordinator."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")

from local_offer.portal import views  # noqa: E402,F401  (routes attach to bp)
