"""The public directory: home, search results, category pages, listing pages, what's on and search alerts."""

from local_offer.directory import alert_views, whats_on  # noqa: F401  (add their routes to the blueprint)
from local_offer.directory.views import bp

__all__ = ["bp"]
