"""Mail out of Leda: the SMTP client, and the envelope every mail of Leda's has (sender, recipient, subject, a
Message-ID, the date), built in one place."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

MESSAGE_ID_DOMAIN = "leda.invalid"
"""The right-hand side of Leda's Message-IDs: a name that is no one's address."""


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

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send_blocking, message)
        # Close the session if no mail comes for it in time (a thread, as QUIT waits for the server).
        loop = asyncio.get_running_loop()
        loop.call_later(SESSION_IDLE_SECONDS + 0.5, lambda: loop.run_in_executor(None, self._close_stale))

    @property
    def waiting_sessions(self) -> int:
        """Sessions open and waiting for the next mail."""
        with self._lock:
            return len(self._idle)

    def close(self) -> None:
        """Close every waiting session (QUIT)."""
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

    def _send_blocking(self, message: EmailMessage) -> None:
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
) -> EmailMessage:
    """A mail from `sender` to (name, address) `to`: its Message-ID made from `message_key` where one is given, so
    that a mail sent again is known as the same one, and dated now."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr(to)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(idstring=message_key, domain=MESSAGE_ID_DOMAIN)
    message["Date"] = format_datetime(datetime.now(UTC))
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message
