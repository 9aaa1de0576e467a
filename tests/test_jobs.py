"""Scheduled jobs: one cron entry runs each chore when it is due, records how it ended, never twice at once."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone

from local_offer import demand, jobs
from local_offer.extensions import db
from local_offer.models import JobOutcome, Role, ScheduledJob
from local_offer.search import get_service

from support import make_user, sign_in, text_of

START = datetime(2026, 3, 2, 2, 0, 5, tzinfo=timezone.utc)
ALL = [job.name for job in jobs.JOBS]


def run(at: datetime, names=None, force=False) -> dict[str, jobs.Outcome]:
    """Run the jobs as `flask jobs run` would at ``at``; return what each did, by name."""
    return {outcome.job.name: outcome for outcome in jobs.run_jobs(names, force=force, clock=lambda: at)}


def ran(outcomes: dict[str, jobs.Outcome]) -> list[str]:
    """Return the names of the jobs that ran (were not skipped)."""
    return [name for name, outcome in outcomes.items() if not outcome.skipped]


def row(name: str) -> ScheduledJob:
    """Read a job's row as it is in the database now."""
    return db.session.get(ScheduledJob, jobs.BY_NAME[name].row_name, populate_existing=True)


def staff(app, role: Role):
    """Return a client signed in as a new account with ``role``."""
    make_user(f"{role.value}@example.gov.uk", role)
    client = app.test_client()
    assert sign_in(client, f"{role.value}@example.gov.uk").status_code == 302
    return client


# --- schedules -----------------------------------------------------------------------------------


def test_each_job_runs_when_due_and_not_before(app):
    """The first run does everything; then the index every 10 minutes, bounces hourly and the rest daily, cron's
    lateness allowed."""
    assert ran(run(START)) == ALL
    assert ran(run(START + timedelta(minutes=1))) == []
    assert ran(run(START + timedelta(minutes=9))) == []
    # Cron started this run a few seconds earlier in its minute than the last: still due.
    assert ran(run(START + timedelta(minutes=10, seconds=-5))) == ["index"]
    assert ran(run(START + timedelta(minutes=15))) == []
    assert ran(run(START + timedelta(hours=1))) == ["index", "alert-bounces", "feeds"]
    assert ran(run(START + timedelta(hours=1, minutes=5))) == []
    assert ran(run(START + timedelta(hours=23, minutes=50))) == ["index", "alert-bounces", "feeds"]
    assert ran(run(START + timedelta(hours=23, minutes=51))) == []
    assert ran(run(START + timedelta(days=1))) == [name for name in ALL if name not in ("alert-bounces", "feeds")]  # ran at 23:50
    skipped = run(START + timedelta(days=1, minutes=1))["feedback-purge"].skipped
    assert skipped == "not due until 2026-03-04 02:00 UTC"


def test_a_run_records_when_how_long_and_what_it_did(app):
    """Each job's row says when it started and finished, how long it took, that it succeeded, and what it did."""
    run(START)
    purge = row("feedback-purge")
    assert purge.last_started_at == START and purge.last_outcome is JobOutcome.SUCCESS
    assert purge.last_finished_at == START + timedelta(seconds=purge.last_seconds)
    assert purge.last_success_at == purge.last_finished_at and purge.last_error == ""
    assert purge.last_summary.startswith("Removed 0 contact details") and purge.running_since is None
    assert row("index").last_summary.startswith("Indexed ")  # no index yet: built whole
    assert "the check found and repaired 0 missing, 0 extra, 0 stale" in row("index").last_summary
    assert [status.needs_attention for status in jobs.statuses(START + timedelta(minutes=1))] == [False] * len(ALL)


def test_forced_runs_ignore_the_schedule(app, runner):
    """`--all` runs every job and `--job NAME` one, whether due or not; a wrong name is refused."""
    run(START)
    assert ran(run(START + timedelta(minutes=1), force=True)) == ALL
    assert ran(run(START + timedelta(minutes=2), ["demand-prune"], force=True)) == ["demand-prune"]
    assert runner.invoke(args=["jobs", "run", "--all"]).exit_code == 0
    wrong = runner.invoke(args=["jobs", "run", "--job", "tidy-everything"])
    assert wrong.exit_code == 2 and "'tidy-everything' is not one of" in wrong.output
    both = runner.invoke(args=["jobs", "run", "--all", "--job", "index"])
    assert both.exit_code == 2 and "not both" in both.output


def test_cron_hears_only_failures_and_a_person_hears_everything(app, runner, monkeypatch):
    """Under cron (no terminal) a good run prints nothing; --verbose says what each job did."""
    quiet = runner.invoke(args=["jobs", "run"])
    assert quiet.exit_code == 0 and quiet.output == ""
    talk = runner.invoke(args=["jobs", "run", "--verbose"])
    assert talk.exit_code == 0 and "index: not due until" in talk.stdout
    forced = runner.invoke(args=["jobs", "run", "--job", "upload-cleanup", "-v"])
    assert "upload-cleanup: done in" in forced.stdout and "Removed 0 checked uploads" in forced.stdout
    listing = runner.invoke(args=["jobs", "list"])
    assert listing.exit_code == 0 and "upload-cleanup (daily): last ran" in listing.output
    assert "success in" in listing.output and "Removed 0 checked uploads" in listing.output


# --- failures ------------------------------------------------------------------------------------


def test_a_failure_is_recorded_exits_non_zero_and_shows_to_administrators(app, runner, monkeypatch):
    """A job that raises is recorded with its error, the others still run, and the command exits 1."""
    def broken(days):
        """Fail as a full disk would."""
        raise OSError("No space left on device")

    monkeypatch.setattr(demand, "prune", broken)
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 1
    assert "demand-prune: FAILED" in result.stderr and "No space left on device" in result.stderr
    assert "Failed: demand-prune." in result.output
    failed = row("demand-prune")
    assert failed.last_outcome is JobOutcome.FAILED and failed.last_success_at is None
    assert failed.last_error == "OSError: No space left on device" and failed.running_since is None
    assert row("upload-cleanup").last_outcome is JobOutcome.SUCCESS  # the next job still ran

    admin = staff(app, Role.ADMIN)
    page = text_of(admin.get("/admin/jobs"))
    assert "Failed" in page and "OSError: No space left on device" in page and "Search log" in page
    index = text_of(admin.get("/admin/"))
    assert "1 scheduled job is overdue or failing: Search log: fold old searches into daily counts." in index
    coordinator_index = text_of(staff(app, Role.COORDINATOR).get("/admin/"))
    assert "scheduled job" not in coordinator_index.lower() and "overdue or failing" not in coordinator_index


def test_a_failed_job_is_retried_after_an_hour_and_then_clears(app, monkeypatch):
    """A failed daily job is due again an hour later (not a day); a success clears the error."""
    monkeypatch.setattr(demand, "prune", lambda days: 1 / 0)
    failed_at = START
    assert run(failed_at, ["demand-prune"])["demand-prune"].failed
    monkeypatch.undo()
    assert ran(run(failed_at + timedelta(minutes=30), ["demand-prune"])) == []
    assert run(failed_at + timedelta(hours=1), ["demand-prune"])["demand-prune"].summary.startswith("Folded 0")
    cleared = row("demand-prune")
    assert cleared.last_outcome is JobOutcome.SUCCESS and cleared.last_error == ""
    assert ran(run(failed_at + timedelta(hours=2), ["demand-prune"])) == []  # back on the daily schedule


def test_an_index_write_that_fails_fails_the_job(app, monkeypatch):
    """Changes the index could not take make the index job fail, saying they are retried."""
    monkeypatch.setattr(get_service(), "sync", lambda: (3, 2))
    outcome = run(START, ["index"])["index"]
    assert outcome.failed and outcome.error.startswith("2 changes could not be indexed")
    assert row("index").last_error == outcome.error


def test_overdue_and_unfinished_jobs_need_attention(app):
    """A job cron has not started for two periods is overdue; a claim that never finished shows as failing."""
    assert {status.job.name for status in jobs.needing_attention(START)} == set(ALL)  # never run: cron not set up
    run(START)
    later = START + timedelta(minutes=25)
    assert [status.job.name for status in jobs.needing_attention(later)] == ["index"]
    assert jobs.claim(jobs.BY_NAME["demand-prune"], row("demand-prune").runs, START + timedelta(minutes=20))
    by_name = {status.job.name: status for status in jobs.statuses(later)}
    assert by_name["demand-prune"].running and not by_name["demand-prune"].needs_attention
    crashed = {status.job.name: status for status in jobs.statuses(START + timedelta(hours=7))}["demand-prune"]
    assert crashed.stalled and crashed.failing


# --- overlapping runs ----------------------------------------------------------------------------


def test_a_claim_succeeds_once_for_what_was_read(app):
    """Two runs that read the same row: one claims the job, the other cannot, even after the first finished."""
    job, day = jobs.BY_NAME["upload-cleanup"], START + timedelta(days=1)
    run(START, ["upload-cleanup"])
    seen = row("upload-cleanup").runs  # a slow run reads the row: the job is due
    assert ran(run(day, ["upload-cleanup"])) == ["upload-cleanup"]  # a quick run claims, runs and finishes it
    assert not jobs.claim(job, seen, day)  # the slow run cannot run it again
    seen = row("upload-cleanup").runs
    assert jobs.claim(job, seen, day)
    assert not jobs.claim(job, seen, day)  # two runs that read the same count: one wins
    assert not jobs.claim(job, seen + 1, day + timedelta(hours=1))  # held, and not yet given up
    assert jobs.claim(job, seen + 1, day + job.gives_up_after)  # the holder crashed: taken over


def test_overlapping_runs_never_run_a_job_twice(app, monkeypatch):
    """Four runs starting together and one forced run while it works: the job runs once."""
    started, release, calls = threading.Event(), threading.Event(), []

    def slow(progress):
        """Note the call and hold the job until the test lets go."""
        calls.append(threading.get_ident())
        started.set()
        assert release.wait(30)
        return "done"

    slow_job = jobs.Job("slow", "Slow", "Daily", timedelta(days=1), timedelta(hours=1), timedelta(hours=6), slow)
    monkeypatch.setattr(jobs, "JOBS", (slow_job,))
    monkeypatch.setattr(jobs, "BY_NAME", {"slow": slow_job})
    gate, outcomes = threading.Barrier(4), []

    def cron_run():
        """Run the jobs in an app context of its own, as another process would."""
        with app.app_context():
            gate.wait(30)
            outcomes.extend(jobs.run_jobs())
            db.session.remove()

    threads = [threading.Thread(target=cron_run) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert started.wait(30)
    deadline = time.monotonic() + 30
    while len(outcomes) < 3 and time.monotonic() < deadline:  # the three others look while it is running
        time.sleep(0.01)
    forced = list(jobs.run_jobs(["slow"], force=True))
    assert forced[0].skipped == "running elsewhere"
    release.set()
    for thread in threads:
        thread.join(30)
    assert len(calls) == 1
    assert sorted(outcome.skipped or outcome.summary for outcome in outcomes) == ["done"] + ["running elsewhere"] * 3
    assert row("slow").runs == 1 and row("slow").last_outcome is JobOutcome.SUCCESS


def test_the_purge_command_by_hand_counts_as_the_jobs_run(app, runner):
    """`flask feedback purge` works as before and is recorded as the purge job's run (so it is not due again)."""
    result = runner.invoke(args=["feedback", "purge"])
    assert result.exit_code == 0 and result.output.startswith("Removed 0 contact details")
    assert row("feedback-purge").last_outcome is JobOutcome.SUCCESS
    assert "feedback-purge" not in ran(run(datetime.now(timezone.utc) + timedelta(minutes=1)))


# --- dry-run uploads -----------------------------------------------------------------------------


def test_old_uploads_are_removed_and_new_ones_kept(app, instance_path):
    """Checked uploads nobody applied go after a day; newer ones, and files the job did not make, stay."""
    folder = instance_path / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    old, new, other = folder / ("a" * 32 + ".csv"), folder / ("b" * 32 + ".json"), folder / "README.txt"
    for path in (old, new, other):
        path.write_text("x")
    two_days_ago = (datetime.now(timezone.utc) - timedelta(days=2)).timestamp()
    for path in (old, other):
        os.utime(path, (two_days_ago, two_days_ago))
    outcome = run(datetime.now(timezone.utc), ["upload-cleanup"], force=True)["upload-cleanup"]
    assert outcome.summary == "Removed 1 checked uploads that were not applied within a day."
    assert not old.exists() and new.exists() and other.exists()


# --- who sees what -------------------------------------------------------------------------------


def test_only_administrators_see_the_jobs_page(app):
    """Providers and coordinators get 403 at /admin/jobs; anonymous visitors are sent to sign in."""
    assert app.view_functions["admin.scheduled_jobs"].required_role is Role.ADMIN
    assert staff(app, Role.PROVIDER).get("/admin/jobs").status_code == 403
    coordinator = staff(app, Role.COORDINATOR)
    assert coordinator.get("/admin/jobs").status_code == 403
    assert "Scheduled jobs" not in text_of(coordinator.get("/admin/"))
    assert "/account/sign-in" in app.test_client().get("/admin/jobs").headers["Location"]
    admin = staff(app, Role.ADMIN)
    page = admin.get("/admin/jobs")
    assert page.status_code == 200 and "Never run" in text_of(page) and "flask jobs run" in text_of(page)
    assert f"{len(jobs.JOBS)} scheduled jobs are overdue or failing" in text_of(admin.get("/admin/"))


def test_coordinators_see_when_the_purge_ran_but_no_cron_instructions(app, runner):
    """The feedback page says when the purge last ran; a job that has not run is for administrators only."""
    coordinator = staff(app, Role.COORDINATOR)
    before = text_of(coordinator.get("/coordinators/feedback/"))
    assert "never run" not in before and "scheduled job" not in before.lower()
    assert "cron" not in before and "flask" not in before
    assert "The retention purge has never run. See the scheduled jobs" in text_of(
        staff(app, Role.ADMIN).get("/coordinators/feedback/"))
    run(START, ["feedback-purge"])
    assert "Retention purge last ran 2 March 2026." in text_of(coordinator.get("/coordinators/feedback/"))

