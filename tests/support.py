"""What many test modules share that is not a fixture: demo ids, page text, accounts, settings, ORUK samples.

Fixtures live in ``conftest.py``; test databases in ``databases.py``.  Test
modules import from here, never from each other or from ``conftest``.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from html import unescape
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from local_offer.config import PROJECT_ROOT
from local_offer.extensions import db
from local_offer.models import Role, User

#: Ids of demo listings the tests look at (content/demo/directory.yaml).
SWIM = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0001"
FORUM = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0002"
CHILDMINDER = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0003"
SCHOOL = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0004"
PHONE_LINE = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0005"
COLLEGE = "2b7e9c10-5a4d-4e0a-8f3c-7d1e6a2b0006"

#: The password of every account ``make_user`` adds.
PASSWORD = "a long enough password"


def make_test_config(database_url: str, **overrides) -> dict:
    """Return the settings every test app starts from."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "RATELIMIT_ENABLED": False,
        "MAP_TILE_URL": "",  # tests never fetch map tiles
        "SEARCH_LOG_FLUSH_SECONDS": 0.2,
        "SEARCH_WARM": False,
        # Settings given in code do not reach a `flask index ensure` process: build on the follower's thread.
        "SEARCH_BUILD_AT_START": "thread",
        "VOCABULARY_CACHE_SECONDS": 0,
        "TERM_DATES_CACHE_SECONDS": 0,
        "SEARCH_INDEX_PROCS": 1,
        "CARD_PRERENDER": False,  # no forking inside the test process (threads, browsers)
        "WTF_CSRF_ENABLED": False,  # CSRF has its own tests, which turn it on
    }
    config.update(overrides)
    return config


# --- pages ---------------------------------------------------------------------------------------


def text_of(response) -> str:
    """Return a page's visible text with tags removed and spaces collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# --- accounts ------------------------------------------------------------------------------------


@cache
def password_hash() -> str:
    """Return a scrypt hash of PASSWORD, made once: hashing on purpose takes a tenth of a second."""
    return generate_password_hash(PASSWORD)


def make_user(email: str, role: Role, organisations=(), active=True) -> User:
    """Add an account with the test password."""
    user = User(email=email, role=role, organisations=list(organisations), active=active,
                password_hash=password_hash())
    db.session.add(user)
    db.session.commit()
    return user


def sign_in(client, email: str, password: str = PASSWORD, **kwargs):
    """Post the sign-in form."""
    return client.post("/account/sign-in", data={"email": email, "password": password}, **kwargs)


# --- Open Referral UK samples (read from ../shared/oruk-samples, never copied into the project) ---------


def samples_folder() -> Path | None:
    """Find the shared ORUK samples: $LOCAL_OFFER_ORUK_SAMPLES, or ../shared/oruk-samples beside the project."""
    for candidate in (os.environ.get("LOCAL_OFFER_ORUK_SAMPLES"), PROJECT_ROOT.parent / "shared" / "oruk-samples",
                      Path("/work/shared/oruk-samples")):
        if candidate and Path(candidate, "spec", "v1").is_dir():
            return Path(candidate)
    return None


SAMPLES = samples_folder()
needs_samples = pytest.mark.skipif(SAMPLES is None, reason="../shared/oruk-samples is not here")


@cache
def validator(name: str, version: str = "v1"):
    """Return a Draft 7 validator, with formats checked, for one of the standard's schemas (v1 or v3)."""
    from jsonschema import Draft7Validator, FormatChecker

    schema = json.loads((SAMPLES / "spec" / version / name).read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=FormatChecker())


def errors(name: str, document, version: str = "v1") -> list[str]:
    """Describe every way a document breaks one of the standard's schemas (the first few, for v3's long ones)."""
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator(name, version).iter_errors(document)][:20]
