"""Where Open Referral records come from: a file, an upload, or a remote feed read page by page.

Everything here only reads and decodes; it writes nothing and knows nothing of
listings.  Input that cannot be read as a whole (not UTF-8, not JSON, not
Open Referral services, a server that cannot be reached) raises
``UnreadableImport`` with a message a coordinator can act on; single bad records
are left for the mapping to reject one by one.
"""

from __future__ import annotations

import codecs
import io
import re
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import ijson

#: Pages followed at most from a remote feed that never says it is on its last page.
MAX_PAGES = 500
#: The most a remote page may weigh: a bound, so a misbehaving server cannot fill the memory.
MAX_PAGE_BYTES = 50 * 1024 * 1024
#: Seconds a feed's server has to answer each request.
FETCH_TIMEOUT = 30


class UnreadableImport(ValueError):
    """The whole input cannot be read (not JSON, wrong columns, bad encoding); the message says why."""


#: How deeply a record's values may nest: Open Referral services nest a handful of levels.
MAX_DEPTH = 64
_BOM = b"\xef\xbb\xbf"
_STARTS = ("start_map", "start_array")
_ENDS = ("end_map", "end_array")
_NOT_SERVICES = ("This is JSON, but not Open Referral services: expected a page with 'content' "
                 "(v1) or 'contents' (v3), a list of services, or one service.")


class Records:
    """The service records of one JSON document, read as a stream: memory stays bounded whatever its size.

    The first pass (when made) checks the whole document and finds its shape (a bare array,
    a page whose ``content`` or ``contents`` is the array, or one v3 service), counting the
    records and keeping the page's other keys (``outline``) without the records themselves;
    each iteration then reads the records one at a time.  So a file that is not JSON is refused
    before anything is imported, and a 60 MB feed is never held in memory as Python objects.
    """

    def __init__(self, open_: Callable[[], BinaryIO], where: str) -> None:
        self._open, self.where = open_, where
        self.outline: dict = {}
        self._prefix: str | None = None
        self._single: dict | None = None
        self.count = self._first_pass()

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict]:
        if self._single is not None:
            yield self._single
            return
        with self._open() as handle:
            _skip_bom(handle)
            for item in ijson.items(handle, self._prefix, use_float=True):
                # Kept, so the mapping rejects it by name and the report still counts every record.
                yield item if isinstance(item, dict) else {"_not_an_object": item}

    def _first_pass(self) -> int:
        """Check the document, find where its records are and count them; raise UnreadableImport."""
        try:
            with self._open() as handle:
                _skip_bom(handle)
                return self._outline(ijson.parse(handle, use_float=True))
        except ijson.JSONError as error:
            raise UnreadableImport(self._why_not_json(error)) from error

    def _outline(self, events) -> int:
        """Walk the parser's events once: check the depth, count the records, keep the page's other keys."""
        depth, shape, key, builder, counted = 0, None, None, None, {}
        for _prefix, event, value in events:
            before = depth
            if event in _STARTS:
                depth += 1
                if depth > MAX_DEPTH:
                    raise UnreadableImport(f"{self.where} is nested too deeply to be Open Referral data.")
            elif event in _ENDS:
                depth -= 1
            if shape is None:
                shape = event
                continue
            if shape == "start_array":
                if before == 1 and event not in _ENDS:  # a record of a bare array begins
                    counted["item"] = counted.get("item", 0) + 1
                continue
            if shape != "start_map":
                continue
            if before == 1 and event in ("map_key", "end_map"):  # a new key of the page, or its end
                if builder is not None:
                    self.outline[key] = builder.value
                key, builder = (value if event == "map_key" else None), None
                continue
            if key in ("content", "contents") and (key in counted or before == 1 and event == "start_array"):
                counted.setdefault(key, 0)
                if before == 2 and event not in _ENDS:  # a record of the page's array begins
                    counted[key] += 1
                continue
            if builder is None:
                builder = ijson.ObjectBuilder()
            builder.event(event, value)
        return self._shape(shape, counted)

    @property
    def v3(self) -> bool:
        """Say whether the records came in a v3 page (``contents``)."""
        return self._prefix == "contents.item"

    @property
    def paged(self) -> bool:
        """Say whether the records came in a page (``content`` or ``contents``), which may have a next one."""
        return self._prefix in ("content.item", "contents.item")

    def _shape(self, shape: str | None, counted: dict[str, int]) -> int:
        if shape == "start_array":
            self._prefix = "item"
            return counted.get("item", 0)
        for key in ("content", "contents"):
            if key in counted:
                self._prefix = f"{key}.item"
                return counted[key]
        if shape == "start_map" and "name" in self.outline and "id" in self.outline:
            self._single = self.outline
            return 1
        raise UnreadableImport(_NOT_SERVICES)

    def _why_not_json(self, error: Exception) -> str:
        """Say why a document could not be read: not UTF-8 (with where), or not JSON (with what yajl said)."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        with self._open() as handle:
            _skip_bom(handle)
            while chunk := handle.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as bad:
                    return f"{self.where} is not UTF-8 text ({bad.reason} at byte {offset + bad.start})."
                offset += len(chunk)
        message = error.args[0] if error.args else error
        message = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        return f"{self.where} is not JSON ({message.splitlines()[0].strip() if message.strip() else 'unreadable'})."


def _skip_bom(handle: BinaryIO) -> None:
    """Step over a UTF-8 byte order mark (spreadsheets and Windows tools write one)."""
    if handle.read(3) != _BOM:
        handle.seek(0)


def read_source(source: str, fetch: Callable[[str], bytes] | None = None) -> Iterable[dict]:
    """Return the service records of a file or URL: a v1 page (following a remote feed page by page),
    a bare array of services, a v3 page or a single v3 service.

    A file is checked as a whole first (raising UnreadableImport), then read one record at a time.
    """
    if re.match(r"^https?://", source):
        return _remote(source, fetch or _fetch)
    try:
        with open(source, "rb"):
            pass
    except OSError as error:
        raise UnreadableImport(f"Cannot read {source}: {error.strerror or error}") from error
    return Records(lambda: open(source, "rb"), source)


def read_file(path: str | Path, where: str = "The file") -> Records:
    """Return the service records of an uploaded file, checked first; raise UnreadableImport when it cannot be."""
    return Records(lambda: open(path, "rb"), where)


def read_bytes(raw: bytes, where: str = "The file") -> list[dict]:
    """Read uploaded ORUK JSON into service records; raise UnreadableImport when it cannot be."""
    return list(Records(lambda: io.BytesIO(raw), where))


def _fetch(url: str) -> bytes:
    """Return the body of one page of a remote feed."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "local-offer-import"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310 (a coordinator gave it)
        body = response.read(MAX_PAGE_BYTES + 1)
    if len(body) > MAX_PAGE_BYTES:
        raise UnreadableImport(f"{url} sent a page larger than {MAX_PAGE_BYTES // (1024 * 1024)} MB: not read.")
    return body


def _remote(url: str, fetch: Callable[[str], bytes]) -> Iterator[dict]:
    """Yield the records of a remote feed, page by page, until it says it is done (or repeats itself)."""
    page = 1
    seen: set[str] = set()
    seen_pages: set[tuple] = set()
    while page <= MAX_PAGES:
        address = _with_page(url, page)
        if address in seen:
            break
        seen.add(address)
        try:
            body = fetch(address)
        except OSError as error:
            raise UnreadableImport(f"Cannot fetch {address}: {error}") from error
        page_records = Records(lambda: io.BytesIO(body), address)  # a page is bounded by MAX_PAGE_BYTES
        document = page_records.outline
        records = list(page_records)
        ids = tuple(str(record.get("id")) for record in records)
        if ids and ids in seen_pages:
            return  # the feed ignores ?page= and sends the same page again
        seen_pages.add(ids)
        if page_records.paged and page_records.v3:  # v3 lists give each service in brief
            records = [_in_full(url, record, fetch) for record in records]
        yield from records
        if not records or not page_records.paged:
            return  # a bare array or a single service: no pages
        if document.get("last") is True or document.get("last_page") is True:
            return
        total_pages = document.get("totalPages", document.get("total_pages"))
        if isinstance(total_pages, int) and page >= total_pages:
            return
        page += 1
    # A feed that never says it is on its last page stops here rather than looping for ever.


#: What a v3 service in full has that a list's brief one does not.
_NESTED = ("service_at_locations", "schedules", "attributes", "contacts", "cost_options")


def _in_full(list_url: str, record: dict, fetch: Callable[[str], bytes]) -> dict:
    """Return a v3 list's service in full, from ``/services/{id}`` beside the list, when the list gave it in brief.

    A service whose page cannot be fetched or read is kept as the list gave it (the import warns of
    nothing it cannot see; the next pull tries again).
    """
    if not isinstance(record, dict) or any(key in record for key in _NESTED) or not record.get("id"):
        return record
    parts = urllib.parse.urlsplit(list_url)
    path = parts.path.rstrip("/")
    detail = urllib.parse.urlunsplit(parts._replace(
        path=f"{path}/{urllib.parse.quote(str(record['id']), safe='')}", query=""))
    try:
        found = list(Records(lambda: io.BytesIO(fetch(detail)), detail))
    except (OSError, UnreadableImport):
        return record
    return found[0] if len(found) == 1 and isinstance(found[0], dict) and found[0].get("id") == record["id"] \
        else record


def _with_page(url: str, page: int) -> str:
    """Return the address with its ``page`` parameter set (any other parameters kept)."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    query.append(("page", str(page)))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
