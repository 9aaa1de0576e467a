"""Scheduled jobs: one cron entry (``flask jobs run`` every minute) runs each chore on its own schedule.

Each job calls the same service function its own command does (no copies) and
its row in ``ScheduledJob`` records when it last ran, how long it took and how
it ended.  Before running a job, a run *claims* it with one conditional UPDATE:
"set running_since = now and runs = runs + 1 where runs is still the count I
read and nobody holds it".  Only one of two overlapping runs can match, on
SQLite (writes are serialised) and PostgreSQL (the second UPDATE waits for the
first to commit, then re-checks the condition) alike; and a run that read the
row before another finished the job finds ``runs`` moved on, so the job is not
repeated either.  A claim older than the job's ``gives_up_after`` is taken to
be a crashed run and may be claimed again.

A failed job is tried again after ``retry_after`` (sooner than its schedule),
and is shown to administrators, as is a job that has not run for two of its
periods (cron stopped, or never set up).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from local_offer import alerts, backup, bounces, demand, feeds, interchange, reviews, shortlists
from local_offer.consultation_rules import retention as consultation_retention
from local_offer.extensions import db
from local_offer.feedback import retention
from local_offer.i18n import _l
from local_offer.models import JobOutcome, ScheduledJob, utcnow
from local_offer.search import get_service

#: Wraps an iterable in a progress bar with a label, as the commands show it (or None for no bar).
Progress = Callable[[str], Callable[[Iterable], Iterable]] | None

#: Cron starts each minute's run a second or two late: a job due "in 10 minutes" still runs at the tenth.
CRON_SLACK = timedelta(seconds=30)
#: Unapplied dry-run uploads older than this are removed.
UPLOAD_MAX_AGE = timedelta(days=1)
#: The longest error message kept on a job's row (the whole traceback goes to the log).
ERROR_LENGTH = 500


class JobFailed(Exception):
    """A job ran to the end but could not do all it should (its message says what is left)."""


@dataclass(frozen=True)
class Job:
    """A chore ``flask jobs run`` does on a schedule: ``run`` returns a one-line summary or raises."""

    name: str
    title: str
    schedule: str
    every: timedelta
    retry_after: timedelta
    gives_up_after: timedelta
    run: Callable[[Progress], str]
    #: Run by every server for itself (its own search index), not once for the whole site.
    per_server: bool = False

    @property
    def row_name(self) -> str:
        """Return the name of the row recording this job's runs: per server for a job each server runs."""
        if not self.per_server:
            return self.name
        return f"{self.name}@{server_label()}"[:ROW_NAME_LENGTH]


#: The length of ``ScheduledJob.name``.
ROW_NAME_LENGTH = 40


def server_label() -> str:
    """Return this server's name, as administrators see it beside jobs each server runs (``SERVER_LABEL``)."""
    return current_app.config.get("SERVER_LABEL") or socket.gethostname() or "this server"


def _bar(progress: Progress, label: str):
    """Return the progress wrapper for ``label``, or None when there is no bar to show."""
    return progress(label) if progress else None


def _index(progress: Progress) -> str:
    """Index waiting changes, then compare the index with the database and repair it."""
    service = get_service()
    indexed, failed = service.sync()
    report = service.check(repair=True)
    differences = ", ".join(f"{len(ids)} {kind}" for kind, ids in report.items())
    summary = f"Indexed {indexed} changed documents; the check found and repaired {differences}."
    if failed:
        raise JobFailed(f"{failed} changes could not be indexed and are retried on the next run. {summary}")
    return summary


def _review_reminders(progress: Progress) -> str:
    """Email providers whose listings are due for review."""
    report = reviews.remind(progress=_bar(progress, "Sending reminders"))
    summary = (f"Sent {report.emails} emails about {report.listings} listings; skipped {report.already_reminded} "
               f"already reminded; {report.no_address} with no address.")
    if report.failed:
        raise JobFailed(f"{report.failed} emails could not be sent (see the log); their listings are tried again "
                        f"on the next run. {summary}")
    return summary


def _feedback_purge(progress: Progress) -> str:
    """Remove contact details and unpublished words past the retention period."""
    result = retention.purge()
    return (f"Removed {result.contacts} contact details and {result.replies} replies; anonymised "
            f"{result.anonymised} unpublished comments and {result.originals} redacted originals older than "
            f"{current_app.config['FEEDBACK_RETENTION_DAYS']} days.")


def _consultation_retention(progress: Progress) -> str:
    """Delete half-finished consultation answers and empty unpublished written answers past their time."""
    result = consultation_retention.purge()
    return (f"Deleted {result.half_finished} half-finished consultation responses (kept "
            f"{consultation_retention.HALF_FINISHED_DAYS} days after closing); emptied {result.texts} unpublished "
            f"written answers and {result.originals} redacted originals (kept 12 months after closing).")


def _demand_prune(progress: Progress) -> str:
    """Fold old search-log rows into daily counts."""
    removed = demand.prune(current_app.config["SEARCH_LOG_DAYS"])
    return f"Folded {removed} old searches into daily counts."


def _upload_cleanup(progress: Progress) -> str:
    """Remove dry-run uploads nobody applied within a day."""
    removed = interchange.remove_old_uploads(UPLOAD_MAX_AGE)
    return f"Removed {removed} checked uploads that were not applied within a day."


def _shortlist_expiry(progress: Progress) -> str:
    """Remove shortlists nobody has used for ``SHORTLIST_KEEP_DAYS`` days."""
    days = current_app.config["SHORTLIST_KEEP_DAYS"]
    removed = shortlists.expire(days)
    return f"Removed {removed} shortlists unused for {days} days."


def _alert_digests(progress: Progress) -> str:
    """Email each confirmed search alert due its weekly digest the services new to its search."""
    report = alerts.send_digests()
    summary = (f"Sent {report.sent} search alert emails naming {report.listings} services; {report.nothing_new} "
               f"due had nothing new; {report.bounced} addresses refused for good and stopped.")
    if report.failed:
        raise JobFailed(f"{report.failed} search alert emails could not be sent (see the log); they are tried again "
                        f"on the next run. {summary}")
    return summary


def _alert_expiry(progress: Progress) -> str:
    """Remove search alerts nobody confirmed within ``ALERT_PENDING_DAYS`` days (and stopped ones as long after)."""
    removed = alerts.expire()
    return f"Removed {removed} search alerts unconfirmed or stopped for {current_app.config['ALERT_PENDING_DAYS']} days."


def _alert_bounces(progress: Progress) -> str:
    """Read bounce notifications from ``ALERT_BOUNCE_MAILDIR`` and stop alerts to addresses that failed for good."""
    folder = current_app.config.get("ALERT_BOUNCE_MAILDIR") or ""
    if not folder:
        return "No bounce mailbox is set up, so only addresses refused while sending are stopped."
    if not os.path.isdir(os.path.join(folder, "new")) or not os.path.isdir(os.path.join(folder, "cur")):
        raise JobFailed(f"The bounce mailbox {folder} is not a Maildir folder (it needs new/ and cur/ inside).")
    report = bounces.read_mailbox(folder, _bar(progress, "Reading bounce notifications"))
    return (f"Read {report.read} bounce notifications naming {len(report.addresses)} addresses; stopped "
            f"{report.stopped} search alerts; left {report.left} other messages for a person.")


def _feeds(progress: Progress) -> str:
    pulled = feeds.pull_due()
    if not pulled:
        return "No neighbour's feed was due."
    failed = [feed.name for feed, report in pulled if report["problem"]]
    lines = [f"{feed.name}: {feeds.summary(report)}" for feed, report in pulled]
    if failed and len(failed) == len(pulled):
        raise JobFailed("; ".join(lines))
    return " ".join(lines)


def _backups(progress: Progress) -> str:
    """Back the site up into ``BACKUP_FOLDER`` and remove our backups there older than ``BACKUP_KEEP_DAYS``."""
    path, manifest = backup.create(progress=progress)
    removed = backup.prune()
    rows = sum(table["rows"] for table in manifest["tables"])
    return (f"Wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {rows} rows); removed {len(removed)} backups older "
            f"than {current_app.config['BACKUP_KEEP_DAYS']} days.")


_DAY, _HOUR = timedelta(days=1), timedelta(hours=1)

JOBS: tuple[Job, ...] = (
    Job("index", _l("Search index: index waiting changes, check and repair"), _l("Every 10 minutes"),
        every=timedelta(minutes=10), retry_after=timedelta(minutes=10), gives_up_after=_HOUR, run=_index,
        per_server=True),
    Job("review-reminders", _l("Review reminders to providers"), _l("Daily"),
        every=_DAY, retry_after=_HOUR, gives_up_after=6 * _HOUR, run=_review_reminders),
    Job("feedback-purge", _l("Feedback retention purge"), _l("Daily"),
        every=_DAY, retry_after=_HOUR, gives_up_after=6 * _HOUR, run=_feedback_purge),
    Job("consultation-retention", _l("Consultations: remove half-finished and unpublished answers past their time"),
        _l("Daily"), every=_DAY, retry_after=_HOUR, gives_up_after=6 * _HOUR, run=_consultation_retention),
    Job("demand-prune", _l("Search log: fold old searches into daily counts"), _l("Daily"),
        every=_DAY, retry_after=_HOUR, gives_up_after=6 * _HOUR, run=_demand_prune),
    Job("upload-cleanup", _l("Remove checked uploads nobody applied"), _l("Daily"),
        every=_DAY, retry_after=_HOUR, gives_up_after=6 * _HOUR, run=_upload_cleanup),
    Job("shortlist-expiry", _l("Remove shortlists nobody has used for months"), _l("Daily"),
        every=_DAY, retry_after=_HOUR, gives_up_after=6 * _HOUR, run=_shortlist_expiry),
    Job("alert-digests", _l("Search alerts: weekly emails about new results"), _l("Daily"),
        every=_DAY, retry_after=_HOUR, gives_up_after=6 * _HOUR, run=_alert_digests),
    Job("alert-expiry", _l("Remove search alerts nobody confirmed within a week"), _l("Daily"),
        every=_DAY, retry_after=_HOUR, gives_up_after=6 * _HOUR, run=_alert_expiry),
    Job("alert-bounces", _l("Search alerts: stop emailing addresses whose mail came back"), _l("Every hour"),
        every=_HOUR, retry_after=_HOUR, gives_up_after=_HOUR, run=_alert_bounces),
    Job("feeds", _l("Neighbours' directories: pull their feeds (each every 6 hours, or when asked)"),
        _l("Every hour"), every=_HOUR, retry_after=_HOUR, gives_up_after=6 * _HOUR, run=_feeds),
    Job("backups", _l("Back up the database, secret key and uploads; remove old backups"), _l("Daily"),
        every=_DAY, retry_after=_HOUR, gives_up_after=6 * _HOUR, run=_backups),
)
BY_NAME = {job.name: job for job in JOBS}


# --- running ---------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one job did in one run: ran (and how it ended) or was skipped (and why)."""

    job: Job
    skipped: str = ""
    failed: bool = False
    summary: str = ""
    error: str = ""
    seconds: float = 0.0


def _ensure_rows() -> None:
    """Add a row for each job that has none yet (another run adding it at the same moment is fine)."""
    present = set(db.session.execute(select(ScheduledJob.name)).scalars())
    for job in JOBS:
        if job.row_name in present:
            continue
        db.session.add(ScheduledJob(name=job.row_name, runs=0, last_summary="", last_error=""))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()


def _holds(row: ScheduledJob, job: Job, now: datetime) -> bool:
    """Say whether a run holds the job now (a claim older than ``gives_up_after`` has crashed)."""
    return row.running_since is not None and now - row.running_since < job.gives_up_after


def next_due(job: Job, row: ScheduledJob) -> datetime | None:
    """Return when a job is next due: its period after it last started (its retry delay after a failure)."""
    if row.last_started_at is None:
        return None
    wait = job.retry_after if row.last_outcome is JobOutcome.FAILED else job.every
    return row.last_started_at + wait


def is_due(job: Job, row: ScheduledJob, now: datetime) -> bool:
    """Say whether a job is due: never run, or due by now (give or take cron's lateness)."""
    due = next_due(job, row)
    return due is None or now >= due - CRON_SLACK


def claim(job: Job, seen_runs: int, now: datetime) -> bool:
    """Take the job for this run, atomically; False when another run holds it or ran it since ``seen_runs``."""
    result = db.session.execute(
        update(ScheduledJob)
        .where(ScheduledJob.name == job.row_name, ScheduledJob.runs == seen_runs,
               or_(ScheduledJob.running_since.is_(None), ScheduledJob.running_since <= now - job.gives_up_after))
        .values(runs=seen_runs + 1, running_since=now, last_started_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _finish(job: Job, runs: int, outcome: Outcome, started: datetime) -> None:
    """Record how the run ended, unless a later run has since taken the job over as crashed."""
    finished = started + timedelta(seconds=outcome.seconds)
    values = {"running_since": None, "last_finished_at": finished, "last_seconds": outcome.seconds,
              "last_summary": outcome.summary, "last_error": outcome.error,
              "last_outcome": JobOutcome.FAILED if outcome.failed else JobOutcome.SUCCESS}
    if not outcome.failed:
        values["last_success_at"] = finished
    result = db.session.execute(update(ScheduledJob).where(ScheduledJob.name == job.row_name,
                                                           ScheduledJob.runs == runs)
                                .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount != 1:
        current_app.logger.warning("Job %s finished after another run took it over; its outcome is not recorded.",
                                   job.name)


def _describe(error: Exception) -> str:
    """Return the first line of an error, for the administrators' page (database errors carry SQL after it)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if not isinstance(error, JobFailed):
        text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text[:ERROR_LENGTH]


def _run_claimed(job: Job, runs: int, started: datetime, progress: Progress) -> Outcome:
    """Run a claimed job, catching any failure, and record how it ended."""
    outcome, clock = Outcome(job), time.monotonic()
    try:
        outcome.summary = job.run(progress)
    except Exception as error:  # one job's failure is recorded and must not stop the others
        db.session.rollback()
        outcome.failed, outcome.error = True, _describe(error)
        if isinstance(error, JobFailed):
            current_app.logger.warning("Job %s failed: %s", job.name, error)
        else:
            current_app.logger.exception("Job %s failed", job.name)
    outcome.seconds = round(time.monotonic() - clock, 3)
    _finish(job, runs, outcome, started)
    return outcome


def run_jobs(names: Iterable[str] | None = None, *, force: bool = False, progress: Progress = None,
             clock: Callable[[], datetime] = utcnow) -> Iterator[Outcome]:
    """Run each job that is due (every one named, with ``force``), one after another; yield what each did.

    A job another run holds is skipped, forced or not.
    """
    _ensure_rows()
    wanted = set(names) if names is not None else set(BY_NAME)
    for job in JOBS:
        if job.name not in wanted:
            continue
        now = clock()
        row = db.session.get(ScheduledJob, job.row_name, populate_existing=True)
        seen_runs = row.runs  # read once: the commit after claiming reloads the row
        if _holds(row, job, now):
            yield Outcome(job, skipped="running elsewhere")
        elif not force and not is_due(job, row, now):
            yield Outcome(job, skipped=f"not due until {next_due(job, row):%Y-%m-%d %H:%M} UTC")
        elif not claim(job, seen_runs, now):
            yield Outcome(job, skipped="running elsewhere")
        else:
            yield _run_claimed(job, seen_runs + 1, now, progress)


# --- what administrators see -----------------------------------------------------------------------


@dataclass
class JobStatus:
    """A job with its last run, as the administrators' page shows it."""

    job: Job
    row: ScheduledJob | None
    now: datetime
    #: For a job each server runs for itself, the server ("" for this one, or a job run once for the site).
    server: str = ""

    @property
    def where(self) -> str:
        """Return which server this status is for, in words ("" for a job run once for the whole site)."""
        if not self.job.per_server:
            return ""
        return self.server or server_label()

    @property
    def running(self) -> bool:
        """Say whether a run holds the job now."""
        return self.row is not None and _holds(self.row, self.job, self.now)

    @property
    def stalled(self) -> bool:
        """Say whether a run took the job and never finished (it crashed or was killed)."""
        return self.row is not None and self.row.running_since is not None and not self.running

    @property
    def failing(self) -> bool:
        """Say whether the last run failed or never finished."""
        return self.stalled or (self.row is not None and not self.running
                                and self.row.last_outcome is JobOutcome.FAILED)

    @property
    def overdue(self) -> bool:
        """Say whether the job has not started for two of its periods (or ever): cron is not running it."""
        started = self.row.last_started_at if self.row else None
        return started is None or self.now - started > 2 * self.job.every

    @property
    def needs_attention(self) -> bool:
        """Say whether administrators should look at this job."""
        return self.failing or self.overdue


def statuses(now: datetime | None = None) -> list[JobStatus]:
    """Return every job with its last run, in the order ``flask jobs run`` runs them.

    A job each server runs for itself is listed once per server that has run it (this server's first).
    """
    now = now or utcnow()
    rows = {row.name: row for row in db.session.execute(select(ScheduledJob)).scalars()}
    found = []
    for job in JOBS:
        found.append(JobStatus(job, rows.get(job.row_name), now))
        if job.per_server:
            found += [JobStatus(job, row, now, server=name.partition("@")[2]) for name, row in sorted(rows.items())
                      if name.startswith(f"{job.name}@") and name != job.row_name]
    return found


def needing_attention(now: datetime | None = None) -> list[JobStatus]:
    """Return the jobs that are overdue or failing."""
    return [status for status in statuses(now) if status.needs_attention]


def last_success(name: str) -> datetime | None:
    """Return when a job last finished without failing, or None."""
    return db.session.execute(select(ScheduledJob.last_success_at)
                              .where(ScheduledJob.name == BY_NAME[name].row_name)).scalar()
