"""GOV.UK Frontend's English defaults never reach a family's page: every one goes through our catalogue.

The Jinja macros and govuk-frontend-wtf's widgets have English words of their own ("Breadcrumb",
"Page 2", "Error:", "Show password", the character count's messages), and our scripts have
English fallbacks. Pages in Polish (complete) must not show them. A few of the words are new to
the catalogue; so that these tests do not wait for their translation, most of them read the pages
through a marked catalogue (every translation wrapped in ⟦ ⟧): a word that skips the catalogue
stays bare English, one that goes through it comes out marked.
"""

from __future__ import annotations

import re

import pytest
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount
from wtforms import Form, TextAreaField

from local_offer import i18n
from local_offer.extensions import db
from local_offer.models import Organisation, Role

from support import SWIM, make_user, sign_in

OTTERS = "6f1c2a40-1d0b-4c51-9a57-0d2f0c1a0001"  # runs SWIM

#: GOV.UK Frontend's and govuk-frontend-wtf's English, as they appear in a page when not replaced.
ENGLISH_DEFAULTS = (
    'aria-label="Breadcrumb"', 'aria-label="Pagination"', 'aria-label="Page ', ">Previous<", ">Next<",
    '<span class="govuk-visually-hidden"> page</span>', '<span class="govuk-visually-hidden">Error:</span>',
    '"Show password"', '"Hide password"', '"Your password is visible"', '"Your password is hidden"',
    'data-i18n.show-password="Show"', 'data-i18n.hide-password="Hide"',
    'class="govuk-visually-hidden">Warning<', ">Important<", "You can enter up to", "characters remaining",
)


class _Marked:
    """The request's catalogue with every translation wrapped in ⟦ ⟧."""

    def __init__(self, real):
        self.real = real

    def ugettext(self, text):
        return "⟦" + self.real.ugettext(text) + "⟧"

    def ungettext(self, singular, plural, n):
        return "⟦" + self.real.ungettext(singular, plural, n) + "⟧"

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def marked(monkeypatch):
    """Templates translate through the marked catalogue."""
    real = i18n._translations
    monkeypatch.setattr(i18n, "_translations", lambda: _Marked(real()))


def polish(client):
    client.set_cookie("lo_lang", "pl")
    return client


def html_of(response) -> str:
    assert response.status_code in (200, 400, 422), response.status_code
    return response.get_data(as_text=True)


def assert_no_english_defaults(html: str, page: str) -> None:
    left = [text for text in ENGLISH_DEFAULTS if text in html]
    assert not left, f"{page}: English defaults left: {left}"


def test_breadcrumbs_are_labelled_through_the_catalogue(demo, client, marked):
    """Every page's breadcrumbs ("Breadcrumb" by default) are labelled in the reader's language."""
    polish(client)
    for page in ("/information/short-breaks", "/categories/education"):
        html = html_of(client.get(page))
        assert 'class="govuk-breadcrumbs' in html
        assert re.search(r'<nav class="govuk-breadcrumbs[^>]*aria-label="⟦[^"⟧]+⟧"', html), page
        assert_no_english_defaults(html, page)


def test_error_messages_and_password_words_go_through_the_catalogue(demo, client, marked):
    """A form's errors are prefixed with "Error:" in the reader's language; the Show/Hide button speaks it too."""
    polish(client)
    html = html_of(client.post("/account/sign-in", data={}))
    assert re.search(r'<span class="govuk-visually-hidden">⟦[^<]*⟧:?</span>', html)
    for name, english in (("show-password", "Show"), ("hide-password", "Hide"),
                          ("show-password-aria-label", "Show password"), ("hide-password-aria-label", "Hide password"),
                          ("password-shown-announcement", "Your password is visible"),
                          ("password-hidden-announcement", "Your password is hidden")):
        assert f'data-i18n.{name}="⟦' in html, name
        assert f'data-i18n.{name}="{english}"' not in html
    assert_no_english_defaults(html, "/account/sign-in (errors)")
    feedback = html_of(client.post("/feedback", data={}))
    assert "govuk-error-message" in feedback
    assert_no_english_defaults(feedback, "/feedback (errors)")


def test_polish_error_messages_and_password_button(demo, client):
    """In real Polish: "Błąd:" before each error, "Pokaż" on the password button."""
    polish(client)
    html = html_of(client.post("/account/sign-in", data={}))
    assert '<span class="govuk-visually-hidden">Błąd:</span>' in html
    assert 'data-i18n.show-password="Pokaż"' in html and 'data-i18n.hide-password="Ukryj"' in html
    assert ">Error:<" not in html and 'data-i18n.show-password="Show"' not in html


def test_portal_pages_have_no_english_defaults(demo, client, marked):
    """The provider portal's pages: breadcrumbs, forms and their errors."""
    make_user("otters@example.org", Role.PROVIDER, [db.session.get(Organisation, OTTERS)])
    polish(client)
    assert sign_in(client, "otters@example.org").status_code == 302
    for page in ("/portal/", f"/portal/listings/{SWIM}", f"/portal/listings/{SWIM}/sections/about",
                 f"/portal/listings/{SWIM}/sections/when_where", f"/portal/listings/{SWIM}/status",
                 "/portal/listings/new", "/account/password"):
        html = html_of(client.get(page))
        assert_no_english_defaults(html, page)
    html = html_of(client.post("/portal/listings/new", data={}))
    assert "govuk-error-message" in html
    assert_no_english_defaults(html, "/portal/listings/new (errors)")


def test_character_count_messages_go_through_the_catalogue(app, marked):
    """The character count's messages (GOV.UK Frontend's JavaScript reads them from data-i18n) are ours."""

    class Answer(Form):
        answer = TextAreaField("Your answer", widget=GovCharacterCount())

    with app.test_request_context("/", headers={"Cookie": "lo_lang=pl"}):
        form = Answer()
        form.answer.errors = ["Enter your answer"]
        html = str(form.answer(params={"maxlength": 500}))
    # Translated now; the marks show they went through the catalogue, and %{count} survived formatting.
    assert re.search(r'data-i18n.characters-under-limit.other="⟦[^"⟧]*%\{count\}[^"⟧]*⟧"', html)
    assert re.search(r'data-i18n.characters-under-limit.one="⟦[^"⟧]*%\{count\}[^"⟧]*⟧"', html)
    assert 'data-i18n.characters-at-limit="⟦' in html
    assert 'data-i18n.characters-over-limit.other="⟦' in html
    assert re.search(r"⟦[^⟧]*500[^⟧]*⟧", html)
    assert '<span class="govuk-visually-hidden">⟦' in html
    assert '="You have' not in html and ">You can enter up to" not in html


def test_script_words_come_from_the_page(demo, client, marked):
    """Words our scripts show (finding your location, the map's buttons, a failed save) are in the page."""
    polish(client)
    html = html_of(client.get("/search", query_string={"q": "swimming"}))
    for attribute in ("data-finding", "data-failed", "data-zoom-in", "data-zoom-out", "data-close-popup", "data-failed-text"):
        assert re.search(attribute + r'="⟦', html), attribute


def test_pagination_speaks_the_readers_language(directory):
    """Search results' and "You said, we did"'s pages: no "Pagination", "Page 2", "Previous" or "Next"."""
    client = polish(directory.test_client())
    for page in ("/search?q=", "/search?q=&page=2", "/you-said-we-did", "/you-said-we-did?page=2"):
        html = html_of(client.get(page))
        if "govuk-pagination" not in html:
            continue
        assert 'aria-label="strona ' in html or "/you-said" in page, page
        assert_no_english_defaults(html, page)
    first = html_of(client.get("/search?q="))
    assert "govuk-pagination" in first and 'aria-label="strona 2"' in first


def test_you_said_pagination_goes_through_the_catalogue(directory, monkeypatch):
    """"You said, we did" pages its comments with GOV.UK's pagination: its labels are ours."""
    real = i18n._translations
    monkeypatch.setattr(i18n, "_translations", lambda: _Marked(real()))
    client = polish(directory.test_client())
    html = html_of(client.get("/you-said-we-did"))
    if "govuk-pagination" not in html:
        pytest.skip("the demo directory has one page of comments")
    assert re.search(r'<nav class="govuk-pagination[^>]*aria-label="⟦[^"⟧]+⟧"', html)
    assert_no_english_defaults(html, "/you-said-we-did")


def test_wtf_templates_replace_the_librarys(app):
    """Our govuk_frontend_wtf/ templates are the ones the widgets render (the app's folder comes first)."""
    with app.test_request_context("/"):
        filename = app.jinja_env.loader.get_source(app.jinja_env, "govuk_frontend_wtf/password.html")[1]
    assert filename.replace("\\", "/").endswith("local_offer/templates/govuk_frontend_wtf/password.html")
