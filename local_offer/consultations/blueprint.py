"""The blueprint every consultation page belongs to: "Have your say" for everyone, and the coordinators' pages."""

from __future__ import annotations

from flask import Blueprint, request

from local_offer.auth import second_factor_first

bp = Blueprint("consultations", __name__)


@bp.before_request
def coordinators_second_factor():
    """Coordinators' pages need a second factor when the council requires one; public pages never do."""
    if request.path.startswith("/coordinators/"):
        return second_factor_first()
    return None
