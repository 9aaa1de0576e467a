"""Imports keep to the portal's limits and cleaning; exports of any stored content work and read back (issue 13)."""

from __future__ import annotations

import json

from sqlalchemy import select

from local_offer import interchange
from local_offer.extensions import db
from local_offer.models import Listing


def service(number: int = 1, **fields) -> dict:
    """Return a small ORUK v1 service."""
    return {"id": f"lim-{number}", "name": f"Limits club {number}", "description": "<p>Swimming.</p>",
            "status": "active", "organization": {"id": "lim-org", "name": "Limits Trust"}, **fields}


def test_an_over_long_description_is_rejected_by_name_and_never_stored(demo, runner, tmp_path):
    """`flask oruk import --apply --publish` of a 500,000-character description stores nothing over the limit."""
    path = tmp_path / "feed.json"
    path.write_text(json.dumps([service(1, description="<p>" + "a" * 500_000 + "</p>"), service(2)]), "utf-8")
    result = runner.invoke(args=["oruk", "import", str(path), "--apply", "--publish"])
    assert result.exit_code == 0, result.output
    assert "description" in result.output and "20,000" in result.output and "1 rejected" in result.output
    longest = max(len(listing.description or "") for listing in db.session.execute(select(Listing)).scalars())
    assert longest <= 20_000 * 2
    assert db.session.get(Listing, interchange.stable_id("lim-1", "service")) is None
    assert db.session.get(Listing, interchange.stable_id("lim-2", "service")) is not None




def test_export_csv_of_legacy_over_long_content_works_and_reads_back(demo, runner, tmp_path):
    """Rows stored before the limits (a 500,000-character description) export, and the file imports again.

    Before: `flask oruk export-csv` ended in a traceback (the csv module's 131,072-character
    field limit) and the file could not be read back at all.
    """
    legacy = db.session.execute(select(Listing).order_by(Listing.id)).scalars().first()
    legacy.description, legacy.description_source = "<p>" + "a" * 500_000 + "</p>", ""
    legacy.how_to_access = "b" * 5_000
    # A carriage return on its own (stored before cleaning removed it) once split its row in two.
    other = db.session.execute(select(Listing).order_by(Listing.id.desc())).scalars().first()
    other.how_to_access = "Ring first.\rThen visit."
    db.session.commit()
    target = tmp_path / "export.csv"
    result = runner.invoke(args=["oruk", "export-csv", str(target)])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert "Wrote 6 rows" in result.output
    again = runner.invoke(args=["import", "csv", str(target), "--apply", "--publish"])
    assert again.exit_code == 0 and again.exception is None, again.output
    assert "0 created, 1 updated, 4 skipped, 1 rejected" in again.output
    assert "description is 500,000 characters long; the limit is 20,000" in again.output
    assert "how_to_access is 5,000 characters long; the limit is 2,000" in again.output
    db.session.expire_all()
    assert len(db.session.get(Listing, legacy.id).description) > 500_000  # left as it was, not cut
    assert db.session.get(Listing, other.id).how_to_access == "Ring first.\nThen visit."  # whole, one row


def test_export_csv_to_a_place_it_cannot_write_is_a_message(demo, runner, tmp_path):
    result = runner.invoke(args=["oruk", "export-csv", str(tmp_path / "no-such-folder" / "export.csv")])
    assert result.exit_code != 0 and "Cannot write" in result.output and not isinstance(result.exception, OSError)


def test_json_files_of_every_shape_are_streamed_and_counted(demo, tmp_path):
    """A bare array, a v1 page (`content`), a v3 page (`contents`) and one service, read record by record."""
    from local_offer.interchange import Records

    shapes = {
        "array": [service(1), service(2), "not an object"],
        "v1-page": {"totalPages": 1, "content": [service(1), service(2), 7], "number": 1, "last": True},
        "v3-page": {"contents": [service(1), service(2), None], "total_items": 3, "content": "a string, not records"},
        "one": service(1),
    }
    for name, document in shapes.items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(b"\xef\xbb\xbf" + json.dumps(document).encode())  # with a byte order mark
        records = interchange.read_source(str(path))
        assert isinstance(records, Records)
        items = list(records)
        assert len(records) == len(items) == (1 if name == "one" else 3), name
        assert items[0]["name"] == "Limits club 1" and all(isinstance(item, dict) for item in items)
        assert list(records) == items  # read again from the file, the same
        report = interchange.import_records(records, apply=False, publish=False)
        assert len(report.outcomes) == len(items)
        if name != "one":
            assert report.outcomes[2].action == "rejected" and report.outcomes[2].reason == "not a JSON object"
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'[{"id": "x", "name": "caf\xe9"}]')
    try:
        interchange.read_source(str(bad))
    except interchange.UnreadableImport as error:
        assert "not UTF-8" in str(error) and "byte 25" in str(error)
    else:
        raise AssertionError("a file that is not UTF-8 was read")


def test_the_portal_forms_read_their_limits_from_the_one_definition(app):
    """Every listing field the portal edits has the maximum length listings.limits gives it, not a copy."""
    from wtforms.validators import Length

    from local_offer.listings import limits
    from local_offer.portal import forms, rows

    def maximum(field) -> int:
        (length,) = [v for v in field.kwargs.get("validators", []) if isinstance(v, Length)] or [None]
        return length.max if length else None

    sections = {**{name: getattr(forms.AboutForm, name) for name in ("name", "summary", "description")},
                "sen_information_report_url": forms.AboutForm.sen_information_report_url,
                "eligibility": forms.WhoForm.eligibility, "languages": forms.WhoForm.languages,
                "service_area": forms.WhenWhereForm.service_area, "how_to_access": forms.AccessForm.how_to_access,
                "website": forms.ContactsForm.website, "email": forms.ContactsForm.email}
    for name, field in sections.items():
        assert maximum(field) == {**limits.TEXT, "languages": limits.LANGUAGES}[name], name
    for row, part in ((rows.LocationRow, limits.VENUE), (rows.CostRow, limits.COST), (rows.ScheduleRow, limits.SESSION),
                      (rows.ContactRow, limits.CONTACT)):
        for name, limit in part.items():
            if name != "phone" and hasattr(row, name) and name != "county":
                assert maximum(getattr(row, name)) == limit, (row.__name__, name)


def test_demo_content_over_a_limit_is_refused_by_name_before_anything_is_written(demo, tmp_path):
    """Seed content goes through the same limits: a 20,001-character description stops the file, nothing written."""
    import pytest

    from local_offer.content_loader import ContentError, LoadReport, load_demo

    entry = {"id": "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b9001", "organisation": "6f1c2a40-1d0b-4c51-9a57-0d2f0c1a0001",
             "name": "Fits", "summary": "Fine.", "description": "Fine.", "kind": "activity", "level": "universal"}
    long = {**entry, "id": "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b9002", "name": "Too long", "description": "d" * 20_001}
    path = tmp_path / "demo.yaml"
    path.write_text(json.dumps({"listings": [entry, long]}), "utf-8")  # JSON is YAML
    before = db.session.execute(select(Listing)).scalars().all()
    with pytest.raises(ContentError, match="description is 20,001 characters long; the limit is 20,000"):
        load_demo(path, LoadReport())
    db.session.rollback()
    assert db.session.execute(select(Listing)).scalars().all() == before
