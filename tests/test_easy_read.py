"""Easy Read versions of the key information pages: a picture beside every line, linked both ways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local_offer.config import PROJECT_ROOT
from local_offer.easy_read import EasyReadError, check, parse, pictures_named

from support import text_of

EASY_READ = PROJECT_ROOT / "content" / "pages" / "easy-read"
OPENMOJI = PROJECT_ROOT / "node_modules" / "openmoji" / "color" / "svg"
SERVED = PROJECT_ROOT / "static" / "dist" / "openmoji"
FIVE = ("information-advice-and-support", "ehc-needs-assessment", "short-breaks",
        "complaints-and-disagreements", "help-without-the-internet")
LINE = re.compile(r'<p class="govuk-body-l lo-easy-read__line"><img class="lo-easy-read__picture" '
                  r'src="(?P<src>[^"]+)" alt="" width="72" height="72"><span class="lo-easy-read__text">')


@pytest.fixture(autouse=True)
def pictures_copied():
    """The pictures are build output: `make assets` copies them (make test does)."""
    assert SERVED.is_dir(), "Run `make assets` first: it copies the Easy Read pictures into static/dist/openmoji"


@pytest.mark.parametrize("slug", FIVE)
def test_each_key_page_links_to_its_easy_read_version_and_back(app, client, slug):
    full = client.get(f"/information/{slug}").get_data(as_text=True)
    link = f'href="/information/{slug}/easy-read" hreflang="en">Easy Read version of this page</a>'
    assert link in full
    response = client.get(f"/information/{slug}/easy-read")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<a class="govuk-link" href="/information/{slug}">Full version of this page</a>' in html
    assert "Easy Read" in html.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert "{council" not in html and "{service_name}" not in html  # substitutions are filled in
    assert '<div class="lo-easy-read">' in html  # English interface: nothing to mark


@pytest.mark.parametrize("slug", FIVE)
def test_every_line_has_a_picture_that_is_served(app, client, slug):
    html = client.get(f"/information/{slug}/easy-read").get_data(as_text=True)
    body = (EASY_READ / f"{slug}.md").read_text(encoding="utf-8").split("---", 2)[2]
    lines = [line for line in body.splitlines() if line.startswith("[")]
    sources = LINE.findall(html)
    assert len(sources) == len(lines) == html.count("lo-easy-read__line") > 10
    assert html.count("<img") == len(sources)  # no picture without its sentence, none left without alt=""
    for source in set(sources):
        path, _, version = source.partition("?v=")
        assert path.startswith("/static/dist/openmoji/") and version, source
        assert (SERVED / path.rsplit("/", 1)[1]).is_file(), source
        with client.get(source) as picture:
            assert picture.status_code == 200 and picture.mimetype == "image/svg+xml", source


def test_only_the_pictures_used_are_served(app, client):
    named = {code for path in EASY_READ.glob("*.md") for code in pictures_named(path.read_text(encoding="utf-8"))}
    assert {path.stem for path in SERVED.iterdir()} == named, "run `make assets` after editing an Easy Read file"
    with client.get("/static/dist/openmoji/1F600.svg") as unused:
        assert unused.status_code == 404  # in the package, not used
    assert (OPENMOJI / "1F600.svg").is_file()


@pytest.mark.parametrize("slug", FIVE)
def test_the_pictures_are_credited(app, client, slug):
    html = client.get(f"/information/{slug}/easy-read").get_data(as_text=True)
    credit = html.split('lo-easy-read__credit">', 1)[1].split("</p>", 1)[0]
    assert 'href="https://openmoji.org/"' in credit and 'href="https://creativecommons.org/licenses/by-sa/4.0/"' in credit
    assert re.sub(r"<[^>]+>", "", credit) == ("Pictures: OpenMoji, the open-source emoji and icon project, "
                                              "licence CC BY-SA 4.0.")


def test_the_council_details_and_facts_are_there(app, client):
    page = text_of(client.get("/information/ehc-needs-assessment/easy-read"))
    assert app.config["COUNCIL_PHONE"] in page and app.config["COUNCIL_EMAIL"] in page
    for fact in ("Within 6 weeks", "within 20 weeks", "at least 15 days", "2 months", "1 month"):
        assert fact in page, fact
    complaints = text_of(client.get("/information/complaints-and-disagreements/easy-read"))
    for fact in ("within 12 months", "6 months", "longer than 20 weeks", "certificate"):
        assert fact in complaints, fact


def test_unknown_pages_and_pages_without_easy_read_are_not_found(app, client):
    assert client.get("/information/no-such-page/easy-read").status_code == 404
    assert client.get("/information/Short-Breaks/easy-read").status_code == 404
    assert client.get("/information/glossary/easy-read").status_code == 404
    glossary = client.get("/information/glossary").get_data(as_text=True)
    assert "Easy Read version of this page" not in glossary


def test_the_content_is_marked_english_when_the_interface_is_polish(app, client):
    client.set_cookie("lo_lang", "pl")
    html = client.get("/information/short-breaks/easy-read").get_data(as_text=True)
    assert '<html lang="pl"' in html
    block = html.split('<div class="lo-easy-read" lang="en" dir="ltr">', 1)
    assert len(block) == 2, "the Easy Read content must carry lang=en dir=ltr"
    assert "<h1" in block[1].split("lo-easy-read__credit")[0] and LINE.search(block[1])
    assert 'href="/information/short-breaks">' in block[0]  # the link back is interface, outside the block
    full = client.get("/information/short-breaks").get_data(as_text=True)
    assert 'href="/information/short-breaks/easy-read" hreflang="en"' in full


def test_every_easy_read_file_passes_the_check():
    """Each file's pictures exist in OpenMoji and were copied; its form, front matter and lengths are right."""
    assert set(FIVE) <= {path.stem for path in EASY_READ.glob("*.md")}
    assert check(EASY_READ, OPENMOJI) == []
    assert check(EASY_READ, SERVED) == []


def test_the_check_finds_an_unknown_picture_and_a_bad_line(tmp_path):
    folder = tmp_path / "pages" / "easy-read"
    folder.mkdir(parents=True)
    (tmp_path / "pages" / "short-breaks.md").write_text("---\ntitle: Short breaks\n---\nText.\n")
    good = "---\ntitle: T\nsummary: S\nupdated: 2026-12-06\neasy_read_of: short-breaks\n---\n## Hello\n[1F4DE] Phone us.\n"
    (folder / "short-breaks.md").write_text(good)
    assert check(folder, OPENMOJI) == []
    (folder / "short-breaks.md").write_text(good + "[1F4DE0] A picture OpenMoji does not have.\n")
    assert check(folder, OPENMOJI) == [f"short-breaks.md: no OpenMoji picture '1F4DE0' in {OPENMOJI}"]
    (folder / "short-breaks.md").write_text(good + "[phone] A code that is not a code.\n")
    problems = check(folder, OPENMOJI)
    assert any("'phone'" in problem for problem in problems) and any("line 3" in problem for problem in problems)
    (folder / "glossary.md").write_text(good)  # no full page glossary.md, and easy_read_of names another page
    problems = check(folder, OPENMOJI)
    assert "glossary.md: there is no full page glossary.md to be the Easy Read version of" in problems
    assert any("easy_read_of is 'short-breaks'" in problem for problem in problems)


def test_parse_escapes_text_and_keeps_bold_and_links():
    sections = parse("[1F4DE] Phone <b>us</b> **now** or [read more](/information/glossary).\n\n## Next\n[2709] Write.")
    assert [section.heading for section in sections] == [None, "Next"]
    assert str(sections[0].lines[0].text) == ('Phone &lt;b&gt;us&lt;/b&gt; <strong>now</strong> or '
                                              '<a class="govuk-link" href="/information/glossary">read more</a>.')
    assert str(parse("[2709] [bad](javascript:alert(1))")[0].lines[0].text) == "[bad](javascript:alert(1))"
    with pytest.raises(EasyReadError, match="line 2"):
        parse("[2709] Fine.\nA line with no picture.")


def test_a_too_long_section_or_line_is_reported(tmp_path):
    folder = tmp_path / "pages" / "easy-read"
    folder.mkdir(parents=True)
    (tmp_path / "pages" / "x.md").write_text("---\ntitle: X\n---\n")
    lines = "".join(f"[2709] Line {number}.\n" for number in range(5))
    long_line = "[2709] " + " ".join(["word"] * 21) + "\n"
    (folder / "x.md").write_text(f"---\ntitle: X\nsummary: S\nupdated: 2026-12-06\neasy_read_of: x\n---\n{lines}{long_line}")
    problems = check(folder, OPENMOJI)
    assert any("has 6 lines" in problem for problem in problems) and any("21 words" in problem for problem in problems)
