"""Bad input gets a clear page with the right 4xx status, never a 500, and changes nothing."""

import pytest
from sqlalchemy import func, select

from local_offer.extensions import db
from local_offer.models import AuditEvent, Listing, Term

from support import SWIM, text_of


def stored_counts() -> tuple[int, int, int]:
    """Count the rows a bad request must never touch."""
    return tuple(
        db.session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (Listing, Term, AuditEvent)
    )


@pytest.mark.parametrize(
    "url, status",
    [
        ("/listings/2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2bffff", 404),   # unknown listing
        ("/listings/not-a-uuid", 404),                            # malformed id
        ("/listings/2b7e9c10'; DROP TABLE listing;--", 404),
        ("/categories/no-such-category", 404),
        ("/search?page=0", 400),
        ("/search?page=-1", 400),
        ("/search?page=1e9", 400),
        ("/search?page=abc", 400),
        ("/search?q=" + "a" * 201, 400),                         # over the field's limit
        ("/search?q=" + "a" * 3000, 414),                        # over-long query string
        ("/search?q=swim%00ming", 400),                           # NUL byte
        ("/search?q%00=1", 400),
        ("/search?q=%FF%FE%FD", 200),                             # binary, decoded as replacement
        ("/language/xx", 404),
        ("/does-not-exist", 404),
    ],
)
def test_bad_requests_get_a_styled_4xx_page(demo, client, url, status):
    """Each bad request gets its status and a page in the site's style; nothing changes."""
    before = stored_counts()
    response = client.get(url)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert "Example County Council" in html
    if status >= 400:
        assert "govuk-heading-l" in html
    assert stored_counts() == before


def test_form_error_is_summarised_and_linked(demo, client):
    """A too-long search shows the GOV.UK error summary pointing at the field."""
    response = client.get("/search?q=" + "b" * 201)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in html
    assert 'href="#q"' in html
    assert "Search words must be 200 characters or fewer" in text_of(response)
    assert "<title>Error:" in html


def test_wrong_method_gets_405_with_allow_header(demo, client):
    """A POST to a GET-only page says which methods work."""
    before = stored_counts()
    response = client.post(f"/listings/{SWIM}")
    assert response.status_code in (400, 405)
    response = client.delete(f"/listings/{SWIM}")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "Sorry, that did not work" in text_of(response)
    assert stored_counts() == before


def test_post_without_csrf_token_is_refused(demo, client, app):
    """CSRF protection is on for every form: a tokenless POST gets 400, not a 500."""
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/search", data={"q": "swim"})
    assert response.status_code in (400, 405)


@pytest.mark.own_app
def test_unexpected_errors_show_the_500_page_and_roll_back(app, client):
    """An unexpected failure shows a styled 500 page and leaves the session usable."""
    @app.get("/boom-for-test")
    def boom():
        """Fail on purpose."""
        raise RuntimeError("boom")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in text_of(response)
    assert client.get("/").status_code == 200
