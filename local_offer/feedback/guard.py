"""The personal-details guard at publishing: each thing found is removed, or kept with a reason.

Before a comment is published, ``local_offer.personal_details`` reads what the
public would see.  Each thing it finds (a phone number, a name, a school...)
must be either removed (replaced with "[name removed]") or kept, with a reason
the audit log records ("the head teacher asked to be thanked by name").  Until
every one is decided, nothing is published.  The same phone number written
twice is one decision.

    check = review(text, decisions)    # decisions: {finding key digest: Decision}
    check.unresolved                   # findings with no decision yet: publishing is refused
    check.public_text                  # the text with the removals made
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from local_offer import personal_details
from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.models import Listing, Organisation
from local_offer.personal_details import Finding
from local_offer.sanitise import clean_text

REMOVE = "remove"
KEEP = "keep"
#: How long the directory's settings are remembered before they are read again (seconds).
SETTINGS_FOR = 300
#: Words in a listing's or organisation's name that make it a school or an early years setting.
SETTING_WORDS = ("school", "academy", "college", "nursery", "pre-school", "preschool", "playgroup", "montessori",
                 "primary", "infant", "junior", "sixth form", "childmind", "kindergarten", "day care")
_settings_cache: tuple[float, tuple[str, ...]] | None = None


def kind_label(kind: str) -> str:
    """Return a finding's kind as a coordinator reads it."""
    return {personal_details.PHONE: _("Phone number"), personal_details.EMAIL: _("Email address"),
            personal_details.POSTCODE: _("Postcode"), personal_details.ADDRESS: _("Street address"),
            personal_details.DATE_OF_BIRTH: _("Date of birth"), personal_details.NAME: _("Person's name"),
            personal_details.SCHOOL: _("School or setting")}[kind]


def digest(finding: Finding) -> str:
    """Return a short, form-safe name for a finding's decision (the same words share one)."""
    return hashlib.sha256(finding.key.encode("utf-8")).hexdigest()[:12]


def directory_settings() -> tuple[str, ...]:
    """Return the names of the schools and early years settings in our own directory (read every 5 minutes)."""
    global _settings_cache
    now = time.monotonic()
    if _settings_cache is not None and now - _settings_cache[0] < SETTINGS_FOR:
        return _settings_cache[1]
    names: set[str] = set()
    for model in (Listing, Organisation):
        lowered = func.lower(model.name)
        names.update(db.session.execute(select(model.name).where(
            or_(*(lowered.contains(word) for word in SETTING_WORDS)))).scalars())
    _settings_cache = (now, tuple(sorted(name for name in names if name and name.strip())))
    return _settings_cache[1]


def find(text: str) -> list[Finding]:
    """Return what in a comment could identify someone, including our own directory's settings."""
    return personal_details.find(text, directory_settings())


@dataclass
class Decision:
    """What a coordinator chose for one finding: remove it, or keep it with a reason."""

    choice: str = ""
    reason: str = ""


@dataclass
class Check:
    """What the guard made of a text and the coordinator's decisions."""

    findings: list[Finding]
    public_text: str
    removed: dict[str, int] = field(default_factory=dict)
    kept: list[dict[str, str]] = field(default_factory=list)
    #: (digest, message) for each finding still to decide, or kept without a reason.
    problems: list[tuple[str, str]] = field(default_factory=list)
    #: Set when removing what was found would leave nothing worth publishing.
    nothing_left: bool = False

    @property
    def ready(self) -> bool:
        """Return whether the text may be published."""
        return not self.problems and not self.nothing_left


def review(text: str, decisions: dict[str, Decision]) -> Check:
    """Apply the coordinator's decisions to what the guard finds in ``text``; say what is still to decide."""
    findings = find(text)
    check = Check(findings=findings, public_text=text)
    removing: list[Finding] = []
    seen: set[str] = set()
    for finding in findings:
        key = digest(finding)
        decision = decisions.get(key) or Decision()
        if decision.choice == REMOVE:
            removing.append(finding)
            check.removed[finding.kind] = check.removed.get(finding.kind, 0) + 1
        elif key in seen:
            continue
        elif decision.choice == KEEP and decision.reason.strip():
            check.kept.append({"kind": finding.kind, "reason": decision.reason.strip()})
        elif decision.choice == KEEP:
            check.problems.append((key, _("Say why you are keeping %(what)s", what=finding.text)))
        else:
            check.problems.append((key, _("Choose whether to remove or keep %(what)s", what=finding.text)))
        seen.add(key)
    check.public_text = personal_details.redact(text, removing)
    check.nothing_left = bool(removing) and personal_details.only_removal_notes(check.public_text)
    return check


def highlight(text: str) -> list[tuple[str, Finding | None]]:
    """Return a comment in pieces, each plain or one thing the guard found, for the moderation page."""
    return personal_details.highlighted(text, find(text))


def remove_all(text: str) -> str:
    """Return the text with everything the guard finds replaced by removal notes."""
    return personal_details.redact(text, find(text))


def provider_warnings(text: str) -> list[Finding]:
    """Return what in a provider's description looks like a private person's details (warned, never blocked)."""
    return personal_details.provider_warnings(text)


#: A publish form's answer for one finding is named ``pd-<digest>`` (remove or keep), its reason ``pd-<digest>-reason``.
_FIELD = re.compile(r"^pd-([0-9a-f]{12})$")
#: The longest reason kept for keeping something (it goes in the audit log).
REASON_MAX = 500
#: At most this many answers are read from one form.
ANSWERS_MAX = 500


def decisions_from(form) -> dict[str, Decision]:
    """Return a coordinator's remove-or-keep answers, by finding digest, from a submitted publish form.

    The things found change with the text, so their answers are read from the form's
    own fields; anything else, or any other value, is ignored.
    """
    decisions: dict[str, Decision] = {}
    for name in form:
        match = _FIELD.match(name)
        if not match or len(decisions) >= ANSWERS_MAX:
            continue
        choice = form.get(name, "")
        if choice not in (REMOVE, KEEP):
            continue
        decisions[match.group(1)] = Decision(choice, clean_text(form.get(f"{name}-reason", ""))[:REASON_MAX])
    return decisions
