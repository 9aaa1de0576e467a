"""Descriptions written as plain text: paragraphs and lists in, safe Markdown kept, the same text back."""

from __future__ import annotations

import re
import time
from html import unescape

from hypothesis import HealthCheck, given, settings, strategies as st

from local_offer.listings import plain_text
from local_offer.listings.plain_text import normalise, plain_from_html, to_markdown, to_plain
from local_offer.sanitise import clean_markdown

PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Tags a description may end up with (bold, italics and links only ever from older Markdown or imports).
TAGS = {"p", "br", "ul", "ol", "li", "a"}


def rendered(text: str) -> str:
    return clean_markdown(to_markdown(text))


def test_paragraphs_and_lists_as_people_type_them():
    """A blank line between paragraphs; "-", "*", "•" and "1." lines become lists; a typed line break stays."""
    text = ("We swim on Saturdays.\nMeet at the side door.\n\nBring:\n- a towel\n* goggles\n•a snack\n\n"
            "How to join:\n1. Ring us\n2) Come and try")
    assert rendered(text) == (
        "<p>We swim on Saturdays.<br>\nMeet at the side door.</p>\n<p>Bring:</p>\n"
        "<ul>\n<li>a towel</li>\n<li>goggles</li>\n<li>a snack</li>\n</ul>\n<p>How to join:</p>\n"
        "<ol>\n<li>Ring us</li>\n<li>Come and try</li>\n</ol>")
    assert to_plain(to_markdown(text)) == normalise(text) == (
        "We swim on Saturdays.\nMeet at the side door.\n\nBring:\n\n- a towel\n- goggles\n- a snack\n\n"
        "How to join:\n\n1. Ring us\n2. Come and try")


def test_markdown_syntax_typed_means_nothing():
    """Stars, hashes, brackets, backticks, quotes and HTML show exactly as typed."""
    typed = ("**not bold** _not italic_ `not code` [not](a link) <b>not html</b> &amp; &copy;\n"
             "# not a heading\n> not a quote\n---\n===\n    not code either\n1986. A good year\n- - -")
    html = rendered(typed)
    assert re.findall(r"<(\w+)", html) == ["p", "br", "br", "br", "br", "br", "ol", "li", "ul", "li"]
    for words in ("**not bold**", "_not italic_", "`not code`", "[not](a link)", "<b>not html</b>",
                  "&amp; &copy;", "# not a heading", "> not a quote", "---", "===", "- -"):
        assert words in unescape(html), words
    assert to_plain(to_markdown(typed)) == normalise(typed)


def test_hostile_input_never_becomes_markup():
    """Scripts, javascript: links and event handlers are words on the page, never markup."""
    hostile = ("<script>alert(1)</script>\n[click](javascript:alert(1))\n<img src=x onerror=alert(1)>\n"
               "<a href=\"javascript:alert(1)\">x</a>\x00\x02\x03\u0085 <svg/onload=alert(1)>")
    html = rendered(hostile)
    assert "<script" not in html and "<img" not in html and "<svg" not in html and '<a href="javascript' not in html
    assert set(re.findall(r"<(\w+)", html)) <= TAGS
    assert "\x02" not in to_markdown(hostile) and "\x00" not in html
    assert to_plain(to_markdown(hostile)) == normalise(hostile)


def test_web_addresses_become_links():
    """A web address typed is a link on the page, and plain text again in the editor."""
    html = rendered("See https://example.org/swim_times?day=sat&age=9 for times.")
    assert '<a href="https://example.org/swim_times?day=sat&amp;age=9" rel="nofollow">' in html
    assert to_plain(to_markdown("See https://example.org/swim_times?day=sat&age=9 for times.")) == \
        "See https://example.org/swim_times?day=sat&age=9 for times."


def test_older_markdown_and_imported_html_come_back_as_plain_text():
    """Bold, links and headings written before (or imported) are shown without their marks."""
    older = "## Sessions\n\nWe paddle **slowly**. [Book here](https://example.org/book)\n\n* one\n* two\n\n3. three"
    assert to_plain(older) == "Sessions\n\nWe paddle slowly. Book here (https://example.org/book)\n\n- one\n- two\n\n1. three"
    assert plain_from_html("<p>Line one<br>line two</p><ul><li><p>loose</p></li><li>tight</li></ul><p>End</p>") \
        == "Line one\nline two\n\n- loose\n- tight\n\nEnd"
    assert to_plain("") == "" == to_markdown("   \n\n  ")


def test_twenty_thousand_characters_are_quick_and_come_back_the_same():
    """The longest description a provider may write converts both ways in well under a second."""
    unit = "Swimming * for _all_ <ages> & [abilities].\n- towel\n- `goggles`\n\n1. ring\n2. come\n\n"
    text = (unit * (20_000 // len(unit) + 1))[:20_000]
    started = time.monotonic()
    markdown = to_markdown(text)
    back = to_plain(markdown)
    assert time.monotonic() - started < 5
    assert back == normalise(text)
    assert set(re.findall(r"<(\w+)", clean_markdown(markdown))) <= TAGS


lines = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="*_`[]()<>&#!-=+.\\|~:;'\" \tab1\u00a0\u2028•", max_size=30),
    st.builds(lambda mark, words: mark + words, st.sampled_from(["- ", "* ", "• ", "1. ", "2) ", "# ", "> ",
                                                                 "    ", "-", "10.", "=="]),
              st.text(max_size=20)),
    st.just(""), st.just("https://example.org/a_b?c=1&d=2"), st.just("www.example.com"),
)
texts = st.lists(lines, max_size=12).map("\n".join)


@PROPERTIES
@given(text=texts)
def test_any_text_comes_back_as_it_was_typed(text):
    """Whatever a provider types, the editor shows it back the one way it is normalised, and only allowed tags render."""
    markdown = to_markdown(text)
    assert to_plain(markdown) == normalise(text)
    assert normalise(normalise(text)) == normalise(text)
    assert to_markdown(normalise(text)) == markdown  # saving again without a change changes nothing
    assert set(re.findall(r"<(\w+)", clean_markdown(markdown))) <= TAGS


@PROPERTIES
@given(text=st.text(max_size=200))
def test_any_markdown_from_before_can_be_edited(text):
    """Any stored Markdown gives plain text, which converts again without raising."""
    plain = to_plain(text)
    assert plain == normalise(plain)
    assert to_plain(to_markdown(plain)) == plain


def test_adding_a_paragraph_keeps_the_links_of_the_paragraphs_left_alone():
    """A link shows as "guide (https://...)" to edit; untouched, it stays a link on its words."""
    stored = "We swim **slowly**.\n\nRead our [session guide](https://x.org/guide) before you come.\n\n* towels"
    typed = plain_text.to_plain(stored) + "\n\nNew: bring [goggles](https://evil.example)."
    kept = plain_text.to_markdown_keeping(typed, stored)
    assert "Read our [session guide](https://x.org/guide) before you come." in kept
    assert "We swim **slowly**." in kept and "\\[goggles\\](https://evil.example)" in kept
    assert plain_text.to_plain(kept) == plain_text.normalise(typed)
    changed = typed.replace("before you come", "before your first visit")
    assert "[session guide]" not in plain_text.to_markdown_keeping(changed, stored)


@settings(max_examples=200, deadline=None)
@given(stored=st.text(max_size=300), typed=st.text(max_size=300))
def test_keeping_stored_paragraphs_never_changes_what_the_provider_reads(stored, typed):
    """Whatever was stored and whatever is typed, the result reads back as exactly what was typed."""
    assert plain_text.to_plain(plain_text.to_markdown_keeping(typed, stored)) == plain_text.normalise(typed)
