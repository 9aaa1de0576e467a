"""Migrations build the whole schema from empty and match the models exactly, keeping the data they move."""

import os
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from local_offer import create_app
from local_offer.extensions import db
from local_offer.models import JobOutcome, ScheduledJob, SiteSetting

from databases import empty_database
from support import make_test_config


@pytest.fixture
def fresh_database(tmp_path):
    """Yield the URL of a brand-new, empty database (SQLite file or PostgreSQL schema)."""
    with empty_database(tmp_path, "lo_mig") as url:
        yield url


def test_upgrade_from_empty_matches_the_models_and_downgrades(fresh_database, instance_path):
    """`flask db upgrade` on an empty database gives exactly the models' schema; downgrade empties it."""
    app = create_app(make_test_config(fresh_database))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
            tables = set(sa.inspect(connection).get_table_names())
        assert differences == []
        assert {"listing", "organisation", "location", "service_at_location", "schedule",
                "cost_option", "contact", "term", "listing_term", "listing_revision", "user",
                "organisation_member", "audit_event"} <= tables
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_tests_run_on_the_database_ci_asked_for(app):
    """When CI gives a PostgreSQL URL, the suite really runs on PostgreSQL."""
    expected = "postgresql" if os.environ.get("LOCAL_OFFER_TEST_DATABASE_URL") else "sqlite"
    assert db.engine.dialect.name == expected


def test_migration_moves_the_purges_last_run_onto_its_job(fresh_database, instance_path):
    """Upgrading keeps when the purge last ran (as the job's last run); downgrading puts it back."""
    app = create_app(make_test_config(fresh_database))
    with app.app_context():
        upgrade(revision="0008")
        db.session.add(SiteSetting(key="feedback_purge", value={
            "at": "2026-11-30T03:00:00+00:00", "contacts": 2, "replies": 1, "anonymised": 4, "originals": 0}))
        db.session.commit()
        upgrade()
        purge = db.session.get(ScheduledJob, "feedback-purge")
        assert purge.last_success_at == datetime(2026, 11, 30, 3, tzinfo=timezone.utc)
        assert purge.last_outcome is JobOutcome.SUCCESS and purge.last_summary.startswith("Removed 2 contact details")
        assert db.session.get(SiteSetting, "feedback_purge") is None
        db.session.remove()
        downgrade(revision="0008")
        with db.engine.connect() as connection:
            assert "scheduled_job" not in sa.inspect(connection).get_table_names()
        setting = db.session.execute(sa.select(SiteSetting).where(SiteSetting.key == "feedback_purge")).scalar_one()
        assert datetime.fromisoformat(setting.value["at"]) == datetime(2026, 11, 30, 3, tzinfo=timezone.utc)
        db.session.remove()
        db.engine.dispose()


def test_session_rules_migrate_the_demo_schedules_without_loss(fresh_database, instance_path):
    """0014 over the whole demo: every session reads the same before and after a downgrade and upgrade.

    The demo is loaded at the newest schema, taken back to 0013 (one weekday per row and
    "First Saturday of the month" in a note, as every council's data was), then brought
    forward again: the rules the migration reads from the notes are those the loader made.
    """
    from sites import DIRECTORY_AREAS

    from local_offer import geo
    from local_offer.listings.recurrence import Rule
    from local_offer.listings.when import in_words
    from local_offer.models import Listing

    def sessions():
        found = {}
        for listing in db.session.execute(sa.select(Listing)).scalars():
            rules = [Rule.of(row).to_data() for row in listing.schedules]
            found[listing.id] = (rules, in_words(listing.schedules, today=datetime(2000, 1, 1).date()))
        return found

    app = create_app(make_test_config(fresh_database))
    with app.app_context(), app.test_request_context("/"):
        upgrade()
        geo.build(DIRECTORY_AREAS)
        result = app.test_cli_runner().invoke(args=["content", "load", "--demo"])
        assert result.exit_code == 0, result.output
        before = sessions()
        monthly = {listing_id: words for listing_id, (rules, words) in before.items()
                   if any(rule["freq"] == "monthly" for rule in rules)}
        assert len(monthly) >= 8
        assert any("First Saturday of the month, 10am to 12:30pm, term time only" in words
                   for words in monthly.values())
        assert any(line.startswith("Third Tuesday of the month, 1pm to 4pm. Newcastle")
                   for words in monthly.values() for line in words)
        count = sum(len(rules) for rules, _words in before.values())
        db.session.remove()

        downgrade(revision="0013")
        with db.engine.connect() as connection:
            old = connection.execute(sa.text(
                "SELECT weekday, notes FROM schedule WHERE notes LIKE '%of the month%'")).all()
            assert connection.execute(sa.text("SELECT count(*) FROM schedule")).scalar() == count
        assert ("SA", "First Saturday of the month") in [tuple(row) for row in old]
        assert ("TU", "Newcastle, third Tuesday of the month") in [tuple(row) for row in old]

        upgrade()
        assert sessions() == before
        db.session.remove()
        db.engine.dispose()
