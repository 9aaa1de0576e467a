"""The concurrency bench's verdict: every changed listing checked on every worker, then the figures printed."""

from __future__ import annotations

import re
import statistics
from collections import Counter


from concurrency_load import CHECK_KIND, SEARCHER_KINDS, WATCH_KIND, ask_together

#: Questions the final check may ask for one word before giving up on hearing from every worker.
ASK_LIMIT = 80
#: The issue's promise: every worker finds a published change within this many seconds.
PROMISED_SECONDS = 2.0


def ask_every_worker(server, text: str, stats, search_ids, per_page: int = 50) -> dict[str, set[str]]:
    """Ask the search API for a word until each live worker has answered; return each worker's ids.

    A worker answering with an error counts as finding nothing (``check`` reports the errors apart).
    """
    live = {str(pid) for pid in server.worker_pids()}
    answers: dict[str, set[str]] = {}
    for _ in range(ASK_LIMIT):
        for worker, ids, status, _when in ask_together(server.base, text, stats, max(2, len(live)), CHECK_KIND,
                                                       per_page):
            if worker not in answers or status == 200:
                answers[worker] = ids
        if live and live <= set(answers):
            break
    return answers


def final_check(server, changes, untouched, stats, search_ids) -> dict:
    """Check every changed listing (latest word found by every worker, earlier words by none) and unchanged ones."""
    missing, stale, not_saved, lost, unanswered = [], [], [], [], []
    with server.instance.connect() as connection:
        descriptions = dict(connection.execute("SELECT id, description FROM listing"))
    grouped = changes.by_listing()
    for listing_id, made in grouped.items():
        latest = made[-1]
        if latest.token not in (descriptions.get(listing_id) or ""):
            not_saved.append(f"{listing_id}: {latest.token} not in the database's description")
        answers = ask_every_worker(server, latest.token, stats, search_ids)
        if len(answers) < server.workers:
            unanswered.append(latest.token)
        without = sorted(worker for worker, ids in answers.items() if listing_id not in ids)
        if without or not answers:
            missing.append(f"{listing_id} ({latest.path}): latest word {latest.token} not found by worker(s) "
                           f"{', '.join(without) or 'none answered'}")
        for older in made[:-1]:
            answers = ask_every_worker(server, older.token, stats, search_ids)
            holding = sorted(worker for worker, ids in answers.items() if listing_id in ids)
            if holding:
                stale.append(f"{listing_id} ({older.path}): old word {older.token} (latest {latest.token}) "
                             f"still found by worker(s) {', '.join(holding)}")
    for listing_id, description in untouched:
        reference = re.search(r"\(Reference (\d+)\.\)", description).group(1)
        # Its reference number is a findability probe, not a ranking one: "23" is also in many addresses,
        # so the whole answer (up to 1,000) is looked through, not the first 50.
        answers = ask_every_worker(server, reference, stats, search_ids, per_page=1000)
        without = sorted(worker for worker, ids in answers.items() if listing_id not in ids)
        if without or not answers:
            lost.append(f"{listing_id}: unchanged listing (Reference {reference}) not found by worker(s) "
                        f"{', '.join(without) or 'none answered'}")
    return {"listings": len(grouped), "missing": missing, "stale": stale, "not_saved": not_saved,
            "untouched": len(untouched), "lost": lost, "unanswered": unanswered}


def _seconds(values: list[float]) -> str:
    """p50 and max of some durations, or a dash."""
    if not values:
        return "no changes timed"
    return f"p50 {statistics.median(values):.2f} s, max {max(values):.2f} s"


def _first(lines: list[str], limit: int = 5) -> None:
    """Print the first few lines of a list, and how many more there were."""
    for line in lines[:limit]:
        print(f"    {line}")
    if len(lines) > limit:
        print(f"    ... and {len(lines) - limit} more")


def report(options, stats, changes, checked, rebuild, killed, server, searches_during_run) -> int:
    """Print the figures; return 1 when there was a 5xx or a change missing or stale afterwards, else 0."""
    published = [change for change in changes.all if change.ok]
    failed = [change for change in changes.all if not change.ok]
    timed = [change for change in published if not change.superseded and not change.timed_out
             and len(change.seen) >= options.workers]
    every = [max(change.seen.values()) - change.started for change in timed]
    first = [min(change.seen.values()) - change.started for change in timed]
    print()
    print(f"== Concurrency bench: {options.workers} gunicorn workers, PostgreSQL, Redis, {options.seconds} s, "
          f"code {server.instance.code}")
    searched = stats.count(SEARCHER_KINDS)
    searcher_errors = stats.count(SEARCHER_KINDS, errors=True)
    print(f"searches served during the run (searcher threads): {searches_during_run}")
    for kinds in (SEARCHER_KINDS[:1], SEARCHER_KINDS[1:], (WATCH_KIND,), (CHECK_KIND,),
                  ("writers (portal and import reads)",)):
        total, errors = stats.count(kinds), stats.count(kinds, errors=True)
        print(f"  {kinds[0]}: {total} responses, {errors} 5xx ({100 * errors / max(1, total):.1f}%)")
    print(f"5xx in all: {stats.server_error_count} (searcher threads: {searcher_errors} of {searched}, "
          f"{100 * searcher_errors / max(1, searched):.1f}%)")
    if stats.server_errors:
        _first(stats.server_errors)
        for block in server.tracebacks():
            print("    --- from the gunicorn log:")
            print("    " + block.replace("\n", "\n    "))
    if killed:
        print(f"killed worker {killed['pid']} (SIGKILL) a third of the way through; searches served after it: "
              f"{searches_during_run - killed['searches']}; searches or steps without any answer after it: "
              f"{len(stats.failures) - killed['failures']}")
    if rebuild:
        print(f"flask index rebuild: exit {rebuild.get('returncode')}, "
              f"{rebuild.get('finished', 0) - rebuild.get('started', 0):.1f} s, {rebuild.get('output', '')}")
        if rebuild.get("returncode"):
            print("    " + rebuild.get("error", "").replace("\n", "\n    "))
        during = [c for c in published if rebuild.get("started", 0) <= c.committed <= rebuild.get("finished", 0)]
        print(f"changes published while the rebuild ran: {len(during)}")
    by_path = Counter(change.path for change in published)
    print(f"changes published: {len(published)}, {len(published) / options.seconds:.1f} a second "
          f"(aimed at {options.rate:g}) ({', '.join(f'{p}: {n}' for p, n in sorted(by_path.items()))})")
    if failed:
        print(f"changes that could not be made: {len(failed)}")
        _first([f"{change.number} {change.path}: {change.error}" for change in failed], 3)
    if stats.failures:
        print(f"requests or writers that failed without an answer: {len(stats.failures)}")
        _first(stats.failures, 3)
    print(f"publish-to-searchable, every worker: {_seconds(every)}; first worker: {_seconds(first)} "
          f"({len(timed)} changes timed; {sum(c.superseded for c in published)} replaced before all workers "
          f"found them; {sum(c.timed_out for c in published)} not found by every worker within 30 s; "
          f"{sum(value > PROMISED_SECONDS for value in every)} over {PROMISED_SECONDS:.0f} s)")
    if rebuild.get("finished"):
        # The rebuild takes a core for its length, and each worker then reloads its filters and cards once.
        near = [c for c in timed if rebuild["started"] <= c.started <= rebuild["finished"] + 10]
        away = [c for c in timed if c not in near]
        for label, group in (("while the rebuild ran or within 10 s after it", near), ("the rest of the run", away)):
            values = [max(c.seen.values()) - c.started for c in group]
            print(f"  {label}: every worker {_seconds(values)}, {sum(v > PROMISED_SECONDS for v in values)} "
                  f"of {len(values)} over {PROMISED_SECONDS:.0f} s")
    for path in sorted(by_path):
        print(f"  {path}: every worker {_seconds([max(c.seen.values()) - c.started for c in timed if c.path == path])}")
    print(f"afterwards, {checked['listings']} changed listings checked on every worker:")
    print(f"  missing (latest word not found): {len(checked['missing'])}")
    _first(checked["missing"])
    print(f"  stale (an earlier word still found): {len(checked['stale'])}")
    _first(checked["stale"])
    if checked["not_saved"]:
        print(f"  latest word not in the database: {len(checked['not_saved'])}")
        _first(checked["not_saved"])
    print(f"  unchanged listings not found (spot check of {checked['untouched']}): {len(checked['lost'])}")
    _first(checked["lost"])
    if checked["unanswered"]:
        print(f"  words not every worker answered for: {len(checked['unanswered'])}")
    # A word not heard from every worker is not proven found: it counts against the run.
    bad = (stats.server_error_count + len(checked["missing"]) + len(checked["stale"]) + len(checked["lost"])
           + len(checked["unanswered"]))
    print(f"RESULT: {'FAIL' if bad else 'PASS'}: 5xx {stats.server_error_count}, missing or stale "
          f"{len(checked['missing']) + len(checked['stale'])}, unchanged lost {len(checked['lost'])}, "
          f"not heard from every worker {len(checked['unanswered'])}")
    return 1 if bad else 0
