"""The single allow-list for everything users and providers write.

Text enters the system through ``clean_markdown`` (descriptions: a small, safe
subset of Markdown rendered to HTML) or ``clean_text`` (everything else: no
HTML at all).  It is sanitised once, on the way in; templates still escape
plain text on the way out, and only ``clean_markdown`` output is marked safe.
"""

from __future__ import annotations

import bleach
import markdown
from bleach.linkifier import Linker

#: Paragraphs, lists, links and bold: what the portal promises providers.
ALLOWED_TAGS = frozenset({"p", "br", "ul", "ol", "li", "a", "strong", "em"})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})

_linker = Linker(callbacks=[bleach.callbacks.nofollow], skip_tags={"pre", "code"})


def clean_markdown(text: str) -> str:
    """Render a provider's Markdown to HTML that keeps only the allowed tags and links."""
    html = markdown.markdown(text or "", extensions=["sane_lists"])
    # Headings and other block tags become plain paragraphs' text rather than vanishing.
    cleaned = bleach.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
    )
    return _linker.linkify(cleaned).strip()


def clean_html(html: str | None) -> str:
    """Clean HTML from another directory's feed with the same allow-list (no Markdown step)."""
    cleaned = bleach.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                           protocols=ALLOWED_PROTOCOLS, strip=True)
    return _linker.linkify(cleaned).strip()


def clean_text(text: str | None) -> str:
    """Strip every tag and control character from plain text, keeping line breaks."""
    if not text:
        return ""
    stripped = bleach.clean(text, tags=set(), attributes={}, strip=True)
    # bleach escapes &, < and >; plain text is escaped again by templates, so undo it here.
    stripped = stripped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    # C0 controls, DEL and the C1 controls (U+0080-U+009F) are never text anyone meant to write.
    return "".join(ch for ch in stripped if ch in "\n\t" or (ord(ch) >= 32 and not 127 <= ord(ch) < 160)).strip()
