"""Coordinators' and administrators' pages: people, requests to join, synonyms, term dates, neighbours' feeds."""

from local_offer.admin import district_views  # noqa: F401  (adds the districts' routes to the blueprint)
from local_offer.admin import feed_views  # noqa: F401  (adds the feed routes to the blueprint)
from local_offer.admin import review_views  # noqa: F401  (adds the review queue's routes to the blueprint)
from local_offer.admin.views import bp

__all__ = ["bp"]
