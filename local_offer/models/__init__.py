"""The data model, by area, shaped after Open Referral UK (HSDS UK profile).

    base          ids, UTC times, stored enums, the audit log and site settings
    directory     organisations, listings, venues, sessions, costs, contacts, vocabularies, revisions
    accounts      people who sign in, roles, emailed links, requests to join, sign-ins
    gazetteer     postcodes, sectors, outward codes and places (see ``geo``)
    search        synonyms, related terms, the index's outbox and change feed, the anonymous search log
    coproduction  feedback, priorities, themes, replies and "You said, we did" responses
    jobs          scheduled jobs: when each last ran and how it ended
    shortlist     listings a family saves without an account, with private notes and a share link
    alerts        saved searches whose new results are emailed weekly to a confirmed address
    terms         school terms: when "term time only" and "school holidays only" sessions run
    feeds         neighbours' directories whose Open Referral feeds we pull

Import models from here (``from local_offer.models import Listing``): importing
this package registers every table with the metadata that migrations compare.
"""

from local_offer.models.base import (
    AuditEvent,
    enum_column,
    new_id,
    record_audit,
    SiteSetting,
    UTCDateTime,
    utcnow,
)
from local_offer.models.directory import (
    FUNDING_FLAGS,
    OPEN_REVISION_SQL,
    OPEN_REVISIONS,
    PUBLIC_STATUSES,
    AccessRoute,
    Contact,
    CostOption,
    DeliveryMethod,
    Listing,
    ListingKind,
    ListingLevel,
    ListingRevision,
    ListingStatus,
    ListingTerm,
    Location,
    Organisation,
    RevisionStatus,
    Schedule,
    SchedulePeriod,
    ServiceAtLocation,
    Term,
    Vocabulary,
    Weekday,
)
from local_offer.models.accounts import (
    AccountToken,
    JoinRequest,
    JoinStatus,
    organisation_members,
    Role,
    SignIn,
    TokenPurpose,
    User,
)
from local_offer.models.gazetteer import (
    GazetteerArea,
    OutwardCode,
    Place,
    PlaceName,
    Postcode,
    PostcodeSector,
)
from local_offer.models.search import (
    record_change,
    RelatedTerms,
    SearchChange,
    District,
    SearchDemand,
    SearchDemandArea,
    SearchLog,
    SynonymGroup,
)
from local_offer.models.consultation import (
    AnswerStatus,
    Consultation,
    ConsultationAnswer,
    ConsultationQuestion,
    ConsultationResponse,
    ConsultationStatus,
    QuestionKind,
)
from local_offer.models.coproduction import (
    CouncilResponse,
    ExclusionReason,
    Feedback,
    feedback_themes,
    FeedbackContact,
    FeedbackReply,
    FeedbackStatus,
    FeedbackTopic,
    Priority,
    PromiseStatus,
    Respondent,
    response_feedback,
    ResponseStatus,
    Theme,
)
from local_offer.models.jobs import JobOutcome, ScheduledJob
from local_offer.models.shortlist import Shortlist, ShortlistItem
from local_offer.models.alerts import AlertStatus, SearchAlert
from local_offer.models.terms import SchoolTerm, school_year_of
from local_offer.models.feeds import Feed

__all__ = [
    "SearchDemandArea",
    "QuestionKind",
    "District",
    "ConsultationStatus",
    "ConsultationResponse",
    "ConsultationQuestion",
    "ConsultationAnswer",
    "Consultation",
    "AnswerStatus",
    "AccessRoute",
    "AlertStatus",
    "AccountToken",
    "AuditEvent",
    "Contact",
    "CostOption",
    "CouncilResponse",
    "DeliveryMethod",
    "ExclusionReason",
    "FUNDING_FLAGS",
    "Feed",
    "Feedback",
    "FeedbackContact",
    "FeedbackReply",
    "FeedbackStatus",
    "FeedbackTopic",
    "GazetteerArea",
    "JoinRequest",
    "JobOutcome",
    "JoinStatus",
    "Listing",
    "ListingKind",
    "ListingLevel",
    "ListingRevision",
    "ListingStatus",
    "ListingTerm",
    "Location",
    "OPEN_REVISIONS",
    "OPEN_REVISION_SQL",
    "Organisation",
    "OutwardCode",
    "PUBLIC_STATUSES",
    "Place",
    "PlaceName",
    "Postcode",
    "PostcodeSector",
    "Priority",
    "PromiseStatus",
    "RelatedTerms",
    "Respondent",
    "ResponseStatus",
    "RevisionStatus",
    "Role",
    "Schedule",
    "SchedulePeriod",
    "ScheduledJob",
    "SearchAlert",
    "SearchChange",
    "SearchDemand",
    "SchoolTerm",
    "school_year_of",
    "SearchLog",
    "ServiceAtLocation",
    "Shortlist",
    "ShortlistItem",
    "SignIn",
    "SiteSetting",
    "SynonymGroup",
    "Term",
    "Theme",
    "TokenPurpose",
    "UTCDateTime",
    "User",
    "Vocabulary",
    "Weekday",
    "enum_column",
    "feedback_themes",
    "new_id",
    "organisation_members",
    "record_audit",
    "record_change",
    "response_feedback",
    "utcnow",
]
