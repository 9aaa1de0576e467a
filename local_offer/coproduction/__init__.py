"""Co-production: families' feedback, moderated, answered in public ("You said, we did"), reported to the partnership.

The pages only; the rules live in ``local_offer.feedback``.
"""

from local_offer.coproduction.views import bp

__all__ = ["bp"]
