"""The SMTP client's sessions (adapters/mail.py): mails in a burst share one, a dead or idle one is replaced."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from adapters import mail
from adapters.mail import SmtpMailer, SmtpSettings, envelope
from devstack.ports import free_port

SENDER = "Leda <leda@example.invalid>"


class _Sessions:
    """Counts the sessions a client opened (each greets with EHLO) and keeps the messages delivered."""

    def __init__(self) -> None:
        self.greetings = 0
        self.subjects: list[str] = []

    async def handle_EHLO(  # noqa: N802
        self, server: object, session: object, envelope: object, hostname: str, responses: list[str]
    ) -> list[str]:
        self.greetings += 1
        session.host_name = hostname  # type: ignore[attr-defined]  # aiosmtpd leaves this to the hook
        return responses

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        content = envelope.content  # type: ignore[attr-defined]
        text = content.decode() if isinstance(content, bytes) else content
        self.subjects += [line.removeprefix("Subject: ") for line in text.splitlines() if line.startswith("Subject: ")]
        return "250 OK"


@pytest.fixture
def server() -> Iterator[tuple[_Sessions, Controller]]:
    sessions = _Sessions()
    controller = Controller(sessions, hostname="127.0.0.1", port=free_port(), server_hostname="127.0.0.1")
    controller.start()
    yield sessions, controller
    controller.stop()


def _mail(subject: str) -> EmailMessage:
    return envelope(SENDER, ("Syntetisk mottagare", "mottagare@example.invalid"), subject, "Hej!")


async def test_mails_sent_one_after_another_share_one_session(server: tuple[_Sessions, Controller]) -> None:
    sessions, controller = server
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=controller.port, sender=SENDER))
    for number in range(3):
        await mailer.send(_mail(f"mail {number}"))
    await asyncio.to_thread(mailer.close)

    assert sessions.subjects == ["mail 0", "mail 1", "mail 2"]
    assert sessions.greetings == 1


async def test_a_session_the_server_closed_is_replaced_and_the_mail_delivered_once() -> None:
    sessions, port = _Sessions(), free_port()
    first = Controller(sessions, hostname="127.0.0.1", port=port, server_hostname="127.0.0.1")
    first.start()
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, sender=SENDER))
    try:
        await mailer.send(_mail("before"))
    finally:
        first.stop()  # the server goes away: the session the client keeps is dead
    again = Controller(sessions, hostname="127.0.0.1", port=port, server_hostname="127.0.0.1")
    again.start()
    try:
        await mailer.send(_mail("after"))
        await asyncio.to_thread(mailer.close)
    finally:
        again.stop()

    assert sessions.subjects == ["before", "after"]
    assert sessions.greetings == 2


async def test_a_session_waiting_longer_than_its_idle_time_is_closed(
    server: tuple[_Sessions, Controller], monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions, controller = server
    monkeypatch.setattr(mail, "SESSION_IDLE_SECONDS", 0.1)
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=controller.port, sender=SENDER))
    await mailer.send(_mail("first"))
    await asyncio.sleep(1.0)  # the session's idle time, and the closing that follows it
    assert mailer.waiting_sessions == 0

    await mailer.send(_mail("second"))
    await asyncio.to_thread(mailer.close)
    assert sessions.subjects == ["first", "second"]
    assert sessions.greetings == 2


async def test_a_session_still_in_use_when_the_idle_check_comes_is_closed_by_a_later_one(
    server: tuple[_Sessions, Controller], monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions, controller = server
    monkeypatch.setattr(mail, "SESSION_IDLE_SECONDS", 0.2)  # a check 0.7 s after a mail, one pending at a time
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=controller.port, sender=SENDER))
    await mailer.send(_mail("first"))
    await asyncio.sleep(0.6)
    await mailer.send(_mail("second"))  # just before the check, on a new session (the first waited too long)
    await asyncio.sleep(0.4)
    assert mailer.waiting_sessions == 1  # the check found it fresh

    await asyncio.sleep(1.2)
    assert mailer.waiting_sessions == 0  # the next check closed it
    assert sessions.subjects == ["first", "second"]
