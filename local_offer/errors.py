"""Error pages in the site's own style, with the right status and nothing stored changed."""

from __future__ import annotations

import logging

from flask import Flask, Response, abort, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from local_offer.extensions import db
from local_offer.i18n import _
from local_offer.request_log import describe_request, request_id

log = logging.getLogger(__name__)


class Message(str):
    """A message written for the person who sees an error page (see ``refuse``)."""


def refuse(code: int, message: str):
    """Stop the request with an HTTP error whose page says ``message`` (already translated)."""
    abort(code, description=Message(message))


def _titles() -> dict[int, tuple[str, str]]:
    """Return the heading and explanation for each status we render ourselves."""
    return {
        400: (_("Sorry, there is a problem with your request"),
              _("Something in the address or the form could not be understood. Check it and try again.")),
        403: (_("You do not have permission to see this page"),
              _("If you think you should, contact the Local Offer team.")),
        404: (_("Page not found"),
              _("If you typed the web address, check it is correct. If you pasted the web address, check you copied the entire address.")),
        405: (_("Sorry, that did not work"),
              _("This page cannot be used in that way. Go back and try again.")),
        409: (_("This cannot be changed here"),
              _("It is kept somewhere else. The message above says where.")),
        410: (_("This link no longer works"),
              _("What it was for has been removed.")),
        413: (_("That is too large"),
              _("What you sent is larger than this site accepts. Make it smaller and try again.")),
        414: (_("That web address is too long"),
              _("Shorten your search or remove some filters, then try again.")),
        429: (_("Too many attempts"),
              _("Wait a few minutes, then try again.")),
        500: (_("Sorry, there is a problem with the service"),
              _("Try again later. Nothing you saved has been lost.")),
    }


def render_error(error: HTTPException):
    """Render an HTTP error with our template and its own status code."""
    code = error.code or 500
    if request_ctx.url_adapter is None:
        # The request named a host that is not trusted or not valid (TRUSTED_HOSTS): no address on
        # this site can be built for it, so the page says so in plain text, with nothing linked.
        message = _("This site does not answer to that host name.")
        return Response(f"{code} {error.name}: {message}\n", status=code, mimetype="text/plain")
    if request.path.startswith("/api/"):
        # The API answers in JSON even for errors raised before a route was found (a POST, say).
        return jsonify({"error": error.name, "status": code, "request_id": request_id()}), code
    titles = _titles()
    title, explanation = titles.get(code, titles[500 if code >= 500 else 400])
    if isinstance(error, CSRFError):
        explanation = _("This form had expired, or was sent from another site. Go back, reload the page and "
                        "try again. Nothing was saved.")
    elif isinstance(error.description, Message):
        explanation = error.description  # our own message for this case, already translated
    response = render_template(
        "errors/error.html", code=code, title=title, explanation=explanation
    ), code
    if code == 405 and getattr(error, "valid_methods", None):
        return response[0], code, {"Allow": ", ".join(error.valid_methods)}
    return response


def handle_unexpected(error: Exception):
    """Log an unexpected failure, undo the unfinished transaction and show the 500 page."""
    # The traceback goes to the log only, with the request's reference; the page shows the reference alone.
    log.error("Unhandled error answering %s", describe_request(), exc_info=error, extra={"request_id": request_id()})
    db.session.rollback()
    return render_error(InternalServerError())


def search_not_ready(_error):
    """Answer a search on a server still building its first index: try again shortly (503, Retry-After)."""
    unavailable = ServiceUnavailable(description=Message(
        _("Search is getting ready. Try again in a minute.")))
    response = make_response(render_error(unavailable))
    response.headers["Retry-After"] = "60"
    return response


def register_error_handlers(app: Flask) -> None:
    """Route HTTP errors and unexpected exceptions to the styled pages."""
    from local_offer.search import SearchNotReady

    app.register_error_handler(SearchNotReady, search_not_ready)
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(Exception, handle_unexpected)
