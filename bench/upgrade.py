"""Upgrade bench: the previous release serves under load while the new release migrates and takes over.

    python bench/upgrade.py [--seconds 6] [--threads 4] [--workers 2] [--database URL] [--redis URL]
                            [--reload restart|usr2|hup] [--no-naive] [--keep]

What a council's server does on an upgrade (docs/deployment.md, "Upgrading"), on PostgreSQL:

1. The previous release (the code just before the newest migration was added, taken
   from git with ``git archive``) is set up in a schema of its own: its own
   ``flask db upgrade`` (the previous schema), the demo content, its search index.
2. gunicorn serves it (``--workers`` sync workers, the release's own
   ``gunicorn.conf.py``) from a release folder reached through a ``current`` symlink,
   as a real server's ``/srv/local-offer/current``: two instances on two ports with
   ``--reload restart`` (the default, as docs/deployment.md sets a server up), one otherwise.
3. ``--threads`` threads load it: searches, listing pages, What's on, "You said, we
   did", the API, and a provider signed in saving a section of a listing (with CSRF,
   as a browser).  Requests alternate between the instances, and a refused connection
   is tried on the other, as nginx's ``proxy_next_upstream error`` does.
4. After ``--seconds``, this checkout's ``flask db upgrade`` runs against the same
   schema while the old code serves.
5. The symlink is switched to this checkout and the new code takes over:
   ``restart`` stops each instance gracefully (TERM: its workers finish their
   requests) and starts it again on the new release, one after the other; ``usr2``
   starts a new master with the new code beside the old one on the same socket, then
   TERMs the old master; ``hup`` sends HUP, which restarts the workers from the same
   master.  Every answer carries the release its code came from (a header added by a
   small wrapper), so the bench reports which release answered.
6. The load goes on for ``--seconds`` more.

It prints the answers by status in each phase, requests a second, how long the
migration and the switch took, and exits 1 on any 5xx or refused connection.  Then,
unless ``--no-naive``, it shows the naive order for comparison: ``flask db downgrade``
then ``flask db upgrade`` while the new code serves.  The schema, the release folders
and gunicorn are removed afterwards, even on Ctrl-C (``--keep`` keeps the schema and
folders).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))

from concurrency_setup import DEFAULT_DATABASE, DEFAULT_REDIS, Instance  # noqa: E402
from upgrade_journeys import PROVIDER, Driver, find_form, sign_in  # noqa: E402

VERSIONS = ROOT / "local_offer" / "migrations" / "versions"
CODE_HEADER = "X-Bench-Code"
SEARCHES = ["swimming near Stafford", "autism support", "holiday club for my 9 year old", "speech therapy Leek",
            "short breaks", "sensory play near Burton", "after school club", "wheelchair football"]

#: The WSGI wrapper gunicorn serves: the app, with the folder its code was imported from on every answer.
WRAPPER = '''from local_offer import create_app
from local_offer.config import PROJECT_ROOT

app = create_app()
# Resolved when local_offer.config was first imported (in the master, if it imported the app): the code in memory.
CODE = str(PROJECT_ROOT)


class Wrapped:
    """The Flask app, answering with the release folder its code came from."""

    def __init__(self, wrapped):
        self.wrapped = wrapped

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, headers + [("X-Bench-Code", CODE)], exc_info)
        return self.wrapped(environ, start)


application = Wrapped(app)
'''
#: Dropped from the path by every process of the bench's site: the editable install's hook, so a
#: release only ever imports its own modules.
ISOLATE = '''import sys
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
'''


def git(*args: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def previous_release() -> tuple[str, str]:
    """The commit before the newest migration was added (HEAD when it is not committed yet), and its name."""
    newest = sorted(VERSIONS.glob("[0-9]*.py"))[-1]
    added = git("log", "--diff-filter=A", "--format=%H", "--", newest.relative_to(ROOT).as_posix()).split()
    commit = git("rev-parse", "--verify", f"{added[0]}^^{{commit}}" if added else "HEAD^{commit}")
    return commit, newest.name


def extract(commit: str, folder: Path) -> Path:
    tree = folder / "previous"
    tree.mkdir()
    archive = folder / "previous.tar"
    with open(archive, "wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    archive.unlink()
    return tree


class Load:
    """Threads sending a mix of requests, counting answers by phase.

    With several addresses (two gunicorn instances), each request goes to the next in turn, and a
    refused connection is tried on the other, as nginx does (``proxy_next_upstream error``).
    """

    def __init__(self, bases: list[str], threads: int):
        self.bases = bases
        self.turn = 0
        self.phase = "before"
        self.counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.failures: list[str] = []
        #: Requests an instance failed to take that were passed to the other, by phase.
        self.passed_on: collections.Counter = collections.Counter()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._reader, args=(n,), daemon=True) for n in range(threads - 1)]
        self.threads.append(threading.Thread(target=self._provider, daemon=True))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _record(self, method: str, path: str, response: requests.Response | None, error: str = "") -> None:
        with self.lock:
            phase = self.phase
            if response is None:
                self.counts[phase]["refused"] += 1
                self.failures.append(f"{phase}: {method} {path}: {error}")
                return
            self.counts[phase][response.status_code] += 1
            self.codes[phase][Path(response.headers.get(CODE_HEADER, "?")).name] += 1
            if response.status_code >= 500:
                self.failures.append(f"{phase}: {method} {path} answered {response.status_code}")

    def send(self, session: requests.Session, method: str, path: str, data=None):
        """One request, recorded; redirects are left to the caller (the driver follows them)."""
        self.turn += 1
        order = self.bases[self.turn % len(self.bases):] + self.bases[:self.turn % len(self.bases)]
        for number, base in enumerate(order):
            try:
                response = session.request(method, base + path, data=data, allow_redirects=False, timeout=60)
            except requests.ConnectionError as error:
                # As nginx (proxy_next_upstream error): a connection refused, or any connection error on a
                # GET, is tried on the other instance; a POST that may have reached the server is not.
                if number + 1 < len(order) and (method == "GET" or "refused" in str(error).lower()):
                    with self.lock:
                        self.passed_on[self.phase] += 1
                    continue
                self._record(method, path, None, f"{type(error).__name__}: {str(error)[:160]}")
                return 599, "", None
            except requests.RequestException as error:
                self._record(method, path, None, type(error).__name__)
                return 599, "", None
            self._record(method, path, response)
            return response.status_code, response.text, response.headers.get("Location")
        return 599, "", None

    def _reader(self, number: int) -> None:
        session = requests.Session()
        session.headers["Accept-Encoding"] = "br, gzip"
        turn = number
        listing = None
        while not self.stop.is_set():
            turn += 1
            kind = turn % 6
            if kind in (0, 1):
                status, body, _ = self.send(session, "GET", "/search?q=" + SEARCHES[turn % len(SEARCHES)])
                if status == 200 and "/listings/" in body:
                    start = body.index('href="/listings/') + 6
                    listing = body[start:body.index('"', start)].split("?")[0]
            elif kind == 2 and listing:
                self.send(session, "GET", listing)
            elif kind == 3:
                self.send(session, "GET", "/api/v1/services?per_page=10&text=autism")
            elif kind == 4:
                self.send(session, "GET", "/api/v3/services/2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0001")
            else:
                self.send(session, "GET", ("/", "/whats-on", "/you-said-we-did")[turn // 6 % 3])

    def _provider(self) -> None:
        """A provider signed in, saving the 'about' section of their listing again and again."""
        session = requests.Session()
        driver = Driver(lambda method, path, data: self.send(session, method, path, data), "provider", [])
        signed_in = False
        while not self.stop.is_set():
            if not signed_in:
                signed_in = sign_in(driver, PROVIDER)
                continue
            section = "/portal/listings/2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0001/sections/about"
            status, page, _ = driver.get(section)
            form = find_form(page, has="summary") if status == 200 else None
            if form is None:  # signed out (or the page failed): sign in again
                signed_in = False
                time.sleep(0.2)
                continue
            for entry in form.fields:
                if entry[0] == "summary":
                    entry[1] = entry[1].rstrip(" .!") + ("!" if entry[1].endswith(".") else ".")
            data = [(name, value) for name, value, kind in form.fields if not kind.endswith("-unchecked")]
            driver.request("POST", form.action or section, data + [b for b in form.buttons if b[0] == "save"][:1])
            time.sleep(0.3)


class Gunicorn:
    """gunicorn serving the release the ``current`` symlink points at, in its own process group."""

    def __init__(self, current: Path, isolate: Path, instance: Instance, workers: int, name: str = "gunicorn"):
        self.current, self.isolate, self.instance, self.workers = current, isolate, instance, workers
        sock = __import__("socket").socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.base = f"http://127.0.0.1:{self.port}"
        self.pidfile = instance.folder.parent / f"{name}.pid"
        self.log = instance.folder.parent / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = self.instance.env(PYTHONPATH=f"{self.current}{os.pathsep}{self.isolate}", PWD=str(self.current))
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(self.workers),
                 "--bind", f"127.0.0.1:{self.port}", "--pid", str(self.pidfile), "--chdir", str(self.current),
                 "--timeout", "60", "--graceful-timeout", "30", "upgrade_app:application"],
                cwd=self.current, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for(lambda code: True)

    def wait_for(self, wanted, seconds: float = 120) -> str:
        """Wait until an answer comes from code ``wanted`` accepts; return that code's folder."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                response = requests.get(self.base + "/healthz", timeout=10)
                code = response.headers.get(CODE_HEADER, "")
                if response.status_code == 200 and wanted(code):
                    return code
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer as expected:\n{self.log.read_text()[-3000:]}")

    def master(self) -> int:
        return int(self.pidfile.read_text().strip())

    def tracebacks(self) -> str:
        """The last lines of gunicorn's log that belong to tracebacks."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        blocks = text.split("Traceback (most recent call last):")[1:]
        return "\n---\n".join(block.strip()[-1500:] for block in blocks[-3:])

    def graceful_stop(self) -> None:
        """TERM the master (it stops accepting, and its workers finish their requests) and wait for it."""
        os.kill(self.master(), signal.SIGTERM)
        self.process.wait(timeout=60)

    def stop(self) -> None:
        for pidfile in (self.pidfile, self.pidfile.with_name(self.pidfile.name + ".2")):
            try:
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except OSError:
                pass


def restart_in_turn(servers: list[Gunicorn], new_code: Path) -> float:
    """Restart each gunicorn instance in turn (a graceful stop, a start on the new release); return the seconds."""
    started = time.perf_counter()
    for server in servers:
        server.graceful_stop()
        server.start()
        server.wait_for(lambda code: Path(code) == new_code, seconds=60)
    return time.perf_counter() - started


def reload(server: Gunicorn, how: str, new_code: Path) -> float:
    """Make one gunicorn serve the new release gracefully (USR2 or HUP); return the seconds until only it answers."""
    started = time.perf_counter()
    old_master = server.master()
    if how == "hup":
        os.kill(old_master, signal.SIGHUP)
    else:
        # USR2: a new master (gunicorn.pid.2) with the new code, its workers on the same socket as the old ones.
        os.kill(old_master, signal.SIGUSR2)
        server.wait_for(lambda code: Path(code) == new_code, seconds=120)
        # The new workers answer: the old master stops accepting, finishes its requests and leaves (TERM is graceful).
        os.kill(old_master, signal.SIGTERM)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:  # until ten answers in a row come from the new code
            if all(Path(server.wait_for(lambda code: True, seconds=30)) == new_code for _ in range(10)):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("the previous release still answers")
    except RuntimeError:
        print(f"  after {how.upper()}, gunicorn still answers with the previous release's code", flush=True)
    return time.perf_counter() - started


def table(load: Load, phases: list[tuple[str, float]]) -> bool:
    """Print the answers by phase; return whether any was a 5xx or refused."""
    bad = False
    print(f"\n{'phase':<28}{'seconds':>8}{'requests':>10}{'a second':>10}  answers (status: count)  served by"
          "  (passed to the other instance)")
    for phase, seconds in phases:
        counts = load.counts.get(phase, collections.Counter())
        total = sum(counts.values())
        bad |= any(str(status) == "refused" or int(status) >= 500 for status in counts if counts[status])
        answers = ", ".join(f"{status}: {count}" for status, count in sorted(counts.items(), key=str))
        served = ", ".join(f"{code}: {count}" for code, count in load.codes.get(phase, {}).items())
        passed = f"  ({load.passed_on[phase]})" if load.passed_on[phase] else ""
        print(f"{phase:<28}{seconds:>8.1f}{total:>10}{total / max(seconds, 0.001):>10.1f}  {answers}  [{served}]{passed}")
    return bad


def run(options: argparse.Namespace) -> int:
    commit, newest = previous_release()
    folder = Path(tempfile.mkdtemp(prefix="lo-upgrade-"))
    print(f"Previous release: {commit[:10]} (the code before {newest}); new: this checkout ({ROOT})", flush=True)
    old_code = extract(commit, folder)
    isolate = folder / "isolate"
    isolate.mkdir()
    (isolate / "sitecustomize.py").write_text(ISOLATE)
    (isolate / "upgrade_app.py").write_text(WRAPPER)
    current = folder / "current"
    current.symlink_to(old_code)
    old = Instance(code=old_code, database=options.database, redis=options.redis, folder=folder / "instance",
                   settings={"PYTHONPATH": f"{old_code}{os.pathsep}{isolate}"})
    old.folder.mkdir()
    new = replace(old, code=ROOT, settings={"PYTHONPATH": f"{ROOT}{os.pathsep}{isolate}"})
    count = 2 if options.reload == "restart" else 1
    servers = [Gunicorn(current, isolate, old, options.workers, name=f"gunicorn-{n}") for n in range(count)]
    load = None
    try:
        print(f"Preparing schema {old.schema} with the previous release", flush=True)
        old.create()
        old.flask("db", "upgrade")
        old.flask("content", "load", "--demo")
        old.flask("index", "ensure")
        for server in servers:
            server.start()
        print(f"{count} gunicorn ({options.workers} workers each) serving the previous release on "
              f"{', '.join(server.base for server in servers)}", flush=True)
        load = Load([server.base for server in servers], options.threads)
        load.start()
        phases = []
        time.sleep(options.seconds)
        phases.append(("before", options.seconds))

        load.phase = "during flask db upgrade"
        started = time.perf_counter()
        new.flask("db", "upgrade")
        migrate_seconds = time.perf_counter() - started
        phases.append((load.phase, migrate_seconds))

        load.phase = f"switching ({options.reload.upper()})"
        current.unlink()
        current.symlink_to(ROOT)
        if options.reload == "restart":
            switch_seconds = restart_in_turn(servers, ROOT)
        else:
            switch_seconds = reload(servers[0], options.reload, ROOT)
        phases.append((load.phase, switch_seconds))

        load.phase = "after"
        time.sleep(options.seconds)
        phases.append(("after", options.seconds))
        naive = []
        if not options.no_naive:
            load.phase = "naive: downgrade, upgrade"
            started = time.perf_counter()
            new.flask("db", "downgrade", check=False)
            new.flask("db", "upgrade", check=False)
            naive.append((load.phase, time.perf_counter() - started))
        load.finish()
        bad = table(load, phases)
        print(f"\nflask db upgrade took {migrate_seconds:.1f} s while the previous release served; the switch took "
              f"{switch_seconds:.1f} s. 5xx or refused during the upgrade: "
              f"{sum(1 for f in load.failures if not f.startswith('naive'))}")
        for failure in [f for f in load.failures if not f.startswith("naive")][:10]:
            print(f"  {failure}")
        if any("answered 5" in failure for failure in load.failures if not failure.startswith("naive")):
            print("\n".join(server.tracebacks() for server in servers))
        if naive:
            print("\nFor comparison, the naive order while the new release serves (not part of the result):")
            table(load, naive)
            prefix = naive[0][0] + ": "
            for failure in sorted({f[len(prefix):].split(" answered")[0].split("?")[0] for f in load.failures
                                   if f.startswith(prefix)})[:8]:
                print(f"  5xx at {failure}")
        return 1 if bad else 0
    finally:
        if load is not None:
            load.finish()
        for server in servers:
            server.stop()
        if not options.keep:
            old.drop()
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept schema {old.schema} and {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="load before the upgrade and after the switch")
    parser.add_argument("--threads", type=int, default=4, help="threads sending requests (one is a provider)")
    parser.add_argument("--workers", type=int, default=2, help="sync workers of each gunicorn")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="PostgreSQL database to make a schema in")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="Redis for rate limits and the page cache")
    parser.add_argument("--reload", choices=("restart", "usr2", "hup"), default="restart",
                        help="how the new code takes over: restart two instances in turn (default), or one "
                             "gunicorn's USR2 (new master, then TERM the old) or HUP")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive downgrade-then-upgrade comparison")
    parser.add_argument("--keep", action="store_true", help="keep the schema and the release folders")
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(run(options))


if __name__ == "__main__":
    main()
