"""A reference per request (header, error pages, API errors, log) and one access line per request, without secrets."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from local_offer import request_log
from local_offer.config import PROJECT_ROOT, ConfigError
from local_offer.models import Role

from support import make_test_config, make_user, sign_in, text_of

HEX16 = re.compile(r"[0-9a-f]{16}")


@pytest.fixture
def access_lines(app):
    """Collect the access log's records as the text and JSON handlers would write them."""
    text, json_lines = io.StringIO(), io.StringIO()
    handlers = [request_log.make_handler("text", text), request_log.make_handler("json", json_lines)]
    logger = logging.getLogger("local_offer")
    before = logger.level
    logger.setLevel(logging.INFO)
    for handler in handlers:
        logger.addHandler(handler)
    yield lambda: (text.getvalue().splitlines(), [json.loads(line) for line in json_lines.getvalue().splitlines()])
    for handler in handlers:
        logger.removeHandler(handler)
    logger.setLevel(before)


# --- the reference ---------------------------------------------------------------------------------


def test_every_response_carries_a_fresh_reference(app, client):
    first, second = client.get("/healthz"), client.get("/no-such-page")
    assert HEX16.fullmatch(first.headers["X-Request-Id"])
    assert HEX16.fullmatch(second.headers["X-Request-Id"])
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


def test_a_proxys_reference_is_kept_only_behind_a_proxy(app, client):
    incoming = {"X-Request-Id": "lb-7f3a9c1e.2026_12"}
    assert client.get("/healthz", headers=incoming).headers["X-Request-Id"] != "lb-7f3a9c1e.2026_12"
    app.config["PROXIES"] = 1
    assert client.get("/healthz", headers=incoming).headers["X-Request-Id"] == "lb-7f3a9c1e.2026_12"


@pytest.mark.parametrize("incoming", ["abcdefgh\nX-Injected: yes", "a" * 500, "short", "has spaces in it",
                                      "abcdefgh\n", "../../etc/passwd", "ünïcödé-id-1234", ""])
def test_a_reference_that_does_not_look_like_one_is_replaced(app, client, incoming):
    app.config["PROXIES"] = 1
    response = client.get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": incoming})
    assert HEX16.fullmatch(response.headers["X-Request-Id"])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.from_regex(r"[A-Za-z0-9._-]{6,70}", fullmatch=True))
def test_only_whole_safe_references_are_accepted(value):
    kept = request_log.accepted_request_id(value)
    safe = 8 <= len(value) <= 64 and all(char.isascii() and (char.isalnum() or char in "._-") for char in value)
    assert kept == (value if safe else None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec="latin-1"), max_size=120))
def test_whatever_a_client_sends_the_reference_header_is_safe(app, value):
    app.config["PROXIES"] = 1
    sent = app.test_client().get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": value}).headers["X-Request-Id"]
    assert re.fullmatch(r"[A-Za-z0-9._-]{8,64}", sent)
    assert sent == value or HEX16.fullmatch(sent)


def test_the_not_found_page_shows_the_reference(app, client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert f"quote this reference: {response.headers['X-Request-Id']}" in text_of(response)


def test_api_errors_carry_the_reference(app, client):
    for address in ("/api/v1/no-such-thing", "/api/v3/no-such-thing", "/api/v1/services/no-such-service"):
        response = client.get(address)
        assert response.status_code == 404
        assert response.get_json()["request_id"] == response.headers["X-Request-Id"]


@pytest.mark.own_app
def test_a_failure_shows_the_reference_and_logs_the_traceback_only(app, client, caplog):
    @app.get("/fail-for-test")
    def fail():
        raise RuntimeError("the secret inner detail")

    with caplog.at_level(logging.ERROR, logger="local_offer.errors"):
        response = client.get("/fail-for-test?email=parent@example.com")
    reference = response.headers["X-Request-Id"]
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert f"quote this reference: {reference}" in text_of(response)
    assert "Traceback" not in page and "the secret inner detail" not in page and "RuntimeError" not in page
    (record,) = [record for record in caplog.records if record.name == "local_offer.errors"]
    assert record.request_id == reference and record.exc_info[0] is RuntimeError
    assert record.getMessage() == "Unhandled error answering GET /fail-for-test?email=…"
    line = request_log.JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line and entry["request_id"] == reference and entry["level"] == "ERROR"
    assert "the secret inner detail" in entry["traceback"] and "parent@example.com" not in line


# --- the access line -------------------------------------------------------------------------------


def test_one_access_line_per_request_without_query_values(app, client, access_lines):
    response = client.get("/search?q=autism+near+ST16+2LH&age=7&age=9")
    text, entries = access_lines()
    (line,) = [line for line in text if "local_offer.access" in line]
    (entry,) = [entry for entry in entries if entry["logger"] == "local_offer.access"]
    reference = response.headers["X-Request-Id"]
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z INFO local_offer\.access \[{reference}\] "
                        rf"GET /search\?q=…&age=… {response.status_code} [\d.]+ms", line), line
    assert entry["request_id"] == reference and entry["method"] == "GET" and entry["level"] == "INFO"
    assert entry["path"] == "/search?q=…&age=…" and entry["status"] == response.status_code
    assert isinstance(entry["duration_ms"], float) and entry["time"].endswith("Z")
    assert "role" not in entry
    assert "autism" not in "".join(text) + json.dumps(entries) and "ST16" not in "".join(text)


@pytest.mark.parametrize("address, logged", [
    ("/account/reset/IjEyMzQ1Ig.Zx-secret_token", "/account/reset/…"),
    ("/account/invitation/invite-secret-token", "/account/invitation/…"),
    ("/s/share-secret-token", "/s/…"),
    ("/alerts/confirm/confirm-secret-token", "/alerts/confirm/…"),
    ("/alerts/unsubscribe/unsubscribe-secret-token", "/alerts/unsubscribe/…"),
    ("/portal/still-accurate/review-secret-token?keep=1", "/portal/still-accurate/…?keep=…"),
    ("/s/share-secret-token/extra/parts", "/s/…/extra/parts"),
])
def test_secrets_in_emailed_and_shared_links_are_masked(app, client, access_lines, address, logged):
    client.get(address)
    text, entries = access_lines()
    (entry,) = [entry for entry in entries if entry["logger"] == "local_offer.access"]
    assert entry["path"] == logged
    assert "secret-token" not in "".join(text) + json.dumps(entries)


def test_every_route_with_a_token_in_its_path_is_masked(app):
    """Any route whose variable is named like a token is found from the URL map, so a new one is masked too."""
    prefixes = request_log.secret_prefixes(app)
    for rule in app.url_map.iter_rules():
        if "token" in rule.rule:
            assert rule.rule.split("<")[0] in prefixes, rule.rule


def test_a_newline_in_the_address_cannot_forge_a_log_line(app, client, access_lines):
    client.get("/search%0A2026-01-01T00:00:00Z%20INFO%20forged")
    text, _entries = access_lines()
    assert not any(line.startswith("2026-01-01T00:00:00Z") for line in text)
    assert any("/search\\x0a2026-01-01" in line for line in text)


def test_a_signed_in_account_is_logged_by_role_only(app, access_lines):
    user = make_user("coordinator-for-log@example.gov.uk", Role.COORDINATOR)
    client = app.test_client()
    assert sign_in(client, user.email).status_code == 302
    client.get("/moderation/")
    text, entries = access_lines()
    (entry,) = [entry for entry in entries if entry.get("path") == "/moderation/"]
    assert entry["role"] == "coordinator"
    assert "coordinator-for-log" not in "".join(text) + json.dumps(entries)
    assert any(line.endswith("role=coordinator") for line in text)


# --- configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("setting, value", [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD")])
def test_wrong_log_settings_stop_the_app_naming_them(migrated_database, instance_path, setting, value):
    from local_offer import create_app

    with pytest.raises(ConfigError, match=f"LOCAL_OFFER_{setting}"):
        create_app(make_test_config(migrated_database, **{setting: value}))


def test_a_server_writes_json_lines_to_stderr(migrated_database, tmp_path):
    """A process with no logging of its own gets our handler: one JSON object per line, tracebacks as a field."""
    script = textwrap.dedent(f"""
        from local_offer import create_app
        app = create_app({{"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": {migrated_database!r},
                          "SEARCH_WARM": False}})
        @app.get("/fail-for-test")
        def fail():
            raise ValueError("inner detail")
        client = app.test_client()
        client.get("/healthz")
        client.get("/fail-for-test?q=words")
    """)
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOCAL_OFFER_")}
    env.update(LOCAL_OFFER_LOG_FORMAT="json", LOCAL_OFFER_INSTANCE_PATH=str(tmp_path / "instance"))
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    entries = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    access = [entry for entry in entries if entry["logger"] == "local_offer.access"]
    assert [(entry["path"], entry["status"]) for entry in access] == [("/healthz", 200), ("/fail-for-test?q=…", 500)]
    (error,) = [entry for entry in entries if entry["level"] == "ERROR"]
    assert error["request_id"] == access[1]["request_id"]
    assert "ValueError: inner detail" in error["traceback"] and "words" not in done.stderr
