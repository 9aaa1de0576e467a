"""What gunicorn serves in the load bench: the site, and a bare GOV.UK Frontend page of 20 results beside it.

    gunicorn --pythonpath bench 'load_app:app'   (bench/load.py starts it)

``/bare-results`` is a page any GOV.UK Frontend service could send: the GOV.UK
template, a header, a heading, 20 results (a linked heading, a paragraph and a
summary list of three rows each) and a footer, rendered by Jinja from
``govuk-frontend-jinja``'s templates with no database, search or session.  It is
the yardstick: how fast the same gunicorn, on the same machine, sends a page of
the same kind with no work behind it.  Everything else goes to the site.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, render_template
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import BENCH_CONFIG  # noqa: E402  (the search bench's settings: 20 results a page)

from local_offer import create_app  # noqa: E402

BARE_PATH = "/bare-results"
RESULTS = [
    {
        "title": f"Result number {number}: a holiday club for children with additional needs",
        "summary": "Sessions in the school holidays with trained staff, a quiet room and a sensory area. "
                   "Families can visit first. Transport can be arranged for some children.",
        "rows": [{"key": {"text": key}, "value": {"text": value}}
                 for key, value in (("Ages", "5 to 16"), ("Cost", "Free"), ("Where", "Stafford, ST16 2"))],
    }
    for number in range(1, 21)
]


def bare_app() -> Flask:
    """A minimal Flask app rendering GOV.UK Frontend markup with 20 results."""
    bare = Flask("bare_results")
    bare.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(Path(__file__).resolve().parent / "load_templates")),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])

    @bare.get(BARE_PATH)
    def results():
        return render_template("bare_results.html", results=RESULTS)

    return bare


class Split:
    """Send the bare page's address to the bare app and everything else to the site."""

    def __init__(self, wrapped, bare):
        """Keep both apps; ``wrapped`` (the site) is what the warmer hook looks for."""
        self.wrapped = wrapped
        self.bare = bare

    def __call__(self, environ, start_response):
        """Answer one request from whichever app it is for."""
        target = self.bare if environ.get("PATH_INFO") == BARE_PATH else self.wrapped
        return target(environ, start_response)


print(f"bench: worker {os.getpid()} serves the site and {BARE_PATH}", file=sys.stderr, flush=True)
app = Split(create_app({**BENCH_CONFIG, "PUBLIC_URL": "http://127.0.0.1"}), bare_app())
