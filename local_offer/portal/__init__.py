"""The provider portal: providers keep their own listings current; every change waits for a coordinator."""

from local_offer.portal import still_accurate  # noqa: F401  (adds the emailed "Still accurate" page)
from local_offer.portal.views import bp
from local_offer.portal import copy_views  # noqa: F401  ("Copy an existing listing", on the same blueprint)
from local_offer.portal import preview_views  # noqa: F401  (its routes are on the same blueprint)

__all__ = ["bp"]
