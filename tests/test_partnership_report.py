"""The partnership report for a committee: counts said in words, charts of page text, a Word document."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import docx
import pytest
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings, strategies as st

from local_offer.extensions import db
from local_offer.feedback import partnership_report, report_document
from local_offer.feedback.charts import bar_chart
from local_offer.feedback.partnership_report import Row, change_words, compared
from local_offer.models import (
    CouncilResponse,
    Feedback,
    FeedbackStatus,
    FeedbackTopic,
    Respondent,
    ResponseStatus,
    Role,
)

from support import make_user, sign_in

TODAY = date.today()


@pytest.fixture
def words(app):
    """Translations need a request (English)."""
    with app.test_request_context("/"):
        yield


def test_a_count_is_said_with_the_one_before_in_words(words):
    assert compared(41, 0, yearly=True) == "41 (none last year)"
    assert compared(41, 30, yearly=True) == "41 (30 last year)"
    assert compared(0, 12, yearly=True) == "0 (12 last year)"
    assert compared(41, 0, yearly=False) == "41 (none in the period before)"
    assert compared(1234, 987, yearly=False) == "1,234 (987 in the period before)"
    assert (change_words(41, 30), change_words(3, 5), change_words(7, 7)) == ("11 more", "2 fewer", "no change")


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.booleans())
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_count_is_ever_a_bare_sign(words, current, previous, yearly):
    said = compared(current, previous, yearly)
    assert said.startswith(f"{current:,} (") and "+" not in said and " vs " not in said
    assert ("none" in said) == (previous == 0)
    change = change_words(current, previous)
    assert "+" not in change and "-" not in change
    assert change == "no change" or change.startswith(f"{abs(current - previous):,} ")


def test_a_year_is_compared_with_last_year_and_other_periods_with_the_one_before(words):
    year = partnership_report.PartnershipReport(date(2025, 1, 1), date(2025, 12, 31), date(2024, 1, 1),
                                                date(2024, 12, 31), Row("All feedback", 41, 0))
    month = partnership_report.PartnershipReport(date(2025, 1, 1), date(2025, 1, 31), date(2024, 12, 1),
                                                 date(2024, 12, 31), Row("All feedback", 41, 30))
    assert year.compared(year.total) == "41 (none last year)" and partnership_report.previous_label(year) == "Last year"
    assert month.compared(month.total) == "41 (30 in the period before)"


def test_a_chart_is_page_text_with_bars_hidden_from_screen_readers(words):
    rows = [Row("Finding and using information about short breaks for disabled children", 41, 0), Row("<b>x</b>", 0, 3)]
    chart = str(bar_chart("chart-topic", "By topic", rows, lambda row: compared(row.current, row.previous, True),
                          "This period", "Last year"))
    assert chart.startswith('<figure class="lo-chart"') and "<figcaption" in chart
    assert "Finding and using information about short breaks for disabled children" in chart  # never cut short
    assert "41 (none last year)" in chart and "0 (3 last year)" in chart
    assert "<b>x</b>" not in chart and "&lt;b&gt;x&lt;/b&gt;" in chart
    assert "<text" not in chart and chart.count('aria-hidden="true"') == 2 + 2 * len(rows)
    assert "font-size" not in chart


def add_feedback(when: datetime, topic=FeedbackTopic.CONTENT, respondent=Respondent.PARENT_CARER, **values):
    row = Feedback(topic=topic, respondent=respondent, comment="A comment", created_at=when, **values)
    db.session.add(row)
    return row


@pytest.fixture
def feedback(demo, app):
    """Feedback this year (three about services, one published) and last year (one about finding information)."""
    db.session.execute(Feedback.__table__.delete())
    now = datetime.now(timezone.utc)
    published = add_feedback(now - timedelta(days=2), status=FeedbackStatus.PUBLISHED, published_text="Published",
                             published_at=now - timedelta(days=1))
    add_feedback(now - timedelta(days=3))
    add_feedback(now - timedelta(days=4), respondent=Respondent.YOUNG_PERSON)
    add_feedback(now - timedelta(days=400), topic=FeedbackTopic.USABILITY)
    response = CouncilResponse(title="Saturday clubs in the Moorlands", you_said="Too little at weekends.",
                               we_did="We funded a \x0bSaturday club.", status=ResponseStatus.PUBLISHED,
                               published_at=now - timedelta(hours=5), action_due=TODAY + timedelta(days=30))
    response.feedback = [published]
    db.session.add(response)
    db.session.commit()
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    client = app.test_client()
    assert sign_in(client, "coordinator@example.gov.uk").status_code == 302
    return client


def test_the_page_says_changes_in_words_and_offers_the_document(feedback):
    html = feedback.get("/coordinators/feedback/report").get_data(as_text=True)
    page = html[html.index("<h1"):html.index("</main>")]  # the report, not the page's random tokens
    assert "3 comments left (1 last year)." in page
    assert "3 (1 last year)" in page and "3 (none last year)" in page and "0 (1 last year)" in page
    assert "+3" not in page and "vs" not in page
    assert ">3 more<" in page and ">1 fewer<" in page
    assert "report.docx?start=" in html and "Download the report as a Word document" in html


def open_document(client, **query) -> docx.Document:
    response = client.get("/coordinators/feedback/report.docx", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == report_document.DOCX_MIMETYPE
    assert "attachment; filename=feedback-report-" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    return docx.Document(io.BytesIO(response.data))


def test_the_word_document_has_headings_tables_with_header_rows_and_its_properties(feedback):
    start = TODAY - timedelta(days=364)
    document = open_document(feedback, start=[start.day, start.month, start.year],
                             end=[TODAY.day, TODAY.month, TODAY.year])
    properties = document.core_properties
    assert properties.title == "Feedback on the Local Offer: report to the SEND partnership"
    assert properties.language == "en-GB" and properties.author
    defaults = document.styles.element.find(qn("w:docDefaults"))
    assert defaults.find(".//" + qn("w:lang")).get(qn("w:val")) == "en-GB"
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)

    headings = [(paragraph.style.name, paragraph.text) for paragraph in document.paragraphs
                if paragraph.style.name.startswith("Heading")]
    assert headings[0] == ("Heading 1", "Feedback on the Local Offer: report to the SEND partnership")
    assert [text for style, text in headings if style == "Heading 2"] == [
        "By topic", "By partnership priority", "By theme", "By who it came from", "What we said we would do"]
    assert ("Heading 3", "Saturday clubs in the Moorlands") in headings
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "3 comments left (1 last year)." in text
    assert "Most comments: Services and gaps, 3 (none last year)." in text
    assert "We did: We funded a Saturday club." in text  # a character XML cannot hold is dropped

    assert len(document.tables) == 4
    topic = document.tables[0]
    header = topic.rows[0]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [cell.text for cell in header.cells] == ["Category", "This period", "Last year", "Change"]
    assert [cell.text for cell in topic.rows[1].cells] == ["Services and gaps", "3", "0", "3 more"]
    assert [cell.text for cell in topic.rows[2].cells] == ["Finding and using information", "0", "1", "1 fewer"]
    properties = topic._tbl.tblPr
    assert properties.find(qn("w:tblCaption")).get(qn("w:val")) == "By topic: figures"
    assert "Services and gaps" in properties.find(qn("w:tblDescription")).get(qn("w:val"))
    who = document.tables[3]
    assert ["Child or young person", "1", "0", "1 more"] in [[cell.text for cell in row.cells] for row in who.rows]


def test_a_month_is_compared_with_the_period_before(feedback):
    start = TODAY - timedelta(days=29)
    document = open_document(feedback, start=[start.day, start.month, start.year],
                             end=[TODAY.day, TODAY.month, TODAY.year])
    assert [cell.text for cell in document.tables[0].rows[0].cells][2] == "Period before"
    assert "3 (none in the period before)" in "\n".join(paragraph.text for paragraph in document.paragraphs)


def test_the_document_and_figures_are_for_coordinators_and_a_bad_period_is_a_400(feedback, app):
    assert feedback.get("/coordinators/feedback/report.docx?start=31&start=2&start=2026").status_code == 400
    assert feedback.get("/coordinators/feedback/report.docx?start=1&start=1&start=1999"
                        "&end=1&end=1&end=2000").status_code == 400
    assert app.view_functions["coproduction.report_docx"].required_role is Role.COORDINATOR
    assert "/account/sign-in" in app.test_client().get("/coordinators/feedback/report.docx").headers["Location"]


@given(st.lists(st.text(alphabet="0123456789-/ x", max_size=6), min_size=0, max_size=4),
       st.lists(st.text(alphabet="0123456789-/ x", max_size=6), min_size=0, max_size=4))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_period_typed_gives_a_document_or_a_clear_400(feedback, start, end):
    response = feedback.get("/coordinators/feedback/report.docx", query_string={"start": start, "end": end})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        docx.Document(io.BytesIO(response.data))
