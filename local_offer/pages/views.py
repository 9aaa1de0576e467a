"""Routes for information pages (kept as rendered for visitors with nothing of their own on them)."""

from flask import Blueprint, abort, render_template

from local_offer import page_cache
from local_offer.auth import public
from local_offer.easy_read import exists as has_easy_read, get_easy_read

from local_offer.information_pages import all_pages, get_page, stamp

bp = Blueprint("pages", __name__, url_prefix="/information")


@bp.get("/")
@public
def index():
    """List every information page."""
    kept = page_cache.serve("pages", stamp())
    if kept is not None:
        return kept
    return page_cache.keep(render_template("pages/index.html", pages=all_pages()))


@bp.get("/<slug>")
@public
def page(slug: str):
    """Show one information page."""
    kept = page_cache.serve("page", stamp())
    if kept is not None:
        return kept
    found = get_page(slug)
    if found is None:
        abort(404)
    return page_cache.keep(render_template("pages/page.html", page=found, easy_read=has_easy_read(slug)))


@bp.get("/<slug>/english")
@public
def english(slug: str):
    """Show a page's English version inside a page in the reader's language (when a translation is older)."""
    kept = page_cache.serve("page_english", stamp())
    if kept is not None:
        return kept
    found = get_page(slug, english=True)
    if found is None:
        abort(404)
    return page_cache.keep(render_template("pages/page.html", page=found, easy_read=has_easy_read(slug),
                                           chose_english=True))


@bp.get("/<slug>/easy-read")
@public
def easy_read(slug: str):
    """Show a page's Easy Read version (English only, one sentence a line with a picture)."""
    kept = page_cache.serve("easy_read", stamp())
    if kept is not None:
        return kept
    found = get_easy_read(slug)
    if found is None:
        abort(404)
    return page_cache.keep(render_template("pages/easy_read.html", page=found, full_page=get_page(slug)))
