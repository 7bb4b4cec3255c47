"""E-mail senders. The default writes each message to ./var/mail/ as an .eml file, so
nothing is lost when no SMTP server is configured; SMTP when PASSERELLE_SMTP_URL is set."""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import errno
import itertools
import os
import smtplib
import ssl
from collections.abc import Callable
from email.charset import Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.policy import Compat32
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

FROM_ADDRESS = "passerelle <no-reply@passerelle.local>"
_UTF8 = Charset("utf-8")
# RFC 2047: one encoded word is at most 75 characters; longer subjects are split by Header.
_MAX_ENCODED_WORD = 75
# RFC 5322 2.1.1: a line MUST NOT be longer than 998 characters (78 is a SHOULD).
_MAX_LINE = 998


class _AsGivenHeaders(Compat32):
    """compat32, except that an ASCII header value is written as it is, unfolded. compat32
    makes a `Header` of every value and refolds it: ~85 % of the CPU of writing a paid-order
    mail (an .eml per buyer and per staff member). Values are checked for line breaks when
    the message is built; anything else (very long, non-ASCII, pre-folded) still goes
    through compat32's folding."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if type(value) is str and value.isascii() and len(name) + 2 + len(value) <= _MAX_LINE and "\n" not in value:
            return f"{name}: {value}{self.linesep}"
        folded: str = super()._fold(name, value, sanitize)  # type: ignore[misc]
        return folded


_POLICY = _AsGivenHeaders()


def build_message(*, to: str, subject: str, body: str, key: str) -> Message:
    """A text/plain UTF-8 message. Built with the compat32 classes: the `EmailMessage`
    header registry parses every header it is given, four times the CPU for the same bytes."""
    if any(c in value for value in (to, subject, key) for c in "\r\n"):
        # compat32 would write them as they are: a header injection (EmailMessage refused them).
        raise ValueError("e-mail header values may not contain line breaks")
    if not to.isascii():
        return _build_international(to=to, subject=subject, body=body, key=key)
    message = Message(policy=_POLICY)
    # Quoted-printable UTF-8: readable in the .eml files, 7-bit safe for any SMTP server.
    # binascii's encoder (C) rather than the email package's (pure Python, per character).
    message["MIME-Version"] = "1.0"
    message["Content-Type"] = 'text/plain; charset="utf-8"'
    message["Content-Transfer-Encoding"] = "quoted-printable"
    message.set_payload(binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii"))
    message["From"] = FROM_ADDRESS
    message["To"] = to
    message["Subject"] = _subject(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=key.replace(":", "-"), domain="passerelle.local")
    message["X-Passerelle-Key"] = key
    return message


def _subject(subject: str) -> str:
    """As it is when ASCII, else RFC 2047 encoded words (several when one would be too long)."""
    if subject.isascii():
        return subject
    word = _UTF8.header_encode(subject)
    if len(word) <= _MAX_ENCODED_WORD:
        return word
    return Header(subject, "utf-8", header_name="Subject").encode()


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


Outgoing = tuple[Message, str]  # a message and its key


class MailSender(Protocol):
    async def send(self, message: Message, *, key: str) -> None:
        """Send once per `key` where the backend can tell (outbox redeliveries happen)."""
        ...

    async def send_many(self, outgoing: list[Outgoing]) -> list[BaseException | None]:
        """Several messages in one trip off the event loop: None for each sent, the error
        for each that failed (the others are still sent)."""
        ...


class FileMailer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._serial = itertools.count()
        # Linux with /proc: unnamed files, given their name once written; off once refused.
        self._unnamed_files = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")

    def path_for(self, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)
        return self.directory / f"{safe}.eml"

    async def send(self, message: Message, *, key: str) -> None:
        (failed,) = self._write_batch([(message, key)])
        if failed is not None:
            raise failed

    async def send_many(self, outgoing: list[Outgoing]) -> list[BaseException | None]:
        # Creating a file is a syscall that can take hundreds of microseconds (it did on
        # the bench machine's /tmp); a thread lets the event loop go on meanwhile.
        return await asyncio.to_thread(self._write_batch, outgoing)

    def _write_batch(self, outgoing: list[Outgoing]) -> list[BaseException | None]:
        """Each key is written once, whole: a reader never sees half a message, and a second
        send of a key leaves the first file as it is. The directory is opened once a batch."""
        self.directory.mkdir(parents=True, exist_ok=True)
        directory = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            return _each(outgoing, lambda message, key: self._write(directory, message, key))
        finally:
            os.close(directory)

    def _write(self, directory: int, message: Message, key: str) -> None:
        target = self.path_for(key)
        data = bytes(message)
        if self._unnamed_files:
            try:
                _link_new_file(directory, target.name, data)
                return
            except OSError as refused:
                if refused.errno not in _NO_UNNAMED_FILES:
                    raise
                self._unnamed_files = False  # a filesystem without O_TMPFILE: named files
        self._write_renamed(target, data)

    def _write_renamed(self, target: Path, data: bytes) -> None:
        if target.exists():
            return
        # Written whole under a name of this process's own, then renamed. (Not mkstemp: its
        # random names cost more than the write.)
        tmp = self.directory / f".{target.stem}.{os.getpid()}.{next(self._serial)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, target)


# What open(O_TMPFILE) answers where the filesystem or kernel has no unnamed files.
_NO_UNNAMED_FILES = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL)


def _link_new_file(directory: int, name: str, data: bytes) -> None:
    """An unnamed file in `directory` (O_TMPFILE), given its name once written: one
    directory entry made, where a temporary name then a rename touch it three times (half
    the kernel time per mail on the bench machine's ext4). The link fails if the name
    exists, which is the write-once check without a stat."""
    fd = os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o600, dir_fd=directory)
    try:
        _write_all(fd, data)
        # linkat(AT_SYMLINK_FOLLOW) through /proc names the open file itself. A name that
        # exists was written before: kept as it is.
        with contextlib.suppress(FileExistsError):
            os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=directory, follow_symlinks=True)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    written = memoryview(data)
    while written:
        written = written[os.write(fd, written) :]


def _each(outgoing: list[Outgoing], send: Callable[[Message, str], object]) -> list[BaseException | None]:
    outcomes: list[BaseException | None] = []
    for message, key in outgoing:
        try:
            send(message, key)
        except Exception as error:  # noqa: BLE001 - handed back: that message alone is retried
            outcomes.append(error)
        else:
            outcomes.append(None)
    return outcomes


class SmtpMailer:
    """smtp://user:password@host:port (STARTTLS when the server offers it) or smtps://...
    The server's certificate is verified (the system's CAs unless `tls` says otherwise)."""

    def __init__(self, url: str, *, tls: ssl.SSLContext | None = None) -> None:
        self.url = urlparse(url)
        self.tls = tls or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        host, port = self.url.hostname or "localhost", self.url.port
        if self.url.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=30, context=self.tls)
        else:
            client = smtplib.SMTP(host, port or 25, timeout=30)
        try:
            client.ehlo()  # the server's extensions are known only after EHLO
            if self.url.scheme != "smtps" and client.has_extn("starttls"):
                client.starttls(context=self.tls)
                client.ehlo()
            if self.url.username:
                client.login(unquote(self.url.username), unquote(self.url.password or ""))
        except BaseException:
            client.close()
            raise
        return client

    def _send_all(self, outgoing: list[Outgoing]) -> list[BaseException | None]:
        """One connection for the lot."""
        with self._connect() as client:
            return _each(outgoing, lambda message, _key: client.send_message(message))

    async def send(self, message: Message, *, key: str) -> None:
        (failed,) = await asyncio.to_thread(self._send_all, [(message, key)])
        if failed is not None:
            raise failed

    async def send_many(self, outgoing: list[Outgoing]) -> list[BaseException | None]:
        return await asyncio.to_thread(self._send_all, outgoing)


def make_mailer(*, smtp_url: str | None, mail_dir: Path, smtp_ca_file: Path | None = None) -> MailSender:
    if not smtp_url:
        return FileMailer(mail_dir)
    return SmtpMailer(smtp_url, tls=ssl.create_default_context(cafile=smtp_ca_file) if smtp_ca_file else None)
