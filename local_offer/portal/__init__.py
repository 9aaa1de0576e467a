"""The provider portal: providers keep their own listings current; every change waits for a coordinator."""

from local_offer.portal.views import bp

__all__ = ["bp"]
