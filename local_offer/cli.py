"""``flask`` commands for setting up and running a Local Offer.

    flask content load        seed vocabularies (and the demo directory) from content/
    flask users create        create an account, for example the first administrator
    flask reviews remind      email providers whose listings are due for review (daily)
    flask translate ...       extract, update and compile the message catalogues
    flask db upgrade          apply database migrations (Flask-Migrate)
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import click
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from local_offer import interchange, term_dates
from local_offer.config import PROJECT_ROOT
from local_offer.consultation_rules.demo import load_demo_consultations
from local_offer.content_loader import (
    ContentError,
    LoadReport,
    build_demo_areas,
    load_demo,
    load_demo_accounts,
    load_related_terms,
    load_synonyms,
    load_vocabularies,
)
from local_offer.demand_demo import load_demo_demand
from local_offer.districts import DISTRICTS_FILE, load_demo_districts
from local_offer.extensions import db
from local_offer.feedback.seed import FEEDBACK_FILE, load_demo_feedback, load_priorities
from local_offer.language_words import LanguageWordsError, load_language_words
from local_offer.models import Organisation, Role, User, record_audit
from local_offer.users import MIN_PASSWORD

content_cli = AppGroup("content", help="Load the council's seed content from content/.")
users_cli = AppGroup("users", help="Create and manage accounts.")
geo_cli = AppGroup("geo", help="Build and query the offline gazetteer of postcodes and places.")
index_cli = AppGroup("index", help="Build, check and update the search index.")
demand_cli = AppGroup("demand", help="What families search for: the anonymous search log.")
demo_cli = AppGroup("demo", help="Make synthetic demo data for benchmarks and load tests.")
reviews_cli = AppGroup("reviews", help="Remind providers to check their listings; see what is due.")
translate_cli = AppGroup("translate", help="Extract, update and compile translations (wraps pybabel).")

TRANSLATIONS = PROJECT_ROOT / "translations"
MESSAGES_POT = TRANSLATIONS / "messages.pot"


def _progress(label):
    """Return a wrapper that shows a progress bar over an iterable."""
    def wrap(items):
        with click.progressbar(items, label=label, file=sys.stderr) as bar:
            yield from bar
    return wrap


@content_cli.command("load")
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Also load the fictional demo directory (labelled as demo on the site).")
def content_load(demo: bool) -> None:
    """Add vocabularies (and demo listings) that are not in the database yet; safe to re-run."""
    folder = Path(current_app.config["CONTENT_PATH"])
    report = LoadReport()
    demo_files = [path for path in sorted((folder / "demo").glob("*.yaml")) if path.name != FEEDBACK_FILE]
    try:
        if demo:
            build_demo_areas(demo_files)
        load_vocabularies(folder / "vocabularies", report)
        load_synonyms(folder / "synonyms.yaml", report)
        load_related_terms(folder / "related-terms.yaml", report)
        db.session.flush()
        load_language_words(folder / "languages", report)
        load_priorities(folder / "priorities.yaml", report)
        if demo:
            for demo_file in demo_files:
                load_demo(demo_file, report, progress=_progress(f"Loading {demo_file.name}"))
            load_demo_accounts(report)
            load_demo_feedback(folder / "demo" / FEEDBACK_FILE, report)
            load_demo_districts(folder / DISTRICTS_FILE, report)
            load_demo_consultations(report, folder)
            load_demo_demand(report)
        db.session.commit()
        if demo:
            added, skipped = term_dates.load(folder / "term-dates.yaml")
            report.added["school terms"] = added
            report.skipped["school terms"] = skipped
    except (ContentError, LanguageWordsError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    for kind in sorted(set(report.added) | set(report.skipped)):
        click.echo(f"{kind}: {report.added.get(kind, 0)} added, {report.skipped.get(kind, 0)} already there")
    from local_offer.search import get_service

    service = get_service()
    if service.engine.exists():
        indexed, failed = service.sync()
        click.echo(f"Search index: {indexed} documents updated" + (f", {failed} to retry" if failed else ""))


def _valid_email(ctx, param, value: str) -> str:
    """Check an email address and return it normalised to lower case."""
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise click.BadParameter(str(error)) from error


@users_cli.command("create")
@click.argument("email", callback=_valid_email)
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.PROVIDER.value,
              show_default=True, help="What the account may do.")
@click.option("--organisation", "organisation_ids", multiple=True, metavar="ID",
              help="Organisation id a provider belongs to (repeatable).")
@click.option("--name", default="", help="The person's name.")
@click.password_option(help="Password (asked for, hidden, when not given).",
                       prompt="Password (at least 12 characters)")
def users_create(email: str, role: str, organisation_ids: tuple[str, ...], name: str, password: str) -> None:
    """Create an account, for example the council's first administrator."""
    if len(password) < MIN_PASSWORD:
        raise click.ClickException(f"The password must be at least {MIN_PASSWORD} characters.")
    if db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none():
        raise click.ClickException(f"An account for {email} already exists.")
    organisations = []
    for identifier in organisation_ids:
        organisation = db.session.get(Organisation, identifier)
        if organisation is None:
            raise click.ClickException(f"There is no organisation with id {identifier}.")
        organisations.append(organisation)
    if Role(role) is Role.PROVIDER and not organisations:
        raise click.ClickException("A provider account needs --organisation ID.")
    user = User(email=email, name=name, role=Role(role), organisations=organisations,
                password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.flush()
    record_audit("user.created", "user", user.id,
                 changes={"email": email, "role": role, "organisations": list(organisation_ids),
                          "via": "command line"})
    db.session.commit()
    click.echo(f"Created {role} account for {email}.")


@geo_cli.command("build")
@click.option("--all", "everything", is_flag=True, help="Build every postcode area in Great Britain.")
@click.option("--areas", default=None, help="Comma-separated areas instead of the configured ones.")
@click.option("--rebuild", is_flag=True, help="Rebuild areas and places that are already built.")
def geo_build(everything: bool, areas: str | None, rebuild: bool) -> None:
    """Convert postcodes of the council's areas and their neighbours, and GB places, into the database."""
    from local_offer import geo
    from local_offer.models import Place

    if everything:
        wanted = geo.available_areas()
    else:
        configured = [a.strip().upper() for a in areas.split(",")] if areas else \
            list(current_app.config["POSTCODE_AREAS"])
        unknown = sorted(set(configured) - set(geo.available_areas()))
        if unknown:
            raise click.ClickException(f"No packaged postcode data for: {', '.join(unknown)}")
        built = geo.built_areas()
        if not rebuild and set(configured) <= built and db.session.query(Place.id).first():
            click.echo(f"Gazetteer already built ({len(built)} postcode areas); use --rebuild to redo it.")
            return
        click.echo("Finding neighbouring postcode areas...")
        wanted = configured + geo.neighbouring_areas(configured)
    todo = wanted if rebuild else [area for area in wanted if area not in geo.built_areas()]

    def progress(items):
        """Show a progress bar while postcode areas are converted."""
        with click.progressbar(items, label="Building postcode areas", file=sys.stderr,
                               item_show_func=lambda area: area or "") as bar:
            yield from bar

    counts = geo.build(todo, progress=progress)
    postcodes = sum(count for key, count in counts.items() if key != "places")
    click.echo(f"Built {len(todo)} postcode areas ({postcodes} postcodes) and {counts['places']} places.")
    click.echo(f"Areas: {', '.join(sorted(geo.built_areas()))}")


@demo_cli.command("generate")
@click.option("--count", type=click.IntRange(1, 1_000_000), default=1000, show_default=True,
              help="How many listings to make.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed, for repeatable runs.")
def demo_generate(count: int, seed: int) -> None:
    """Add synthetic listings at real postcodes across England (marked as demo data)."""
    from local_offer.demo_generator import generate

    try:
        made = generate(count, seed=seed, progress=_progress("Generating listings"),
                        sample_progress=_progress("Sampling postcodes"))
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Generated {made} synthetic listings. Run `flask index rebuild` to make them searchable.")


@index_cli.command("rebuild")
def index_rebuild() -> None:
    """Build a new index from the database, replay changes made meanwhile, and switch to it."""
    from local_offer.search import get_service

    count = get_service().rebuild(progress=_progress("Indexing listings"))
    click.echo(f"Indexed {count} documents (listings and information pages).")


@index_cli.command("ensure")
def index_ensure() -> None:
    """Build the index only when there is none (make run uses this)."""
    from local_offer.search import get_service

    service = get_service()
    if service.engine.exists():
        indexed, failed = service.sync()
        click.echo(f"Search index present; {indexed} pending changes indexed.")
    else:
        count = service.rebuild(progress=_progress("Indexing listings"))
        click.echo(f"Indexed {count} documents (listings and information pages).")


@index_cli.command("sync")
def index_sync() -> None:
    """Index changes waiting in the outbox (safe to run every minute from cron)."""
    from local_offer.search import get_service

    indexed, failed = get_service().sync()
    click.echo(f"Indexed {indexed} changed documents; {failed} failed and will be retried.")
    if failed:
        raise SystemExit(1)


@index_cli.command("check")
@click.option("--no-repair", is_flag=True, help="Only report differences.")
def index_check(no_repair: bool) -> None:
    """Compare the index with the database and repair any difference."""
    from local_offer.search import get_service

    report = get_service().check(repair=not no_repair)
    click.echo(f"Missing from the index: {len(report['missing'])}; in the index but not public: "
               f"{len(report['extra'])}; indexed with old content: {len(report['stale'])}.")
    differences = report["missing"] + report["extra"] + report["stale"]
    for document_id in differences[:20]:
        click.echo(f"  {document_id}")
    for name in report.get("partial generations", []):
        click.echo(f"Removed {name}, left behind by a rebuild that did not finish.")
    if not no_repair and differences:
        click.echo("Repaired.")


@demand_cli.command("prune")
@click.option("--days", type=click.IntRange(1, 3650), default=None,
              help="Keep raw rows this many days (default: LOCAL_OFFER_SEARCH_LOG_DAYS, 90).")
def demand_prune(days: int | None) -> None:
    """Fold search-log rows older than the retention period into daily counts (run daily)."""
    from local_offer.demand import prune

    removed = prune(days or current_app.config["SEARCH_LOG_DAYS"])
    click.echo(f"Folded {removed} old searches into daily counts.")


@demand_cli.command("report")
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True)
def demand_report(days: int) -> None:
    """List the commonest searches that found nothing: where families' needs are not met."""
    from local_offer.demand import top_unmet

    rows = top_unmet(days)
    if not rows:
        click.echo(f"No searches without results in the last {days} days.")
    for words, count in rows:
        click.echo(f"{count:6d}  {words}")


def _iso_date(ctx, param, value: str | None) -> date | None:
    """Read an optional YYYY-MM-DD date, refusing anything else with a clear message."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD, for example 2026-03-14.") from None


@reviews_cli.command("remind")
@click.option("--dry-run", is_flag=True, help="Say who would be emailed, without sending or recording anything.")
@click.option("--today", "today", callback=_iso_date, metavar="YYYY-MM-DD",
              help="Act as if it were this date (default: today).")
def reviews_remind(dry_run: bool, today: date | None) -> None:
    """Email providers whose listings are due for review, once per review date (safe to run daily)."""
    from local_offer import reviews

    report = reviews.remind(today, dry_run=dry_run, progress=_progress("Sending reminders"))
    verb = "Dry run: would send" if dry_run else "Sent"
    click.echo(f"{verb} {report.emails} emails about {report.listings} listings; "
               f"skipped {report.already_reminded} already reminded; {report.no_address} with no address.")
    for line in report.lines:
        if line.outcome in ("no address", "failed") or (dry_run and line.outcome == "would send"):
            to = ", ".join(line.recipients) or "no address: add an account or an email to the organisation"
            failed = " (sending failed; tried again next run)" if line.outcome == "failed" else ""
            click.echo(f"  {line.review_due.isoformat()}  {line.name} ({line.organisation}): {to}{failed}")
    if report.failed:
        raise click.ClickException(f"{report.failed} emails could not be sent; see the log. "
                                   "Their listings are tried again on the next run.")


@reviews_cli.command("list")
@click.option("--today", "today", callback=_iso_date, metavar="YYYY-MM-DD",
              help="Act as if it were this date (default: today).")
def reviews_list(today: date | None) -> None:
    """List public listings hidden from search, overdue or due soon."""
    from local_offer import reviews

    board = reviews.dashboard(today)
    for title, rows in (("Hidden from search", board.hidden), ("Overdue", board.overdue),
                        ("Due soon", board.due_soon)):
        click.echo(f"{title}: {len(rows)}")
        for row in rows:
            due = row.review_due.isoformat() if row.review_due else "no date"
            reminded = "reminded" if row.reminded else "not reminded"
            click.echo(f"  {due}  {row.listing.name} ({row.organisation}), {reminded}")


@geo_cli.command("lookup")
@click.argument("text")
def geo_lookup(text: str) -> None:
    """Show where a postcode, sector, outward code or place name is."""
    from local_offer import geo

    try:
        point = geo.lookup(text)
    except geo.UnknownPlace as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{point.label} ({point.kind}): {point.latitude:.5f}, {point.longitude:.5f}")


def _pybabel(*args: str) -> None:
    """Run pybabel with the project's settings, stopping on failure."""
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=PROJECT_ROOT)


@translate_cli.command("extract")
def translate_extract() -> None:
    """Collect every marked string into translations/messages.pot."""
    _pybabel("extract", "-F", "pyproject.toml", "-k", "_l", "--sort-by-file",
             "--project", "Local Offer", "-o", str(MESSAGES_POT), ".")


@translate_cli.command("update")
def translate_update() -> None:
    """Extract strings, then merge them into every language's catalogue."""
    translate_extract.callback()
    _pybabel("update", "-i", str(MESSAGES_POT), "-d", str(TRANSLATIONS), "--no-fuzzy-matching")


@translate_cli.command("init")
@click.argument("language")
def translate_init(language: str) -> None:
    """Start a catalogue for a new language (for example cy or ur)."""
    translate_extract.callback()
    _pybabel("init", "-i", str(MESSAGES_POT), "-d", str(TRANSLATIONS), "-l", language)


@translate_cli.command("compile")
def translate_compile() -> None:
    """Build the .mo files the site reads (setup does this; they are never committed)."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")


feedback_cli = AppGroup("feedback", help="Co-production feedback: the retention purge.")


@feedback_cli.command("purge")
def feedback_purge() -> None:
    """Delete contact details and anonymise old unpublished and redacted comments now (the daily job, by hand)."""
    from local_offer import jobs

    # Run as the feedback-purge job, so its record (and the coordinators' page) says when it last ran.
    outcome = next(jobs.run_jobs(["feedback-purge"], force=True))
    if outcome.skipped:
        raise click.ClickException("The purge is running already; `flask jobs list` says since when.")
    if outcome.failed:
        raise click.ClickException(outcome.error)
    click.echo(outcome.summary)


oruk_cli = AppGroup("oruk", help="Open Referral UK: import services from other directories, export ours.")


@oruk_cli.command("import")
@click.argument("source")
@click.option("--apply", "apply_", is_flag=True, help="Write the changes (without it, only report what would happen).")
@click.option("--publish", is_flag=True, help="Publish at once (without it, each waits for a coordinator's check).")
def oruk_import(source: str, apply_: bool, publish: bool) -> None:
    """Import ORUK services from a file or URL: a v1 page or feed, an array of services, or v3 services."""
    if publish and not apply_:
        raise click.UsageError("--publish needs --apply.")
    try:
        records = interchange.read_source(source)  # a file is checked whole, then streamed record by record
        if not isinstance(records, interchange.Records):
            records = list(records)  # a remote feed is fetched whole first, so a failing page writes nothing
    except interchange.UnreadableImport as error:
        raise click.ClickException(str(error)) from error
    report = interchange.import_records(records, apply=apply_, publish=publish,
                                        progress=_progress(f"Checking {len(records)} services"))
    for line in interchange.report_lines(report):
        click.echo(line)
    if not apply_:
        click.echo("Dry run: nothing was written. Add --apply to import (and --publish to publish at once).")


@oruk_cli.command("export")
@click.argument("target", type=click.Path(dir_okay=False, allow_dash=True))
def oruk_export(target: str) -> None:
    """Write every public listing as ORUK JSON to a file (or - for the screen)."""
    services = interchange.export_oruk(progress=_progress("Exporting"))
    text = interchange.to_json(services)
    if target == "-":
        click.echo(text)
        return
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(text)
    click.echo(f"Wrote {len(services)} services to {target}.", err=True)


import_cli = AppGroup("import", help="Import listings from other formats.")


@import_cli.command("csv")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--apply", "apply_", is_flag=True, help="Write the changes (without it, only report what would happen).")
@click.option("--publish", is_flag=True, help="Publish at once (without it, each waits for a coordinator's check).")
def import_csv(path: str, apply_: bool, publish: bool) -> None:
    """Import listings from a CSV file in the documented layout (see the README)."""
    if publish and not apply_:
        raise click.UsageError("--publish needs --apply.")
    try:
        with open(path, "rb") as handle:
            rows = interchange.read_csv(handle.read(), path)
    except OSError as error:
        raise click.ClickException(f"Cannot read {path}: {error.strerror or error}") from error
    except interchange.UnreadableImport as error:
        raise click.ClickException(str(error)) from error
    report = interchange.import_csv(rows, apply=apply_, publish=publish,
                                    progress=_progress(f"Checking {len(rows)} rows"))
    for line in interchange.report_lines(report):
        click.echo(line)
    if not apply_:
        click.echo("Dry run: nothing was written. Add --apply to import (and --publish to publish at once).")


@oruk_cli.command("export-csv")
@click.argument("target", type=click.Path(dir_okay=False, allow_dash=True))
def export_csv(target: str) -> None:
    """Write every published listing in the CSV import layout (with private contacts and exact addresses)."""
    text = interchange.export_csv(progress=_progress("Exporting"))
    if target == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(target, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        raise click.ClickException(f"Cannot write {target}: {error.strerror or error}") from error
    click.echo(f"Wrote {interchange.count_csv_rows(text)} rows to {target}.", err=True)


def register_commands(app: Flask) -> None:
    """Add the project's command groups to ``flask``."""
    app.cli.add_command(content_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(translate_cli)
    app.cli.add_command(geo_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(index_cli)
    app.cli.add_command(demand_cli)
    app.cli.add_command(reviews_cli)
    app.cli.add_command(feedback_cli)
    app.cli.add_command(oruk_cli)
    app.cli.add_command(import_cli)
