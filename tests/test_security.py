"""The security baseline: headers, nonces, cookies, proxies and safe redirects."""

import re

import pytest

from local_offer import create_app

from support import make_test_config


def test_every_response_has_the_security_headers(demo, client):
    """CSP with a nonce, nosniff, a referrer policy and frame protection on every page."""
    for url in ("/", "/categories/", "/no-such-page", "/theme.css"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "object-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_inline_script_carries_the_responses_nonce(demo, client):
    """The template's one inline script has this response's nonce, and nonces differ per response."""
    first = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", first.headers["Content-Security-Policy"]).group(1)
    html = first.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline, "expected GOV.UK's inline js-enabled script"
    assert all(f'nonce="{nonce}"' in attributes for attributes in inline)
    second = client.get("/")
    assert nonce not in second.headers["Content-Security-Policy"]


def test_session_cookie_is_secure_by_default(migrated_database, instance_path):
    """Outside tests and `make run`, session cookies are Secure, HttpOnly and SameSite."""
    config = make_test_config(migrated_database)
    del config["SESSION_COOKIE_SECURE"]
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_proxy_headers_are_trusted_only_when_configured(migrated_database, instance_path):
    """With PROXIES=1 the app sees the client's address and scheme from the proxy."""
    seen = {}

    def capture(app):
        @app.get("/whoami-for-test")
        def whoami():
            """Report what the app believes about the request."""
            from flask import request

            seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
            return "ok"

    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    trusting = create_app(make_test_config(migrated_database, PROXIES=1))
    capture(trusting)
    trusting.test_client().get("/whoami-for-test", headers=headers)
    assert seen == {"addr": "203.0.113.9", "scheme": "https"}
    direct = create_app(make_test_config(migrated_database))
    capture(direct)
    direct.test_client().get("/whoami-for-test", headers=headers)
    assert seen == {"addr": "127.0.0.1", "scheme": "http"}


def test_hsts_is_sent_when_configured(migrated_database, instance_path):
    """Strict-Transport-Security is added behind HTTPS when the council turns it on."""
    app = create_app(make_test_config(migrated_database, HSTS=True))
    assert "max-age=" in app.test_client().get("/theme.css").headers["Strict-Transport-Security"]


def test_language_switch_never_redirects_to_another_site(app, client):
    """The switcher's `next` must be a path on this site."""
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)", "evil"):
        response = client.get("/language/pl", query_string={"next": target})
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
    response = client.get("/language/pl", query_string={"next": "/categories/?x=1"})
    assert response.headers["Location"] == "/categories/?x=1"


def test_csrf_protection_is_installed(migrated_database, instance_path):
    """Flask-WTF's CSRF protection is bound and on by default, for every form."""
    config = make_test_config(migrated_database)
    del config["WTF_CSRF_ENABLED"]
    app = create_app(config)
    assert "csrf" in app.extensions
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    response = app.test_client().post("/account/sign-in", data={"email": "a@example.org", "password": "x"})
    assert response.status_code == 400


# --- redirect targets: never off the site, never a header, never a 500 --------------------------

from hypothesis import HealthCheck, example, given, settings, strategies as st  # noqa: E402

from local_offer.models import Role  # noqa: E402

from support import make_user, sign_in  # noqa: E402

#: Pieces an attacker strings together to leave the site or inject a header, plain and encoded.
HOSTILE_PIECES = ["/", "//", "\\", "/\\", "%2f", "%2F", "%5c", "%252f", "%0d", "%0a", "%0D%0A", "%09", "%00",
                  "\r", "\n", "\t", "\x0b", "\x7f", "\x85", "\u2028", "\u200b", "%E2%80%A8", "evil.example",
                  "http:", "https://", "javascript:", "data:", "@", "?", "#", "%25", " ", ":", "ż", "Set-Cookie: x=y",
                  "..", ".", "%2e"]
HOSTILE_TARGETS = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(HOSTILE_PIECES), max_size=8).map("".join),
    st.tuples(st.sampled_from(["", "/"]), st.lists(st.sampled_from(HOSTILE_PIECES), max_size=6).map("".join),
              st.text(max_size=10)).map("".join),
)
PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_same_site(response) -> None:
    """A redirect stays on the site, in plain ASCII; anything else is a clear 400, never a 500."""
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        location = response.headers["Location"]
        assert location.startswith("/") and not location.startswith("//"), location
        assert "\\" not in location and all("!" <= char <= "~" for char in location), location
        assert "x=y" not in response.headers.get("Set-Cookie", "")


def test_control_characters_in_next_are_a_400_not_a_500(app, client):
    """CR/LF (a header injection), tabs and other control characters, plain or encoded, are refused."""
    for raw in ("/%0d%0aSet-Cookie:%20x=y", "/%250d%250aSet-Cookie:%20x=y", "/%09/evil.example",
                "/%E2%80%A8x", "%0a//evil.example"):
        response = client.get(f"/language/en?next={raw}")
        assert response.status_code == 400, raw
        assert "x=y" not in response.headers.get("Set-Cookie", "")
        assert client.get(f"/account/sign-in?next={raw}").status_code == 400, raw


def test_encoded_ways_off_the_site_fall_back_home(app, client):
    """Backslashes and doubled slashes, encoded once or twice, never lead to another site."""
    for target in ("/\\evil.example", "/%2F%2Fevil.example", "/%252F%252Fevil.example", "/%5Cevil.example",
                   "%2F%2Fevil.example", "https:%2F%2Fevil.example"):
        response = client.get("/language/pl", query_string={"next": target})
        assert response.status_code == 302 and response.headers["Location"] == "/", target


def test_sign_in_refuses_a_hostile_next_before_the_password(people_for_redirects, client):
    """Signing in with a header-injecting next is a 400 and signs nobody in; a safe one is followed."""
    response = client.post("/account/sign-in?next=/%0d%0aSet-Cookie:%20x=y",
                           data={"email": "provider@example.org", "password": "a long enough password"})
    assert response.status_code == 400
    assert "x=y" not in response.headers.get("Set-Cookie", "")
    response = sign_in(client, "provider@example.org", query_string={"next": "/categories/"})
    assert response.status_code == 302 and response.headers["Location"] == "/categories/"


@PROPERTY
@given(target=HOSTILE_TARGETS)
@example(target="/\r\nSet-Cookie: x=y")
@example(target="/\t/evil.example")
def test_safe_next_never_leaves_the_site(app, target):
    """Whatever it is given, safe_next returns a same-site ASCII path or stops with 400."""
    from werkzeug.exceptions import BadRequest

    from local_offer.security import safe_next

    with app.test_request_context("/"):
        try:
            result = safe_next(target, fallback="/home")
        except BadRequest:
            return
    assert result.startswith("/") and not result.startswith("//")
    assert "\\" not in result and all("!" <= char <= "~" for char in result), result


@PROPERTY
@given(target=HOSTILE_TARGETS)
@example(target="/\r\nSet-Cookie: x=y")
@example(target="/\t/evil.example")
def test_language_switch_property(app, client, target):
    """Every next the language switch is given leads to this site, or to a 400."""
    assert_same_site(client.get("/language/pl", query_string={"next": target}))


@PROPERTY
@given(target=HOSTILE_TARGETS)
@example(target="/\r\nSet-Cookie: x=y")
@example(target="/\t/evil.example")
def test_sign_in_next_property(signed_in_client, target):
    """Every next on the sign-in page (a signed-in visitor is sent on at once) stays on the site."""
    assert_same_site(signed_in_client.get("/account/sign-in", query_string={"next": target}))


@pytest.fixture
def people_for_redirects(app):
    """One provider account to sign in with."""
    return make_user("provider@example.org", Role.PROVIDER)


@pytest.fixture
def signed_in_client(people_for_redirects, client):
    """A client signed in as the provider."""
    assert sign_in(client, "provider@example.org").status_code == 302
    return client


# --- caching: nothing a signed-in account sees is stored ------------------------------------------


def test_signed_in_pages_and_downloads_are_never_stored(demo, client):
    """Every response to a signed-in account, page or file, says no-store; the CSV of contacts too."""
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    assert sign_in(client, "coordinator@example.gov.uk").headers["Cache-Control"] == "no-store"
    for url in ("/account/", "/", "/theme.css", "/static/dist/local-offer.css", "/moderation/data/directory.csv",
                "/moderation/data/directory.json", "/no-such-page"):
        response = client.get(url)
        response.close()  # a static file is streamed from an open file
        assert response.headers["Cache-Control"] == "no-store", url
        assert response.headers["Pragma"] == "no-cache", url
    assert client.get("/moderation/data/directory.csv").mimetype == "text/csv"


def test_public_pages_keep_their_caching(demo, client):
    """Someone not signed in gets the public pages' own caching, unchanged."""
    assert client.get("/theme.css").headers["Cache-Control"] == "public, max-age=3600"
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/favicon.svg").headers.get("Cache-Control", "")


# --- trusted hosts -----------------------------------------------------------------------------


def test_trusted_hosts_come_from_the_environment_and_others_get_400(migrated_database, instance_path, monkeypatch):
    """LOCAL_OFFER_TRUSTED_HOSTS (comma-separated; a leading dot allows subdomains): another Host is a 400."""
    monkeypatch.setenv("LOCAL_OFFER_TRUSTED_HOSTS", "localoffer.example.gov.uk, .council.example")
    app = create_app(make_test_config(migrated_database))
    assert app.config["TRUSTED_HOSTS"] == ["localoffer.example.gov.uk", ".council.example"]
    client = app.test_client()
    assert client.get("/theme.css", base_url="https://localoffer.example.gov.uk").status_code == 200
    assert client.get("/theme.css", base_url="https://www.council.example:8443").status_code == 200
    for host in ("evil.example", "localoffer.example.gov.uk.evil.example", "a" * 300):
        response = client.get("/theme.css", headers={"Host": host})
        assert response.status_code == 400, host
        assert "host name" in response.get_data(as_text=True)
    for host in ("evil.example", "localoffer.example.gov.uk.evil.example"):
        assert client.post("/account/forgot-password", data={"email": "a@example.org"},
                           headers={"Host": host}).status_code == 400


def test_every_host_is_answered_when_none_are_configured(migrated_database, instance_path, monkeypatch):
    """Unset (development), any Host is served."""
    monkeypatch.delenv("LOCAL_OFFER_TRUSTED_HOSTS", raising=False)
    app = create_app(make_test_config(migrated_database))
    assert app.config["TRUSTED_HOSTS"] is None
    assert app.test_client().get("/theme.css", headers={"Host": "anything.example"}).status_code == 200


def test_sitemap_robots_json_ld_and_api_links_ignore_the_requests_host(demo, client, app):
    """Full addresses a proxy may cache (sitemap, robots.txt, JSON-LD, the API index) are on PUBLIC_URL."""
    app.config["PUBLIC_URL"] = "https://localoffer.example.gov.uk"
    evil = {"Host": "evil.example"}
    texts = [client.get(url, headers=evil).get_data(as_text=True)
             for url in ("/sitemap.xml", "/robots.txt", "/api/v1/", "/api/v1/openapi.json")]
    listing = re.search(r"https://localoffer\.example\.gov\.uk(/services/[^<]+|/listings?/[^<]+)", texts[0])
    assert listing, texts[0][:500]
    texts.append(client.get(listing.group(1), headers=evil).get_data(as_text=True))
    assert all("evil.example" not in text for text in texts)
    assert all("https://localoffer.example.gov.uk/" in text for text in texts)
