"""Demo only: a year of made-up searches, so the demo's "What families looked for and did not find" tells a story.

Loaded with the demo content (``flask content load``), never for a real
council, and only when no searches have been counted yet, so loading again
adds nothing.  The figures are drawn from a fixed seed and dated back from the
day they are loaded: days older than the search log keeps (90 days) become
daily counts by need or activity, age band and area, as ``flask demand prune``
would leave them, and the last 90 days become search-log rows with concepts,
ages and areas but no words (their filters say ``demo``).  The story they tell:
holiday activities for autistic teenagers in the Moorlands are looked for and
rarely found.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import insert, select

from local_offer.content_loader import LoadReport
from local_offer.demand import FEW_RESULTS, add_area_counts
from local_offer.extensions import db
from local_offer.models import SearchDemandArea, SearchLog

#: Days the raw log keeps before pruning (the setting's default).
RAW_DAYS = 90
#: The seed: the demo's searches are the same every time it is loaded.
SEED = 20

#: (concept, age band, outward codes searched, searches a year, share with no results, share with few).
STORY = [
    ("activity:holiday-clubs", "11-15", ["ST13", "ST10"], 140, 0.55, 0.30),
    ("need:autism", "11-15", ["ST13", "ST10", "ST8"], 150, 0.35, 0.35),
    ("activity:short-breaks", "16-18", ["ST16", "ST17"], 95, 0.45, 0.30),
    ("activity:speech-and-language", "0-4", ["ST3", "ST4", "ST6"], 85, 0.30, 0.40),
    ("need:adhd", "5-10", ["WS11", "WS12"], 75, 0.35, 0.30),
    ("activity:youth-clubs", "11-15", ["DE13", "DE14", "ST14"], 60, 0.30, 0.40),
    ("activity:employment", "19-25", ["ST5", "ST7"], 50, 0.50, 0.30),
    ("need:anxiety", "11-15", ["WS13", "WS14"], 45, 0.30, 0.35),
    ("activity:sport-and-swimming", "5-10", ["B77", "B79"], 65, 0.10, 0.20),
    ("activity:holiday-clubs", "5-10", ["ST16", "ST15"], 55, 0.10, 0.20),
    ("activity:independent-living", "19-25", ["ST16"], 30, 0.40, 0.40),
    ("activity:sensory-play", "0-4", ["ST13"], 25, 0.30, 0.40),
    ("activity:special-schools", "11-15", [""], 35, 0.20, 0.30),
    ("need:autism", "", [""], 120, 0.05, 0.10),
    ("", "", [""], 60, 0.50, 0.20),
    ("need:hearing-impairment", "16-18", ["ST19"], 3, 0.70, 0.30),
    ("activity:travel-training", "16-18", ["WS13"], 4, 0.50, 0.50),
]
#: How much more (or less) each month is searched than the average: holiday activities peak before holidays.
HOLIDAY_MONTHS = {1: 0.6, 2: 0.9, 3: 1.3, 4: 1.2, 5: 1.3, 6: 1.6, 7: 1.8, 8: 1.2, 9: 0.5, 10: 1.1, 11: 0.6, 12: 0.9}


def _daily(yearly: int, concept: str, day: date) -> float:
    """Return how many searches a day expects, holiday activities following the school year."""
    weight = HOLIDAY_MONTHS[day.month] if concept == "activity:holiday-clubs" else 1.0
    return yearly / 365 * weight


def _results(rng: random.Random, none: float, few: float) -> int:
    """Draw how many results a demo search found: none, a few, or plenty."""
    draw = rng.random()
    if draw < none:
        return 0
    if draw < none + few:
        return rng.randint(1, FEW_RESULTS)
    return rng.randint(FEW_RESULTS + 1, 40)


def load_demo_demand(report: LoadReport, today: date | None = None) -> None:
    """Add a year of demo searches when none have been counted yet."""
    if (db.session.execute(select(SearchDemandArea.id).limit(1)).first() is not None
            or db.session.execute(select(SearchLog.id).limit(1)).first() is not None):
        report.count("demo searches", False)
        return
    today = today or datetime.now(timezone.utc).date()
    rng = random.Random(SEED)
    counts: dict[tuple, list[int]] = {}
    logged = []
    for offset in range(364, -1, -1):
        day = today - timedelta(days=offset)
        for concept, band, areas, yearly, none, few in STORY:
            expected = _daily(yearly, concept, day)
            searches = sum(1 for _try in range(4) if rng.random() < expected / 4)
            for _search in range(searches):
                area, found = rng.choice(areas), _results(rng, none, few)
                if offset >= RAW_DAYS:
                    bucket = counts.setdefault((day, concept, band, area), [0, 0, 0])
                    bucket[0] += 1
                    bucket[1] += 1 if found == 0 else 0
                    bucket[2] += 1 if 1 <= found <= FEW_RESULTS else 0
                else:
                    moment = datetime.combine(day, time(rng.randint(7, 21), rng.randint(0, 59)), tzinfo=timezone.utc)
                    logged.append({"occurred_at": min(moment, datetime.now(timezone.utc)), "words": "",
                                   "filters": {"demo": ["yes"]}, "place": area, "results": found,
                                   "concepts": [concept] if concept else [], "age_band": band, "area": area})
    add_area_counts(counts)
    if logged:
        db.session.execute(insert(SearchLog), logged)
    db.session.flush()
    report.count("demo searches", True)
