"""An SMTP server that keeps every message it receives as a file, for the dev stack and integration tests.

Leda sends mail through plain SMTP in every environment; in development the other end is this capture
server instead of a relay. Messages land as ``.eml`` files so a developer can open them in any mail client,
and tests can wait for the mail a workflow was supposed to send.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)

_PARSER = BytesParser(policy=policy.default)
# Sent in the SMTP greeting. Set explicitly because aiosmtpd otherwise calls socket.getfqdn(), which can
# stall for many seconds on machines without working DNS.
_SERVER_HOSTNAME = "leda-mail-capture"


class MailCaptureError(RuntimeError):
    """The capture server could not start."""


class MailCapture:
    """SMTP on ``host:port`` that writes each message to ``directory`` as ``<UTC arrival time>-<n>.eml``.

    Every file starts with two added headers, ``X-Envelope-From`` and ``X-Envelope-To``, carrying the SMTP
    envelope, so tests can check who a message was actually delivered to (Bcc recipients appear nowhere
    else). The server accepts any sender and recipient and needs no authentication.
    """

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 8025) -> None:
        if not 0 < port < 65536:
            raise ValueError(f"port must be between 1 and 65535, got {port}")
        self._directory = Path(directory).expanduser().resolve()
        self._host = host
        self._port = port
        self._controller: Controller | None = None
        self._handler = _WriteToDirectory(self._directory)

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> None:
        """Listen for SMTP in a background thread; returns once the server answers."""
        if self._controller is not None:
            return
        self._directory.mkdir(parents=True, exist_ok=True)
        controller = Controller(
            self._handler,
            hostname=self._host,
            port=self._port,
            server_hostname=_SERVER_HOSTNAME,
            # Accept UTF-8 addresses (SMTPUTF8) and keep message bytes exactly as sent.
            enable_SMTPUTF8=True,
            decode_data=False,
        )
        try:
            controller.start()
        except OSError as exc:
            raise MailCaptureError(
                f"could not start the SMTP capture server on {self._host}:{self._port}: {exc}"
            ) from exc
        except TimeoutError as exc:
            controller.stop(no_assert=True)
            raise MailCaptureError(
                f"the SMTP capture server on {self._host}:{self._port} did not answer: {exc}"
            ) from exc
        self._controller = controller
        log.info("capturing mail sent to %s:%s in %s", self._host, self._port, self._directory)

    def stop(self) -> None:
        """Stop listening; captured files stay where they are."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def messages(self) -> list[EmailMessage]:
        """Every captured message, oldest first, parsed with :data:`email.policy.default`."""
        parsed = []
        for path in self.message_files():
            with path.open("rb") as stream:
                parsed.append(_PARSER.parse(stream))
        return parsed

    def message_files(self) -> list[Path]:
        """The ``.eml`` files, oldest first (their names sort by arrival)."""
        if not self._directory.exists():
            return []
        return sorted(self._directory.glob("*.eml"))

    def clear(self) -> None:
        """Delete every captured message."""
        for path in self.message_files():
            path.unlink(missing_ok=True)

    async def wait_for(
        self,
        predicate: Callable[[EmailMessage], bool],
        # A plain argument rather than asyncio.timeout(): the error then lists what did arrive.
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[EmailMessage]:
        """Wait until at least one captured message satisfies ``predicate``; return all that do.

        Raises :class:`TimeoutError` naming the messages that did arrive, which usually explains a failing
        test faster than the assertion would.
        """
        deadline = time.monotonic() + timeout
        while True:
            captured = await asyncio.to_thread(self.messages)
            matching = [message for message in captured if predicate(message)]
            if matching:
                return matching
            if time.monotonic() >= deadline:
                summary = "; ".join(
                    f"to={message.get('To')!s} subject={message.get('Subject')!s}" for message in captured
                )
                raise TimeoutError(
                    f"no captured mail in {self._directory} matched within {timeout:.1f} s; "
                    f"{len(captured)} received{': ' + summary if summary else ''}"
                )
            await asyncio.sleep(0.05)

    def __enter__(self) -> MailCapture:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"MailCapture(directory={str(self._directory)!r}, host={self._host!r}, port={self._port})"


class _WriteToDirectory:
    """aiosmtpd handler: one ``.eml`` file per message, written atomically."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        # The counter breaks ties between messages that arrive within the same microsecond.
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        envelope_headers = (
            f"X-Envelope-From: {envelope.mail_from or ''}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        with self._lock:
            arrived = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
            name = f"{arrived}-{next(self._sequence):06d}.eml"
        target = self._directory / name
        partial = target.with_suffix(".eml.partial")
        try:
            partial.write_bytes(envelope_headers + content)
            # Readers list only *.eml, so they never see a half-written message.
            os.replace(partial, target)
        except OSError as exc:
            log.error("could not store captured mail in %s: %s", target, exc)
            return "451 Requested action aborted: could not store the message"
        log.debug("captured mail from %s to %s as %s", envelope.mail_from, envelope.rcpt_tos, name)
        return "250 Message accepted for delivery"
