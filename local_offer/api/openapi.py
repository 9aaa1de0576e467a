"""The OpenAPI 3.0 document of the read API, served at /api/v1/openapi.json.

Written by hand from the routes in ``views.py`` (the parameters, limits and
errors there), and checked against them by schemathesis in the test suite.
"""

from __future__ import annotations

from local_offer.interchange import oruk

_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": "string", "nullable": True}


def _page(item_ref: str) -> dict:
    return {"type": "object", "required": ["totalElements", "totalPages", "number", "size", "first", "last",
                                           "content"],
            "properties": {"totalElements": {"type": "integer", "minimum": 0},
                           "totalPages": {"type": "integer", "minimum": 1},
                           "number": {"type": "integer", "minimum": 1},
                           "size": {"type": "integer", "minimum": 0},
                           "first": {"type": "boolean"}, "last": {"type": "boolean"}, "empty": {"type": "boolean"},
                           "content": {"type": "array", "items": {"$ref": item_ref}}}}


def _query(name: str, schema: dict, description: str) -> dict:
    # an empty value is no value (clients send "minimum_age="): allowed, and read as absent
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description,
            "allowEmptyValue": True}


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40}}


PAGING = [
    _query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}, "Page number, from 1."),
    _query("per_page", {"type": "integer", "minimum": 1, "default": 50},
           "Items per page; more than 1000 is answered with 1000."),
]
ERRORS = {
    "400": {"description": "A parameter is unknown or not valid; the message says which.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}},
}
NOT_FOUND = {"404": {"description": "No published record has this id.",
                     "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}}}


def _ok(schema: dict, description: str) -> dict:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


TOO_LONG = {"414": {"description": "The address is longer than this site accepts.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}}}


def document(server_url: str) -> dict:
    """Return the OpenAPI document, with the API's own address as its server."""
    services_parameters = PAGING + [
        _query("text", {"type": "string", "maxLength": 200}, "Words, ranked by the site's own search."),
        _query("postcode", {"type": "string", "maxLength": 10}, "A full postcode, outward code or sector."),
        _query("proximity", {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 500000},
               "Metres from the postcode: a strict filter. Needs postcode."),
        {**_query("taxonomy_id", {"type": "array", "items": {"type": "string", "maxLength": 200}},
                  "Term ids; a service matches any of them (or a narrower term)."), "style": "form", "explode": True},
        {**_query("vocabulary", {"type": "array", "items": {"type": "string", "maxLength": 100}},
                  "Services with a term in any of these vocabularies (category, need, accessibility); "
                  "others are ignored and named in X-Ignored-Parameters."), "style": "form", "explode": True},
        _query("minimum_age", {"type": "integer", "minimum": 0, "maximum": 130},
               "Services whose age range reaches this age or older."),
        _query("maximum_age", {"type": "integer", "minimum": 0, "maximum": 130},
               "Services whose age range starts at this age or younger."),
        _query("day", {"type": "string", "enum": list(oruk.DAYS)}, "Services with a session on this day."),
        _query("start_time", {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
               "Services with a session still open after this time."),
        _query("end_time", {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
               "Services with a session opening before this time."),
    ]
    organization = {"type": "object", "required": ["id", "name", "description"], "properties": {
        "id": {"type": "string", "format": "uuid"}, "name": _STRING, "description": _STRING,
        "email": {"type": "string", "format": "email"}, "url": {"type": "string", "format": "uri"}}}
    taxonomy = {"type": "object", "required": ["id", "name", "vocabulary"], "properties": {
        "id": _STRING, "name": _STRING, "vocabulary": _STRING,
        "parent": {"type": "object", "nullable": True}}}
    location = {"type": "object", "required": ["id"], "properties": {
        "id": _STRING, "name": _STRING, "latitude": {"type": "number"}, "longitude": {"type": "number"},
        "physical_addresses": {"type": "array", "items": {"type": "object"}}}}
    service = {"type": "object", "required": ["id", "name", "organization", "status"], "properties": {
        "id": _STRING, "name": _STRING, "description": _STRING, "url": _STRING,
        "email": {"type": "string", "format": "email"},
        "status": {"type": "string", "enum": ["active", "inactive", "defunct", "temporarily closed"]},
        "fees": _STRING, "accreditations": _NULLABLE_STRING, "deliverable_type": _NULLABLE_STRING,
        "attending_type": {"type": "string", "nullable": True, "enum": ["phone", "online", "venue", "home visit", None]},
        "attending_access": {"type": "string", "nullable": True,
                             "enum": ["referral", "appointment", "membership", "drop-in", None]},
        "assured_date": {"type": "string", "format": "date"},
        "organization": {"$ref": "#/components/schemas/organization"},
        "service_at_locations": {"type": "array", "items": {"type": "object"}},
        "regular_schedules": {"type": "array", "items": {"type": "object"}},
        "eligibilitys": {"type": "array", "items": {"type": "object"}},
        "cost_options": {"type": "array", "items": {"type": "object"}},
        "contacts": {"type": "array", "items": {"type": "object"}},
        "languages": {"type": "array", "items": {"type": "object"}},
        "service_areas": {"type": "array", "items": {"type": "object"}},
        "fundings": {"type": "array", "items": {"type": "object"}},
        "service_taxonomys": {"type": "array", "items": {"type": "object"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Local Offer open data (Open Referral UK 1.0)", "version": "1.0.0",
                 "description": "Published listings of this SEND Local Offer, in the Open Referral UK v1 shape. "
                                "Only public information; no authentication. Every response allows any origin. "
                                "Parameters a path does not honour are ignored, not refused, and named in the "
                                "X-Ignored-Parameters response header; `include` is accepted (everything is "
                                "always embedded)."},
        "servers": [{"url": server_url}],
        "paths": {
            "/": {"get": {"operationId": "getApiDetails", "summary": "Which standard this is",
                          "responses": _ok({"type": "object", "required": ["version"],
                                            "properties": {"version": {"type": "string"}}}, "The version.")}},
            "/services": {"get": {"operationId": "getServices", "summary": "Published services, best first",
                                  "parameters": services_parameters,
                                  "responses": {**_ok({"$ref": "#/components/schemas/service_page"}, "A page."),
                                                **ERRORS, **TOO_LONG}}},
            "/services/{id}": {"get": {"operationId": "getServiceById", "parameters": [_path("id")],
                                       "responses": {**_ok({"$ref": "#/components/schemas/service"}, "A service."),
                                                     **NOT_FOUND, **TOO_LONG}}},
            "/taxonomies": {"get": {"operationId": "getTaxonomies", "parameters": PAGING + [
                _query("vocabulary", {"type": "string", "maxLength": 100},
                       "One vocabulary (one this directory does not hold: an empty page)."),
                _query("parent_id", {"type": "string", "maxLength": 100}, "The narrower terms of this term."),
                _query("root_only", {"type": "boolean"}, "Only top-level terms."),
                _query("text", {"type": "string", "maxLength": 100}, "Words in the term's name.")],
                "responses": {**_ok({"$ref": "#/components/schemas/taxonomy_page"}, "A page."), **ERRORS, **TOO_LONG}}},
            "/taxonomies/{id}": {"get": {"operationId": "getTaxonomyById", "parameters": [_path("id")],
                                         "responses": {**_ok({"$ref": "#/components/schemas/taxonomy"}, "A term."),
                                                       **NOT_FOUND, **TOO_LONG}}},
            "/vocabularies": {"get": {"operationId": "getVocabularies",
                                      "responses": _ok({"type": "array", "items": {"type": "string"}},
                                                       "Vocabulary names.")}},
            "/organizations": {"get": {"operationId": "getOrganizations", "parameters": PAGING,
                                       "responses": {**_ok({"$ref": "#/components/schemas/organization_page"},
                                                           "A page."), **ERRORS, **TOO_LONG}}},
            "/organizations/{id}": {"get": {"operationId": "getOrganizationById", "parameters": [_path("id")],
                                            "responses": {**_ok({"$ref": "#/components/schemas/organization"},
                                                                "An organization."), **NOT_FOUND, **TOO_LONG}}},
            "/locations": {"get": {"operationId": "getLocations", "parameters": PAGING,
                                   "responses": {**_ok({"$ref": "#/components/schemas/location_page"}, "A page."),
                                                 **ERRORS, **TOO_LONG}}},
            "/locations/{id}": {"get": {"operationId": "getLocationById", "parameters": [_path("id")],
                                        "responses": {**_ok({"$ref": "#/components/schemas/location"}, "A venue."),
                                                      **NOT_FOUND, **TOO_LONG}}},
        },
        "components": {"schemas": {
            "error": {"type": "object", "required": ["error", "status"],
                      "properties": {"error": _STRING, "status": {"type": "integer"},
                                     "request_id": _STRING}},
            "organization": organization, "taxonomy": taxonomy, "location": location, "service": service,
            "service_page": _page("#/components/schemas/service"),
            "taxonomy_page": _page("#/components/schemas/taxonomy"),
            "organization_page": _page("#/components/schemas/organization"),
            "location_page": _page("#/components/schemas/location"),
        }},
    }
