"""The site as gunicorn serves it in the concurrency bench, plus one header saying which worker answered.

    gunicorn 'concurrency_app:app'   (bench/concurrency.py starts it with bench/ on the path)

``X-Bench-Worker: <pid>`` lets the bench check that every worker, not only
one, finds a change.  The header belongs to the bench alone: the application
never sends it.
"""

from __future__ import annotations

import os
import sys

import local_offer
from local_offer import create_app


class WorkerHeader:
    """WSGI middleware adding ``X-Bench-Worker`` with this process's id to every response."""

    def __init__(self, wrapped):
        """Wrap a WSGI application."""
        self.wrapped = wrapped

    def __call__(self, environ, start_response):
        """Answer through the wrapped application, adding the header."""
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Bench-Worker", str(os.getpid()))], exc_info)
        return self.wrapped(environ, start)


# The bench checks this line to be sure the workers run the code it was asked to measure.
print(f"bench: worker {os.getpid()} runs local_offer from {local_offer.__file__}", file=sys.stderr, flush=True)
app = WorkerHeader(create_app())
