"""send_notification against a real SMTP server: the mail's content, and no second mail on a retry."""

from __future__ import annotations

import re
import smtplib
import ssl
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from access import open_session
from activities.contracts import NotificationRequest
from activities.notifications import Notifications
from adapters.mail import SmtpMailer, SmtpSettings
from devstack.mail import MailCapture
from devstack.ports import free_port
from directory import get_participant


def notifications(pool: asyncpg.Pool, mail: MailCapture) -> Notifications:
    sender = "Leda <leda@example.invalid>"
    mailer = SmtpMailer(SmtpSettings(host=mail.host, port=mail.port, sender=sender))
    return Notifications(pool, mailer, sender=sender, web_base_url="http://leda.test")


def request(kind: str = "reminder", recipient: str = "p-1861-hr") -> NotificationRequest:
    return NotificationRequest(
        notification_id=uuid.uuid4(),
        kind=kind,  # type: ignore[arg-type]
        recipient_id=recipient,
        workflow_id=f"leda-test-{uuid.uuid4().hex[:6]}-1861",
        kommunkod="1861",
        municipality_name="Hallsberg",
        task_key="self_assessment",
        task_title_sv="Självskattning mot de åtta framgångsfaktorerna",
        task_title_en="Self-assessment against the eight success factors",
        due_at=datetime.now(UTC) + timedelta(days=7),
        reminder_number=1,
    )


async def test_a_retried_notification_sends_one_mail(db_pool: asyncpg.Pool, mail_capture: MailCapture) -> None:
    activity = notifications(db_pool, mail_capture).send_notification
    req = request()
    first = await ActivityEnvironment().run(activity, req)
    second = await ActivityEnvironment().run(activity, req)

    assert not first.already_sent and second.already_sent
    assert second.message_id == first.message_id
    mails = await mail_capture.wait_for(lambda m: m["Message-ID"] == first.message_id)
    assert len(mails) == 1


async def test_a_reminder_is_in_swedish_first_with_english_and_a_link_to_the_task(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    req = request()
    result = await ActivityEnvironment().run(notifications(db_pool, mail_capture).send_notification, req)

    [mail] = await mail_capture.wait_for(lambda m: m["Message-ID"] == result.message_id)
    body = mail.get_content()
    assert "hr.1861@example.invalid" in str(mail["To"])
    assert str(mail["Subject"]).startswith("Påminnelse / Reminder")
    assert body.index("Påminnelse 1") < body.index("Reminder 1")
    [token] = set(
        re.findall(rf"http://leda\.test/pilots/{req.workflow_id}/tasks/self_assessment\?token=([\w-]+)", body)
    )
    # The link signs the recipient in, and no one else.
    opened = await open_session(db_pool, token)
    assert opened is not None and opened[1].participant_id == req.recipient_id


async def test_a_mail_gives_the_deadline_in_swedish_time_with_its_zone(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    winter = request().model_copy(update={"due_at": datetime(2027, 1, 15, 15, 0, tzinfo=UTC)})
    summer = request().model_copy(update={"due_at": datetime(2027, 6, 15, 14, 0, tzinfo=UTC)})
    activity = notifications(db_pool, mail_capture).send_notification

    for req, shown in ((winter, "2027-01-15 16:00 CET"), (summer, "2027-06-15 16:00 CEST")):
        result = await ActivityEnvironment().run(activity, req)
        [mail] = await mail_capture.wait_for(lambda m, sent=result.message_id: m["Message-ID"] == sent)
        body = mail.get_content()
        assert body.count(shown) == 2, body  # in Swedish and in English
        assert "UTC" not in body


async def test_a_notification_to_someone_not_in_the_directory_fails_without_sending(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    before = len(mail_capture.messages())
    with pytest.raises(ApplicationError) as failure:
        await ActivityEnvironment().run(
            notifications(db_pool, mail_capture).send_notification, request(recipient="p-nobody")
        )
    assert failure.value.type == "UnknownRecipient"
    assert len(mail_capture.messages()) == before


async def test_a_participant_who_reads_swedish_gets_the_mail_in_swedish_only(
    db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    req = request(recipient="p-1861-rektor")  # language sv in the synthetic directory
    result = await ActivityEnvironment().run(notifications(db_pool, mail_capture).send_notification, req)

    [mail] = await mail_capture.wait_for(lambda m: m["Message-ID"] == result.message_id)
    body = mail.get_content()
    assert "Påminnelse 1" in body and "In English" not in body


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command for this test only."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class _Received:
    """Records, for each message, who logged in and whether the connection was encrypted."""

    def __init__(self) -> None:
        self.messages: list[tuple[str | None, bool]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        login = getattr(session, "auth_data", None)
        encrypted = server.transport.get_extra_info("ssl_object") is not None  # type: ignore[attr-defined]
        self.messages.append((login.decode() if isinstance(login, bytes) else login, encrypted))
        return "250 OK"


def _authenticator(server: object, session: object, envelope: object, mechanism: str, auth_data: object) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"leda", b"hemligt")
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)  # type: ignore[union-attr]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # see the comment below
@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_mail_goes_over_tls_with_credentials(
    db_pool: asyncpg.Pool, certificate: tuple[Path, Path], security: str
) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    received = _Received()
    port = free_port()
    # aiosmtpd cannot tell an implicit-TLS session from a plain one, so its own "AUTH only over TLS" check is
    # off here; the handler checks the encryption of every delivery itself.
    options: dict = {"authenticator": _authenticator, "auth_required": True, "auth_require_tls": False}
    if security == "starttls":
        options.update(tls_context=context, require_starttls=True)
    else:
        options.update(ssl_context=context)
    controller = Controller(received, hostname="127.0.0.1", port=port, server_hostname="127.0.0.1", **options)
    controller.start()
    try:
        mailer = SmtpMailer(
            SmtpSettings(
                host="127.0.0.1",
                port=port,
                sender="Leda <leda@example.invalid>",
                security=security,  # type: ignore[arg-type]
                username="leda",
                password=SecretStr("hemligt"),
                ca_file=cert,
            )
        )
        sender = Notifications(db_pool, mailer, sender="Leda <leda@example.invalid>", web_base_url="http://x")
        await ActivityEnvironment().run(sender.send_notification, request())

        wrong = SmtpMailer(
            SmtpSettings(
                host="127.0.0.1",
                port=port,
                sender="x@example.invalid",
                security=security,  # type: ignore[arg-type]
                username="leda",
                password=SecretStr("fel"),
                ca_file=cert,
            )
        )
        with pytest.raises(smtplib.SMTPAuthenticationError):
            await wrong.send(
                Notifications(db_pool, wrong, "x@example.invalid", "http://x").compose(
                    request(),
                    (await get_participant(db_pool, "p-1861-hr")),  # type: ignore[arg-type]
                    "http://x/inbox",
                )
            )
    finally:
        controller.stop()
    assert received.messages == [("leda", True)]
