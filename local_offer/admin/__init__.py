"""Coordinators' and administrators' pages: people, requests to join, synonyms."""

from local_offer.admin.views import bp

__all__ = ["bp"]
