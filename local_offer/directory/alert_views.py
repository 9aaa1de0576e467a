"""Routes of search alerts: ask from a results page, confirm by button, unsubscribe in one click.

Links in emails only ever show a page with a button: a GET changes nothing, so
mail scanners that fetch every link neither confirm nor unsubscribe anyone.
The unsubscribe POST also answers RFC 8058 one-click requests from mail
programs, which carry no CSRF token: the link's own secret token is what
proves the request, so that one view is exempt.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from local_offer import alerts
from local_offer.auth import public
from local_offer.directory.forms import AlertForm
from local_offer.directory.views import bp, filter_labels
from local_offer.errors import refuse
from local_offer.extensions import csrf
from local_offer.i18n import _

#: Pages reached from an emailed link: never cached or indexed (the site-wide Referrer-Policy sends only our origin).
PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}


def _checked(call, *args):
    """Call a service function, turning its refusal into a styled error page with the right status."""
    try:
        return call(*args)
    except alerts.AlertError as error:
        refuse(error.status, str(error))


@bp.route("/alerts/new", methods=["GET", "POST"])
@public
def alert_new():
    """Ask for emails about new results for the search in the query string."""
    query = _checked(alerts.normalise_query, request.args)
    args = alerts.query_args(query)
    form = AlertForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            _checked(alerts.create, form.email.data, query, request.remote_addr or "unknown")
            return redirect(url_for("directory.alert_sent"), code=303)
        status = 400
    return render_template("directory/alert_new.html", form=form, words=args.get("q", ""),
                           where=args.get("where", ""), filters=filter_labels(args),
                           results_url=url_for("directory.search", **args.to_dict(flat=False))), status


@bp.get("/alerts/sent")
@public
def alert_sent():
    """Say that a confirmation email is on its way."""
    return render_template("directory/alert_message.html", title=_("Check your email"), paragraphs=[
        _("We have sent you an email with a link. Open it and press the button to start getting emails about new "
          "results for this search."),
        _("If it does not arrive in a few minutes, check your spam or junk folder.")])


@bp.route("/alerts/confirm/<token>", methods=["GET", "POST"])
@public
def alert_confirm(token: str):
    """Show the confirm button (GET); confirm the alert (POST)."""
    alert = _checked(alerts.by_confirm_token, token)
    if request.method == "GET":
        return render_template("directory/alert_button.html", title=_("Confirm your search alert"),
                               text=_("Press the button to start getting an email when new services match your "
                                      "search. We send at most one a week."),
                               button=_("Confirm and start emails"), email=alert.email), 200, PRIVATE
    started = _checked(alerts.confirm, token)
    message = (_("Your search alert is on. We will email you at most once a week when new services match it.")
               if started else _("This search alert was already confirmed. Nothing has changed."))
    return render_template("directory/alert_message.html", title=_("Search alert confirmed"),
                           paragraphs=[message, _("Every email has a link to stop them.")]), 200, PRIVATE


@bp.route("/alerts/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
@public
def alert_unsubscribe(token: str):
    """Show the unsubscribe button (GET); delete the alert and its address (POST, or an RFC 8058 one-click)."""
    alert = _checked(alerts.by_unsubscribe_token, token)
    if request.method == "GET":
        return render_template("directory/alert_button.html", title=_("Stop emails about this search"),
                               text=_("Press the button to stop these emails. We will delete your address and the "
                                      "saved search."), button=_("Unsubscribe"), email=alert.email), 200, PRIVATE
    _checked(alerts.unsubscribe, token)
    return render_template("directory/alert_message.html", title=_("You have unsubscribed"), paragraphs=[
        _("We will not email you about this search again, and we have deleted your address and the saved search.")
    ]), 200, PRIVATE
