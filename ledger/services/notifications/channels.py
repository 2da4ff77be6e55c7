"""The ways a message leaves the service, behind one interface: ``send`` returns or raises.

``EmailChannel`` speaks SMTP to ``LEDGER_SMTP_URL``; ``OutboxChannel`` (no SMTP configured, as
in development) keeps the mail in the database for the /dev/outbox page and logs it;
``WebhookChannel`` POSTs a signed JSON body. An SMS or WeChat channel would be one more class
with the same ``send``. A channel raises ``SendFailed`` (or any error) when the message did not
go; the deliveries module then retries it later.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Protocol
from urllib.parse import unquote, urlsplit

from ledger.extensions import db
from ledger.models.notification import OutboxMail

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10
WEBHOOK_TIMEOUT_SECONDS = 5
SIGNATURE_HEADER = "Ledger-Signature"


class SendFailed(Exception):
    """The message did not go (the text says why, for the delivery log)."""


@dataclass(frozen=True)
class OutgoingMessage:
    recipient: str
    subject: str
    body: str
    secret: str | None = None  # a webhook's signing secret


class Channel(Protocol):
    def send(self, message: OutgoingMessage) -> None: ...


class EmailChannel:
    """SMTP: ``smtp://[user:password@]host[:port][?starttls=true]``, or ``smtps://`` for TLS from the start."""

    def __init__(self, url: str, sender: str) -> None:
        self.address = urlsplit(url)
        self.sender = sender

    def send(self, message: OutgoingMessage) -> None:
        # The legacy MIME classes on purpose: the modern policy's header folding drops the space
        # between encoded words, which eats spaces in long Chinese subjects ("Centre 提交" would
        # arrive as "Centre提交"); a Header encodes the spaces inside the words.
        mail = MIMEText(message.body, "plain", "utf-8")
        mail["From"] = formataddr(parseaddr(self.sender))
        mail["To"] = message.recipient
        mail["Subject"] = Header(message.subject, "utf-8")  # type: ignore[assignment]
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="community-fund-ledger")
        address = self.address
        port = address.port or (465 if address.scheme == "smtps" else 25)
        try:
            if address.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    address.hostname or "",
                    port,
                    timeout=SMTP_TIMEOUT_SECONDS,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(address.hostname or "", port, timeout=SMTP_TIMEOUT_SECONDS)
            with smtp:
                if "starttls=true" in (address.query or "").lower():
                    smtp.starttls(context=ssl.create_default_context())
                if address.username:
                    smtp.login(unquote(address.username), unquote(address.password or ""))
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise SendFailed(f"SMTP {address.hostname}:{port}: {type(error).__name__}: {error}") from error


class OutboxChannel:
    """Keeps the mail in ``outbox_mail`` (written with the delivery's outcome) and logs it."""

    def send(self, message: OutgoingMessage) -> None:
        db.session.add(OutboxMail(recipient=message.recipient, subject=message.subject, body=message.body))
        log.info("mail kept in the outbox (no LEDGER_SMTP_URL) to %s: %s", message.recipient, message.subject)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Ledger-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is an answer like any other non-2xx: the delivery failed


class WebhookChannel:
    """POSTs the JSON body, signed; any answer but 2xx (a redirect too) is a failure."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(_NoRedirects)

    def send(self, message: OutgoingMessage) -> None:
        body = message.body.encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "community-fund-ledger-webhooks/1"}
        if message.secret:
            headers[SIGNATURE_HEADER] = signature(message.secret, int(time.time()), body)
        request = urllib.request.Request(message.recipient, data=body, headers=headers, method="POST")  # noqa: S310 (http(s) only, checked when registered)
        try:
            with self.opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise SendFailed(f"HTTP {error.code}") from None
        except (OSError, http.client.HTTPException) as error:
            raise SendFailed(f"{type(error).__name__}: {error}") from None
        if not 200 <= status < 300:
            raise SendFailed(f"HTTP {status}")
