"""The concurrency bench's load: searchers, writers publishing unique words, and watchers timing when search finds them.

Each change puts a word nobody else uses (``zqkvtbwhmr``) at the end of a
listing's description, through the import path (a separate importer process)
or the portal (a coordinator's edit published at once, or a provider's change
approved by a coordinator).  A watcher then asks the search API for the word
until every gunicorn worker (told apart by ``X-Bench-Worker``) has returned
the listing.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from concurrency_http import WORKER_HEADER, Browser, UnexpectedAnswer

WORDS = ["autism", "swimming", "holiday club", "adhd", "salt", "respite", "quiet cinema", "football",
         "dyslexia", "short breaks", "sensory play", "speech therapy", "trampoline", "drama", "youth club",
         "portage", "camhs", "occupational therapy", "travel training", "nursery", "counselling", "playscheme"]
PLACES = ["ST16 2AD", "Leek", "ST13", "Stoke-on-Trent", "Stafford", "", "", ""]
FILTERS = ["", "free=1", "age=9", "day=SA", "delivery=venue", "period=school_holidays", "need=autism"]
#: How long a watcher waits for every worker to find a change before calling it not found.
WATCH_LIMIT = 30.0
WATCH_INTERVAL = 0.1
WATCH_BACKOFF, WATCH_LONGEST = 1.3, 0.5
COORDINATOR = ("coordinator@demo.example.gov.uk", "local-offer-demo")
PROVIDER = ("provider@demo.example.org", "local-offer-demo")


class Stats:
    """Every response the bench saw, by kind and status, and the first few 5xx answers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()  # (kind, status) -> responses
        self.server_errors: list[str] = []
        self.failures: list[str] = []

    def saw(self, response: requests.Response, kind: str = "writers (portal and import reads)") -> None:
        """Count one response of a kind: a searcher's page or API search, a watcher's, the final check's."""
        with self.lock:
            self.statuses[(kind, response.status_code)] += 1
            if response.status_code >= 500 and len(self.server_errors) < 5:
                self.server_errors.append(f"{response.status_code} {response.request.method} {response.url} "
                                          f"(worker {response.headers.get(WORKER_HEADER)}): {response.text[:200]!r}")

    def failed(self, message: str) -> None:
        """Note a request that got no answer at all, or a change that could not be made."""
        with self.lock:
            self.failures.append(message)

    def count(self, kinds: tuple[str, ...] | None = None, errors: bool = False) -> int:
        """Responses of some kinds (all when None), only 5xx when ``errors``."""
        with self.lock:
            return sum(n for (kind, status), n in self.statuses.items()
                       if (kinds is None or kind in kinds) and (not errors or status >= 500))

    @property
    def server_error_count(self) -> int:
        return self.count(errors=True)


@dataclass
class Change:
    """One published change: which listing, through which path, its word, and when each worker found it."""

    number: int
    listing_id: str
    path: str
    token: str
    started: float = 0.0
    committed: float = 0.0
    ok: bool = False
    error: str = ""
    seen: dict[str, float] = field(default_factory=dict)
    superseded: bool = False
    timed_out: bool = False


#: Letters of the changes' words: consonants only, so no word is English, stemmed or like another.
WORD_LETTERS = "bcdfghjkmnpqrtvwxz"


class Changes:
    """Every change of the run, numbered, with each listing's changes in order."""

    def __init__(self, seed: int = 0):
        self.lock = threading.Lock()
        self.all: list[Change] = []
        self.rng = random.Random(seed)
        self.words: set[str] = set()

    def word(self) -> str:
        """A new random word.

        Not numbered words: search matches a word it does not know to known words one edit
        away, so ``zqx00014`` would find the listing holding ``zqx00018``.  Eight random
        letters from 18 are never that close to each other by chance.
        """
        while True:
            word = "zq" + "".join(self.rng.choice(WORD_LETTERS) for _ in range(8))
            if word not in self.words:
                self.words.add(word)
                return word

    def new(self, listing_id: str, path: str) -> Change:
        """Number a new change and give it its word."""
        with self.lock:
            change = Change(len(self.all) + 1, listing_id, path, self.word())
            self.all.append(change)
            return change

    def description(self, listing_id: str, original: str, change: Change) -> str:
        """The listing's original description with the change's word after it."""
        return f"{original}\n<p>Bench word {change.token}.</p>"

    def by_listing(self) -> dict[str, list[Change]]:
        """Each listing's published changes, oldest first."""
        with self.lock:
            grouped: dict[str, list[Change]] = {}
            for change in self.all:
                if change.ok:
                    grouped.setdefault(change.listing_id, []).append(change)
            return grouped

    def newer_exists(self, change: Change) -> bool:
        """Say whether a later change to the same listing has been published."""
        with self.lock:
            return any(other.ok and other.listing_id == change.listing_id and other.number > change.number
                       for other in self.all)


SEARCHER_KINDS = ("searchers: page /search", "searchers: api /api/v1/services")
WATCH_KIND = "watchers: api ?text=<word>"
CHECK_KIND = "final check: api ?text=<word>"


def search_ids(base: str, text: str, stats: Stats, kind: str = WATCH_KIND,
               per_page: int = 50) -> tuple[str, set[str], int]:
    """Ask the search API for a word; return (worker, ids found, status)."""
    response = requests.get(f"{base}/api/v1/services", params={"text": text, "per_page": per_page}, timeout=60)
    stats.saw(response, kind)
    ids = set()
    if response.status_code == 200:
        ids = {item["id"] for item in response.json().get("content", [])}
    return response.headers.get(WORKER_HEADER, "?"), ids, response.status_code


def ask_together(base: str, text: str, stats: Stats, count: int, kind: str = WATCH_KIND,
                 per_page: int = 50) -> list[tuple[str, set[str], int, float]]:
    """Ask the search API for a word ``count`` times at once, so each sync worker is likely to take one.

    Asked one after another, the same worker tends to answer every time and the
    other is heard late, which would time the bench rather than the site.
    Returns (worker, ids found, status, when answered) for each answer that came.
    """
    answers: list[tuple[str, set[str], int, float]] = []

    def ask() -> None:
        try:
            worker, ids, status = search_ids(base, text, stats, kind, per_page=per_page)
        except requests.RequestException:
            return
        answers.append((worker, ids, status, time.time()))

    threads = [threading.Thread(target=ask, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def searcher(base: str, stats: Stats, stop: threading.Event, seed: int) -> None:
    """Search like families and other sites do, pages and API in turn, until told to stop."""
    rng = random.Random(seed)
    while not stop.is_set():
        words = " ".join(rng.sample(WORDS, rng.choice([1, 1, 2])))
        try:
            if rng.random() < 0.5:
                params = {"q": words}
                place = rng.choice(PLACES)
                if place:
                    params["where"] = place
                for extra in rng.sample(FILTERS, 2):
                    if extra:
                        key, value = extra.split("=")
                        params[key] = value
                response = requests.get(f"{base}/search", params=params, timeout=60)
                stats.saw(response, SEARCHER_KINDS[0])
            else:
                response = requests.get(f"{base}/api/v1/services", params={"text": words}, timeout=60)
                stats.saw(response, SEARCHER_KINDS[1])
        except requests.RequestException as error:
            stats.failed(f"search got no answer: {error}")
        stop.wait(0.02)


def watch(base: str, change: Change, changes: Changes, workers: int, stats: Stats) -> None:
    """Ask search for the change's word until every worker has found the listing; note when each did."""
    deadline = change.committed + WATCH_LIMIT
    interval = WATCH_INTERVAL
    while time.time() < deadline:
        for worker, ids, _status, when in ask_together(base, change.token, stats, workers):
            if change.listing_id in ids and worker not in change.seen:
                change.seen[worker] = when
        if len(change.seen) >= workers:
            return
        if changes.newer_exists(change):
            change.superseded = True
            return
        time.sleep(interval)
        interval = min(WATCH_LONGEST, interval * WATCH_BACKOFF)  # a change slow to appear is not polled hard
    change.timed_out = True


class Pacer:
    """Spread one writer's changes evenly: ``rate`` a second, catching up without bursting."""

    def __init__(self, rate: float, stop: threading.Event):
        self.interval = 1.0 / rate if rate > 0 else None
        self.next = time.time() + random.random() * (self.interval or 0)
        self.stop = stop

    def wait(self) -> bool:
        """Wait for this writer's next turn; False once the run is over."""
        if self.interval is None:
            return False
        self.stop.wait(max(0.0, self.next - time.time()))
        self.next = max(self.next + self.interval, time.time() - self.interval)
        return not self.stop.is_set()


@dataclass
class Writer:
    """What every writer shares: the site, the listings it may change, the run's records."""

    base: str
    listings: list[tuple[str, str]]  # (id, original description)
    changes: Changes
    stats: Stats
    workers: int
    watchers: list[threading.Thread]
    rate: float
    stop: threading.Event
    seed: int

    def run(self) -> None:
        """Publish changes at this writer's rate until the run ends."""
        rng = random.Random(self.seed)
        pacer = Pacer(self.rate, self.stop)
        try:
            self.prepare()
        except (UnexpectedAnswer, requests.RequestException, RuntimeError) as error:
            self.stats.failed(f"{type(self).__name__} could not start: {error}")
            return
        while pacer.wait():
            listing_id, original = rng.choice(self.listings)
            change = self.changes.new(listing_id, self.path)
            try:
                self.publish(change, self.changes.description(listing_id, original, change))
            except (UnexpectedAnswer, requests.RequestException, RuntimeError) as error:
                change.error = str(error)
                self.stats.failed(f"change {change.number} ({change.path}, {listing_id}): {error}")
                continue
            change.ok = True
            thread = threading.Thread(target=watch, args=(self.base, change, self.changes, self.workers, self.stats),
                                      daemon=True)
            thread.start()
            self.watchers.append(thread)

    path = "?"

    def prepare(self) -> None:
        """Sign in, start a process: whatever the writer needs once."""

    def publish(self, change: Change, description: str) -> None:
        """Make and publish one change; set ``change.started`` and ``change.committed``."""
        raise NotImplementedError


class CoordinatorWriter(Writer):
    """A coordinator edits a live listing in the portal and publishes it at once ("publish now")."""

    path = "portal: coordinator publish now"

    def prepare(self) -> None:
        self.browser = Browser(self.base, on_response=self.stats.saw)
        self.browser.sign_in(*COORDINATOR)

    def publish(self, change: Change, description: str) -> None:
        listing = f"/portal/listings/{change.listing_id}"
        # Saving a section of a live listing opens a change beside it (the form carries the live version).
        about = self.browser.form(f"{listing}/sections/about", "/sections/about", "about section")
        about.set("description", description)
        self.browser.submit(about, "save about section")
        publish = self.browser.form(listing, "/publish", "task list (publish now)")
        change.started = time.time()
        self.browser.submit(publish, "publish now")
        change.committed = time.time()


class ProviderWriter(Writer):
    """A provider changes their listing and sends it; a coordinator approves it from the moderation page."""

    path = "portal: provider change, coordinator approval"

    def prepare(self) -> None:
        self.provider = Browser(self.base, on_response=self.stats.saw)
        self.provider.sign_in(*PROVIDER)
        self.coordinator = Browser(self.base, on_response=self.stats.saw)
        self.coordinator.sign_in(*COORDINATOR)

    def publish(self, change: Change, description: str) -> None:
        listing = f"/portal/listings/{change.listing_id}"
        about = self.provider.form(f"{listing}/sections/about", "/sections/about", "about section")
        about.set("description", description)
        self.provider.submit(about, "save about section")
        send = self.provider.form(listing, "/submit", "task list (send for checking)")
        send.set("note", f"Bench change {change.number}")
        revision = send.get("revision")
        self.provider.submit(send, "send for checking")
        approve = self.coordinator.form(f"/moderation/changes/{revision}", "/approve", "review page")
        change.started = time.time()
        self.coordinator.submit(approve, "approve")
        change.committed = time.time()


class ImportWriter(Writer):
    """An import publishing ORUK services (the API's own records, description changed) in a separate process."""

    path = "import: ORUK --apply --publish"
    code: Path = Path(".")
    env: dict | None = None

    def prepare(self) -> None:
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("concurrency_importer.py"))],
                                        cwd=self.code, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        ready = self.process.stdout.readline()
        if not ready.strip().startswith("{"):
            raise RuntimeError(f"the importer did not start: {ready!r}")
        imported = json.loads(ready)["code"]
        if not Path(imported).resolve().is_relative_to(Path(self.code).resolve()):
            raise RuntimeError(f"the importer runs {imported}, not the code under test in {self.code}")

    def publish(self, change: Change, description: str) -> None:
        response = requests.get(f"{self.base}/api/v1/services/{change.listing_id}", timeout=60)
        self.stats.saw(response)
        if response.status_code != 200:
            raise UnexpectedAnswer("read the ORUK service", response)
        service = response.json()
        service["description"] = description
        self.process.stdin.write(json.dumps({"change": change.number, "services": [service]}) + "\n")
        answer = json.loads(self.process.stdout.readline() or "{}")
        change.started, change.committed = answer.get("started", 0.0), answer.get("finished", 0.0)
        if answer.get("error"):
            raise RuntimeError(f"import failed: {answer['error'].strip().splitlines()[-1]}")
        action, reason = answer.get("outcomes", {}).get(change.listing_id, ["missing", ""])
        if action != "updated":
            raise RuntimeError(f"import said {action} {reason}".strip())

    def close(self) -> None:
        """End the importer process."""
        process = getattr(self, "process", None)
        if process and process.poll() is None:
            process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
