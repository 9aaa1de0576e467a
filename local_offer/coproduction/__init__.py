"""Co-production: families' feedback, moderated, answered in public ("You said, we did"), reported to the partnership.

The pages only; the rules live in ``local_offer.feedback``.
"""

from flask import Blueprint

from local_offer.feedback import comments, labels

bp = Blueprint("coproduction", __name__)
bp.add_app_template_global(comments.waiting_count, "feedback_waiting_count")
bp.app_context_processor(labels.template_labels)

from local_offer.coproduction import views  # noqa: E402,F401  (routes attach to bp)
