"""A consultation's results: counts and percentages per question, breakdowns, published quotes; publishing them.

Only *submitted* responses count: a half-finished one is nobody's answer yet.
Percentages are whole numbers, rounded half up, always of the people who
answered that question (said with how many that was).  On the agreement scale
"Don't know" counts among those who answered but never as agreeing, so the
headline ("88% strongly agreed or agreed") cannot be inflated by leaving the
unsure out.  People may pick more than one answer to a multiple choice
question, so its percentages can add up to more than 100.

Breakdowns split each question by each "about you" question (parent or carer,
young person, district...).  A group with fewer than ``SMALL_GROUP`` people
is shown as "fewer than 5", never as counts, so nobody can be picked out.
Because everyone's figures are shown too, one small group's figures could be
worked out by taking the others away from them: so while the hidden groups
add up to fewer than 5 people, the next smallest group is withheld as well.
Free-text answers are only counted; the public sees only the ``public_text``
of answers a coordinator published through the personal-details guard.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup
from sqlalchemy import select

from local_offer.consultations import common
from local_offer.extensions import db
from local_offer.feedback.charts import _bar
from local_offer.i18n import _, ngettext
from local_offer.models import (
    AnswerStatus,
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    QuestionKind,
    User,
    record_audit,
    utcnow,
)
from local_offer.sanitise import clean_text

#: Groups smaller than this are shown as "fewer than 5" in breakdowns.
SMALL_GROUP = 5
#: The longest "What we will do next" kept.
OUTCOME_MAX = 5000
#: The choices a question counts: the agreement scale or its own options.
CHOICE_KINDS = (QuestionKind.AGREEMENT, QuestionKind.SINGLE, QuestionKind.MULTIPLE)
#: The value a breakdown uses for people who did not answer the "about you" question.
NOT_SAID = "\x00not-said"


def percent(count: int, whole: int) -> int:
    """Return ``count`` as a whole-number percentage of ``whole``, rounded half up (0 when ``whole`` is 0)."""
    if whole <= 0:
        return 0
    return (200 * count + whole) // (2 * whole)


@dataclass
class Choice:
    """One choice of a question with how many chose it and their share of those who answered."""

    value: str
    label: str
    count: int
    percent: int


@dataclass
class Group:
    """One group of a breakdown (one answer to an "about you" question) and how it answered."""

    label: str
    answered: int
    choices: list[Choice] = field(default_factory=list)
    #: Big enough to show, but withheld so that a smaller group's figures cannot be worked out from it.
    withheld: bool = False

    @property
    def small(self) -> bool:
        """Return whether the group is too small to show (fewer than 5, but some)."""
        return 0 < self.answered < SMALL_GROUP

    @property
    def hidden(self) -> bool:
        """Return whether the group's figures are not shown (too small, or withheld to protect a small one)."""
        return self.small or self.withheld

    @property
    def agreed(self) -> int:
        """Return how many strongly agreed or agreed (agreement questions)."""
        return agreed(self.choices)

    @property
    def agreed_percent(self) -> int:
        """Return the share who strongly agreed or agreed (agreement questions)."""
        return percent(self.agreed, self.answered)


@dataclass
class Breakdown:
    """A question's answers split by one "about you" question."""

    by: ConsultationQuestion
    groups: list[Group]


@dataclass
class QuestionResult:
    """What everyone who answered one question said."""

    question: ConsultationQuestion
    answered: int
    choices: list[Choice] = field(default_factory=list)
    headline: str = ""
    breakdowns: list[Breakdown] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    waiting: int = 0

    @property
    def kind(self) -> str:
        """Return the question's kind as text ("agreement", "single", "multiple", "text")."""
        return self.question.kind.value

    @property
    def agreed(self) -> int:
        """Return how many strongly agreed or agreed (agreement questions)."""
        return agreed(self.choices)

    @property
    def agreed_percent(self) -> int:
        """Return the share who strongly agreed or agreed (agreement questions)."""
        return percent(self.agreed, self.answered)


@dataclass
class Results:
    """A consultation's results: how many answered (and how many the young people's version), each question."""

    consultation: Consultation
    responses: int
    simple_responses: int
    questions: list[QuestionResult]

    @property
    def waiting(self) -> int:
        """Return how many free-text answers wait for a coordinator."""
        return sum(question.waiting for question in self.questions)


def agreed(choices: list[Choice]) -> int:
    """Return how many chose "Strongly agree" or "Agree" (0 for a question without the agreement scale)."""
    return sum(choice.count for choice in choices if choice.value in ("strongly_agree", "agree"))


def choice_labels(question: ConsultationQuestion) -> list[tuple[str, str]]:
    """Return a question's choices in the order asked, as (value, label)."""
    if question.kind is QuestionKind.AGREEMENT:
        return [(value, str(common.AGREEMENT_LABELS[value])) for value in common.AGREEMENT]
    return [(option, option) for option in dict.fromkeys(str(option) for option in (question.options or []))]


def answered(answer: ConsultationAnswer | None, valid: set[str] | None) -> list[str] | bool:
    """Return the valid choices an answer made (choice questions), or whether a text answer was given."""
    if answer is None:
        return [] if valid is not None else False
    if valid is None:
        return bool(answer.text.strip()) or answer.status is not AnswerStatus.NEW
    return [choice for choice in dict.fromkeys(str(value) for value in (answer.choices or [])) if choice in valid]


def _count(labels: list[tuple[str, str]], picks: list[list[str]]) -> tuple[int, list[Choice]]:
    """Count how many answered and how many chose each choice."""
    people = [chosen for chosen in picks if chosen]
    counts: dict[str, int] = defaultdict(int)
    for chosen in people:
        for value in chosen:
            counts[value] += 1
    return len(people), [Choice(value, label, counts[value], percent(counts[value], len(people)))
                         for value, label in labels]


def headline(question: ConsultationQuestion, total: int, choices: list[Choice]) -> str:
    """Say a question's result in one sentence, with how many answered and how "Don't know" is treated."""
    if not total:
        return str(_("No one answered this question."))
    who = ngettext("%(num)s person answered this question.", "%(num)s people answered this question.", total)
    by_value = {choice.value: choice for choice in choices}
    if question.kind is QuestionKind.AGREEMENT:
        agreeing = agreed(choices)
        unsure = by_value["dont_know"].count
        words = _("%(percent)s%% strongly agreed or agreed (%(agreed)s of %(total)s).",
                  percent=percent(agreeing, total), agreed=f"{agreeing:,}", total=f"{total:,}")
        return f"{words} {who} " + str(ngettext(
            "%(num)s said \u201cDon't know\u201d: counted among those who answered, not as agreeing.",
            "%(num)s said \u201cDon't know\u201d: counted among those who answered, not as agreeing.", unsure))
    top = max(choices, key=lambda choice: (choice.count, -choices.index(choice)))
    words = _("The most chosen: \u201c%(label)s\u201d, %(percent)s%% (%(count)s of %(total)s).",
              label=top.label, percent=top.percent, count=f"{top.count:,}", total=f"{total:,}")
    if question.kind is QuestionKind.MULTIPLE:
        return f"{words} {who} " + str(_("People could choose more than one, so the percentages can add up to "
                                          "more than 100."))
    return f"{words} {who}"


def _answers(consultation: Consultation) -> tuple[list[ConsultationResponse], dict]:
    """Return the submitted responses and their answers by (response id, question id)."""
    responses = list(db.session.execute(
        select(ConsultationResponse).where(ConsultationResponse.consultation_id == consultation.id,
                                           ConsultationResponse.submitted_at.is_not(None))
        .order_by(ConsultationResponse.submitted_at, ConsultationResponse.id)).scalars())
    answers = db.session.execute(
        select(ConsultationAnswer).join(ConsultationResponse)
        .where(ConsultationResponse.consultation_id == consultation.id,
               ConsultationResponse.submitted_at.is_not(None))
        .order_by(ConsultationAnswer.id)).scalars()
    return responses, {(answer.response_id, answer.question_id): answer for answer in answers}


def _breakdown(question: ConsultationQuestion, by: ConsultationQuestion, responses, answers) -> Breakdown:
    """Split a question's answers by the answers to an "about you" question (people who did not say too)."""
    labels, by_labels = choice_labels(question), choice_labels(by)
    valid, by_valid = {value for value, _label in labels}, {value for value, _label in by_labels}
    members: dict[str, list[list[str]]] = defaultdict(list)
    for response in responses:
        groups = answered(answers.get((response.id, by.id)), by_valid) or [NOT_SAID]
        chosen = answered(answers.get((response.id, question.id)), valid)
        for group in groups:
            members[group].append(chosen)
    result = []
    for value, label in by_labels + [(NOT_SAID, str(_("Did not say")))]:
        total, choices = _count(labels, members.get(value, []))
        if value == NOT_SAID and not total:
            continue
        result.append(Group(label, total, choices))
    return Breakdown(by, suppress(result))


def suppress(groups: list[Group]) -> list[Group]:
    """Hide groups of fewer than 5, then withhold the smallest others while the hidden add up to fewer than 5."""
    while 0 < sum(group.answered for group in groups if group.hidden) < SMALL_GROUP:
        shown = [group for group in groups if group.answered and not group.hidden]
        if not shown:
            break
        min(shown, key=lambda group: group.answered).withheld = True
    for group in groups:
        if group.hidden:
            group.choices = []
    return groups


def tally(consultation: Consultation, public: bool = False) -> Results:
    """Count a consultation's submitted responses, question by question (``public``: no waiting counts)."""
    responses, answers = _answers(consultation)
    questions = list(consultation.questions)
    about_you = [q for q in questions if q.about_you and q.kind in CHOICE_KINDS]
    results = []
    for question in questions:
        mine = [answers.get((response.id, question.id)) for response in responses]
        if question.kind in CHOICE_KINDS:
            labels = choice_labels(question)
            valid = {value for value, _label in labels}
            total, choices = _count(labels, [answered(answer, valid) for answer in mine])
            result = QuestionResult(question, total, choices, headline(question, total, choices))
            if not question.about_you:
                result.breakdowns = [_breakdown(question, by, responses, answers) for by in about_you]
        else:
            given = [answer for answer in mine if answered(answer, None)]
            published = sorted((answer for answer in given if answer.status is AnswerStatus.PUBLISHED),
                               key=lambda answer: (answer.moderated_at or utcnow(), answer.id))
            result = QuestionResult(question, len(given), headline=str(
                ngettext("%(num)s person wrote an answer.", "%(num)s people wrote an answer.", len(given))
                if given else _("No one answered this question.")))
            result.quotes = [answer.public_text for answer in published if answer.public_text.strip()]
            if not public:
                result.waiting = sum(1 for answer in given
                                     if answer.status is AnswerStatus.NEW and answer.text.strip())
        results.append(result)
    return Results(consultation, len(responses), sum(1 for response in responses if response.simple), results)


def chart(chart_id: str, title: str, choices: list[Choice]) -> Markup:
    """Draw one bar per choice, its length the choice's share, with the count and percentage as page text.

    The bars are the partnership report's (``feedback.charts``): filled shapes
    hidden from screen readers, which read the words; a table beside the chart
    gives the same figures.
    """
    parts = [f'<figure class="lo-chart" id="{escape(chart_id)}">',
             f'<figcaption class="lo-chart__title govuk-visually-hidden">{escape(title)}</figcaption>',
             '<ul class="lo-chart__rows">']
    for choice in choices:
        words = _("%(percent)s%% (%(count)s)", percent=choice.percent, count=f"{choice.count:,}")
        parts.append(f'<li class="lo-chart__row"><span class="lo-chart__label">{escape(choice.label)}</span> '
                     f'<span class="lo-chart__bars">{_bar(choice.percent / 100, False)}</span> '
                     f'<span class="lo-chart__value">{escape(str(words))}</span></li>')
    parts.append("</ul></figure>")
    return Markup("".join(parts))


def charts(results: Results) -> dict[str, Markup]:
    """Return a chart for each answered choice question, by question id."""
    return {item.question.id: chart(f"chart-{item.question.id}", item.question.text, item.choices)
            for item in results.questions if item.choices and item.answered}


# --- publishing the results ------------------------------------------------------------------------


class NotClosed(ValueError):
    """The consultation is still open (or not yet open): its results cannot be published."""


class NotPublished(ValueError):
    """The results are not published, so there is nothing to withdraw."""


def publish(consultation: Consultation, outcome: str, actor: User, ip_address: str | None = None) -> None:
    """Publish a closed consultation's results, with what the council will do next (may be empty)."""
    if common.state(consultation) != common.CLOSED:
        raise NotClosed(consultation.id)
    first = consultation.results_published_at is None
    consultation.outcome = clean_text(outcome)[:OUTCOME_MAX]
    consultation.results_published_at = consultation.results_published_at or utcnow()
    record_audit("consultation.results_published" if first else "consultation.outcome_changed", "consultation",
                 consultation.id, actor=actor, ip_address=ip_address,
                 changes={"outcome_given": bool(consultation.outcome)})
    db.session.commit()


def withdraw(consultation: Consultation, actor: User, ip_address: str | None = None) -> None:
    """Take published results off the public pages (the figures stay for coordinators)."""
    if consultation.results_published_at is None:
        raise NotPublished(consultation.id)
    consultation.results_published_at = None
    record_audit("consultation.results_withdrawn", "consultation", consultation.id, actor=actor,
                 ip_address=ip_address)
    db.session.commit()
