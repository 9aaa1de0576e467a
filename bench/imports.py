"""CSV import benchmark: a dry run of a very large file, checked and reported row by row.

    python bench/imports.py --rows 100000      (make bench runs it)

Builds a throwaway instance (SQLite, the vocabularies), makes a CSV of N rows
in the import layout (every other row has no name, so half are rejected with
a reason), reads it and dry-runs the import, then prints rows, seconds, rows
per second and the process's peak memory.  It checks the report's counts, so
an importer that drops or crashes on rows fails here loudly.

Not part of the test suite (tests/test_import.py dry-runs a few thousand rows).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def csv_rows(count: int) -> bytes:
    """Make a CSV of count rows under one organisation; odd rows are named, even rows are not."""
    header = "id,organisation_id,organisation_name,name\n"
    body = "".join(f"r{n},o,Org,{('Name ' + str(n)) if n % 2 else ''}\n" for n in range(count))
    return (header + body).encode()


def peak_megabytes() -> float:
    """Return this process's peak resident memory so far, in megabytes (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Build the instance, dry-run the import of N rows and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the CSV file")
    options = parser.parse_args()

    os.environ["LOCAL_OFFER_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="lo-bench-imports-")
    from flask_migrate import upgrade

    from local_offer import create_app, interchange
    from local_offer.content_loader import LoadReport, load_vocabularies
    from local_offer.extensions import db

    app = create_app({"PUBLIC_URL": "http://127.0.0.1:5000", "SESSION_COOKIE_SECURE": False, "SEARCH_LOG_ENABLED": False})
    with app.app_context():
        upgrade()
        load_vocabularies(ROOT / "content" / "vocabularies", LoadReport())
        db.session.commit()
        content = csv_rows(options.rows)
        before = peak_megabytes()
        started = time.perf_counter()
        rows = interchange.read_csv(content)
        read = time.perf_counter() - started
        report = interchange.import_csv(rows, apply=False, publish=False)
        seconds = time.perf_counter() - started
        peak = peak_megabytes()

    expected = {"created": options.rows - options.rows // 2, "rejected": options.rows // 2}
    if len(report.outcomes) != options.rows or dict(report.counts) != expected:
        sys.exit(f"wrong report: {len(report.outcomes)} outcomes, counts {dict(report.counts)}; expected {expected}")
    print(f"rows: {options.rows:,} ({expected['created']:,} would be created, {expected['rejected']:,} rejected)")
    print(f"seconds: {seconds:.1f} (reading the CSV {read:.1f}, checking the rows {seconds - read:.1f})")
    print(f"rows per second: {options.rows / seconds:,.0f}")
    print(f"peak memory: {peak:.0f} MB (the process; {peak - before:.0f} MB more than before reading)")


if __name__ == "__main__":
    main()
