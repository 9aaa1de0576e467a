"""Coordinators' uploads: checked first as a dry run, then applied once and recorded in the audit log.

An upload is kept in the instance folder under a random one-time token between
the check and the apply, so the file applied is the file that was checked;
applying removes it, and the daily clean-up job removes checked uploads nobody
applied once they are a day old (``remove_old_uploads``).  ORUK JSON and the CSV layout are told apart by the name
the coordinator's file had.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from local_offer.extensions import db
from local_offer.interchange.csv_layout import read_csv
from local_offer.interchange.importer import import_csv, import_records
from local_offer.interchange.report import ImportReport
from local_offer.interchange.sources import UnreadableImport, read_file
from local_offer.models import User, record_audit, utcnow

#: A token names one waiting upload: 32 hex digits and the format, nothing that could name another path.
UPLOAD_TOKEN = re.compile(r"[0-9a-f]{32}\.(csv|json)")


def _upload_folder() -> Path:
    """Return the folder that holds waiting uploads, making it when needed."""
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _read_upload(path: Path) -> tuple[str, Iterable[dict]]:
    """Read an uploaded file as ORUK records (checked whole, then streamed) or CSV rows; raise UnreadableImport."""
    if path.suffix == ".csv":
        return "csv", read_csv(path.read_bytes(), "The file")
    return "oruk", read_file(path)


def _import(kind: str, records: Iterable[dict], *, apply: bool, publish: bool) -> ImportReport:
    """Run the pipeline for records of either format."""
    run = import_csv if kind == "csv" else import_records
    return run(records, apply=apply, publish=publish)


def check_upload(upload: FileStorage) -> tuple[str, ImportReport]:
    """Keep an upload under a new token and return the token with what applying it would do.

    Raise UnreadableImport (and forget the file) when it cannot be read as a whole.
    """
    suffix = ".csv" if (upload.filename or "").lower().endswith(".csv") else ".json"
    token = secrets.token_hex(16) + suffix
    path = _upload_folder() / token
    upload.save(path)
    try:
        kind, records = _read_upload(path)
    except UnreadableImport:
        path.unlink(missing_ok=True)
        raise
    return token, _import(kind, records, apply=False, publish=False)


def apply_upload(token: str, *, publish: bool, actor: User, ip_address: str | None) -> ImportReport | None:
    """Apply a checked upload once, record it in the audit log and commit; None when no upload has this token."""
    if not UPLOAD_TOKEN.fullmatch(token):
        return None
    path = _upload_folder() / token
    if not path.is_file():
        return None
    kind, records = _read_upload(path)
    report = _import(kind, records, apply=True, publish=publish)
    path.unlink(missing_ok=True)
    record_audit("import.applied", "import", None, actor=actor, ip_address=ip_address,
                 changes={"format": kind, "published": publish, **dict(report.counts)})
    db.session.commit()
    return report


def remove_old_uploads(older_than: timedelta, now: datetime | None = None) -> int:
    """Delete checked uploads that were never applied and were saved longer ago than ``older_than``; count them."""
    cutoff = ((now or utcnow()) - older_than).timestamp()
    removed = 0
    for path in _upload_folder().iterdir():
        # Only files this module names: nothing else an operator keeps in the folder is touched.
        if UPLOAD_TOKEN.fullmatch(path.name) and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
