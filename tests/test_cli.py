"""The flask commands that set up a council: accounts and content."""

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from local_offer.extensions import db
from local_offer.models import AuditEvent, Listing, Organisation, Role, Term, User

PASSWORD = "correct horse battery"


def create_user(runner, *args, password=PASSWORD):
    """Run `flask users create` answering the password prompts."""
    return runner.invoke(args=["users", "create", *args], input=f"{password}\n{password}\n")


def test_create_first_administrator(runner):
    """`flask users create --role admin EMAIL` makes an admin with a hashed password and an audit entry."""
    result = create_user(runner, "--role", "admin", "Officer@Example.gov.uk")
    assert result.exit_code == 0, result.output
    assert "Created admin account for officer@example.gov.uk" in result.output
    user = db.session.execute(select(User)).scalar_one()
    assert user.email == "officer@example.gov.uk"
    assert user.role is Role.ADMIN
    assert PASSWORD not in user.password_hash
    assert user.password_hash.startswith("scrypt:")
    assert check_password_hash(user.password_hash, PASSWORD)
    audit = db.session.execute(select(AuditEvent)).scalar_one()
    assert (audit.action, audit.entity_id) == ("user.created", user.id)


def test_create_refuses_duplicates_short_passwords_and_bad_emails(runner):
    """Mistakes get a clear message and a non-zero exit; nothing half-made is stored."""
    assert create_user(runner, "--role", "admin", "a@example.gov.uk").exit_code == 0
    duplicate = create_user(runner, "--role", "coordinator", "A@EXAMPLE.gov.uk")
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    short = create_user(runner, "--role", "admin", "b@example.gov.uk", password="short")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    bad = create_user(runner, "--role", "admin", "not-an-email")
    assert bad.exit_code != 0 and "Invalid value" in bad.output
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 1


def test_provider_accounts_belong_to_an_organisation(demo, runner):
    """A provider needs an existing organisation."""
    missing = create_user(runner, "--role", "provider", "p@example.org")
    assert missing.exit_code != 0 and "--organisation" in missing.output
    unknown = create_user(runner, "--role", "provider", "p@example.org", "--organisation", "nope")
    assert unknown.exit_code != 0 and "no organisation" in unknown.output
    organisation = db.session.execute(select(Organisation).limit(1)).scalar_one()
    made = create_user(runner, "--role", "provider", "p@example.org", "--organisation", organisation.id)
    assert made.exit_code == 0, made.output
    user = db.session.execute(select(User)).scalar_one()
    assert [o.id for o in user.organisations] == [organisation.id]


def count(model) -> int:
    """Count the rows of one model."""
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_content_load_is_idempotent(small_content, runner):
    """A second load duplicates nothing and reports what was already there."""
    first = runner.invoke(args=["content", "load"])
    assert first.exit_code == 0, first.output
    counts = (count(Term), count(Listing), count(Organisation))
    assert counts[0] > 60 and counts[1] >= 6
    second = runner.invoke(args=["content", "load"])
    assert second.exit_code == 0
    assert "listings: 0 added" in second.output
    assert (count(Term), count(Listing), count(Organisation)) == counts


def test_content_load_never_overwrites_a_coordinators_edit(small_content, runner):
    """Reloading seeds keeps changes made in the site."""
    runner.invoke(args=["content", "load"])
    term = db.session.execute(select(Term).where(Term.code == "swimming-x")).scalar_one_or_none()
    assert term is None
    education = db.session.execute(select(Term).where(Term.code == "education")).scalar_one()
    education.name = "Schools and learning"
    db.session.commit()
    runner.invoke(args=["content", "load"])
    db.session.refresh(education)
    assert education.name == "Schools and learning"


def test_content_load_without_demo_makes_an_empty_council(runner):
    """--no-demo loads the vocabularies only."""
    result = runner.invoke(args=["content", "load", "--no-demo"])
    assert result.exit_code == 0
    assert count(Term) > 60
    assert count(Listing) == 0 and count(Organisation) == 0


def load_categories(runner, app, tmp_path, text: str):
    """Load a content folder whose only file is categories.yaml with the given text."""
    folder = tmp_path / "content" / "vocabularies"
    folder.mkdir(parents=True)
    (folder / "categories.yaml").write_text(text)
    app.config["CONTENT_PATH"] = str(tmp_path / "content")
    return runner.invoke(args=["content", "load"])


def test_broken_content_is_reported_and_nothing_is_stored(runner, app, tmp_path):
    """A malformed seed file names itself and leaves the database as it was."""
    result = load_categories(runner, app, tmp_path, "- code: ok\n  name: Fine\n- name: no code\n")
    assert result.exit_code != 0
    assert "categories.yaml" in result.output and "code and a name" in result.output
    assert count(Term) == 0


def test_unquoted_commas_in_vocabularies_are_caught(runner, app, tmp_path):
    """A one-line term whose name has an unquoted comma is refused, not silently cut short."""
    result = load_categories(runner, app, tmp_path, "- {code: arts, name: Arts, drama and music}\n")
    assert result.exit_code != 0
    assert "quote values that contain commas" in result.output


def test_a_mistake_in_a_demo_file_leaves_nothing_of_the_load_behind(runner, small_content):
    """Every demo listing is checked before any is written: a bad one names itself and nothing is stored."""
    import yaml

    good = (small_content / "demo" / "directory.yaml").read_text(encoding="utf-8")
    broken = yaml.safe_load(good)
    broken["listings"][3]["categories"] = ["no-such-category"]
    (small_content / "demo" / "directory.yaml").unlink()
    (small_content / "demo" / "directory.yaml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = runner.invoke(args=["content", "load", "--demo"])
    assert result.exit_code != 0
    assert f"listing {broken['listings'][3]['id']}: unknown category 'no-such-category'" in result.output
    assert (count(Listing), count(Term), count(Organisation)) == (0, 0, 0)
    (small_content / "demo" / "directory.yaml").write_text(good, encoding="utf-8")
    assert runner.invoke(args=["content", "load", "--demo"]).exit_code == 0
    seeded = db.session.execute(select(AuditEvent).where(AuditEvent.action == "listing.seeded")).scalars().all()
    assert len(seeded) == count(Listing) == 6
    assert {tuple(event.changes.items()) for event in seeded} == {(("source", "demo content"),)}
