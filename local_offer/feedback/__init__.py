"""Families' feedback on the Local Offer: the co-production services behind the ``coproduction`` pages.

- ``labels``: the words shown for topics, who a comment came from and why one was excluded.
- ``comments``: leaving a comment, moderating it (publish with redaction, exclude, tag) and replying.
- ``tags``: what comments are tagged with: the partnership's priorities (versioned) and themes.
- ``council_responses``: the council's responses, which comments each answers, each promise's progress
  (late worked out from its date), the response form's comment finder, the yearly duty.
- ``you_said``: the public "You said, we did" page: the latest responses by theme, then comments with answers.
- ``partnership_report``: counts for the partnership board, said in words ("41 (none last year)"), as a page
  that prints on A4, charts (``charts``), a Word document (``report_document``) and CSV.
- ``retention``: the purge of contact details and unpublished words after the retention period.
- ``seed``: the seed priorities and the demo year of feedback from ``content/``.

The rules they hold: only the ``published_text`` of published comments and
published responses are public; a priority row never changes once comments
point at it; redaction keeps the original private and the audit log notes
only that it happened.  Every function that changes something commits its
own transaction; the views never do.
"""
