"""The personal-details guard's answers on the publish form: for each thing found, remove or keep (and why).

The things found change with the text, so their answers are read from the
form's own fields, named after each finding (``pd-<digest>`` and
``pd-<digest>-reason``); anything else, or any other value, is ignored.  The
publish form itself (and its CSRF token) is ``forms.PublishForm``.
"""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from local_offer.feedback.guard import KEEP, REMOVE, Decision
from local_offer.sanitise import clean_text

_FIELD = re.compile(r"^pd-([0-9a-f]{12})$")
#: The longest reason kept for keeping something (it goes in the audit log).
REASON_MAX = 500
#: At most this many answers are read from one form.
ANSWERS_MAX = 500


def decisions_from(form: MultiDict) -> dict[str, Decision]:
    """Return the coordinator's answers, by finding digest, from a submitted publish form."""
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
