"""For search engines: sitemap.xml, robots.txt and schema.org JSON-LD on listing pages.

Only public pages are listed.  JSON-LD describes a listing as a schema.org
``Service`` run by an ``Organization``; a masked venue gives only its town and
postcode sector, never the street or exact position.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from flask import Blueprint, Response, current_app
from markupsafe import Markup
from sqlalchemy import select

from local_offer import mail
from local_offer.auth import public
from local_offer.extensions import db
from local_offer.listings.links import listing_page_link, listing_ref
from local_offer.information_pages import all_pages
from local_offer.models import PUBLIC_STATUSES, Listing, Term, Vocabulary

bp = Blueprint("seo", __name__)

#: The sitemap protocol's limit for one file.
SITEMAP_LIMIT = 50_000


@bp.get("/sitemap.xml")
@public
def sitemap():
    """List every public page: home, categories, listings (with when they were last checked), information."""
    urls = [(mail.link("directory.home"), None), (mail.link("directory.categories"), None),
            (mail.link("pages.index"), None),
            (mail.link("coproduction.you_said_we_did"), None)]
    for code in db.session.execute(select(Term.code).where(Term.vocabulary == Vocabulary.CATEGORY)).scalars():
        urls.append((mail.link("directory.category", code=code), None))
    for page in all_pages():
        urls.append((mail.link("pages.page", slug=page.slug), None))
    rows = db.session.execute(select(Listing.id, Listing.name, Listing.assured_date, Listing.updated_at)
                              # a neighbour's service is theirs to list, from their own site
                              .where(Listing.status.in_(PUBLIC_STATUSES), Listing.feed_id.is_(None))
                              .order_by(Listing.id)
                              .limit(SITEMAP_LIMIT - len(urls))).all()
    for row in rows:
        changed = row.assured_date or (row.updated_at.date() if row.updated_at else None)
        urls.append((mail.link("directory.listing", ref=listing_ref(row)), changed))
    body = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for location, changed in urls:
        body.append(f"<url><loc>{escape(location)}</loc>"
                    + (f"<lastmod>{changed.isoformat()}</lastmod>" if changed else "") + "</url>")
    body.append("</urlset>")
    return Response("\n".join(body), mimetype="application/xml")


@bp.get("/robots.txt")
@public
def robots():
    """Let search engines index the public directory, not the staff pages, and find the sitemap."""
    lines = ["User-agent: *", "Disallow: /account/", "Disallow: /admin/", "Disallow: /portal/",
             "Disallow: /moderation/", "Disallow: /coordinators/", "Disallow: /search",
             f"Sitemap: {mail.link('seo.sitemap')}"]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


def listing_json_ld(listing: Listing) -> Markup:
    """Return schema.org JSON-LD for a listing page, safe to put inside a script element."""
    organisation = listing.organisation
    data = {
        "@context": "https://schema.org",
        "@type": "Service",
        "@id": listing_page_link(listing),
        "url": listing_page_link(listing),
        "name": listing.name,
        "description": listing.summary or "",
        "provider": {"@type": "Organization", "name": organisation.name,
                     **({"url": organisation.website} if organisation.website else {})},
        "areaServed": listing.service_area or current_app.config["COUNCIL_NAME"],
        "category": [link.term.name for link in listing.terms(Vocabulary.CATEGORY)],
        "isAccessibleForFree": bool(listing.is_free),
    }
    if listing.website:
        data["sameAs"] = listing.website
    if listing.phone:
        data["telephone"] = listing.phone
    if listing.min_age is not None or listing.max_age is not None:
        data["audience"] = {"@type": "PeopleAudience",
                            **({"suggestedMinAge": listing.min_age} if listing.min_age is not None else {}),
                            **({"suggestedMaxAge": listing.max_age} if listing.max_age is not None else {})}
    places = []
    for place in listing.locations:
        address = {"@type": "PostalAddress", "addressLocality": place.town, "addressCountry": "GB",
                   "postalCode": place.postcode_sector if place.mask_address else place.postcode}
        if not place.mask_address:
            address["streetAddress"] = ", ".join(part for part in (place.address_1, place.address_2) if part)
        places.append({"@type": "Place", "name": place.town if place.mask_address else place.name,
                       "address": address})
    if places:
        data["availableChannel"] = [{"@type": "ServiceChannel", "serviceLocation": place} for place in places]
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)
