"""Load information pages from ``content/pages``: Markdown with YAML front matter.

A page's file name is its address (``short-breaks.md`` is
``/information/short-breaks``).  A translation sits in a folder named after
the language (``content/pages/pl/short-breaks.md``); without one, the English
page is shown with a note.  Pages are written by the council's team and kept
in the repository, so their Markdown is trusted; substitutions such as
``{council}`` are replaced with the configured council's details.

A rendered page is kept in memory (``_rendered``), keyed on its file's path,
size and modification time, the language and the council details filled in:
the home page and the list of pages no longer render every page's Markdown on
each request, and an edited file is rendered again the next time it is asked for.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import frontmatter
import markdown
from markdown.extensions.toc import slugify_unicode
from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SUBSTITUTIONS = {
    "{council}": "COUNCIL_NAME",
    "{service_name}": "SERVICE_NAME",
    "{council_phone}": "COUNCIL_PHONE",
    "{council_email}": "COUNCIL_EMAIL",
    "{council_address}": "COUNCIL_ADDRESS",
    "{council_website}": "COUNCIL_WEBSITE",
}


@dataclass(frozen=True)
class InformationPage:
    """One information page, ready to show."""

    slug: str
    title: str
    summary: str
    order: int
    key: bool
    updated: date | None
    body: Markup
    locale: str
    #: Headings for the "on this page" contents: (id, text).
    headings: list[tuple[str, str]]
    #: For a translation: the date of the English version it was translated from, and when.
    translated_from: date | None = None
    translated_on: date | None = None
    #: For a translation: when the English page was last updated.
    english_updated: date | None = None

    @property
    def outdated(self) -> bool:
        """True when the English page has changed since this translation was made from it."""
        return bool(self.english_updated and (self.translated_from is None
                                              or self.english_updated > self.translated_from))


def _pages_folder() -> Path:
    """Return the folder the Markdown pages live in."""
    return Path(current_app.config["CONTENT_PATH"]) / "pages"


def _fill_in_council_details(text: str) -> str:
    """Replace ``{council}`` and the other substitutions with configured values."""
    for marker, key in _SUBSTITUTIONS.items():
        text = text.replace(marker, str(current_app.config[key]))
    return text.replace("{year}", str(date.today().year))


#: Rendered pages, by (path, size, modification time, language, council details, year).
_rendered: dict[tuple, InformationPage] = {}
_rendered_lock = threading.Lock()
#: More entries than this (files edited many times over) and the oldest renderings are dropped.
_RENDERED_LIMIT = 2000


def _read(path: Path, slug: str, locale: str) -> InformationPage:
    """Return one Markdown file as a page, rendered once for as long as the file and settings stay the same."""
    stat = path.stat()
    details = tuple(str(current_app.config[key]) for key in _SUBSTITUTIONS.values())
    key = (str(path), stat.st_size, stat.st_mtime_ns, slug, locale, details, date.today().year)
    page = _rendered.get(key)
    if page is None:
        page = _render(path, slug, locale)
        with _rendered_lock:
            if len(_rendered) >= _RENDERED_LIMIT:
                for old in list(_rendered)[: _RENDERED_LIMIT // 2]:
                    _rendered.pop(old, None)
            _rendered[key] = page
    return page


def _render(path: Path, slug: str, locale: str) -> InformationPage:
    """Parse and render one Markdown file into a page."""
    post = frontmatter.load(path)
    # Headings in Arabic or Bengali need their own letters in their ids ("on this page" links).
    renderer = markdown.Markdown(extensions=["tables", "toc", "sane_lists"],
                                 extension_configs={"toc": {"toc_depth": "2", "slugify": slugify_unicode}})
    body = renderer.convert(_fill_in_council_details(post.content))
    headings = [(token["id"], token["name"]) for token in renderer.toc_tokens]
    updated = post.get("updated")
    translated_from, translated_on = post.get("translated_from"), post.get("translated_on")
    return InformationPage(
        slug=slug,
        title=_fill_in_council_details(str(post.get("title", slug))),
        summary=_fill_in_council_details(str(post.get("summary", ""))),
        order=int(post.get("order", 1000)),
        key=bool(post.get("key", False)),
        updated=updated if isinstance(updated, date) else None,
        body=Markup(body),
        locale=locale,
        headings=headings,
        translated_from=translated_from if isinstance(translated_from, date) else None,
        translated_on=translated_on if isinstance(translated_on, date) else None,
    )


def stamp() -> tuple:
    """Return what changes whenever a page file is added, removed or edited (the home page's cache key)."""
    folder = _pages_folder()
    try:
        return tuple(sorted((entry.path, entry.stat().st_mtime_ns, entry.stat().st_size)
                            for sub in (folder, *(p for p in folder.iterdir() if p.is_dir()))
                            for entry in os.scandir(sub) if entry.name.endswith(".md")))
    except OSError:
        return ()


def get_page(slug: str, english: bool = False) -> InformationPage | None:
    """Return a page in the current language if translated (unless ``english``), else English; None if absent."""
    if not SLUG.match(slug):
        return None
    folder = _pages_folder()
    locale = str(get_locale())
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    original = folder / f"{slug}.md"
    translated = folder / locale / f"{slug}.md"
    if not english and locale != default and translated.is_file():
        page = _read(translated, slug, locale)
        if original.is_file():
            page = replace(page, english_updated=_read(original, slug, default).updated)
        return page
    if original.is_file():
        return _read(original, slug, default)
    return None


def translated(slug: str, locale: str) -> bool:
    """Say whether a page has a translation into a language."""
    return SLUG.match(slug) is not None and (_pages_folder() / locale / f"{slug}.md").is_file()


def all_pages() -> list[InformationPage]:
    """Return every information page, in their set order."""
    folder = _pages_folder()
    if not folder.is_dir():
        return []
    pages = [get_page(path.stem) for path in folder.glob("*.md")]
    return sorted((page for page in pages if page), key=lambda page: (page.order, page.title))


def key_pages() -> list[InformationPage]:
    """Return the pages families need first, for the home page."""
    return [page for page in all_pages() if page.key]
