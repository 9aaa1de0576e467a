"""The one place templates and code get their translation functions from.

``_`` translates now (messages), ``_l`` later (form labels and anything built
at import time), ``ngettext`` picks a plural.  Use named variables:
``_("%(count)s listings", count=n)``.
"""

import re
import weakref
from contextlib import contextmanager
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from flask import current_app, g, has_request_context, request
from markupsafe import Markup, escape

from local_offer.translation_scope import formats_cleanly, is_staff_path
from flask_babel import force_locale, get_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

__all__ = ["_", "_l", "ngettext", "select_locale", "current_language", "LANGUAGE_COOKIE", "direction",
           "text_attributes", "as_written", "ltr", "in_language", "language_to_keep"]

#: Cookie that remembers the language a person chose with the switcher.
LANGUAGE_COOKIE = "lo_lang"


def select_locale() -> str:
    """Choose the language: the switcher's remembered choice, else the browser's preference."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # commands and jobs speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if is_staff_path(request.path):  # coordinators' and administrators' pages stay in English
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
        return _checked(get_translations())
    if "lo_translations" not in g:
        g.lo_translations = _checked(get_translations())
    return g.lo_translations


_PLACEHOLDER = re.compile(r"%\(([^)]*)\)")
#: Catalogues already checked (Flask-Babel keeps one object per language for the process).
_checked_catalogues: "weakref.WeakSet" = weakref.WeakSet()


def _checked(translations):
    """Drop translations whose placeholders the English does not have, once per catalogue.

    A catalogue edited by hand with "%(nmae)s" or a lone "%(" would make every page
    using the string fail; without it, that one string shows in English instead.
    """
    if translations in _checked_catalogues:
        return translations
    catalogue = getattr(translations, "_catalog", None)
    if isinstance(catalogue, dict):
        for msgid, text in list(catalogue.items()):
            english = msgid[0] if isinstance(msgid, tuple) else msgid
            if not isinstance(text, str) or not isinstance(english, str) or "%" not in text:
                continue
            if not formats_cleanly(english):
                continue  # "50% off" from Python code, never %-formatted: its translation need not be either
            names = set(_PLACEHOLDER.findall(english))
            unknown = set(_PLACEHOLDER.findall(text)) - names
            # Templates always %-format ("100%" breaks a page); so must every translation of a format string.
            plural_number_only = isinstance(msgid, tuple) and unknown <= {"num", "count"}
            if not formats_cleanly(text) or (unknown and not plural_number_only):
                current_app.logger.warning("Translation with broken placeholders ignored: %r", english)
                catalogue.pop(msgid, None)
    _checked_catalogues.add(translations)
    return translations


def check_catalogue_before_request() -> None:
    """Check this request's catalogue before any view or template translates with it."""
    _translations()


def install_template_gettext(app) -> None:
    """Give Jinja gettext callables that reuse the request's catalogue (Flask-Babel's look it up each time)."""
    app.jinja_env.install_gettext_callables(
        lambda text: _translations().ugettext(text),
        lambda singular, plural, n: _translations().ungettext(singular, plural, plural_number(n)),
        newstyle=True,
    )
    app.before_request(check_catalogue_before_request)


@lru_cache(maxsize=64)
def direction(code: str) -> str:
    """Return "rtl" for a language written right to left (Arabic, Urdu), else "ltr"."""
    try:
        order = Locale.parse(str(code).replace("-", "_")).character_order
    except (UnknownLocaleError, ValueError, TypeError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def text_attributes(language: str | None = None, *, unknown: bool = False) -> Markup:
    """Return ``lang``/``dir`` attributes for text written in another language than the page.

    Listings, consultations and the council's replies are written in the content
    language (English): inside a Polish or Arabic page they are marked so a screen
    reader uses an English voice and a right-to-left page shows them left to right.
    ``unknown=True`` is for words families wrote, in any language: the browser
    works out their direction.
    """
    if unknown:
        return Markup(' dir="auto"')
    language = language or current_app.config.get("CONTENT_LANGUAGE", "en")
    page = current_language()
    if _primary(language) == _primary(page):  # "en-GB" text on an "en" page is not marked
        return Markup("")
    return Markup(' lang="%s" dir="%s"') % (escape(language), direction(language))


def _primary(code: str) -> str:
    return str(code).replace("_", "-").split("-")[0].lower()


def as_written(text) -> Markup:
    """Return provider-written text, escaped, wrapped in a span marking its language when the page's differs."""
    attributes = text_attributes()
    if not text or not attributes:
        return escape(text or "")
    return Markup("<span%s>%s</span>") % (attributes, text)


def plural_number(n):
    """Return a whole number for choosing a plural form: catalogues' rules take integers only.

    "1.5 miles" takes the form of 5 (plural in every language offered); a whole float is its integer.
    """
    if isinstance(n, int):
        return n
    try:
        value = float(n)
    except (TypeError, ValueError):
        return 5
    return int(value) if value.is_integer() else 5


def ngettext(singular: str, plural: str, num, **variables) -> str:
    """Flask-Babel's ngettext, choosing the plural form with a whole number (see ``plural_number``)."""
    variables.setdefault("num", num)
    text = _checked(get_translations()).ungettext(singular, plural, plural_number(num))
    return text % variables


def ltr(text) -> Markup:
    """Keep a phone number or address left to right inside a right-to-left page ("01538 000 102" not reordered)."""
    if not text or direction(current_language()) != "rtl":
        return escape(text or "")
    return Markup('<span dir="ltr">%s</span>') % text


def language_to_keep() -> str | None:
    """Return the request's language to store with an alert, a comment or an account; None for the default."""
    if not has_request_context():
        return None
    language = current_language()
    return None if language == current_app.config["BABEL_DEFAULT_LOCALE"] else language


@contextmanager
def in_language(code: str | None):
    """Translate emails and their subjects into a recipient's language (the default when unknown or gone)."""
    languages = current_app.config["LANGUAGES"]
    chosen = code if code in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(chosen):
        _checked(get_translations())
        yield chosen
