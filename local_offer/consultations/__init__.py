"""Consultations families answer ("Have your say"): the pages, for everyone and for coordinators.

The rules that change what is stored live in ``local_offer.consultation_rules``
(``authoring``: writing, opening and closing; ``answering``: answering once per
browser; ``results`` and ``free_text``: counting and publishing through the
personal-details guard; ``retention``).  Each ``*_views`` module here adds its
pages to the one blueprint; ``common`` holds what every page agrees on.
"""

from local_offer.consultations.blueprint import bp
from local_offer.consultations import answer_views  # noqa: E402,F401  (Have your say: the public answering pages)
from local_offer.consultations import authoring_views  # noqa: E402,F401  (the coordinators' pages join bp)
from local_offer.consultations import results_views  # noqa: E402,F401  (results, exports, written answers)

__all__ = ["bp"]
