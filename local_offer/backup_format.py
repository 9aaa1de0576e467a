"""The backup file: one zip whose ``manifest.json`` names, counts and checksums everything in it.

Members:

* ``manifest.json``: the format version, when and from which site and database it was made, the
  schema revision, each table's columns (with how each is written) and row count, the SHA-256 and
  size of every other member, and a SHA-256 of the manifest's own body;
* ``database/<table>.jsonl``: one JSON array per row, the columns in the manifest's order, each
  value written by its column's codec (times in ISO 8601 with their UTC offset, bytes in base64,
  decimals as text, JSON columns wrapped in a one-item list so SQL NULL and JSON null stay apart);
* ``instance/secret_key``, ``instance/config.py`` (when there is one), ``instance/uploads/...``.

A zip keeps its table of contents at the end: a truncated file has none and is refused at once,
and the manifest is read without decompressing the rest.  Checksums find damage and edits; they
cannot prove who made a file (anyone able to edit it can recompute them), which is why backups are
kept where only the people who restore them can write.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePosixPath

import sqlalchemy as sa

from local_offer.models.base import UTCDateTime

FORMAT = "local-offer-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_PREFIX = "database/"
SECRET_KEY_MEMBER = "instance/secret_key"
CONFIG_MEMBER = "instance/config.py"
UPLOADS_PREFIX = "instance/uploads/"
#: Our backups' names: local-offer-backup-2026-12-06T0300Z.zip (-2, -3... when two start in one minute).
NAME = re.compile(r"^local-offer-backup-(\d{4}-\d{2}-\d{2}T\d{4}Z)(?:-\d+)?\.zip$")
STAMP = "%Y-%m-%dT%H%MZ"
READ_CHUNK = 1 << 20


class BackupError(Exception):
    """A backup cannot be made, read or restored; the message says why, in words, and nothing was changed."""


# --- values ----------------------------------------------------------------------------------------


def codec_of(column_type: sa.types.TypeEngine) -> str:
    """Name how a column's values are written in a backup (refusing a type we do not know how to keep)."""
    if isinstance(column_type, UTCDateTime):
        return "utc-datetime"
    if isinstance(column_type, sa.types.TypeDecorator):
        column_type = column_type.impl_instance
    for kind, codec in ((sa.JSON, "json"), (sa.Enum, "enum"), (sa.Boolean, "bool"), (sa.DateTime, "datetime"),
                        (sa.Date, "date"), (sa.Time, "time"), (sa.Float, "float"), (sa.Numeric, "decimal"),
                        (sa.Integer, "int"), (sa.LargeBinary, "bytes"), (sa.String, "str")):
        if isinstance(column_type, kind):
            return codec
    raise BackupError(f"A column of type {column_type!r} cannot be written to a backup yet.")


def encode(codec: str, value):
    """Return a column's value as JSON can hold it, given its codec."""
    if codec == "json":
        return [value]  # SQL NULL is read with a flag; see backup.read_rows
    if value is None:
        return None
    if codec in ("utc-datetime", "datetime", "date", "time"):
        return value.isoformat()
    if codec == "decimal":
        return str(value)
    if codec == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if codec == "enum":
        return value.value if hasattr(value, "value") else value
    return value


_JSON_NULL = sa.JSON(none_as_null=True)


def decode(codec: str, value):
    """Return a stored value as the database takes it back (the reverse of ``encode``)."""
    if codec == "json":
        if value is None:
            return None
        return sa.JSON.NULL if value[0] is None else value[0]
    if value is None:
        return None
    if codec in ("utc-datetime", "datetime"):
        return datetime.fromisoformat(value)
    if codec == "date":
        return date.fromisoformat(value)
    if codec == "time":
        return time.fromisoformat(value)
    if codec == "decimal":
        return Decimal(value)
    if codec == "bytes":
        return base64.b64decode(value)
    return value


_CODECS = frozenset({"utc-datetime", "datetime", "date", "time", "decimal", "bytes", "json", "bool", "int", "float",
                     "enum", "str"})


def load_type(codec: str) -> sa.types.TypeEngine:
    """Return the type a value is written back with (independent of today's models, so older backups load)."""
    return {"utc-datetime": UTCDateTime(), "datetime": sa.DateTime(), "date": sa.Date(), "time": sa.Time(),
            "decimal": sa.Numeric(asdecimal=True), "bytes": sa.LargeBinary(), "json": _JSON_NULL,
            "bool": sa.Boolean(), "int": sa.Integer(), "float": sa.Float(), "enum": sa.String(),
            "str": sa.String()}[codec]


# --- the manifest ----------------------------------------------------------------------------------


def manifest_checksum(body: dict) -> str:
    """Return the SHA-256 of a manifest's body (every key but the checksum), written canonically."""
    text = json.dumps({key: value for key, value in body.items() if key != "checksum"},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_bytes(body: dict) -> bytes:
    """Return the manifest file: the body with its checksum, readable by people."""
    sealed = dict(body, checksum=manifest_checksum(body))
    return json.dumps(sealed, sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8")


def table_member(name: str) -> str:
    """Return the member that holds a table's rows."""
    return f"{DATABASE_PREFIX}{name}.jsonl"


def _safe_member(name: str) -> bool:
    """Say whether a member's name is one a restore may write (no absolute paths, no '..')."""
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and "\\" not in name and path.parts[0] in (
        "database", "instance")


@dataclass
class Backup:
    """An opened backup file, its manifest read and checked (``verify`` then checks every member)."""

    path: str
    archive: zipfile.ZipFile
    manifest: dict

    def close(self) -> None:
        """Close the file."""
        self.archive.close()

    def __enter__(self) -> Backup:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def tables(self) -> list[dict]:
        """Return each table in the backup, parents before children: name, rows and columns."""
        return self.manifest["tables"]

    def verify(self, progress=None) -> None:
        """Check every member against the manifest's checksum and size; raise BackupError naming the first bad one."""
        members = self.manifest["members"]
        names = list(members)
        for name in (progress(names) if progress else names):
            digest, size = hashlib.sha256(), 0
            try:
                with self.archive.open(name) as handle:
                    while chunk := handle.read(READ_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
                raise BackupError(f"{self.path}: the part {name} is damaged ({error}).") from error
            if digest.hexdigest() != members[name]["sha256"] or size != members[name]["bytes"]:
                raise BackupError(f"{self.path}: the part {name} has been changed or damaged since the backup was "
                                  "made (its checksum does not match the manifest).")

    def lines(self, name: str) -> Iterator[bytes]:
        """Yield the lines of a member."""
        with self.archive.open(name) as handle:
            yield from handle

    def read(self, name: str) -> bytes:
        """Return a (small) member whole."""
        return self.archive.read(name)


def open_backup(path: str) -> Backup:
    """Open a backup and check its manifest (format, checksum, members); raise BackupError saying what is wrong."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError as error:
        raise BackupError(f"There is no file {path}.") from error
    except IsADirectoryError as error:
        raise BackupError(f"{path} is a folder, not a backup file.") from error
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise BackupError(f"{path} is not a Local Offer backup, or it is incomplete (cut short while copying?): "
                          f"it has no readable table of contents ({error}).") from error
    try:
        manifest = _read_manifest(path, archive)
    except BackupError:
        archive.close()
        raise
    return Backup(path, archive, manifest)


def _read_manifest(path: str, archive: zipfile.ZipFile) -> dict:
    """Read and check the manifest of an opened zip."""
    names = set(archive.namelist())
    if MANIFEST not in names:
        raise BackupError(f"{path} is a zip file but not a Local Offer backup (it has no {MANIFEST}).")
    try:
        manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise BackupError(f"{path}: its manifest cannot be read ({error}).") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Local Offer backup (its manifest does not say so).")
    if manifest.get("checksum") != manifest_checksum(manifest):
        raise BackupError(f"{path}: its manifest has been edited or damaged (its checksum does not match).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(f"{path} was written in backup format {version!r}, newer than this version of Local Offer "
                          f"reads ({FORMAT_VERSION}). Restore it with the version that made it, or a later one.")
    if not _well_formed(manifest):
        raise BackupError(f"{path}: its manifest lacks what a backup's manifest holds (a damaged or foreign file).")
    members = manifest["members"]
    unsafe = [name for name in members if not _safe_member(name)]
    if unsafe:
        raise BackupError(f"{path}: its manifest names a file outside the instance folder ({unsafe[0]}).")
    missing = sorted(set(members) - names)
    extra = sorted(names - set(members) - {MANIFEST})
    if missing:
        raise BackupError(f"{path} is incomplete: {len(missing)} parts the manifest lists are missing "
                          f"(the first is {missing[0]}).")
    if extra:
        raise BackupError(f"{path} has parts its manifest does not list (the first is {extra[0]}): "
                          "it has been changed since it was made.")
    for table in manifest.get("tables", []):
        if table_member(table["name"]) not in members:
            raise BackupError(f"{path}: the rows of the table {table['name']} are missing.")
    return manifest


def _well_formed(manifest: dict) -> bool:
    """Say whether a manifest has every field a restore reads, of the right kinds."""
    try:
        strings = ("created_at", "schema_revision", "database", "secret_key_source")
        return (all(isinstance(manifest[key], str) for key in strings)
                and all(isinstance(manifest["site"][key], str) for key in ("public_url", "council_name"))
                and all(isinstance(member["sha256"], str) and isinstance(member["bytes"], int)
                        for member in manifest["members"].values())
                and all(isinstance(table["name"], str) and isinstance(table["rows"], int)
                        and all(len(column) == 2 and column[1] in _CODECS for column in table["columns"])
                        for table in manifest["tables"]))
    except (KeyError, TypeError, AttributeError):
        return False


def describe(manifest: dict) -> list[str]:
    """Return the manifest in words, a line each, for ``flask backup verify`` and ``list``."""
    tables = manifest["tables"]
    rows = sum(table["rows"] for table in tables)
    counts = {table["name"]: table["rows"] for table in tables}
    uploads = sum(1 for name in manifest["members"] if name.startswith(UPLOADS_PREFIX))
    site = manifest["site"]
    lines = [
        f"Made {manifest['created_at']} from {site['council_name']} at {site['public_url']}, "
        f"on a {manifest['database']} database at schema revision {manifest['schema_revision']}.",
        f"{rows} rows in {len(tables)} tables, among them {counts.get('listing', 0)} listings, "
        f"{counts.get('organisation', 0)} organisations, {counts.get('user', 0)} staff and provider accounts, "
        f"{counts.get('feedback', 0)} feedback comments and {counts.get('audit_event', 0)} audit log entries.",
        f"The site's secret key (in use from {manifest['secret_key_source']})"
        + (", the instance's config.py" if CONFIG_MEMBER in manifest["members"] else "")
        + f" and {uploads} waiting uploads.",
    ]
    return lines
