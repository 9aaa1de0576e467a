"""Import benchmarks: a dry run of a very large CSV file, or of a large ORUK JSON feed, record by record.

    python bench/imports.py --rows 100000      (make bench runs it)
    python bench/imports.py --json-mb 60 [--shape array|page] [--read-whole]

Builds a throwaway instance (SQLite, the vocabularies), makes a CSV of N rows
in the import layout (every other row has no name, so half are rejected with
a reason), reads it and dry-runs the import, then prints rows, seconds, rows
per second and the process's peak memory.  It checks the report's counts, so
an importer that drops or crashes on rows fails here loudly.

With ``--json-mb N`` it writes an ORUK v1 feed of about N megabytes instead (a bare
array of services, or with ``--shape page`` a page object with ``content: [...]``),
dry-runs ``flask oruk import``'s path on it (read_source, then import_records) and
prints the services, seconds and the process's peak memory: reading streams, so the
peak stays bounded whatever the size.  ``--read-whole`` decodes the file with
json.load first, as imports did before, for comparison.

Not part of the test suite (tests/test_import.py dry-runs a few thousand rows).
"""

from __future__ import annotations

import argparse
import json
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


def write_feed(path: Path, megabytes: int, shape: str) -> int:
    """Write an ORUK v1 feed of about ``megabytes`` MB to ``path``, a service at a time; return how many services."""
    paragraph = "<p>Sessions for children and young people with additional needs, with trained staff.</p>"
    target, written, count = megabytes * 1024 * 1024, 0, 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"totalPages": 1, "number": 1, "last": true, "content": [' if shape == "page" else "[")
        while written < target:
            # Shaped like a full v1 service: many small objects, which is what decoding a feed whole multiplies.
            service = {"id": f"bench-{count}", "name": f"Bench service {count}", "description": paragraph,
                       "url": "https://example.org/service", "email": "hello@example.org", "status": "active",
                       "fees": "Free", "attending_type": "venue", "attending_access": "drop-in",
                       "organization": {"id": f"bench-org-{count % 50}", "name": f"Bench organisation {count % 50}"},
                       "eligibilitys": [{"id": f"e{count}", "eligibility": "Families", "minimum_age": 0,
                                         "maximum_age": 25}],
                       "contacts": [{"id": f"c{count}-{n}", "name": f"Contact {n}", "title": "Coordinator",
                                     "phones": [{"id": f"p{count}-{n}", "number": "01234 567890"}]}
                                    for n in range(3)],
                       "regular_schedules": [{"id": f"s{count}-{day}", "weekday": day, "opens_at": "09:00",
                                              "closes_at": "17:00", "description": "term time"}
                                             for day in ("MO", "TU", "WE", "TH", "FR")],
                       "languages": [{"id": f"l{count}-{n}", "language": language}
                                     for n, language in enumerate(("English", "Polish", "Urdu"))],
                       "cost_options": [{"id": f"k{count}", "option": "per session", "amount": 4.5,
                                         "amount_description": "each child"}],
                       "service_taxonomys": [{"id": f"t{count}-{n}", "taxonomy": {"id": f"bench-term-{n}",
                                                                                  "name": f"Term {n}"}}
                                             for n in range(6)]}
            text = ("," if count else "") + json.dumps(service)
            handle.write(text)
            written += len(text)
            count += 1
        handle.write("]}" if shape == "page" else "]")
    return count


def json_bench(options, interchange) -> None:
    """Dry-run the import of a large ORUK JSON feed and print the figures."""
    path = Path(os.environ["LOCAL_OFFER_INSTANCE_PATH"]) / "feed.json"
    count = write_feed(path, options.json_mb, options.shape)
    size = path.stat().st_size / 1024 / 1024
    before = peak_megabytes()
    started = time.perf_counter()
    if options.read_whole:  # as imports read a file before: the bytes, decoded, parsed whole, listed
        raw = path.read_bytes()
        document = json.loads(raw.decode("utf-8-sig"))
        records = list(document["content"] if options.shape == "page" else document)
    else:
        records = interchange.read_source(str(path))
    report = interchange.import_records(records, apply=False, publish=False)
    seconds = time.perf_counter() - started
    peak = peak_megabytes()
    if len(report.outcomes) != count or report.counts["created"] != count:
        sys.exit(f"wrong report: {len(report.outcomes)} outcomes, counts {dict(report.counts)}; expected {count}")
    print(f"file: {size:.1f} MB, {count:,} services ({options.shape}), "
          f"{'decoded whole with json.load' if options.read_whole else 'streamed'}")
    print(f"seconds: {seconds:.1f} ({count / seconds:,.0f} services a second, a dry run)")
    print(f"peak memory: {peak:.0f} MB (the process; {peak - before:.0f} MB more than before reading)")


def peak_megabytes() -> float:
    """Return this process's peak resident memory so far, in megabytes (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Build the instance, dry-run the import of N rows and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the CSV file")
    parser.add_argument("--json-mb", type=int, default=0, help="instead, an ORUK JSON feed of about this many MB")
    parser.add_argument("--shape", choices=("array", "page"), default="array",
                        help="the feed as a bare array of services, or a page with content: [...]")
    parser.add_argument("--read-whole", action="store_true", help="decode the feed whole first (as before)")
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
        if options.json_mb:
            json_bench(options, interchange)
            return
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
