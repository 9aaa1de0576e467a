"""Sending email: through SMTP when configured, otherwise into the instance's outbox folder.

On a laptop (no ``LOCAL_OFFER_MAIL_SERVER``) every message is written as an
``.eml`` file to ``instance/outbox/`` and logged, so invitations and password
resets work end to end without a mail server.  Messages are plain text, say
who sent them and why, and are written in the recipient's language when the
caller passes one.  Links in messages come from ``link``: the site's public
address (``LOCAL_OFFER_PUBLIC_URL``), never the request's ``Host``.
"""

from __future__ import annotations

import smtplib
import time
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from urllib.parse import urlsplit

from flask import current_app


def link(endpoint: str, **values) -> str:
    """Return the full address of a page, always on the site's configured public URL.

    For emails, and for the other addresses that leave the page they are on (the
    sitemap, robots.txt, JSON-LD, the API's links).  Never built from the request:
    its ``Host`` header is whatever the sender typed, so ``Host: evil.example`` would
    otherwise put another site in a reset email, or in a sitemap a proxy caches.
    The same in a request, a command or a test.
    """
    app = current_app._get_current_object()
    base = urlsplit(app.config["PUBLIC_URL"])
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


def outbox_folder() -> Path:
    """Return the folder messages are written to when there is no SMTP server."""
    return Path(current_app.instance_path) / "outbox"


def send(to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> None:
    """Send one plain-text message, signed off with who sent it and why.

    ``headers`` adds fixed headers (``List-Unsubscribe``, say).  SMTP refusals are
    raised as ``smtplib`` errors: ``SMTPRecipientsRefused`` with a 5xx code means
    the address is refused for good.
    """
    config = current_app.config
    message = EmailMessage()
    message["From"] = formataddr((f"{config['SERVICE_NAME']} – {config['COUNCIL_NAME']}", config["MAIL_FROM"]))
    message["To"] = to
    message["Subject"] = " ".join(subject.split())  # a line break in a header is refused
    message["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].split("@")[-1])
    for name, value in (headers or {}).items():
        message[name] = " ".join(value.split())
    message.set_content(body)
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT", 587)), timeout=20) as smtp:
            if config.get("MAIL_USE_TLS", True):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            smtp.send_message(message)
        return
    folder = outbox_folder()
    folder.mkdir(parents=True, exist_ok=True)
    # Nanoseconds in the name keep the outbox in the order messages were sent.
    name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{time.time_ns()}-{uuid.uuid4().hex[:6]}.eml"
    (folder / name).write_bytes(bytes(message))
    # The log names the file only: addresses and emailed links (password resets) stay out of logs.
    current_app.logger.info("An email (%s) was written to %s", subject, folder / name)


def sent_messages() -> list[EmailMessage]:
    """Return the messages in the outbox, oldest first (for tests and for looking on a laptop)."""
    from email import policy
    from email.parser import BytesParser

    folder = outbox_folder()
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in sorted(folder.glob("*.eml"))]
