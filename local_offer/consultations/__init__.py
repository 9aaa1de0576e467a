"""Consultations families answer ("Have your say"): written and run by coordinators, answered anonymously.

``authoring`` holds the rules for writing, opening and closing a consultation;
``answering`` for answering one, once per browser; ``results`` for counting
the answers and publishing free text through the personal-details guard.  The
``*_views`` modules add their pages to the one blueprint.
"""

from local_offer.consultations.blueprint import bp

__all__ = ["bp"]
