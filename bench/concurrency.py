"""Concurrency bench: search under gunicorn while imports and the portal publish, with a rebuild in the middle.

    python bench/concurrency.py --seconds 60 --workers 2          (make bench runs it)
    python bench/concurrency.py --code /work/other-checkout       (measure another checkout's code)

Makes a throwaway site on PostgreSQL (a schema of its own in the ``test``
database) with Redis for the rate limits: migrates, builds the gazetteer,
loads the content and the demo accounts, generates 5,000 listings, builds the
index (kept in ``--cache`` per version of the code, restored in seconds next
time; ``--no-cache`` starts from nothing).  Starts gunicorn (N sync workers, one shared index folder) serving the
site through ``bench/concurrency_app.py``, which adds ``X-Bench-Worker: <pid>``.

For ``--seconds``: searcher threads hit ``/search`` and ``/api/v1/services``;
writers publish about ``--rate`` changes a second, each putting a new word
(``zqkvtbwhmr``) into a listing's description, through an importer process (the
``flask oruk import --apply --publish`` path), a coordinator's "publish now"
in the portal and a provider's change approved by a coordinator; halfway,
``flask index rebuild`` runs in its own process.  After each change a watcher
asks the search API for its word until every worker has found the listing.

Afterwards it checks every changed listing (its latest word found by every
worker, its earlier words found by none) and a sample of unchanged ones, then
prints searches served, 5xx (with the server's tracebacks), changes published,
changes missing or stale, and publish-to-searchable p50 and max across the
workers.  Exits 1 when there was any 5xx or any change missing or stale.

Not part of the test suite: timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from concurrency_load import (  # noqa: E402  (bench modules sit beside this script)
    SEARCHER_KINDS,
    Changes,
    CoordinatorWriter,
    ImportWriter,
    ProviderWriter,
    Stats,
    search_ids,
    searcher,
)
from concurrency_report import final_check, report  # noqa: E402
from concurrency_setup import (  # noqa: E402
    DEFAULT_CACHE,
    DEFAULT_DATABASE,
    DEFAULT_REDIS,
    Instance,
    prepare,
    published_listings,
)

PROVIDER_ORGANISATION = "6f1c2a40-1d0b-4c51-9a57-0d2f0c1a0001"


def free_port() -> int:
    """Return a TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn serving the site: N sync workers, its log kept to show the tracebacks of any 5xx."""

    def __init__(self, instance: Instance, workers: int):
        self.instance = instance
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = instance.folder / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start gunicorn and wait until every worker answers."""
        env = self.instance.env(PYTHONPATH=f"{self.instance.code}{os.pathsep}{BENCH}")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                 "--timeout", "120", "--chdir", str(self.instance.code), "concurrency_app:app"],
                cwd=self.instance.code, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 120
        seen = set()
        while time.time() < deadline and len(seen) < self.workers:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped:\n{self.log.read_text()[-3000:]}")
            try:
                response = requests.get(f"{self.base}/api/v1/services", params={"text": "autism"}, timeout=60)
                if response.status_code == 200:
                    seen.add(response.headers.get("X-Bench-Worker"))
            except requests.RequestException:
                time.sleep(0.3)
        if len(seen) < self.workers:
            raise RuntimeError(f"gunicorn workers did not all answer:\n{self.log.read_text()[-3000:]}")
        # ``python -m`` puts the working directory first on the path: be sure the workers run the code asked for.
        used = set(re.findall(r"^bench: worker \d+ runs local_offer from (.+)$", self.log.read_text(), re.M))
        wrong = [path for path in used if not Path(path).resolve().is_relative_to(self.instance.code)]
        if wrong or not used:
            raise RuntimeError(f"gunicorn workers run {', '.join(sorted(used)) or 'unknown code'}, "
                               f"not the code under test in {self.instance.code}")
        print(f"gunicorn on {self.base}: workers {', '.join(sorted(seen))} answering, running {', '.join(used)}",
              flush=True)

    def worker_pids(self) -> list[int]:
        """The master's children now (gunicorn's workers)."""
        if self.process is None:
            return []
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def stop(self) -> None:
        """Stop gunicorn and its workers (its own process group)."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def tracebacks(self, limit: int = 3) -> list[str]:
        """The first few different tracebacks in the log (by their last line)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        found, lasts = [], set()
        for block in re.split(r"(?=Traceback \(most recent call last\):)", text)[1:]:
            lines = [line for line in block.splitlines() if line.strip()]
            end = next((i for i, line in enumerate(lines) if i and not line.startswith((" ", "Traceback"))), None)
            if end is None:
                continue
            block_lines = lines[:end + 1]
            if block_lines[-1] not in lasts:
                lasts.add(block_lines[-1])
                found.append("\n".join(block_lines[-12:]))
        return found[:limit]


def choose_listings(instance: Instance, seed: int) -> dict[str, list[tuple[str, str]]]:
    """Split the listings between the writers (none shares a listing) and keep a sample untouched."""
    rows = published_listings(instance)
    provider = [(i, d) for i, organisation, d in rows if organisation == PROVIDER_ORGANISATION]
    generated = [(i, d) for i, organisation, d in rows if re.search(r"\(Reference \d+\.\)", d or "")]
    random.Random(seed).shuffle(generated)
    # Few listings per writer, so most are changed several times and earlier words can go stale.
    return {"import": generated[:25], "coordinator-1": generated[25:50], "coordinator-2": generated[50:75],
            "provider": provider, "untouched": generated[75:105]}


def rebuild_in_middle(instance: Instance, at: float, record: dict, stop: threading.Event) -> None:
    """Run ``flask index rebuild`` in its own process at a given time; note when it ran and how it ended."""
    if stop.wait(max(0.0, at - time.time())):
        return
    record["started"] = time.time()
    print(f"  [{time.strftime('%H:%M:%S')}] flask index rebuild started", flush=True)
    done = instance.flask("index", "rebuild", quiet=True, check=False)
    record.update(finished=time.time(), returncode=done.returncode,
                  output=(done.stdout.strip().splitlines() or [""])[-1], error=done.stderr.strip()[-2000:])
    print(f"  [{time.strftime('%H:%M:%S')}] flask index rebuild ended ({done.returncode}) after "
          f"{record['finished'] - record['started']:.1f} s: {record['output']}", flush=True)


def kill_a_worker(server: Server, at: float, record: dict, stop: threading.Event, stats: Stats) -> None:
    """SIGKILL one gunicorn worker at a given time (the master starts another)."""
    if stop.wait(max(0.0, at - time.time())):
        return
    pids = server.worker_pids()
    if pids:
        os.kill(pids[0], signal.SIGKILL)
        record.update(pid=pids[0], at=time.time(), searches=stats.count(SEARCHER_KINDS),
                      failures=len(stats.failures))
        print(f"  [{time.strftime('%H:%M:%S')}] killed worker {pids[0]}", flush=True)


def run(options: argparse.Namespace, instance: Instance) -> int:
    """Prepare, serve, load, check and report; return the exit status."""
    started = time.perf_counter()
    prepare(instance, options.listings, cache=None if options.no_cache else options.cache)
    print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)
    server = Server(instance, options.workers)
    writers = []
    try:
        server.start()
        chosen = choose_listings(instance, options.seed)
        stats, changes, stop, watchers = Stats(), Changes(options.seed), threading.Event(), []
        share = options.rate / 4
        common = dict(base=server.base, changes=changes, stats=stats, workers=options.workers, watchers=watchers,
                      stop=stop, rate=share)
        importer = ImportWriter(listings=chosen["import"], seed=options.seed + 1, **common)
        importer.code, importer.env = instance.code, instance.env()
        writers = [importer,
                   CoordinatorWriter(listings=chosen["coordinator-1"], seed=options.seed + 2, **common),
                   CoordinatorWriter(listings=chosen["coordinator-2"], seed=options.seed + 3, **common),
                   ProviderWriter(listings=chosen["provider"], seed=options.seed + 4, **common)]
        threads = [threading.Thread(target=writer.run, daemon=True) for writer in writers]
        threads += [threading.Thread(target=searcher, args=(server.base, stats, stop, options.seed + 10 + n),
                                     daemon=True) for n in range(options.searchers)]
        rebuild: dict = {}
        killed: dict = {}
        began = time.time()
        threads.append(threading.Thread(target=rebuild_in_middle, daemon=True,
                                        args=(instance, began + options.seconds / 2, rebuild, stop)))
        if options.kill_worker:
            threads.append(threading.Thread(target=kill_a_worker, daemon=True,
                                            args=(server, began + options.seconds / 3, killed, stop, stats)))
        print(f"running {options.seconds} s: {options.searchers} searchers, writers at {options.rate}/s in all, "
              f"rebuild at {options.seconds / 2:.0f} s", flush=True)
        for thread in threads:
            thread.start()
        while time.time() - began < options.seconds:
            time.sleep(max(0.0, min(10.0, options.seconds - (time.time() - began))))
            print(f"  [{time.strftime('%H:%M:%S')}] {time.time() - began:.0f} s: {stats.count(SEARCHER_KINDS)} "
                  f"searches, {stats.server_error_count} 5xx, {sum(c.ok for c in changes.all)} changes published",
                  flush=True)
        stop.set()
        searches_during_run = stats.count(SEARCHER_KINDS)
        for thread in threads:
            thread.join(timeout=300)
        for thread in list(watchers):
            thread.join(timeout=60)
        importer.close()
        time.sleep(3)  # the workers' next requests see the rebuild's generation
        checked = final_check(server, changes, chosen["untouched"], stats, search_ids)
        return report(options, stats, changes, checked, rebuild, killed, server, searches_during_run)
    finally:
        for writer in writers:
            if isinstance(writer, ImportWriter):
                writer.close()
        server.stop()


def main() -> None:
    """Parse the options, run the bench and always clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="how long the load runs")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--searchers", type=int, default=3, help="searching threads")
    parser.add_argument("--rate", type=float, default=3.0, help="changes published a second, all writers together")
    parser.add_argument("--listings", type=int, default=5000, help="synthetic listings to generate")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL one worker a third of the way through")
    parser.add_argument("--code", type=Path, default=BENCH.parent, help="the checkout whose code is measured")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="PostgreSQL server and database (a schema is made)")
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="keep the prepared site here and reuse it when the code and --listings are the same")
    parser.add_argument("--no-cache", action="store_true", help="prepare the site from nothing, keep nothing")
    parser.add_argument("--keep", action="store_true", help="keep the schema and instance folder afterwards")
    parser.add_argument("--no-warm", action="store_true",
                        help="turn off search warming and card prerendering (on by default, as in production)")
    options = parser.parse_args()
    instance = Instance(code=options.code.resolve(), database=options.database, redis=options.redis,
                        settings={"LOCAL_OFFER_SEARCH_WARM": "false", "LOCAL_OFFER_CARD_PRERENDER": "false"}
                        if options.no_warm else {})
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    status = 1
    try:
        status = run(options, instance)
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        status = 130
    finally:
        if options.keep:
            print(f"kept schema {instance.schema} and {instance.folder}")
        else:
            instance.drop()
    sys.exit(status)


if __name__ == "__main__":
    main()
