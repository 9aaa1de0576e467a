"""The public directory: home, search results, category pages and listing pages."""

from local_offer.directory.views import bp

__all__ = ["bp"]
