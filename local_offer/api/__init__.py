"""Open data: the Open Referral UK read APIs, version 1 (/api/v1/) and version 3 (/api/v3/)."""

from local_offer.api.v3 import bp as v3_bp
from local_offer.api.views import bp

__all__ = ["bp", "v3_bp"]
