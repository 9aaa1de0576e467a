"""The coordinators' page "What families looked for and did not find", its CSV and its map (rules: ``demand_report``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask import Response, render_template, request
from flask_babel import format_date

from local_offer import demand_report
from local_offer.auth import requires
from local_offer.coproduction.demand_forms import DemandPeriodForm, month_of
from local_offer.coproduction.views import bp
from local_offer.errors import refuse
from local_offer.models import Role
from local_offer.security import no_store

#: How many years back the period chooser offers.
YEARS_BACK = 5


def _months(this_month: date) -> list[tuple[str, str]]:
    """Return the months offered, newest first back to January five years ago, as ("2026-03", "March 2026")."""
    found, month = [], this_month
    for _step in range(12 * YEARS_BACK + this_month.month):
        found.append((month.strftime("%Y-%m"), format_date(month, "MMMM y")))
        month = (month - timedelta(days=1)).replace(day=1)
    return found


def _period() -> tuple[DemandPeriodForm, date | None, date | None]:
    """Read the months asked for (the last twelve when none are given); return the form and the days, or Nones."""
    today = datetime.now(timezone.utc).date()
    this_month = today.replace(day=1)
    chosen = request.args if ("start" in request.args or "end" in request.args) else None
    form = DemandPeriodForm(this_month, _months(this_month), formdata=chosen)
    if chosen is None:
        first = this_month
        for _step in range(11):
            first = (first - timedelta(days=1)).replace(day=1)
        form.start.data, form.end.data = first.strftime("%Y-%m"), this_month.strftime("%Y-%m")
        return form, first, today
    if not form.validate():
        return form, None, None
    last = month_of(form.end.data)
    end = min((last + timedelta(days=32)).replace(day=1) - timedelta(days=1), today)
    return form, month_of(form.start.data), end


@bp.get("/coordinators/demand")
@requires(Role.COORDINATOR)
def demand():
    """What families looked for and did not find: by need or activity, age and district, beside what we list."""
    form, start, end = _period()
    if start is None:
        return render_template("coproduction/demand.html", form=form, report=None), 400
    report = demand_report.build(start, end)
    return render_template("coproduction/demand.html", form=form, report=report,
                           charts=[demand_report.trend_chart(f"trend-{index}", trend)
                                   for index, trend in enumerate(report.trends, start=1)],
                           say=demand_report.say, rounded=demand_report.rounded,
                           period={"start": form.start.data, "end": form.end.data})


@bp.get("/coordinators/demand.csv")
@requires(Role.COORDINATOR)
def demand_csv():
    """The same rows as CSV, small numbers hidden the same way."""
    form, start, end = _period()
    if start is None:
        refuse(400, "; ".join(str(error) for errors in form.errors.values() for error in errors))
    body = demand_report.report_csv(demand_report.build(start, end))
    return no_store(Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=searches-not-found-{start:%Y-%m}-{end:%Y-%m}.csv"}))
