"""``/healthz`` (the process is up) and ``/readyz`` (ready to serve): JSON, 200 or 503, never HTML, never a setting."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from local_offer import create_app, maintenance, startup_checks
from local_offer.extensions import db
from local_offer.models import SiteSetting, utcnow
from local_offer.search import get_service

from databases import POSTGRES_URL
from support import make_test_config


def unreachable_url(tmp_path) -> str:
    """Return a database URL nothing answers at: a SQLite file in a missing folder, or a closed port."""
    if POSTGRES_URL:
        return "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    return f"sqlite:///{tmp_path}/no-such-folder/local-offer.sqlite3"


@pytest.fixture
def down_app(tmp_path, instance_path):
    """An app whose database cannot be reached."""
    app = create_app(make_test_config(unreachable_url(tmp_path)))
    yield app
    maintenance.forget()


@pytest.fixture
def index_ready(app, monkeypatch):
    """Say the search index is open and up to date (the tests' index folder is empty)."""
    monkeypatch.setattr(get_service(), "readiness", lambda max_lag_seconds=60: [])
    return app


def answer(response) -> dict:
    """Return a health answer's JSON, checking it is JSON, not HTML, and never kept by a cache."""
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    assert "<html" not in response.get_data(as_text=True).lower()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def reveals_nothing(app, response) -> None:
    """The answer names no setting: no database address, instance path, secret key or host."""
    body = response.get_data(as_text=True)
    for secret in (app.config["SECRET_KEY"], app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path,
                   "127.0.0.1", "sqlite", "postgres"):
        assert str(secret) not in body


def test_healthz_says_ok_without_touching_the_database(down_app):
    response = down_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert answer(response) == {"status": "ok"}


def test_readyz_is_ready_when_database_schema_and_index_are(index_ready, client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert answer(response) == {"status": "ready"}


def test_readyz_says_the_index_is_behind(app, client, monkeypatch):
    monkeypatch.setattr(get_service(), "readiness", lambda max_lag_seconds=60: [
        f"The search index lacks 3 changes recorded more than {max_lag_seconds} seconds ago."])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert answer(response) == {"status": "not ready",
                                "problems": ["The search index lacks 3 changes recorded more than 60 seconds ago."]}


def test_readyz_with_the_real_index_check_says_it_is_not_built(app, client):
    """The tests' instance has no index: the search service's own readiness says so."""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert any("search index" in problem for problem in answer(response)["problems"])


def test_readyz_answers_json_when_the_database_is_down(down_app):
    response = down_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert answer(response) == {"status": "not ready", "problems": ["The database cannot be reached."]}
    reveals_nothing(down_app, response)


def test_readyz_gives_up_waiting_for_a_database_that_hangs(index_ready, client, monkeypatch):
    """A database that does not answer makes "not ready" within the timeout; the next probe does not pile up."""
    import threading

    release = threading.Event()
    monkeypatch.setattr(startup_checks, "READY_TIMEOUT", 0.3)
    monkeypatch.setattr(startup_checks, "database_problems", lambda engine, secret: release.wait(10) and [])
    try:
        first = client.get("/readyz")
        assert first.status_code == 503
        assert answer(first)["problems"] == ["The database did not answer within 0.3 seconds."]
        probe = index_ready.extensions["local_offer_readiness"]
        hung = probe.thread
        assert client.get("/readyz").status_code == 503
        assert probe.thread is hung  # the second probe waited on the same check, starting no thread of its own
    finally:
        release.set()
        hung.join(5)
    assert client.get("/readyz").status_code == 200


@pytest.fixture
def schema_at(app):
    """Set the database's alembic version for one test, putting the real one back after."""
    with db.engine.begin() as connection:
        real = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()

    def stamp(revision: str) -> None:
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})

    yield stamp
    stamp(real)


def test_readyz_refuses_a_schema_older_than_the_code(index_ready, client, schema_at):
    schema_at("0001")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert answer(response)["problems"] == [startup_checks.SCHEMA_OLDER]


def test_readyz_accepts_a_schema_newer_than_the_code(index_ready, client, schema_at):
    """A revision this code does not know is the next release's expand step: still ready."""
    schema_at("9999_next_release")
    assert client.get("/readyz").status_code == 200


def test_readyz_reports_a_clock_far_from_the_databases(index_ready, client, monkeypatch):
    monkeypatch.setattr(startup_checks, "database_time", lambda connection: utcnow() - timedelta(seconds=95))
    response = client.get("/readyz")
    assert response.status_code == 503
    (problem,) = answer(response)["problems"]
    assert "95 seconds apart" in problem and "NTP" in problem


def test_readyz_reports_a_secret_key_the_other_servers_do_not_share(index_ready, client):
    db.session.add(SiteSetting(key=startup_checks.CHECK_KEY,
                               value={"fingerprint": startup_checks.key_fingerprint("the other servers' key")}))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert answer(response)["problems"] == [startup_checks.KEY_DIFFERS]
    reveals_nothing(index_ready, response)
    assert "the other servers' key" not in response.get_data(as_text=True)


def test_readyz_is_ready_when_the_recorded_key_is_this_servers(index_ready, client):
    db.session.add(SiteSetting(key=startup_checks.CHECK_KEY,
                               value={"fingerprint": startup_checks.key_fingerprint(index_ready.config["SECRET_KEY"])}))
    db.session.commit()
    assert client.get("/readyz").status_code == 200


def test_during_maintenance_healthz_is_up_and_readyz_drains(index_ready, client):
    maintenance.turn_on()
    try:
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
        assert response.status_code == 503
        assert answer(response) == {"status": "not ready", "problems": ["The service is in maintenance mode."]}
    finally:
        maintenance.turn_off()
    assert client.get("/readyz").status_code == 200


def test_health_checks_answer_a_load_balancer_asking_by_ip_address(tmp_path, instance_path, migrated_database):
    """With TRUSTED_HOSTS set, a probe naming the server by IP still gets its answer; pages still refuse the host."""
    app = create_app(make_test_config(migrated_database, TRUSTED_HOSTS=["localoffer.example.gov.uk"],
                                      PUBLIC_URL="https://localoffer.example.gov.uk"))
    client = app.test_client()
    probe = {"Host": "10.0.3.7:8000", "X-Forwarded-Host": "10.0.3.7"}
    assert client.get("/healthz", headers=probe).status_code == 200
    ready = client.get("/readyz", headers=probe)
    assert ready.status_code in (200, 503) and answer(ready)["status"] in ("ready", "not ready")
    assert client.get("/", headers=probe).status_code == 400
    assert client.get("/healthz/", headers=probe).status_code == 400  # only the two exact addresses


def test_health_checks_are_exempt_from_rate_limits_and_csrf(instance_path, migrated_database, monkeypatch):
    """Load balancers probe every few seconds from one address: never a 429, even under a default limit."""
    from local_offer.extensions import limiter

    # Flask-Limiter keeps the first app's default limits on the shared extension for every later app:
    # put back the empty list after this test, or later apps would all be limited to 3 a minute.
    monkeypatch.setattr(limiter.limit_manager, "_default_limits", [])
    app = create_app(make_test_config(migrated_database, RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="3 per minute",
                                      WTF_CSRF_ENABLED=True))
    limiter.reset()
    try:
        client = app.test_client()
        assert [client.get("/healthz").status_code for _ in range(10)] == [200] * 10
        assert [client.get("/readyz").status_code != 429 for _ in range(10)] == [True] * 10
        assert 429 in [client.get("/favicon.svg").status_code for _ in range(5)]  # the limit applies elsewhere
    finally:
        limiter.reset()


def test_healthz_keeps_no_session_and_sets_no_cookie(app, client):
    response = client.get("/healthz")
    assert "Set-Cookie" not in response.headers
    assert json.loads(response.get_data(as_text=True)) == {"status": "ok"}
