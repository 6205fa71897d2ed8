"""Mail out of Leda: the SMTP client, and the envelope every mail of Leda's has (sender, recipient, subject, a
Message-ID, the date), built in one place."""

from __future__ import annotations

import asyncio
import re
import secrets
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

MESSAGE_ID_DOMAIN = "leda.invalid"
"""The right-hand side of Leda's Message-IDs: a name that is no one's address."""

_MESSAGE_KEY = re.compile(r"[A-Za-z0-9-]{1,40}")
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = _UTF8.body_encoding = QP  # readable in the raw mail, and 7-bit clean


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: SecretStr | None = None  # a SecretStr, so no repr of these settings (a traceback, a log) shows it
    ca_file: Path | None = None


SESSION_IDLE_SECONDS = 5.0
"""How long an open session waits for the next mail before it is closed. A mail server's own connection cache
does the same (Postfix keeps a session two seconds by default)."""
SESSION_LIFETIME_SECONDS = 60.0
"""A session is not reused after this long, however busy, so a relay sees no session that never ends."""
IDLE_SESSIONS = 4
"""At most this many sessions wait for a mail; the worker sends mails from a few threads at a time."""


@dataclass
class _Session:
    smtp: smtplib.SMTP
    opened: float
    last_used: float

    def expired(self, now: float) -> bool:
        """Waited too long for a mail, or open too long to be given another."""
        return now - self.last_used > SESSION_IDLE_SECONDS or now - self.opened > SESSION_LIFETIME_SECONDS


class SmtpMailer:
    """A plain SMTP client. While mail keeps coming it sends the next mail in the session the last one used (a
    relay then sees one session, one TLS handshake and one login per burst, not per mail); a session waiting longer
    than SESSION_IDLE_SECONDS is closed. A reused session is asked NOOP first, so a session the server has closed
    is replaced before a mail is given to it, never in the middle of one."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._tls_context: ssl.SSLContext | None = None
        self._idle: list[_Session] = []
        self._lock = threading.Lock()
        self._closer: asyncio.TimerHandle | None = None

    async def send(self, message: Message) -> None:
        await asyncio.to_thread(self._send_blocking, message)
        self._close_idle_later(asyncio.get_running_loop())

    def _close_idle_later(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close the sessions no mail came for in time: one check pending at a time, however many mails go out
        (a timer and a thread per mail was a share of a busy worker's time), and another while any still waits."""
        if self._closer is None:
            self._closer = loop.call_later(SESSION_IDLE_SECONDS + 0.5, self._close_idle, loop)

    def _close_idle(self, loop: asyncio.AbstractEventLoop) -> None:
        self._closer = None
        closing = loop.run_in_executor(None, self._close_stale)  # a thread, as QUIT waits for the server
        closing.add_done_callback(lambda _: self._close_idle_later(loop) if self.waiting_sessions else None)

    @property
    def waiting_sessions(self) -> int:
        """Sessions open and waiting for the next mail."""
        with self._lock:
            return len(self._idle)

    def close(self) -> None:
        """Close every waiting session (QUIT); a check still pending then finds none."""
        with self._lock:
            sessions, self._idle = self._idle, []
        for session in sessions:
            _quit(session)

    def _context(self) -> ssl.SSLContext:
        """The TLS context, made once: loading the CA certificates takes tens of milliseconds of CPU, and made for
        every mail that was most of a busy worker's time (BENCHMARKS.md). Only TLS and STARTTLS ask for it."""
        if self._tls_context is None:
            s = self._settings
            self._tls_context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        return self._tls_context

    def _send_blocking(self, message: Message) -> None:
        session = self._reusable() or self._open()
        try:
            session.smtp.send_message(message)
        except BaseException:
            _quit(session)
            raise
        session.last_used = time.monotonic()
        with self._lock:
            if len(self._idle) < IDLE_SESSIONS:
                self._idle.append(session)
                return
        _quit(session)

    def _open(self) -> _Session:
        s = self._settings
        smtp = (
            smtplib.SMTP_SSL(s.host, s.port, timeout=20, context=self._context())
            if s.security == "tls"
            else smtplib.SMTP(s.host, s.port, timeout=20)
        )
        try:
            if s.security == "starttls":
                smtp.starttls(context=self._context())
            if s.username:
                smtp.login(s.username, s.password.get_secret_value() if s.password else "")
        except BaseException:
            smtp.close()
            raise
        now = time.monotonic()
        return _Session(smtp, opened=now, last_used=now)

    def _reusable(self) -> _Session | None:
        """A waiting session that is still fresh and that the server still answers, or None."""
        while True:
            with self._lock:
                if not self._idle:
                    return None
                session = self._idle.pop()
            if session.expired(time.monotonic()):
                _quit(session)
                continue
            try:
                code, _ = session.smtp.noop()
            except (smtplib.SMTPException, OSError):
                session.smtp.close()
                continue
            if code == 250:
                return session
            _quit(session)

    def _close_stale(self) -> None:
        now = time.monotonic()
        with self._lock:
            stale = [s for s in self._idle if s.expired(now)]
            self._idle = [s for s in self._idle if not s.expired(now)]
        for session in stale:
            _quit(session)


def _quit(session: _Session) -> None:
    try:
        session.smtp.quit()
    except (smtplib.SMTPException, OSError):
        session.smtp.close()


def envelope(
    sender: str,
    to: tuple[str, str],
    subject: str,
    body: str,
    *,
    message_key: str | None = None,
    headers: dict[str, str] | None = None,
) -> Message:
    """A mail from `sender` to (name, address) `to`, dated now, its Message-ID naming `message_key` where one is given
    (the notification or digest it sends: a UUID), so that a mail can be traced to what sent it.

    Made with the `email` package's compat32 classes, not `EmailMessage`: that API parses every header into a
    structured object as it is set and folds it again as it is sent, and a mail cost 1.3 ms of CPU that way against
    0.23 ms now (BENCHMARKS.md: a fifth of a busy worker's time went to composing mails). What goes out is the same
    to a reader: names and a subject outside ASCII are encoded words (RFC 2047), the body UTF-8 in
    quoted-printable, so it passes any relay."""
    message = MIMEText(body, "plain", _UTF8)
    message["From"] = _address(sender)
    message["To"] = formataddr(to, charset=_UTF8)
    message["Subject"] = _header(subject)
    message["Message-ID"] = _message_id(message_key)
    message["Date"] = format_datetime(datetime.now(UTC))
    for name, value in (headers or {}).items():
        message[name] = _header(value)
    return message


def _message_id(key: str | None) -> str:
    """Unique to the mail, and short enough to stay on the header's line: compat32 would fold a longer one onto the
    next, and a reader would then see the id with the fold's space in front of it."""
    unique = secrets.token_hex(6)
    if key is None:
        return f"<{unique}@{MESSAGE_ID_DOMAIN}>"
    if not _MESSAGE_KEY.fullmatch(key):
        raise ValueError(f"message_key must be letters, digits and '-', at most 40, got {key!r}")
    return f"<{unique}.{key}@{MESSAGE_ID_DOMAIN}>"


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, _UTF8)


def _address(text: str) -> str:
    """'Name <address>' or a bare address, its name encoded when it is not ASCII."""
    name, address = parseaddr(text)
    return formataddr((name, address), charset=_UTF8) if name else address
