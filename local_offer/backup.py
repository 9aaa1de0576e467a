"""Backups: the whole site in one file, made on a schedule, checked, restored all or nothing, pruned.

``create`` reads every table in one consistent snapshot (a read-only repeatable-read transaction on
PostgreSQL, one read transaction on SQLite), streaming rows in batches so memory stays bounded
whatever the directory's size, and writes them with the instance's secret key, config.py and
waiting uploads into a zip made readable only by its owner from the start (``backup_format``).
Rows are written through SQLAlchemy, not pg_dump or a copy of the SQLite file, so a backup from
either database restores into the other.

``restore`` refuses before touching anything when a backup is damaged, edited, from a newer version,
from another site or going into a database that already holds a directory; then it does everything
to the database in one transaction: create the tables at the backup's schema revision when there
are none, empty the rebuildable tables (or, with ``force``, every table), load every row, move
PostgreSQL's sequences past the ids, bring the schema up to date.  Either all of it is committed or
none of it: SQLite and PostgreSQL both roll back table creation with the rows.  Only then are the
instance files put back and the search index rebuilt.

What is not backed up: the search index and its tables (``search/``, ``search-tables/``), compiled
templates (``template-cache/``), all rebuilt from the database; the development mail folder
(``outbox/``); and the backups folder itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from flask import current_app

from local_offer import backup_format as fmt
from local_offer.backup_format import BackupError
from local_offer.extensions import db
from local_offer.models import utcnow

#: Wraps an iterable in a progress bar with a label (or None: no bar), as ``jobs.Progress``.
Progress = Callable[[str], Callable[[Iterable], Iterable]] | None
#: Rows read, and written back, per batch.
BATCH = 2000
#: Tables rebuilt from packaged data or by the jobs themselves: emptied by a restore without asking.
REBUILDABLE = frozenset({"postcode", "postcode_sector", "outward_code", "gazetteer_area", "place", "place_name",
                         "scheduled_job"})
ZIP_CHUNK = 1 << 20


def progress_bar(progress: Progress, label: str, items, length: int):
    """Wrap ``items`` in a progress bar of ``length`` steps, when there is one to show."""
    if not progress:
        return items
    return progress(label)(_Sized(items, length))


class _Sized:
    """An iterable that says how long it is, so a progress bar can show how far along it is."""

    def __init__(self, items, length: int):
        self.items, self.length = items, length

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return self.length


# --- schema revisions ------------------------------------------------------------------------------


def migration_scripts() -> tuple:
    """Return Alembic's configuration and the migration scripts this code has."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return config, ScriptDirectory.from_config(config)


def current_revision(connection: sa.Connection) -> str | None:
    """Return the database's schema revision, or None when it has none."""
    return MigrationContext.configure(connection).get_current_revision()


def known_revision(script: ScriptDirectory, revision: str) -> bool:
    """Say whether this code's migrations include a revision."""
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def migrate_to(connection: sa.Connection, target: str) -> None:
    """Upgrade the schema to ``target`` on this connection, inside its transaction (nothing is committed)."""
    config, script = migration_scripts()

    def steps(revision, context):
        return script._upgrade_revs(target, revision)

    with EnvironmentContext(config, script, fn=steps, destination_rev=target) as environment:
        environment.configure(connection=connection, target_metadata=db.metadata, render_as_batch=True)
        with environment.begin_transaction():
            environment.run_migrations()


# --- making a backup -------------------------------------------------------------------------------


def backup_name(moment: datetime, attempt: int = 1) -> str:
    """Return a backup's file name for a moment (UTC), with -2, -3... for a second in the same minute."""
    suffix = f"-{attempt}" if attempt > 1 else ""
    return f"local-offer-backup-{moment.astimezone(timezone.utc).strftime(fmt.STAMP)}{suffix}.zip"


def _secret_key_source() -> str:
    """Say where the secret key in use comes from."""
    if os.environ.get("LOCAL_OFFER_SECRET_KEY") is not None:
        return "the LOCAL_OFFER_SECRET_KEY environment variable"
    path = Path(current_app.instance_path) / "secret_key"
    if path.exists() and path.read_text(encoding="utf-8").strip() == str(current_app.config["SECRET_KEY"]):
        return "the instance's secret_key file"
    return "the settings (config.py)"


class _Member:
    """A member being written into the zip: its bytes are counted and hashed on the way in."""

    def __init__(self, archive, name: str, members: dict):
        self.handle = archive.open(name, "w", force_zip64=True)
        self.name, self.members = name, members
        self.digest, self.size, self.buffer = hashlib.sha256(), 0, []

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.buffer.append(data)
        if len(self.buffer) >= 512:
            self.flush()

    def flush(self) -> None:
        self.handle.write(b"".join(self.buffer))
        self.buffer = []

    def close(self) -> None:
        self.flush()
        self.handle.close()
        self.members[self.name] = {"sha256": self.digest.hexdigest(), "bytes": self.size}


def _snapshot(connection: sa.Connection) -> sa.Connection:
    """Start one read transaction on the connection, so every table is read as at one moment."""
    if connection.dialect.name == "sqlite":
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql("BEGIN")
        return connection
    connection = connection.execution_options(isolation_level="REPEATABLE READ")
    connection.exec_driver_sql("SET TRANSACTION READ ONLY")
    return connection


def _write_table(connection: sa.Connection, archive, table: sa.Table, members: dict, progress: Progress) -> dict:
    """Write one table's rows into the zip, in primary-key order; return its manifest entry."""
    columns = list(table.columns)
    codecs = [fmt.codec_of(column.type) for column in columns]
    json_columns = [index for index, codec in enumerate(codecs) if codec == "json"]
    null_flags = [columns[index].is_(None).label(f"null_{index}") for index in json_columns]
    order = list(table.primary_key.columns) or columns
    total = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    result = connection.execution_options(yield_per=BATCH).execute(
        sa.select(*columns, *null_flags).order_by(*order))
    member, rows = _Member(archive, fmt.table_member(table.name), members), 0
    for batch in progress_bar(progress, f"Backing up {table.name}", result.partitions(), -(-total // BATCH)):
        for row in batch:
            encoded = [fmt.encode(codec, value) for codec, value in zip(codecs, row)]
            for index, is_null in zip(json_columns, row[len(columns):]):
                if is_null:
                    encoded[index] = None  # SQL NULL, not JSON null
            line = json.dumps(encoded, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
            member.write(line)
            rows += 1
    member.close()
    return {"name": table.name, "rows": rows,
            "columns": [[column.name, codec] for column, codec in zip(columns, codecs)]}


def _write_file(archive, name: str, path: Path, members: dict) -> None:
    """Copy a file from the instance folder into the zip."""
    member = _Member(archive, name, members)
    with open(path, "rb") as handle:
        while chunk := handle.read(ZIP_CHUNK):
            member.write(chunk)
    member.close()


def _target(to: str | None, moment: datetime) -> tuple[Path, str | None]:
    """Return the folder a backup goes into and the file name asked for (None: our own name)."""
    if not to:
        return Path(current_app.config["BACKUP_FOLDER"]), None
    path = Path(to).expanduser()
    if path.is_dir() or path.suffix.lower() != ".zip":
        return path, None
    if path.exists():
        raise BackupError(f"{path} already exists; give a new file name or a folder.")
    return path.parent, path.name


def create(to: str | None = None, progress: Progress = None) -> tuple[Path, dict]:
    """Back up the database, the secret key, config.py and uploads into one new file; return it and its manifest.

    ``to`` is a folder, made if need be (the file gets our dated name), or a new file's path ending in
    ``.zip``; by default ``BACKUP_FOLDER``.
    The file is readable and writable by its owner only, from the moment it exists.
    """
    moment = utcnow().replace(microsecond=0)
    folder, name = _target(to, moment)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = folder / f".local-offer-backup-{secrets.token_hex(6)}.partial"
    descriptor = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w+b") as handle:
            manifest = _write_backup(handle, moment, progress)
            handle.flush()
            os.fsync(handle.fileno())
        final = _place(partial, folder, name, moment)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return final, manifest


def _write_backup(handle, moment: datetime, progress: Progress) -> dict:
    """Write the backup's members and manifest into an open file; return the manifest."""
    _, script = migration_scripts()
    members: dict = {}
    db.session.remove()
    with db.engine.connect() as plain, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED,
                                                            compresslevel=6) as archive:
        connection = _snapshot(plain)
        revision = current_revision(connection)
        if revision != script.get_current_head():
            raise BackupError(f"The database is at schema revision {revision}, not {script.get_current_head()} as "
                              "this version of Local Offer expects: run `flask db upgrade` first, then back up.")
        tables = [_write_table(connection, archive, table, members, progress) for table in db.metadata.sorted_tables]
        connection.rollback()
        instance = Path(current_app.instance_path)
        member = _Member(archive, fmt.SECRET_KEY_MEMBER, members)
        member.write(str(current_app.config["SECRET_KEY"]).encode("utf-8") + b"\n")
        member.close()
        if (instance / "config.py").is_file():
            _write_file(archive, fmt.CONFIG_MEMBER, instance / "config.py", members)
        uploads = instance / "uploads"
        for path in sorted(uploads.rglob("*")) if uploads.is_dir() else []:
            if path.is_file():
                _write_file(archive, fmt.UPLOADS_PREFIX + path.relative_to(uploads).as_posix(), path, members)
        body = {"format": fmt.FORMAT, "format_version": fmt.FORMAT_VERSION,
                "created_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "schema_revision": revision,
                "database": connection.dialect.name, "tables": tables, "members": members,
                "site": {"public_url": current_app.config["PUBLIC_URL"],
                         "council_name": current_app.config["COUNCIL_NAME"]},
                "secret_key_source": _secret_key_source()}
        archive.writestr(fmt.MANIFEST, fmt.manifest_bytes(body))
    return dict(body, checksum=fmt.manifest_checksum(body))


def _place(partial: Path, folder: Path, name: str | None, moment: datetime) -> Path:
    """Give the finished file its name without ever replacing another file; return its path."""
    for attempt in range(1, 100):
        final = folder / (name or backup_name(moment, attempt))
        try:
            os.link(partial, final)
        except FileExistsError:
            if name:
                raise BackupError(f"{final} already exists; give a new file name or a folder.") from None
            continue
        partial.unlink()
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return final
    raise BackupError(f"Too many backups in {folder} for {moment:%Y-%m-%d %H:%M}.")


# --- reading ---------------------------------------------------------------------------------------


def check(path: str, progress: Progress = None) -> dict:
    """Open a backup and check every part against its manifest; return the manifest or raise BackupError."""
    with fmt.open_backup(path) as backup:
        backup.verify(progress(f"Checking {Path(path).name}") if progress else None)
        return backup.manifest


@dataclass
class Listed:
    """A file in the backups folder: its manifest, or why it could not be read."""

    path: Path
    made: datetime
    manifest: dict | None = None
    problem: str = ""


def list_backups(folder: str | None = None) -> list[Listed]:
    """Return our backups in a folder (``BACKUP_FOLDER`` by default), newest first, manifests read (not checked)."""
    found = []
    for path, made in _ours(Path(folder or current_app.config["BACKUP_FOLDER"])):
        item = Listed(path, made)
        try:
            with fmt.open_backup(str(path)) as backup:
                item.manifest = backup.manifest
        except BackupError as error:
            item.problem = str(error)
        found.append(item)
    return sorted(found, key=lambda item: item.path.name, reverse=True)


def _ours(folder: Path) -> list[tuple[Path, datetime]]:
    """Return the files in a folder named as our backups are, with the moment in each name."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = fmt.NAME.match(path.name)
        if match and path.is_file():
            found.append((path, datetime.strptime(match.group(1), fmt.STAMP).replace(tzinfo=timezone.utc)))
    return found


def prune(folder: str | None = None, keep_days: int | None = None, now: datetime | None = None) -> list[Path]:
    """Remove our backups older than ``keep_days`` (``BACKUP_KEEP_DAYS``) from a folder; return what went.

    Only files named as our backups are touched, by the moment in their names, and the newest is
    always kept (so a job that has stopped making backups never leaves none).  Unfinished files a
    crashed backup left (``.local-offer-backup-*.partial``) go once a day old.
    """
    folder_path = Path(folder or current_app.config["BACKUP_FOLDER"])
    days = keep_days if keep_days is not None else current_app.config["BACKUP_KEEP_DAYS"]
    now = now or utcnow()
    ours = sorted(_ours(folder_path), key=lambda item: item[1])
    removed = []
    for path, made in ours[:-1]:
        if now - made > timedelta(days=days):
            path.unlink()
            removed.append(path)
    for path in folder_path.glob(".local-offer-backup-*.partial") if folder_path.is_dir() else []:
        if now.timestamp() - path.stat().st_mtime > 86400:
            path.unlink()
            removed.append(path)
    return removed
