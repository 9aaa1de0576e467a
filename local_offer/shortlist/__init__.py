"""Shortlists without an account: save, order, note, share, email and print listings."""

from local_offer.shortlist.views import bp

__all__ = ["bp"]
