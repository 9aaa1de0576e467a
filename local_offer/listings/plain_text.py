"""Descriptions as providers write them: plain text with paragraphs and lists, kept as Markdown.

Providers never see Markdown.  They leave a blank line between paragraphs and
start a line with "-", "*", "•" or "1." for a list item; ``to_markdown`` turns
that into Markdown in which their own words mean nothing special (every
character Markdown would read as syntax is escaped), so "**" or "<b>" typed
shows as typed.  ``to_plain`` turns any stored description back into that
plain form for editing: ours, Markdown written by hand before, or an imported
feed's HTML (through the one allow-list: ``sanitise.clean_markdown``).  For any
text, ``to_plain(to_markdown(text)) == normalise(text)``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from local_offer.sanitise import clean_markdown

#: A bullet: "-" or "*" and a space, or a bullet character; then the item's words.
BULLET = re.compile(r"(?:[-*]\s+|[•‣◦▪●·]\s*)(?=\S)")
#: A numbered item: "1." or "1)" and a space; then the item's words.
NUMBERED = re.compile(r"(\d{1,9})[.)]\s+(?=\S)")
#: Characters Markdown reads as syntax anywhere in a line, escaped with a backslash.
_INLINE = re.compile(r"([\\`*_\[\]])")
#: Characters Markdown reads as syntax at the start of a line (headings, quotes, lists, rules).
_LINE_START = re.compile(r"^([#>+\-])")
_ORDERED_START = re.compile(r"^(\d+)([.)])")


def _visible(text: str) -> str:
    """Drop control characters (keeping line breaks and tabs) and make line ends plain."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch if ch in "\n\t" or (ord(ch) >= 32 and not 127 <= ord(ch) < 160) else ""
                   for ch in text)


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """Read plain text as blocks: ("p", lines of a paragraph), ("ul", items) or ("ol", items, numbered from 1)."""
    found: list[tuple[str, list[str]]] = []
    previous_blank = True
    for raw in _visible(text).split("\n"):
        line = re.sub(r"\s+", " ", raw).strip(" ")
        if not line:
            previous_blank = True
            continue
        bullet, numbered = BULLET.match(line), NUMBERED.match(line)
        kind, item = ("ul", line[bullet.end():]) if bullet else ("ol", line[numbered.end():]) if numbered \
            else ("p", line)
        last = found[-1][0] if found else None
        if last == kind and (kind != "p" or not previous_blank):
            found[-1][1].append(item)  # a list goes on over blank lines between its items
        elif last in ("ul", "ol") and kind == "p" and not previous_blank:
            found[-1][1][-1] += " " + item  # a line straight under a list item carries it on
        else:
            found.append((kind, [item]))
        previous_blank = False
    return found


def _lines(kind: str, items: list[str]) -> list[str]:
    """Return a block's lines as the editor shows them."""
    if kind == "ul":
        return [f"- {item}" for item in items]
    if kind == "ol":
        return [f"{number}. {item}" for number, item in enumerate(items, start=1)]
    return items


def normalise(text: str | None) -> str:
    """Return text the one way the editor shows it: trimmed lines, one blank line between blocks, "- " bullets."""
    return "\n\n".join("\n".join(_lines(kind, items)) for kind, items in blocks(text or ""))


def _escape(words: str) -> str:
    """Escape a line of the provider's words so that Markdown shows them as they are."""
    words = words.replace("&", "&amp;").replace("<", "&lt;")
    words = _INLINE.sub(r"\\\1", words)
    words = _LINE_START.sub(r"\\\1", words)
    if words.startswith("="):  # a line of "=" under another is a heading; "=" has no backslash escape
        words = "&#61;" + words[1:]
    return _ORDERED_START.sub(r"\1\\\2", words)


def to_markdown(text: str | None) -> str:
    """Turn a provider's plain text into the Markdown kept for the description."""
    out = []
    for kind, items in blocks(text or ""):
        if kind == "p":
            out.append("  \n".join(_escape(line) for line in items))  # a line break typed stays one
        elif kind == "ul":
            out.append("\n".join(f"- {_escape(item)}" for item in items))
        else:
            out.append("\n".join(f"{number}. {_escape(item)}" for number, item in enumerate(items, start=1)))
    return "\n\n".join(out)


def to_markdown_keeping(text: str | None, stored: str | None) -> str:
    """Turn a provider's plain text into Markdown, keeping the stored Markdown of paragraphs left as they were.

    A stored link shows in the edit box as "session guide (https://...)", which
    cannot be turned back into a link on those words; so a paragraph (or list)
    whose plain text is unchanged keeps its stored Markdown, links and all, and
    only new or changed ones are made from the text.  Adding a paragraph
    rewrites nothing else.
    """
    if not stored:
        return to_markdown(text)
    kept: dict[str, str] = {}
    for chunk in re.split(r"\n[ \t]*\n", _visible(stored)):
        if chunk.strip():
            kept.setdefault(to_plain(chunk), chunk.strip("\n"))
    out = []
    for chunk in re.split(r"\n[ \t]*\n", _visible(text or "")):
        if chunk.strip():
            out.append(kept.get(normalise(chunk)) or to_markdown(chunk))
    return "\n\n".join(part for part in out if part)


class _Reader(HTMLParser):
    """Read the allow-listed HTML of a description back into the plain form."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.line = ""
        self.lists: list[list] = []  # each open list: [kind, next number]
        self.link: tuple[str, str] | None = None  # (href, text so far)

    def _end_block(self) -> None:
        text = "\n".join(part.strip() for part in self.line.split("\n")).strip()
        if text:
            self.blocks.append(text)
        self.line = ""

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "ul", "ol") and not self.lists:
            self._end_block()
        if tag in ("ul", "ol"):
            start = dict(attrs).get("start")
            self.lists.append([tag, int(start) if (start or "").isdecimal() else 1])
            if len(self.lists) > 1 and self.line.strip():
                self.line += "\n"
        elif tag == "li" and self.lists:
            if self.line.strip():
                self.line = self.line.rstrip() + "\n"
            kind = self.lists[-1]
            self.line += "- " if kind[0] == "ul" else f"{kind[1]}. "
            kind[1] += 1
        elif tag == "br":
            self.line = self.line.rstrip() + "\n"
        elif tag == "a":
            self.link = (dict(attrs).get("href") or "", "")

    def handle_endtag(self, tag):
        if tag == "a" and self.link is not None:
            href, text = self.link
            self.link = None
            shown = text.strip()
            bare = re.sub(r"^(https?://|mailto:|tel:)", "", href).rstrip("/")
            if href and shown and bare not in shown and shown.rstrip("/") not in (href, bare):
                text = f"{text} ({href})"
            self.line += text
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            if not self.lists:
                self._end_block()
        elif tag == "p" and not self.lists:
            self._end_block()

    def handle_data(self, data):
        data = re.sub(r"\s+", " ", data)
        if self.link is not None:
            self.link = (self.link[0], self.link[1] + data)
        elif data.strip() or self.line:
            self.line += data

    def close(self):
        super().close()
        self._end_block()


def plain_from_html(html: str | None) -> str:
    """Return allow-listed description HTML as the plain form a provider edits."""
    reader = _Reader()
    reader.feed(html or "")
    reader.close()
    return normalise("\n\n".join(reader.blocks))


def to_plain(markdown_text: str | None) -> str:
    """Return a stored description (Markdown) as the plain text a provider edits."""
    return plain_from_html(clean_markdown(markdown_text or ""))
