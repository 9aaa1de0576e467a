"""Talking to the running site as people do: forms read from the pages (CSRF tokens included), sign-in, requests.

Standard library HTML parsing is enough: the bench reads the site's own
forms, it does not need to make sense of arbitrary HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

WORKER_HEADER = "X-Bench-Worker"
TIMEOUT = 60


@dataclass
class Form:
    """One form on a page: where it posts and the values it would send as it stands."""

    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        """Return the first value of a field, or None."""
        return next((value for key, value in self.fields if key == name), None)

    def set(self, name: str, value: str) -> None:
        """Replace every value of a field with one value."""
        self.fields = [(key, old) for key, old in self.fields if key != name] + [(name, value)]


class _FormParser(HTMLParser):
    """Collect every form's action and the values its fields hold (checked boxes, selected options)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._form = Form(action=attributes.get("action") or "")
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and attributes.get("name"):
            kind = (attributes.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            if kind in ("submit", "button", "image", "file"):
                return
            self._form.fields.append((attributes["name"], attributes.get("value") or ""))
        elif tag == "textarea" and attributes.get("name"):
            self._textarea, self._text = attributes["name"], []
        elif tag == "select" and attributes.get("name"):
            self._select = attributes["name"]
        elif tag == "option" and self._select and "selected" in attributes:
            self._form.fields.append((self._select, attributes.get("value") or ""))

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            text = "".join(self._text)
            self._form.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    """Return every form of a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class UnexpectedAnswer(RuntimeError):
    """The site answered a step of a change with something other than what the step expects."""

    def __init__(self, step: str, response: requests.Response):
        super().__init__(f"{step}: HTTP {response.status_code} from {response.request.method} "
                         f"{response.url} (worker {response.headers.get(WORKER_HEADER)})")
        self.status = response.status_code
        self.body = response.text[:2000]


class Browser:
    """One person's session on the site: cookies kept, forms found by where they post."""

    def __init__(self, base: str, on_response=None):
        """Start a session against ``base``; ``on_response`` sees every response (to count 5xx)."""
        self.base = base
        self.session = requests.Session()
        self.on_response = on_response

    def request(self, method: str, path: str, **options) -> requests.Response:
        """Send a request without following redirects; report the response."""
        response = self.session.request(method, urljoin(self.base, path), allow_redirects=False,
                                        timeout=TIMEOUT, **options)
        if self.on_response:
            self.on_response(response)
        return response

    def form(self, path: str, action_ending: str, step: str) -> Form:
        """Open a page and return its form posting to an address ending so."""
        response = self.request("GET", path)
        if response.status_code != 200:
            raise UnexpectedAnswer(step, response)
        for found in forms(response.text):
            found.action = found.action or path  # a form without an action posts back to its page
            if found.action.split("?")[0].endswith(action_ending):
                return found
        raise UnexpectedAnswer(f"{step} (no form posting to …{action_ending})", response)

    def submit(self, form: Form, step: str, expect: tuple[int, ...] = (302, 303)) -> requests.Response:
        """Post a form; the step expects a redirect unless told otherwise."""
        response = self.request("POST", form.action, data=form.fields)
        if response.status_code not in expect:
            raise UnexpectedAnswer(step, response)
        return response

    def sign_in(self, email: str, password: str) -> None:
        """Sign in with email and password (the demo accounts have no second factor)."""
        form = self.form("/account/sign-in", "/account/sign-in", "sign-in page")
        form.set("email", email)
        form.set("password", password)
        self.submit(form, f"sign in as {email}")
