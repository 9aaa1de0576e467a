"""Co-production: families' feedback, moderated, answered in public ("You said, we did"), reported to the partnership.

The pages only; the rules live in ``local_offer.feedback``.
"""

from local_offer.coproduction import demand_views  # noqa: F401  (adds what families looked for and did not find)
from local_offer.coproduction import report_views  # noqa: F401  (adds the report routes to the blueprint)
from local_offer.coproduction import response_views  # noqa: F401  (adds "You said, we did" and the responses)
from local_offer.coproduction.views import bp

__all__ = ["bp"]
