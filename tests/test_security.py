"""The security baseline: headers, nonces, cookies, proxies and safe redirects."""

import re

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
