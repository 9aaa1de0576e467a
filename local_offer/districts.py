"""Districts: the areas of the council as its commissioners speak of them, each a list of outward codes.

The unmet-demand report counts searches by the outward code of the place
searched ("ST13"); a district ("Staffordshire Moorlands": ST10, ST13...) groups
them.  An outward code belongs to one district at most.  Administrators keep
the list (``/admin/districts``); the demo council's districts are seeded with
the demo content.  Typed codes are cleaned and checked here, every change is
audited.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from local_offer.content_loader import ContentError, LoadReport, read_yaml
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.models import District, OutwardCode, User, record_audit
from local_offer.sanitise import clean_text

#: An outward code written the standard way: "ST10", "B79", "WS7", "EC1A".
OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
NAME_MAX = 120
#: The most outward codes one district may hold.
CODES_MAX = 60
#: The file the demo council's districts are seeded from.
DISTRICTS_FILE = "districts.yaml"


def split_codes(text: str | None) -> tuple[list[str], list[str]]:
    """Split typed outward codes ("st10, ST13 sk17") into standard, distinct ones; return (codes, not codes)."""
    codes, wrong = [], []
    for part in re.split(r"[,;\s]+", clean_text(text or "").upper()):
        if not part:
            continue
        if OUTWARD.match(part) and len(part) <= 4:
            if part not in codes:
                codes.append(part)
        elif part not in wrong:
            wrong.append(part)
    return codes, wrong


def clean_name(text: str | None) -> str:
    """Clean a district's name: no markup, no control characters, single spaces."""
    return " ".join(clean_text(text or "").split())


def check(name: str, codes: list[str], wrong: list[str], district: District | None = None) -> dict[str, str]:
    """Return what stops a district being saved, by field ("name" or "codes"); empty when it can be."""
    found = {}
    if not name:
        found["name"] = _("Enter the district's name")
    elif len(name) > NAME_MAX:
        found["name"] = _("The name must be %(max)s characters or fewer", max=NAME_MAX)
    else:
        same = db.session.execute(select(District).where(func.lower(District.name) == name.lower())).scalars().first()
        if same is not None and same is not district:
            found["name"] = _("There is already a district called %(name)s", name=same.name)
    if wrong:
        found["codes"] = _("%(codes)s is not an outward code. Enter the first part of postcodes, like ST10, "
                           "separated by commas", codes=", ".join(wrong[:3])[:60])
    elif not codes:
        found["codes"] = _("Enter at least one outward code, like ST10")
    elif len(codes) > CODES_MAX:
        found["codes"] = _("Enter %(max)s outward codes or fewer", max=CODES_MAX)
    else:
        taken = owners()
        clash = next((code for code in codes if code in taken and taken[code] is not district), None)
        if clash is not None:
            found["codes"] = _("%(code)s is already in %(district)s: take it out there first, or leave it out here",
                               code=clash, district=taken[clash].name)
    return found


def all_districts() -> list[District]:
    """Return every district in the order set, then by name."""
    return list(db.session.execute(select(District).order_by(District.position, District.name, District.id)).scalars())


def owners() -> dict[str, District]:
    """Return the district each outward code belongs to."""
    return {code: district for district in all_districts() for code in district.outward_codes or []}


def add(name: str, codes: list[str], actor: User | None) -> District:
    """Add a district (name and codes already cleaned and checked), last in the order."""
    position = (db.session.execute(select(func.max(District.position))).scalar() or 0) + 1
    district = District(name=name, outward_codes=codes, position=position)
    db.session.add(district)
    db.session.flush()
    record_audit("district.added", "district", district.id, actor=actor, changes={"name": name, "outward_codes": codes})
    db.session.commit()
    return district


def change(district: District, name: str, codes: list[str], actor: User | None) -> None:
    """Change a district's name and codes (already cleaned and checked)."""
    record_audit("district.changed", "district", district.id, actor=actor,
                 changes={"name": [district.name, name], "outward_codes": [list(district.outward_codes), codes]})
    district.name = name
    district.outward_codes = codes
    db.session.commit()


def remove(district: District, actor: User | None) -> None:
    """Remove a district (searches in its codes are then counted as elsewhere)."""
    record_audit("district.removed", "district", district.id, actor=actor,
                 changes={"name": district.name, "outward_codes": list(district.outward_codes)})
    db.session.delete(district)
    db.session.commit()


def centres(districts: list[District]) -> dict[str, tuple[float, float]]:
    """Return each district's centre (by id): the mean of its outward codes' centres in the gazetteer."""
    wanted = sorted({code for district in districts for code in district.outward_codes or []})
    points = {}
    for first in range(0, len(wanted), 500):
        points.update({row.outward: (row.latitude, row.longitude) for row in db.session.execute(
            select(OutwardCode).where(OutwardCode.outward.in_(wanted[first:first + 500]))).scalars()})
    found = {}
    for district in districts:
        known = [points[code] for code in district.outward_codes or [] if code in points]
        if known:
            found[district.id] = (sum(p[0] for p in known) / len(known), sum(p[1] for p in known) / len(known))
    return found


def load_demo_districts(path: Path, report: LoadReport) -> None:
    """Add the demo council's districts when there are none yet (administrators own the list after)."""
    if not path.is_file():
        return
    if db.session.execute(select(District.id).limit(1)).first() is not None:
        report.count("districts", False)
        return
    taken: set[str] = set()
    for position, entry in enumerate(read_yaml(path) or [], start=1):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ContentError(f"{path}: each district needs a name ({entry!r})")
        codes, wrong = split_codes(", ".join(str(code) for code in entry.get("outward_codes") or []))
        if wrong or not codes or taken & set(codes):
            raise ContentError(f"{path}: {entry['name']}: outward codes must be valid and in one district only")
        taken |= set(codes)
        db.session.add(District(name=clean_name(entry["name"]), outward_codes=codes, position=position))
        report.count("districts", True)
    db.session.flush()
