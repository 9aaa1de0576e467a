"""Imports and exports of Open Referral UK data: real feeds, the standard's examples, a round trip.

Real council feeds and the standard's examples are read from ../shared/oruk-samples
(never copied into the project); those tests skip when the folder is absent.  Timings of
a very large import belong to ``bench/imports.py``, not here.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from local_offer import interchange
from local_offer.extensions import db
from local_offer.models import Listing, ListingRevision, ListingStatus, Organisation, RevisionStatus
from local_offer.search import get_service

from support import SAMPLES, errors, make_user, needs_samples, sign_in

#: How many of a real feed's records are written by the import that applies it (all are dry-run).
APPLIED_SLICE = 150
#: Rows in the CSV that is dry-run row by row (bench/imports.py times 100,000).
MANY_ROWS = 2_000


def listing_count() -> int:
    return db.session.execute(select(func.count()).select_from(Listing)).scalar_one()


def flawed_and_first(records: list[dict], size: int) -> list[dict]:
    """Keep a feed's first records and every flawed one: no name, no organisation, or an id used twice."""
    uses = Counter(record.get("id") for record in records)
    return [record for number, record in enumerate(records)
            if number < size or not (record.get("name") or "").strip() or not record.get("organization")
            or uses[record.get("id")] > 1]


@pytest.fixture
def vocabularies(demo, app):
    """The demo's vocabularies (and six listings) are loaded by the demo fixture."""
    return app


@needs_samples
def test_real_council_feeds_dry_run_then_apply_then_update_not_duplicate(vocabularies, runner, tmp_path):
    """1,557 real services with empty-string enumerations, HTML, bad emails: each cleaned or rejected, none fatal.

    Every record of both feeds is dry-run; the import that writes takes Bristol's first
    records and every flawed one (the write path costs a tenth of a second a record).
    """
    before = listing_count()
    for name in ("bristol-council-services.json", "north-lincolnshire-council-services.json"):
        records = list(interchange.read_source(str(SAMPLES / "v1-real" / name)))
        report = interchange.import_records(records, apply=False, publish=False)
        assert len(report.outcomes) == len(records)
        assert listing_count() == before  # a dry run writes nothing
        reasons = {outcome.reason for outcome in report.outcomes if outcome.action == "rejected"}
        assert report.counts["created"] > 0.8 * len(records)
        if name.startswith("bristol"):
            assert {"no name", "no organisation", "duplicate id in this import"} <= reasons
    bristol = list(interchange.read_source(str(SAMPLES / "v1-real" / "bristol-council-services.json")))
    records = flawed_and_first(bristol, APPLIED_SLICE)
    path = tmp_path / "bristol-slice.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = runner.invoke(args=["oruk", "import", str(path), "--apply", "--publish"])
    assert result.exit_code == 0, result.output
    created = listing_count() - before
    # All of Bristol's 819 made more than 700 listings: the same share of the slice.
    assert created > 700 / 819 * len(records) and "created" in result.output and "warning:" in result.output
    again = runner.invoke(args=["oruk", "import", str(path), "--apply", "--publish"])
    assert again.exit_code == 0 and listing_count() - before == created
    assert f"0 created" in again.output and "skipped" in again.output
    # What we serve from the imported feed is valid ORUK, although the feed itself was not.
    client = vocabularies.test_client()
    page = client.get("/api/v1/services?per_page=50&page=3").get_json()
    assert errors("service_list.json", page) == []


@needs_samples
def test_the_standards_v3_example_and_its_failing_mocks(vocabularies):
    """A full v3 service maps with warnings (US postcode, unknown terms); the failing mocks are rejected by record."""
    records = list(interchange.read_source(str(SAMPLES / "v3-examples" / "service_full.json")))
    report = interchange.import_records(records, apply=True, publish=True)
    (outcome,) = report.outcomes
    assert outcome.action == "created", outcome
    assert any("venue" in warning and "left out" in warning for warning in outcome.warnings)
    listing = db.session.get(Listing, records[0]["id"])
    assert listing.status is ListingStatus.PUBLISHED and listing.cost_options[0].amount == 35
    assert [s.byday for s in listing.schedules] == ["TH,FR"]  # one session on two days, as the feed says
    failing = interchange.import_records(
        interchange.read_source(str(SAMPLES / "v3-negative" / "fail_service_list.json")), apply=True, publish=True)
    assert failing.counts == {"rejected": 4} and {o.reason for o in failing.outcomes} == {"no name"}
    paging = interchange.import_records(interchange.read_source(
        str(SAMPLES / "v3-negative" / "test_service_list_inconsistent_paging.json")), apply=False, publish=False)
    assert len(paging.outcomes) == 128


def test_imports_wait_for_a_coordinator_unless_published(vocabularies):
    """Without --publish each record is a pending change in the moderation queue, invisible to families."""
    feed = [{"id": "ext-1", "name": "Riverside sensory room", "description": "<p>Quiet <script>x()</script>room</p>",
             "status": "active", "attending_type": "", "attending_access": "drop-in", "email": "not-an-email",
             "url": "javascript:alert(1)", "organization": {"id": "org-7", "name": "Riverside Trust"}}]
    report = interchange.import_records(feed, apply=True, publish=False)
    (outcome,) = report.outcomes
    assert outcome.action == "created" and len(outcome.warnings) == 2
    listing = db.session.get(Listing, interchange.stable_id("ext-1", "service"))
    assert listing.status is ListingStatus.PENDING
    revision = db.session.execute(select(ListingRevision).where(ListingRevision.listing_id == listing.id)).scalar_one()
    assert revision.status is RevisionStatus.PENDING
    organisation = db.session.get(Organisation, interchange.stable_id("org-7", "organisation"))
    assert organisation.name == "Riverside Trust" and len(organisation.id) == 36
    assert vocabularies.test_client().get(f"/api/v1/services/{listing.id}").status_code == 404
    from local_offer.listings import workflow
    from local_offer.models import User, Role

    coordinator = User(email="c@example.gov.uk", role=Role.COORDINATOR)
    db.session.add(coordinator)
    db.session.commit()
    workflow.approve(revision, coordinator)
    db.session.expire_all()
    listing = db.session.get(Listing, listing.id)
    assert "<script" not in listing.description and listing.description.startswith("<p>Quiet")
    assert listing.website is None and listing.email is None


def test_a_remote_feed_is_followed_page_by_page_and_bounded(vocabularies, monkeypatch):
    """A paged feed is read until it says last; one that never does stops at the bound."""
    def page(number, last):
        return json.dumps({"totalElements": 3, "number": number, "last": last, "content": [
            {"id": f"remote-{number}", "name": f"Service {number}", "organization": {"id": "o", "name": "Org"}}]}
        ).encode()

    asked = []

    def fetch(url):
        asked.append(url)
        number = int(url.rsplit("page=", 1)[1])
        return page(number, number == 3)

    records = list(interchange.read_source("https://feed.example.org/services?per_page=1", fetch=fetch))
    assert [r["id"] for r in records] == ["remote-1", "remote-2", "remote-3"] and len(asked) == 3
    monkeypatch.setattr(interchange.sources, "MAX_PAGES", 5)
    endless = list(interchange.read_source("https://feed.example.org/services",
                                           fetch=lambda url: page(int(url.rsplit("page=", 1)[1]), False)))
    assert len(endless) == 5


@pytest.mark.parametrize("content, message", [
    (b"this is not json", "is not JSON"),
    (b"\xff\xfe\x00garbage", "is not UTF-8"),
    (b'{"hello": "world"}', "not Open Referral services"),
])
def test_unreadable_files_exit_non_zero_with_a_message(vocabularies, runner, tmp_path, content, message):
    """A file that is not JSON, not text or not services: a message and a non-zero exit, nothing written."""
    path = tmp_path / "feed.json"
    path.write_bytes(content)
    before = listing_count()
    result = runner.invoke(args=["oruk", "import", str(path), "--apply"])
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output
    assert listing_count() == before
    missing = runner.invoke(args=["oruk", "import", str(tmp_path / "nowhere.json")])
    assert missing.exit_code != 0 and "Cannot read" in missing.output


def assert_same_export(first: str, second: str) -> None:
    """Fail naming the first service (and its fields) that two exports give differently."""
    if first != second:
        a, b = json.loads(first), json.loads(second)
        differing = next((x, y) for x, y in zip(a, b) if x != y)
        keys = [k for k in differing[0] if differing[0][k] != differing[1].get(k)]
        pytest.fail(f"first difference in {differing[0]['id']}: {keys}: "
                    f"{[(differing[0][k], differing[1].get(k)) for k in keys][:2]}")


def test_round_trip_export_import_export_is_identical(directory_site, app, runner, tmp_path):
    """Export the demo directory, import it into an empty instance, export again: the same JSON."""
    with directory_site.app.app_context():
        first = interchange.to_json(interchange.export_oruk())
    (tmp_path / "export.json").write_text(first, encoding="utf-8")
    assert runner.invoke(args=["content", "load", "--no-demo"]).exit_code == 0
    get_service().rebuild()
    result = runner.invoke(args=["oruk", "import", str(tmp_path / "export.json"), "--apply", "--publish"])
    assert result.exit_code == 0 and "0 rejected" in result.output, result.output[-2000:]
    second = interchange.to_json(interchange.export_oruk())
    assert len(json.loads(first)) > 300
    assert_same_export(first, second)


# --- the CSV layout ------------------------------------------------------------------------------------


def test_csv_round_trip_and_update(directory_site, app, runner, tmp_path):
    """Export the demo directory as CSV, import it into an empty instance, export again: identical."""
    with directory_site.app.app_context():
        first = interchange.export_csv()
    (tmp_path / "export.csv").write_text(first, encoding="utf-8")
    assert runner.invoke(args=["content", "load", "--no-demo"]).exit_code == 0
    get_service().rebuild()
    dry = runner.invoke(args=["import", "csv", str(tmp_path / "export.csv")])
    assert dry.exit_code == 0 and "Dry run" in dry.output and listing_count() == 0
    result = runner.invoke(args=["import", "csv", str(tmp_path / "export.csv"), "--apply", "--publish"])
    assert result.exit_code == 0 and "0 rejected" in result.output, result.output[-1500:]
    second = interchange.export_csv()
    again = runner.invoke(args=["import", "csv", str(tmp_path / "export.csv"), "--apply", "--publish"])
    assert "0 created, 0 updated" in again.output
    assert interchange.count_csv_rows(first) > 300
    if first != second:
        a, b = first.splitlines(), second.splitlines()
        pytest.fail(next(f"{x[:300]}\n{y[:300]}" for x, y in zip(a, b) if x != y))


@pytest.mark.parametrize("content, message", [
    (b"id,name,colour\n1,A,blue\n", "unknown columns: colour"),
    (b"id,name\n1,A\n", "missing columns: organisation_id, organisation_name"),
    ("id,organisation_id,organisation_name,name\n1,o,Ørg,Å\n".encode("latin-1"), "is not UTF-8"),
])
def test_csv_with_wrong_columns_or_encoding_exits_non_zero(vocabularies, runner, tmp_path, content, message):
    path = tmp_path / "rows.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["import", "csv", str(path), "--apply"])
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output


def test_csv_rows_are_checked_one_by_one(vocabularies):
    """Bad rows are rejected with their reason; good rows in the same file go in."""
    header = "id,organisation_id,organisation_name,name,kind,min_age,max_age,venues,categories\n"
    body = ("a1,o1,Org One,Good one,activity,5,12,,\n"
            "a2,o1,Org One,,activity,,,,\n"
            "a3,o1,Org One,Backwards,activity,12,5,,\n"
            "a4,o1,Org One,Bad kind,spaceship,,,,\n"
            'a5,o1,Org One,Bad venues,activity,,,"not json",\n'
            "a1,o1,Org One,Duplicate,activity,,,,\n"
            "a6,o1,Org One,Unknown code,activity,,,,no-such-code\n")
    rows = interchange.read_csv((header + body).encode())
    report = interchange.import_csv(rows, apply=True, publish=True)
    reasons: dict = {}
    for outcome in report.outcomes:
        reasons.setdefault(outcome.source_id, (outcome.action, outcome.reason))
    assert reasons["a1"][0] == "created" and reasons["a6"][0] == "created", reasons
    assert reasons["a2"] == ("rejected", "no name")
    assert reasons["a3"][1].startswith("ages run backwards")
    assert "spaceship" in reasons["a4"][1] and "not a JSON list" in reasons["a5"][1]
    assert [o.reason for o in report.outcomes if o.name == "Duplicate"] == ["duplicate id in this import"]


def test_many_rows_are_read_with_a_report_not_a_crash(vocabularies):
    """A large file is read and checked row by row (a dry run), each outcome reported (bench/imports.py: 100,000)."""
    header = "id,organisation_id,organisation_name,name\n"
    body = "".join(f"r{n},o,Org,{('Name ' + str(n)) if n % 2 else ''}\n" for n in range(MANY_ROWS))
    rows = interchange.read_csv((header + body).encode())
    report = interchange.import_csv(rows, apply=False, publish=False)
    assert len(report.outcomes) == MANY_ROWS and report.counts["created"] == MANY_ROWS // 2
    assert report.counts["rejected"] == MANY_ROWS // 2 and listing_count() == 6


# --- coordinators in the site ------------------------------------------------------------------------------


def test_coordinators_upload_check_then_apply_and_download(vocabularies, app):
    """Upload is a dry run first; applying makes pending changes; exports download; providers are refused."""
    import io as stdlib_io

    from local_offer.models import Role

    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    make_user("provider@example.org", Role.PROVIDER)
    staff = app.test_client()
    sign_in(staff, "coordinator@example.gov.uk")
    feed = json.dumps([{"id": "up-1", "name": "Uploaded club", "organization": {"id": "up-o", "name": "Up Org"}},
                       {"id": "up-2", "name": "", "organization": {"id": "up-o", "name": "Up Org"}}]).encode()
    before = listing_count()
    page = staff.post("/moderation/data", data={"file": (stdlib_io.BytesIO(feed), "feed.json")},
                      content_type="multipart/form-data")
    assert page.status_code == 200 and listing_count() == before
    text = page.get_data(as_text=True)
    assert "1 would be created" in text and "no name" in text
    token = __import__("re").search(r'name="token" value="([^"]+)"', text).group(1)
    applied = staff.post("/moderation/data/apply", data={"token": token, "publish": "no"})
    assert applied.status_code == 200 and listing_count() == before + 1
    assert db.session.get(Listing, interchange.stable_id("up-1", "service")).status is ListingStatus.PENDING
    assert staff.post("/moderation/data/apply", data={"token": token}).status_code == 303  # used once
    bad = staff.post("/moderation/data", data={"file": (stdlib_io.BytesIO(b"nope"), "feed.json")},
                     content_type="multipart/form-data")
    assert bad.status_code == 400 and "is not JSON" in bad.get_data(as_text=True)
    wrong = staff.post("/moderation/data", data={"file": (stdlib_io.BytesIO(b"x"), "feed.xlsx")},
                       content_type="multipart/form-data")
    assert wrong.status_code == 400 and "Upload an Open Referral UK .json file or a .csv file" in wrong.get_data(
        as_text=True)
    assert staff.post("/moderation/data/apply", data={"token": "../../etc/passwd"}).status_code == 303
    exported = staff.get("/moderation/data/directory.json")
    assert exported.status_code == 200 and len(exported.get_json()) == 6
    assert staff.get("/moderation/data/directory.csv").get_data(as_text=True).startswith("id,organisation_id")
    provider = app.test_client()
    sign_in(provider, "provider@example.org")
    assert provider.get("/moderation/data").status_code == 403
    assert provider.get("/moderation/data/directory.csv").status_code == 403


def test_review_fixes_for_imports(vocabularies, app):
    """Flags read as yes/no, huge numbers do not crash, updates keep what a feed lacks, people's changes are kept."""
    from local_offer.listings import workflow
    from local_offer.models import Contact, ListingKind, Role, User

    header = "id,organisation_id,organisation_name,name,min_age,phone,contacts\n"
    body = ('c1,o,Org,Flags,inf,+44 1785 000000,"[{""name"": ""Pat"", ""public"": ""no"", ""phone"": 5}]"\n')
    report = interchange.import_csv(interchange.read_csv((header + body).encode()), apply=True, publish=True)
    (outcome,) = report.outcomes
    assert outcome.action == "created" and any("not a number" in w for w in outcome.warnings)
    listing = db.session.get(Listing, interchange.stable_id("c1", "service"))
    assert listing.phone == "+44 1785 000000" and listing.contacts[0].is_public is False
    assert listing.contacts[0].phone == "5"
    exported = interchange.export_csv()
    assert "'+44 1785 000000" in exported  # neutralised for spreadsheets...
    again = interchange.import_csv(interchange.read_csv(exported.encode()), apply=True, publish=True)
    assert db.session.get(Listing, listing.id).phone == "+44 1785 000000"  # ...and read back as it was
    assert {o.action for o in again.outcomes} == {"skipped"}

    # An ORUK update keeps the kind, and the private contacts, the feed has no field for.
    feed = [{"id": "k1", "name": "Kept", "organization": {"id": "ko", "name": "K Org"}}]
    interchange.import_records(feed, apply=True, publish=True)
    kept = db.session.get(Listing, interchange.stable_id("k1", "service"))
    kept.kind = ListingKind.ACTIVITY
    kept.contacts.append(Contact(name="Private person", is_public=False))
    db.session.commit()
    interchange.import_records([{**feed[0], "name": "Kept renamed"}], apply=True, publish=True)
    db.session.expire_all()
    kept = db.session.get(Listing, kept.id)
    assert kept.name == "Kept renamed" and kept.kind is ListingKind.ACTIVITY
    assert [c.name for c in kept.contacts] == ["Private person"]

    # A person's change waiting for checks is never overwritten by an import.
    person = User(email="p@example.org", role=Role.PROVIDER)
    db.session.add(person)
    db.session.commit()
    waiting = workflow.start_revision(kept, person)
    waiting.data = {**waiting.data, "summary": "A provider's words"}
    db.session.commit()
    report = interchange.import_records([{**feed[0], "name": "Kept again"}], apply=True, publish=False)
    assert report.outcomes[0].action == "skipped" and "waiting for checks" in report.outcomes[0].reason
    assert workflow.open_revision(db.session.get(Listing, kept.id)).data["summary"] == "A provider's words"


def test_api_errors_before_routing_are_json_with_cors(vocabularies, app):
    response = app.test_client().post("/api/v1/services")
    assert response.status_code == 405 and response.get_json()["status"] == 405
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_deeply_nested_json_is_refused_with_a_message(vocabularies, runner, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    result = runner.invoke(args=["oruk", "import", str(path)])
    assert result.exit_code != 0 and "nested too deeply" in result.output


def test_v3_feed_is_read_in_full_and_round_trips(directory_site, app, runner):
    """Our own v3 API read as a neighbour's feed (each brief service fetched in full): the same directory again."""
    from urllib.parse import urlsplit

    source = directory_site.app.test_client()
    asked = []

    def fetch(url):
        parts = urlsplit(url)
        asked.append(parts.path)
        response = source.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        assert response.status_code == 200, url
        return response.get_data()

    with directory_site.app.app_context():
        first = interchange.to_json(interchange.export_oruk())
    assert runner.invoke(args=["content", "load", "--no-demo"]).exit_code == 0
    get_service().rebuild()
    records = list(interchange.read_source("https://neighbour.example.gov.uk/api/v3/services?per_page=100",
                                           fetch=fetch))
    assert len(records) > 300 and all("service_at_locations" in record for record in records)
    assert sum(path.startswith("/api/v3/services/") for path in asked) == len(records)  # each fetched in full
    report = interchange.import_records(records, apply=True, publish=True)
    assert not [o for o in report.outcomes if o.action == "rejected"]
    second = interchange.to_json(interchange.export_oruk())
    assert_same_export(first, second)
