"""Template filters that turn stored values into words a family reads, in their language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Flask
from flask_babel import format_currency, format_date, get_locale

from local_offer.i18n import _, _l
from local_offer.models import (
    AccessRoute,
    DeliveryMethod,
    ListingKind,
    ListingLevel,
    Schedule,
    SchedulePeriod,
    Term,
    Vocabulary,
    Weekday,
)

KIND_LABELS = {
    ListingKind.PROVIDER: _l("Provider"),
    ListingKind.ACTIVITY: _l("Out-of-school activity"),
    ListingKind.SUPPORT_SERVICE: _l("Support service"),
}
LEVEL_LABELS = {
    ListingLevel.UNIVERSAL: _l("Open to everyone"),
    ListingLevel.TARGETED: _l("Targeted support"),
    ListingLevel.SPECIALIST: _l("Specialist"),
}
DELIVERY_LABELS = {
    DeliveryMethod.VENUE.value: _l("At a venue"),
    DeliveryMethod.ONLINE.value: _l("Online"),
    DeliveryMethod.PHONE.value: _l("By phone"),
    DeliveryMethod.HOME_VISIT.value: _l("Home visits"),
}
ACCESS_LABELS = {
    AccessRoute.DROP_IN.value: _l("Drop in"),
    AccessRoute.REFERRAL.value: _l("By referral"),
    AccessRoute.BOOKING.value: _l("Book a place"),
    AccessRoute.MEMBERSHIP.value: _l("Membership"),
}
PERIOD_LABELS = {
    SchedulePeriod.ALL_YEAR: _l("All year"),
    SchedulePeriod.TERM_TIME: _l("Term time"),
    SchedulePeriod.SCHOOL_HOLIDAYS: _l("School holidays"),
}
WEEKDAY_LABELS = {
    Weekday.MO: _l("Monday"),
    Weekday.TU: _l("Tuesday"),
    Weekday.WE: _l("Wednesday"),
    Weekday.TH: _l("Thursday"),
    Weekday.FR: _l("Friday"),
    Weekday.SA: _l("Saturday"),
    Weekday.SU: _l("Sunday"),
}


def term_label(term: Term, field: str = "name") -> str:
    """Return a vocabulary term's name (or description) in the current language."""
    return term.label(str(get_locale()), field)


def money(amount: Decimal) -> str:
    """Format an amount in pounds for the current language."""
    return format_currency(amount, "GBP")


def date_long(value: date) -> str:
    """Format a date in full, day first ("22 November 2026"), in the current language."""
    return format_date(value, format="d MMMM y")


def schedule_times(schedule: Schedule) -> str:
    """Return a session's times ("10:00 to 11:30"), or a note when none are set."""
    if schedule.opens_at and schedule.closes_at:
        return _("%(start)s to %(end)s", start=schedule.opens_at.strftime("%H:%M"),
                 end=schedule.closes_at.strftime("%H:%M"))
    if schedule.opens_at:
        return _("From %(start)s", start=schedule.opens_at.strftime("%H:%M"))
    return _("Times vary")


def schedule_validity(schedule: Schedule) -> str:
    """Return the dates a schedule runs between."""
    if schedule.valid_from and schedule.valid_to:
        return _("%(start)s to %(end)s", start=date_long(schedule.valid_from), end=date_long(schedule.valid_to))
    if schedule.valid_from:
        return _("from %(start)s", start=date_long(schedule.valid_from))
    return _("until %(end)s", end=date_long(schedule.valid_to))


def schedule_summary(schedule: Schedule) -> str:
    """Return a one-line description of a session for result cards."""
    day = str(WEEKDAY_LABELS[schedule.weekday]) if schedule.weekday else _("Any day")
    return f"{day} {schedule_times(schedule)}, {PERIOD_LABELS[schedule.period]}".strip()


def init_app(app: Flask) -> None:
    """Register the filters and the vocabulary names templates use."""
    app.add_template_filter(term_label)
    app.add_template_filter(money)
    app.add_template_filter(date_long)
    app.add_template_filter(schedule_times)
    app.add_template_filter(schedule_validity)
    app.add_template_filter(schedule_summary)
    app.add_template_filter(lambda kind: str(KIND_LABELS[kind]), "kind_label")
    app.add_template_filter(lambda level: str(LEVEL_LABELS[level]), "level_label")
    app.add_template_filter(lambda code: str(DELIVERY_LABELS.get(code, code)), "delivery_label")
    app.add_template_filter(lambda code: str(ACCESS_LABELS.get(code, code)), "access_label")
    app.add_template_filter(lambda period: str(PERIOD_LABELS[period]), "period_label")
    app.add_template_filter(lambda day: str(WEEKDAY_LABELS[day]), "weekday_label")
    app.add_template_global(Vocabulary, "Vocabulary")
