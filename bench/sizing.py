"""Sizing bench: what one server carries at N generated listings, and how a second server catches up.

    python bench/sizing.py --count 200000 [--database postgresql|sqlite] [--keep DIR] [--reuse DIR]
    python bench/sizing.py --count 300            (a smoke test: about two minutes)

Makes a throwaway site as production runs it: PostgreSQL (a schema of its own
in ``postgresql://postgres@127.0.0.1:5432/test``, ``--postgres`` to change; or
``--database sqlite``, one file both instances share), the gazetteer for ST, WS,
DE and B, the vocabularies, a coordinator account, and N listings from
``flask demo generate`` (the demo directory is not loaded).  Every step runs
the ``flask`` command a council would run, in its own process, timed (wall
clock and CPU time: on a shared machine the CPU time is the steadier figure),
its peak memory read from ``/proc`` (the largest process, and for a rebuild's
several processes their proportional sizes summed).  Then it prints, each
with the command that gave it:

* the time to generate N listings and every preparation step; the database's
  size (the schema's tables, the gazetteer apart);
* ``flask index rebuild``: time, peak memory, the index's size on disk;
* gunicorn (2 sync workers, ``gunicorn.conf.py``'s warming, pages never kept:
  ``LOCAL_OFFER_PAGE_CACHE_SECONDS=0``, so every search is searched and
  rendered): once the workers' warmers are done and 200 searches have been
  answered, p50/p95/p99 of 240 further results pages asked one after another
  over HTTP (the search bench's query set: words, a place, two filters), then
  requests a second with wrk (4 connections, ``--seconds``) over 400 such
  pages, the workers' CPU time a page (so the rate one free core would give)
  and the load average, then each worker's peak and present memory;
* publish-to-searchable: a coordinator changes a listing's description in the
  portal and presses "publish now" (``listings.workflow.publish_now``), then
  the search API is asked for the new word until both workers return the
  listing; 10 times, median and max (from pressing publish);
* a new server with an empty disk (another instance folder, same database):
  gunicorn started on it, time until a search returns results and until
  ``/readyz`` answers 200 (the workers build the index on start; if no index
  appears within 45 s it says so), and ``flask index ensure`` on another
  empty folder: time and memory;
* two servers: the second instance under its own gunicorn (its own port and
  index folder); a change published through the first, the second's search
  asked until both its workers return it, at most 120 s; 5 times (stopping at
  the first change never seen).

``--keep DIR`` keeps the site (the schema, named in ``DIR/site.json``, and the
instance folders) for ``--reuse DIR``, which skips the generation (it runs
``flask db upgrade``) and measures everything else again, or, with ``--from
STEP``, only from that step on (``rebuild``, ``requests``, ``publish``,
``new-server``, ``ensure``; ``ensure`` and the two servers always run).  Without them the
schema and folders are removed, even on Ctrl-C.  wrk is Debian's ``wrk``.
Not part of the test suite: timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from concurrency import Server  # noqa: E402  (bench modules sit beside this script)
from concurrency_load import Stats  # noqa: E402
from concurrency_setup import DEFAULT_DATABASE, DEFAULT_REDIS, Instance  # noqa: E402
from load import LUA, wrk  # noqa: E402
from search import search_urls  # noqa: E402
from sizing_measure import (  # noqa: E402
    COORDINATOR,
    Publisher,
    cpu_seconds,
    describe,
    mb,
    pss,
    results_for,
    run_command,
    seconds_summary,
    status,
    timed_pages,
    until_found,
    wait_until_idle,
)

#: Every process of the site: pages never kept (each search searched), the search bench's areas, and one
#: secret key for every server (a server whose key is not the others' refuses to start).
SETTINGS = {"LOCAL_OFFER_PAGE_CACHE_SECONDS": "0", "LOCAL_OFFER_POSTCODE_AREAS": "ST,WS,DE,B",
            "LOCAL_OFFER_SECRET_KEY": "sizing-bench-only-secret-key-0f3c9a"}
GAZETTEER = {"postcode", "postcode_sector", "outward_code", "gazetteer_area", "place", "place_name"}
WORKERS = 2
PUBLISH_TRIES, PROPAGATION_TRIES, PROPAGATION_LIMIT = 10, 5, 120.0
#: Without an index after this long, a new server is taken not to build one on start.
NO_BUILD_AFTER = 45.0


@dataclass
class SqliteInstance(Instance):
    """A site on SQLite: one database file beside the instance folders, shared by both instances."""

    @property
    def url(self) -> str:
        return f"sqlite:///{self.folder.parent / 'site.sqlite'}"

    def create(self) -> None:
        """Nothing to make: ``flask db upgrade`` makes the file."""


class Report:
    """Figures printed as they come and again together at the end, each with its command."""

    def __init__(self):
        self.rows: list[tuple[str, str, str]] = []

    def add(self, what: str, figure: str, command: str = "") -> None:
        self.rows.append((what, figure, command))
        print(f"  {what}: {figure}" + (f"   [{command}]" if command else ""), flush=True)

    def print(self, title: str) -> None:
        print(f"\n{title}")
        for what, figure, command in self.rows:
            print(f"- {what}: {figure}" + (f"   [{command}]" if command else ""))


class Site:
    """The bench's sites: instance A (the running server), new servers' folders, the database they share."""

    def __init__(self, options: argparse.Namespace, work: Path, schema: str | None):
        self.options, self.work = options, work
        kind = SqliteInstance if options.database == "sqlite" else Instance
        common = dict(code=ROOT, database=options.postgres, redis=DEFAULT_REDIS, settings=SETTINGS)
        self.a = kind(folder=work / "a", **common, **({"schema": schema} if schema else {}))
        self.schema = self.a.schema
        self.kind, self.common = kind, common
        self.log = work / "commands.log"

    def instance(self, name: str) -> Instance:
        """Another instance folder (emptied) on the same database."""
        folder = self.work / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return self.kind(folder=folder, schema=self.schema, **self.common)

    def flask(self, instance: Instance, *args: str, label: str | None = None):
        """Run ``flask ARGS`` for an instance, timed and its memory watched (``label`` names it instead)."""
        label = label or "flask " + " ".join(args)
        print(f"  [{time.strftime('%H:%M:%S')}] {label} ...", flush=True)
        return run_command([sys.executable, "-m", "flask", *args], instance.env(), ROOT, label, self.log)

    def rows(self, query: str) -> list[tuple]:
        """Read from the database (the bench's own reads)."""
        if self.options.database == "sqlite":
            with sqlite3.connect(self.work / "site.sqlite") as connection:
                return connection.execute(query).fetchall()
        with self.a.connect() as connection:
            return list(connection.execute(query))

    def drop(self) -> None:
        """Remove the schema (PostgreSQL) and every folder."""
        if self.options.database != "sqlite":
            self.a.drop()
        shutil.rmtree(self.work, ignore_errors=True)


def prepare(site: Site, count: int, report: Report) -> None:
    """Make the database as a council would, with N generated listings."""
    site.a.folder.mkdir(parents=True, exist_ok=True)
    site.a.create()
    started = time.perf_counter()
    for args in (["db", "upgrade"], ["geo", "build", "--areas", "ST,WS,DE,B"], ["content", "load", "--no-demo"]):
        step = site.flask(site.a, *args)
        report.add(f"prepare: {step.command}", f"{step.seconds:.1f} s", step.output)
    site.flask(site.a, "users", "create", "--role", "coordinator", "--password", COORDINATOR[1], COORDINATOR[0],
               label=f"flask users create --role coordinator {COORDINATOR[0]}")
    step = site.flask(site.a, "demo", "generate", "--count", str(count), "--seed", "11")
    report.add(f"generate {count:,} listings", f"{step.took()}, {count / step.seconds:,.0f} a second, "
               f"{step.memory()}", step.command)
    report.add("whole preparation", f"{time.perf_counter() - started:.1f} s")


def database_size(site: Site, report: Report) -> None:
    """The database's size: every table of the schema (or file), the gazetteer apart."""
    if site.options.database == "sqlite":
        try:
            sizes = site.rows("SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d JOIN sqlite_master m "
                              "ON m.name = d.name GROUP BY m.tbl_name")  # indexes counted with their tables
        except sqlite3.Error:
            sizes = []
        file_size = (site.work / "site.sqlite").stat().st_size
        command = "sqlite dbstat; file size"
    else:
        sizes = site.rows("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
                          f"ON n.oid = c.relnamespace WHERE n.nspname = '{site.schema}' AND c.relkind = 'r'")
        file_size = sum(size for _name, size in sizes)
        command = "pg_total_relation_size of each table in the schema"
    gazetteer = sum(size for name, size in sizes if name in GAZETTEER)
    largest = sorted(((size, name) for name, size in sizes if name not in GAZETTEER), reverse=True)[:4]
    listings = site.rows("SELECT count(*) FROM listing")[0][0]
    report.add("database size", f"{mb(file_size / 1024)} in all, of which the gazetteer {mb(gazetteer / 1024)}, "
               f"the directory {mb((file_size - gazetteer) / 1024)} ({listings:,} listings; largest tables: "
               + ", ".join(f"{name} {mb(size / 1024)}" for size, name in largest) + ")", command)


def index_size(folder: Path) -> tuple[int, int]:
    """Bytes of the live index generation and of the shared facet tables beside it."""
    search = folder / "search"
    live = search / (search / "CURRENT").read_text().strip()
    tables = folder / "search-tables"
    size = lambda path: sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0
    return size(live), size(tables)


def rebuild(site: Site, report: Report) -> float:
    """``flask index rebuild`` on instance A; return its seconds."""
    step = site.flask(site.a, "index", "rebuild")
    report.add("index rebuild", f"{step.took()}, {step.memory()} ({step.output})", step.command)
    site.flask(site.a, "compile-templates")
    return step.seconds


def serve(site: Site, instance: Instance, name: str) -> Server:
    """Start gunicorn (2 sync workers, gunicorn.conf.py) on an instance and wait until both workers answer."""
    server = Server(instance, WORKERS)
    server.start()
    print(f"  {name}: gunicorn on {server.base}", flush=True)
    return server


def measure_requests(server: Server, report: Report, seconds: int) -> None:
    """Latency of results pages one after another, then requests a second under wrk, then the workers' memory."""
    waited = wait_until_idle(server.worker_pids())
    print(f"  workers idle (warmers done) after {waited:.0f} s", flush=True)
    urls = search_urls(440)
    _times, _statuses = timed_pages(server.base, urls[:200])  # every worker's first searches of each concept
    pids = server.worker_pids()
    used = sum(cpu_seconds(pid) for pid in pids)
    times, statuses = timed_pages(server.base, urls[200:])
    used = sum(cpu_seconds(pid) for pid in pids) - used
    report.add("results page, one after another over HTTP",
               f"{describe(times)} ({len(times)} pages; statuses {statuses}; the workers' CPU "
               f"{used / len(times) * 1000:.0f} ms a page; load average {load()})",
               "GET /search?q=..&where=..&<two filters> (bench/search.py's query set), 2 sync workers, no kept pages")
    script = server.instance.folder / "varied.lua"
    script.write_text(LUA)
    addresses = server.instance.folder / "searches.txt"
    addresses.write_text("\n".join(search_urls(400)) + "\n")
    wrk(server.base, addresses, script, 5, 4)
    used = sum(cpu_seconds(pid) for pid in pids)
    rate, total, bad = wrk(server.base, addresses, script, seconds, 4)
    used = sum(cpu_seconds(pid) for pid in pids) - used
    report.add("requests a second, results pages", f"{rate:.1f} ({total} requests in {seconds} s, {bad} not 2xx/3xx;"
               f" the workers' CPU {used / max(1, total) * 1000:.0f} ms a page, so one core answers about "
               f"{total / max(used, 0.001):.0f} a second; load average {load()})",
               f"wrk --threads 1 --connections 4 --duration {seconds}s over 400 results pages")
    for pid in server.worker_pids():
        memory = status(pid)
        report.add(f"gunicorn worker {pid} memory", f"peak {mb(memory.get('VmHWM', 0))}, now {mb(memory.get('VmRSS', 0))}"
                   f" (PSS {mb(pss(pid))}; {cpu_seconds(pid):.0f} CPU s used)", f"/proc/{pid}/status VmHWM, VmRSS")
    master = status(server.process.pid)
    report.add("gunicorn master memory", f"now {mb(master.get('VmRSS', 0))}")
    live, tables = index_size(server.instance.folder)
    report.add("index on disk", f"{mb(live / 1024)} (live generation), facet tables {mb(tables / 1024)}",
               "du of instance/search/<CURRENT> and instance/search-tables")


def publish_to_searchable(publisher: Publisher, servers: list[Server], report: Report, tries: int,
                          limit: float, what: str) -> None:
    """Publish through the publisher's server; time until every worker of ``servers[-1]`` finds the change."""
    stats, took, requests_took = Stats(), [], []
    watched = servers[-1]
    for attempt in range(1, tries + 1):
        listing_id, word, pressed, request_seconds = publisher.publish()
        requests_took.append(request_seconds)
        found = until_found(watched.base, word, listing_id, WORKERS, limit, stats)
        if found is None:
            report.add(what, f"NOT SEEN within {limit:.0f} s on try {attempt} (listing {listing_id}, word {word})"
                       + (f"; seen before that: {seconds_summary(took)} over {len(took)}" if took else "")
                       + "; remaining tries skipped", "poll GET /api/v1/services?text=<word>")
            return
        took.append(found - pressed)
    report.add(what, f"{seconds_summary(took)} over {tries} changes (the publish request itself: "
               f"{seconds_summary(requests_took)})",
               "portal 'publish now' (listings.workflow.publish_now), then GET /api/v1/services?text=<word> "
               "until both workers return it")


def new_server(site: Site, report: Report, rebuild_seconds: float) -> None:
    """Start gunicorn on an empty instance folder: how long until ``/readyz`` says ready and a search has results.

    ``/readyz`` is asked every half second (it is cheap); a search only every 3 seconds until
    then (without an index it still reads the filters, which costs the building server time).
    gunicorn killing a worker for its timeout is reported, and ends the wait.
    """
    instance = site.instance("b-start")
    server = Server(instance, WORKERS)
    started = time.perf_counter()
    failure: list[Exception] = []
    thread = threading.Thread(target=lambda: _start(server, failure), daemon=True)
    thread.start()
    # Three rebuilds' time; with --from past the rebuild its time is unknown: allow 40 minutes.
    limit = max(300.0, 3 * rebuild_seconds) if rebuild_seconds else 2400.0
    answered = ready = None
    asked = 0.0
    killed = ""
    try:
        while time.perf_counter() - started < limit:
            now = time.perf_counter()
            if ready is None and is_ready(server.base):
                ready = now - started
            if answered is None and (ready is not None or now - asked >= 3):
                asked = now
                if results_for(server.base, "autism"):
                    answered = time.perf_counter() - started
            if answered is not None and ready is not None:
                break
            search = instance.folder / "search"
            if now - started > NO_BUILD_AFTER and not (search.exists() and any(search.iterdir())):
                break
            if failure and (server.process is None or server.process.poll() is not None):
                break
            killed = worker_timeouts(server)
            if killed:
                break
            time.sleep(0.5)
        command = "gunicorn on an empty instance folder; GET /readyz and /api/v1/services?text=autism"
        waited = time.perf_counter() - started
        if answered is not None:
            report.add("new server, empty disk: start to first search with results", f"{answered:.1f} s; /readyz "
                       + (f"200 after {ready:.1f} s" if ready is not None else "never 200"), command)
        elif failure and (server.process is None or server.process.poll() is not None):
            report.add("new server, empty disk", f"gunicorn did not start: {str(failure[0])[:300]}", command)
        elif killed:
            report.add("new server, empty disk", f"NOT READY: after {waited:.0f} s gunicorn killed workers for "
                       f"its timeout while the index was being built ({killed}); gave up", command)
        else:
            report.add("new server, empty disk", f"no results after {waited:.0f} s: "
                       + ("no index was being built (no build on start)" if waited < limit else "gave up"), command)
    finally:
        thread.join(timeout=130)
        stop(server)
        shutil.rmtree(instance.folder, ignore_errors=True)


def worker_timeouts(server: Server) -> str:
    """gunicorn's "WORKER TIMEOUT" lines in a server's log, in short."""
    text = server.log.read_text(errors="replace") if server.log.exists() else ""
    lines = [line.split("] ", 2)[-1] for line in text.splitlines() if "WORKER TIMEOUT" in line]
    return "; ".join(lines[:4])


def stop(server: Server) -> None:
    """Stop gunicorn, then anything of its process group left behind (a killed worker's indexing processes)."""
    server.stop()
    if server.process is not None:
        try:
            os.killpg(server.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def is_ready(base: str) -> bool:
    """Whether a server's ``/readyz`` says it is ready (200)."""
    try:
        return requests.get(f"{base}/readyz", timeout=30).status_code == 200
    except requests.RequestException:
        return False


def _start(server: Server, failure: list[Exception]) -> None:
    try:
        server.start()
    except RuntimeError as error:
        failure.append(error)


#: What ``--from`` may skip to; ``flask index ensure`` and the two servers are always measured.
STEPS = ("rebuild", "requests", "publish", "new-server", "ensure")


def run(options: argparse.Namespace, site: Site, reused: bool, report: Report) -> None:
    """Prepare (unless reused), measure everything from ``--from`` on."""
    if reused:
        site.flask(site.a, "db", "upgrade")
        report.add(f"reused site in {site.work}", f"{site.rows('SELECT count(*) FROM listing')[0][0]:,} listings")
    else:
        prepare(site, options.count, report)
    steps = STEPS[STEPS.index(options.start):]
    database_size(site, report)
    rebuild_seconds = rebuild(site, report) if "rebuild" in steps else 0.0
    servers = []
    try:
        a = serve(site, site.a, "instance A")
        servers.append(a)
        if "requests" in steps:
            measure_requests(a, report, options.seconds)
        publisher = Publisher(site, a)
        if "publish" in steps:
            publish_to_searchable(publisher, [a], report, PUBLISH_TRIES, 60.0, "publish to searchable, same server")
        if "new-server" in steps:
            new_server(site, report, rebuild_seconds)
        b = site.instance("b")
        step = site.flask(b, "index", "ensure")
        report.add("new server, empty disk: flask index ensure", f"{step.took()}, {step.memory()} "
                   f"({step.output})", step.command)
        servers.append(serve(site, b, "instance B"))
        publish_to_searchable(publisher, servers, report, PROPAGATION_TRIES, PROPAGATION_LIMIT,
                              "two servers: published on A, found by search on B")
    finally:
        for server in servers:
            stop(server)


def load() -> str:
    """The machine's load average over the last minute (other work shares the processors)."""
    return Path("/proc/loadavg").read_text().split()[0]


def machine() -> str:
    """This machine's processors and memory in words."""
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores, {memory / 1024 / 1024:.0f} GB"


def main() -> None:
    """Parse the options, run the bench and always clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000, help="generated listings")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--postgres", default=DEFAULT_DATABASE, help="PostgreSQL server and database (a schema is made)")
    parser.add_argument("--seconds", type=int, default=20, help="seconds of wrk load")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep the site in DIR for --reuse")
    parser.add_argument("--reuse", type=Path, metavar="DIR", help="reuse a site kept with --keep (kept again)")
    parser.add_argument("--from", dest="start", choices=STEPS, default=STEPS[0],
                        help="with --reuse, measure from this step on (the index of a kept site is used as it is)")
    options = parser.parse_args()
    if options.keep and options.reuse:
        parser.error("give --keep or --reuse, not both")
    if options.start != STEPS[0] and not options.reuse:
        parser.error("--from needs --reuse (a site with its index built)")
    if options.count < 1:
        parser.error("--count must be at least 1")
    schema, reused = None, False
    if options.reuse:
        record = options.reuse / "site.json"
        if not record.exists():
            parser.error(f"{options.reuse} holds no site kept with --keep (no site.json)")
        kept = json.loads(record.read_text())
        options.database, options.count, schema, reused = kept["database"], kept["count"], kept["schema"], True
        work = options.reuse
    elif options.keep:
        if options.keep.exists() and any(options.keep.iterdir()):
            parser.error(f"{options.keep} is not empty")
        work = options.keep
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="lo-sizing-"))
    site = Site(options, work.resolve(), schema)
    (site.work / "site.json").write_text(json.dumps({"database": options.database, "schema": site.schema,
                                                     "count": options.count}))
    print(f"Sizing: {options.count:,} generated listings on {options.database} "
          f"({'schema ' + site.schema if options.database != 'sqlite' else site.work / 'site.sqlite'}), "
          f"this machine {machine()} (load average {load()}); folders in {site.work}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    report = Report()
    status_code = 1
    try:
        run(options, site, reused, report)
        status_code = 0
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        status_code = 130
    finally:
        report.print(f"Summary: {options.count:,} listings, {options.database}, {machine()}")
        if options.keep or options.reuse:
            print(f"kept the site in {site.work} (schema {site.schema}): --reuse {site.work}")
        else:
            site.drop()
    sys.exit(status_code)


if __name__ == "__main__":
    main()
