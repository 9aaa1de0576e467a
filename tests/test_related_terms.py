"""Related terms: the everyday things families type, the service words that help, and the coordinators' page."""

from __future__ import annotations

import re
from datetime import timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from local_offer import related_terms as related
from local_offer.content_loader import LoadReport, load_related_terms
from local_offer.extensions import db
from local_offer.models import AuditEvent, RelatedTerms, Role
from local_offer.search_sources import DirectorySources

from support import make_user, sign_in, text_of

PAGE = "/admin/related-terms"


def count() -> int:
    """Count the related-terms entries."""
    return db.session.execute(select(func.count()).select_from(RelatedTerms)).scalar_one()


def audits(prefix: str = "related_terms.") -> list[AuditEvent]:
    """Return the related-terms audit events, oldest first."""
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                                   .order_by(AuditEvent.id)).scalars())


def only_entry() -> RelatedTerms:
    """Return the one entry there is."""
    return db.session.execute(select(RelatedTerms)).scalar_one()


@pytest.fixture
def coordinator(app, client):
    """Sign the client in as a coordinator; return the account."""
    user = make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    assert sign_in(client, user.email).status_code == 302
    return user


# --- the model and cleaning ----------------------------------------------------------------------


def test_an_entry_keeps_its_phrases_terms_and_aware_times(app):
    """An entry stores both lists as given, with timezone-aware times that move when it changes."""
    actor = make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    entry = related.add_entry(["being bullied", "bullied"], ["anti-bullying", "mentoring"], actor)
    db.session.expire_all()
    stored = db.session.get(RelatedTerms, entry.id)
    assert stored.phrases == ["being bullied", "bullied"] and stored.terms == ["anti-bullying", "mentoring"]
    assert len(stored.id) == 36
    assert stored.created_at.tzinfo is not None and stored.updated_at.utcoffset() == timezone.utc.utcoffset(None)
    before = stored.updated_at
    related.change_entry(stored, ["being bullied"], ["anti-bullying"], actor)
    db.session.expire_all()
    assert db.session.get(RelatedTerms, entry.id).updated_at >= before


def test_typed_words_are_split_cleaned_and_kept_once():
    """Commas split; HTML and extra spaces and line breaks go; repeats (any case) are dropped."""
    assert related.split_words(" being  bullied,<b>Bullied</b>, ,BEING BULLIED,\tpicked\n on ") == \
        ["being bullied", "Bullied", "picked on"]
    assert related.split_words("<script>alert(1)</script>mentoring") == ["alert(1)mentoring"]
    assert related.split_words(None) == [] and related.split_words(" , ,") == []


def test_problems_name_the_field_and_the_limit(app):
    """Empty lists, more than 30 words and words over 100 characters are each refused with a clear message."""
    assert related.problems(["no friends"], ["friendship"]) == {}
    assert set(related.problems([], [])) == {"phrases", "terms"}
    many = [f"word {n}" for n in range(31)]
    assert "30" in related.problems(["no friends"], many)["terms"]
    assert "you entered 31" in related.problems(many, ["friendship"])["phrases"]
    long = related.problems(["x" * 101], ["friendship"])["phrases"]
    assert "100 characters" in long
    assert related.problems(["x" * 100], ["y" * 100] * 1) == {}


def test_a_phrase_belongs_to_one_entry(app):
    """A phrase another entry already has is refused, except when changing that same entry."""
    actor = make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    entry = related.add_entry(["no friends", "lonely"], ["friendship"], actor)
    assert "already in another entry" in related.check(["Lonely"], ["youth club"])["phrases"]
    assert related.check(["lonely", "isolated"], ["youth club"], entry) == {}


# --- what search reads -------------------------------------------------------------------------------


def test_search_sources_give_every_entry_and_a_stamp_that_moves(app):
    """related_terms() gives (phrases, terms) pairs; related_stamp() changes on every add, change and removal."""
    sources = DirectorySources()
    actor = make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    stamps = [sources.related_stamp()]
    assert sources.related_terms() == []
    first = related.add_entry(["money worries"], ["benefits", "grants"], actor)
    stamps.append(sources.related_stamp())
    related.add_entry(["no friends"], ["friendship"], actor)
    stamps.append(sources.related_stamp())
    assert sources.related_terms() == [(["money worries"], ["benefits", "grants"]), (["no friends"], ["friendship"])]
    related.change_entry(first, ["money worries", "skint"], ["benefits"], actor)
    stamps.append(sources.related_stamp())
    assert sources.related_terms()[0] == (["money worries", "skint"], ["benefits"])
    related.remove_entry(first, actor)
    stamps.append(sources.related_stamp())
    assert sources.related_terms() == [(["no friends"], ["friendship"])]
    assert all(before != after for before, after in zip(stamps, stamps[1:]))
    assert len({repr(stamp) for stamp in stamps}) == len(stamps)


# --- the seed file ---------------------------------------------------------------------------------


def test_the_seed_file_is_sound(app):
    """content/related-terms.yaml loads: 40-80 entries within the limits, one life stage not among them."""
    report = LoadReport()
    load_related_terms(Path(app.config["CONTENT_PATH"]) / "related-terms.yaml", report)
    db.session.commit()
    assert 40 <= report.added["related terms"] <= 80
    said = {phrase.lower() for phrases, _terms in DirectorySources().related_terms() for phrase in phrases}
    assert {"being bullied", "toilet training", "money worries", "meltdowns", "no friends", "need a break",
            "won't go to school", "late talker"} <= said
    assert "baby" not in said
    # Everyday words only: a service's own word ("cinema") is a synonym's job, not a phrase's.
    synonyms = yaml.safe_load((Path(app.config["CONTENT_PATH"]) / "synonyms.yaml").read_text(encoding="utf-8"))
    assert said & {word.lower() for group in synonyms for word in group} == set()


def test_content_load_adds_them_once_and_never_over_a_coordinators_list(small_content, runner):
    """`flask content load` adds the seed, says how many; a second load adds nothing and keeps edits."""
    first = runner.invoke(args=["content", "load"])
    assert first.exit_code == 0, first.output
    added = count()
    assert added >= 40 and f"related terms: {added} added" in first.output
    entry = db.session.execute(select(RelatedTerms).limit(1)).scalar_one()
    entry.terms = ["changed by a coordinator"]
    db.session.commit()
    second = runner.invoke(args=["content", "load"])
    assert second.exit_code == 0 and "related terms: 0 added" in second.output
    assert count() == added
    db.session.refresh(entry)
    assert entry.terms == ["changed by a coordinator"]


def test_content_load_without_demo_adds_them_too(small_content, runner):
    """--no-demo (an empty council) still gets the related terms, as it gets the synonyms."""
    result = runner.invoke(args=["content", "load", "--no-demo"])
    assert result.exit_code == 0, result.output
    assert count() >= 40 and "related terms:" in result.output


@pytest.mark.parametrize("text, message", [
    ("- families_say: [bullied]\n", "families_say and look_for"),
    ("- families_say: bullied\n  look_for: [mentoring]\n", "families_say and look_for"),
    ("- {families_say: [bullied], look_for: [mentoring], extra: [x]}\n", "families_say and look_for"),
    ("- families_say: [bullied]\n  look_for: []\n", "at least one word to look for"),
    ("- families_say: [bullied]\n  look_for: [mentoring]\n- families_say: [Bullied]\n  look_for: [x]\n",
     "two entries"),
])
def test_a_broken_seed_names_itself_and_stores_nothing(runner, app, tmp_path, text, message):
    """A malformed related-terms file is reported by name, and the load stores nothing."""
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "related-terms.yaml").write_text(text, encoding="utf-8")
    app.config["CONTENT_PATH"] = str(tmp_path / "content")
    result = runner.invoke(args=["content", "load", "--no-demo"])
    assert result.exit_code != 0
    assert "related-terms.yaml" in result.output and message in result.output
    assert count() == 0


# --- the coordinators' page ------------------------------------------------------------------------


def test_coordinators_add_change_and_remove_entries_with_audit(coordinator, client):
    """The page lists, adds, changes and removes entries; every change is audited with who made it."""
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Everyday words families use" in text_of(page) and "Words search treats as the same" in text_of(page)
    response = client.post(PAGE, data={"phrases": "being bullied, bullied", "terms": "anti-bullying, mentoring"})
    assert response.status_code == 302
    entry = only_entry()
    assert entry.phrases == ["being bullied", "bullied"] and entry.terms == ["anti-bullying", "mentoring"]
    listing = text_of(client.get(PAGE))
    assert "being bullied, bullied" in listing and "anti-bullying, mentoring" in listing
    form = client.get(f"{PAGE}/{entry.id}").get_data(as_text=True)
    assert "being bullied, bullied" in form and "Remove this entry" in form
    response = client.post(f"{PAGE}/{entry.id}", data={"phrases": "being bullied, picked on",
                                                        "terms": "anti-bullying, confidence"})
    assert response.status_code == 302
    db.session.refresh(entry)
    assert entry.phrases == ["being bullied", "picked on"] and entry.terms == ["anti-bullying", "confidence"]
    assert client.post(f"{PAGE}/{entry.id}/delete").status_code == 302
    assert count() == 0
    events = audits()
    assert [event.action for event in events] == ["related_terms.added", "related_terms.changed",
                                                  "related_terms.removed"]
    assert all(event.actor_id == coordinator.id for event in events)
    assert events[1].changes["phrases"] == [["being bullied", "bullied"], ["being bullied", "picked on"]]


def test_the_coordinators_home_links_to_the_page(coordinator, client):
    """The coordinators' pages list it beside the synonyms."""
    assert f'href="{PAGE}"' in client.get("/admin/").get_data(as_text=True)
    assert f'href="{PAGE}"' in client.get("/admin/synonyms").get_data(as_text=True)


@pytest.mark.parametrize("phrases, terms, message", [
    ("", "mentoring", "Enter at least one thing families say"),
    ("bullied", "   ", "Enter at least one word to look for"),
    (" , , ", "mentoring", "Enter at least one thing families say"),
    ("bullied", "<b></b>, <i> </i>", "Enter at least one word to look for"),
    ("x" * 101, "mentoring", "100 characters or fewer"),
    ("bullied", ", ".join(f"word {n}" for n in range(31)), "30 words to look for or fewer"),
    ("bullied", "y" * 4001, "at most 30 words to look for"),
])
def test_bad_input_gets_a_400_with_an_error_summary_and_stores_nothing(coordinator, client, phrases, terms, message):
    """Empty, too long and too many are refused with the GOV.UK error summary, never a 500."""
    response = client.post(PAGE, data={"phrases": phrases, "terms": terms})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "govuk-error-summary" in html and message in text_of(response)
    assert re.search(r"<title[^>]*>\s*Error:", html)
    assert count() == 0 and audits() == []


def test_a_bad_change_keeps_the_entry_and_a_repeated_phrase_is_refused(coordinator, client):
    """Changing an entry to nothing, or adding a phrase another entry has, is a 400 and changes nothing."""
    client.post(PAGE, data={"phrases": "no friends, lonely", "terms": "friendship, youth club"})
    entry = only_entry()
    assert client.post(f"{PAGE}/{entry.id}", data={"phrases": "no friends", "terms": ""}).status_code == 400
    response = client.post(PAGE, data={"phrases": "Lonely", "terms": "befriending"})
    assert response.status_code == 400 and "already in another entry" in text_of(response)
    db.session.refresh(entry)
    assert entry.terms == ["friendship", "youth club"] and count() == 1


def test_html_is_cleaned_on_the_way_in(coordinator, client):
    """Tags typed into either box are stripped before anything is stored."""
    client.post(PAGE, data={"phrases": "<script>x</script>meltdowns, <em>tantrums</em>",
                            "terms": '<a href="http://evil.example">sensory</a>, behaviour'})
    entry = only_entry()
    assert entry.phrases == ["xmeltdowns", "tantrums"] and entry.terms == ["sensory", "behaviour"]
    assert "<script>" not in client.get(PAGE).get_data(as_text=True)


def test_an_unknown_entry_is_a_404(coordinator, client):
    """Changing or removing an entry that is not there is a 404, not a 500."""
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"{PAGE}/{missing}").status_code == 404
    assert client.post(f"{PAGE}/{missing}/delete").status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "provider"])
def test_providers_and_visitors_are_refused(app, client, who):
    """Only coordinators (and administrators) may see or change related terms."""
    actor = make_user("coordinator@example.gov.uk", Role.COORDINATOR)
    entry = related.add_entry(["no friends"], ["friendship"], actor)
    if who == "provider":
        sign_in(client, make_user("provider@example.org", Role.PROVIDER).email)
    expected = 403 if who == "provider" else 302
    assert client.get(PAGE).status_code == expected
    assert client.post(PAGE, data={"phrases": "bullied", "terms": "mentoring"}).status_code == expected
    assert client.post(f"{PAGE}/{entry.id}", data={"phrases": "x", "terms": "y"}).status_code == expected
    assert client.post(f"{PAGE}/{entry.id}/delete").status_code == expected
    assert count() == 1 and only_entry().phrases == ["no friends"]


def test_administrators_may_use_the_page(app, client):
    """Administrators rank above coordinators."""
    sign_in(client, make_user("admin@example.gov.uk", Role.ADMIN).email)
    assert client.get(PAGE).status_code == 200


def test_forms_carry_a_csrf_token_and_a_tokenless_post_is_refused(coordinator, client, app):
    """Each form has a CSRF token; with protection on, a post without one is a 400 and stores nothing."""
    related.add_entry(["no friends"], ["friendship"], coordinator)
    entry = only_entry()
    app.config["WTF_CSRF_ENABLED"] = True
    assert 'name="csrf_token"' in client.get(PAGE).get_data(as_text=True)
    change = client.get(f"{PAGE}/{entry.id}").get_data(as_text=True)
    main = change.split("<main", 1)[1].split("</main>", 1)[0]
    assert main.count('name="csrf_token"') == 2  # the change form and the remove button
    assert client.post(PAGE, data={"phrases": "bullied", "terms": "mentoring"}).status_code == 400
    assert client.post(f"{PAGE}/{entry.id}/delete").status_code == 400
    assert count() == 1


def test_the_page_fits_a_narrow_phone(coordinator, client):
    """Entries are a GOV.UK summary list (which stacks on a phone) and nothing sets a fixed width."""
    related.add_entry(["no friends"], ["friendship"], coordinator)
    html = client.get(PAGE).get_data(as_text=True)
    assert 'class="govuk-summary-list"' in html and "govuk-!-text-break-word" in html and 'name="viewport"' in html
    assert "style=" not in html.split('<main', 1)[1].split("</main>", 1)[0]
