"""The partnership report as a Word document for the board's papers: accessible, A4, editable.

Built with python-docx: real heading styles (so the navigation pane and screen
readers can move by heading), each section's figures as a real table whose
first row is marked as its header (repeated on every page it runs onto) with a
caption and a description, each chart said in a sentence, and the document's
title, subject, author and language set in its properties.  Charts are given
as their figures and a sentence rather than a picture: a picture would need a
description that says no more than the table does.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm
from flask import current_app
from flask_babel import format_date

from local_offer.feedback.council_responses import promise_state
from local_offer.feedback.labels import PROMISE_LABELS
from local_offer.feedback.partnership_report import (
    SECTION_TITLES,
    PartnershipReport,
    Row,
    change_words,
    previous_label,
)
from local_offer.i18n import _, current_language, ngettext

#: The content type of a .docx file.
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

#: Characters XML cannot hold (stored text should have none; a document must never fail on one).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str:
    """Return text a document can hold."""
    return _NOT_XML.sub("", str(value))


def _day(value: date | datetime) -> str:
    """Format a date in full, day first ("22 November 2026"), in the current language."""
    return format_date(value, format="d MMMM y")


def _language_tag() -> str:
    """Return the document's language as Word writes it ("en-GB", "cy-GB")."""
    code = current_language().replace("_", "-")
    return "en-GB" if code == "en" else code


def _set_language(document, tag: str) -> None:
    """Set the language of every run that does not say otherwise (spelling, and what screen readers speak)."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
    properties = run_defaults.find(qn("w:rPr")) if run_defaults is not None else None
    if properties is None:
        return
    language = properties.find(qn("w:lang"))
    if language is None:
        language = OxmlElement("w:lang")
        properties.append(language)
    language.set(qn("w:val"), tag)


def _table_properties(table, caption: str, description: str) -> None:
    """Give a table the caption and description assistive technology reads before it."""
    properties = table._tbl.tblPr
    for name, value in (("w:tblCaption", caption), ("w:tblDescription", description)):
        element = OxmlElement(name)
        element.set(qn("w:val"), _text(value)[:250])
        properties.append(element)


def _header_row(row) -> None:
    """Mark a table's first row as its header, repeated at the top of each page the table runs onto."""
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _figures_table(document, title: str, rows: list[Row], result: PartnershipReport) -> None:
    """Add one section's figures as a table: category, this period, the period before, the change."""
    caption = _("%(section)s: figures", section=title)
    document.add_paragraph(_text(caption), style="Caption")
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    headings = (_("Category"), _("This period"), previous_label(result), _("Change"))
    for cell, heading in zip(table.rows[0].cells, headings):
        cell.text = ""
        run = cell.paragraphs[0].add_run(_text(heading))
        run.bold = True
    _header_row(table.rows[0])
    for row in rows:
        cells = table.add_row().cells
        values = (row.label, f"{row.current:,}", f"{row.previous:,}", change_words(row.current, row.previous))
        for index, (cell, value) in enumerate(zip(cells, values)):
            cell.text = _text(value)
            if index:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in table.rows:
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    _table_properties(table, str(caption), summary_sentence(rows, result))


def summary_sentence(rows: list[Row], result: PartnershipReport) -> str:
    """Say what a section's chart shows in a sentence: the biggest category and the biggest rise."""
    counted = [row for row in rows if row.current or row.previous]
    if not counted:
        return str(_("No comments in this period or the one before."))
    top = max(counted, key=lambda row: (row.current, -counted.index(row)))
    words = str(_("Most comments: %(label)s, %(figures)s.", label=top.label, figures=result.compared(top)))
    risen = max(counted, key=lambda row: (row.current - row.previous, -counted.index(row)))
    if risen.current > risen.previous and risen is not top:
        words += " " + str(_("The biggest rise: %(label)s, %(figures)s.", label=risen.label,
                             figures=result.compared(risen)))
    return words


def report_docx(result: PartnershipReport) -> bytes:
    """Return the report as a .docx document: title, period, totals, each section as a table, responses."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    tag = _language_tag()
    _set_language(document, tag)
    title = str(_("Feedback on the Local Offer: report to the SEND partnership"))
    period = str(_("%(start)s to %(end)s, compared with %(previous_start)s to %(previous_end)s.",
                   start=_day(result.start), end=_day(result.end), previous_start=_day(result.previous_start),
                   previous_end=_day(result.previous_end)))
    properties = document.core_properties
    properties.title = title
    properties.subject = period
    properties.author = current_app.config["COUNCIL_NAME"]
    properties.language = tag
    properties.keywords = "SEND Local Offer; feedback; partnership report"

    document.add_heading(_text(title), level=1)
    document.add_paragraph(_text(current_app.config["COUNCIL_NAME"]))
    document.add_paragraph(_text(period))
    document.add_paragraph(_text(
        ngettext("%(num)s comment left", "%(num)s comments left", result.total.current)
        + f" ({result.before(result.total)}). "
        + _("%(published)s published, %(excluded)s excluded, the rest waiting.", published=result.published,
            excluded=result.excluded)))
    for key, rows in result.sections.items():
        heading = str(SECTION_TITLES[key])
        document.add_heading(_text(heading), level=2)
        document.add_paragraph(_text(summary_sentence(rows, result)))
        _figures_table(document, heading, rows, result)

    document.add_heading(_text(_("What we said we would do")), level=2)
    for item in result.responses:
        document.add_heading(_text(item.title), level=3)
        said = document.add_paragraph()
        said.add_run(_text(_("You said:"))).bold = True
        said.add_run(" " + _text(item.you_said))
        did = document.add_paragraph()
        did.add_run(_text(_("We did:"))).bold = True
        did.add_run(" " + _text(item.we_did))
        when = str(_("Published %(date)s.", date=_day(item.published_at)))
        if item.action_due:
            when += " " + str(_("To be done by %(date)s.", date=_day(item.action_due)))
        when += " " + str(_("Status: %(status)s.", status=PROMISE_LABELS[promise_state(item)]))
        when += " " + ngettext("Answers %(num)s comment.", "Answers %(num)s comments.", len(item.feedback))
        document.add_paragraph(_text(when))
    if not result.responses:
        document.add_paragraph(_text(_("No responses were published in this period.")))
    if result.unmet:
        document.add_heading(_text(_("What families looked for and did not find")), level=2)
        document.add_paragraph(_text(_("Searches on the Local Offer by need or activity, age and district, with the "
                                       "listings we hold there. Only rows with 5 or more searches are given; the "
                                       "words people typed are never kept in reports.")))
        for row in result.unmet:
            document.add_paragraph(_text(row.sentence()), style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
