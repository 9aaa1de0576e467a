"""Families', providers' and coordinators' main journeys, driven through any HTTP client, recording every answer.

Used to run one release's code against another release's schema: by
``test_upgrade_compat.py`` (as a script, in a subprocess whose ``local_offer`` is the
previous release, through Flask's test client) and by ``bench/upgrade.py`` (over
HTTP against gunicorn).  So it imports nothing of the application and finds its way
as a person would: forms are read from the pages and sent back with the values they
hold (a summary gets a word added), links are followed from the pages.  Nothing here
knows a release's field names beyond the demo accounts and the blueprints' prefixes.

As a script (``python upgrade_journeys.py``) it makes the app with ``create_app()``
from whatever ``local_offer`` is on ``PYTHONPATH``, settings from the environment
(build its search index first, with ``flask index ensure`` in a process of its own),
runs every journey through the test client, prints each page it visited, and prints
a last line of JSON: ``{"visits": [...], "problems": [...]}``.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Callable
from urllib.parse import urljoin, urlsplit

PASSWORD = "local-offer-demo"
PROVIDER = "provider@demo.example.org"
COORDINATOR = "coordinator@demo.example.gov.uk"
ADMIN = "admin@demo.example.gov.uk"
SIGN_IN = "/account/sign-in"
#: Words added to a listing's summary by the provider's journey (with a number, so each run changes it).
EDIT_MARK = "Quiet changing room, checked"
EDIT_MARKED = re.compile(r"\s*Quiet changing room, checked \d+\.")


# --- reading pages -------------------------------------------------------------------------------------------


@dataclass
class Form:
    """A form as a browser would send it: its address, method, fields (in order) and submit buttons."""

    action: str
    method: str
    fields: list[list[str]] = field(default_factory=list)  # [name, value, kind]
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def value(self, name: str) -> str | None:
        return next((value for key, value, kind in self.fields if key == name and not kind.endswith("-unchecked")),
                    None)

    def data(self, button: str | None = None) -> list[tuple[str, str]]:
        """The pairs a browser sends, with the named submit button (or the first) pressed."""
        pairs = [(name, value) for name, value, _kind in self.fields]
        pressed = next((b for b in self.buttons if button is None or b[0] == button), None)
        if pressed and pressed[0]:
            pairs.append(pressed)
        return pairs


class _Reader(HTMLParser):
    """Collects links and forms (inputs, textareas, selects, buttons) from a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: list | None = None
        self._select: list | None = None  # [name, multiple, options [(value, selected)]]
        self._option: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {key: (value or "") for key, value in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(action=a.get("action", ""), method=(a.get("method") or "get").lower())
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name") is not None:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "image"):
                self._form.buttons.append((a["name"], a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields.append([a["name"], a.get("value", "on"), kind])
                else:
                    self._form.fields.append([a["name"], a.get("value", "on"), kind + "-unchecked"])
            elif kind not in ("file", "reset", "button"):
                self._form.fields.append([a["name"], a.get("value", ""), kind])
        elif tag == "button":
            if (a.get("type") or "submit").lower() == "submit":
                self._form.buttons.append((a.get("name", ""), a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], []]
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], "multiple" in a, []]
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "selected" in a, []]
            self._select[2].append(self._option)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._option is not None:
            self._option[2].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            self._form.fields.append([name, "".join(parts).removeprefix("\n"), "textarea"])
            self._textarea = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, multiple, options = self._select
            values = [(o[0] if o[0] is not None else "".join(o[2]).strip(), o[1]) for o in options]
            chosen = [value for value, selected in values if selected]
            if not chosen and not multiple and values:
                chosen = [values[0][0]]
            self._form.fields.extend([name, value, "select"] for value in chosen)
            self._select = None


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


# --- the driver ----------------------------------------------------------------------------------------------

#: A client: (method, path, form pairs or None) -> (status, body text, Location header or None).
Send = Callable[[str, str, "list[tuple[str, str]] | None"], "tuple[int, str, str | None]"]


@dataclass
class Visit:
    who: str
    method: str
    path: str
    status: int
    seconds: float


class Driver:
    """Visits pages as one person (one client, one cookie jar), recording every answer."""

    def __init__(self, send: Send, who: str, log: list[Visit], say: Callable[[str], None] = lambda _: None):
        self.send, self.who, self.log, self.say = send, who, log, say
        self.problems: list[str] = []

    def request(self, method: str, path: str, data=None, follow: bool = True) -> tuple[int, str, str]:
        """Send a request, following redirects (each recorded); return the last status, body and path."""
        for _ in range(6):
            started = time.perf_counter()
            status, body, location = self.send(method, path, data)
            visit = Visit(self.who, method, path, status, time.perf_counter() - started)
            self.log.append(visit)
            self.say(f"{self.who:<11} {method:<4} {status} {path[:110]}")
            if status >= 500:
                self.problems.append(f"{self.who}: {method} {path} answered {status}")
            if follow and status in (301, 302, 303, 307, 308) and location:
                target = urlsplit(urljoin("http://localhost" + path, location))
                path = target.path + (f"?{target.query}" if target.query else "")
                method, data = "GET", None
                continue
            return status, body, path
        return status, body, path

    def get(self, path: str) -> tuple[int, str, str]:
        return self.request("GET", path)

    def expect(self, ok: bool, what: str) -> bool:
        if not ok:
            self.problems.append(f"{self.who}: {what}")
        return ok

    def crawl(self, starts: list[str], prefixes: tuple[str, ...], limit: int) -> None:
        """Follow same-site links under the prefixes from the start pages, at most ``limit`` pages.

        Pages of one shape (the same path but for ids) are visited at most twice, so a long list
        of comments or accounts does not use up the pages.
        """
        seen, shapes, waiting, visited = set(), {}, list(starts), 0
        while waiting and visited < limit:
            path = waiting.pop(0)
            shape = shape_of(path)
            if path in seen or shapes.get(shape, 0) >= 2:
                continue
            seen.add(path)
            shapes[shape] = shapes.get(shape, 0) + 1
            status, body, _ = self.get(path)
            visited += 1
            if status != 200:
                continue
            for link in _links(body, path):
                if link.startswith(prefixes) and link not in seen and not _skip(link):
                    waiting.append(link)


IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?<=/)\d+(?=/|$)")


def shape_of(path: str) -> str:
    """A path with its ids (UUIDs, numbers) and query left out: pages of one kind share it."""
    return IDS.sub("<id>", path.split("?")[0])


def _links(body: str, base: str) -> list[str]:
    found = []
    for href in read(body).links:
        target = urlsplit(urljoin("http://localhost" + base, href))
        if target.netloc == "localhost" and target.scheme == "http":
            found.append(target.path + (f"?{target.query}" if target.query else ""))
    return found


def _skip(path: str) -> bool:
    """Links a crawl leaves alone: signing out, downloads of the whole directory, static files."""
    return (path.startswith(("/static/", "/account/sign-out", "/language/")) or "sign-out" in path
            or urlsplit(path).path.endswith((".docx", ".zip")) or "/data/directory." in path)


def find_form(body: str, method: str = "post", action: str | None = None, has: str | None = None) -> Form | None:
    """The first form with this method whose action ends with ``action`` and that has a field named ``has``."""
    for form in read(body).forms:
        if form.method != method:
            continue
        if action is not None and not form.action.split("?")[0].endswith(action):
            continue
        if has is not None and not any(f[0] == has for f in form.fields):
            continue
        return form
    return None


def _first(pattern: str, body: str, base: str, exclude: str = r"$^") -> str | None:
    return next((link for link in _links(body, base) if re.search(pattern, link) and not re.search(exclude, link)),
                None)


def sign_in(driver: Driver, email: str) -> bool:
    status, body, _ = driver.get(SIGN_IN)
    form = find_form(body, has="password")
    if not driver.expect(form is not None, f"no sign-in form at {SIGN_IN} ({status})"):
        return False
    data = [(name, email if kind == "email" or name == "email" else PASSWORD if kind == "password" else value)
            for name, value, kind in form.fields if not kind.endswith("-unchecked")]
    status, _body, path = driver.request("POST", form.action or SIGN_IN, data + form.buttons[:1])
    return driver.expect(status == 200 and not path.startswith(SIGN_IN), f"could not sign in as {email} ({status})")


# --- the journeys --------------------------------------------------------------------------------------------


def family(driver: Driver) -> None:
    """Home, a search with a place and a filter, a listing, categories, What's on, the API, feedback."""
    _status, home, _ = driver.get("/")
    search = find_form(home, method="get", action="/search")
    if driver.expect(search is not None, "no search form on the home page"):
        words = next((name for name, _v, kind in search.fields if kind in ("text", "search")), "q")
        status, results, path = driver.get(f"/search?{words}=swimming+near+Stafford")
        filters = next((f for f in read(results).forms if f.method == "get"
                        and any(kind == "checkbox-unchecked" for *_x, kind in f.fields)), None)
        if driver.expect(filters is not None, "no filters on the results page"):
            name, value, _kind = next(f for f in filters.fields if f[2] == "checkbox-unchecked")
            driver.get(f"/search?{words}=swimming+near+Stafford&{name}={value}")
        driver.get(f"/search?{words}=after+school+club+for+my+9+year+old+with+autism")
        listing = _first(r"^/listings/[^/?]+(\?|$)", results, path)
        if driver.expect(listing is not None, "no listing on the results page"):
            _status, page, _ = driver.get(listing)
            calendar = _first(r"calendar\.ics", page, listing)
            if calendar:
                driver.get(calendar)
    driver.crawl(["/categories/"], ("/categories/",), 4)
    driver.get("/whats-on")
    driver.get("/whats-on?" + "when=weekend")
    for version, items in (("v1", "content"), ("v3", "contents")):
        status, body, _ = driver.get(f"/api/{version}/services?per_page=5")
        if driver.expect(status == 200, f"API {version} services answered {status}"):
            first = (json.loads(body).get(items) or [{}])[0].get("id")
            if driver.expect(bool(first), f"API {version} listed no services"):
                driver.get(f"/api/{version}/services/{first}")
    driver.get("/api/v1/taxonomies?per_page=5")
    driver.get("/you-said-we-did")
    _status, body, _ = driver.get("/feedback")
    form = find_form(body, has="comment") or find_form(body)
    if driver.expect(form is not None, "no feedback form"):
        data, groups = [], set()
        for name, value, kind in form.fields:
            if kind == "radio-unchecked" and name not in groups and form.value(name) is None:
                groups.add(name)  # the first choice of every question not answered yet
                data.append((name, value))
            elif kind == "textarea" and not value:
                data.append((name, "More swimming sessions in the school holidays would help our family."))
            elif not kind.endswith("-unchecked"):
                data.append((name, value))
        status, _body, path = driver.request("POST", form.action or "/feedback", data + form.buttons[:1])
        driver.expect(status == 200 and path != "/feedback", f"the feedback form did not take a comment ({status})")
    driver.crawl(["/", "/information/"], ("/information/", "/categories/"), 6)
    driver.get("/sitemap.xml")


def provider(driver: Driver) -> str | None:
    """Sign in as the demo provider, change one section of a live listing and send it; return the change's id."""
    if not sign_in(driver, PROVIDER):
        return None
    _status, dashboard, _ = driver.get("/portal/")
    listing = _first(r"^/portal/listings/[0-9a-f-]{36}$", dashboard, "/portal/")
    if not driver.expect(listing is not None, "no listing on the provider's dashboard"):
        return None
    driver.get(listing)
    section = f"{listing}/sections/about"
    status, page, _ = driver.get(section)
    form = find_form(page, has="summary")
    if not driver.expect(form is not None, f"no 'about' form at {section} ({status})"):
        return None
    for entry in form.fields:
        if entry[0] == "summary":
            entry[1] = f"{EDIT_MARKED.sub('', entry[1]).strip()} {EDIT_MARK} {time.time_ns() % 10**9}.".strip()
    data = [(name, value) for name, value, kind in form.fields if not kind.endswith("-unchecked")]
    save = next((name for name, _v in form.buttons if name and "send" not in name and "add" not in name), None)
    pressed = [b for b in form.buttons if b[0] == save][:1]
    status, task_list, path = driver.request("POST", form.action or section, data + pressed)
    if not driver.expect(status == 200 and path == listing, f"saving the 'about' section answered {status} at {path}"):
        return None
    submit = find_form(task_list, action="/submit")
    if not driver.expect(submit is not None, "no 'send for checking' form after saving"):
        return None
    status, _body, path = driver.request("POST", submit.action, submit.data())
    driver.expect(status == 200 and path == listing, f"sending the change answered {status}")
    driver.get("/portal/")
    return submit.value("revision")


def coordinator(driver: Driver, revision: str | None) -> None:
    """Sign in as the demo coordinator, approve the provider's change, and look round the staff pages."""
    if not sign_in(driver, COORDINATOR):
        return
    _status, queue, _ = driver.get("/moderation/")
    change = (_first(re.escape(revision), queue, "/moderation/") if revision else None) \
        or _first(r"^/moderation/changes/[0-9a-f-]{36}$", queue, "/moderation/")
    if driver.expect(change is not None, "nothing in the moderation queue"):
        _status, page, _ = driver.get(change)
        approve = find_form(page, action="/approve")
        if driver.expect(approve is not None, f"no approve form at {change}"):
            status, _body, _path = driver.request("POST", approve.action, approve.data())
            driver.expect(status == 200, f"approving answered {status}")
    driver.crawl(["/admin/", "/moderation/listings", "/moderation/data", "/coordinators/feedback/",
                  "/coordinators/feedback/responses", "/coordinators/feedback/report"],
                 ("/admin/", "/moderation/", "/coordinators/"), 40)


def administrator(driver: Driver) -> None:
    """Sign in as the demo administrator: accounts and settings."""
    if sign_in(driver, ADMIN):
        driver.crawl(["/admin/users", "/admin/settings", "/admin/jobs"], ("/admin/users", "/admin/settings"), 8)


def run_all(client_for: Callable[[], Send], say: Callable[[str], None] = lambda _: None) -> tuple[list, list]:
    """Run every journey, each person with a client of their own; return (visits, problems)."""
    log: list[Visit] = []
    problems: list[str] = []
    families = Driver(client_for(), "family", log, say)
    family(families)
    providers = Driver(client_for(), "provider", log, say)
    revision = provider(providers)
    coordinators = Driver(client_for(), "coordinator", log, say)
    coordinator(coordinators, revision)
    admins = Driver(client_for(), "admin", log, say)
    administrator(admins)
    for driver in (families, providers, coordinators, admins):
        problems += driver.problems
    return log, problems


# --- as a script: the app on PYTHONPATH, through its test client ---------------------------------------------


def _test_client_sender(app) -> Send:
    from werkzeug.datastructures import MultiDict

    client = app.test_client()

    def send(method, path, data):
        response = client.open(path, method=method, data=MultiDict(data) if data is not None else None,
                               follow_redirects=False)
        textual = response.mimetype.startswith("text/") or response.mimetype in (
            "application/json", "application/xml", "application/ld+json", "application/geo+json")
        body = response.get_data().decode("utf-8", "replace") if textual else ""
        return response.status_code, body, response.headers.get("Location")

    return send


def main() -> int:
    # This process crashes in C (segmentation fault, heap corruption found by the cyclic garbage collector)
    # part-way through the family journey, at 7b735ff as now, on SQLite and PostgreSQL alike; without the
    # collector every journey runs. The cause is not found yet (see the stop-31 note): the journeys judge
    # the schema, so they run with reference counting only.
    import gc

    gc.disable()
    import local_offer
    from local_offer import create_app

    print(f"local_offer from {local_offer.__file__}", flush=True)
    app = create_app()
    visits, problems = run_all(lambda: _test_client_sender(app), say=lambda line: print(line, flush=True))
    print(json.dumps({"visits": [visit.__dict__ for visit in visits], "problems": problems}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
