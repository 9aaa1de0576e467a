"""Moderation: coordinators check new listings and changes before families see them."""

from local_offer.moderation.views import bp

__all__ = ["bp"]
