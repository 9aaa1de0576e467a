"""Information pages rendered from the Markdown files in ``content/pages/``."""

from local_offer.pages.views import bp

__all__ = ["bp"]
