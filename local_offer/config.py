"""Configuration: the only module that reads the environment.

Settings come, in order, from the defaults below, then ``config.py`` in the
instance folder, then environment variables prefixed ``LOCAL_OFFER_`` (values
are parsed as JSON where they can be, so ``LOCAL_OFFER_PROXIES=1`` is a number
and ``LOCAL_OFFER_SESSION_COOKIE_SECURE=false`` a boolean), then the test
overrides.  Outside tests and ``flask run --debug`` the site's public address
(``LOCAL_OFFER_PUBLIC_URL``) is required: emailed links are built on it.
Things coordinators change day to day (vocabularies, synonyms, partnership
priorities) live in the database, not here.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

#: The repository root: the top-level ``static/``, ``translations/`` and
#: ``content/`` folders are resolved against it, never against the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

ENV_PREFIX = "LOCAL_OFFER"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


DEFAULTS: dict[str, object] = {
    # Who runs this Local Offer.  Set these for a real council.
    "COUNCIL_NAME": "Example County Council",
    "SERVICE_NAME": "SEND Local Offer",
    "COUNCIL_WEBSITE": "https://www.example.gov.uk",
    "COUNCIL_EMAIL": "localoffer@example.gov.uk",
    "COUNCIL_PHONE": "0300 111 8000",
    "COUNCIL_ADDRESS": "County Buildings, Martin Street, Stafford ST16 2LH",
    # Postcode areas the council covers (and its neighbours): the gazetteer
    # builds these ahead of time and looks any other postcode up when needed.
    "POSTCODE_AREAS": ["ST", "WS", "DE", "B", "WV", "DY", "CW", "SK"],
    # The council's colours: applied at run time over GOV.UK Frontend's CSS
    # custom properties.  Each must reach WCAG AA contrast (checked at start).
    "BRAND_COLOUR": "#00635a",
    "LINK_COLOUR": "#005a8c",
    "LINK_HOVER_COLOUR": "#003049",
    "LINK_VISITED_COLOUR": "#5c2d91",
    # Languages offered by the switcher (code: name in that language).  Arabic and Urdu are
    # written right to left: their pages are laid out and read right to left.
    "LANGUAGES": {"en": "English", "pl": "Polski", "ro": "Română", "ar": "العربية", "ur": "اردو",
                  "bn": "বাংলা"},
    # The language listings, consultations and the council's replies are written in (marked
    # lang= wherever they appear inside a page in another language).
    "CONTENT_LANGUAGE": "en",
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "Europe/London",
    # The site's public address (scheme, host and any path prefix), e.g.
    # "https://localoffer.example.gov.uk".  Every link in an email is built on it,
    # never on the Host a request claims.  Required in production: the site refuses
    # to start without it.  Left empty, development (FLASK_DEBUG) gets
    # http://127.0.0.1:5000 and tests http://localhost; `make run` sets it.
    "PUBLIC_URL": "",
    # Host names the site answers to (Flask's TRUSTED_HOSTS): a request naming
    # another Host gets 400.  From LOCAL_OFFER_TRUSTED_HOSTS, comma-separated
    # ("localoffer.example.gov.uk,.example.gov.uk": a leading dot allows every
    # subdomain).  Unset (None): every host is answered, as in development.
    "TRUSTED_HOSTS": None,
    # Number of proxies in front of the app that set X-Forwarded-* headers.
    "PROXIES": 0,
    # Listings per page on category and results pages.
    "PER_PAGE": 20,
    # The service level providers are told when they send a change: a coordinator looks at it
    # within this many working days (LOCAL_OFFER_MODERATION_DAYS).
    "MODERATION_DAYS": 5,
    # Longest query string accepted; longer ones get 414 URI Too Long.
    "MAX_QUERY_STRING": 2048,
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    # Rate-limit storage: "memory://" for one process, "redis://127.0.0.1:6379"
    # so limits hold across gunicorn workers.  When that storage cannot be reached,
    # limits are kept in each process's memory (a WARNING is logged) until it is back:
    # never a 500 because Redis is down.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    # Home, results and category pages kept as rendered for visitors who are not
    # signed in and have no shortlist (see page_cache.py): for this many seconds
    # (0 turns it off), in each process's memory ("memory://", at most
    # PAGE_CACHE_ENTRIES pages) or shared by every worker in Redis
    # ("redis://127.0.0.1:6379/0").  A published change shows at once either way.
    "PAGE_CACHE_SECONDS": 60,
    "PAGE_CACHE_URL": "memory://",
    "PAGE_CACHE_ENTRIES": 300,
    "RATELIMIT_HEADERS_ENABLED": True,
    # Cookies: secure by default; `make run` on plain http sets it to false.
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "PERMANENT_SESSION_LIFETIME": 60 * 60 * 8,
    # Send Strict-Transport-Security (only behind HTTPS).
    "HSTS": False,
    "WTF_CSRF_TIME_LIMIT": 60 * 60 * 8,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # Map tiles for the results map (an enhancement over the text list). Empty: markers
    # without a background map. The host is added to the Content-Security-Policy.
    "MAP_TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "MAP_ATTRIBUTION": "© OpenStreetMap contributors",
    # "Directions" beside a venue's address: a plain link to a maps site ({destination} is
    # the venue's position or postcode), and the site's name for the link text.
    "DIRECTIONS_URL": "https://www.google.com/maps/dir/?api=1&destination={destination}",
    "DIRECTIONS_SITE": "Google Maps",
    # The anonymous search log: flush interval and how long raw rows are kept.
    "SEARCH_LOG_FLUSH_SECONDS": 2.0,
    "SEARCH_LOG_DAYS": 90,
    # Daily counts of searches with their words (only search warm-up reads them), then by need, age and area.
    "SEARCH_WORD_COUNTS_DAYS": 400,
    "SEARCH_AREA_COUNTS_DAYS": 760,
    # Processes `flask index rebuild` indexes with (one per core halves the time).
    "SEARCH_INDEX_PROCS": min(4, os.cpu_count() or 1),
    # A change whose index write failed is retried by the next search once it is this many
    # seconds old (each process looks at most every 2 s), without waiting for cron.
    "SEARCH_RETRY_AFTER_SECONDS": 5.0,
    # Each server keeps its own index and follows the database's change feed: every worker
    # looks this often (seconds) for changes published through any server (0: only searches look).
    "SEARCH_FOLLOW_SECONDS": 2.0,
    # A server without an index builds it when its workers start: "process" (`flask index ensure`
    # in a process of its own, so workers keep answering) or "thread" (in the worker itself).
    "SEARCH_BUILD_AT_START": "process",
    # This server's name beside jobs each server runs for itself (the index job); the host name when empty.
    "SERVER_LABEL": "",
    # Seconds a process keeps the vocabularies the filters show (they change rarely).
    "VOCABULARY_CACHE_SECONDS": 30,
    # Score synonyms and common searches on a background thread after the index changes,
    # then render the result cards of the 5,000 most recently checked listings.
    "SEARCH_WARM": True,
    "CARD_PRERENDER": True,
    # Keep compiled templates in the instance folder (template-cache/), shared by workers and restarts.
    "TEMPLATE_CACHE": True,
    # Email: SMTP when MAIL_SERVER is set, otherwise written to instance/outbox/.
    "MAIL_SERVER": "",
    "MAIL_PORT": 587,
    "MAIL_USE_TLS": True,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_FROM": "localoffer@example.gov.uk",
    # Emailed links: invitations last days, password resets hours; each works once.
    "INVITE_DAYS": 7,
    "RESET_HOURS": 1,
    # Throttles per IP address (SIGN_IN_LIMIT, RESET_LIMIT, JOIN_LIMIT: refused with 429 past them),
    # and per email address typed, whether or not it has an account: JOIN_LIMIT refuses; RESET_LIMIT
    # stops sending further reset emails to that address but answers the same, so the owner can
    # always reset; sign-in uses a progressive delay (see local_offer/throttle.py) instead.
    "SIGN_IN_LIMIT": "10 per 15 minutes",
    "RESET_LIMIT": "5 per hour",
    # The per-email sign-in delay: after this many failures for an email within the window (seconds),
    # an address that has itself failed for it waits 2, 4, 8... seconds, at most SIGN_IN_MAX_DELAY,
    # before its next try.  An address with no recent failure for the email is never refused.
    "SIGN_IN_FREE_FAILURES": 3,
    "SIGN_IN_FAILURE_WINDOW": 15 * 60,
    "SIGN_IN_MAX_DELAY": 5 * 60,
    "JOIN_LIMIT": "5 per hour",
    # The "Still accurate" page a review reminder links to (no sign-in): opening or using it, per address.
    "STILL_ACCURATE_LIMIT": "60 per hour",
    # Feedback: how many comments one address may send, and how long contact details,
    # unpublished comments and the originals of redacted ones are kept (`flask feedback purge`).
    "FEEDBACK_LIMIT": "5 per 10 minutes;20 per day",
    # Consultation answers per address: each Continue and Send, then Send alone.
    "CONSULTATION_ANSWER_LIMIT": "300 per 10 minutes;3000 per day",
    "CONSULTATION_SEND_LIMIT": "20 per hour;100 per day",
    "FEEDBACK_RETENTION_DAYS": 365,
    # Shortlists (saved without an account): removed by `flask jobs run` once untouched this many
    # days; emailing one is limited per sender (address and shortlist) and per recipient.
    "SHORTLIST_KEEP_DAYS": 180,
    "SHORTLIST_EMAIL_LIMIT": "5 per hour",
    # Search alerts (no account): asking for one is limited per sender and per address; one not
    # confirmed within ALERT_PENDING_DAYS days is removed by `flask jobs run`.
    "ALERT_LIMIT": "3 per hour",
    "ALERT_PENDING_DAYS": 7,
    # A Maildir folder the council's mail system delivers bounces to (mail sent
    # back to MAIL_FROM), read hourly by `flask jobs run`: addresses a bounce
    # says failed for good stop getting search alerts.  Empty: only refusals
    # while sending stop them.
    "ALERT_BOUNCE_MAILDIR": "",
    # How long a worker keeps the school term dates before reading them again.
    "TERM_DATES_CACHE_SECONDS": 30,
    # Reviews: a listing is next due for review this many days after a provider confirms
    # it is accurate, and `flask reviews remind` emails its provider this many days before.
    "REVIEW_PERIOD_DAYS": 365,
    "REVIEW_REMIND_DAYS": 28,
    # Seconds a process keeps the administrators' review settings (labels, hiding) before
    # reading them again: search and every result card ask for them.
    "REVIEW_SETTINGS_CACHE_SECONDS": 10,
    # Where the Markdown information pages and seed data live.
    "CONTENT_PATH": str(PROJECT_ROOT / "content"),
    # The log (request_log.py): one line per request on stderr, as "text" or as "json" lines, and the
    # level of the site's own messages (access lines are INFO). The maintenance flag file: empty for
    # <instance>/MAINTENANCE; a path on a shared disk lets `flask maintenance on` reach every server.
    "LOG_FORMAT": "text",
    "LOG_LEVEL": "INFO",
    "MAINTENANCE_FILE": "",
    # Backups (`flask backup create`, and daily by `flask jobs run`): the folder they are written to
    # (empty: <instance>/backups) and how many days they are kept there before the job removes them.
    "BACKUP_FOLDER": "",
    "BACKUP_KEEP_DAYS": 35,
}

_COLOUR_KEYS = ("BRAND_COLOUR", "LINK_COLOUR", "LINK_HOVER_COLOUR", "LINK_VISITED_COLOUR")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def instance_path() -> str:
    """Return the absolute instance folder: ``LOCAL_OFFER_INSTANCE_PATH`` or ``./instance``."""
    configured = os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH")
    path = Path(configured) if configured else PROJECT_ROOT / "instance"
    return str(path.expanduser().resolve())


def load(app, test_config: dict | None = None) -> None:
    """Fill ``app.config`` from defaults, the instance file, the environment and tests."""
    app.config.from_mapping(DEFAULTS)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
        app.instance_path, "local-offer.sqlite3"
    )
    app.config.from_pyfile(os.path.join(app.instance_path, "config.py"), silent=True)
    app.config.from_prefixed_env(ENV_PREFIX)
    # A friendlier name for the one setting every deployment changes.
    if f"{ENV_PREFIX}_DATABASE_URL" in os.environ:
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ[f"{ENV_PREFIX}_DATABASE_URL"]
    if test_config:
        app.config.from_mapping(test_config)
    if isinstance(app.config["POSTCODE_AREAS"], str):
        app.config["POSTCODE_AREAS"] = [
            area.strip().upper() for area in app.config["POSTCODE_AREAS"].split(",") if area.strip()
        ]
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if isinstance(app.config["TRUSTED_HOSTS"], str):
        app.config["TRUSTED_HOSTS"] = [
            host.strip().lower() for host in app.config["TRUSTED_HOSTS"].split(",") if host.strip()
        ] or None
    hosts = app.config["TRUSTED_HOSTS"]
    if hosts is not None and (not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts)):
        raise ConfigError(f"{ENV_PREFIX}_TRUSTED_HOSTS must be host names separated by commas, not {hosts!r}.")
    app.config["PUBLIC_URL"] = _public_url(app.config)
    if not app.config.get("BACKUP_FOLDER"):
        app.config["BACKUP_FOLDER"] = os.path.join(app.instance_path, "backups")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
    validate(app.config)


#: The public address when none is configured: tests, then `flask run --debug` on a laptop.
TEST_PUBLIC_URL = "http://localhost"
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"


def _public_url(config) -> str:
    """Return the site's public address without a trailing slash; required unless testing or debugging.

    Emailed links (password resets, invitations, reminders) are built on it, so a
    request's ``Host`` header can never put another site's address in an email.
    """
    configured = str(config.get("PUBLIC_URL") or "").strip()
    if not configured:
        if config.get("TESTING"):
            return TEST_PUBLIC_URL
        if config.get("DEBUG"):
            return DEVELOPMENT_PUBLIC_URL
        raise ConfigError(
            f"{ENV_PREFIX}_PUBLIC_URL is not set. Set it to the site's public address, for example "
            f"{ENV_PREFIX}_PUBLIC_URL=https://localoffer.example.gov.uk: every link in an email is built on it."
        )
    parts = urlsplit(configured)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise ConfigError(
            f"{ENV_PREFIX}_PUBLIC_URL must be an http(s) address like https://localoffer.example.gov.uk "
            f"(a path prefix is allowed; no query or #), not {configured!r}."
        )
    return configured.rstrip("/")


def _normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret_key(folder: str) -> str:
    """Read the instance's secret key, generating it (readable only by us) on first run."""
    path = Path(folder) / "secret_key"
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


def validate(config) -> None:
    """Refuse to start with settings that would make the site wrong or inaccessible."""
    from local_offer.theme import contrast_problems

    for key in _COLOUR_KEYS:
        value = config.get(key)
        if not isinstance(value, str) or not _HEX.match(value):
            raise ConfigError(f"{ENV_PREFIX}_{key} must be a colour like #00635a, not {value!r}.")
    problems = contrast_problems(config)
    if problems:
        raise ConfigError("The council's colours fail WCAG AA contrast: " + "; ".join(problems))
    languages = config.get("LANGUAGES")
    if not isinstance(languages, dict) or config["BABEL_DEFAULT_LOCALE"] not in languages:
        raise ConfigError(
            f"{ENV_PREFIX}_LANGUAGES must be a JSON object of language codes to names "
            f"that includes the default locale {config['BABEL_DEFAULT_LOCALE']!r}."
        )
    if not all(isinstance(code, str) and re.fullmatch(r"[a-z]{2,3}(?:_[A-Za-z0-9]{2,8})?", code)
               for code in languages):
        raise ConfigError(f"{ENV_PREFIX}_LANGUAGES keys must be language codes like \"pl\" or \"pt_BR\".")
    content_language = config.get("CONTENT_LANGUAGE")
    if not isinstance(content_language, str) or not re.fullmatch(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?",
                                                                  content_language):
        raise ConfigError(f"{ENV_PREFIX}_CONTENT_LANGUAGE must be a language code like \"en\", "
                          f"not {content_language!r}.")
    if config.get("LOG_FORMAT") not in ("text", "json"):
        raise ConfigError(f"{ENV_PREFIX}_LOG_FORMAT must be text or json, not {config.get('LOG_FORMAT')!r}.")
    if isinstance(config.get("LOG_LEVEL"), str):
        config["LOG_LEVEL"] = config["LOG_LEVEL"].strip().upper()
    if config.get("LOG_LEVEL") not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"{ENV_PREFIX}_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR or CRITICAL, "
                          f"not {config.get('LOG_LEVEL')!r}.")
    if not isinstance(config.get("MAINTENANCE_FILE"), str):
        raise ConfigError(f"{ENV_PREFIX}_MAINTENANCE_FILE must be a file path, not {config.get('MAINTENANCE_FILE')!r}.")
    if not isinstance(config.get("PROXIES"), int) or config["PROXIES"] < 0:
        raise ConfigError(f"{ENV_PREFIX}_PROXIES must be a whole number of proxies, 0 or more.")
    for key in ("REVIEW_PERIOD_DAYS", "REVIEW_REMIND_DAYS", "FEEDBACK_RETENTION_DAYS", "SHORTLIST_KEEP_DAYS",
                "ALERT_PENDING_DAYS", "MODERATION_DAYS", "BACKUP_KEEP_DAYS"):
        value = config.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{ENV_PREFIX}_{key} must be a whole number of days, 1 or more, not {value!r}.")
    for key in ("SIGN_IN_FREE_FAILURES", "SIGN_IN_FAILURE_WINDOW", "SIGN_IN_MAX_DELAY"):
        value = config.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{ENV_PREFIX}_{key} must be a whole number, 1 or more, not {value!r}.")
    if config.get("SEARCH_BUILD_AT_START") not in ("process", "thread"):
        raise ConfigError(f"{ENV_PREFIX}_SEARCH_BUILD_AT_START must be process or thread.")
    for key in ("REVIEW_SETTINGS_CACHE_SECONDS", "SEARCH_FOLLOW_SECONDS"):
        value = config.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{ENV_PREFIX}_{key} must be a number of seconds, 0 or more.")
