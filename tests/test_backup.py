"""Backups: one private file holding the whole site; a restore puts back every row, all or nothing.

Round trips go into a new, empty database of the same kind as the run's (a SQLite file, or a
PostgreSQL schema with LOCAL_OFFER_TEST_DATABASE_URL), and across kinds when PostgreSQL is there.
Every refusal is checked to leave the target database exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app

from local_offer import backup, backup_format, backup_restore, create_app, interchange
from local_offer.backup_format import BackupError
from local_offer.config import DEFAULTS
from local_offer.extensions import db
from local_offer.models import AuditEvent, Role, User

from databases import POSTGRES_URL, Database, no_disk_sync
from sites import stop_background_work
from support import make_test_config, make_user, text_of


# --- helpers ---------------------------------------------------------------------------------------


@contextmanager
def other_app(folder: Path, name: str, *, sqlite: bool = False, migrated: bool = False, **config):
    """Yield a second app, in its own app context, on a new empty database (no tables unless ``migrated``)."""
    database = Database(folder, f"lo_{name}", sqlite=sqlite)
    database.create()
    instance = folder / f"{name}-instance"
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("LOCAL_OFFER_INSTANCE_PATH", str(instance))
            app = create_app(make_test_config(database.url, **config))
        with app.app_context():
            no_disk_sync(db.engine)
            if migrated:
                from flask_migrate import upgrade

                upgrade()
            try:
                yield app
            finally:
                stop_background_work(app)
                db.session.remove()
                db.engine.dispose()
    finally:
        database.drop()


def every_row() -> dict[str, list[tuple]]:
    """Return every table's rows (all columns, as the application reads them), in primary-key order."""
    rows = {}
    with db.engine.connect() as connection:
        names = set(sa.inspect(connection).get_table_names())
        for table in db.metadata.sorted_tables:
            if table.name in names:
                order = list(table.primary_key.columns) or list(table.columns)
                rows[table.name] = [tuple(row) for row in connection.execute(sa.select(table).order_by(*order))]
    return rows


def table_names() -> set[str]:
    """Return the tables the current app's database has."""
    with db.engine.connect() as connection:
        return set(sa.inspect(connection).get_table_names()) - {"alembic_version"}


def without_restore_entries(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Drop the audit entries restores add, so a restored database compares with its source."""
    column = [c.name for c in AuditEvent.__table__.columns].index("action")
    return {**rows, "audit_event": [row for row in rows["audit_event"] if row[column] != "backup.restored"]}


def exports() -> tuple[str, str]:
    """Return the public ORUK JSON and CSV exports."""
    return interchange.to_json(interchange.export_oruk()), interchange.export_csv()


def rewrite(source: Path, target: Path, change) -> Path:
    """Copy a backup member by member, letting ``change(name, data)`` return new bytes for each."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, change(info.filename, old.read(info.filename)))
    return target


def resealed(manifest: dict) -> bytes:
    """Return a manifest with its checksum made right again (as a newer version would write it)."""
    return backup_format.manifest_bytes({key: value for key, value in manifest.items() if key != "checksum"})


def add_private_things(app, instance: Path) -> None:
    """Add what a demo lacks: an account with a second factor, an upload waiting, an instance config.py."""
    user = make_user("totp@example.gov.uk", Role.COORDINATOR)
    user.totp_secret, user.totp_last_step = "JBSWY3DPEHPK3PXP", 12345
    db.session.commit()
    (instance / "uploads").mkdir(parents=True, exist_ok=True)
    (instance / "uploads" / ("ab" * 16 + ".csv")).write_bytes("name,description\r\nA club,Łódź\r\n".encode())
    (instance / "config.py").write_text("COUNCIL_PHONE = '0300 000 0000'\n", encoding="utf-8")


# --- round trips -----------------------------------------------------------------------------------


def test_round_trip_restores_every_row_file_and_export(full_demo, instance_path, tmp_path):
    """A backup restored into a new database gives back every row, the same exports, the key and the files."""
    add_private_things(full_demo, instance_path)
    exported = exports()
    before = every_row()
    assert before["feedback"] and before["user"] and before["listing"]
    path, manifest = backup.create(str(tmp_path / "backups"))
    assert {table["name"]: table["rows"] for table in manifest["tables"]} == {
        name: len(rows) for name, rows in before.items()}

    with other_app(tmp_path, "restored") as target:
        assert table_names() == set()
        report = backup_restore.restore(str(path))
        assert report.created_tables and report.rows == sum(len(rows) for rows in before.values())
        after = every_row()
        assert without_restore_entries(after) == before
        restored = [row for row in after["audit_event"] if row[4] == "backup.restored"]
        assert len(restored) == 1
        assert exports() == exported
        user = db.session.execute(sa.select(User).where(User.email == "totp@example.gov.uk")).scalar_one()
        assert user.totp_secret == "JBSWY3DPEHPK3PXP"
        instance = Path(target.instance_path)
        assert (instance / "secret_key").read_text().strip() == "test-secret-key"
        assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
        assert (instance / "uploads" / ("ab" * 16 + ".csv")).read_bytes() == (
            instance_path / "uploads" / ("ab" * 16 + ".csv")).read_bytes()
        assert (instance / "config.py").read_text() == "COUNCIL_PHONE = '0300 000 0000'\n"
        # The index was rebuilt: a search finds a listing by its name.
        listing = db.session.execute(sa.text("SELECT name FROM listing WHERE status = 'published' LIMIT 1")).scalar()
        page = target.test_client().get("/search", query_string={"q": listing})
        assert page.status_code == 200 and listing.split()[0] in page.get_data(as_text=True)

        # Restoring again over it needs --force, and then replaces everything; config.py is kept, the backup's beside.
        (instance / "config.py").write_text("COUNCIL_PHONE = '0300 999 9999'\n", encoding="utf-8")
        with pytest.raises(BackupError, match="already holds a directory"):
            backup_restore.restore(str(path))
        again = backup_restore.restore(str(path), force=True)
        assert not again.created_tables
        assert without_restore_entries(every_row()) == before
        assert (instance / "config.py").read_text() == "COUNCIL_PHONE = '0300 999 9999'\n"
        assert (instance / "config.py.from-backup").read_text() == "COUNCIL_PHONE = '0300 000 0000'\n"
        # New rows get new ids after the restored ones (PostgreSQL's sequences were moved on).
        db.session.add(AuditEvent(action="test.after", entity_type="test", entity_id=None))
        db.session.commit()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (LOCAL_OFFER_TEST_DATABASE_URL)")
def test_backup_moves_between_postgresql_and_sqlite(full_demo, tmp_path):
    """A PostgreSQL backup restores into SQLite, and that site's backup back into PostgreSQL, nothing lost."""
    exported = exports()
    before = every_row()
    path, _ = backup.create(str(tmp_path / "from-postgresql"))
    with other_app(tmp_path, "sqlite", sqlite=True):
        backup_restore.restore(str(path))
        assert without_restore_entries(every_row()) == before
        assert exports() == exported
        path, manifest = backup.create(str(tmp_path / "from-sqlite"))
        assert manifest["database"] == "sqlite"
    with other_app(tmp_path, "postgresql"):
        backup_restore.restore(str(path))
        assert without_restore_entries(every_row()) == before
        assert exports() == exported


def test_restore_into_migrated_empty_database(demo, tmp_path):
    """A database made by `flask db upgrade` (tables, no rows) takes a backup at the same revision."""
    before = every_row()
    path, _ = backup.create(str(tmp_path))
    with other_app(tmp_path, "migrated", migrated=True):
        report = backup_restore.restore(str(path))
        assert not report.created_tables
        assert without_restore_entries(every_row()) == before


# --- the file --------------------------------------------------------------------------------------


def test_backup_file_is_private_from_the_start_and_its_manifest_adds_up(demo, instance_path, tmp_path, monkeypatch):
    """The file is mode 0600 whatever the umask; the manifest counts rows and checksums every part."""
    previous = os.umask(0)
    try:
        path, manifest = backup.create(str(tmp_path / "out"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert backup_format.NAME.match(path.name)
    assert not list(path.parent.glob(".*partial"))
    with zipfile.ZipFile(path) as archive:
        stored = json.loads(archive.read("manifest.json"))
        assert stored == manifest
        assert stored["checksum"] == backup_format.manifest_checksum(stored)
        for name, member in stored["members"].items():
            data = archive.read(name)
            assert hashlib.sha256(data).hexdigest() == member["sha256"] and len(data) == member["bytes"]
        assert archive.read("instance/secret_key").decode().strip() == current_app.config["SECRET_KEY"]
        listings = archive.read("database/listing.jsonl").decode().splitlines()
    counts = {table["name"]: table["rows"] for table in stored["tables"]}
    assert counts["listing"] == len(listings) == db.session.execute(sa.text("SELECT COUNT(*) FROM listing")).scalar()
    assert stored["site"] == {"public_url": current_app.config["PUBLIC_URL"],
                              "council_name": current_app.config["COUNCIL_NAME"]}
    assert stored["schema_revision"] == db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert stored["database"] == db.engine.dialect.name
    assert {table.name for table in db.metadata.sorted_tables} == set(counts)
    # Two in the same minute never overwrite each other (the clock held in the first one's minute: a slow
    # machine could otherwise cross into the next minute between the two).
    first_moment = datetime.strptime(stored["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    monkeypatch.setattr(backup, "utcnow", lambda: first_moment)
    second, _ = backup.create(str(tmp_path / "out"))
    assert second != path and path.exists() and second.name.endswith("-2.zip")


def test_prune_removes_only_our_old_backups_and_keeps_the_newest(app, tmp_path):
    """Only files named as our backups, older than the keep period, go; the newest stays whatever its age."""
    folder = tmp_path / "backups"
    folder.mkdir()
    now = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)
    names = {days: backup.backup_name(now - timedelta(days=days)) for days in (1, 34, 36, 100)}
    for name in names.values():
        (folder / name).write_bytes(b"x")
    others = ["notes.txt", "local-offer-backup-old.zip", "local-offer-backup-2020-01-01T0000Z.zip.gpg"]
    for name in others:
        (folder / name).write_bytes(b"x")
    removed = backup.prune(str(folder), keep_days=35, now=now)
    assert sorted(path.name for path in removed) == sorted([names[36], names[100]])
    assert sorted(path.name for path in folder.iterdir()) == sorted([names[1], names[34], *others])
    # However old, the newest is kept: a job that stopped making backups never leaves none.
    assert backup.prune(str(folder), keep_days=35, now=now + timedelta(days=400)) != []
    assert (folder / names[1]).exists()


def test_backups_job_writes_a_backup_and_prunes(demo, runner, tmp_path):
    """`flask jobs run --job backups` writes into BACKUP_FOLDER and removes backups past BACKUP_KEEP_DAYS."""
    folder = tmp_path / "scheduled"
    demo.config.update(BACKUP_FOLDER=str(folder), BACKUP_KEEP_DAYS=35)
    folder.mkdir()
    old = folder / backup.backup_name(datetime.now(timezone.utc) - timedelta(days=40))
    old.write_bytes(b"old")
    result = runner.invoke(args=["jobs", "run", "--job", "backups", "--verbose"])
    assert result.exit_code == 0, result.output
    assert "removed 1 backups older than 35 days" in result.output
    made = [path for path in folder.iterdir() if backup_format.NAME.match(path.name)]
    assert len(made) == 1 and not old.exists()
    backup.check(str(made[0]))


# --- refusals --------------------------------------------------------------------------------------


@pytest.fixture
def made(demo, tmp_path):
    """Make a backup of the six demo listings; return its path."""
    path, _ = backup.create(str(tmp_path / "made"))
    return path


def refused(path: Path, message: str, **options) -> None:
    """Check a restore of ``path`` is refused with ``message`` and leaves the database as it was."""
    before = every_row()
    with pytest.raises(BackupError, match=message):
        backup_restore.restore(str(path), **options)
    assert every_row() == before


def test_damaged_files_are_refused_and_nothing_changes(made, tmp_path):
    """Cut short, a byte changed, a part rewritten, the manifest edited, not a backup at all: each refused."""
    data = made.read_bytes()
    everything = {"force": True, "other_site": True}
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    refused(tmp_path / "cut.zip", "incomplete", **everything)
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0x55
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    refused(tmp_path / "flipped.zip", "damaged|changed", **everything)
    edited = rewrite(made, tmp_path / "edited.zip",
                     lambda name, member: member[:40] + bytes([member[40] ^ 1]) + member[41:]
                     if name == "database/listing.jsonl" else member)
    refused(edited, "database/listing.jsonl has been changed or damaged", **everything)

    def edit_manifest(name, member):
        if name != "manifest.json":
            return member
        manifest = json.loads(member)
        manifest["tables"][0]["rows"] += 1
        return json.dumps(manifest).encode()

    refused(rewrite(made, tmp_path / "manifest.zip", edit_manifest), "manifest has been edited", **everything)
    (tmp_path / "notes.txt").write_text("not a backup")
    refused(tmp_path / "notes.txt", "not a Local Offer backup", **everything)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("hello.txt", "hello")
    refused(tmp_path / "other.zip", "not a Local Offer backup", **everything)
    refused(_add_member(made, tmp_path / "extra.zip"), "parts its manifest does not list", **everything)
    refused(tmp_path / "missing.zip", "There is no file", **everything)


def _add_member(source: Path, target: Path) -> Path:
    """Copy a backup with one file added that its manifest does not list."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(info.filename, old.read(info.filename))
        new.writestr("instance/uploads/extra.csv", "a,b\r\n")
    return target


def test_newer_schema_other_site_and_occupied_database_are_refused(made, tmp_path, demo):
    """A newer version's backup, another site's, and one over a directory without --force: refused, unchanged."""
    def newer(name, member):
        if name != "manifest.json":
            return member
        manifest = json.loads(member)
        manifest["schema_revision"] = "0099_from_the_future"
        return resealed(manifest)

    refused(rewrite(made, tmp_path / "newer.zip", newer), "newer version of Local Offer", force=True)
    refused(made, "already holds a directory")
    demo.config["PUBLIC_URL"] = "https://staging.example.gov.uk"
    refused(made, "another site.*--other-site", force=True)


def test_restore_failing_midway_changes_nothing(made, tmp_path, monkeypatch):
    """A failure after some tables are loaded rolls everything back: rows replaced (--force) or tables created."""
    real, loaded = backup_restore._load_table, []

    def failing(connection, inspector, backup_file, table, progress):
        if len(loaded) == 12:
            raise RuntimeError("the disk is full")
        loaded.append(table["name"])
        return real(connection, inspector, backup_file, table, progress)

    monkeypatch.setattr(backup_restore, "_load_table", failing)
    before = every_row()
    with pytest.raises(RuntimeError, match="disk is full"):
        backup_restore.restore(str(made), force=True)
    assert len(loaded) == 12 and every_row() == before
    loaded.clear()
    with other_app(tmp_path, "fresh"):
        with pytest.raises(RuntimeError, match="disk is full"):
            backup_restore.restore(str(made))
        assert len(loaded) == 12
        assert table_names() == set()  # the tables it created went with the rows
        monkeypatch.setattr(backup_restore, "_load_table", real)
        backup_restore.restore(str(made))
        assert without_restore_entries(every_row()) == before


def test_restore_refuses_a_database_at_another_revision(made, tmp_path):
    """A database whose tables are at another schema revision is refused, with what to do, and left alone."""
    with other_app(tmp_path, "older", migrated=True):
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '0015'"))
        before = every_row()
        with pytest.raises(BackupError, match="revision 0015.*empty one"):
            backup_restore.restore(str(made))
        assert every_row() == before


# --- the commands ----------------------------------------------------------------------------------


def test_backup_commands(made, runner, tmp_path, demo):
    """create, verify, list and restore: what they say and their exit codes."""
    result = runner.invoke(args=["backup", "create", "--to", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "Wrote " in result.output and "6 listings" in result.output
    assert "copy it off this server" in result.output
    written = next((tmp_path / "cli").iterdir())
    named = runner.invoke(args=["backup", "create", "--to", str(tmp_path / "mine.zip")])
    assert named.exit_code == 0 and (tmp_path / "mine.zip").exists()
    taken = runner.invoke(args=["backup", "create", "--to", str(tmp_path / "mine.zip")])
    assert taken.exit_code == 1 and "already exists" in taken.output

    verified = runner.invoke(args=["backup", "verify", str(written)])
    assert verified.exit_code == 0 and "complete and unchanged" in verified.output
    assert "schema revision" in verified.output
    (tmp_path / "cut.zip").write_bytes(written.read_bytes()[:1000])
    bad = runner.invoke(args=["backup", "verify", str(tmp_path / "cut.zip")])
    assert bad.exit_code == 1 and "incomplete" in bad.output and "Traceback" not in bad.output

    listed = runner.invoke(args=["backup", "list", "--folder", str(tmp_path / "cli")])
    assert listed.exit_code == 0 and written.name in listed.output
    (tmp_path / "cli" / backup.backup_name(datetime(2026, 1, 1, tzinfo=timezone.utc))).write_bytes(b"junk")
    assert "UNREADABLE" in runner.invoke(args=["backup", "list", "--folder", str(tmp_path / "cli")]).output
    assert "No backups" in runner.invoke(args=["backup", "list", "--folder", str(tmp_path / "none")]).output

    refused_restore = runner.invoke(args=["backup", "restore", str(written)])
    assert refused_restore.exit_code == 1
    assert "Nothing was restored" in refused_restore.output and "--force" in refused_restore.output
    restored = runner.invoke(args=["backup", "restore", str(written), "--force"])
    assert restored.exit_code == 0, restored.output
    assert "search index has been rebuilt" in restored.output and "Restart the site" in restored.output
    entry = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "backup.restored")).scalar_one()
    assert entry.changes["file"] == written.name and entry.changes["rows"] > 0


def test_the_privacy_notice_says_what_backups_hold_and_for_how_long(demo, client):
    """The privacy notice names what backups hold and keeps step with BACKUP_KEEP_DAYS's default."""
    words = text_of(client.get("/information/privacy-notice"))
    assert f"Copies are kept for {DEFAULTS['BACKUP_KEEP_DAYS']} days, then deleted." in words
    assert "secrets that check a second step when signing in" in words and "encrypted" in words


def test_a_sealed_manifest_missing_fields_is_refused(made, tmp_path):
    """A manifest whose checksum is right but which lacks what a restore reads is refused, not a traceback."""
    def hollow(name, member):
        if name != "manifest.json":
            return member
        manifest = json.loads(member)
        del manifest["site"]
        manifest["tables"][0]["columns"][0][1] = "pickle"
        return resealed(manifest)

    refused(rewrite(made, tmp_path / "hollow.zip", hollow), "lacks what a backup's manifest holds",
            force=True, other_site=True)


#: What revisions after 0015 added: whole tables, and columns of tables that were there before.
TABLES_AFTER_0015 = ("consultation", "consultation_question", "consultation_response", "consultation_answer",
                     "district", "search_demand_area")
COLUMNS_AFTER_0015 = {"council_response": ("progress", "progress_updated_at"),
                      "search_log": ("concepts", "age_band", "area"),
                      "user": ("language",), "search_alert": ("language",), "feedback_contact": ("language",)}


def test_a_backup_from_an_older_version_is_restored_and_brought_up_to_date(full_demo, tmp_path):
    """A backup at revision 0015 (before council responses had progress) loads at 0015, then is upgraded."""
    before = every_row()
    path, manifest = backup.create(str(tmp_path / "now"))
    old_manifest = {key: value for key, value in manifest.items() if key != "checksum"}
    dropped = {}
    for table in manifest["tables"]:
        if table["name"] in COLUMNS_AFTER_0015:
            dropped[table["name"]] = [index for index, (name, _) in enumerate(table["columns"])
                                      if name in COLUMNS_AFTER_0015[table["name"]]]
            assert len(dropped[table["name"]]) == len(COLUMNS_AFTER_0015[table["name"]])
            table["columns"] = [column for index, column in enumerate(table["columns"])
                                if index not in dropped[table["name"]]]
    assert manifest["tables"][[t["name"] for t in manifest["tables"]].index("council_response")]["rows"]
    old_manifest["tables"] = [table for table in manifest["tables"] if table["name"] not in TABLES_AFTER_0015]
    later_members = {f"database/{name}.jsonl" for name in TABLES_AFTER_0015}

    def as_of_0015(name, member):
        table = name.removeprefix("database/").removesuffix(".jsonl")
        if table in dropped:
            lines = [json.loads(line) for line in member.decode().splitlines()]
            return "".join(json.dumps([value for index, value in enumerate(line) if index not in dropped[table]])
                           + "\n" for line in lines).encode()
        return member

    older = rewrite(path, tmp_path / "older.zip", as_of_0015)
    old_manifest["schema_revision"] = "0015"
    old_manifest["members"] = {name: value for name, value in manifest["members"].items()
                               if name not in later_members}
    with zipfile.ZipFile(older) as archive:
        for table in dropped:
            data = archive.read(f"database/{table}.jsonl")
            old_manifest["members"][f"database/{table}.jsonl"] = {
                "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    with zipfile.ZipFile(older) as old, zipfile.ZipFile(tmp_path / "final.zip", "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename in later_members:
                continue
            data = resealed(old_manifest) if info.filename == "manifest.json" else old.read(info.filename)
            new.writestr(info.filename, data)
    final = tmp_path / "final.zip"

    with other_app(tmp_path, "upgraded"):
        report = backup_restore.restore(str(final))
        assert report.created_tables
        assert db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == manifest[
            "schema_revision"]
        after = without_restore_entries(every_row())
        columns = [column.name for column in db.metadata.tables["council_response"].columns]
        progress = columns.index("progress")
        assert {row[progress].value for row in after["council_response"]} == {"planned"}
        assert all(not after[name] for name in TABLES_AFTER_0015)
        changed = set(TABLES_AFTER_0015) | set(COLUMNS_AFTER_0015)
        assert {name: rows for name, rows in after.items() if name not in changed} == {
            name: rows for name, rows in before.items() if name not in changed}


def test_restore_says_what_to_do_when_the_environment_sets_another_key(made, monkeypatch, instance_path):
    """With LOCAL_OFFER_SECRET_KEY set to another key, the restore says the operator must change or unset it."""
    (instance_path / "secret_key").write_text("the key before\n")
    monkeypatch.setenv("LOCAL_OFFER_SECRET_KEY", "a-key-of-the-environment")
    report = backup_restore.restore(str(made), force=True)
    assert any("LOCAL_OFFER_SECRET_KEY is set and is not the backup's key" in note for note in report.notes)
    assert (instance_path / "secret_key").read_text().strip() == "test-secret-key"
    assert (instance_path / "secret_key.before-restore").read_text() == "the key before\n"
    assert stat.S_IMODE((instance_path / "secret_key.before-restore").stat().st_mode) == 0o600
