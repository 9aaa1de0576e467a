"""A consultation's results for the committee's papers: a Word document, and the figures as CSV.

The document is built like the partnership report's (``feedback.report_document``,
whose helpers it shares): real heading styles, each question's figures as a
real table whose first row is its header (repeated on every page) with a
caption and a description, each chart said in a sentence, and the document's
title, subject, author and language in its properties.  The CSV has one row
per question and choice, then the breakdowns, with cells a spreadsheet never
reads as formulas.  Neither holds a word anyone wrote unless a coordinator
published it through the personal-details guard.
"""

from __future__ import annotations

import csv
import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.shared import Mm
from flask import current_app

from local_offer.consultation_rules.results import Breakdown, Choice, QuestionResult, Results
from local_offer.feedback.report_document import (
    DOCX_MIMETYPE,
    _day,
    _header_row,
    _language_tag,
    _set_language,
    _table_properties,
    _text,
)
from local_offer.formats import spreadsheet_safe
from local_offer.i18n import _, ngettext

__all__ = ["DOCX_MIMETYPE", "results_csv", "results_docx"]


def fewer_than() -> str:
    """Say a suppressed group's size."""
    return str(_("fewer than %(num)s", num=5))


def withheld() -> str:
    """Say why a group big enough to show is not shown."""
    return str(_("not shown, so a smaller group cannot be worked out"))


def hidden_words(group) -> str:
    """Say why a group's figures are not shown."""
    return fewer_than() if group.small else withheld()


def responses_sentence(results: Results) -> str:
    """Say how many responded, and how many through the young people's version."""
    words = str(ngettext("%(num)s response.", "%(num)s responses.", results.responses))
    if results.simple_responses:
        words += " " + str(ngettext("%(num)s of them through the young people's version.",
                                    "%(num)s of them through the young people's version.", results.simple_responses))
    return words


def _table(document, caption: str, description: str, headings: list[str], rows: list[list[str]]) -> None:
    """Add a captioned table with a header row; every column after the first is right-aligned."""
    document.add_paragraph(_text(caption), style="Caption")
    table = document.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    for cell, heading in zip(table.rows[0].cells, headings):
        cell.text = ""
        cell.paragraphs[0].add_run(_text(heading)).bold = True
    _header_row(table.rows[0])
    for values in rows:
        cells = table.add_row().cells
        for index, (cell, value) in enumerate(zip(cells, values)):
            cell.text = _text(value)
            if index:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in table.rows:
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    _table_properties(table, caption, description)


def _choice_rows(choices: list[Choice]) -> list[list[str]]:
    """Return each choice as a table row: label, people, percentage."""
    return [[choice.label, f"{choice.count:,}", f"{choice.percent}%"] for choice in choices]


def breakdown_rows(breakdown: Breakdown, item: QuestionResult) -> list[list[str]]:
    """Return a breakdown as rows: group, how many answered, then each choice's percentage (or suppressed)."""
    agreement = item.kind == "agreement"
    rows = []
    for group in breakdown.groups:
        if group.hidden:
            rows.append([group.label, hidden_words(group)] + ["" for _cell in range(len(item.choices) + agreement)])
        else:
            rows.append([group.label, f"{group.answered:,}"] + ([f"{group.agreed_percent}%"] if agreement else [])
                        + [f"{choice.percent}%" for choice in group.choices])
    return rows


def agreed_label() -> str:
    """Name the column of those who strongly agreed or agreed."""
    return str(_("Strongly agreed or agreed"))


def _question(document, item: QuestionResult) -> None:
    """Add one question: heading, the sentence, the table, breakdowns and published quotes."""
    document.add_heading(_text(item.question.text), level=2)
    document.add_paragraph(_text(item.headline))
    if item.choices and item.answered:
        _table(document, str(_("%(question)s: figures", question=item.question.text)), item.headline,
               [str(_("Answer")), str(_("People")), str(_("Percentage"))], _choice_rows(item.choices))
    for breakdown in item.breakdowns:
        title = str(_("By answer to \u201c%(question)s\u201d", question=breakdown.by.text))
        document.add_heading(_text(title), level=3)
        document.add_paragraph(_text(_("Percentages of each group who answered. Groups of fewer than 5 people are "
                                       "not shown, so that nobody can be identified, nor is the next smallest "
                                       "group when the others would show what a small group answered.")))
        _table(document, title, str(_("Percentages of each group who answered this question")),
               [str(_("Group")), str(_("Answered"))] + ([agreed_label()] if item.kind == "agreement" else [])
               + [choice.label for choice in item.choices],
               breakdown_rows(breakdown, item))
    if item.quotes:
        document.add_heading(_text(_("Some of what people wrote")), level=3)
        for quote in item.quotes:
            document.add_paragraph(_text(quote), style="Quote")


def results_docx(results: Results) -> bytes:
    """Return the results as a .docx document: title, dates, number of responses, each question, next steps."""
    consultation = results.consultation
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    tag = _language_tag()
    _set_language(document, tag)
    title = str(_("Consultation results: %(title)s", title=consultation.title))
    period = str(_("Open from %(start)s to %(end)s.", start=_day(consultation.opens_on),
                   end=_day(consultation.closes_on)))
    properties = document.core_properties
    properties.title = _text(title)[:255]
    properties.subject = period
    properties.author = current_app.config["COUNCIL_NAME"]
    properties.language = tag
    properties.keywords = "SEND Local Offer; consultation; results"

    document.add_heading(_text(title), level=1)
    document.add_paragraph(_text(current_app.config["COUNCIL_NAME"]))
    if consultation.audience:
        document.add_paragraph(_text(_("Who it was for: %(audience)s", audience=consultation.audience)))
    document.add_paragraph(_text(period))
    document.add_paragraph(_text(responses_sentence(results)))
    document.add_paragraph(_text(_("Percentages are of the people who answered each question, rounded to whole "
                                   "numbers. Only answers people sent are counted.")))
    for item in results.questions:
        _question(document, item)
    if consultation.outcome:
        document.add_heading(_text(_("What we will do next")), level=2)
        for paragraph in consultation.outcome.split("\n\n"):
            if paragraph.strip():
                document.add_paragraph(_text(paragraph.strip()))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def results_csv(results: Results) -> str:
    """Return the results as CSV: a row per question and choice, then breakdowns, then published answers."""
    rows: list[list] = [
        ["section", "question", "broken_down_by", "group", "answer", "people", "percent", "answered_question"],
        ["responses", "", "", "", "", results.responses, "", ""],
        ["responses_young_peoples_version", "", "", "", "", results.simple_responses, "", ""]]
    for item in results.questions:
        text = item.question.text
        if item.choices:
            rows.extend(["result", text, "", "", choice.label, choice.count, choice.percent, item.answered]
                        for choice in item.choices)
            if item.kind == "agreement":
                rows.append(["result", text, "", "", agreed_label(), item.agreed, item.agreed_percent, item.answered])
        else:
            rows.append(["written_answers", text, "", "", "", item.answered, "", item.answered])
        for breakdown in item.breakdowns:
            for group in breakdown.groups:
                if item.kind == "agreement" and not group.hidden:
                    rows.append(["breakdown", text, breakdown.by.text, group.label, agreed_label(), group.agreed,
                                 group.agreed_percent, group.answered])
                for choice in item.choices:
                    if group.hidden:
                        rows.append(["breakdown", text, breakdown.by.text, group.label, choice.label,
                                     hidden_words(group), "", hidden_words(group)])
                        continue
                    counted = next(mine for mine in group.choices if mine.value == choice.value)
                    rows.append(["breakdown", text, breakdown.by.text, group.label, choice.label,
                                 counted.count, counted.percent, group.answered])
        rows.extend(["published_answer", text, "", "", quote, "", "", ""] for quote in item.quotes)
    out = io.StringIO()
    csv.writer(out).writerows([[spreadsheet_safe(cell) for cell in row] for row in rows])
    return out.getvalue()
