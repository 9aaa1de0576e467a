"""Property tests over hostile import fields (issue 13): whatever a feed, a spreadsheet or an upload holds.

Each record either goes in cleaned and within the portal's limits, or is rejected with a
reason; never a traceback, never a 500 on the upload page.
"""

from __future__ import annotations

import csv
import io
import json
import re

from hypothesis import HealthCheck, event, example, given, settings, strategies as st
from sqlalchemy import select

from local_offer import interchange
from local_offer.extensions import db
from local_offer.interchange.csv_layout import CSV_COLUMNS
from local_offer.listings import limits
from local_offer.listings.data import listing_data
from local_offer.models import Listing, Organisation, Role

from support import make_user, sign_in

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

#: Text an attacker or a broken export might put in any field.
nasty_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["<script>alert(1)</script>", "=cmd|' /C calc'!A0", "+SUM(1)", "@x", "-1", "\x00", "a\x00b",
                     "\u202egnp.exe", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\ufeff", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
                     "'; DROP TABLE listing;--", "\r\n\r\n", "ST16 2AD", "09:30", "25", "-5", "1e999", "NaN"]),
    st.builds(lambda char, size: char * size, st.sampled_from("a<é\x00 "), st.integers(250, 60_000)),
)
#: Anything JSON may hold where a string was expected.
nasty_value = st.recursive(
    st.one_of(nasty_text, st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def _maybe(**fields):
    """A dict whose keys each may be left out."""
    return st.fixed_dictionaries({}, optional=fields)


service_fields = _maybe(
    name=nasty_value, description=nasty_value, url=nasty_value, email=nasty_value, status=nasty_value,
    fees=nasty_value, attending_type=nasty_value, attending_access=nasty_value, assured_date=nasty_value,
    minimum_age=nasty_value, maximum_age=nasty_value, languages=nasty_value, service_areas=nasty_value,
    fundings=nasty_value, eligibilitys=st.one_of(nasty_value, st.lists(_maybe(eligibility=nasty_value,
                                                                              minimum_age=nasty_value), max_size=2)),
    organization=st.one_of(nasty_value, _maybe(name=nasty_value, description=nasty_value, url=nasty_value,
                                               email=nasty_value).map(lambda org: {"id": "prop-org", **org})),
    cost_options=st.one_of(nasty_value, st.lists(_maybe(option=nasty_value, amount=nasty_value,
                                                        amount_description=nasty_value), max_size=3)),
    contacts=st.one_of(nasty_value, st.lists(_maybe(name=nasty_value, title=nasty_value, email=nasty_value,
                                                    phones=st.lists(_maybe(number=nasty_value), max_size=2)),
                                             max_size=3)),
    regular_schedules=st.one_of(nasty_value, st.lists(_maybe(opens_at=nasty_value, closes_at=nasty_value,
                                                             byday=nasty_value, weekday=nasty_value,
                                                             description=nasty_value), max_size=3)),
    service_at_locations=st.one_of(nasty_value, st.lists(st.builds(
        lambda place, address: {"location": {**place, "physical_addresses": [address]}},
        _maybe(name=nasty_value, latitude=nasty_value, longitude=nasty_value,
               accessibility_for_disabilities=st.lists(_maybe(accessibility=nasty_value, details=nasty_value),
                                                       max_size=2)),
        _maybe(address_1=nasty_value, city=nasty_value, postal_code=st.one_of(nasty_value, st.just("ST16 2AD")))),
        max_size=2)),
    service_taxonomys=st.one_of(nasty_value, st.lists(_maybe(taxonomy=_maybe(id=nasty_value, name=nasty_value)),
                                                      max_size=2)),
)


def assert_stored_within_limits(outcome, listing_id: str) -> None:
    """A record that went in is clean and within the limits; one that did not has a reason."""
    assert outcome.action in ("created", "updated", "skipped", "rejected"), outcome
    event(outcome.action)
    if outcome.action == "rejected":
        assert outcome.reason.strip(), outcome
        return
    listing = db.session.get(Listing, listing_id)
    if listing is None:
        return  # skipped before it was ever stored
    data = listing_data(listing)
    assert limits.problems(data) == [], (outcome, limits.problems(data))
    for key in ("name", "summary", "eligibility", "how_to_access", "phone", "service_area"):
        assert not CONTROL.search(data[key] or ""), (key, data[key])
    assert "<script" not in (listing.description or "") and "onerror" not in (listing.description or "")
    for row in data["contacts"] + data["locations"] + data["costs"]:
        assert not any(CONTROL.search(value) for value in row.values() if isinstance(value, str)), row


@SETTINGS
@given(fields=service_fields)
@example(fields={"description": "<p>" + "a" * 500_000 + "</p>"})  # the case, always tried
@example(fields={"languages": 7, "contacts": "x", "cost_options": {"a": 1}, "eligibilitys": [None]})
def test_any_hostile_oruk_field_is_cleaned_within_limits_or_rejected(demo, fields):
    record = {"id": "prop-1", "name": "Property club", "organization": {"id": "prop-org", "name": "Prop Trust"},
              **fields}
    report = interchange.import_records([record], apply=True, publish=True)
    (outcome,) = report.outcomes
    assert_stored_within_limits(outcome, interchange.stable_id("prop-1", "service"))
    organisation = db.session.get(Organisation, interchange.stable_id("prop-org", "organisation"))
    if organisation is not None:
        assert limits.organisation_problems({"name": organisation.name, "description": organisation.description,
                                             "website": organisation.website, "email": organisation.email}) == []


@SETTINGS
@given(fields=service_fields)
def test_any_hostile_oruk_file_reads_and_dry_runs_without_a_traceback(demo, tmp_path_factory, fields):
    """The same values through the streaming reader, as `flask oruk import` reads a file, and as a pending change."""
    path = tmp_path_factory.mktemp("feed") / "feed.json"
    record = {"id": "prop-2", "name": "Property club", "organization": {"id": "prop-org", "name": "Prop Trust"},
              **fields}
    path.write_text(json.dumps({"content": [record, fields], "totalPages": 1}), encoding="utf-8")
    try:
        records = interchange.read_source(str(path))
    except interchange.UnreadableImport as error:
        # Infinity (which json.dumps writes) is not JSON, and a number beyond 64 bits is more than the
        # streaming parser reads: the whole file is refused with a message, before anything is written.
        assert "is not JSON" in str(error), error
        return
    report = interchange.import_records(records, apply=True, publish=False)
    assert len(report.outcomes) == 2
    assert all(outcome.action != "rejected" or outcome.reason for outcome in report.outcomes)


csv_cells = _maybe(**{column: nasty_text for column in CSV_COLUMNS if column not in ("id", "organisation_id")})


@SETTINGS
@given(cells=csv_cells)
@example(cells={"description": "Line one\rline two", "summary": "=cmd|' /C calc'!A0", "phone": "+44 1234"})
@example(cells={"how_to_access": "b" * 2_001, "sessions": '[{"notes": "' + "n" * 600 + '"}]'})
def test_any_hostile_csv_cell_is_cleaned_within_limits_or_rejected(demo, cells):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerow({"id": "prop-csv", "organisation_id": "prop-org", "organisation_name": "Prop Trust",
                     "name": "Property club", **cells})
    try:
        rows = interchange.read_csv(buffer.getvalue().encode("utf-8", "surrogatepass"))
    except interchange.UnreadableImport as error:
        assert str(error)  # a whole file that cannot be read is a message, not a traceback
        return
    report = interchange.import_csv(rows, apply=True, publish=True)
    (outcome,) = report.outcomes
    assert_stored_within_limits(outcome, interchange.stable_id("prop-csv", "service"))
    # Whatever went in exports, formula-looking cells neutralised, and the export reads back.
    exported = interchange.export_csv()
    assert not any(cell.startswith(("=", "+", "@")) for row in csv.reader(io.StringIO(exported)) for cell in row)
    again = interchange.import_csv(interchange.read_csv(exported.encode()), apply=False, publish=False)
    assert all(o.action == "skipped" for o in again.outcomes), [(o.action, o.reason) for o in again.outcomes]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(fields=service_fields, raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_any_hostile_upload_is_a_page_never_a_500(demo, fields, raw):
    """Coordinators' uploads: hostile JSON, or bytes that are not JSON, get a report or a 400, never a 500."""
    client = signed_in_coordinator(demo)
    body = raw if raw is not None else json.dumps(
        [{"id": "prop-up", "name": "Uploaded", "organization": {"id": "o", "name": "O"}, **fields}]).encode()
    page = client.post("/moderation/data", data={"file": (io.BytesIO(body), "feed.json")},
                       content_type="multipart/form-data")
    assert page.status_code in (200, 400), page.status_code
    token = re.search(r'name="token" value="([^"]+)"', page.get_data(as_text=True))
    if token:
        applied = client.post("/moderation/data/apply", data={"token": token.group(1), "publish": "yes"})
        assert applied.status_code in (200, 303, 400), applied.status_code


_CLIENTS: dict[int, object] = {}


def signed_in_coordinator(app):
    """Return a client signed in as a coordinator, made once for all of a test's examples."""
    if id(app) not in _CLIENTS:
        _CLIENTS.clear()
        make_user("prop-coordinator@example.gov.uk", Role.COORDINATOR)
        client = app.test_client()
        sign_in(client, "prop-coordinator@example.gov.uk")
        _CLIENTS[id(app)] = client
    return _CLIENTS[id(app)]


def test_delete_and_c1_control_characters_are_cleaned_from_text():
    """DEL and the C1 controls are not text: hypothesis found DEL kept in a CSV cell."""
    from local_offer.sanitise import clean_text
    assert clean_text("a\x7fb\x85c\x9fd é") == "abcd é"
