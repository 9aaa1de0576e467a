"""School terms the council's schools keep: "term time only" sessions run inside one, holiday ones outside."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, new_id, utcnow


class SchoolTerm(db.Model):
    """One term or half term, first and last day included; the days between terms are school holidays."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(60))
    starts: Mapped[date] = mapped_column(Date, index=True)
    ends: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def school_year(self) -> int:
        """Return the calendar year a school year starts in (September to August): 2026 for 2026 to 2027."""
        return school_year_of(self.starts)


def school_year_of(day: date) -> int:
    """Return the year the school year holding ``day`` starts in (from 1 September)."""
    return day.year if day.month >= 9 else day.year - 1
