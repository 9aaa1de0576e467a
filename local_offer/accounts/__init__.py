"""Signing in and out, passwords, invitations and requests to join."""

from local_offer.accounts.views import bp

__all__ = ["bp"]
