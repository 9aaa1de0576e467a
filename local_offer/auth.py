"""Who may use which page: one decorator, whose mark the role test reads for every route."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_required

from local_offer.models import Role


def requires(role: Role):
    """Allow a view only to signed-in accounts with at least ``role``; others get 403."""
    def decorate(view):
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        guarded.required_role = role
        return guarded
    return decorate


def signed_in(view):
    """Allow a view to any signed-in account (their own account pages)."""
    guarded = login_required(view)
    guarded.required_role = Role.PROVIDER
    return guarded


def public(view):
    """Mark a view as open to everyone (the role test checks every route is marked)."""
    view.public = True
    return view


def second_factor_first():
    """Before staff pages: send someone to set up a second factor first, when the council requires one.

    Registered with ``before_request`` on every blueprint of signed-in work (admin, portal, moderation).
    """
    from local_offer.i18n import _
    from local_offer.users import needs_two_factor_setup

    if current_user.is_authenticated and needs_two_factor_setup(current_user):
        flash(_("Your council requires a second factor. Turn it on to continue."))
        return redirect(url_for("accounts.two_factor"))
    return None
