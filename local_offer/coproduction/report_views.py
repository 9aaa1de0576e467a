"""The partnership report's pages: on screen (it prints as an A4 document), as a Word document and as CSV."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, render_template, request

from local_offer.auth import requires
from local_offer.coproduction.forms import ReportForm
from local_offer.coproduction.views import _three_parts, bp
from local_offer.errors import refuse
from local_offer.feedback import partnership_report, report_document
from local_offer.models import Role
from local_offer.security import no_store


def _report_period() -> tuple[ReportForm, date | None, date | None]:
    """Read the report's period from the address (the last twelve months when none is given)."""
    form = ReportForm(formdata=request.args if request.args else None)
    _three_parts(form.start, form.end)
    if not request.args:
        today = partnership_report.local_today()
        form.end.data = today
        form.start.data = today - timedelta(days=364)
        return form, form.start.data, form.end.data
    if not form.validate():
        return form, None, None
    return form, form.start.data, form.end.data


def _period_or_400() -> tuple[date, date]:
    """Return the period asked for, or answer 400 saying what is wrong with it."""
    form, start, end = _report_period()
    if start is None:
        refuse(400, "; ".join(str(error) for errors in form.errors.values() for error in errors))
    return start, end


def period_arguments(start: date, end: date) -> dict[str, list[int]]:
    """Return a period as the address's day, month and year boxes (for the download links)."""
    return {"start": [start.day, start.month, start.year], "end": [end.day, end.month, end.year]}


@bp.get("/coordinators/feedback/report")
@requires(Role.COORDINATOR)
def report():
    """The partnership report for a period: counts and trends, charts with tables, published responses."""
    form, start, end = _report_period()
    if start is None:
        return render_template("coproduction/report.html", form=form, result=None), 400
    result = partnership_report.report(start, end)
    return render_template("coproduction/report.html", form=form, result=result,
                           charts=partnership_report.section_charts(result),
                           section_titles=partnership_report.SECTION_TITLES,
                           previous_label=partnership_report.previous_label(result),
                           change_words=partnership_report.change_words,
                           period=period_arguments(start, end))


@bp.get("/coordinators/feedback/report.csv")
@requires(Role.COORDINATOR)
def report_csv():
    """The report's counts as CSV for the partnership board's papers."""
    start, end = _period_or_400()
    body = partnership_report.report_csv(partnership_report.report(start, end))
    return no_store(Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=feedback-{start}-{end}.csv"}))


@bp.get("/coordinators/feedback/report.docx")
@requires(Role.COORDINATOR)
def report_docx():
    """The report as a Word document (headings, tables with header rows, each chart in words) for board papers."""
    start, end = _period_or_400()
    body = report_document.report_docx(partnership_report.report(start, end))
    return no_store(Response(body, mimetype=report_document.DOCX_MIMETYPE, headers={
        "Content-Disposition": f"attachment; filename=feedback-report-{start}-{end}.docx"}))
