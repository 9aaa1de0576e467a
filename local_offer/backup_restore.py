"""Restoring a backup: every check first, then the database in one transaction, then the instance files.

See ``backup`` for what a backup holds.  The order is what makes a restore all or nothing:

1. the file: every part's checksum, the manifest's own checksum (``backup_format``);
2. the backup: a schema revision this code has (not a newer version's), this site's public address
   (unless ``other_site``);
3. the database, inside one transaction: tables at the backup's revision (created there when the
   database has none), no directory in it already (unless ``force``), every row loaded, sequences
   moved past the ids, the schema brought up to date, then one commit.  Any failure rolls all of it
   back, table creation included, on SQLite and PostgreSQL alike;
4. after the commit: the audit entry, the secret key, config.py and uploads, the search index.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from local_offer import backup_format as fmt
from local_offer.backup import (BATCH, REBUILDABLE, Progress, current_revision, known_revision, migrate_to,
                                migration_scripts, progress_bar)
from local_offer.backup_format import Backup, BackupError
from local_offer.extensions import db
from local_offer.models import record_audit


@dataclass
class Restored:
    """What a restore did, for the command to say."""

    manifest: dict
    rows: int = 0
    created_tables: bool = False
    emptied: dict = field(default_factory=dict)
    index_rebuilt: bool = False
    notes: list[str] = field(default_factory=list)


def restore(path: str, *, force: bool = False, other_site: bool = False, progress: Progress = None) -> Restored:
    """Restore a backup into this site's database and instance folder, all or nothing; raise BackupError if refused."""
    with fmt.open_backup(path) as backup:
        backup.verify(progress(f"Checking {Path(path).name}") if progress else None)
        manifest = backup.manifest
        _, script = migration_scripts()
        revision = manifest["schema_revision"]
        if not known_revision(script, revision):
            raise BackupError(
                f"This backup was made by a newer version of Local Offer (schema revision {revision}, which this "
                f"version does not have; its newest is {script.get_current_head()}). Install that version or a "
                "later one, then restore.")
        site = manifest["site"]
        here = current_app.config["PUBLIC_URL"]
        if site["public_url"] != here and not other_site:
            raise BackupError(
                f"This backup is of another site: {site['council_name']} at {site['public_url']}, and this one is "
                f"{here}. If you mean to put that site's directory here (a live site's backup onto staging, or onto "
                "a new server before its address moves), run the restore again with --other-site.")
        report = Restored(manifest)
        _restore_database(backup, report, force, progress)
    _after_commit(path, report, progress)
    return report


# --- the database ----------------------------------------------------------------------------------


def _restore_database(backup: Backup, report: Restored, force: bool, progress: Progress) -> None:
    """Do every database step in one transaction, committed only when all succeeded."""
    db.session.remove()
    with db.engine.connect() as plain:
        sqlite = plain.dialect.name == "sqlite"
        if sqlite:
            # pysqlite would run table creation outside any transaction: take the transaction into our hands,
            # with the write lock from the start so no other writer slips in between the checks and the load.
            connection = plain.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection = plain
            connection.begin()
        try:
            _load(connection, backup, report, force, progress)
            connection.exec_driver_sql("COMMIT") if sqlite else connection.commit()
        except BaseException as error:
            try:
                connection.exec_driver_sql("ROLLBACK") if sqlite else connection.rollback()
            except sa.exc.DBAPIError:
                pass  # SQLite has already rolled back after some errors
            if isinstance(error, sa.exc.SQLAlchemyError):
                first = (str(getattr(error, "orig", None) or error).strip().splitlines() or [""])[0]
                raise BackupError(f"The database refused the restore, so it was left as it was: {first}") from error
            raise


def _load(connection: sa.Connection, backup: Backup, report: Restored, force: bool, progress: Progress) -> None:
    """Check the target database, then load every table (inside the caller's transaction)."""
    revision = backup.manifest["schema_revision"]
    existing = set(sa.inspect(connection).get_table_names())
    current = current_revision(connection)
    if not existing - {"alembic_version"}:
        migrate_to(connection, revision)
        report.created_tables = True
    elif current != revision:
        raise BackupError(
            f"This database is at schema revision {current or 'none'}, and the backup at {revision}: a backup "
            "goes into a database at its own revision, or into an empty one (no tables at all), which the "
            "restore creates at the backup's revision and then brings up to date. Point LOCAL_OFFER_DATABASE_URL "
            "at a new, empty database (or drop this one's tables) and restore again.")
    inspector = sa.inspect(connection)
    tables = backup.tables
    for table in tables:
        _check_columns(inspector, table)
    occupied = {}
    for table in tables:
        count = connection.execute(sa.select(sa.func.count()).select_from(sa.table(table["name"]))).scalar_one()
        if count:
            occupied[table["name"]] = count
    directory = {name: count for name, count in occupied.items() if name not in REBUILDABLE}
    if directory and not force:
        named = ", ".join(f"{count} in {name}" for name, count in sorted(directory.items())[:6])
        raise BackupError(
            f"This database already holds a directory ({named}{', ...' if len(directory) > 6 else ''}). Restoring "
            "would replace all of it. If that is what you mean, run the restore again with --force (back this "
            "database up first: `flask backup create`).")
    for table in reversed(tables):
        if table["name"] in occupied:
            connection.execute(sa.table(table["name"]).delete())
    report.emptied = occupied
    for table in tables:
        report.rows += _load_table(connection, inspector, backup, table, progress)
    if connection.dialect.name == "postgresql":
        _move_sequences(connection, tables)
    _, script = migration_scripts()
    if revision != script.get_current_head():
        migrate_to(connection, script.get_current_head())


def _check_columns(inspector, table: dict) -> None:
    """Refuse a table whose columns in the database are not those the backup holds."""
    name = table["name"]
    if not inspector.has_table(name):
        raise BackupError(f"The backup holds the table {name}, which the database at its revision does not have.")
    present = {column["name"] for column in inspector.get_columns(name)}
    wanted = {column for column, _ in table["columns"]}
    if present != wanted:
        raise BackupError(f"The table {name} has other columns in the database than in the backup "
                          f"(only in the database: {sorted(present - wanted)}; only in the backup: "
                          f"{sorted(wanted - present)}), though both are at the same schema revision.")


def _load_table(connection: sa.Connection, inspector, backup: Backup, table: dict, progress: Progress) -> int:
    """Insert a table's rows in batches; rows pointing at rows of their own table get those links afterwards."""
    name, columns = table["name"], table["columns"]
    codecs = [codec for _, codec in columns]
    target = sa.table(name, *(sa.column(column, fmt.load_type(codec)) for column, codec in columns))
    names = [column for column, _ in columns]
    key = inspector.get_pk_constraint(name)["constrained_columns"]
    own = sorted({column for foreign in inspector.get_foreign_keys(name) if foreign["referred_table"] == name
                  for column in foreign["constrained_columns"]})
    links, batch, rows = [], [], 0
    lines = backup.lines(fmt.table_member(name))
    for line in progress_bar(progress, f"Restoring {name}", lines, table["rows"]):
        values = json.loads(line)
        if len(values) != len(names):
            raise BackupError(f"A row of the table {name} in the backup has {len(values)} values, not {len(names)}.")
        row = {column: fmt.decode(codec, value) for column, codec, value in zip(names, codecs, values)}
        if own and any(row[column] is not None for column in own):
            links.append({**{f"k_{column}": row[column] for column in key},
                          **{f"v_{column}": row[column] for column in own}})
            row.update({column: None for column in own})
        batch.append(row)
        if len(batch) >= BATCH:
            connection.execute(target.insert(), batch)
            rows, batch = rows + len(batch), []
    if batch:
        connection.execute(target.insert(), batch)
        rows += len(batch)
    if rows != table["rows"]:
        raise BackupError(f"The backup's table {name} holds {rows} rows, not the {table['rows']} its manifest says.")
    if links:
        condition = sa.and_(*(target.c[column] == sa.bindparam(f"k_{column}") for column in key))
        connection.execute(target.update().where(condition).values(
            {column: sa.bindparam(f"v_{column}") for column in own}), links)
    return rows


def _move_sequences(connection: sa.Connection, tables: list[dict]) -> None:
    """Set each numbered table's sequence just past its highest id, so new rows never collide with restored ones."""
    for table in tables:
        key = sa.inspect(connection).get_pk_constraint(table["name"])["constrained_columns"]
        codecs = dict(table["columns"])
        if len(key) != 1 or codecs.get(key[0]) != "int":
            continue
        name, column = table["name"], key[0]
        connection.execute(sa.text(
            f'SELECT setval(seq, COALESCE((SELECT MAX("{column}") FROM "{name}"), 0) + 1, false) '
            "FROM (SELECT pg_get_serial_sequence(:table, :column) AS seq) AS s WHERE seq IS NOT NULL"),
            {"table": f'"{name}"', "column": column})


# --- after the commit ------------------------------------------------------------------------------


def _after_commit(path: str, report: Restored, progress: Progress) -> None:
    """Record the restore, put the instance files back and rebuild the search index."""
    manifest = report.manifest
    record_audit("backup.restored", "backup", None, changes={
        "file": os.path.basename(path), "made": manifest["created_at"], "site": manifest["site"]["public_url"],
        "schema_revision": manifest["schema_revision"], "rows": report.rows})
    db.session.commit()
    with fmt.open_backup(path) as backup:
        _restore_secret_key(backup, report)
        _restore_files(backup, report)
    from local_offer.search import get_service

    try:
        get_service().rebuild(progress=progress("Rebuilding the search index") if progress else None)
        report.index_rebuilt = True
    except Exception as error:  # the restore itself is done and committed: say what is left to do
        current_app.logger.exception("Rebuilding the search index after a restore failed")
        report.notes.append(f"The data is restored, but the search index could not be rebuilt ({error}): "
                            "run `flask index rebuild` before opening the site.")


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, whole or not at all (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _restore_secret_key(backup: Backup, report: Restored) -> None:
    """Put the backup's secret key in the instance folder (the previous one kept beside it) and say what follows."""
    key = backup.read(fmt.SECRET_KEY_MEMBER)
    path = Path(current_app.instance_path) / "secret_key"
    if path.exists() and path.read_bytes().strip() != key.strip():
        shutil.copy2(path, path.with_name("secret_key.before-restore"))
        os.chmod(path.with_name("secret_key.before-restore"), 0o600)
        report.notes.append(f"The previous secret key is kept in {path.with_name('secret_key.before-restore')}.")
    _write_private(path, key)
    environment = os.environ.get("LOCAL_OFFER_SECRET_KEY")
    if environment is not None and environment.strip() != key.decode("utf-8").strip():
        report.notes.append(
            "LOCAL_OFFER_SECRET_KEY is set and is not the backup's key, which the restored database records: "
            "servers will refuse to start with it, and sign-ins and emailed links made before the backup would not "
            "work. To use the backup's key, set "
            f"LOCAL_OFFER_SECRET_KEY to the key now in {path} (or unset it), then restart the site.")
    else:
        report.notes.append(f"The backup's secret key is in {path}: restart the site to use it.")


def _restore_files(backup: Backup, report: Restored) -> None:
    """Put config.py (beside an existing one, never over it) and the waiting uploads back."""
    instance = Path(current_app.instance_path)
    members = backup.manifest["members"]
    if fmt.CONFIG_MEMBER in members:
        config = backup.read(fmt.CONFIG_MEMBER)
        target = instance / "config.py"
        if target.exists() and target.read_bytes() != config:
            target = instance / "config.py.from-backup"
            report.notes.append(f"This instance has a config.py of its own, left as it was; the backup's is in "
                                f"{target}: compare the two and merge what you need.")
        _write_private(target, config)
    uploads = [name for name in members if name.startswith(fmt.UPLOADS_PREFIX)]
    for name in uploads:
        _write_private(instance / "uploads" / name[len(fmt.UPLOADS_PREFIX):], backup.read(name))
