"""Site-wide pieces: the theme stylesheet, favicon, language switcher and template context (health checks: health.py)."""

from __future__ import annotations

import hashlib
from datetime import date

from flask import Blueprint, Flask, abort, current_app, g, make_response, redirect, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from local_offer import users
from local_offer.auth import public
from local_offer import theme
from local_offer.extensions import db
from local_offer.i18n import LANGUAGE_COOKIE, as_written, direction, ltr, text_attributes
from local_offer.security import safe_next

bp = Blueprint("site", __name__)

ONE_YEAR = 60 * 60 * 24 * 365


@bp.get("/theme.css")
@public
def theme_css():
    """Serve the council's colours as CSS custom properties.

    Asked for with its current version (``?v=``, as pages link it), it is kept for a year.
    """
    css = theme.stylesheet(current_app.config)
    response = make_response(css)
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    response.set_etag(hashlib.sha256(css.encode()).hexdigest()[:16])
    response.cache_control.public = True
    if request.args.get("v") == theme_version():
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
    else:
        response.cache_control.max_age = 3600
    return response.make_conditional(request)


def theme_version() -> str:
    """Return a short hash of the theme stylesheet, for its address in pages."""
    return hashlib.sha256(theme.stylesheet(current_app.config).encode()).hexdigest()[:12]


@bp.get("/favicon.svg")
@public
def favicon():
    """Serve a favicon in the council's brand colour with its initial."""
    initial = (current_app.config["COUNCIL_NAME"][:1] or "L").upper()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
        f'<rect width="32" height="32" rx="6" fill="{current_app.config["BRAND_COLOUR"]}"/>'
        '<text x="16" y="23" font-family="Arial,sans-serif" font-size="20" font-weight="700" '
        f'text-anchor="middle" fill="#ffffff">{Markup.escape(initial)}</text></svg>'
    )
    response = make_response(svg)
    response.headers["Content-Type"] = "image/svg+xml"
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/favicon.ico")
@public
def favicon_ico():
    """Send browsers that ask for the old icon address to the SVG one."""
    return redirect(url_for("site.favicon"), code=301)


@bp.get("/language/<code>")
@public
def choose_language(code: str):
    """Remember the chosen language and go back to the page the person was on."""
    languages = current_app.config["LANGUAGES"]
    if code not in languages:
        abort(404)
    if current_user.is_authenticated:
        users.remember_language(current_user, code)
    response = redirect(safe_next(request.args.get("next")))
    response.set_cookie(
        LANGUAGE_COOKIE,
        code,
        max_age=ONE_YEAR,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def _language_links() -> list[dict]:
    """Return the switcher's links, each back to the current page in another language."""
    here = request.full_path if request.query_string else request.path
    current = str(get_locale())
    return [
        {
            "code": code,
            "name": name,
            "current": code == current,
            "href": url_for("site.choose_language", code=code, next=here),
        }
        for code, name in current_app.config["LANGUAGES"].items()
    ]


def _site_context() -> dict:
    """Give every template the council's details, the language switcher and the demo flag."""
    from local_offer.models import Organisation

    config = current_app.config
    if "lo_has_demo" not in g:
        g.lo_has_demo = False
        try:
            g.lo_has_demo = db.session.execute(
                select(Organisation.id).where(Organisation.is_demo.is_(True)).limit(1)
            ).first() is not None
        except Exception:  # the database may not be migrated yet on an error page
            db.session.rollback()
    has_demo = g.lo_has_demo
    return {
        "council": {
            "name": config["COUNCIL_NAME"],
            "service_name": config["SERVICE_NAME"],
            "website": config["COUNCIL_WEBSITE"],
            "email": config["COUNCIL_EMAIL"],
            "phone": config["COUNCIL_PHONE"],
            "address": config["COUNCIL_ADDRESS"],
            "brand_colour": config["BRAND_COLOUR"],
        },
        "language_links": _language_links() if request else [],
        "current_locale": str(get_locale()),
        "text_direction": direction(str(get_locale())),
        # GOV.UK's page template writes lang="{htmlLang}" and has no dir: the direction rides in on it.
        "html_lang_and_dir": Markup('%s" dir="%s') % (str(get_locale()).replace("_", "-"),
                                                       direction(str(get_locale()))),
        "has_demo_data": has_demo,
        "current_year": date.today().year,
    }


def _vary_on_language(response):
    """A page's language comes from the cookie or the browser's preference: shared caches must keep them apart."""
    if response.mimetype == "text/html":
        response.vary.update(("Cookie", "Accept-Language"))
    return response


def init_app(app: Flask) -> None:
    """Register the site blueprint and the template context."""
    app.register_blueprint(bp)
    app.after_request(_vary_on_language)
    app.context_processor(_site_context)
    app.add_template_global(theme_version)
    app.add_template_global(text_attributes)
    app.add_template_global(as_written)
    app.add_template_global(ltr)
