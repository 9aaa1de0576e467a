"""Routes of the public directory."""

from __future__ import annotations

from flask import abort, current_app, render_template, request

from local_offer import listings
from local_offer.directory import bp
from local_offer.directory.forms import SearchForm
from local_offer.i18n import _
from local_offer.pages.content import key_pages

MAX_PAGE = 1000


def _page_number() -> int:
    """Read ``?page=``: a whole number from 1, else a 400 that says so."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, description=_("The page number must be a whole number from 1 to %(max)s.", max=MAX_PAGE))
    return int(raw)


@bp.get("/")
def home():
    """Show the search boxes, the main categories and the key information pages."""
    return render_template(
        "directory/home.html",
        form=SearchForm(formdata=None),
        categories=listings.top_categories(),
        pages=key_pages(),
    )


@bp.get("/search")
def search():
    """Show the listings whose text has every word searched for."""
    form = SearchForm(formdata=request.args)
    if not form.validate():
        return render_template("directory/search.html", form=form, results=None), 400
    page = _page_number()
    words = (form.q.data or "").strip()
    results = listings.listings_matching(words, page, current_app.config["PER_PAGE"])
    if results.total and page > results.pages:
        abort(404)
    return render_template("directory/search.html", form=form, results=results, words=words)


@bp.get("/categories/")
def categories():
    """List every main category and the categories under it."""
    return render_template("directory/categories.html", categories=listings.top_categories())


@bp.get("/categories/<code>")
def category(code: str):
    """Show a category: its subcategories and a page of its listings."""
    term = listings.get_category(code)
    if term is None:
        abort(404)
    page = _page_number()
    results = listings.listings_in_category(term, page, current_app.config["PER_PAGE"])
    if results.total and page > results.pages:
        abort(404)
    return render_template("directory/category.html", category=term, results=results)


@bp.get("/listings/<uuid:listing_id>")
def listing(listing_id):
    """Show everything families need to know about one listing."""
    found = listings.get_public_listing(str(listing_id))
    if found is None:
        abort(404)
    return render_template("directory/listing.html", listing=found)
