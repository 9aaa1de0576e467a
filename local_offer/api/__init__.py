"""Open data: the Open Referral UK read API."""

from local_offer.api.views import bp

__all__ = ["bp"]
