"""The gazetteer: postcodes and places, built offline from packaged open data (see ``geo``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from local_offer.extensions import db
from local_offer.models.base import UTCDateTime, utcnow


class Postcode(db.Model):
    """One GB postcode with its position (Ordnance Survey Code-Point Open)."""

    #: Written the standard way, upper case with one space: "ST16 2AD".
    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    outward: Mapped[str] = mapped_column(String(4), index=True)
    sector: Mapped[str] = mapped_column(String(6), index=True)
    latitude: Mapped[float] = mapped_column()
    longitude: Mapped[float] = mapped_column()


class PostcodeSector(db.Model):
    """The centre of a postcode sector ("ST16 2"): the mean of its postcodes."""

    sector: Mapped[str] = mapped_column(String(6), primary_key=True)
    latitude: Mapped[float] = mapped_column()
    longitude: Mapped[float] = mapped_column()
    postcodes: Mapped[int] = mapped_column(Integer)


class OutwardCode(db.Model):
    """The centre of an outward code or postcode district ("ST16")."""

    outward: Mapped[str] = mapped_column(String(4), primary_key=True)
    latitude: Mapped[float] = mapped_column()
    longitude: Mapped[float] = mapped_column()
    postcodes: Mapped[int] = mapped_column(Integer)


class GazetteerArea(db.Model):
    """A postcode area ("ST") whose postcodes are in the gazetteer, and when it was built."""

    area: Mapped[str] = mapped_column(String(2), primary_key=True)
    postcodes: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: True when built because someone looked up a postcode in it, not by `flask geo build`.
    on_demand: Mapped[bool] = mapped_column(Boolean, default=False)


class Place(db.Model):
    """A town or village in Great Britain (GeoNames, population 500 and over)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float] = mapped_column()
    longitude: Mapped[float] = mapped_column()
    population: Mapped[int] = mapped_column(Integer, default=0)
    #: ENG, SCT or WLS.
    country: Mapped[str] = mapped_column(String(3), default="")


class PlaceName(db.Model):
    """A name a place is known by, normalised for lookup ("newcastle under lyme")."""

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    place_id: Mapped[int] = mapped_column(
        ForeignKey("place.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    place: Mapped[Place] = relationship()
