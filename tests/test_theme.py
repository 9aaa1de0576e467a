"""The council's colours are configuration, applied at run time, and always readable."""

import pytest

from local_offer import theme
from local_offer.config import DEFAULTS


def test_contrast_matches_known_wcag_values():
    """Black on white is 21:1; #767676 on white is the well-known 4.54:1."""
    assert theme.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert theme.contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert theme.contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_default_colours_meet_aa_contrast():
    """Every colour pair the default theme uses reaches 4.5:1."""
    assert theme.contrast_problems(DEFAULTS) == []
    for _, foreground, background in theme.contrast_pairs(DEFAULTS):
        assert theme.contrast(foreground, background) >= 4.5


def test_low_contrast_colours_are_reported():
    """A pale brand colour under white text fails and is named."""
    problems = theme.contrast_problems(dict(DEFAULTS, BRAND_COLOUR="#88ccee"))
    assert len(problems) == 1
    assert "BRAND_COLOUR" in problems[0]


def test_theme_stylesheet_serves_configured_colours(app, client):
    """/theme.css sets GOV.UK Frontend's custom properties to the council's colours."""
    app.config["BRAND_COLOUR"] = "#4b0a5e"
    response = client.get("/theme.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert "--govuk-brand-colour:#4b0a5e" in response.get_data(as_text=True)
    assert client.get("/theme.css", headers={"If-None-Match": response.get_etag()[0]}).status_code == 304


def test_pages_never_show_the_crown_or_gov_uk_branding(demo, client):
    """The council's own header and footer replace GOV.UK's crown, title and copyright."""
    html = client.get("/").get_data(as_text=True)
    assert "Example County Council" in html
    assert "govuk-logo" not in html and "govuk-crest" not in html
    assert "govuk-footer__copyright-logo" not in html  # GOV.UK's own copyright block
    assert "© Crown copyright<" not in html  # the OS attribution ("...and database right") may stay
    assert "GOV.UK" not in html
    assert "govuk-icon" not in html
    assert 'href="/favicon.svg"' in html


def test_stylesheet_is_built_without_the_gov_uk_font():
    """The compiled stylesheet uses system fonts, not GDS Transport."""
    from local_offer.config import PROJECT_ROOT

    css = (PROJECT_ROOT / "static" / "dist" / "local-offer.css").read_text()
    assert "GDS Transport" not in css
    assert "system-ui" in css
    assert "@media print" in css
