"""A server refuses to start, saying why: a schema older than the code, another server's secret key, a wrong clock."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from local_offer import create_app, startup_checks
from local_offer.config import PROJECT_ROOT
from local_offer.extensions import db
from local_offer.models import AuditEvent, SiteSetting, utcnow

from databases import POSTGRES_URL, empty_database
from support import make_test_config


def recorded() -> dict | None:
    """Return the recorded secret-key check, as stored."""
    db.session.expire_all()
    row = db.session.get(SiteSetting, startup_checks.CHECK_KEY)
    return None if row is None else dict(row.value)


def record_other_servers_key(key: str = "the other servers' key") -> None:
    db.session.add(SiteSetting(key=startup_checks.CHECK_KEY, value={"fingerprint": startup_checks.key_fingerprint(key)}))
    db.session.commit()


def test_the_first_server_records_its_key_fingerprint_never_the_key(app):
    assert startup_checks.run(app) == []
    value = recorded()
    assert value["fingerprint"] == startup_checks.key_fingerprint(app.config["SECRET_KEY"])
    assert app.config["SECRET_KEY"] not in str(value)
    assert len(value["fingerprint"]) == 64 and value["fingerprint"] != startup_checks.key_fingerprint("another key")
    assert startup_checks.run(app) == []  # the next start agrees
    assert recorded()["fingerprint"] == value["fingerprint"]


def test_a_server_with_another_key_is_refused_with_the_reason(app, runner):
    record_other_servers_key()
    assert startup_checks.run(app) == [startup_checks.KEY_DIFFERS]
    result = runner.invoke(args=["check-startup"])
    assert result.exit_code == 1
    assert "This server's secret key differs from the one the other servers use" in result.output
    assert "copy instance/secret_key from them or set LOCAL_OFFER_SECRET_KEY the same everywhere" in result.output
    assert recorded()["fingerprint"] == startup_checks.key_fingerprint("the other servers' key")  # unchanged
    with pytest.raises(startup_checks.StartupRefused, match="secret key differs"):
        startup_checks.refuse_unless_ready(app)


def test_a_new_key_is_accepted_only_on_purpose(app, runner):
    record_other_servers_key("the old key")
    result = runner.invoke(args=["check-startup", "--accept-new-secret-key"])
    assert result.exit_code == 0, result.output
    assert "now the one every server must use" in result.output and "Start-up checks passed" in result.output
    assert recorded()["fingerprint"] == startup_checks.key_fingerprint(app.config["SECRET_KEY"])
    audit = db.session.execute(select(AuditEvent).where(AuditEvent.action == "secret key replaced")).scalar_one()
    assert app.config["SECRET_KEY"] not in str(audit.changes)
    assert runner.invoke(args=["check-startup"]).exit_code == 0


def test_a_schema_older_than_the_code_is_refused(app, runner):
    with db.engine.begin() as connection:
        real = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0003'"))
    try:
        result = runner.invoke(args=["check-startup"])
        assert result.exit_code == 1 and "run `flask db upgrade` first" in result.output
        assert recorded() is None  # nothing recorded on a schema that is not ready
    finally:
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": real})


def test_a_database_without_tables_is_refused(tmp_path, instance_path):
    with empty_database(tmp_path, "lo_empty") as url:
        app = create_app(make_test_config(url))
        try:
            assert startup_checks.run(app) == [startup_checks.NOT_SET_UP]
        finally:
            with app.app_context():
                db.engine.dispose()


def test_a_clock_far_from_the_databases_is_refused_naming_both_times(app, runner, monkeypatch):
    theirs = utcnow() - timedelta(minutes=3)
    monkeypatch.setattr(startup_checks, "database_time", lambda connection: theirs)
    result = runner.invoke(args=["check-startup"])
    assert result.exit_code == 1
    assert f"the database's ({theirs.strftime('%Y-%m-%d %H:%M:%S')} UTC)" in result.output
    assert "This server's clock (" in result.output and "180 seconds apart" in result.output
    monkeypatch.setattr(startup_checks, "database_time", lambda connection: utcnow() - timedelta(seconds=20))
    assert runner.invoke(args=["check-startup"]).exit_code == 0  # within 30 seconds is fine


@pytest.mark.skipif(not POSTGRES_URL, reason="SQLite shares this machine's clock")
def test_postgresql_tells_its_own_time(app):
    with db.engine.connect() as connection:
        theirs = startup_checks.database_time(connection)
    assert abs((utcnow() - theirs).total_seconds()) < 5


def test_an_unreachable_database_is_refused_with_the_drivers_reason(tmp_path, instance_path):
    app = create_app(make_test_config(f"sqlite:///{tmp_path}/no-such-folder/x.sqlite3"))
    (problem,) = startup_checks.run(app)
    assert problem.startswith("The database cannot be reached. (") and "unable to open database file" in problem


# --- gunicorn ------------------------------------------------------------------------------------


def gunicorn(database_url: str, instance, secret_key: str, port: int) -> subprocess.Popen:
    """Start gunicorn as the README says, in the project folder (so it reads gunicorn.conf.py)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOCAL_OFFER_")}
    env.update(LOCAL_OFFER_DATABASE_URL=database_url, LOCAL_OFFER_INSTANCE_PATH=str(instance),
               LOCAL_OFFER_SECRET_KEY=secret_key, LOCAL_OFFER_PUBLIC_URL="http://localhost",
               LOCAL_OFFER_SEARCH_WARM="false", LOCAL_OFFER_CARD_PRERENDER="false")
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                             "local_offer:create_app()"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_refuses_to_start_with_another_servers_key(app, migrated_database, tmp_path):
    record_other_servers_key()
    process = gunicorn(migrated_database, tmp_path / "instance", "this server's own key", free_port())
    try:
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0
    assert "Local Offer will not start: This server's secret key differs from the one the other servers use" in output
    assert "this server's own key" not in output and "Booting worker" not in output


def test_gunicorn_starts_and_records_the_key_when_all_is_well(app, migrated_database, tmp_path):
    port = free_port()
    process = gunicorn(migrated_database, tmp_path / "instance", "the key every server shares", port)
    try:
        deadline, answer = time.time() + 120, None
        while time.time() < deadline and process.poll() is None and answer is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    answer = (response.status, response.read())
            except OSError:
                time.sleep(0.3)
        assert answer == (200, b'{"status":"ok"}\n'), process.stdout.read() if process.poll() is not None else ""
        assert recorded()["fingerprint"] == startup_checks.key_fingerprint("the key every server shares")
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    # The workers log each request in the site's format, once (gunicorn's own access log is off).
    lines = [line for line in output.splitlines() if "GET /healthz" in line]
    assert len(lines) == 1 and re.search(r"INFO local_offer\.access \[[0-9a-f]{16}\] GET /healthz 200 ", lines[0]), output
