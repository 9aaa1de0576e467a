"""Co-production: families' feedback, moderated, answered in public ("You said, we did"), reported to the partnership."""

from flask import Blueprint

bp = Blueprint("coproduction", __name__)

from local_offer.coproduction import views  # noqa: E402,F401  (routes attach to bp)


@bp.app_template_global("feedback_waiting_count")
def feedback_waiting_count() -> int:
    """Return how many comments wait for moderation (shown on the coordinators' pages)."""
    from sqlalchemy import func, select

    from local_offer.extensions import db
    from local_offer.models import Feedback, FeedbackStatus

    return db.session.execute(select(func.count()).select_from(Feedback)
                              .where(Feedback.status == FeedbackStatus.NEW)).scalar_one()
