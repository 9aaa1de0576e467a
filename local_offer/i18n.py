"""The one place templates and code get their translation functions from.

``_`` translates now (messages), ``_l`` later (form labels and anything built
at import time), ``ngettext`` picks a plural.  Use named variables:
``_("%(count)s listings", count=n)``.
"""

from flask import current_app, g, has_request_context, request
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

__all__ = ["_", "_l", "ngettext", "select_locale", "current_language", "LANGUAGE_COOKIE"]

#: Cookie that remembers the language a person chose with the switcher.
LANGUAGE_COOKIE = "lo_lang"


def select_locale() -> str:
    """Choose the language: the switcher's remembered choice, else the browser's preference."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # commands and jobs speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(list(languages)) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def current_language() -> str:
    """Return the request's language code, worked out once per request (labels ask often)."""
    if not has_request_context():
        return str(get_locale())
    if "lo_language" not in g:
        g.lo_language = str(get_locale())
    return g.lo_language


def _translations():
    """Return this request's catalogue, looked up once (templates ask hundreds of times a page)."""
    if not has_request_context():
        return get_translations()
    if "lo_translations" not in g:
        g.lo_translations = get_translations()
    return g.lo_translations


def install_template_gettext(app) -> None:
    """Give Jinja gettext callables that reuse the request's catalogue (Flask-Babel's look it up each time)."""
    app.jinja_env.install_gettext_callables(
        lambda text: _translations().ugettext(text),
        lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        newstyle=True,
    )
