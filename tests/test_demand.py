"""What families looked for and did not find: concepts at log time, the roll-up by area, districts, the page."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from local_offer import demand, demand_report, districts
from local_offer.content_loader import LoadReport
from local_offer.demand import age_band, prune, read_concepts
from local_offer.demand_demo import load_demo_demand
from local_offer.extensions import db
from local_offer.geo import Point
from local_offer.models import AuditEvent, District, Role, SearchDemand, SearchDemandArea, SearchLog

from support import make_user, sign_in, text_of

#: A word nobody else would type: it must never reach a page or a download.
SECRET_WORD = "zorbulated"


def staff(app, role=Role.COORDINATOR, email="coordinator@example.gov.uk"):
    """Return a signed-in client for a coordinator (or another role)."""
    make_user(email, role)
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def log(app, text, filters=None, place=None, results=0):
    """Record one search through the demand log and write it now."""
    writer = app.extensions["local_offer_demand"]
    writer.record(text, filters or {}, place, results)
    writer.flush()


# --- reading a search ------------------------------------------------------------------------------


def test_ages_fall_in_bands():
    assert age_band(12) == "11-15" and age_band(0) == "0-4" and age_band(25) == "19-25"
    assert age_band(13, 19) == "11-15"  # teenagers: the band most of the range is in (the younger on a tie)
    assert age_band(4, 11) == "5-10" and age_band(16, 25) == "19-25" and age_band(None) == ""


def test_concepts_come_from_filters_and_words_never_the_words(demo):
    concepts, band = read_concepts("holiday activities for my autistic 12 year old",
                                   {"need": ["adhd"], "category": ["no-such-code", "=cmd()"], "age": []})
    assert concepts[0] == "need:adhd"
    assert {"activity:holiday-clubs", "need:autism"} <= set(concepts)
    assert band == "11-15" and all(":" in concept for concept in concepts)
    assert read_concepts("swimming", {"age": ["4"]}) == (["activity:sport-and-swimming"], "0-4")
    assert read_concepts(f"{SECRET_WORD} teenagers", {}) == ([], "11-15")


def test_a_search_is_logged_with_its_concepts_age_band_and_outward_code(demo, client, app):
    client.get("/search?q=speech+therapy+for+my+3+year+old&where=ST13+6AA&need=autism")
    app.extensions["local_offer_demand"].flush()
    row = db.session.execute(select(SearchLog)).scalar_one()
    assert row.concepts == ["need:autism", "activity:speech-and-language"]
    assert (row.age_band, row.area, row.place) == ("0-4", "ST13", "ST13")


def test_a_town_is_counted_in_its_outward_code_and_a_location_in_none(demo, app):
    from local_offer.models import OutwardCode

    db.session.add(OutwardCode(outward="ZZ1", latitude=60.0, longitude=10.0, postcodes=10))
    db.session.add(OutwardCode(outward="ZZ2", latitude=60.5, longitude=10.5, postcodes=10))
    db.session.commit()
    log(app, "swimming", place=Point(60.01, 10.01, "Leekville", "place"))
    log(app, "swimming", place=Point(60.5, 10.5, "your location", "location"))
    rows = db.session.execute(select(SearchLog).order_by(SearchLog.id)).scalars().all()
    assert [(row.place, row.area) for row in rows] == [("Leekville", "ZZ1"), ("", "")]


def test_logging_never_fails_a_search(demo, app, monkeypatch):
    writer = app.extensions["local_offer_demand"]
    writer.record("swim", {"need": "autism", "age": "not a number"}, None, 2)  # odd shapes are read as well
    assert writer.flush() == 1
    monkeypatch.setattr(demand, "concept_table", lambda: 1 / 0)
    writer.record("swimming", {}, None, 0)
    assert writer.flush() == 1
    rows = db.session.execute(select(SearchLog).order_by(SearchLog.id)).scalars().all()
    assert rows[0].concepts == ["need:autism", "activity:sport-and-swimming"]
    assert rows[1].concepts is None  # worked out when it is pruned


# --- the roll-up -----------------------------------------------------------------------------------


def test_prune_keeps_concept_age_and_area_and_reads_rows_logged_before_concepts(demo, app):
    old = datetime.now(timezone.utc) - timedelta(days=100)
    db.session.add_all([
        SearchLog(occurred_at=old, words="swimming", results=0, concepts=["activity:sport-and-swimming"],
                  age_band="5-10", area="ST16"),
        SearchLog(occurred_at=old, words="swimming", results=2, concepts=["activity:sport-and-swimming"],
                  age_band="5-10", area="ST16"),
        SearchLog(occurred_at=old, words="autism swimming 8 year old", results=9, place="ST13", filters={},
                  concepts=None, age_band=None, area=None),
        SearchLog(occurred_at=old, words=SECRET_WORD, results=0, concepts=[], age_band="", area=""),
        SearchLog(occurred_at=datetime.now(timezone.utc), words="swimming", results=0, concepts=[]),
    ])
    db.session.commit()
    assert prune(90) == 4
    rows = {(row.concept, row.age_band, row.area): (row.searches, row.without_results, row.few_results)
            for row in db.session.execute(select(SearchDemandArea)).scalars()}
    assert rows[("activity:sport-and-swimming", "5-10", "ST16")] == (2, 1, 1)
    assert rows[("need:autism", "5-10", "ST13")] == (1, 0, 0)
    assert rows[("activity:sport-and-swimming", "5-10", "ST13")] == (1, 0, 0)
    assert rows[("", "", "")] == (1, 1, 0)
    assert db.session.get(SearchDemand, (old.date(), "swimming")).searches == 2  # search warm-up's counts stay
    prune(90)
    db.session.add(SearchLog(occurred_at=old, words="swimming", results=1, concepts=["activity:sport-and-swimming"],
                             age_band="5-10", area="ST16"))
    db.session.commit()
    prune(90)
    assert db.session.execute(select(SearchDemandArea.searches).where(
        SearchDemandArea.area == "ST16")).scalar_one() == 3  # added to the day's row, never a second row


# --- districts -------------------------------------------------------------------------------------


def test_outward_codes_are_read_as_typed_and_checked(demo):
    assert districts.split_codes(" st10,ST13  sk17;st10") == (["ST10", "ST13", "SK17"], [])
    assert districts.split_codes("ST10, Leek, 123") == (["ST10"], ["LEEK", "123"])
    db.session.add(District(name="Moorlands", outward_codes=["ST10", "ST13"]))
    db.session.commit()
    assert "already in Moorlands" in districts.check("Stafford", ["ST16", "ST13"], [])["codes"]
    assert "already a district" in districts.check("moorlands", ["ST16"], [])["name"]
    assert districts.check("Stafford", ["ST16"], []) == {}


def test_an_administrator_adds_changes_and_removes_a_district(demo, app):
    admin = staff(app, Role.ADMIN, "admin@example.gov.uk")
    page = admin.get("/admin/districts")
    assert page.status_code == 200 and "Add a district" in text_of(page)
    response = admin.post("/admin/districts", data={"name": " Moorlands <b>x</b>", "codes": "st10, st13"})
    assert response.status_code == 302
    district = db.session.execute(select(District)).scalar_one()
    assert (district.name, district.outward_codes) == ("Moorlands x", ["ST10", "ST13"])
    refused = admin.post("/admin/districts", data={"name": "Leek", "codes": "ST13"})
    assert refused.status_code == 400 and "ST13 is already in Moorlands x" in text_of(refused)
    assert admin.post("/admin/districts", data={"name": "Leek", "codes": "Leek town"}).status_code == 400
    assert db.session.execute(select(func.count(District.id))).scalar_one() == 1
    assert admin.post(f"/admin/districts/{district.id}", data={"name": "Moorlands", "codes": "ST13"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(District, district.id).outward_codes == ["ST13"]
    assert admin.post(f"/admin/districts/{district.id}/delete").status_code == 302
    assert db.session.execute(select(District)).first() is None
    actions = set(db.session.execute(select(AuditEvent.action)).scalars())
    assert {"district.added", "district.changed", "district.removed"} <= actions
    assert admin.get("/admin/districts/00000000-0000-0000-0000-000000000000").status_code == 404
    coordinator = staff(app)
    assert coordinator.get("/admin/districts").status_code == 403


@given(name=st.text(max_size=140), codes=st.text(max_size=80))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_district_typed_is_saved_or_refused_with_nothing_stored(demo, app, name, codes):
    from local_offer.models import User

    admin = app.test_client()
    if db.session.execute(select(User).where(User.email == "admin-h@example.gov.uk")).first() is None:
        make_user("admin-h@example.gov.uk", Role.ADMIN)
    assert sign_in(admin, "admin-h@example.gov.uk").status_code == 302
    before = db.session.execute(select(func.count()).select_from(District)).scalar_one()
    response = admin.post("/admin/districts", data={"name": name, "codes": codes})
    assert response.status_code in (302, 400)
    db.session.expire_all()
    after = db.session.execute(select(func.count()).select_from(District)).scalar_one()
    assert after == before + (1 if response.status_code == 302 else 0)
    for district in db.session.execute(select(District)).scalars():
        assert all(districts.OUTWARD.match(code) for code in district.outward_codes)


# --- the page --------------------------------------------------------------------------------------


def counts(day, concept, band, area, searches, without, few=0):
    """Return a daily count row."""
    return SearchDemandArea(day=day, concept=concept, age_band=band, area=area, searches=searches,
                            without_results=without, few_results=few)


@pytest.fixture
def searched(demo, app):
    """Two districts and a year of counts: one big row, one small one, one elsewhere; a raw search too."""
    db.session.add_all([District(name="Moorlands", outward_codes=["ST10", "ST13"], position=1),
                        District(name="Stafford", outward_codes=["ST16"], position=2)])
    month_ago = date.today() - timedelta(days=30)
    db.session.add_all([
        counts(month_ago, "activity:sport-and-swimming", "11-15", "ST13", 40, 30, 6),
        counts(month_ago - timedelta(days=40), "activity:sport-and-swimming", "11-15", "ST10", 12, 9, 2),
        counts(month_ago, "need:adhd", "5-10", "ST16", 3, 3, 0),
        counts(month_ago, "need:autism", "", "", 8, 0, 0),
    ])
    db.session.commit()
    log(app, f"{SECRET_WORD} swimming for a 12 year old", place=Point(53.1, -2.0, "ST13", "outward"), results=0)
    return staff(app)


def test_the_page_shows_concepts_by_district_beside_supply_and_hides_small_numbers(searched):
    response = searched.get("/coordinators/demand")
    assert response.status_code == 200
    page = text_of(response)
    assert "What families looked for and did not find" in page
    assert ("Sport and swimming for 11 to 15 year olds in Moorlands: 55 searches, 40 with no results; " in page)
    rows = page[page.index("Searches by need or activity"):]
    assert "ADHD 5 to 10 Stafford fewer than 5 fewer than 5 0" in rows
    assert "Autism Any Elsewhere or no place given 10 0 0" in rows
    # The districts add up only the figures shown: Stafford's 3 searches are nowhere to be worked out.
    districts_table = page[page.index("Each district adds up"):]
    assert "Moorlands 55 40 10" in districts_table and "Stafford fewer than 5" in districts_table
    assert SECRET_WORD not in response.get_data(as_text=True)


def test_the_csv_has_the_same_rows_and_never_the_words(searched):
    response = searched.get("/coordinators/demand.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "no-store" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    assert SECRET_WORD not in body
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:4] == ["Need or activity", "Ages", "District", "Searches"]
    assert ["ADHD", "5 to 10 year olds", "Stafford", "fewer than 5", "fewer than 5", "0"] == rows[-1][:6] \
        or ["ADHD", "5 to 10 year olds", "Stafford", "fewer than 5", "fewer than 5", "0"] in \
        [row[:6] for row in rows]
    assert ["Sport and swimming", "11 to 15 year olds", "Moorlands", "55", "40", "10"] == rows[1][:6]


def test_a_period_in_the_future_or_backwards_is_a_400_and_an_empty_one_says_so(searched):
    today = date.today()
    future = (today.replace(day=1) + timedelta(days=40)).strftime("%Y-%m")
    this = today.strftime("%Y-%m")
    response = searched.get(f"/coordinators/demand?start={this}&end={future}")
    assert response.status_code == 400 and "has not happened yet" in text_of(response)
    assert searched.get(f"/coordinators/demand.csv?start={future}&end={future}").status_code == 400
    early = (today.replace(day=1) - timedelta(days=400)).strftime("%Y-%m")
    backwards = searched.get(f"/coordinators/demand?start={this}&end={early}")
    assert backwards.status_code == 400 and "The last month must be" in text_of(backwards)
    assert searched.get("/coordinators/demand?start=2026-13&end=x").status_code == 400
    empty = searched.get(f"/coordinators/demand?start={early}&end={early}")
    assert empty.status_code == 200 and "No searches recorded" in text_of(empty)


@given(start=st.one_of(st.text(max_size=9), st.sampled_from(["2026-01", "2025-12", "2031-01", "1999-01", "2026-00"])),
       end=st.one_of(st.text(max_size=9), st.sampled_from(["2026-01", "2025-12", "2031-01", "2024-05"])))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_period_typed_gives_the_page_or_a_clear_400(searched, start, end):
    before = db.session.execute(select(func.count()).select_from(SearchDemandArea)).scalar_one()
    for path in ("/coordinators/demand", "/coordinators/demand.csv"):
        response = searched.get(path, query_string={"start": start, "end": end})
        assert response.status_code in (200, 400)
    assert db.session.execute(select(func.count()).select_from(SearchDemandArea)).scalar_one() == before


def test_the_page_is_for_coordinators(app, demo):
    assert app.view_functions["coproduction.demand"].required_role is Role.COORDINATOR
    assert app.view_functions["coproduction.demand_csv"].required_role is Role.COORDINATOR
    assert app.view_functions["admin.districts_page"].required_role is Role.ADMIN
    assert "/account/sign-in" in app.test_client().get("/coordinators/demand").headers["Location"]
    provider = staff(app, Role.PROVIDER, "provider@example.org")
    assert provider.get("/coordinators/demand").status_code == 403


def test_the_partnership_report_says_the_searches_not_found(searched):
    today = date.today()
    start = today - timedelta(days=364)
    query = {"start": [start.day, start.month, start.year], "end": [today.day, today.month, today.year]}
    page = text_of(searched.get("/coordinators/feedback/report", query_string=query))
    assert "Sport and swimming for 11 to 15 year olds in Moorlands: 55 searches" in page
    assert "ADHD" not in page.split("What families looked for and did not find")[-1]  # small rows are left out
    figures = searched.get("/coordinators/feedback/report.csv", query_string=query).get_data(as_text=True)
    assert "searches not found,Sport and swimming; 11 to 15 year olds; Moorlands,55" in figures
    assert SECRET_WORD not in figures and SECRET_WORD not in page
    import docx

    document = docx.Document(io.BytesIO(searched.get("/coordinators/feedback/report.docx",
                                                     query_string=query).data))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "What families looked for and did not find" in text and SECRET_WORD not in text
    assert "Sport and swimming for 11 to 15 year olds in Moorlands: 55 searches" in text


def test_trends_add_up_only_shown_rows_rounded_to_five(searched, app):
    report = demand_report.build(date.today() - timedelta(days=364), date.today())
    assert [trend.what for trend in report.trends] == ["Sport and swimming", "Autism"]  # ADHD's 3 are hidden
    months = dict(report.trends[0].months)
    assert sum(months.values()) == 53  # the raw search's month too; never Stafford's hidden 3
    assert demand_report.month_value(12) == "10" and demand_report.month_value(13) == "15"
    assert demand_report.month_value(4) == "fewer than 5"


# --- the demo --------------------------------------------------------------------------------------


def test_the_demo_has_districts_and_a_year_of_searches_that_tell_a_story(full_demo):
    names = [district.name for district in districts.all_districts()]
    assert names[0] == "Staffordshire Moorlands" and len(names) == 9
    assert db.session.execute(select(func.count()).select_from(SearchDemandArea)).scalar_one() > 100
    report = demand_report.build(date.today() - timedelta(days=364), date.today())
    top = report.rows[0]
    assert (top.what, top.age_band, top.place) == ("Holiday clubs and playschemes", "11-15", "Staffordshire Moorlands")
    assert any(not row.visible for row in report.rows)  # the demo shows "fewer than 5" too
    before = db.session.execute(select(func.count()).select_from(SearchDemandArea)).scalar_one()
    report_ = LoadReport()
    load_demo_demand(report_)
    districts.load_demo_districts(full_demo.config["CONTENT_PATH"] and __import__("pathlib").Path(
        full_demo.config["CONTENT_PATH"]) / districts.DISTRICTS_FILE, report_)
    assert report_.skipped == {"demo searches": 1, "districts": 1}
    assert db.session.execute(select(func.count()).select_from(SearchDemandArea)).scalar_one() == before


def test_two_overlapping_periods_never_give_away_a_small_month_by_difference(demo, app):
    """5 searches in one month and 2 the next: both periods read "5", so the month of 2 stays hidden."""
    db.session.add(District(name="Moorlands", outward_codes=["ST13"], position=1))
    first = (date.today().replace(day=1) - timedelta(days=70)).replace(day=3)
    second = (first.replace(day=1) + timedelta(days=40)).replace(day=3)
    db.session.add_all([counts(first, "need:autism", "11-15", "ST13", 5, 5, 0),
                        counts(second, "need:autism", "11-15", "ST13", 2, 2, 0)])
    db.session.commit()
    client = staff(app)
    one = client.get(f"/coordinators/demand.csv?start={first:%Y-%m}&end={first:%Y-%m}").get_data(as_text=True)
    both = client.get(f"/coordinators/demand.csv?start={first:%Y-%m}&end={second:%Y-%m}").get_data(as_text=True)
    row = ["Autism", "11 to 15 year olds", "Moorlands", "5", "5"]
    assert row in [line[:5] for line in csv.reader(io.StringIO(one))]
    assert row in [line[:5] for line in csv.reader(io.StringIO(both))]


def test_daily_counts_are_deleted_when_the_privacy_notice_says(demo, app):
    today = date.today()
    db.session.add_all([
        SearchDemand(day=today - timedelta(days=401), words="old words", searches=1, without_results=0),
        SearchDemand(day=today - timedelta(days=300), words="kept words", searches=1, without_results=0),
        counts(today - timedelta(days=761), "need:autism", "", "", 9, 0),
        counts(today - timedelta(days=700), "need:adhd", "", "", 9, 0),
    ])
    db.session.commit()
    prune(90)
    assert set(db.session.execute(select(SearchDemand.words)).scalars()) == {"kept words"}
    assert set(db.session.execute(select(SearchDemandArea.concept)).scalars()) == {"need:adhd"}


def test_a_renamed_term_is_read_from_the_next_batch_even_when_its_name_keeps_its_length(demo):
    from local_offer.models import Term, Vocabulary
    assert read_concepts("zzzzzz", {}) == ([], "")
    term = db.session.execute(select(Term).where(Term.vocabulary == Vocabulary.NEED, Term.code == "autism")).scalar_one()
    term.name = "zzzzzz"[:len(term.name)].ljust(len(term.name), "z")
    db.session.commit()
    assert "need:autism" in read_concepts(term.name, {})[0]
