"""The facet table, built once and shared by every process on the same instance folder.

Building the table reads every public listing's facts from the database (about a
quarter of a second for 5,000 listings, seconds for 50,000): a new worker used to do
it on its first search.  Whoever builds it whole saves it here, as it was at one
change (with the cursor of the changes it holds); another process loads it and reads
only the changes since, as it does between searches anyway.  So a loaded table is
exactly what a process that built its own at that change would hold by now.

One file per index generation (a new generation, after bulk changes, is built
afresh and replaces it).  A file is ignored when it is unreadable, when it comes
from later changes than the database has (a restored database), or when the
vocabularies' trees or filter values differ from today's.  Files are written to a
temporary name and renamed, so a reader never sees half of one: numpy arrays and
the listing ids, read in a few milliseconds.  They are pickles,
read only from the instance folder, which is trusted as the database next to it is.
Nothing here touches the search index.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

from local_offer.search.cursor import Cursor
from local_offer.search.facets import FacetTable

SUFFIX = ".table"


class SharedTables:
    """Facet tables in a folder, one per index generation."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _path(self, generation: str) -> Path:
        return self.folder / f"{generation}{SUFFIX}"

    def load(self, generation: str, last_change: int, ancestors: dict, values: dict) -> tuple[FacetTable, Cursor] | None:
        """Return (table, the changes it holds) saved for this generation, or None if there is none fit to use."""
        try:
            with open(self._path(generation), "rb") as handle:
                state, table = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError, TypeError, ImportError):
            return None
        cursor = Cursor.from_json(state)
        if not isinstance(table, FacetTable) or cursor is None or cursor.newest() > last_change:
            return None
        if table.ancestors != ancestors or table.values != values:
            return None  # the vocabularies changed since: build afresh
        return table, cursor

    def save(self, generation: str, cursor: Cursor, table: FacetTable) -> bool:
        """Save a table holding the changes ``cursor`` says for this generation (and drop other generations' files)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    pickle.dump((cursor.to_json(), table), file, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self._path(generation))
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            for other in self.folder.glob(f"*{SUFFIX}"):
                if other.name != self._path(generation).name:
                    other.unlink(missing_ok=True)
        except OSError:
            return False  # sharing is an optimisation: a table that cannot be saved is simply not shared
        return True
