"""``flask backup``: make a backup, check one, list them, restore one (see ``backup`` and README "Backups").

    flask backup create [--to FOLDER_OR_FILE]
    flask backup verify FILE
    flask backup list
    flask backup restore FILE [--force] [--other-site]

Every refusal is a clear message and a non-zero exit; a refused restore has changed nothing.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from local_offer import backup, backup_restore
from local_offer.backup_format import BackupError, describe
from local_offer.cli import _progress

backup_cli = AppGroup("backup", help="Back the site up into one file, check a backup, list them, restore one.")


def _talk():
    """Return the progress bars when at a terminal (none under cron or in a pipe)."""
    return _progress if sys.stderr.isatty() else None


@backup_cli.command("create")
@click.option("--to", "target", metavar="FOLDER_OR_FILE",
              help="A folder (the file gets a dated name) or a new file's path ending in .zip. Default: BACKUP_FOLDER.")
def backup_create(target: str | None) -> None:
    """Back up the database, the secret key, config.py and waiting uploads into one file only you can read."""
    try:
        path, manifest = backup.create(target, progress=_talk())
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        raise click.ClickException(f"The backup could not be written: {error}") from error
    size = path.stat().st_size
    click.echo(f"Wrote {path} ({size / 1e6:.1f} MB), readable only by {_owner()}.")
    for line in describe(manifest):
        click.echo(f"  {line}")
    click.echo("It holds personal data and the site's secret key: copy it off this server to encrypted storage "
               "only the people who restore the site can read.")


def _owner() -> str:
    """Name the user the backup belongs to."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "this user"


@backup_cli.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
def backup_verify(file: str) -> None:
    """Check every part of a backup against its checksums and say what it holds."""
    try:
        manifest = backup.check(file, progress=_talk())
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{file} is complete and unchanged since it was made.")
    for line in describe(manifest):
        click.echo(f"  {line}")
    here = current_app.config["PUBLIC_URL"]
    if manifest["site"]["public_url"] != here:
        click.echo(f"  It is not of this site ({here}): restoring it here needs --other-site.")


@backup_cli.command("list")
@click.option("--folder", help="Another folder to look in. Default: BACKUP_FOLDER.")
def backup_list(folder: str | None) -> None:
    """List the backups in the backups folder, newest first (`verify` checks one in full)."""
    found = backup.list_backups(folder)
    where = folder or current_app.config["BACKUP_FOLDER"]
    if not found:
        click.echo(f"No backups in {where}.")
        return
    click.echo(f"{len(found)} backups in {where}, kept {current_app.config['BACKUP_KEEP_DAYS']} days:")
    for item in found:
        size = item.path.stat().st_size / 1e6
        if item.problem:
            click.echo(f"{item.path.name} ({size:.1f} MB): UNREADABLE: {item.problem}")
            continue
        rows = {table["name"]: table["rows"] for table in item.manifest["tables"]}
        click.echo(f"{item.path.name} ({size:.1f} MB): {rows.get('listing', 0)} listings, "
                   f"{rows.get('user', 0)} accounts, schema {item.manifest['schema_revision']}, "
                   f"from {item.manifest['site']['public_url']}")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace the directory this database already holds.")
@click.option("--other-site", is_flag=True,
              help="Restore a backup made at another address (a live site's backup onto staging or a new server).")
def backup_restore_command(file: str, force: bool, other_site: bool) -> None:
    """Restore a backup: all of it or, when anything is wrong, none of it."""
    try:
        report = backup_restore.restore(file, force=force, other_site=other_site, progress=_talk())
    except BackupError as error:
        raise click.ClickException(f"Nothing was restored. {error}") from error
    manifest = report.manifest
    click.echo(f"Restored {report.rows} rows from {file}, made {manifest['created_at']} at "
               f"{manifest['site']['public_url']}" + (" (tables created first)." if report.created_tables else "."))
    if report.emptied:
        click.echo(f"Replaced what was here: {sum(report.emptied.values())} rows in {len(report.emptied)} tables.")
    if report.index_rebuilt:
        click.echo("The search index has been rebuilt.")
    for note in report.notes:
        click.echo(note)
    click.echo("Restart the site (every web worker) so it reads the restored data and settings.")
