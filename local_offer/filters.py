"""Template filters that turn stored values into words a family reads, in their language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Flask
from flask_babel import format_currency, format_date, format_datetime, format_decimal

from local_offer.i18n import _l, current_language
from local_offer.listings.labels import (
    ACCESS_LABELS,
    DELIVERY_LABELS,
    FUNDING_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    PERIOD_LABELS,
    WEEKDAY_LABELS,
)
from local_offer.listings import when
from local_offer.models import JoinStatus, Role, Term, Vocabulary, Weekday
from local_offer.reviews import overdue_label

ROLE_LABELS = {
    Role.PROVIDER: _l("Provider"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.ADMIN: _l("Administrator"),
}
JOIN_STATUS_LABELS = {
    JoinStatus.PENDING: _l("Waiting"),
    JoinStatus.APPROVED: _l("Approved"),
    JoinStatus.DECLINED: _l("Declined"),
}

def term_label(term: Term, field: str = "name") -> str:
    """Return a vocabulary term's name (or description) in the current language."""
    return term.label(current_language(), field)


def money(amount: Decimal) -> str:
    """Format an amount in pounds for the current language."""
    return format_currency(amount, "GBP")


def date_long(value: date) -> str:
    """Format a date in full, day first ("22 November 2026"), in the current language."""
    return format_date(value, format="d MMMM y")


def day_long(value: date) -> str:
    """Format a day with its weekday ("Saturday 12 December"), in the current language."""
    return format_date(value, format="EEEE d MMMM")


def datetime_short(value) -> str:
    """Format a timestamp in the council's time zone ("22 Nov 2026, 14:05")."""
    return format_datetime(value, format="d MMM y, HH:mm")


def weekday_label(day) -> str:
    """Name a day ("Saturday") from its code ("SA") or its ``Weekday``."""
    return str(WEEKDAY_LABELS[Weekday(day)])


def init_app(app: Flask) -> None:
    """Register the filters and the vocabulary names templates use."""
    app.add_template_filter(term_label)
    # Outside the cached card body: it depends on today's date and the administrators' setting.
    app.add_template_global(overdue_label)
    app.add_template_filter(money)
    app.add_template_filter(date_long)
    app.add_template_filter(day_long)
    app.add_template_filter(datetime_short)
    app.add_template_filter(when.in_full, "sessions_in_words")
    app.add_template_filter(when.in_brief, "sessions_in_brief")
    app.add_template_filter(lambda kind: str(KIND_LABELS[kind]), "kind_label")
    app.add_template_filter(lambda level: str(LEVEL_LABELS[level]), "level_label")
    app.add_template_filter(lambda code: str(DELIVERY_LABELS.get(code, code)), "delivery_label")
    app.add_template_filter(lambda code: str(ACCESS_LABELS.get(code, code)), "access_label")
    app.add_template_filter(lambda period: str(PERIOD_LABELS[period]), "period_label")
    app.add_template_filter(weekday_label)
    app.add_template_global(Vocabulary, "Vocabulary")
    app.add_template_global(KIND_LABELS, "KIND_LABELS")
    app.add_template_global(ROLE_LABELS, "ROLE_LABELS")
    app.add_template_global(JOIN_STATUS_LABELS, "JOIN_STATUS_LABELS")
    app.add_template_global(LEVEL_LABELS, "LEVEL_LABELS")
    app.add_template_global(DELIVERY_LABELS, "DELIVERY_LABELS")
    app.add_template_global(FUNDING_LABELS, "FUNDING_LABELS")
    app.add_template_global(PERIOD_LABELS, "PERIOD_LABELS")
    app.add_template_global(WEEKDAY_LABELS, "WEEKDAY_LABELS")
    app.add_template_global(lambda miles: format_decimal(round(miles, 1), format="#,##0.#"), "format_miles")
