"""What every part of a consultation agrees on: its state on a given day, the agreement scale, the limits.

A consultation is *answerable* when a coordinator has opened it and today (the
council's local day) is between its opening and closing dates, inclusive.  It
is *closed* when a coordinator closed it early or its closing date has passed.
Its results are public once it is closed and a coordinator has published them.
"""

from __future__ import annotations

from datetime import date

from local_offer.feedback.council_responses import local_today
from local_offer.i18n import _l
from local_offer.models import Consultation, ConsultationStatus

#: The agreement scale, in the order it is asked and shown; "don't know" is never counted as agreeing or not.
AGREEMENT = ("strongly_agree", "agree", "neither", "disagree", "strongly_disagree", "dont_know")
AGREEMENT_LABELS = {
    "strongly_agree": _l("Strongly agree"),
    "agree": _l("Agree"),
    "neither": _l("Neither agree nor disagree"),
    "disagree": _l("Disagree"),
    "strongly_disagree": _l("Strongly disagree"),
    "dont_know": _l("Don't know"),
}
#: The same scale in simpler words, for the young people's version.
AGREEMENT_SIMPLE_LABELS = {
    "strongly_agree": _l("Yes, a lot"),
    "agree": _l("Yes"),
    "neither": _l("Not sure either way"),
    "disagree": _l("No"),
    "strongly_disagree": _l("No, not at all"),
    "dont_know": _l("I don't know"),
}
#: The longest free-text answer kept (characters, after sanitising).
MAX_TEXT = 5000
#: The most choices a single or multiple choice question may offer, and the longest choice.
MAX_OPTIONS = 20
MAX_OPTION_LENGTH = 200
#: The longest title, introduction (either version), "who it is for", question (either version) and hint.
MAX_TITLE, MAX_INTRODUCTION, MAX_AUDIENCE, MAX_QUESTION, MAX_HINT = 255, 10_000, 500, 500, 1000
#: The most questions one consultation may ask.
MAX_QUESTIONS = 60

DRAFT = "draft"
SCHEDULED = "scheduled"
OPEN = "open"
CLOSED = "closed"
STATE_LABELS = {DRAFT: _l("Draft"), SCHEDULED: _l("Opens later"), OPEN: _l("Open"), CLOSED: _l("Closed")}


def state(consultation: Consultation, today: date | None = None) -> str:
    """Return "draft", "scheduled" (opened but before its opening date), "open" or "closed" on ``today``."""
    today = today or local_today()
    if consultation.status == ConsultationStatus.DRAFT:
        return DRAFT
    if consultation.status == ConsultationStatus.CLOSED or today > consultation.closes_on:
        return CLOSED
    if today < consultation.opens_on:
        return SCHEDULED
    return OPEN


def answerable(consultation: Consultation, today: date | None = None) -> bool:
    """Return whether anyone may answer the consultation today."""
    return state(consultation, today) == OPEN


def results_public(consultation: Consultation, today: date | None = None) -> bool:
    """Return whether everyone may read the results: closed, and published by a coordinator."""
    return state(consultation, today) == CLOSED and consultation.results_published_at is not None
