"""The concurrency bench's import writer: one process publishing ORUK services through the importer.

Run by bench/concurrency.py with the code under test on PYTHONPATH.  It reads
one JSON line per change on stdin (``{"change": n, "services": [ORUK service,
...]}``), imports the services with ``--apply --publish`` semantics (the same
``interchange.import_records`` call as ``flask oruk import --apply --publish``,
search sync included) and answers one JSON line per change on stdout:
``{"change": n, "started": t, "finished": t, "outcomes": {id: [action, reason]}, "error": null}``.
Times are ``time.time()`` so the bench can compare them with its own clock.
"""

from __future__ import annotations

import json
import sys
import time
import traceback

import local_offer
from local_offer import create_app, interchange
from local_offer.extensions import db


def main() -> None:
    """Import each change read from stdin and report how it went."""
    app = create_app()
    with app.app_context():
        print(json.dumps({"ready": True, "code": local_offer.__file__}), flush=True)
        for line in sys.stdin:
            order = json.loads(line)
            started = time.time()
            answer = {"change": order["change"], "started": started, "outcomes": {}, "error": None}
            try:
                report = interchange.import_records(order["services"], apply=True, publish=True)
                answer["outcomes"] = {outcome.source_id: [outcome.action, outcome.reason]
                                      for outcome in report.outcomes}
            except Exception:  # noqa: BLE001  (reported to the bench, which counts it as a failed change)
                db.session.rollback()
                answer["error"] = traceback.format_exc()
            answer["finished"] = time.time()
            db.session.remove()
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
