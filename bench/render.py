"""Render bench: how long the public pages take to answer, kept and freshly rendered.

    python bench/render.py [--count 5000] [--instance DIR] [--requests 200]

Builds (or reuses) the load bench's site of N synthetic listings, then, in this
process through the WSGI app (no HTTP), asks each page ``--requests`` times as
a new visitor would (no cookies, ``Accept-Encoding: br, gzip``) and prints
p50/p95 in milliseconds: with the page cache off (every request renders) and
on (the page kept after its first request).  Target (issue 15): the home and
information pages in under 5 ms.  Information pages are never kept whole: their
Markdown is rendered once per file version and language, the page around it on
each request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from load import build  # noqa: E402
from search import BENCH_CONFIG, search_urls  # noqa: E402


def timed(client, path: str, count: int) -> tuple[float, float]:
    """Ask for a page ``count`` times (after two untimed requests); return p50 and p95 in milliseconds."""
    headers = {"Accept-Encoding": "br, gzip"}
    for _ in range(2):
        assert client.get(path, headers=headers).status_code == 200, path
    samples = []
    for _ in range(count):
        client._cookies.clear()  # a new visitor each time, as the load bench's are
        start = time.perf_counter()
        client.get(path, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    """Build or reuse the site and print each page's times, kept and rendered."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="synthetic listings")
    parser.add_argument("--instance", help="reuse (or create and keep) this instance folder")
    parser.add_argument("--requests", type=int, default=200, help="timed requests a page")
    options = parser.parse_args()
    folder = options.instance or tempfile.mkdtemp(prefix="lo-render-")
    marker = Path(folder) / "LISTINGS"
    if not (marker.exists() and marker.read_text() == str(options.count)):
        build(folder, options.count)
    os.environ["LOCAL_OFFER_INSTANCE_PATH"] = folder
    from local_offer import create_app

    pages = {"home": "/", "information page": "/information/short-breaks",
             "categories": "/categories/", "results (20)": search_urls(10)[3]}
    print(f"{options.count} listings; {options.requests} requests a page, each as a new visitor; ms")
    print(f"{'page':<20} {'rendered p50':>13} {'p95':>7} {'kept p50':>10} {'p95':>7}")
    figures = {}
    for kept in (False, True):
        app = create_app({**BENCH_CONFIG, "PAGE_CACHE_SECONDS": 60 if kept else 0})
        app.config["SEARCH_WARM"] = False
        client = app.test_client()
        for name, path in pages.items():
            figures[(name, kept)] = timed(client, path, options.requests)
    for name in pages:
        rendered, kept = figures[(name, False)], figures[(name, True)]
        print(f"{name:<20} {rendered[0]:>13.2f} {rendered[1]:>7.2f} {kept[0]:>10.2f} {kept[1]:>7.2f}")
    print("target: home and information pages under 5 ms")


if __name__ == "__main__":
    main()
