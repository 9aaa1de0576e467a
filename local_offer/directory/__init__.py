"""The public directory: home, search results, category pages, listing pages and search alerts."""

from local_offer.directory import alert_views  # noqa: F401  (adds the alert routes to the blueprint)
from local_offer.directory.views import bp

__all__ = ["bp"]
