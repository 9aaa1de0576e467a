"""What families and staff read for each code a listing stores, in their language.

Stored values stay codes ("support_service", "SA", "term_time"); every page,
difference and email shows these labels instead.  Labels are lazy: they are
translated when shown, in the reader's language.
"""

from __future__ import annotations

from local_offer.i18n import _l
from local_offer.models import AccessRoute, DeliveryMethod, ListingKind, ListingLevel, SchedulePeriod, Weekday

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
FUNDING_LABELS = {
    "ehcp": _l("Accepts EHCP funding"),
    "personal_budget": _l("Accepts personal budgets"),
    "direct_payments": _l("Accepts direct payments"),
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
#: The portal's sections, as its task list names them.
SECTION_TITLES = {
    "about": _l("About the listing"),
    "who": _l("Who it is for"),
    "when_where": _l("When and where"),
    "cost": _l("Cost and funding"),
    "access": _l("Accessibility and support"),
    "contacts": _l("Contact details"),
}
#: Each section's fields, as a difference or a form names them.
FIELD_LABELS = {
    "name": _l("Listing name"), "kind": _l("Kind of listing"), "summary": _l("Summary"),
    "description": _l("Description"), "categories": _l("Categories"), "ofsted_urn": _l("Ofsted URN"),
    "sen_information_report_url": _l("SEN information report"),
    "min_age": _l("Youngest age"), "max_age": _l("Oldest age"), "level": _l("Who can use it"),
    "eligibility": _l("Who it is for"), "needs": _l("Needs it supports"), "languages": _l("Languages"),
    "delivery_methods": _l("How it is offered"), "service_area": _l("Area it covers"),
    "in_area": _l("In the council's area"), "locations": _l("Venues"), "schedules": _l("Times"),
    "is_free": _l("Free"), "costs": _l("Costs"), "accepts_ehcp_funding": _l("EHC plan funding"),
    "accepts_personal_budget": _l("Personal budgets"), "accepts_direct_payments": _l("Direct payments"),
    "free_carer_entry": _l("Free entry for carers"),
    "accessibility": _l("Accessibility"), "access_routes": _l("How to get a place"),
    "how_to_access": _l("How to access it"),
    "website": _l("Website"), "email": _l("Email"), "phone": _l("Phone"), "contacts": _l("People to contact"),
    "status": _l("Status"),
}
#: How a difference names a listing's status.
STATUS_LABELS = {
    "draft": _l("Draft"), "pending": _l("Waiting for checks"), "published": _l("Published"),
    "temporarily_closed": _l("Temporarily closed"), "archived": _l("Archived"),
}
#: What a listing's history calls each audited action.
AUDIT_LABELS = {
    "listing.seeded": _l("Loaded from the demo content"),
    "listing.started": _l("Started as a new listing"),
    "revision.submitted": _l("Sent a change for checking"),
    "revision.withdrawn": _l("Threw away a change"),
    "revision.returned": _l("Sent a change back"),
    "listing.approved": _l("Approved and published a change"),
    "listing.published": _l("Published"),
    "listing.confirmed": _l("Confirmed still accurate"),
    "listing.review_reminded": _l("Reminded the provider to check it"),
    "listing.review_hidden": _l("Hidden from families until checked"),
    "listing.review_shown": _l("Back on the Local Offer after being checked"),
    "listing.review_extended": _l("Gave more time to check it"),
}
