"""The concurrency bench's throwaway instance: a PostgreSQL schema, an instance folder, the flask commands.

Everything runs the code under test (``--code``, this checkout by default) in
subprocesses, so the bench itself imports nothing of the application and can
measure another branch's checkout with the same script.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg

#: The server the bench makes its schema in (trust auth); the schema is dropped afterwards.
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
#: Where prepared sites are kept between runs, one folder per (code, listings).
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "local-offer" / "concurrency-bench"


@dataclass
class Instance:
    """One throwaway site: where its code, database schema, instance folder and settings are."""

    code: Path
    database: str
    redis: str
    schema: str = field(default_factory=lambda: f"bench_{uuid.uuid4().hex[:12]}")
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lo-concurrency-")))
    #: More ``LOCAL_OFFER_*`` settings for every process of the site.
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The application's database URL: our schema, psycopg 3."""
        base = self.database.replace("postgresql://", "postgresql+psycopg://", 1)
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}options={quote(f'-csearch_path={self.schema}')}"

    def connect(self) -> psycopg.Connection:
        """A plain psycopg connection to our schema (autocommit: the bench only reads)."""
        return psycopg.connect(self.database, options=f"-csearch_path={self.schema}", autocommit=True)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment every process of the site runs with."""
        env = dict(os.environ)
        env.update({
            "PYTHONPATH": str(self.code),
            "FLASK_APP": "local_offer",
            "LOCAL_OFFER_INSTANCE_PATH": str(self.folder),
            "LOCAL_OFFER_DATABASE_URL": self.url,
            # Limits held in Redis across workers, under a prefix of our own so runs never share counters;
            # the bench signs in a few times from one address, so the sign-in throttle is raised.
            "LOCAL_OFFER_RATELIMIT_STORAGE_URI": self.redis,
            "LOCAL_OFFER_RATELIMIT_KEY_PREFIX": self.schema,
            "LOCAL_OFFER_SIGN_IN_LIMIT": "1000 per minute",
            # Rendered pages shared by the workers, as in production: a publication must still show at once.
            "LOCAL_OFFER_PAGE_CACHE_URL": self.redis.rstrip("/") + "/0",
            # Plain http on 127.0.0.1: the session cookie cannot be Secure-only.
            "LOCAL_OFFER_SESSION_COOKIE_SECURE": "false",
            "LOCAL_OFFER_REMEMBER_COOKIE_SECURE": "false",
            # One postcode area keeps the gazetteer build short; the demo content adds its own areas.
            "LOCAL_OFFER_POSTCODE_AREAS": "ST",
            "LOCAL_OFFER_SEARCH_LOG_ENABLED": "false",
            # The site refuses to start without its public address (emailed links are built on it).
            "LOCAL_OFFER_PUBLIC_URL": "http://127.0.0.1",
        })
        env.update(self.settings)
        env.update(extra)
        return env

    def flask(self, *args: str, quiet: bool = False, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``flask ARGS`` on the site with the code under test; show its output unless quiet."""
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=self.code, env=self.env(),
                              capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if check and done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        if not quiet:
            last = (done.stdout.strip().splitlines() or [""])[-1]
            print(f"  flask {' '.join(args)}: {seconds:.1f} s  {last}", flush=True)
        return done

    def create(self) -> None:
        """Make our empty schema."""
        with psycopg.connect(self.database, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{self.schema}"')

    def drop(self) -> None:
        """Drop the schema and the instance folder (safe to call twice)."""
        try:
            with psycopg.connect(self.database, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        except psycopg.Error as error:
            print(f"could not drop schema {self.schema}: {error}", file=sys.stderr)
        shutil.rmtree(self.folder, ignore_errors=True)


def prepare(instance: Instance, listings: int, cache: Path | None = None) -> None:
    """Migrate, build the gazetteer, load content and the demo accounts, generate listings, build the index.

    With ``cache``, a site prepared before from the same code and count is restored instead (a
    ``pg_dump`` of its schema and a copy of its instance folder), and a new one is kept there.
    """
    print(f"Preparing schema {instance.schema}, instance {instance.folder} (code: {instance.code})", flush=True)
    saved = cache / code_key(instance.code, listings) if cache else None
    if saved and (saved / "done").exists():
        restore(instance, saved)
        return
    instance.create()
    instance.flask("db", "upgrade")
    instance.flask("geo", "build")
    instance.flask("content", "load", "--demo")
    instance.flask("demo", "generate", "--count", str(listings), "--seed", "13")
    instance.flask("index", "rebuild")
    if saved:
        save(instance, saved)


def code_key(code: Path, listings: int) -> str:
    """A name for what a prepared site depends on: the application's code and content, and the count."""
    digest = hashlib.sha256(str(listings).encode())
    for path in sorted([*(code / "local_offer").rglob("*.py"), *(code / "content").rglob("*")]):
        if path.is_file():
            digest.update(str(path.relative_to(code)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _connection_arguments(database: str) -> list[str]:
    """psql and pg_dump arguments for the server and database of a ``postgresql://`` URL."""
    parts = urlsplit(database)
    return ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres",
            "-d", parts.path.lstrip("/") or "postgres"]


def save(instance: Instance, folder: Path) -> None:
    """Keep the prepared schema (as SQL) and instance folder for the next run."""
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "schema.sql", "wb") as dump:
        subprocess.run(["pg_dump", *_connection_arguments(instance.database), "--no-owner", "--no-privileges",
                        "-n", instance.schema], stdout=dump, check=True)
    (folder / "schema-name").write_text(instance.schema)
    with tarfile.open(folder / "instance.tar", "w") as archive:
        archive.add(instance.folder, arcname=".")
    (folder / "done").touch()
    print(f"  kept for the next run in {folder} ({time.perf_counter() - started:.1f} s)", flush=True)


def restore(instance: Instance, folder: Path) -> None:
    """Make our schema and instance folder from a prepared site kept by ``save``."""
    started = time.perf_counter()
    old = (folder / "schema-name").read_text().strip()
    sql = (folder / "schema.sql").read_text().replace(old, instance.schema)  # a random name: nothing else holds it
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", *_connection_arguments(instance.database)],
                   input=sql, text=True, check=True, stdout=subprocess.DEVNULL)
    with tarfile.open(folder / "instance.tar") as archive:
        archive.extractall(instance.folder, filter="data")
    print(f"  restored the site prepared before from {folder} ({time.perf_counter() - started:.1f} s)", flush=True)


def published_listings(instance: Instance) -> list[tuple[str, str, str]]:
    """Return (id, organisation id, description) of every published listing."""
    with instance.connect() as connection:
        return list(connection.execute(
            "SELECT id, organisation_id, description FROM listing WHERE status = 'published' ORDER BY id"))
