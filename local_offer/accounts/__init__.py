"""Signing in and out, passwords, invitations and requests to join."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/account")

from local_offer.accounts import views  # noqa: E402,F401  (routes attach to bp)
