"""Moderation: coordinators check new listings and changes before families see them."""

from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

from local_offer.moderation import views  # noqa: E402,F401  (routes attach to bp)


@bp.app_template_global("changes_waiting_count")
def changes_waiting_count() -> int:
    """Return how many changes wait for checks (shown on the coordinators' pages)."""
    from sqlalchemy import func, select

    from local_offer.extensions import db
    from local_offer.models import ListingRevision, RevisionStatus

    return db.session.execute(select(func.count()).select_from(ListingRevision)
                              .where(ListingRevision.status == RevisionStatus.PENDING)).scalar_one()
