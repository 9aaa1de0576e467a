"""gunicorn's settings for Local Offer, read when gunicorn is started in this folder.

    .venv/bin/gunicorn --workers 4 --bind 127.0.0.1:8000 'local_offer:create_app()'

Only a hook: each worker, once it has made the app, warms itself on a background
thread (``local_offer.warmup``), so its first searches are not slow.  It does not
delay the worker: requests are answered from the start.
"""


def post_worker_init(worker):
    """Start warming the worker's app (the facet table, the index, templates, result cards)."""
    from local_offer import warmup

    app = warmup.flask_app(worker.wsgi)
    if app is not None:
        warmup.start(app)
