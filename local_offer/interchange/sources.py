"""Where Open Referral records come from: a file, an upload, or a remote feed read page by page.

Everything here only reads and decodes; it writes nothing and knows nothing of
listings.  Input that cannot be read as a whole (not UTF-8, not JSON, not
Open Referral services, a server that cannot be reached) raises
``UnreadableImport`` with a message a coordinator can act on; single bad records
are left for the mapping to reject one by one.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator

#: Pages followed at most from a remote feed that never says it is on its last page.
MAX_PAGES = 500
#: The most a remote page may weigh: a bound, so a misbehaving server cannot fill the memory.
MAX_PAGE_BYTES = 50 * 1024 * 1024


class UnreadableImport(ValueError):
    """The whole input cannot be read (not JSON, wrong columns, bad encoding); the message says why."""


def read_source(source: str, fetch: Callable[[str], bytes] | None = None) -> Iterator[dict]:
    """Yield service records from a file or URL: a v1 page (following a remote feed page by page),
    a bare array of services, a v3 page or a single v3 service."""
    if re.match(r"^https?://", source):
        yield from _remote(source, fetch or _fetch)
        return
    try:
        with open(source, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise UnreadableImport(f"Cannot read {source}: {error.strerror or error}") from error
    yield from _records(_json(raw, source))


def read_bytes(raw: bytes, where: str = "The file") -> list[dict]:
    """Read uploaded ORUK JSON into service records; raise UnreadableImport when it cannot be."""
    return list(_records(_json(raw, where)))


def _fetch(url: str) -> bytes:
    """Return the body of one page of a remote feed."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "local-offer-import"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (an address a coordinator gave)
        return response.read(MAX_PAGE_BYTES)


def _json(raw: bytes, where: str):
    """Decode JSON text, naming ``where`` and the place of the fault in any error."""
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise UnreadableImport(f"{where} is not UTF-8 text ({error.reason} at byte {error.start}).") from error
    except json.JSONDecodeError as error:
        raise UnreadableImport(f"{where} is not JSON ({error.msg} at line {error.lineno}).") from error
    except RecursionError as error:
        raise UnreadableImport(f"{where} is nested too deeply to be Open Referral data.") from error


def _records(document) -> Iterator[dict]:
    """Yield the service records of a decoded document, whichever of the standard's shapes it has."""
    if isinstance(document, list):
        items = document
    elif isinstance(document, dict) and isinstance(document.get("content"), list):
        items = document["content"]
    elif isinstance(document, dict) and isinstance(document.get("contents"), list):
        items = document["contents"]
    elif isinstance(document, dict) and "name" in document and "id" in document:
        items = [document]
    else:
        raise UnreadableImport("This is JSON, but not Open Referral services: expected a page with 'content' "
                               "(v1) or 'contents' (v3), a list of services, or one service.")
    for item in items:
        # Kept, so the mapping rejects it by name and the report still counts every record.
        yield item if isinstance(item, dict) else {"_not_an_object": item}


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
            document = _json(fetch(address), address)
        except OSError as error:
            raise UnreadableImport(f"Cannot fetch {address}: {error}") from error
        records = list(_records(document))
        ids = tuple(str(record.get("id")) for record in records)
        if ids and ids in seen_pages:
            return  # the feed ignores ?page= and sends the same page again
        seen_pages.add(ids)
        yield from records
        if not isinstance(document, dict) or not records or not ("content" in document or "contents" in document):
            return
        if document.get("last") is True or document.get("last_page") is True:
            return
        total_pages = document.get("totalPages", document.get("total_pages"))
        if isinstance(total_pages, int) and page >= total_pages:
            return
        page += 1
    # A feed that never says it is on its last page stops here rather than looping for ever.


def _with_page(url: str, page: int) -> str:
    """Return the address with its ``page`` parameter set (any other parameters kept)."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    query.append(("page", str(page)))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
