"""Bounces that arrive later, by email: read them from a mailbox and stop alerts to dead addresses.

A mail server that refuses an address while we send is handled at once
(``alerts.send_digests``).  Many refuse later instead: the message is accepted,
then a delivery status notification (RFC 3464, ``multipart/report;
report-type=delivery-status``) comes back to the sender's address.  When the
council delivers that mailbox into a Maildir folder on this server
(``ALERT_BOUNCE_MAILDIR``), ``flask jobs run`` reads it: every recipient a
notification says failed for good (``Action: failed`` with a 5.x.x status)
has its search alerts stopped, exactly as a refusal at sending stops them
(deleted ``ALERT_PENDING_DAYS`` later).  Delays and temporary failures (4.x.x)
change nothing.  Each notification read is removed from the folder; any other
message (a person's reply, something unreadable) is left there for a person.
"""

from __future__ import annotations

import mailbox
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from sqlalchemy import func, select

from local_offer.extensions import db
from local_offer.models import AlertStatus, SearchAlert, utcnow

#: A permanent failure's status code (RFC 3463): 5.x.x.
PERMANENT = re.compile(r"^\s*5\.\d{1,3}\.\d{1,3}")
#: An address as a notification gives it ("rfc822; someone@example.org").
ADDRESS = re.compile(r"^[^@\s<>;,]+@[^@\s<>;,]+$")
#: The most notifications read in one run (a flood waits for the next run).
BATCH = 2000


@dataclass
class BounceReport:
    """What one reading of the bounce mailbox found and did."""

    read: int = 0
    addresses: set[str] = field(default_factory=set)
    stopped: int = 0
    left: int = 0


def failed_recipients(message: Message) -> set[str] | None:
    """Return the addresses a delivery status notification says failed for good, or None if it is not one."""
    if message.get_content_type() != "multipart/report" or \
            (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    failed: set[str] = set()
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        # The first block describes the message, each further one a recipient.
        blocks = part.get_payload()
        for block in blocks[1:] if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            action = str(block.get("Action", "")).strip().lower()
            status = str(block.get("Status", ""))
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
            if action == "failed" and PERMANENT.match(status) and ADDRESS.match(address) and len(address) <= 320:
                failed.add(address)
    return failed


def stop_alerts_to(addresses: set[str]) -> int:
    """Stop every pending or confirmed alert to these addresses, as a refusal at sending does; return how many."""
    if not addresses:
        return 0
    now, stopped = utcnow(), 0
    found = db.session.execute(select(SearchAlert).where(
        func.lower(SearchAlert.email).in_(sorted(addresses)),
        SearchAlert.status != AlertStatus.BOUNCED)).scalars().all()
    for alert in found:
        alert.status, alert.bounced_at = AlertStatus.BOUNCED, now
        stopped += 1
    db.session.commit()
    return stopped


def read_mailbox(folder: str, wrap=None) -> BounceReport:
    """Read the notifications in a Maildir folder, stop alerts to the addresses that failed, remove what was read.

    ``wrap``, if given, wraps the messages to read (a progress bar).
    """
    report = BounceReport()
    box = mailbox.Maildir(folder, factory=None, create=False)
    parser = BytesParser(policy=policy.compat32)
    keys = list(box.keys())[:BATCH]
    done = []
    for key in wrap(keys) if wrap else keys:
        try:
            with box.get_file(key) as handle:
                message = parser.parse(handle)
            failed = failed_recipients(message)
        except Exception:  # noqa: BLE001  (an unreadable message is left for a person, never a failed run)
            failed = None
        if failed is None:
            report.left += 1
            continue
        report.read += 1
        report.addresses |= failed
        done.append(key)
    report.stopped = stop_alerts_to(report.addresses)
    for key in done:  # only once the alerts are stopped: a crash before this reads them again, harmlessly
        try:
            box.remove(key)
        except KeyError:  # another run removed it meanwhile
            pass
    return report


def notification(to_address: str, status: str = "5.1.1", action: str = "failed") -> EmailMessage:
    """Build a delivery status notification about one recipient, as a mail server sends (tests and demos)."""
    message = EmailMessage()
    message["From"] = "Mail Delivery System <MAILER-DAEMON@mail.example>"
    message["Subject"] = "Undelivered Mail Returned to Sender"
    message.set_content("This is the mail system. Your message could not be delivered.")
    report = Message()
    report.set_type("message/delivery-status")
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = "dns; mail.example"
    per_recipient["Final-Recipient"] = f"rfc822; {to_address}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    report.set_payload([per_message, per_recipient])
    message.make_mixed()
    message.attach(report)
    message.replace_header("Content-Type", 'multipart/report; report-type="delivery-status"')
    return message
