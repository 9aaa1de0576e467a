"""gunicorn's settings for Local Offer, read when gunicorn is started in this folder.

    .venv/bin/gunicorn --workers 4 --bind 127.0.0.1:8000 'local_offer:create_app()'

Two hooks.  Before anything starts, the start-up checks run (``on_starting``): a schema
older than the code, a secret key the other servers do not share or a clock far from the
database's stops gunicorn with the reason.  They run as ``flask check-startup`` in a
process of their own, so the master never imports the site: a graceful reload
(``kill -HUP``) then starts workers that import the code as it is on disk now.  Then each
worker, once it has made the app, warms itself on a background
thread (``local_offer.warmup``), so its first searches are not slow.  It does not
delay the worker: requests are answered from the start.
"""


def on_starting(server):
    """Refuse to start, saying why, when the schema is older than the code, the secret key is not the other
    servers' or the clock is wrong (``flask check-startup``, from ``local_offer.startup_checks``)."""
    import os
    import subprocess
    import sys

    checks = subprocess.run([sys.executable, "-m", "flask", "--app", "local_offer", "check-startup"],
                            cwd=server.cfg.chdir or os.getcwd(), capture_output=True, text=True)
    if checks.returncode != 0:
        if server.pidfile is not None:
            server.pidfile.unlink()
        lines = [line for line in (checks.stderr + checks.stdout).splitlines() if line.strip()]
        said = next((number for number, line in enumerate(lines) if line.startswith("Error: ")), None)
        reason = [line.removeprefix("Error: ") for line in (lines[said:] if said is not None else lines[-3:])]
        # gunicorn prints "Error: <the reason>" and exits with status 1
        raise RuntimeError("Local Offer will not start: " + " ".join(reason))


def post_worker_init(worker):
    """Start warming the worker's app (the facet table, the index, templates, result cards)."""
    from local_offer import warmup

    app = warmup.flask_app(worker.wsgi)
    if app is not None:
        warmup.start(app)
