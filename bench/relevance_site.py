"""The throwaway site and the three ways of asking it, for bench/relevance.py (issue 14).

The site is SQLite in a temporary instance folder, made with the same flask commands a council
runs (through Flask's CLI runner, in this process). A query is then answered by ours (the v1 API
through the test client), a plain SQLite FTS5 table and SQL LIKE; see bench/relevance.py.
"""

from __future__ import annotations

import html
import os
import re
import sqlite3
import time
from dataclasses import dataclass

TOP = 10


@dataclass
class Answer:
    """One method's answer to one query: the top ids (listing ids) and how many results it had in all."""

    ids: list[str]
    total: int


# --- the throwaway site ------------------------------------------------------------------------------


def say(message: str) -> None:
    print(message, flush=True)


def site_commands(chosen) -> list[list[str]]:
    """The flask commands that make the set's site, in order.

    A feed set is made as a new council would make it (vocabularies and synonyms, no demo
    directory, then the feed through the importer); the demo set is made the way ``make run``
    makes the demo site (``flask content load`` with the demo directory)."""
    if chosen.feed is None:
        return [["db", "upgrade"], ["geo", "build"], ["content", "load", "--demo"], ["index", "rebuild"]]
    return [["db", "upgrade"], ["geo", "build"], ["content", "load", "--no-demo"],
            ["oruk", "import", str(chosen.feed), "--apply", "--publish"], ["index", "rebuild"]]


def build_site(chosen, folder: str):
    """Make the set's site in a temporary instance folder (see ``site_commands``); return the app."""
    os.environ["LOCAL_OFFER_INSTANCE_PATH"] = folder
    os.environ["LOCAL_OFFER_POSTCODE_AREAS"] = chosen.areas
    os.environ.pop("LOCAL_OFFER_DATABASE_URL", None)  # SQLite in the temporary instance folder
    from local_offer import create_app

    app = create_app({"PUBLIC_URL": "http://127.0.0.1:5000", "SESSION_COOKIE_SECURE": False,
                      "SEARCH_LOG_ENABLED": False, "POSTCODE_AREAS": chosen.areas.split(",")})
    runner = app.test_cli_runner()
    for command in site_commands(chosen):
        started = time.perf_counter()
        say(f"  flask {' '.join(command)} ...")
        result = runner.invoke(args=command)
        if result.exit_code != 0:
            raise SystemExit(f"flask {' '.join(command)} failed ({result.exit_code}):\n{result.output}\n"
                             f"{result.exception!r}")
        lines = [line for line in result.output.strip().splitlines() if line.strip()]
        shown = lines if command[0] in ("oruk", "content") else lines[-1:]
        for line in shown[:12]:
            say(f"    {line}")
        say(f"    ({time.perf_counter() - started:.1f} s)")
    return app


# --- the three ways ------------------------------------------------------------------------------------


WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """The query's words, lower case, each once, in order."""
    seen = []
    for word in WORD.findall(text.lower()):
        if word not in seen:
            seen.append(word)
    return seen


def ask_ours(client, query: dict) -> Answer:
    """Ask the v1 API, as a family's app would, with the where and age the query gives."""
    from local_offer.postcodes import parse_postcode

    text = query["text"]
    params = {"per_page": TOP}
    where = str(query.get("where") or "").strip()
    if where and parse_postcode(where):
        params["postcode"] = where
    elif where:
        text = f"{text} {where}"  # the API takes no town: it goes in the words, where our search reads places
    if query.get("age") is not None:
        params["minimum_age"] = params["maximum_age"] = int(query["age"])
    params["text"] = text
    response = client.get("/api/v1/services", query_string=params)
    if response.status_code != 200:
        say(f"    {query['id']}: the API answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
        return Answer([], 0)
    body = response.get_json()
    return Answer([item["id"] for item in body["content"]][:TOP], int(body["totalElements"]))


def published(db) -> list[tuple[str, str, str, str]]:
    """(id, name, description as text, category and need names) of every public listing."""
    from sqlalchemy import select

    from local_offer.models import PUBLIC_STATUSES, Listing, ListingTerm, Term, Vocabulary

    terms: dict[str, list[str]] = {}
    for listing_id, name in db.session.execute(
            select(ListingTerm.listing_id, Term.name).join(Term, Term.id == ListingTerm.term_id)
            .where(Term.vocabulary.in_([Vocabulary.CATEGORY, Vocabulary.NEED]))):
        terms.setdefault(listing_id, []).append(name)
    rows = db.session.execute(select(Listing.id, Listing.name, Listing.description)
                              .where(Listing.status.in_(PUBLIC_STATUSES)).order_by(Listing.id)).all()
    return [(row.id, row.name or "", as_text(row.description or ""), " ".join(terms.get(row.id, []))) for row in rows]


def as_text(markup: str) -> str:
    """A description's words: the stored description is sanitised HTML, so drop the tags and entities."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup))).strip()


def baseline_tables(rows) -> sqlite3.Connection:
    """In memory: an FTS5 table of the listings (unicode61, SQLite's default tokenizer) and a plain
    lower-cased table for LIKE (SQLite's lower() only folds ASCII)."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, name, description, terms)")
    connection.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
    connection.execute("CREATE TABLE plain (id TEXT PRIMARY KEY, name TEXT, description TEXT)")
    connection.executemany("INSERT INTO plain VALUES (?, ?, ?)",
                           [(row[0], row[1].lower(), row[2].lower()) for row in rows])
    return connection


def ask_fts(connection: sqlite3.Connection, text: str) -> Answer:
    """Every word of the query, OR-ed, ranked by bm25."""
    terms = words(text)
    if not terms:
        return Answer([], 0)
    match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
    found = [row[0] for row in connection.execute(
        "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs), id", (match,))]
    return Answer(found[:TOP], len(found))


def ask_like(connection: sqlite3.Connection, text: str) -> Answer:
    """Listings whose name or description contains any word of 3 or more letters, most words matched first."""
    terms = [term for term in words(text) if len(term) >= 3]
    if not terms:
        return Answer([], 0)
    params, parts = [], []
    for term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts.append("(CASE WHEN name LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' THEN 1 ELSE 0 END)")
        params += [pattern, pattern]
    found = [row[0] for row in connection.execute(
        f"SELECT id FROM (SELECT id, name, {' + '.join(parts)} AS matched FROM plain) "
        f"WHERE matched > 0 ORDER BY matched DESC, name, id", params)]
    return Answer(found[:TOP], len(found))
