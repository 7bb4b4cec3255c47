"""E-mail senders. The default writes each message to ./var/mail/ as an .eml file, so
nothing is lost when no SMTP server is configured; SMTP when PASSERELLE_SMTP_URL is set."""

from __future__ import annotations

import asyncio
import os
import smtplib
import tempfile
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

FROM_ADDRESS = "passerelle <no-reply@passerelle.local>"
# Quoted-printable UTF-8 bodies: readable in the .eml files, 7-bit safe for any SMTP server.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def build_message(*, to: str, subject: str, body: str, key: str) -> Message:
    """A text/plain UTF-8 message. Built with the compat32 classes: the `EmailMessage`
    header registry parses every header it is given, four times the CPU for the same bytes."""
    if any(c in value for value in (to, subject, key) for c in "\r\n"):
        # compat32 would write them as they are: a header injection (EmailMessage refused them).
        raise ValueError("e-mail header values may not contain line breaks")
    if not to.isascii():
        return _build_international(to=to, subject=subject, body=body, key=key)
    message = Message()
    message.set_payload(body, _UTF8_QP)  # also sets MIME-Version, Content-Type and its encoding
    message["From"] = FROM_ADDRESS
    message["To"] = to
    # RFC 2047 encoded words when the subject is not ASCII.
    message["Subject"] = Header(subject, "utf-8", header_name="Subject").encode()
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=key.replace(":", "-"), domain="passerelle.local")
    message["X-Passerelle-Key"] = key
    return message


def _build_international(*, to: str, subject: str, body: str, key: str) -> EmailMessage:
    """A non-ASCII address: the header registry knows how to encode it."""
    message = EmailMessage()
    message["From"] = FROM_ADDRESS
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=key.replace(":", "-"), domain="passerelle.local")
    message["X-Passerelle-Key"] = key
    message.set_content(body)
    return message


class MailSender(Protocol):
    async def send(self, message: Message, *, key: str) -> None:
        """Send once per `key` where the backend can tell (outbox redeliveries happen)."""
        ...


class FileMailer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._made = False  # the directory, made on the first send rather than on each

    def path_for(self, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
        return self.directory / f"{safe}.eml"

    async def send(self, message: Message, *, key: str) -> None:
        if not self._made:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._made = True
        target = self.path_for(key)
        if target.exists():
            return
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        except FileNotFoundError:  # removed since: make it again
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(bytes(message))
        os.replace(tmp, target)


class SmtpMailer:
    """smtp://user:password@host:port (STARTTLS when the server offers it) or smtps://..."""

    def __init__(self, url: str) -> None:
        self.url = urlparse(url)

    def _send_sync(self, message: Message) -> None:
        host, port = self.url.hostname or "localhost", self.url.port
        if self.url.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=30)
        else:
            client = smtplib.SMTP(host, port or 25, timeout=30)
        with client:
            if self.url.scheme != "smtps" and client.has_extn("starttls"):
                client.starttls()
            if self.url.username:
                client.login(unquote(self.url.username), unquote(self.url.password or ""))
            client.send_message(message)

    async def send(self, message: Message, *, key: str) -> None:
        await asyncio.to_thread(self._send_sync, message)


def make_mailer(*, smtp_url: str | None, mail_dir: Path) -> MailSender:
    return SmtpMailer(smtp_url) if smtp_url else FileMailer(mail_dir)
