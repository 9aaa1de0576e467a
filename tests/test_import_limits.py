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


