"""Maintenance mode: every address answers a friendly 503 with Retry-After, without the database, until it is off."""

from __future__ import annotations

import json

import pytest

from local_offer import create_app, maintenance

from databases import POSTGRES_URL
from support import make_test_config, text_of


@pytest.fixture(autouse=True)
def fresh_flag():
    """Each test looks at the flag file afresh (the check is kept a second per process)."""
    maintenance.forget()
    yield
    maintenance.forget()


def unreachable_url(tmp_path) -> str:
    """Return a database URL nothing answers at: a SQLite file in a missing folder, or a closed port."""
    if POSTGRES_URL:
        return "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    return f"sqlite:///{tmp_path}/no-such-folder/local-offer.sqlite3"


def assert_unavailable(response, retry_after: str = "300") -> None:
    assert response.status_code == 503, response.request.path
    assert response.headers["Retry-After"] == retry_after
    assert response.headers["Cache-Control"] == "no-store"


def test_on_and_off_from_the_command_line(app, client, runner):
    on = runner.invoke(args=["maintenance", "on"])
    assert on.exit_code == 0 and "Maintenance mode is on" in on.output
    assert (maintenance.flag_path(app)).exists()
    status = runner.invoke(args=["maintenance", "status"])
    assert "Maintenance mode is on since" in status.output and "Retry-After 300 seconds" in status.output

    page = client.get("/")
    assert_unavailable(page)
    words = text_of(page)
    assert "Sorry, the service is unavailable" in words
    assert "Nothing you saved has been lost" in words
    assert app.config["COUNCIL_PHONE"] in words and app.config["COUNCIL_EMAIL"] in words
    assert f"quote this reference: {page.headers['X-Request-Id']}" in words

    off = runner.invoke(args=["maintenance", "off"])
    assert off.exit_code == 0 and "Maintenance mode is off" in off.output
    assert client.get("/").status_code == 200
    assert "was not on" in runner.invoke(args=["maintenance", "off"]).output
    assert "Maintenance mode is off" in runner.invoke(args=["maintenance", "status"]).output


def test_every_address_and_method_answers_503_but_healthz_and_static_files(app, client):
    maintenance.turn_on()
    for method, address in [("GET", "/search?q=swimming"), ("GET", "/categories"), ("GET", "/no-such-page"),
                            ("POST", "/account/sign-in"), ("POST", "/shortlist/save"), ("GET", "/readyz-not"),
                            ("GET", "/account/reset/some-token"), ("HEAD", "/")]:
        assert_unavailable(client.open(address, method=method))
    api = client.get("/api/v1/services")
    assert_unavailable(api)
    assert api.mimetype == "application/json"
    assert api.get_json()["status"] == 503 and api.get_json()["request_id"] == api.headers["X-Request-Id"]
    assert client.get("/healthz").status_code == 200
    static = client.get("/static/dist/local-offer.css")
    assert static.status_code == 200
    static.close()
    assert client.get("/theme.css").status_code == 200  # the page's own styles


def test_forms_are_refused_before_their_token_is_checked(app, client):
    """A form sent during maintenance gets the maintenance page, not "your form had expired"."""
    app.config["WTF_CSRF_ENABLED"] = True
    maintenance.turn_on()
    response = client.post("/account/sign-in", data={"email": "someone@example.com", "password": "x"})
    assert_unavailable(response)
    assert "Sorry, the service is unavailable" in text_of(response)


def test_the_page_renders_with_the_database_unreachable(tmp_path, instance_path):
    app = create_app(make_test_config(unreachable_url(tmp_path)))
    client = app.test_client()
    maintenance.turn_on(app=app)
    response = client.get("/")
    assert_unavailable(response)
    assert "Sorry, the service is unavailable" in text_of(response)
    assert client.get("/healthz").status_code == 200
    maintenance.turn_off(app=app)
    assert client.get("/readyz").status_code == 503  # open again, but the database is still down


def test_when_it_will_be_back_and_a_message_are_shown(app, client, runner):
    result = runner.invoke(args=["maintenance", "on", "--retry-after", "120", "--until", "2030-06-03T14:30",
                                 "--message", "We are moving to a new server <b>today</b>."])
    assert result.exit_code == 0, result.output
    response = client.get("/")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 3600
    words = text_of(response)
    assert "You will be able to use it from 14:30 on Monday 3 June 2030" in words
    assert "We are moving to a new server <b>today</b>." in words  # shown as typed, never as HTML
    assert "<b>today</b>" not in response.get_data(as_text=True)
    status = runner.invoke(args=["maintenance", "status"]).output
    assert "Back expected at 2030-06-03T13:30+00:00" in status and "Message: We are moving" in status


def test_retry_after_follows_the_option(app, client, runner):
    runner.invoke(args=["maintenance", "on", "--retry-after", "60"])
    assert client.get("/").headers["Retry-After"] == "60"


@pytest.mark.parametrize("args, message", [
    (["--until", "teatime"], "give a time like 14:30"),
    (["--retry-after", "0"], "--retry-after"),
    (["--retry-after", "soon"], "--retry-after"),
])
def test_bad_options_are_refused_clearly(app, runner, args, message):
    result = runner.invoke(args=["maintenance", "on", *args])
    assert result.exit_code == 2 and message in result.output
    assert not maintenance.flag_path(app).exists()


def test_a_touched_file_turns_maintenance_on_with_the_defaults(app, client, instance_path):
    (instance_path / "MAINTENANCE").write_text("")
    assert_unavailable(client.get("/"))
    (instance_path / "MAINTENANCE").write_text("{not json")
    maintenance.forget()
    assert_unavailable(client.get("/"))


def test_servers_can_share_one_flag_file(app, client, runner, tmp_path):
    shared = tmp_path / "shared-disk" / "local-offer-maintenance"
    app.config["MAINTENANCE_FILE"] = str(shared)
    runner.invoke(args=["maintenance", "on"])
    assert json.loads(shared.read_text())["retry_after"] == 300
    assert_unavailable(client.get("/"))
    shared.unlink()  # another server turned it off
    maintenance.forget()
    assert client.get("/").status_code == 200


def test_the_flag_file_is_read_at_most_once_a_second(app, client, monkeypatch):
    """A request costs one stat a second at most: a flag written behind the process's back shows within a second."""
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 200
    (maintenance.flag_path(app)).write_text("{}")
    looked = []
    real_stat = maintenance._stat
    monkeypatch.setattr(maintenance, "_stat", lambda path: looked.append(path) or real_stat(path))
    clock = [1000.0]
    monkeypatch.setattr(maintenance, "_clock", lambda: clock[0])
    maintenance.forget()
    assert client.get("/").status_code == 503
    assert client.get("/categories").status_code == 503
    assert len(looked) == 1
    (maintenance.flag_path(app)).unlink()
    assert client.get("/").status_code == 503  # still the state seen less than a second ago
    clock[0] += 1.5
    assert client.get("/").status_code == 200
    assert len(looked) == 2


def test_a_flag_file_that_cannot_be_written_is_a_clear_error(app, runner, tmp_path):
    blocker = tmp_path / "a-file-not-a-folder"
    blocker.write_text("")
    app.config["MAINTENANCE_FILE"] = str(blocker / "MAINTENANCE")
    result = runner.invoke(args=["maintenance", "on"])
    assert result.exit_code == 1 and "could not be written" in result.output
    assert "Traceback" not in result.output
