"""Test databases: made and migrated once per run, then emptied or refilled per test in milliseconds.

A test database is a SQLite file in a temporary folder or, when
``LOCAL_OFFER_TEST_DATABASE_URL`` is set, a PostgreSQL schema of its own in
that database (dropped at the end of the run).

A *snapshot* keeps a copy of a database's rows once a state has been built
(the six demo listings, the whole demo directory): a file made by SQLite's
``VACUUM INTO``, or a PostgreSQL schema of plain table copies.  Filling a
database from a snapshot is one ``INSERT ... SELECT`` per table inside the
database itself, so no row passes through Python and no value is converted.
Rows are copied with their ids, so PostgreSQL's sequences are moved past them.

Content tables are everything but the gazetteer: postcodes and places are
reference data built from packaged files, kept between tests and never in
snapshots (see ``GAZETTEER``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from local_offer import models  # noqa: F401  (registers every table with the metadata)
from local_offer.extensions import db

POSTGRES_URL = os.environ.get("LOCAL_OFFER_TEST_DATABASE_URL")
GAZETTEER = frozenset({"postcode", "postcode_sector", "outward_code", "gazetteer_area", "place", "place_name"})


def content_tables() -> list[sa.Table]:
    """Return every table but the gazetteer's, parents before children."""
    return [table for table in db.metadata.sorted_tables if table.name not in GAZETTEER]


def gazetteer_tables() -> list[sa.Table]:
    """Return the gazetteer's tables, parents before children."""
    return [table for table in db.metadata.sorted_tables if table.name in GAZETTEER]


def with_options(url: str, schema: str) -> str:
    """Return a PostgreSQL URL whose connections use the schema and commit without waiting for the disk."""
    separator = "&" if "?" in url else "?"
    # Tests never need a commit to survive a power cut; not waiting for it halves the time of a commit.
    return f"{url}{separator}options={quote(f'-csearch_path={schema} -csynchronous_commit=off')}"


def no_disk_sync(engine: sa.Engine) -> None:
    """Let a SQLite test database skip fsync on commit (a throwaway file need not survive a crash)."""
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA synchronous = OFF"))


@dataclass(frozen=True)
class Snapshot:
    """Where a copy of a database's content rows is kept: a SQLite file or a PostgreSQL schema."""

    path: Path | None = None
    schema: str | None = None


class Database:
    """One database for tests: a SQLite file in a folder, or a PostgreSQL schema of its own."""

    def __init__(self, folder: Path, name: str, sqlite: bool = False):
        """Name the database (on PostgreSQL when the run asks for it, unless ``sqlite``); create nothing yet."""
        self.folder = folder
        self.name = name
        self.snapshots: list[Snapshot] = []
        self.path = folder / f"{name}.sqlite3"
        if POSTGRES_URL and not sqlite:
            self.schema = f"{name}_{uuid.uuid4().hex[:12]}"
            self.url = with_options(POSTGRES_URL, self.schema)
        else:
            self.schema = None
            self.url = "sqlite:///" + str(self.path)

    @property
    def is_sqlite(self) -> bool:
        """Say whether this database is a SQLite file."""
        return self.schema is None

    def create(self) -> None:
        """Create the empty database (a SQLite file appears by itself on first use)."""
        if not self.is_sqlite:
            self._admin(f'CREATE SCHEMA "{self.schema}"')

    def drop(self) -> None:
        """Remove the database's PostgreSQL schemas (temporary folders take the SQLite files)."""
        if not self.is_sqlite:
            schemas = [self.schema] + [snapshot.schema for snapshot in self.snapshots]
            self._admin(*(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE' for schema in schemas))

    @staticmethod
    def _admin(*statements: str) -> None:
        """Run statements on the PostgreSQL server outside any test schema."""
        engine = sa.create_engine(POSTGRES_URL)
        try:
            with engine.begin() as connection:
                for statement in statements:
                    connection.execute(sa.text(statement))
        finally:
            engine.dispose()

    def snapshot(self, engine: sa.Engine, name: str) -> Snapshot:
        """Copy the content rows aside as they are now, to fill this or another database from later."""
        if self.is_sqlite:
            snapshot = Snapshot(path=self.folder / f"{self.name}-{name}.sqlite3")
            with engine.connect() as connection:
                connection.exec_driver_sql("VACUUM INTO ?", (str(snapshot.path),))
        else:
            snapshot = Snapshot(schema=f"{self.schema}_{name}")
            with engine.begin() as connection:
                connection.exec_driver_sql(f'CREATE SCHEMA "{snapshot.schema}"')
                for table in content_tables():
                    connection.exec_driver_sql(f'CREATE TABLE "{snapshot.schema}"."{table.name}" '
                                               f'AS TABLE "{self.schema}"."{table.name}"')
        self.snapshots.append(snapshot)
        return snapshot


def reset_rows(engine: sa.Engine, tables: list[sa.Table] | None = None, fill_from: Snapshot | None = None) -> None:
    """Delete every row of the tables (content tables unless given), then copy in a snapshot's rows if given."""
    tables = content_tables() if tables is None else tables
    with engine.connect() as connection:
        source = _open(connection, fill_from)
        try:
            for table in reversed(tables):
                connection.execute(table.delete())
            if source:
                for table in tables:
                    columns = ", ".join(f'"{column.name}"' for column in table.columns)
                    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({columns}) '
                                               f'SELECT {columns} FROM {source}."{table.name}"')
            if connection.dialect.name == "postgresql":
                _move_sequences_past_ids(connection, tables)
            connection.commit()
        finally:
            if source == "snapshot":
                connection.rollback()
                connection.exec_driver_sql("DETACH DATABASE snapshot")


def _open(connection: sa.Connection, snapshot: Snapshot | None) -> str | None:
    """Make a snapshot readable on this connection; return how SQL names its schema."""
    if snapshot is None:
        return None
    if snapshot.path:
        # Before any write: SQLite cannot attach a file inside a transaction.
        connection.exec_driver_sql("ATTACH DATABASE ? AS snapshot", (str(snapshot.path),))
        return "snapshot"
    return f'"{snapshot.schema}"'


def _move_sequences_past_ids(connection: sa.Connection, tables: list[sa.Table]) -> None:
    """Set each numbered table's sequence just past its highest id, so copied ids never collide."""
    for table in tables:
        (column, *others) = table.primary_key.columns
        if others or column.autoincrement is False or not isinstance(column.type, sa.Integer):
            continue
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'), "
            f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)')


@contextmanager
def empty_database(folder: Path, prefix: str) -> Iterator[str]:
    """Yield the URL of a new, empty database: a SQLite file in folder, or a PostgreSQL schema."""
    database = Database(folder, prefix)
    database.create()
    try:
        yield database.url
    finally:
        database.drop()
