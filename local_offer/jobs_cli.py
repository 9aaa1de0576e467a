"""``flask jobs``: the one cron entry that runs every scheduled job when it is due, and their record.

    * * * * * cd /srv/local-offer && .venv/bin/flask jobs run

At a terminal ``flask jobs run`` says what each job did, with progress bars;
under cron it prints nothing unless a job fails (cron mails what a command
prints), and exits non-zero then.  Every run is recorded in the database:
``flask jobs list`` and the administrators' "Scheduled jobs" page show it.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from local_offer import jobs
from local_offer.cli import _progress

jobs_cli = AppGroup("jobs", help="Scheduled jobs: run those that are due (every minute from cron); list them.")


def _when(moment) -> str:
    """Write a stored time for the screen, in UTC to the minute."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _outcome_line(outcome: jobs.Outcome) -> str:
    """Describe what one job did in this run, in a line."""
    if outcome.skipped:
        return f"{outcome.job.name}: {outcome.skipped}"
    if outcome.failed:
        return f"{outcome.job.name}: FAILED after {outcome.seconds:.1f} s: {outcome.error}"
    return f"{outcome.job.name}: done in {outcome.seconds:.1f} s: {outcome.summary}"


@jobs_cli.command("run")
@click.option("--all", "everything", is_flag=True, help="Run every job now, whether it is due or not.")
@click.option("--job", "names", multiple=True, type=click.Choice(list(jobs.BY_NAME)),
              help="Run this job now, whether it is due or not (repeatable).")
@click.option("--verbose", "-v", is_flag=True, help="Say what each job did even when not at a terminal.")
def jobs_run(everything: bool, names: tuple[str, ...], verbose: bool) -> None:
    """Run every job that is due, each on its own schedule (safe to run every minute, and to overlap)."""
    if everything and names:
        raise click.UsageError("Give --all or --job, not both.")
    talk = verbose or sys.stdout.isatty()
    failed = []
    for outcome in jobs.run_jobs(names or None, force=everything or bool(names), progress=_progress if talk else None):
        if outcome.failed:
            failed.append(outcome.job.name)
            click.echo(_outcome_line(outcome), err=True)
        elif talk:
            click.echo(_outcome_line(outcome))
    if failed:
        raise click.ClickException(f"Failed: {', '.join(failed)}. Each is tried again on a later run; "
                                   "`flask jobs list` and the administrators' Scheduled jobs page show why.")


@jobs_cli.command("list")
def jobs_list() -> None:
    """Show each job, its schedule, when it last ran and how it ended."""
    for status in jobs.statuses():
        row = status.row
        if status.running:
            state = f"running since {_when(row.running_since)}"
        elif status.stalled:
            state = f"did not finish (started {_when(row.running_since)})"
        elif row is None or row.last_outcome is None:
            state = "never run"
        else:
            state = f"{row.last_outcome.value} in {row.last_seconds:.1f} s"
        warning = " [OVERDUE]" if status.overdue else ""
        where = f" on {status.where}" if status.where else ""
        click.echo(f"{status.job.name}{where} ({status.job.schedule.lower()}){warning}: last ran "
                   f"{_when(row.last_started_at if row else None)}, {state}")
        if row is not None and (row.last_error or row.last_summary):
            click.echo(f"    {row.last_error or row.last_summary}")
