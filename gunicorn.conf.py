"""gunicorn's settings for Local Offer, read when gunicorn is started in this folder.

    .venv/bin/gunicorn --workers 4 --bind 127.0.0.1:8000 'local_offer:create_app()'

Two hooks.  Before anything starts, the master makes the app once and runs the start-up
checks (``on_starting``): a schema older than the code, a secret key the other servers do
not share or a clock far from the database's stops gunicorn with the reason.  Then each
worker, once it has made the app, warms itself on a background
thread (``local_offer.warmup``), so its first searches are not slow.  It does not
delay the worker: requests are answered from the start.
"""


def on_starting(server):
    """Refuse to start, saying why, when the schema is older than the code, the secret key is not the other
    servers' or the clock is wrong (``local_offer.startup_checks``; ``flask check-startup`` runs the same)."""
    from local_offer import create_app
    from local_offer.startup_checks import refuse_unless_ready

    try:
        refuse_unless_ready(create_app())
    except RuntimeError:  # gunicorn prints "Error: <the reason>" and exits with status 1
        if server.pidfile is not None:
            server.pidfile.unlink()
        raise


def post_worker_init(worker):
    """Start warming the worker's app (the facet table, the index, templates, result cards)."""
    from local_offer import warmup

    app = warmup.flask_app(worker.wsgi)
    if app is not None:
        warmup.start(app)
