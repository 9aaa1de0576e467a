"""Information pages rendered from the Markdown files in ``content/pages/``."""

from flask import Blueprint

bp = Blueprint("pages", __name__, url_prefix="/information")

from local_offer.pages import views  # noqa: E402,F401  (routes attach to bp)
