"""The previous release keeps serving on the newest schema: upgrades happen while it runs.

The upgrade procedure (docs/deployment.md, "Upgrading") runs ``flask db upgrade`` with
the new code while the previous release still serves, then reloads each server.  So
the previous release's code must work on the new schema.  "The previous release" is
the code as it was just before the newest migration file was added (the parent of the
commit that added it; this checkout's HEAD while that file is not committed yet).

The test takes that tree from git (``git archive``), builds a database migrated to
HEAD by the current code with the demo content loaded, and runs the old release's
app over it in a subprocess (``PYTHONPATH`` = the old tree, so ``import local_offer``
is the old code): families' journeys, a provider saving and sending a change, a
coordinator approving it, the staff pages (``upgrade_journeys.py``).  It compares what
answered 5xx there with what answers 5xx when the same old code runs on its own
schema, so a bug the previous release always had is not blamed on the new schema.
A second test applies a contract step (a column the old code reads is dropped) and
shows that the same driver then reports 500s.

Nothing is written into this checkout: the old tree, its instance folders and the
SQLite databases live in pytest's temporary folders; on PostgreSQL
(``LOCAL_OFFER_TEST_DATABASE_URL``) each database is a schema of its own, dropped after.
Skipped only when git history is not available.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from databases import POSTGRES_URL, Database, with_options

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ROOT / "local_offer" / "migrations" / "versions"
JOURNEYS = Path(__file__).resolve().parent / "upgrade_journeys.py"
#: Seconds any one step may take before the test gives up on it.
STEP_TIMEOUT = 180

pytestmark = pytest.mark.upgrade


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


def previous_release() -> tuple[str, str]:
    """Return (the previous release's commit, the newest migration's file name), or skip saying why."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the previous release is read from git history")
    if _git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip(f"{ROOT} is not a git checkout: the previous release is read from git history")
    newest = sorted(VERSIONS.glob("[0-9]*.py"))[-1]
    docstring = (ast.get_docstring(ast.parse(newest.read_text(encoding="utf-8"))) or "").lstrip()
    if docstring.startswith("Needs maintenance mode:"):
        pytest.skip(f"{newest.name} says it needs maintenance mode: the previous release is not meant to run on it")
    relative = newest.relative_to(ROOT).as_posix()
    added = _git("log", "--diff-filter=A", "--format=%H", "--", relative).stdout.split()
    if not added:  # not committed yet: the committed tree is the release before it
        commit = _git("rev-parse", "--verify", "HEAD^{commit}").stdout.strip()
    else:
        parent = _git("rev-parse", "--verify", "--quiet", f"{added[0]}^^{{commit}}")
        if parent.returncode != 0:
            pytest.skip(f"the commit before {newest.name} was added ({added[0][:10]}^) is not in this clone "
                        "(a shallow clone?): fetch more history to run this test")
        commit = parent.stdout.strip()
    if not commit:
        pytest.skip("this checkout has no commits yet")
    return commit, newest.name


#: Put on PYTHONPATH after a release's tree: drops the editable install's import hook, so a module the
#: release lacks is an ImportError, as it would be for that release, never this checkout's module.
ISOLATE = """import sys
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
"""


@pytest.fixture(scope="module")
def old_release(tmp_path_factory) -> Path:
    """Extract the previous release's whole tree into a temporary folder."""
    commit, newest = previous_release()
    folder = tmp_path_factory.mktemp("previous-release")
    (folder / "isolate").mkdir()
    (folder / "isolate" / "sitecustomize.py").write_text(ISOLATE, encoding="utf-8")
    archive = folder / "release.tar"
    with open(archive, "wb") as out:
        done = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], stdout=out,
                              stderr=subprocess.PIPE, timeout=STEP_TIMEOUT)
    assert done.returncode == 0, done.stderr.decode()
    tree = folder / "tree"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    archive.unlink()
    assert (tree / "local_offer" / "__init__.py").exists()
    print(f"previous release: {commit[:10]} (before {newest}), extracted to {tree}")
    return tree


def _environment(code: Path, database_url: str, instance: Path) -> dict[str, str]:
    """The environment of a process running ``code`` on a database: nothing of this run's LOCAL_OFFER_* leaks in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LOCAL_OFFER_", "FLASK_"))}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(code)] + [str(path) for path in [code.parent / "isolate"] if path.is_dir()]),
        "FLASK_APP": "local_offer",
        "LOCAL_OFFER_INSTANCE_PATH": str(instance),
        "LOCAL_OFFER_DATABASE_URL": database_url,
        "LOCAL_OFFER_PUBLIC_URL": "http://localhost",
        "LOCAL_OFFER_WTF_CSRF_ENABLED": "false",
        "LOCAL_OFFER_SESSION_COOKIE_SECURE": "false",
        "LOCAL_OFFER_REMEMBER_COOKIE_SECURE": "false",
        # Several sign-ins and a comment from one address: limits high enough never to answer 429.
        "LOCAL_OFFER_SIGN_IN_LIMIT": "1000 per minute",
        "LOCAL_OFFER_FEEDBACK_LIMIT": "1000 per minute",
        "LOCAL_OFFER_SEARCH_WARM": "false",
        "LOCAL_OFFER_CARD_PRERENDER": "false",
        "LOCAL_OFFER_SEARCH_INDEX_PROCS": "1",
        "LOCAL_OFFER_MAP_TILE_URL": "",
        # A crash in C code (it has happened, rarely) prints the Python stack of every thread to stderr.
        "PYTHONFAULTHANDLER": "1",
    })
    return env


def flask(code: Path, database_url: str, instance: Path, *args: str) -> str:
    """Run ``flask ARGS`` with the given release's code (in its own folder); return its output."""
    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=code, capture_output=True, text=True,
                          env=_environment(code, database_url, instance), timeout=STEP_TIMEOUT)
    assert done.returncode == 0, f"flask {' '.join(args)} with {code} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_site(code: Path, database: Database, instance: Path) -> None:
    """Migrate a new database with ``code`` and load the demo directory and accounts with it."""
    database.create()
    flask(code, database.url, instance, "db", "upgrade")
    flask(code, database.url, instance, "content", "load", "--demo")


def index(code: Path, database_url: str, instance: Path) -> None:
    """Build ``code``'s own search index of the database in its instance folder, as each server keeps one."""
    flask(code, database_url, instance, "index", "ensure")


def journeys(code: Path, database_url: str, instance: Path) -> dict:
    """Run every journey through ``code``'s app (its index built first); return its visits and problems.

    A run that dies by a signal (the interpreter crashing in C code under a loaded machine, not a page
    failing) is tried again, up to three times in all; the crash's Python stacks go to stderr
    (PYTHONFAULTHANDLER), which the failure message shows if every try crashes.
    """
    for attempt in (1, 2, 3):
        done = subprocess.run([sys.executable, str(JOURNEYS)], cwd=code, capture_output=True, text=True,
                              env=_environment(code, database_url, instance), timeout=STEP_TIMEOUT)
        if done.returncode >= 0 or attempt == 3:
            break
        print(f"the journeys' process died by signal {-done.returncode}; trying again\n{done.stderr[-3000:]}",
              file=sys.stderr)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, f"the journeys did not finish ({done.returncode}):\n" \
                                           f"{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
    assert lines[0] == f"local_offer from {code / 'local_offer' / '__init__.py'}", lines[0]
    print("\n".join(lines[:-1]))
    result = json.loads(lines[-1])
    result["log"] = done.stderr
    return result


IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b\d+\b")


def shapes(problems: list[str]) -> set[str]:
    """Problems with ids and numbers left out, so two runs' problems can be compared."""
    return {IDS.sub("<id>", problem) for problem in problems}


def server_errors(result: dict) -> list[dict]:
    return [visit for visit in result["visits"] if visit["status"] >= 500]


@pytest.fixture(scope="module")
def head_site(tmp_path_factory):
    """A database migrated to HEAD by this checkout's code, with the demo content; and a pristine copy's URL.

    The copy (made before any journey writes: a SQLite file, or on PostgreSQL a schema of table
    copies) is for the self-check, which breaks its schema on purpose.
    """
    folder = tmp_path_factory.mktemp("head")
    database = Database(folder, "lo_upgrade_head")
    pristine_schema = f"{database.schema}_pristine" if not database.is_sqlite else None
    try:
        build_site(ROOT, database, folder / "instance")
        if database.is_sqlite:
            pristine = folder / "pristine.sqlite3"
            shutil.copyfile(database.path, pristine)
            yield database, "sqlite:///" + str(pristine)
        else:
            yield database, _copy_schema(database, pristine_schema)
    finally:
        database.drop()
        if pristine_schema:
            Database._admin(f'DROP SCHEMA IF EXISTS "{pristine_schema}" CASCADE')


def _copy_schema(database: Database, schema: str) -> str:
    """Copy every table of a PostgreSQL database's schema (columns, defaults, indexes, rows) into a new one."""
    engine = sa.create_engine(database.url)
    try:
        with engine.begin() as connection:
            tables = [row[0] for row in connection.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            for table in tables:
                connection.exec_driver_sql(f'CREATE TABLE "{schema}"."{table}" '
                                           f'(LIKE "{database.schema}"."{table}" INCLUDING ALL)')
                connection.exec_driver_sql(f'INSERT INTO "{schema}"."{table}" '
                                           f'SELECT * FROM "{database.schema}"."{table}"')
    finally:
        engine.dispose()
    return with_options(POSTGRES_URL, schema)


def test_the_previous_release_serves_every_journey_on_the_new_schema(old_release, head_site, tmp_path):
    """The old code on a database upgraded by the new code: no 5xx it does not also give on its own schema."""
    head, _pristine = head_site
    own = Database(tmp_path, "lo_upgrade_own")

    def on_its_own_schema() -> dict:
        build_site(old_release, own, tmp_path / "old-own")
        index(old_release, own.url, tmp_path / "old-own")
        return journeys(old_release, own.url, tmp_path / "old-own")

    try:
        with ThreadPoolExecutor(1) as pool:  # the baseline is built and driven meanwhile, in its own processes
            baseline = pool.submit(on_its_own_schema)
            index(old_release, head.url, tmp_path / "old-on-new")
            on_new = journeys(old_release, head.url, tmp_path / "old-on-new")
            on_own = baseline.result()
    finally:
        own.drop()

    assert len(on_new["visits"]) >= 60, "the journeys stopped early"
    steps = {(visit["method"], re.sub(r"[0-9a-f-]{36}", "<id>", visit["path"]), visit["status"])
             for visit in on_new["visits"]}
    assert ("POST", "/portal/listings/<id>/sections/about", 302) in steps, "the provider's section was not saved"
    assert ("POST", "/moderation/changes/<id>/approve", 302) in steps, "the coordinator did not approve it"
    assert ("POST", "/feedback", 302) in steps, "the feedback form did not take a comment"
    new_problems = shapes(on_new["problems"]) - shapes(on_own["problems"])
    assert not new_problems, (
        f"the previous release fails on the new schema where it works on its own: {sorted(new_problems)}\n"
        f"{on_new['log'][-8000:]}")


def test_the_check_fails_when_the_new_schema_takes_away_what_the_old_code_reads(old_release, head_site, tmp_path):
    """A contract step in the same release (a column dropped that the old code reads) gives 500s the driver sees."""
    _head, broken_url = head_site
    index(old_release, broken_url, tmp_path / "old-on-broken")
    engine = sa.create_engine(broken_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE listing DROP COLUMN summary")
    finally:
        engine.dispose()
    result = journeys(old_release, broken_url, tmp_path / "old-on-broken")
    failed = {visit["path"].split("?")[0] for visit in server_errors(result)}
    assert any(path.startswith("/listings/") or path == "/search" for path in failed), failed
    assert any("answered 500" in problem for problem in result["problems"])
