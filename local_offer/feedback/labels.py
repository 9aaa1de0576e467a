"""The words the pages, forms and the partnership report show for each co-production choice."""

from __future__ import annotations

from local_offer.i18n import _l
from local_offer.models import ExclusionReason, FeedbackTopic, Respondent

TOPIC_LABELS = {
    FeedbackTopic.CONTENT: _l("What is in the Local Offer, or missing from it"),
    FeedbackTopic.USABILITY: _l("How easy it is to find and use the information"),
    FeedbackTopic.DEVELOPMENT: _l("How the Local Offer is developed and reviewed"),
}
TOPIC_SHORT = {
    FeedbackTopic.CONTENT: _l("Services and gaps"),
    FeedbackTopic.USABILITY: _l("Finding and using information"),
    FeedbackTopic.DEVELOPMENT: _l("How the Local Offer is developed"),
}
RESPONDENT_LABELS = {
    Respondent.PARENT_CARER: _l("Parent or carer"),
    Respondent.YOUNG_PERSON: _l("Child or young person"),
    Respondent.PROFESSIONAL: _l("Professional"),
    Respondent.PROVIDER: _l("Provider"),
    Respondent.OTHER: _l("Someone else"),
}
EXCLUSION_LABELS = {
    ExclusionReason.VEXATIOUS: _l("Vexatious (repeated or not in good faith)"),
    ExclusionReason.ABUSIVE: _l("Abusive or offensive"),
    ExclusionReason.INDIVIDUAL_CASE: _l("About one person's own case: signposted to complaints"),
}


#: A promise's progress as the pages say it, with its tag colour ("late" is worked out, never stored).
PROMISE_LABELS = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "late": _l("Late"),
}
PROMISE_TAGS = {"planned": "govuk-tag--grey", "in_progress": "govuk-tag--blue", "done": "govuk-tag--green",
                "late": "govuk-tag--red"}


def template_labels() -> dict:
    """Return the labels every co-production template may use, by the names the templates know."""
    return {"TOPIC_LABELS": TOPIC_LABELS, "TOPIC_SHORT": TOPIC_SHORT, "RESPONDENT_LABELS": RESPONDENT_LABELS,
            "EXCLUSION_LABELS": EXCLUSION_LABELS, "PROMISE_LABELS": PROMISE_LABELS, "PROMISE_TAGS": PROMISE_TAGS}
