"""``flask feeds``: neighbours' directories whose Open Referral UK feeds we pull (see ``local_offer.feeds``)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from local_offer import feeds
from local_offer.cli import _progress
from local_offer.extensions import db
from local_offer.models import Feed

feeds_cli = AppGroup("feeds", help="Neighbours' directories: subscribe to their ORUK feeds and pull them.")


def _find(which: str) -> Feed:
    """A feed by its address or its name."""
    found = db.session.execute(select(Feed).where((Feed.url == which) | (Feed.name == which))).scalar_one_or_none()
    if found is None:
        raise click.ClickException(f"No feed has the address or name {which!r}. See `flask feeds list`.")
    return found


@feeds_cli.command("add")
@click.argument("url")
@click.option("--name", required=True, help="Whose directory it is, as families read it: \"Derbyshire's Local Offer\".")
@click.option("--licence", required=True, help="The licence the data is published under.")
@click.option("--site", "site_url", default="", help="Their directory's web address (each service links there).")
@click.option("--pull", "pull_now", is_flag=True, help="Pull it now rather than at the next run of the jobs.")
def add(url: str, name: str, licence: str, site_url: str, pull_now: bool) -> None:
    """Subscribe to another directory's ORUK feed (its v1 or v3 services list)."""
    try:
        feed = feeds.add(url, name, licence, site_url)
    except feeds.FeedError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Added {feed.name}.")
    if pull_now:
        _pull(feed, accept_fewer=False)


def _pull(feed: Feed, accept_fewer: bool) -> bool:
    report = feeds.pull(feed, accept_fewer=accept_fewer, progress=_progress(f"Reading {feed.name}"))
    click.echo(f"{feed.name}: {feeds.summary(report)}")
    for warning in report["warnings"]:
        click.echo(f"  Warning: {warning}")
    for item in report["rejected"][:50]:
        click.echo(f"  Not taken: {item['name'] or item['id']}: {item['why']}")
    return not report["problem"]


@feeds_cli.command("pull")
@click.argument("which", required=False)
@click.option("--accept-fewer", is_flag=True, help="Withdraw what has gone even when the feed lists under half as many.")
def pull(which: str | None, accept_fewer: bool) -> None:
    """Pull one feed (by address or name), or every feed, now."""
    chosen = [_find(which)] if which else feeds.all_feeds()
    if not chosen:
        click.echo("No feeds yet. Add one with `flask feeds add URL --name ... --licence ...`.")
    failed = [feed.name for feed in chosen if not _pull(feed, accept_fewer)]
    if failed:
        raise click.ClickException(f"Failed: {', '.join(failed)}. Nothing of theirs was withdrawn.")


@feeds_cli.command("list")
def list_feeds() -> None:
    """List the feeds and how each last pull went."""
    for feed in feeds.all_feeds():
        when = feed.last_pull_at.strftime("%Y-%m-%d %H:%M UTC") if feed.last_pull_at else "never"
        click.echo(f"{feed.name} <{feed.url}> ({feed.licence}); last pulled {when}: "
                   f"{feeds.summary(feed.last_report) if feed.last_pull_at else 'not pulled yet'}")


@feeds_cli.command("remove")
@click.argument("which")
def remove(which: str) -> None:
    """Stop pulling a feed; its services leave the directory."""
    feed = _find(which)
    name, withdrawn = feed.name, feeds.remove(feed)
    click.echo(f"Removed {name}; {withdrawn} of its services left the directory.")
