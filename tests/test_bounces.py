"""Bounces that come back later by email stop search alerts to dead addresses; anything else is left alone."""

from __future__ import annotations

import mailbox

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from local_offer import bounces
from local_offer.extensions import db
from local_offer.models import AlertStatus, SearchAlert

from test_alerts import ask, confirmed_alert


@pytest.fixture
def maildir(app, tmp_path):
    """A Maildir folder the mail system delivers bounces to, named in the settings."""
    folder = tmp_path / "bounces"
    box = mailbox.Maildir(str(folder), create=True)
    app.config["ALERT_BOUNCE_MAILDIR"] = str(folder)
    return box


def run_job(runner) -> str:
    """Run the bounce job through `flask jobs run`, as cron does."""
    result = runner.invoke(args=["jobs", "run", "--job", "alert-bounces", "--verbose"])
    assert result.exit_code == 0, result.output
    return result.output


def status_of(email: str) -> AlertStatus:
    """Return the status of the alert to an address."""
    return db.session.execute(select(SearchAlert.status).where(SearchAlert.email == email)).scalar_one()


def test_a_later_bounce_stops_the_alerts_to_that_address_only(demo, client, runner, maildir):
    """A permanent failure stops the confirmed and pending alerts to it; a delay, a reply and junk change nothing."""
    confirmed_alert(client)  # parent@home.example
    ask(client, "Waiting@Home.example")
    ask(client, "delayed@home.example")
    maildir.add(bounces.notification("PARENT@home.example").as_bytes())
    maildir.add(bounces.notification("waiting@home.example", status="5.2.1").as_bytes())
    maildir.add(bounces.notification("delayed@home.example", status="4.2.2", action="delayed").as_bytes())
    maildir.add(b"From: someone@home.example\nSubject: Thank you\n\nThanks for the email about swimming.\n")
    maildir.add(b"\x00\xff not an email at all \r\n\r\n--")
    output = run_job(runner)
    assert "Read 3 bounce notifications naming 2 addresses; stopped 2 search alerts; left 2 other messages" in output
    assert status_of("parent@home.example") is AlertStatus.BOUNCED
    assert status_of("Waiting@Home.example") is AlertStatus.BOUNCED
    assert status_of("delayed@home.example") is AlertStatus.PENDING
    assert len(maildir) == 2  # the reply and the junk stay for a person; the notifications read are gone
    assert "Read 0 bounce notifications" in run_job(runner)


def test_without_a_bounce_mailbox_the_job_says_so(demo, runner, app):
    """Not set up: the job succeeds and says only refusals at sending stop alerts."""
    app.config["ALERT_BOUNCE_MAILDIR"] = ""
    assert "No bounce mailbox is set up" in run_job(runner)


def test_a_folder_that_is_not_a_mailbox_fails_the_job_with_a_clear_message(demo, runner, app, tmp_path):
    """A wrong path is a failed job that names the folder, never a crash."""
    app.config["ALERT_BOUNCE_MAILDIR"] = str(tmp_path / "nowhere")
    result = runner.invoke(args=["jobs", "run", "--job", "alert-bounces", "--verbose"])
    assert result.exit_code != 0 and "is not a Maildir folder" in result.output


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(raw=st.binary(max_size=600), address=st.text(max_size=80), status=st.text(max_size=12),
       action=st.sampled_from(["failed", "delayed", "FAILED", "relayed", ""]))
def test_any_message_in_the_mailbox_is_read_or_left_never_a_crash(demo, client, maildir, raw, address, status, action):
    """Whatever arrives (bytes, odd addresses and statuses), reading never fails and stops only real failures."""
    maildir.clear()
    maildir.add(raw)
    try:
        maildir.add(bounces.notification(address, status=status, action=action).as_bytes())
    except Exception:  # noqa: BLE001  (the email package refuses to build some headers: nothing to read then)
        pass
    report = bounces.read_mailbox(maildir._path)
    assert report.read + report.left == len(list(maildir.keys())) + report.read
    for stopped in report.addresses:
        assert "@" in stopped and stopped == stopped.lower()
