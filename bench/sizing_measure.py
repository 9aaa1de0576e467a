"""The sizing bench's instruments: processes' memory, a flask command timed, idle workers, HTTP timings.

Memory is read from ``/proc``: ``VmHWM`` (a process's peak resident memory),
``VmRSS`` (now) and ``Pss`` from ``smaps_rollup`` (resident memory with pages
shared between processes, as forked workers share theirs, divided among them:
the honest sum for several processes).  A command's largest process is also
taken exactly from ``wait4``'s ``ru_maxrss`` when it ends.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from concurrency_http import Browser  # noqa: E402  (bench modules sit beside this script)
from concurrency_load import Changes, Stats, ask_together  # noqa: E402
from search import percentiles  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
#: The account ``flask users create --role coordinator`` makes for the bench.
COORDINATOR = ("sizing-coordinator@example.org", "sizing-bench-password")


def mb(kilobytes: float) -> str:
    """Kilobytes as megabytes in words."""
    return f"{kilobytes / 1024:,.0f} MB"


def tree(pid: int) -> list[int]:
    """A process and all its descendants now."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                todo += [int(child) for child in Path(f"/proc/{current}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return found


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB (empty once it has gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) for line in lines if line.startswith(("VmRSS", "VmHWM"))}


def pss(pid: int) -> int:
    """A process's proportional set size in kB (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


class MemoryWatch(threading.Thread):
    """Sample a process tree every half second: the largest peak of one process, the tree's total PSS.

    Says how the command is doing every minute, so a long step shows progress.
    """

    def __init__(self, pid: int, label: str):
        super().__init__(daemon=True)
        self.pid, self.label = pid, label
        self.peak_one = 0  # kB, the largest VmHWM of any process in the tree
        self.peak_total = 0  # kB, the largest sum of PSS over the tree at one moment
        self.processes = 1
        self.done = threading.Event()
        self.started = time.perf_counter()

    def run(self) -> None:
        said = self.started
        while not self.done.wait(0.5):
            pids = tree(self.pid)
            self.processes = max(self.processes, len(pids))
            self.peak_one = max([self.peak_one] + [status(pid).get("VmHWM", 0) for pid in pids])
            self.peak_total = max(self.peak_total, sum(pss(pid) for pid in pids))
            if time.perf_counter() - said >= 60:
                said = time.perf_counter()
                print(f"    ... {self.label}: {said - self.started:.0f} s, {len(pids)} processes, "
                      f"{mb(sum(pss(pid) for pid in pids))} now", flush=True)

    def stop(self) -> None:
        self.done.set()
        self.join()


@dataclass
class Step:
    """A command that ran: how long, the CPU time it and its processes used, its last line of output, its memory."""

    command: str
    seconds: float
    cpu: float
    output: str
    peak_one: int  # kB
    peak_total: int  # kB
    processes: int

    def took(self) -> str:
        """Wall time and CPU time in words (on a busy machine the CPU time is the steadier figure)."""
        return f"{self.seconds:.1f} s ({self.cpu:.0f} CPU s)"

    def memory(self) -> str:
        """The peaks in words."""
        if self.processes > 1:
            return (f"peak {mb(self.peak_one)} in its largest process, {mb(self.peak_total)} in its "
                    f"{self.processes} processes together")
        return f"peak {mb(self.peak_one)}"


def run_command(command: list[str], env: dict, cwd: Path, label: str, log: Path) -> Step:
    """Run a command, watching its memory; raise with its output when it fails."""
    started = time.perf_counter()
    with open(log, "a") as errors:
        errors.write(f"\n$ {' '.join(command)}\n")
        errors.flush()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
        watch = MemoryWatch(process.pid, label)
        watch.start()
        output = process.stdout.read()
        _pid, code, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(code)
        watch.stop()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{label} failed ({process.returncode}):\n{output}\n{log.read_text()[-3000:]}")
    last = (output.strip().splitlines() or [""])[-1]
    return Step(label, seconds, usage.ru_utime + usage.ru_stime, last, max(watch.peak_one, usage.ru_maxrss), max(watch.peak_total, watch.peak_one),
                watch.processes)


def wait_until_idle(pids: list[int], quiet: float = 0.1, over: float = 3.0, limit: float = 900) -> float:
    """Wait until the processes use less than ``quiet`` CPU seconds in ``over`` seconds (warmers done)."""
    started = time.perf_counter()
    before = sum(cpu_seconds(pid) for pid in pids)
    while time.perf_counter() - started < limit:
        time.sleep(over)
        now = sum(cpu_seconds(pid) for pid in pids)
        if now - before < quiet:
            break
        before = now
    return time.perf_counter() - started


def timed_pages(base: str, urls: list[str]) -> tuple[list[float], dict[int, int]]:
    """Ask for each address in turn over HTTP; return the times and a count of statuses."""
    times, statuses = [], {}
    with requests.Session() as session:
        for url in urls:
            started = time.perf_counter()
            response = session.get(base + url, headers={"Accept-Encoding": "br, gzip"}, timeout=120)
            times.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return times, statuses


def describe(samples: list[float]) -> str:
    """p50, p95 and p99 in words."""
    return "p50 {:.0f} ms, p95 {:.0f} ms, p99 {:.0f} ms".format(*percentiles(samples))


def seconds_summary(samples: list[float]) -> str:
    """Median and maximum of some durations in words."""
    return f"median {statistics.median(samples):.2f} s, max {max(samples):.2f} s"


def until_found(base: str, word: str, listing_id: str, workers: int, limit: float, stats: Stats) -> float | None:
    """Ask a site's search for a word until every worker returns the listing; when the last did, or None."""
    seen: dict[str, float] = {}  # worker -> when it first returned the listing
    deadline = time.time() + limit
    interval = 0.05
    while time.time() < deadline:
        for worker, ids, _status, when in ask_together(base, word, stats, workers):
            if listing_id in ids and worker not in seen:
                seen[worker] = when
        if len(seen) >= workers:
            return max(seen.values())
        time.sleep(interval)
        interval = min(0.5, interval * 1.3)
    return None


def results_for(base: str, text: str) -> int:
    """How many listings a site's search API returns for some words (0 when it does not answer)."""
    try:
        response = requests.get(f"{base}/api/v1/services", params={"text": text}, timeout=30)
    except requests.RequestException:
        return 0
    if response.status_code != 200:
        return 0
    return len(response.json().get("content", []))


class Publisher:
    """A coordinator signed in to a server, changing generated listings' descriptions and publishing them now.

    ``site.rows(sql)`` reads the database; ``server.base`` is where the coordinator signs in.
    """

    def __init__(self, site, server):
        self.browser = Browser(server.base)
        self.browser.sign_in(*COORDINATOR)
        self.listings = [row[0] for row in site.rows(
            "SELECT id FROM listing WHERE status = 'published' AND description LIKE '%(Reference %' "
            "ORDER BY id LIMIT 40")]
        self.changes = Changes(seed=int(time.time()))

    def publish(self) -> tuple[str, str, float, float]:
        """Publish a new word into the next listing: (listing id, word, when publish was pressed, request seconds)."""
        listing_id = self.listings[len(self.changes.all) % len(self.listings)]
        change = self.changes.new(listing_id, "portal: coordinator publish now")
        path = f"/portal/listings/{listing_id}"
        about = self.browser.form(f"{path}/sections/about", "/sections/about", "about section")
        about.set("description", f"{about.get('description') or ''}\n\nBench word {change.token}.")
        self.browser.submit(about, "save about section")
        publish = self.browser.form(path, "/publish", "task list (publish now)")
        started = time.time()
        self.browser.submit(publish, "publish now")
        return listing_id, change.token, started, time.time() - started
