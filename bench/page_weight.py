"""Page weight: bytes a browser transfers for each public page, first visit and repeat visit.

    python bench/page_weight.py [--url http://127.0.0.1:5000]

Without ``--url`` the bench serves the demo site itself (SQLite, a throwaway
instance folder, on a free local port).  Chromium (Debian's, driven by
Playwright) opens each page twice in one browser context: the first visit with
a cold cache, then the repeat visit, which uses what the first one cached.  The
figure is the sum of the encoded (on the wire, after compression) sizes of
every response, headers included, as Chromium's network log reports them.
Targets (issue 15): at most 100 KB on a first visit, 20 KB on a repeat visit.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FIRST_LIMIT = 100 * 1024
REPEAT_LIMIT = 20 * 1024
#: A results page with 20 results: every listing matches no words, so the first page is full.
RESULTS_PAGE = "/search?q=&where=&sort=checked"


def public_pages(listing_path: str) -> dict[str, str]:
    """Return the public pages measured, by name."""
    return {
        "home": "/",
        "results (20)": RESULTS_PAGE,
        "listing": listing_path,
        "information page": "/information/short-breaks",
        "feedback form": "/feedback",
    }


def visit(context, url: str) -> tuple[int, list[tuple[str, int]]]:
    """Open a page in a browser context; return the bytes transferred and (url, bytes) for each request."""
    page = context.new_page()
    session = context.new_cdp_session(page)
    session.send("Network.enable")
    sizes: dict[str, int] = {}
    names: dict[str, str] = {}
    session.on("Network.requestWillBeSent", lambda event: names.__setitem__(event["requestId"], event["request"]["url"]))
    session.on("Network.loadingFinished",
               lambda event: sizes.__setitem__(event["requestId"], int(event["encodedDataLength"])))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.close()
    rows = [(names.get(key, "?"), size) for key, size in sizes.items()]
    return sum(size for _, size in rows), rows


def measure(browser, base: str, path: str) -> dict:
    """Return the first and repeat visit's transfers of one page, in a fresh context."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    first, first_rows = visit(context, base + path)
    repeat, repeat_rows = visit(context, base + path)
    context.close()
    return {"first": first, "repeat": repeat, "first_rows": first_rows, "repeat_rows": repeat_rows}


def first_listing_path(base: str) -> str:
    """Return the address of a listing linked from the results page."""
    import re
    import urllib.request
    html = urllib.request.urlopen(base + RESULTS_PAGE).read().decode()
    return re.search(r'href="(/listings/[a-z0-9-]+)[?"]', html).group(1)


def serve_demo() -> str:
    """Serve the demo site from a throwaway instance on a free port; return its address."""
    from werkzeug.serving import make_server
    folder = tempfile.mkdtemp(prefix="page-weight-")
    os.environ.update({"LOCAL_OFFER_INSTANCE_PATH": folder, "LOCAL_OFFER_PUBLIC_URL": "http://127.0.0.1",
                       "LOCAL_OFFER_SESSION_COOKIE_SECURE": "false"})
    from local_offer import create_app
    from click.testing import CliRunner  # noqa: F401  (flask's runner needs click)
    app = create_app()
    runner = app.test_cli_runner()
    for command in (["db", "upgrade"], ["geo", "build"], ["content", "load", "--demo"], ["index", "ensure"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def main() -> None:
    """Measure every public page and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running site (default: serve the demo here)")
    parser.add_argument("--details", action="store_true", help="list each request's bytes too")
    options = parser.parse_args()
    base = (options.url or serve_demo()).rstrip("/")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"{'page':<18} {'first visit':>12} {'repeat visit':>13}")
        failed = False
        for name, path in public_pages(first_listing_path(base)).items():
            figures = measure(browser, base, path)
            ok = figures["first"] <= FIRST_LIMIT and figures["repeat"] <= REPEAT_LIMIT
            failed |= not ok
            print(f"{name:<18} {figures['first'] / 1024:>9.1f} KB {figures['repeat'] / 1024:>10.1f} KB"
                  f"  {'ok' if ok else 'OVER'}")
            if options.details:
                for label, rows in (("first", figures["first_rows"]), ("repeat", figures["repeat_rows"])):
                    for url, size in rows:
                        print(f"    {label:<6} {size:>8} {url.replace(base, '')}")
        browser.close()
    print(f"targets: first visit <= {FIRST_LIMIT // 1024} KB, repeat visit <= {REPEAT_LIMIT // 1024} KB")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
