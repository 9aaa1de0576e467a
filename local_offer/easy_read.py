"""Easy Read versions of information pages: ``content/pages/easy-read/<slug>.md``.

Easy Read puts one short sentence on each line, with a picture beside it. A
file is YAML front matter (``title``, ``summary``, ``updated`` and
``easy_read_of``, the full page's slug) and then a body of only three kinds
of line::

    ## Who can ask?
    [1F4DE] You can phone us on {council_phone}.

``## `` starts a section (its heading); ``[HEXCODE] sentence`` is one line,
the code naming an OpenMoji picture (``node_modules/openmoji/color/svg/<HEXCODE>.svg``,
copied into ``static/dist/openmoji/`` by ``make assets``: only the pictures
these files name are copied); blank lines are ignored; anything else is an
error. A sentence may hold ``**bold words**`` and ``[links](/search?q=x)``.
The substitutions of the full pages (``{council}``, ``{council_phone}`` and
the rest) work here too.

Pictures are decorative (``alt=""``): the sentence beside each carries the
meaning. Easy Read pages are in English only.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import frontmatter
from flask import current_app
from markupsafe import Markup, escape

from local_offer.information_pages import SLUG, _SUBSTITUTIONS, _fill_in_council_details

FOLDER = "easy-read"
#: Where the pictures are served from, under the static folder.
PICTURES = "dist/openmoji"
#: Easy Read guidance: a few lines to a section.
MOST_LINES_A_SECTION = 4
#: Easy Read guidance: short sentences (counted before substitutions).
MOST_WORDS_A_LINE = 20

_LINE = re.compile(r"^\[(?P<code>[0-9A-F]+(?:-[0-9A-F]+)*)\]\s+(?P<text>\S.*)$")
_CODE_LIKE = re.compile(r"^\[(?P<code>[^\]]*)\]\s")
_HEADING = re.compile(r"^##\s+(?P<text>\S.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\(((?:/|https://)[^)\s]*)\)")


class EasyReadError(ValueError):
    """A line of an Easy Read file that is neither a heading, a picture line nor blank."""


@dataclass(frozen=True)
class Line:
    """One sentence and the code of the picture beside it."""

    picture: str
    text: Markup


@dataclass(frozen=True)
class Section:
    """A heading (none for the opening lines) and its lines."""

    heading: str | None
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class EasyReadPage:
    """One Easy Read page, ready to show."""

    slug: str
    title: str
    summary: str
    updated: date | None
    sections: tuple[Section, ...]
    locale: str = "en"

    @property
    def pictures(self) -> list[str]:
        """Every picture code the page uses, in order, once each."""
        return list(dict.fromkeys(line.picture for section in self.sections for line in section.lines))


def _inline(text: str) -> Markup:
    """Escape a sentence, then turn ``**bold**`` and ``[text](/address)`` into HTML."""
    html = str(escape(text))
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _LINK.sub(r'<a class="govuk-link" href="\2">\1</a>', html)
    return Markup(html)


def parse(body: str, fill=lambda text: text) -> tuple[Section, ...]:
    """Return the sections of an Easy Read body; raise EasyReadError naming the first bad line.

    ``fill`` replaces the substitutions in headings and sentences.
    """
    sections: list[Section] = []
    heading: str | None = None
    lines: list[Line] = []
    for number, raw in enumerate(body.splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        if found := _HEADING.match(text):
            if heading is not None or lines:
                sections.append(Section(heading, tuple(lines)))
            heading, lines = fill(found["text"]), []
        elif found := _LINE.match(text):
            lines.append(Line(found["code"], _inline(fill(found["text"]))))
        else:
            raise EasyReadError(f"line {number}: expected '## Heading' or '[HEXCODE] Sentence', got {text[:60]!r}")
    if heading is not None or lines:
        sections.append(Section(heading, tuple(lines)))
    return tuple(sections)


def pictures_named(body: str) -> list[str]:
    """Return every picture code a body names (also ``[...]`` that only looks like one), once each."""
    codes = [found["code"] for line in body.splitlines() if (found := _CODE_LIKE.match(line.strip()))]
    return list(dict.fromkeys(codes))


def _folder() -> Path:
    return Path(current_app.config["CONTENT_PATH"]) / "pages" / FOLDER


def path_for(slug: str) -> Path | None:
    """Return the Easy Read file of a page, or None when it has none."""
    if not SLUG.match(slug):
        return None
    path = _folder() / f"{slug}.md"
    return path if path.is_file() else None


def exists(slug: str) -> bool:
    """Say whether a page has an Easy Read version."""
    return path_for(slug) is not None


_rendered: dict[tuple, EasyReadPage] = {}
_rendered_lock = threading.Lock()


def get_easy_read(slug: str) -> EasyReadPage | None:
    """Return a page's Easy Read version, rendered once while its file and the council details stay the same."""
    path = path_for(slug)
    if path is None:
        return None
    stat = path.stat()
    details = tuple(str(current_app.config[key]) for key in _SUBSTITUTIONS.values())
    key = (str(path), stat.st_size, stat.st_mtime_ns, details, date.today().year)
    page = _rendered.get(key)
    if page is None:
        post = frontmatter.load(path)
        updated = post.get("updated")
        page = EasyReadPage(
            slug=slug,
            title=_fill_in_council_details(str(post.get("title", slug))),
            summary=_fill_in_council_details(str(post.get("summary", ""))),
            updated=updated if isinstance(updated, date) else None,
            sections=parse(post.content, _fill_in_council_details),
        )
        with _rendered_lock:
            if len(_rendered) > 200:
                _rendered.clear()
            _rendered[key] = page
    return page


def check_file(path: Path, pictures: Path) -> list[str]:
    """Return what is wrong with one Easy Read file: its form, its pictures, its front matter, its lengths."""
    name = path.name
    try:
        post = frontmatter.load(path)
    except Exception as error:  # noqa: BLE001 - any YAML error is the file's problem
        return [f"{name}: front matter cannot be read ({error})"]
    problems = []
    for field in ("title", "summary", "updated", "easy_read_of"):
        if not post.get(field):
            problems.append(f"{name}: front matter has no {field}")
    if post.get("easy_read_of") and post["easy_read_of"] != path.stem:
        problems.append(f"{name}: easy_read_of is {post['easy_read_of']!r}, not the file's name {path.stem!r}")
    if not (path.parent.parent / f"{path.stem}.md").is_file():
        problems.append(f"{name}: there is no full page {path.stem}.md to be the Easy Read version of")
    for code in pictures_named(post.content):
        if not (pictures / f"{code}.svg").is_file():
            problems.append(f"{name}: no OpenMoji picture {code!r} in {pictures}")
    try:
        sections = parse(post.content)
    except EasyReadError as error:
        return [*problems, f"{name}: {error}"]
    for section in sections:
        where = section.heading or "(opening)"
        if not section.lines:
            problems.append(f"{name}: section {where!r} has no lines")
        if len(section.lines) > MOST_LINES_A_SECTION:
            problems.append(f"{name}: section {where!r} has {len(section.lines)} lines (at most {MOST_LINES_A_SECTION})")
    for line in post.content.splitlines():
        if found := _LINE.match(line.strip()):
            words = len(_LINK.sub(r"\1", found["text"]).split())
            if words > MOST_WORDS_A_LINE:
                problems.append(f"{name}: {found['text'][:40]!r}... has {words} words (at most {MOST_WORDS_A_LINE})")
    return problems


def check(folder: Path, pictures: Path) -> list[str]:
    """Return what is wrong with every Easy Read file in ``folder``; pictures are looked for in ``pictures``."""
    return [problem for path in sorted(folder.glob("*.md")) for problem in check_file(path, pictures)]
