"""The OpenAPI 3.0 document of the v3 read API, served at /api/v3/openapi.json.

Written by hand from the routes in ``v3.py`` and the parameters the standard's
own v3 OpenAPI document lists, and checked against them by schemathesis.
"""

from __future__ import annotations

from local_offer.api.openapi import NOT_FOUND, TOO_LONG, _ok, _path, _query

_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
ERRORS = {
    "400": {"description": "A value is not valid; the message says which. Parameters a path does not honour "
                           "are ignored and named in X-Ignored-Parameters, not refused.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}},
}
LISTED = [
    _query("search", {"type": "string", "maxLength": 200}, "Words, ranked by the site's own search."),
    _query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}, "Page number, from 1."),
    _query("per_page", {"type": "integer", "minimum": 1, "default": 50},
           "Items per page; more than 1000 is answered with 1000."),
    _query("format", {"type": "string", "enum": ["json", "ndjson"]},
           "json (pages, the default) or ndjson (every result streamed, one a line)."),
]
FILTERS = [
    _query("taxonomy_term_id", {"type": "string", "maxLength": 200}, "Services with this term (or a narrower one)."),
    _query("taxonomy_id", {"type": "string", "maxLength": 200}, "Services with any term of this taxonomy."),
    _query("organization_id", {"type": "string", "maxLength": 200}, "Services of this organisation."),
    _query("modified_after", {"type": "string", "format": "date-time"}, "Services changed on or after this time."),
]
UK = [
    _query("minimum_age", {"type": "integer", "minimum": 0, "maximum": 130}, "Age ranges reaching this age."),
    _query("maximum_age", {"type": "integer", "minimum": 0, "maximum": 130}, "Age ranges starting at or below."),
    _query("day", {"type": "string", "enum": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]}, "A session on this day."),
    _query("start_time", {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}, "Open after this time."),
    _query("end_time", {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}, "Opening before this time."),
]
NEAR = [
    _query("postcode", {"type": "string", "maxLength": 10}, "A full postcode, outward code or sector."),
    _query("proximity", {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 500000},
           "Metres from the postcode: a strict filter. Needs postcode."),
]


def _page(item_ref: str) -> dict:
    return {"type": "object", "required": ["total_items", "total_pages", "page_number", "size", "first_page",
                                           "last_page", "empty", "contents"],
            "properties": {"total_items": {"type": "integer", "minimum": 0},
                           "total_pages": {"type": "integer", "minimum": 1},
                           "page_number": {"type": "integer", "minimum": 1},
                           "size": {"type": "integer", "minimum": 0},
                           "first_page": _BOOLEAN, "last_page": _BOOLEAN, "empty": _BOOLEAN,
                           "contents": {"type": "array", "items": {"$ref": item_ref}}}}


def _list(operation: str, summary: str, parameters: list, item: str) -> dict:
    page_or_lines = {"200": {"description": "A page (or, with format=ndjson, one result a line).", "content": {
        "application/json": {"schema": {"oneOf": [{"$ref": f"#/components/schemas/{item}_page"},
                                                  {"type": "array", "items": {"type": "object"}}]}},
        "application/x-ndjson": {"schema": _STRING}}}}
    return {"get": {"operationId": operation, "summary": summary, "parameters": parameters,
                    "responses": {**page_or_lines, **ERRORS, **TOO_LONG}}}


def _one(operation: str, item: str, parameters: list = ()) -> dict:
    return {"get": {"operationId": operation, "parameters": [_path("id"), *parameters],
                    "responses": {**_ok({"$ref": f"#/components/schemas/{item}"}, "One record."),
                                  **NOT_FOUND, **ERRORS, **TOO_LONG}}}


def document(server_url: str) -> dict:
    """Return the OpenAPI document, with the API's own address as its server."""
    service = {"type": "object", "required": ["id", "name", "status"], "properties": {
        "id": {"type": "string", "format": "uuid"}, "organization_id": _STRING, "name": _STRING,
        "description": _STRING, "url": _STRING, "email": _STRING,
        "status": {"type": "string", "enum": ["active", "inactive", "defunct", "temporarily closed"]},
        "last_modified": {"type": "string", "format": "date-time"},
        "schedules": {"type": "array", "items": {"type": "object"}},
        "service_at_locations": {"type": "array", "items": {"type": "object"}},
        "attributes": {"type": "array", "items": {"type": "object"}}}}
    taxonomy = {"type": "object", "required": ["id", "name", "description"], "properties": {
        "id": _STRING, "name": _STRING, "description": _STRING,
        "taxonomy_terms": {"type": "array", "items": {"$ref": "#/components/schemas/taxonomy_term"}}}}
    taxonomy_term = {"type": "object", "required": ["id", "name", "description"], "properties": {
        "id": _STRING, "name": _STRING, "description": _STRING, "parent_id": _STRING, "taxonomy_id": _STRING}}
    organization = {"type": "object", "required": ["id", "name", "description"], "properties": {
        "id": _STRING, "name": _STRING, "description": _STRING,
        "services": {"type": "array", "items": {"type": "object"}}}}
    service_at_location = {"type": "object", "required": ["id", "location"], "properties": {
        "id": _STRING, "service_id": _STRING, "location_id": _STRING, "location": {"type": "object"},
        "service": {"type": "object"}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Local Offer open data (Open Referral UK 3.0)", "version": "3.0.0",
                 "description": "Published listings of this SEND Local Offer in the HSDS-UK 3.0 shape. Only public "
                                "information; no authentication; any origin may read it. Parameters a path does "
                                "not honour are ignored, not refused, and named in the X-Ignored-Parameters "
                                "response header."},
        "servers": [{"url": server_url}],
        "paths": {
            "/": {"get": {"operationId": "getApiDetails", "summary": "Which standard and profile this is",
                          "responses": _ok({"type": "object", "required": ["version", "profile", "openapi_url"],
                                            "properties": {"version": _STRING, "profile": _STRING,
                                                           "openapi_url": _STRING}}, "About this API.")}},
            "/services": _list("getServices", "Published services, best first", LISTED + FILTERS + UK + NEAR + [
                _query("minimal", _BOOLEAN, "Only each service's id and last_modified, all at once."),
                _query("full", _BOOLEAN, "Fully nested services.")], "service"),
            "/services/{id}": _one("getServiceById", "service"),
            "/taxonomies": _list("getTaxonomies", "Our vocabularies", LISTED, "taxonomy"),
            "/taxonomies/{id}": _one("getTaxonomyById", "taxonomy"),
            "/taxonomy_terms": _list("getTaxonomyTerms", "Every term", LISTED + [
                _query("taxonomy_id", {"type": "string", "maxLength": 200}, "Terms of this taxonomy."),
                _query("top_only", _BOOLEAN, "Only top-level terms."),
                _query("parent_id", {"type": "string", "maxLength": 200}, "The narrower terms of this term.")],
                "taxonomy_term"),
            "/taxonomy_terms/{id}": _one("getTaxonomyTermById", "taxonomy_term"),
            "/organizations": _list("getOrganizations", "Organisations with published services", LISTED + [
                _query("full", _BOOLEAN, "With their services."),
                _query("full_service", _BOOLEAN, "With their services fully nested.")], "organization"),
            "/organizations/{id}": _one("getOrganizationById", "organization", [
                _query("full_service", _BOOLEAN, "With its services fully nested.")]),
            "/service_at_locations": _list("getServiceAtLocations", "Each service at each venue",
                                           LISTED + FILTERS + UK + NEAR + [
                                               _query("full", _BOOLEAN, "With each service.")],
                                           "service_at_location"),
            "/service_at_locations/{id}": _one("getServiceAtLocationById", "service_at_location"),
        },
        "components": {"schemas": {
            "error": {"type": "object", "required": ["error", "status"],
                      "properties": {"error": _STRING, "status": {"type": "integer"},
                                     "request_id": _STRING}},
            "service": service, "taxonomy": taxonomy, "taxonomy_term": taxonomy_term,
            "organization": organization, "service_at_location": service_at_location,
            "service_page": _page("#/components/schemas/service"),
            "taxonomy_page": _page("#/components/schemas/taxonomy"),
            "taxonomy_term_page": _page("#/components/schemas/taxonomy_term"),
            "organization_page": _page("#/components/schemas/organization"),
            "service_at_location_page": _page("#/components/schemas/service_at_location"),
        }},
    }
