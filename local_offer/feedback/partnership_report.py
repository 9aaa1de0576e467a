"""The partnership report: how much feedback came in, about what and from whom, against the period before.

The board reads it as a page (each count beside an accessible chart drawn by
``charts``; the page prints as an A4 document), as a Word document
(``report_document``) or as CSV for its papers.  A count is always said with
the period before in words ("41 (none last year)"), never as a bare sign.  Days are the council's local days, as
the pages show them, and priorities are counted under their current wording.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from local_offer import demand_report
from local_offer.extensions import db
from local_offer.feedback.charts import bar_chart
from local_offer.feedback.labels import RESPONDENT_LABELS, TOPIC_SHORT
from local_offer.feedback.tags import active_priorities
from local_offer.formats import spreadsheet_safe
from local_offer.i18n import _, _l
from local_offer.models import CouncilResponse, Feedback, FeedbackStatus, ResponseStatus

#: How many rows of searches not found the report gives (the coordinators' page has them all).
DEMAND_ROWS = 10
SECTION_TITLES = {"topic": _l("By topic"), "priority": _l("By partnership priority"), "theme": _l("By theme"),
                  "respondent": _l("By who it came from")}


@dataclass
class Row:
    """A count for one category in this period and the one before."""

    label: str
    current: int
    previous: int

    @property
    def change(self) -> int:
        """Return the change from the previous period."""
        return self.current - self.previous


@dataclass
class PartnershipReport:
    """Counts of feedback by topic, priority, theme and who it came from, with the period before."""

    start: date
    end: date
    previous_start: date
    previous_end: date
    total: Row
    sections: dict[str, list[Row]] = field(default_factory=dict)
    responses: list[CouncilResponse] = field(default_factory=list)
    published: int = 0
    excluded: int = 0
    #: What families looked for and did not find in the period (searches by need or activity and district).
    demand: demand_report.DemandReport | None = None

    @property
    def unmet(self) -> list[demand_report.DemandRow]:
        """Return the rows of searches most often not found (5 or more searches), at most ten."""
        if self.demand is None:
            return []
        return [row for row in self.demand.rows if row.visible and row.unmet][:DEMAND_ROWS]

    @property
    def yearly(self) -> bool:
        """Say whether the period is a year, so the one before is "last year"."""
        return (self.end - self.start).days + 1 in (365, 366)

    def compared(self, row: Row) -> str:
        """Say a row's count with the period before's: "41 (none last year)"."""
        return compared(row.current, row.previous, self.yearly)

    def before(self, row: Row) -> str:
        """Say a row's count in the period before: "none last year"."""
        return before(row.previous, self.yearly)


def compared(current: int, previous: int, yearly: bool) -> str:
    """Say a count with the one before it in words: "41 (30 last year)", "41 (none in the period before)"."""
    return str(_("%(now)s (%(before)s)", now=f"{current:,}", before=before(previous, yearly)))


def before(previous: int, yearly: bool) -> str:
    """Say the count before in words: "30 last year", "none last year", "none in the period before"."""
    if yearly:
        return str(_("none last year") if previous == 0 else _("%(num)s last year", num=f"{previous:,}"))
    return str(_("none in the period before") if previous == 0
               else _("%(num)s in the period before", num=f"{previous:,}"))


def change_words(current: int, previous: int) -> str:
    """Say how a count changed in words: "11 more", "3 fewer", "no change"."""
    if current == previous:
        return str(_("no change"))
    if current > previous:
        return str(_("%(num)s more", num=f"{current - previous:,}"))
    return str(_("%(num)s fewer", num=f"{previous - current:,}"))


def local_zone() -> ZoneInfo:
    """Return the council's time zone: report days start at local midnight, as the pages show them."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today() -> date:
    """Return today's date where the council is."""
    return datetime.now(local_zone()).date()


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Return the moments a run of local days (inclusive) starts and ends."""
    zone = local_zone()
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))


def report(start: date, end: date) -> PartnershipReport:
    """Count the feedback left between two dates (inclusive), against the same length of time before."""
    length = (end - start).days + 1
    previous_end = start - timedelta(days=1)
    previous_start = previous_end - timedelta(days=length - 1)

    def rows_in(first: date, last: date) -> list[Feedback]:
        """Return the comments left on these days, with their priority and themes."""
        low, high = _bounds(first, last)
        return list(db.session.execute(select(Feedback).where(Feedback.created_at >= low, Feedback.created_at < high)
                                       .options(selectinload(Feedback.priority), selectinload(Feedback.themes)))
                    .scalars())

    now_rows, before_rows = rows_in(start, end), rows_in(previous_start, previous_end)
    current_titles = {priority.code: priority.title for priority in active_priorities()}

    def count(rows, key) -> Counter:
        """Count the comments under each label the key gives them."""
        counter: Counter = Counter()
        for row in rows:
            for label in key(row):
                counter[label] += 1
        return counter

    def section(key, order: list[str]) -> list[Row]:
        """Return one section's rows: the fixed labels in order, then any others that have counts."""
        now, before = count(now_rows, key), count(before_rows, key)
        labels = order + sorted(label for label in set(now) | set(before) if label not in order)
        return [Row(label, now.get(label, 0), before.get(label, 0)) for label in labels
                if label in order or now.get(label) or before.get(label)]

    def priority_key(row):
        """Label a comment with its priority's current wording."""
        if row.priority is None:
            return [str(_("No priority given"))]
        return [current_titles.get(row.priority.code, row.priority.title)]

    result = PartnershipReport(start, end, previous_start, previous_end,
                               Row(str(_("All feedback")), len(now_rows), len(before_rows)))
    result.sections = {
        "topic": section(lambda row: [str(TOPIC_SHORT[row.topic])], [str(label) for label in TOPIC_SHORT.values()]),
        "priority": section(priority_key, list(current_titles.values())),
        "theme": section(lambda row: [theme.name for theme in row.themes] or [str(_("No theme yet"))], []),
        "respondent": section(lambda row: [str(RESPONDENT_LABELS[row.respondent])],
                              [str(label) for label in RESPONDENT_LABELS.values()]),
    }
    result.published = sum(1 for row in now_rows if row.status is FeedbackStatus.PUBLISHED)
    result.excluded = sum(1 for row in now_rows if row.status is FeedbackStatus.EXCLUDED)
    low, high = _bounds(start, end)
    result.responses = list(db.session.execute(
        select(CouncilResponse).where(CouncilResponse.status == ResponseStatus.PUBLISHED,
                                      CouncilResponse.published_at >= low, CouncilResponse.published_at < high)
        .options(selectinload(CouncilResponse.feedback)).order_by(CouncilResponse.published_at)).scalars())
    result.demand = demand_report.build(start, end)
    return result


def section_charts(result: PartnershipReport) -> dict[str, Markup]:
    """Draw each section of the report as a chart of this period against the one before."""
    return {key: bar_chart(f"chart-{key}", str(SECTION_TITLES[key]), rows, result.compared,
                           _("This period"), previous_label(result))
            for key, rows in result.sections.items()}


def previous_label(result: PartnershipReport) -> str:
    """Name the period before in a heading or legend: "Last year" or "Period before"."""
    return str(_("Last year") if result.yearly else _("Period before"))


def report_csv(result: PartnershipReport) -> str:
    """Return the report's counts as CSV, one row per category (formulas neutralised for spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "category", f"{result.start}..{result.end}",
                     f"{result.previous_start}..{result.previous_end}", "change"])
    writer.writerow(["total", result.total.label, result.total.current, result.total.previous, result.total.change])
    for key, rows in result.sections.items():
        for row in rows:
            writer.writerow([key, spreadsheet_safe(row.label), row.current, row.previous, row.change])
    for row in result.unmet:
        writer.writerow(["searches not found", spreadsheet_safe(f"{row.what}; {row.ages}; {row.place}"),
                         demand_report.say(row.searches), "", ""])
    return buffer.getvalue()
