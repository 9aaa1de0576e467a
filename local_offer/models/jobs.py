"""Scheduled jobs: one row per job, saying when it last ran, how long it took and how it ended.

``flask jobs run`` (see ``local_offer.jobs``) claims a row before running its
job with one conditional UPDATE, so two runs that overlap never start the same
job twice, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, enum_column


class JobOutcome(enum.Enum):
    """How a job's last run ended."""

    SUCCESS = "success"
    FAILED = "failed"


class ScheduledJob(db.Model):
    """A job ``flask jobs run`` runs on its schedule, and how its last run went."""

    #: The job's name, as ``flask jobs run --job NAME`` takes it.
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    #: How many runs have claimed the job: the claim only succeeds against the count it read.
    runs: Mapped[int] = mapped_column(Integer, default=0)
    #: Set while a run holds the job; a claim this old is taken to have crashed.
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seconds: Mapped[float | None] = mapped_column(Float)
    last_outcome: Mapped[JobOutcome | None] = mapped_column(enum_column(JobOutcome, "job_outcome"))
    #: What the last run did, in a line ("Sent 3 emails about 4 listings").
    last_summary: Mapped[str] = mapped_column(Text, default="")
    #: Why the last run failed; empty after a success.
    last_error: Mapped[str] = mapped_column(Text, default="")
