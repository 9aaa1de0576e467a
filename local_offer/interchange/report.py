"""What an import did, or would do, to each record, and how a person reads it.

The same report is printed by ``flask oruk import`` and ``flask import csv`` and
shown to coordinators after an upload, so a dry run and the real thing are
described in the same words.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

#: Every outcome a record can have, in the order the totals line gives them.
ACTIONS = ("created", "updated", "skipped", "rejected")


@dataclass
class Outcome:
    """What happened (or would happen) to one record, and why."""

    source_id: str
    name: str
    action: str  # one of ACTIONS
    reason: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """Everything an import did or would do."""

    outcomes: list[Outcome] = field(default_factory=list)
    applied: bool = False

    @property
    def counts(self) -> Counter:
        """Return how many records had each outcome."""
        return Counter(outcome.action for outcome in self.outcomes)


def report_lines(report: ImportReport) -> list[str]:
    """Return the report as lines of text for a person."""
    lines = []
    for outcome in report.outcomes:
        line = f"{outcome.action:9} {outcome.source_id[:40]:40} {outcome.name[:50]}"
        if outcome.reason:
            line += f"  ({outcome.reason})"
        lines.append(line)
        lines.extend(f"{'':9} warning: {warning}" for warning in outcome.warnings)
    counts = report.counts
    verb = "" if report.applied else "would be "
    lines.append(", ".join(f"{counts.get(action, 0)} {verb}{action}" for action in ACTIONS))
    return lines
