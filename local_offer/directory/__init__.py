"""The public directory: home, search results, category pages and listing pages."""

from flask import Blueprint

bp = Blueprint("directory", __name__)

from local_offer.directory import views  # noqa: E402,F401  (routes attach to bp)
