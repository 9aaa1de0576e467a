"""Coordinators' and administrators' pages: people, requests to join, synonyms."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from local_offer.admin import views  # noqa: E402,F401  (routes attach to bp)
