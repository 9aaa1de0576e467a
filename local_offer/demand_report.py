"""What families looked for and did not find: searches by need or activity, age and district, beside the supply.

Built from the anonymous search log (``demand``): the daily counts by concept,
age band and area kept after the raw log is pruned, and the raw rows not pruned
yet.  Words are never read here, only concepts.  Each row (a need or activity,
an age band, a district, or "elsewhere or no place given") is set beside the
public listings we hold for it there: how many, how many run in the school
holidays and how many are free.

Small numbers are never shown: a count below 5 reads "fewer than 5", and every
total on the page, in the CSV and on the map adds up only figures that are
shown, so a hidden number can never be worked out by subtraction.  Every count
shown is also rounded to the nearest 5: the reader chooses the period, so exact
counts for two overlapping periods would give away a small one by difference.
"""

from __future__ import annotations

import csv
import io
from html import escape
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import format_date
from markupsafe import Markup
from sqlalchemy import select

from local_offer import districts as district_list
from local_offer.demand import AGE_BANDS, FEW_RESULTS, concept_table, described_row
from local_offer.extensions import db
from local_offer.formats import spreadsheet_safe
from local_offer.i18n import _, current_language, ngettext
from local_offer.listings.queries import listed_listings
from local_offer.models import (
    Listing,
    ListingTerm,
    Location,
    Schedule,
    SchedulePeriod,
    SearchDemandArea,
    SearchLog,
    ServiceAtLocation,
    Term,
    Vocabulary,
)

#: Counts below this are shown as "fewer than 5".
SMALL = 5
#: How many needs and activities the trends show.
TREND_CONCEPTS = 3
#: The service areas that cover every district.
EVERYWHERE = {"county-wide", "countywide", "county wide"}


def shown(value: int) -> int | None:
    """Return a count that may be shown, or None when it is too small to show."""
    return value if value >= SMALL else None


def say(value: int) -> str:
    """Say a count of searches as the page shows it: rounded to 5 ("140"), "0", or "fewer than 5"."""
    return f"{rounded(value):,}" if value >= SMALL or value == 0 else str(_("fewer than 5"))


def rounded(value: int) -> int:
    """Round a count to the nearest 5 (halves up)."""
    return 5 * int((value + 2.5) // 5)


@dataclass
class DemandRow:
    """Searches for one need or activity, age band and district, beside the listings we hold for it there."""

    concept: str
    age_band: str
    #: The district's id, or "" for elsewhere or no place given.
    district_id: str
    searches: int = 0
    without: int = 0
    few: int = 0
    what: str = ""
    place: str = ""
    listings: int = 0
    holidays: int = 0
    free: int = 0
    months: dict[date, int] = field(default_factory=dict)

    @property
    def visible(self) -> bool:
        """Say whether the row has enough searches for its figures to be shown."""
        return self.searches >= SMALL

    @property
    def unmet(self) -> int:
        """Return the shown searches with no or few results (hidden figures count as none), for sorting."""
        return (shown(self.without) or 0) + (shown(self.few) or 0)

    @property
    def ages(self) -> str:
        """Say the age band in words: "11 to 15 year olds", or "any age"."""
        return age_words(self.age_band)

    @property
    def ages_short(self) -> str:
        """Say the age band briefly for a table cell: "11 to 15", or "Any"."""
        band = _band_range(self.age_band)
        return str(_("%(low)s to %(high)s", low=band[0], high=band[1]) if band else _("Any"))

    def sentence(self) -> str:
        """Say the row in one sentence, as a commissioner would read it."""
        who = "" if not self.age_band else " " + str(_("for %(ages)s", ages=self.ages))
        where = (" " + str(_("in %(district)s", district=self.place)) if self.district_id
                 else " " + str(_("elsewhere or with no place given")))
        listings = ngettext("%(num)s listing", "%(num)s listings", self.listings) if self.listings \
            else _("no listings")
        if not self.concept:
            return str(_("%(what)s%(who)s%(where)s: %(searches)s searches, %(without)s with no results.",
                         what=self.what, who=who, where=where, searches=say(self.searches),
                         without=say(self.without)))
        holidays = _("none in the school holidays") if not self.holidays \
            else _("%(num)s in the school holidays", num=self.holidays)
        free = _("none free") if not self.free else _("%(num)s free", num=self.free)
        return str(_("%(what)s%(who)s%(where)s: %(searches)s searches, %(without)s with no results; "
                     "%(listings)s, %(holidays)s, %(free)s.", what=self.what, who=who, where=where,
                     searches=say(self.searches), without=say(self.without), listings=listings,
                     holidays=holidays, free=free))


@dataclass
class DistrictTotal:
    """A district's searches, adding up only the figures the table shows, and where to draw it."""

    name: str
    searches: int = 0
    without: int = 0
    few: int = 0
    latitude: float | None = None
    longitude: float | None = None
    #: Whether some of the district's rows were too small to show (then a total of none is not said as "0").
    some_hidden: bool = False

    def say(self, value: int) -> str:
        """Say one of the district's totals: "fewer than 5" rather than "0" when small rows were left out."""
        return str(_("fewer than 5")) if value == 0 and self.some_hidden else say(value)


@dataclass
class Trend:
    """One need or activity's searches month by month (rounded to 5, small ones hidden)."""

    what: str
    months: list[tuple[date, int]]


@dataclass
class DemandReport:
    """The rows, the districts' totals and the trends for a period."""

    start: date
    end: date
    rows: list[DemandRow] = field(default_factory=list)
    districts: list[DistrictTotal] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)
    months: list[date] = field(default_factory=list)

    @property
    def hidden_rows(self) -> int:
        """Return how many rows have fewer than 5 searches."""
        return sum(1 for row in self.rows if not row.visible)

    def month_rows(self) -> list[tuple[str, list[str]]]:
        """Return each month ("March 2026") with the trends' searches that month, as the table says them."""
        return [(format_date(month, "MMMM y"), [month_value(dict(trend.months).get(month, 0)) for trend in self.trends])
                for month in self.months]

    @property
    def shown_searches(self) -> int:
        """Return the searches in the rows with 5 or more (the only total the page gives), rounded to 5."""
        return rounded(sum(row.searches for row in self.rows if row.visible))


def age_words(band: str) -> str:
    """Say an age band in words: "11-15" -> "11 to 15 year olds"; "" -> "any age"."""
    for name, low, high in AGE_BANDS:
        if name == band:
            return str(_("%(low)s to %(high)s year olds", low=low, high=high))
    return str(_("any age"))


def month_starts(start: date, end: date) -> list[date]:
    """Return the first day of every month a period touches."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _counts(start: date, end: date) -> dict[tuple, list]:
    """Return (concept, age band, area) -> [searches, without results, few results, {month: searches}]."""
    counts: dict[tuple, list] = {}

    def add(key, month, searches, without, few):
        """Add one day's (or one search's) figures to a key."""
        bucket = counts.setdefault(key, [0, 0, 0, {}])
        bucket[0] += searches
        bucket[1] += without
        bucket[2] += few
        bucket[3][month] = bucket[3].get(month, 0) + searches

    for row in db.session.execute(select(
            SearchDemandArea.day, SearchDemandArea.concept, SearchDemandArea.age_band, SearchDemandArea.area,
            SearchDemandArea.searches, SearchDemandArea.without_results, SearchDemandArea.few_results)
            .where(SearchDemandArea.day >= start, SearchDemandArea.day <= end).order_by(SearchDemandArea.id)):
        add((row.concept, row.age_band, row.area), row.day.replace(day=1), row.searches, row.without_results,
            row.few_results)
    low = datetime.combine(start, time.min, tzinfo=timezone.utc)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.utc)
    logged = db.session.execute(select(
        SearchLog.occurred_at, SearchLog.words, SearchLog.filters, SearchLog.place, SearchLog.results,
        SearchLog.concepts, SearchLog.age_band, SearchLog.area)
        .where(SearchLog.occurred_at >= low, SearchLog.occurred_at < high).order_by(SearchLog.id)).all()
    table = concept_table() if logged else None
    places: dict[str, str] = {}
    for row in logged:
        month = row.occurred_at.date().replace(day=1)
        for key in described_row(row, places, table):
            add(key, month, 1, 1 if row.results == 0 else 0, 1 if 1 <= row.results <= FEW_RESULTS else 0)
    return counts


def _labels() -> dict[str, str]:
    """Return each concept's name in the reader's language ("need:autism" -> "Autism")."""
    language = current_language()
    prefixes = {Vocabulary.NEED: "need", Vocabulary.CATEGORY: "activity"}
    labels = {"": str(_("No need or activity we recognise"))}
    for term in db.session.execute(select(Term).where(Term.vocabulary.in_(list(prefixes)))
                                   .order_by(Term.vocabulary, Term.code)).scalars():
        labels[f"{prefixes[term.vocabulary]}:{term.code}"] = term.label(language)
    return labels


def _band_range(band: str) -> tuple[int, int] | None:
    """Return an age band's (youngest, oldest), or None for any age."""
    return next(((low, high) for name, low, high in AGE_BANDS if name == band), None)


def _supply(rows: list[DemandRow], by_id: dict) -> None:
    """Count, for each row, the public listings for its concept and age in its district (or anywhere)."""
    prefixes = {"need": Vocabulary.NEED, "activity": Vocabulary.CATEGORY}
    terms = db.session.execute(select(Term.id, Term.code, Term.vocabulary, Term.parent_id).order_by(Term.id)).all()
    children: dict[str | None, list[str]] = {}
    ids = {}
    for term_id, code, vocabulary, parent in terms:
        children.setdefault(parent, []).append(term_id)
        ids[(vocabulary, code)] = term_id
    concept_terms: dict[str, set[str]] = {}
    for concept in {row.concept for row in rows if row.concept}:
        prefix, _sep, code = concept.partition(":")
        start = ids.get((prefixes.get(prefix), code))
        found, pending = set(), [start] if start else []
        while pending:
            term_id = pending.pop()
            found.add(term_id)
            pending += children.get(term_id, [])
        concept_terms[concept] = found
    wanted = set().union(*concept_terms.values()) if concept_terms else set()
    if not wanted:
        return
    wanted_ids = sorted(wanted)
    relevant = select(ListingTerm.listing_id).where(ListingTerm.term_id.in_(wanted_ids))
    facts = {listing.id: listing for listing in db.session.execute(
        listed_listings().where(Listing.id.in_(relevant)).order_by(Listing.id)).scalars()}
    by_term: dict[str, set[str]] = {}
    for listing_id, term_id in db.session.execute(select(ListingTerm.listing_id, ListingTerm.term_id)
                                                  .where(ListingTerm.term_id.in_(wanted_ids))
                                                  .order_by(ListingTerm.listing_id)):
        if listing_id in facts:
            by_term.setdefault(term_id, set()).add(listing_id)
    outwards: dict[str, set[str]] = {}
    for listing_id, postcode in db.session.execute(
            select(ServiceAtLocation.listing_id, Location.postcode).join(Location)
            .where(ServiceAtLocation.listing_id.in_(relevant)).order_by(ServiceAtLocation.id)):
        outwards.setdefault(listing_id, set()).add((postcode or "").upper().split(" ")[0])
    holidays = set(db.session.execute(select(Schedule.listing_id).where(
        Schedule.listing_id.in_(relevant),
        Schedule.period.in_([SchedulePeriod.SCHOOL_HOLIDAYS, SchedulePeriod.ALL_YEAR]))).scalars())
    for row in rows:
        if not row.concept:
            continue
        district = by_id.get(row.district_id)
        ages = _band_range(row.age_band)
        matching = set().union(*(by_term.get(term_id, set()) for term_id in concept_terms[row.concept]))
        for listing_id in sorted(matching):
            listing = facts[listing_id]
            if ages and not ((listing.min_age or 0) <= ages[1] and (25 if listing.max_age is None
                                                                     else listing.max_age) >= ages[0]):
                continue
            if district is not None:
                area = (listing.service_area or "").strip().lower()
                covers = area in EVERYWHERE or area == district.name.lower()
                if not covers and not outwards.get(listing_id, set()) & set(district.outward_codes or []):
                    continue
            row.listings += 1
            row.holidays += 1 if listing_id in holidays else 0
            row.free += 1 if listing.is_free else 0


def build(start: date, end: date) -> DemandReport:
    """Build the report for the days from ``start`` to ``end`` (inclusive, UTC days)."""
    report = DemandReport(start, end, months=month_starts(start, end))
    known = district_list.all_districts()
    by_id = {district.id: district for district in known}
    owner = {code: district.id for district in known for code in district.outward_codes or []}
    labels = _labels()
    grouped: dict[tuple, DemandRow] = {}
    for (concept, band, area), (searches, without, few, months) in _counts(start, end).items():
        district_id = owner.get(area, "")
        row = grouped.get((concept, band, district_id))
        if row is None:
            row = grouped[(concept, band, district_id)] = DemandRow(
                concept, band, district_id, what=labels.get(concept, str(_("A need or activity no longer listed"))),
                place=by_id[district_id].name if district_id else str(_("Elsewhere or no place given")))
        row.searches += searches
        row.without += without
        row.few += few
        for month, count in months.items():
            row.months[month] = row.months.get(month, 0) + count
    rows = list(grouped.values())
    _supply(rows, by_id)
    rows.sort(key=lambda row: (-row.unmet, -(shown(row.searches) or 0), row.what, row.age_band, row.place))
    report.rows = rows
    centres = district_list.centres(known)
    for district in known:
        mine = [row for row in rows if row.district_id == district.id and row.visible]
        total = DistrictTotal(district.name, sum(row.searches for row in mine),
                              sum(shown(row.without) or 0 for row in mine), sum(shown(row.few) or 0 for row in mine),
                              some_hidden=any(row.district_id == district.id and not row.visible for row in rows))
        if district.id in centres:
            total.latitude, total.longitude = centres[district.id]
        report.districts.append(total)
    report.trends = _trends(rows, report.months)
    return report


def _trends(rows: list[DemandRow], months: list[date]) -> list[Trend]:
    """Return the top needs and activities month by month, from the rows shown only, rounded to 5."""
    concepts: dict[str, list] = {}
    for row in rows:
        if row.visible and row.concept:
            entry = concepts.setdefault(row.concept, [0, 0, row.what, {}])
            entry[0] += row.unmet
            entry[1] += row.searches
            for month, count in row.months.items():
                entry[3][month] = entry[3].get(month, 0) + count
    top = sorted(concepts.values(), key=lambda entry: (-entry[0], -entry[1], entry[2]))[:TREND_CONCEPTS]
    return [Trend(entry[2], [(month, entry[3].get(month, 0)) for month in months]) for entry in top]


def month_value(count: int) -> str:
    """Say a month's searches: rounded to the nearest 5, "0" when there were none, or "fewer than 5"."""
    return f"{rounded(count):,}" if count >= SMALL or count == 0 else str(_("fewer than 5"))


def report_csv(report: DemandReport) -> str:
    """Return the table as CSV: the same rows and the same hidden small numbers (formulas neutralised)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Need or activity"), _("Ages"), _("District"), _("Searches"), _("With no results"),
                     _("With few results (1 to 3)"), _("Listings we hold there"),
                     _("Listings with sessions in the school holidays"), _("Free listings")])
    for row in report.rows:
        writer.writerow([spreadsheet_safe(row.what), spreadsheet_safe(row.ages), spreadsheet_safe(row.place),
                         say(row.searches), say(row.without), say(row.few),
                         *((row.listings, row.holidays, row.free) if row.concept else ("", "", ""))])
    return buffer.getvalue()


def trend_chart(chart_id: str, trend: Trend) -> Markup:
    """Draw a need or activity's months as a small column chart; the table by month beside it has the figures.

    The columns are hidden from screen readers, which read the sentence under them and the table instead.
    """
    biggest = max([SMALL] + [rounded(count) for _month, count in trend.months if count >= SMALL])
    width = 10 * len(trend.months)
    bars = []
    for index, (_month, count) in enumerate(trend.months):
        height = rounded(count) / biggest * 38 if count >= SMALL else 0
        if height:
            bars.append(f'<rect x="{index * 10 + 1}" y="{40 - height:.1f}" width="8" height="{height:.1f}" '
                        f'fill="#1d70b8"/>')
    peak = max(trend.months, key=lambda item: (item[1], item[0]), default=None)
    words = (str(_("Most searches in %(month)s: %(count)s.", month=format_date(peak[0], "MMMM y"),
                   count=month_value(peak[1]))) if peak and peak[1] >= SMALL
             else str(_("Fewer than 5 searches in every month.")))
    first, last = (format_date(trend.months[0][0], "MMM y"), format_date(trend.months[-1][0], "MMM y")) \
        if trend.months else ("", "")
    return Markup(
        f'<figure class="lo-demand-trend" id="{escape(chart_id)}">'
        f'<figcaption class="govuk-body govuk-!-margin-bottom-1">{escape(trend.what)}</figcaption>'
        f'<svg width="100%" height="60" viewBox="0 0 {width} 40" preserveAspectRatio="none" focusable="false" '
        f'aria-hidden="true"><rect x="0" y="39" width="{width}" height="1" fill="#505a5f"/>{"".join(bars)}</svg>'
        f'<p class="govuk-body-s govuk-!-margin-bottom-1">{escape(first)} – {escape(last)}</p>'
        f'<p class="govuk-body-s">{escape(words)}</p></figure>')
