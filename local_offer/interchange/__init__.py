"""Data in and out of the directory: Open Referral UK JSON (v1, and v3 services), the CSV layout, the demo.

The parts, in the order data flows through them:

* ``sources``: reading files, uploads and remote feeds (page by page) into records;
* ``oruk``: Open Referral UK both ways, services into listing data and listings into
  services (the read API serves these shapes too);
* ``csv_layout``: the one-row-per-service spreadsheet layout, both ways;
* ``importer``: the one pipeline every source feeds (map, check, dry run or write, report, sync);
* ``report``: what an import did to each record, as a person reads it;
* ``exports``: every public listing, walked in batches, as ORUK JSON;
* ``uploads``: coordinators' uploads, checked then applied once (old unapplied ones removed daily).

Callers use the names below; the modules' other names are theirs.
"""

from local_offer.interchange.csv_layout import count_csv_rows, export_csv, read_csv
from local_offer.interchange.exports import export_oruk, to_json
from local_offer.interchange.fields import stable_id
from local_offer.interchange.importer import import_csv, import_records
from local_offer.interchange.report import ImportReport, report_lines
from local_offer.interchange.sources import Records, UnreadableImport, read_bytes, read_file, read_source
from local_offer.interchange.uploads import apply_upload, check_upload, remove_old_uploads

__all__ = [
    "ImportReport", "Records", "UnreadableImport", "apply_upload", "check_upload", "count_csv_rows", "export_csv",
    "export_oruk", "import_csv", "import_records", "read_bytes", "read_csv", "read_file", "read_source",
    "remove_old_uploads", "report_lines", "stable_id", "to_json",
]
