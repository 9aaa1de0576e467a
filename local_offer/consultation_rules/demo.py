"""Demo consultations: one closed a few months ago with published results, and one open now.

Loaded with the demo content (``flask content load --demo``).  Dates are relative
to the day it is loaded, so the demo always has one consultation open; the
answers come from ``random.Random`` with a fixed seed, so every load makes the
same ones.  Loading again adds nothing: each consultation is known by its slug.

The closed one is the kind a council reports to committee: about 370 people
answered, and 88% strongly agreed or agreed with the first refreshed priority.
Some answered through the young people's version; a dozen wrote in their own
words, most of which a coordinator has published (one with a school's name
taken out), a few still waiting to be checked.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from local_offer.consultation_rules.authoring import (
    DISTRICT_QUESTION,
    DISTRICT_SIMPLE,
    OUTSIDE_AREA,
    PREFER_NOT,
    RESPONDENT_OPTIONS,
    RESPONDENT_QUESTION,
    RESPONDENT_SIMPLE,
    district_names,
)
from local_offer.content_loader import LoadReport, read_yaml
from local_offer.extensions import db
from local_offer.feedback.council_responses import local_today
from local_offer.models import (
    AnswerStatus,
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationStatus,
    QuestionKind,
    User,
    record_audit,
)
from local_offer.sanitise import clean_markdown

SEED = 20
CLOSED_SLUG = "refreshing-our-send-strategy-priorities"
OPEN_SLUG = "short-breaks-what-would-help-your-family"
#: The account that moderated the demo's published answers, when the demo accounts are loaded.
MODERATOR = "coordinator@demo.example.gov.uk"

PRIORITIES = [
    ("Priority 1: Identify needs early and put the right support in place quickly",
     "Help should come early, without waiting for a diagnosis or a plan"),
    ("Priority 2: Write and review education, health and care plans well and on time",
     "Plans about you should be written well and on time"),
    ("Priority 3: Prepare young people for adult life: work, living more independently, health and friends",
     "Young people should get help getting ready for being an adult"),
    ("Priority 4: Work with families as equal partners, and tell them what changed because of what they said",
     "We should listen to families and tell them what we changed"),
]
#: How the main priority was answered: 326 of 370 strongly agreed or agreed (88%).
MAIN_COUNTS = {"strongly_agree": 187, "agree": 139, "neither": 21, "disagree": 12, "strongly_disagree": 6,
               "dont_know": 5}
#: The other priorities: weights for strongly agree ... don't know.
OTHER_WEIGHTS = [(34, 45, 11, 6, 2, 2), (39, 44, 9, 4, 2, 2), (45, 40, 8, 3, 2, 2)]
RESPONDENT_WEIGHTS = (71, 11, 11, 4, 3)
HELP_OPTIONS = ["Clearer information about what is available", "Shorter waits for assessments",
                "More short breaks and holiday activities", "Support in school without needing a plan",
                "One named person to contact", "Help preparing for adult life"]
HELP_CHANCE = (0.55, 0.62, 0.48, 0.51, 0.44, 0.27)
#: What people wrote: words, status, the published version when it differs, and who wrote it when it matters.
FREE_TEXT = [
    ("We waited nearly two years for an autism assessment and nothing happened in school until we had the "
     "letter. Early help has to mean help before the diagnosis, not after.", "published", None),
    ("The priorities are right but we have heard them before. Please tell us each year what has actually "
     "changed so we can see it.", "published", None),
    ("My son's plan was reviewed late twice and the second time the targets were copied from the year before. "
     "Priority 2 matters most to us.", "published", None),
    ("Holiday clubs that can take a child who needs one-to-one are the thing we are missing. In the Moorlands "
     "there is almost nothing in August.", "published", None),
    ("I am 17 and I want to know what happens when I leave college. Nobody has talked to me about it yet.",
     "published", None, "A young person"),
    ("As a SENCo I would add: training for teaching assistants. The support in school priority will not work "
     "without it.", "published", None, "A professional"),
    ("Our daughter goes to Oakfield Primary and the staff there are brilliant, but getting speech and language "
     "therapy took a year.", "published",
     "Our daughter goes to [school removed] and the staff there are brilliant, but getting speech and language "
     "therapy took a year."),
    ("Please make the information easier to find. I found out about direct payments from another parent at "
     "the school gate.", "published", None),
    ("Equal partners sounds good. In our annual review meetings it does not feel like that yet.", "new", None),
    ("More help with transport to college. My daughter can't take the bus on her own yet and the taxi stops "
     "when she turns 19.", "new", None),
    ("I work in a short breaks service and families tell us the waiting list is the problem, not the quality.",
     "new", None, "A provider"),
    ("Can you please call me about my son's plan, it has been 30 weeks. My number is 07700 900123.", "new", None),
]
OUTCOME = ("Thank you to everyone who answered. Most people agreed with all four refreshed priorities, and most "
           "strongly with the first: getting support in place early. What we will do next: the partnership "
           "board adopted the four priorities in its refreshed strategy. We will publish a yearly update on "
           "each, starting with waiting times for assessments and the number of plans reviewed on time, and "
           "we will add holiday activities for children who need one-to-one support to our commissioning plan.")

SHORT_BREAK_OPTIONS = ["After-school clubs", "Holiday activities", "Overnight stays", "Someone to come to our home",
                       "Activities for teenagers", "Time for brothers and sisters"]
OPEN_TEXT = [
    "Clubs in the holidays that take children who need one-to-one, near where we live.",
    "Our son is 15 and the youth clubs are too loud for him. A quieter evening group would help him and us.",
    "Anything at weekends. We have not had a break since before the pandemic.",
]


def _key(slug: str, number: int) -> str:
    """Return a demo browser key: the SHA-256 of a token no browser holds."""
    return hashlib.sha256(f"demo-{slug}-{number}".encode()).hexdigest()


def _moment(day: date, rng: random.Random) -> datetime:
    """Return a moment during the waking hours of a day, in UTC."""
    return datetime.combine(day, time(rng.randint(7, 21), rng.randint(0, 59)), timezone.utc)


def _districts(content: Path | None) -> list[str]:
    """Return the district names: the council's, or the demo file's when none are loaded yet."""
    names = district_names()
    if not names and content is not None and (content / "districts.yaml").is_file():
        names = [entry["name"] for entry in read_yaml(content / "districts.yaml") or [] if isinstance(entry, dict)
                 and entry.get("name")]
    return names


def _about_you(districts: list[str], start: int) -> list[ConsultationQuestion]:
    """Return the "about you" questions, as the coordinators' one-click button adds them."""
    questions = [ConsultationQuestion(position=start, kind=QuestionKind.SINGLE, text=RESPONDENT_QUESTION,
                                      simple_text=RESPONDENT_SIMPLE, options=list(RESPONDENT_OPTIONS),
                                      about_you=True)]
    if districts:
        questions.append(ConsultationQuestion(position=start + 1, kind=QuestionKind.SINGLE, text=DISTRICT_QUESTION,
                                              simple_text=DISTRICT_SIMPLE, options=districts + [OUTSIDE_AREA,
                                                                                                PREFER_NOT],
                                              about_you=True))
    return questions


def _answer(response: ConsultationResponse, question: ConsultationQuestion, choices=None, text: str = "",
            **extra) -> None:
    """Add one answer to a response."""
    response.answers.append(ConsultationAnswer(question=question, choices=list(choices or []), text=text, **extra))


def _closed(today: date, districts: list[str], moderator: User | None) -> Consultation:
    """Build the closed consultation on the refreshed priorities, with about 370 answers."""
    rng = random.Random(SEED)
    opens, closes = today - timedelta(days=150), today - timedelta(days=108)
    published = datetime.combine(closes + timedelta(days=24), time(10, 0), timezone.utc)
    consultation = Consultation(
        slug=CLOSED_SLUG, title="Refreshing our SEND strategy priorities", audience=(
            "Parents and carers of children and young people with SEND, young people, and the professionals "
            "who work with them"),
        introduction=clean_markdown(
            "The SEND partnership (the council, the NHS, schools and the parent carer forum) has refreshed the "
            "four priorities of its strategy for the next three years.\n\nTell us whether you agree with each, "
            "and what would help your family most. It takes about five minutes. We will publish what people "
            "said and what we will do next."),
        simple_introduction=clean_markdown(
            "We want to make things better for children and young people with SEND. Here are our four big "
            "ideas. Tell us what you think. It takes about five minutes."),
        opens_on=opens, closes_on=closes, status=ConsultationStatus.CLOSED,
        created_at=_moment(opens - timedelta(days=12), rng), opened_at=_moment(opens - timedelta(days=2), rng),
        closed_at=datetime.combine(closes + timedelta(days=1), time(0, 5), timezone.utc),
        results_published_at=published, outcome=OUTCOME)
    questions = [ConsultationQuestion(position=n, kind=QuestionKind.AGREEMENT, text=text, simple_text=simple,
                                      required=n == 0, hint="How much do you agree?" if n == 0 else "")
                 for n, (text, simple) in enumerate(PRIORITIES)]
    questions.append(ConsultationQuestion(
        position=4, kind=QuestionKind.SINGLE, text="Which priority matters most to your family?",
        simple_text="Which idea matters most to you?", options=[f"Priority {n}" for n in range(1, 5)]))
    questions.append(ConsultationQuestion(
        position=5, kind=QuestionKind.MULTIPLE, text="Which of these would help your family most?",
        simple_text="What would help you most?", options=HELP_OPTIONS, hint="Choose up to three."))
    questions.append(ConsultationQuestion(
        position=6, kind=QuestionKind.TEXT, text="Is there anything else you want to tell us about the priorities?",
        simple_text="Is there anything else you want to tell us?"))
    questions += _about_you(districts, 7)
    consultation.questions = questions
    main = [value for value, count in MAIN_COUNTS.items() for _ in range(count)]
    rng.shuffle(main)
    writers = {number: entry for number, entry in zip(rng.sample(range(len(main)), len(FREE_TEXT)), FREE_TEXT)}
    days = (closes - opens).days
    for number, first in enumerate(main):
        who = rng.choices(RESPONDENT_OPTIONS, RESPONDENT_WEIGHTS)[0]
        if number in writers:
            words, status, public, *said = writers[number]
            who = said[0] if said else ("A parent or carer" if who == "A young person" else who)
        # Answers come fast when the email goes out, then tail off, with a reminder a week before the end.
        day = opens + timedelta(days=min(days, int(rng.expovariate(1 / 9)) if rng.random() < 0.8
                                    else days - rng.randint(0, 7)))
        submitted = _moment(day, rng)
        response = ConsultationResponse(browser_key=_key(CLOSED_SLUG, number), simple=who == "A young person",
                                        language="pl" if rng.random() < 0.02 else "en",
                                        started_at=submitted - timedelta(minutes=rng.randint(3, 25)),
                                        updated_at=submitted, submitted_at=submitted)
        _answer(response, questions[0], [first])
        for question, weights in zip(questions[1:4], OTHER_WEIGHTS):
            if rng.random() < 0.96:
                _answer(response, question, rng.choices(list(MAIN_COUNTS), weights))
        if rng.random() < 0.93:
            _answer(response, questions[4], rng.choices(questions[4].options, (48, 17, 13, 22)))
        chosen = [option for option, chance in zip(HELP_OPTIONS, HELP_CHANCE) if rng.random() < chance][:3]
        if chosen:
            _answer(response, questions[5], chosen)
        if number in writers:
            extra = {"status": AnswerStatus(status)}
            if status == "published":
                extra.update(public_text=public or words, redacted=public is not None,
                             moderated_at=published - timedelta(days=rng.randint(1, 6)),
                             moderated_by_id=moderator.id if moderator else None)
            _answer(response, questions[6], text=words, **extra)
        _answer(response, questions[7], [who])
        if len(questions) > 8 and rng.random() < 0.9:
            weights = [6 if "Moorlands" in name or "Stoke" in name else 3 for name in districts] + [1, 2]
            _answer(response, questions[8], rng.choices(questions[8].options, weights))
        consultation.responses.append(response)
    for number in range(len(main), len(main) + 9):  # started, never sent: not counted
        started = _moment(opens + timedelta(days=rng.randint(0, days)), rng)
        consultation.responses.append(ConsultationResponse(browser_key=_key(CLOSED_SLUG, number), started_at=started,
                                                           updated_at=started))
    return consultation


def _open(today: date, districts: list[str]) -> Consultation:
    """Build the open consultation on short breaks, opened two weeks ago, with a handful of answers."""
    rng = random.Random(SEED + 1)
    opens = today - timedelta(days=14)
    consultation = Consultation(
        slug=OPEN_SLUG, title="Short breaks: what would help your family?",
        audience="Families of disabled children and young people, and young people themselves",
        introduction=clean_markdown(
            "We are planning short breaks for the next three years: clubs, holiday activities, overnight stays "
            "and support at home that give disabled children time to enjoy themselves and give families a "
            "break.\n\nTell us what you use now and what would help. Your answers are anonymous."),
        simple_introduction=clean_markdown(
            "Short breaks are fun things to do away from home, like clubs and holiday activities. Tell us what "
            "you would like to do."),
        opens_on=opens, closes_on=today + timedelta(days=42), status=ConsultationStatus.OPEN,
        created_at=_moment(opens - timedelta(days=6), rng), opened_at=_moment(opens - timedelta(days=1), rng))
    questions = [
        ConsultationQuestion(position=0, kind=QuestionKind.AGREEMENT, required=True,
                             text="Short breaks should be available in the school holidays as well as in term time",
                             simple_text="There should be things to do in the school holidays too"),
        ConsultationQuestion(position=1, kind=QuestionKind.SINGLE, text="How often does your family use short "
                             "breaks now?", simple_text="How often do you go to a short break now?",
                             options=["Every week", "Every month", "A few times a year", "Never"]),
        ConsultationQuestion(position=2, kind=QuestionKind.MULTIPLE, text="Which kinds of short break would help "
                             "your family?", simple_text="What would you like to do?", options=SHORT_BREAK_OPTIONS,
                             hint="Choose all that apply."),
        ConsultationQuestion(position=3, kind=QuestionKind.TEXT, text="What would make short breaks work better "
                             "for your family?", simple_text="What would make short breaks better for you?"),
    ] + _about_you(districts, 4)
    consultation.questions = questions
    for number in range(11):
        day = opens + timedelta(days=rng.randint(0, 13))
        moment = _moment(day, rng)
        who = rng.choices(RESPONDENT_OPTIONS, RESPONDENT_WEIGHTS)[0]
        response = ConsultationResponse(browser_key=_key(OPEN_SLUG, number), simple=who == "A young person",
                                        started_at=moment - timedelta(minutes=6), updated_at=moment,
                                        submitted_at=moment if number < 9 else None)
        _answer(response, questions[0], rng.choices(list(MAIN_COUNTS), (50, 30, 8, 5, 3, 4)))
        if number < 9:
            _answer(response, questions[1], [rng.choice(questions[1].options)])
            _answer(response, questions[2], rng.sample(SHORT_BREAK_OPTIONS, rng.randint(1, 3)))
            if number < len(OPEN_TEXT):
                _answer(response, questions[3], text=OPEN_TEXT[number])
            _answer(response, questions[4], [who])
            if len(questions) > 5:
                _answer(response, questions[5], [rng.choice(questions[5].options)])
        consultation.responses.append(response)
    return consultation


def load_demo_consultations(report: LoadReport, content: Path | None = None, today: date | None = None) -> None:
    """Add the demo's closed and open consultations when they are not there yet (the caller commits)."""
    today = today or local_today()
    districts = _districts(content)
    moderator = db.session.execute(select(User).where(User.email == MODERATOR)).scalar_one_or_none()
    known = set(db.session.execute(select(Consultation.slug).where(
        Consultation.slug.in_([CLOSED_SLUG, OPEN_SLUG]))).scalars())
    added = []
    for slug, build in ((CLOSED_SLUG, lambda: _closed(today, districts, moderator)),
                        (OPEN_SLUG, lambda: _open(today, districts))):
        if slug in known:
            report.count("consultations", False)
            continue
        consultation = build()
        db.session.add(consultation)
        added.append(slug)
        report.count("consultations", True)
    db.session.flush()
    if added:
        record_audit("consultation.seeded", "consultation", None, changes={"source": "demo content",
                                                                          "consultations": added})
