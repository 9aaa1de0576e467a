"""How far one reader of the change feed has got: which recorded changes it has applied.

Each search index (one per server, on its own disk) and each process's facet
table follow the database's change feed, the ``SearchChange`` rows, on their own.
A row's number is given when it is written, but rows become visible when their
transaction commits, and that order can differ: number 11 can be seen while 10 is
still being written (or 10 was rolled back and never appears).  So "the newest
number I have applied" is not enough; a cursor keeps

* ``through``: every change numbered up to here is applied (or was given up as
  never committed, see below), and
* ``applied``: the changes above ``through`` applied already, with when each was
  recorded (seconds since the epoch).

A change is *unapplied* when it is above ``through`` and not in ``applied``.
``settle`` moves ``through`` up past applied changes, and past a missing number
once the change after it was recorded more than ``grace`` seconds ago: no
transaction stays open that long, so the missing number was rolled back.
(Should one ever commit after all, the index's regular check repairs it.)

Pure data: no database, no files.  The index keeps its cursor in its generation's
folder (``Generations.write_state``); the facet table keeps one in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: A row of the change feed: (number, document id, recorded at in seconds since the epoch).
Row = tuple[int, str, float]

#: A missing change number is given up once the change after it is this old (seconds).
GRACE_SECONDS = 600.0


@dataclass
class Cursor:
    """The changes one reader has applied (see the module's description)."""

    through: int = 0
    applied: dict[int, float] = field(default_factory=dict)

    def unapplied(self, rows: Iterable[Row]) -> list[Row]:
        """Return the rows this reader has not applied yet, oldest first."""
        return sorted((row for row in rows if row[0] > self.through and row[0] not in self.applied),
                      key=lambda row: row[0])

    def mark(self, rows: Iterable[Row]) -> None:
        """Record that these rows are applied."""
        for seq, _document_id, at in rows:
            if seq > self.through:
                self.applied[seq] = at

    def settle(self, now: float, grace: float = GRACE_SECONDS) -> None:
        """Move ``through`` up past applied changes, and past missing numbers older than ``grace``."""
        for seq in sorted(self.applied):
            if seq == self.through + 1 or self.applied[seq] <= now - grace:
                self.through = seq
                del self.applied[seq]
            else:
                break

    def newest(self) -> int:
        """Return the highest change number this reader has applied."""
        return max(self.applied, default=self.through)

    @classmethod
    def after_reading_everything(cls, settled: int, rows: Iterable[Row], now: float,
                                 grace: float = GRACE_SECONDS) -> Cursor:
        """Return the cursor of a reader that has applied every change visible now (after a rebuild).

        ``settled`` is the newest change recorded more than ``grace`` ago, and ``rows`` the
        visible changes above it.  Numbers missing among the recent ones may still commit,
        so only the visible recent rows count as applied.
        """
        rows = list(rows)
        old = [seq for seq, _id, at in rows if at <= now - grace]
        cursor = cls(through=max([settled, *old]))
        cursor.mark(row for row in rows if row[0] > cursor.through)
        cursor.settle(now, grace)
        return cursor

    def to_json(self) -> dict:
        """Return the cursor as JSON-ready data."""
        return {"through": self.through, "applied": [[seq, at] for seq, at in sorted(self.applied.items())]}

    @classmethod
    def from_json(cls, data) -> Cursor | None:
        """Return the cursor stored as ``to_json`` wrote it, or None when it is not one."""
        try:
            through = int(data["through"])
            applied = {int(seq): float(at) for seq, at in data["applied"]}
        except (KeyError, TypeError, ValueError):
            return None
        return cls(through=through, applied=applied)
