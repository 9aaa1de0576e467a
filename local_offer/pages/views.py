"""Routes for information pages."""

from flask import Blueprint, abort, render_template

from local_offer.auth import public

from local_offer.information_pages import all_pages, get_page

bp = Blueprint("pages", __name__, url_prefix="/information")


@bp.get("/")
@public
def index():
    """List every information page."""
    return render_template("pages/index.html", pages=all_pages())


@bp.get("/<slug>")
@public
def page(slug: str):
    """Show one information page."""
    found = get_page(slug)
    if found is None:
        abort(404)
    return render_template("pages/page.html", page=found)
