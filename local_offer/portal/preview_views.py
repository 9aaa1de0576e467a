"""The provider's preview: their listing as families will see it with the open change, before sending it.

Built in memory (``listings.preview``): nothing is stored, search engines are told
not to keep it, and the page offers the way back and the "Send for checking" form.
"""

from __future__ import annotations

from flask import make_response, render_template
from werkzeug.exceptions import NotFound

from local_offer.auth import requires
from local_offer.errors import refuse
from local_offer.i18n import _
from local_offer.listings import preview as listing_preview, workflow
from local_offer.models import Role
from local_offer.portal.forms import SubmitForm
from local_offer.portal.views import bp, editable_listing, section_states


@bp.get("/listings/<uuid:listing_id>/preview")
@requires(Role.PROVIDER)
def preview(listing_id):
    """Show the listing page as families will see it with the provider's changes, with the send-in form."""
    try:
        listing = editable_listing(listing_id)
    except NotFound:
        refuse(404, _("This listing is no longer here: it may have been deleted. Go back to your listings."))
    revision = workflow.open_revision(listing)
    ready = revision is not None and all(state == "completed" for state in section_states(listing, revision).values())
    response = make_response(render_template(
        "portal/preview.html", listing=listing_preview.draft_preview(listing, revision), revision=revision,
        ready=ready, submit_form=SubmitForm(revision=revision.id if revision else "",
                                            version=revision.version if revision else ""),
        preview=True, back=None, distance=None, calendar_ready=False))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
