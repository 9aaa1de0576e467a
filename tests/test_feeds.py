"""Neighbours' directories in ours: a local fake feed served by the test itself (never the network)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from local_offer import feeds
from local_offer.extensions import db
from local_offer.interchange import sources
from local_offer.models import Feed, Listing, ListingStatus, Role, utcnow

from support import make_user, sign_in, text_of

NAME = "Neighbourshire's Local Offer"
LICENCE = "Open Government Licence v3.0"


def service(number: int, **more) -> dict:
    return {"id": f"n-{number}", "name": f"Neighbour Kayak Club {number}",
            "description": f"Paddling for disabled young people, group {number}.", "status": "active",
            "organization": {"id": "neighbour-org", "name": "Neighbour Paddlers"}, **more}


class FakeFeed:
    """A neighbour's v1 (and v3) API on a local port: tests change what it serves and see what was asked."""

    def __init__(self):
        self.services = [service(1), service(2), service(3)]
        self.mode = "ok"
        self.asked: list[str] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.asked.append(request.full_path)
        if self.mode == "broken":
            return Response("Internal error", 500)(environ, start_response)
        if self.mode == "html":
            return Response("<html><body>Maintenance</body></html>", 200, mimetype="text/html")(environ, start_response)
        if self.mode == "slow":
            time.sleep(1.5)
        query = parse_qs(request.query_string.decode())
        number = int(query.get("page", ["1"])[0])
        per_page = int(query.get("per_page", ["2"])[0])
        if self.mode == "loop":
            number = 1
        if request.path.startswith("/api/v3/services/"):
            found = [s for s in self.services if s["id"] == request.path.rsplit("/", 1)[1]]
            return Response(json.dumps(found[0] if found else {}), mimetype="application/json")(
                environ, start_response)
        chosen = self.services[(number - 1) * per_page: number * per_page]
        pages = max(1, -(-len(self.services) // per_page))
        if request.path.startswith("/api/v3/"):
            body = {"total_items": len(self.services), "total_pages": pages, "page_number": number,
                    "size": len(chosen), "first_page": number == 1, "last_page": self.mode != "loop" and
                    number >= pages, "contents": [{k: v for k, v in s.items() if k in ("id", "name", "status")}
                                                  for s in chosen]}
        else:
            body = {"totalElements": len(self.services), "totalPages": pages, "number": number,
                    "size": len(chosen), "first": number == 1, "last": self.mode != "loop" and number >= pages,
                    "content": chosen}
        return Response(json.dumps(body), mimetype="application/json")(environ, start_response)


@pytest.fixture
def neighbour():
    fake = FakeFeed()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.base = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()


@pytest.fixture
def coordinator(demo, app):
    make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    client = app.test_client()
    assert sign_in(client, "coordinator@example.gov.uk").status_code == 302
    return client


def add_feed(client, neighbour, **changes):
    data = {"url": f"{neighbour.base}/api/v1/services?per_page=2", "name": NAME, "licence": LICENCE,
            "site_url": "https://neighbourshire.example.gov.uk/local-offer", **changes}
    return client.post("/admin/feeds", data=data)


def feed() -> Feed:
    return db.session.execute(select(Feed)).scalar_one()


def visible_names() -> set[str]:
    db.session.expire_all()
    return {listing.name for listing in db.session.execute(select(Listing).where(
        Listing.feed_id.isnot(None), Listing.status == ListingStatus.PUBLISHED)).scalars()}


def test_a_neighbours_services_appear_labelled_and_stay_in_step(coordinator, neighbour, client, runner):
    """Added by a coordinator, pulled by the jobs; labelled in search; kept in step; never in our open data."""
    response = add_feed(coordinator, neighbour)
    assert response.status_code == 302
    result = runner.invoke(args=["jobs", "run", "--job", "feeds"])
    assert result.exit_code == 0, result.output
    assert visible_names() == {"Neighbour Kayak Club 1", "Neighbour Kayak Club 2", "Neighbour Kayak Club 3"}
    assert sum("page=" in asked for asked in neighbour.asked) == 2  # two pages of two
    page = text_of(client.get("/search?q=neighbour+kayak"))
    assert "Neighbour Kayak Club 2" in page and f"From {NAME}, checked" in page
    listing = db.session.execute(select(Listing).where(Listing.name == "Neighbour Kayak Club 1")).scalar_one()
    detail = client.get(f"/listings/{listing.id}", follow_redirects=True)
    assert "See it on Neighbourshire" in text_of(detail) and LICENCE in text_of(detail)
    assert 'href="https://neighbourshire.example.gov.uk/local-offer"' in detail.get_data(as_text=True)
    assert listing.id != "n-1" and listing.review_due is None  # ids namespaced; not ours to review
    # out of our own open data
    assert "Neighbour Kayak" not in client.get("/api/v1/services?per_page=1000").get_data(as_text=True)
    assert "Neighbour Kayak" not in client.get("/api/v3/services?per_page=1000").get_data(as_text=True)
    assert client.get(f"/api/v1/services/{listing.id}").status_code == 404
    # a change, a service gone, a new id: in step after the next pull
    neighbour.services = [service(1, name="Neighbour Kayak Club One"), service(2), service(4)]
    report = feeds.pull(feed())
    assert (report["created"], report["updated"], report["unchanged"], report["withdrawn"]) == (1, 1, 1, 1)
    assert visible_names() == {"Neighbour Kayak Club One", "Neighbour Kayak Club 2", "Neighbour Kayak Club 4"}
    page = text_of(coordinator.get(f"/admin/feeds/{feed().id}"))
    assert "3 services read: 1 added, 1 changed, 1 unchanged, 1 withdrawn, 0 rejected" in page
    assert "Withdrawn (1) Neighbour Kayak Club 3" in page and "Added (1) Neighbour Kayak Club 4" in page


def test_a_failed_or_thin_pull_withdraws_nothing(coordinator, neighbour, monkeypatch):
    """500, HTML, a timeout, a page too big, or under half of last time: a message, and nothing withdrawn."""
    add_feed(coordinator, neighbour)
    assert not feeds.pull(feed())["problem"]
    before = visible_names()
    monkeypatch.setattr(sources, "FETCH_TIMEOUT", 0.5)
    monkeypatch.setattr(sources, "MAX_PAGE_BYTES", 2000)
    for mode, words in (("broken", "500"), ("html", "not JSON"), ("slow", "timed out")):
        neighbour.mode = mode
        report = feeds.pull(feed())
        assert words in report["problem"], (mode, report)
        assert visible_names() == before
    assert feed().failures == 3 and feed().next_try_at > utcnow() + timedelta(hours=3)
    assert not feeds.due(feed(), utcnow())
    neighbour.mode = "ok"
    neighbour.services = [service(1, description="x" * 3000)] + neighbour.services[1:]
    assert "larger than" in feeds.pull(feed())["problem"]  # a page over the limit is not read
    monkeypatch.setattr(sources, "MAX_PAGE_BYTES", 50 * 1024 * 1024)
    neighbour.services = [service(1)]
    report = feeds.pull(feed())
    assert report["withdrawn"] == 0 and "fewer than half" in report["warnings"][0]
    assert visible_names() == before
    assert feed().failures == 0 and feed().next_try_at is None
    report = feeds.pull(feed(), accept_fewer=True)
    assert report["withdrawn"] == 2 and visible_names() == {"Neighbour Kayak Club 1"}


def test_bad_services_are_rejected_by_name_and_loops_and_floods_are_bounded(coordinator, neighbour, app,
                                                                             monkeypatch):
    """A description over the limit is refused with why; a feed that loops stops; too many services: no withdrawal."""
    add_feed(coordinator, neighbour)
    neighbour.services = [service(1, description="y" * 30_000), service(2), service(3)]
    report = feeds.pull(feed())
    assert [item["id"] for item in report["rejected"]] == ["n-1"] and "description" in report["rejected"][0]["why"]
    assert "Neighbour Kayak Club 1" in text_of(coordinator.get(f"/admin/feeds/{feed().id}"))
    neighbour.mode = "loop"
    report = feeds.pull(feed())
    assert not report["problem"] and report["services"] == 2  # the same page again: read once
    neighbour.mode = "ok"
    neighbour.services = [service(n) for n in range(1, 6)]
    app.config["FEEDS_MAX_SERVICES"] = 3
    report = feeds.pull(feed())
    assert report["services"] == 3 and report["withdrawn"] == 0 and "more than 3 services" in report["warnings"][0]


def test_hidden_stays_hidden_and_nothing_is_edited_here(coordinator, neighbour, client):
    """A coordinator hides a neighbour's service: gone from search, still hidden after a pull; no editing here."""
    add_feed(coordinator, neighbour)
    feeds.pull(feed())
    listing = db.session.execute(select(Listing).where(Listing.name == "Neighbour Kayak Club 2")).scalar_one()
    page = coordinator.get(f"/admin/feeds/{feed().id}").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0] \
        if 'name="csrf_token" type="hidden" value="' in page else ""
    assert coordinator.post(f"/admin/feeds/listings/{listing.id}/hide", data={"csrf_token": token}).status_code == 302
    assert "Neighbour Kayak Club 2" not in visible_names()
    feeds.pull(feed())
    assert "Neighbour Kayak Club 2" not in visible_names()
    response = coordinator.get(f"/portal/listings/{listing.id}/sections/about")
    assert response.status_code == 409 and "comes from Neighbourshire" in text_of(response)
    assert coordinator.post(f"/admin/feeds/listings/{listing.id}/show", data={"csrf_token": token}).status_code == 302
    assert "Neighbour Kayak Club 2" in visible_names()


def test_a_v3_feed_is_pulled_in_full_then_for_changes_only(coordinator, neighbour):
    """v3: each brief service fetched in full; between complete pulls, only changes are asked for."""
    add_feed(coordinator, neighbour, url=f"{neighbour.base}/api/v3/services?per_page=2")
    neighbour.services = [service(1, schedules=[{"id": "s1", "freq": "MONTHLY", "byday": "1SA", "opens_at": "10:00",
                                                  "closes_at": "12:00"}]), service(2)]
    report = feeds.pull(feed())
    assert report["created"] == 2 and report["complete"]
    listing = db.session.execute(select(Listing).where(Listing.name == "Neighbour Kayak Club 1")).scalar_one()
    assert listing.schedules[0].byday == "1SA"
    assert any(asked.startswith("/api/v3/services/n-1") for asked in neighbour.asked)
    neighbour.asked.clear()
    report = feeds.pull(feed())
    assert not report["complete"] and any("modified_after=" in asked for asked in neighbour.asked)


def test_the_admin_form_and_the_command_line(coordinator, neighbour, runner, client, app):
    """Bad subscriptions are refused by field; the CLI adds, pulls, lists and removes; only coordinators manage feeds."""
    for changes, words in (({"url": "ftp://x"}, "starting with https://"), ({"licence": ""}, "Enter the licence"),
                           ({"name": ""}, "Enter whose directory")):
        response = add_feed(coordinator, neighbour, **changes)
        assert response.status_code == 400 and words in text_of(response)
    assert client.get("/admin/feeds").status_code in (302, 403)
    result = runner.invoke(args=["feeds", "add", f"{neighbour.base}/api/v1/services", "--name", NAME,
                                 "--licence", LICENCE, "--pull"])
    assert result.exit_code == 0 and "3 services read: 3 added" in result.output, result.output
    assert NAME in runner.invoke(args=["feeds", "list"]).output
    neighbour.mode = "broken"
    result = runner.invoke(args=["feeds", "pull", NAME])
    assert result.exit_code != 0 and "Nothing of theirs was withdrawn" in result.output
    result = runner.invoke(args=["feeds", "remove", NAME])
    assert result.exit_code == 0 and "3 of its services left the directory" in result.output
    assert visible_names() == set()


def test_pulling_the_same_feed_twice_changes_nothing(coordinator, neighbour):
    """A name with doubled spaces (as real feeds have) is no change the second time."""
    add_feed(coordinator, neighbour)
    neighbour.services = [service(1, name="Kurling and a Cuppa  (Winterton)"), service(2)]
    assert feeds.pull(feed())["created"] == 2
    report = feeds.pull(feed())
    assert (report["updated"], report["unchanged"]) == (0, 2)
