"""Light pages: compressed responses, fingerprinted static files cached a year, information pages rendered once."""

from __future__ import annotations

import gzip
import re
import time
from urllib.parse import quote

import brotli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local_offer import assets, information_pages

from support import make_user, sign_in

YEAR = "public, max-age=31536000, immutable"


def static_links(html: str) -> list[str]:
    """Return the addresses of the static files a page links to."""
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html) + re.findall(r'from "(/static/[^"]+)"', html)


def test_a_big_page_is_compressed_with_brotli_or_gzip(full_demo, client):
    """A results page is sent brotli- or gzip-compressed, as the browser accepts, and decompresses to the page."""
    plain = client.get("/search?q=&sort=checked")
    assert "Content-Encoding" not in plain.headers
    assert len(plain.data) > 20_000
    squeezed = client.get("/search?q=&sort=checked", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert squeezed.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in squeezed.headers["Vary"]
    assert len(squeezed.data) < len(plain.data) / 4
    assert b"</html>" in brotli.decompress(squeezed.data)
    zipped = client.get("/search?q=&sort=checked", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert b"</html>" in gzip.decompress(zipped.data)


def test_styles_scripts_and_json_are_compressed(full_demo, client):
    """CSS, JavaScript and JSON answers are compressed too."""
    for url in ("/static/dist/local-offer.css", "/static/dist/govuk-frontend.min.js", "/api/v1/services?per_page=50"):
        response = client.get(url, headers={"Accept-Encoding": "br"})
        body = response.get_data()
        response.close()
        assert response.status_code == 200, url
        assert response.headers.get("Content-Encoding") == "br", url
        assert brotli.decompress(body), url


def test_private_pages_are_not_compressed(demo, client):
    """What a signed-in account sees (no-store) is sent uncompressed: no secret leaks through its length."""
    from local_offer.models import Role
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    sign_in(client, "coordinator@example.gov.uk")
    response = client.get("/account/", headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Encoding" not in response.headers


def test_pages_link_fingerprinted_assets_kept_for_a_year(demo, client):
    """Every static file a page links to carries its content hash, and is then cached for a year."""
    html = client.get("/").get_data(as_text=True)
    links = static_links(html)
    assert {"local-offer.css", "govuk-frontend.min.js", "local-offer.js"} <= {
        link.split("?")[0].rsplit("/", 1)[1] for link in links}
    for link in links:
        assert re.search(r"\?v=[0-9a-f]{12}$", link), link
        response = client.get(link)
        response.close()
        assert response.status_code == 200, link
        assert response.headers["Cache-Control"] == YEAR, link
    theme = re.search(r'href="(/theme\.css\?v=[0-9a-f]{12})"', html).group(1)
    assert "immutable" in client.get(theme).headers["Cache-Control"]


def test_unfingerprinted_and_stale_addresses_still_work_but_are_not_kept(demo, client):
    """Without a hash, or with an old one, the file is served as before and revalidated, never kept a year."""
    for url in ("/static/dist/local-offer.css", "/static/dist/local-offer.css?v=000000000000"):
        response = client.get(url)
        response.close()
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")
    assert client.get("/theme.css?v=0").headers["Cache-Control"] == "public, max-age=3600"


def test_a_changed_file_gets_a_new_address(app, tmp_path):
    """The hash follows the file's contents."""
    path = tmp_path / "a.css"
    path.write_text("a{}")
    first = assets.file_hash(str(path))
    time.sleep(0.01)
    path.write_text("b{color:red}")
    assert assets.file_hash(str(path)) != first
    assert assets.file_hash(str(tmp_path / "missing.css")) is None
    assert assets.file_hash(str(tmp_path)) is None


def test_shared_files_never_set_or_vary_on_the_cookie(demo, client):
    """With a session cookie, static files are still the same for everyone: no Set-Cookie, no Vary: Cookie."""
    client.get("/feedback")  # a form: the session now holds a CSRF token
    html = client.get("/").get_data(as_text=True)
    for link in static_links(html):
        response = client.get(link)
        response.close()
        assert "Set-Cookie" not in response.headers, link
        assert "Cookie" not in response.headers.get("Vary", ""), link


def test_a_signed_in_account_can_keep_fingerprinted_files(demo, client):
    """A fingerprinted file is public and the same for everyone, so even a signed-in account caches it."""
    from local_offer.models import Role
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    sign_in(client, "coordinator@example.gov.uk")
    link = static_links(client.get("/").get_data(as_text=True))[0]
    response = client.get(link)
    response.close()
    assert response.headers["Cache-Control"] == YEAR


def test_information_pages_are_rendered_once(demo, client, monkeypatch):
    """Two requests for the home page and an information page render each page's Markdown once."""
    information_pages._rendered.clear()
    calls = []
    render = information_pages._render
    monkeypatch.setattr(information_pages, "_render", lambda *args: calls.append(args[1]) or render(*args))
    for _ in range(2):
        assert client.get("/").status_code == 200
        assert client.get("/information/short-breaks").status_code == 200
        assert client.get("/information/").status_code == 200
    assert calls and len(calls) == len(set(calls))
    assert "short-breaks" in calls


def test_an_edited_information_page_is_rendered_again(demo, client, small_content):
    """Editing a page's file shows the new text on the next request."""
    pages = small_content / "pages"
    target = pages.resolve() / "short-breaks.md"
    pages.unlink()
    pages.mkdir()
    (pages / "short-breaks.md").write_text(target.read_text())
    assert "Brand new paragraph" not in client.get("/information/short-breaks").get_data(as_text=True)
    time.sleep(0.01)
    (pages / "short-breaks.md").write_text(target.read_text() + "\n\nBrand new paragraph.\n")
    assert "Brand new paragraph" in client.get("/information/short-breaks").get_data(as_text=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(version=st.text(max_size=40), name=st.text(max_size=40))
def test_any_version_or_file_name_gets_a_clear_answer(demo, client, version, name):
    """Whatever ?v= or file name is asked for, the answer is the file, a 404 or a 400: never a 500."""
    response = client.get("/static/dist/local-offer.css", query_string={"v": version})
    response.close()
    assert response.status_code in (200, 400)
    response = client.get("/static/" + quote(name, safe="/."), query_string={"v": version})
    response.close()
    assert response.status_code < 500
    theme = client.get("/theme.css", query_string={"v": version})
    assert theme.status_code in (200, 400)
    assert "immutable" not in theme.headers.get("Cache-Control", "")
