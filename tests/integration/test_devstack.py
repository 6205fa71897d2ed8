"""The dev stack's servers: embedded PostgreSQL, the Temporal dev server and the SMTP capture."""

from __future__ import annotations

import asyncio
import shutil
import smtplib
import tempfile
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.temporal import TemporalDevServer, TemporalDevServerError

NAMESPACE = "leda-devstack-test"


# PostgreSQL -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres() -> Iterator[EmbeddedPostgres]:
    # Not under pytest's tmp_path: as root the server runs as an unprivileged user that must traverse the
    # parent directories, and pytest keeps /tmp/pytest-of-root private (0700), resetting it every session.
    parent = Path(tempfile.mkdtemp(prefix="leda-devstack-pg-"))
    server = EmbeddedPostgres(parent / "data", free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(parent, ignore_errors=True)


async def test_embedded_postgres_accepts_connections_to_its_database(postgres: EmbeddedPostgres) -> None:
    connection = await asyncpg.connect(postgres.dsn)
    try:
        database = await connection.fetchval("SELECT current_database()")
        encoding = await connection.fetchval("SHOW server_encoding")
    finally:
        await connection.close()

    assert database == "leda"
    assert encoding == "UTF8"


def test_starting_again_reuses_the_running_server(postgres: EmbeddedPostgres) -> None:
    postmaster_pid = (postgres.data_dir / "postmaster.pid").read_text().splitlines()[0]

    EmbeddedPostgres(postgres.data_dir, postgres.port).start()

    assert (postgres.data_dir / "postmaster.pid").read_text().splitlines()[0] == postmaster_pid


async def test_embedded_postgres_keeps_data_across_a_restart(postgres: EmbeddedPostgres) -> None:
    connection = await asyncpg.connect(postgres.dsn)
    try:
        await connection.execute("CREATE TABLE kommun (kod text PRIMARY KEY, namn text NOT NULL)")
        await connection.execute("INSERT INTO kommun VALUES ('1864', 'Ljusnarsberg')")
    finally:
        await connection.close()

    await asyncio.to_thread(postgres.stop)
    assert not postgres.is_running()
    await asyncio.to_thread(EmbeddedPostgres(postgres.data_dir, postgres.port).start)

    connection = await asyncpg.connect(postgres.dsn)
    try:
        name = await connection.fetchval("SELECT namn FROM kommun WHERE kod = '1864'")
    finally:
        await connection.close()
    assert name == "Ljusnarsberg"


# Temporal -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def temporal(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TemporalDevServer]:
    directory = tmp_path_factory.mktemp("temporal")
    server = TemporalDevServer(
        directory / "temporal.db",
        port=free_port(),
        ui_port=free_port(),
        namespace=NAMESPACE,
        search_attributes={"LedaPhase": "Keyword"},
        log_file=directory / "temporal.log",
    )
    await server.start()
    yield server
    await server.stop()


async def _custom_search_attributes(address: str) -> dict[str, int]:
    client = await Client.connect(address, namespace=NAMESPACE)
    response = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=NAMESPACE))
    return dict(response.custom_attributes)


@pytest.mark.devserver
async def test_dev_server_registers_the_search_attributes_it_was_given(temporal: TemporalDevServer) -> None:
    attributes = await _custom_search_attributes(temporal.address)

    assert attributes["LedaPhase"] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD


@pytest.mark.devserver
async def test_starting_on_a_serving_port_adopts_the_server_and_adds_missing_attributes(
    temporal: TemporalDevServer, tmp_path: Path
) -> None:
    second = TemporalDevServer(
        tmp_path / "unused.db",
        port=int(temporal.address.rsplit(":", 1)[1]),
        ui_port=free_port(),
        namespace=NAMESPACE,
        search_attributes={"LedaPhase": "Keyword", "LedaDeadlineDays": "Int"},
    )

    await second.start()
    await second.stop()  # must leave the adopted server running

    assert not second.owns_process
    assert not (tmp_path / "unused.db").exists()
    attributes = await _custom_search_attributes(temporal.address)
    assert attributes["LedaDeadlineDays"] == IndexedValueType.INDEXED_VALUE_TYPE_INT


@pytest.mark.devserver
async def test_a_state_file_from_before_new_search_attributes_gets_them_on_restart(tmp_path: Path) -> None:
    def server(attributes: dict[str, str]) -> TemporalDevServer:
        return TemporalDevServer(
            tmp_path / "kept.db",
            port=free_port(),
            ui_port=free_port(),
            namespace=NAMESPACE,
            search_attributes=attributes,
        )

    older = server({"LedaPhase": "Keyword"})
    await older.start()
    await older.stop()
    newer = server({"LedaPhase": "Keyword", "LedaOverdueCount": "Int", "LedaNextDueAt": "Datetime"})
    await newer.start()
    try:
        attributes = await _custom_search_attributes(newer.address)
    finally:
        await newer.stop()

    assert attributes["LedaOverdueCount"] == IndexedValueType.INDEXED_VALUE_TYPE_INT
    assert attributes["LedaNextDueAt"] == IndexedValueType.INDEXED_VALUE_TYPE_DATETIME


@pytest.mark.devserver
async def test_a_port_held_by_something_else_is_reported_clearly(tmp_path: Path) -> None:
    with KoladaSampleServer() as http_server:
        server = TemporalDevServer(tmp_path / "t.db", port=http_server.port, ui_port=free_port())

        with pytest.raises(TemporalDevServerError, match="not by a Temporal server"):
            await server.start()


# Mail -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailCapture]:
    capture = MailCapture(tmp_path_factory.mktemp("mail"), port=free_port())
    capture.start()
    yield capture
    capture.stop()


def _send(capture: MailCapture, message: EmailMessage, recipients: list[str]) -> None:
    with smtplib.SMTP(capture.host, capture.port, timeout=10) as smtp:
        smtp.send_message(message, to_addrs=recipients)


async def test_mail_capture_stores_each_message_as_an_eml_file(mail: MailCapture) -> None:
    message = EmailMessage()
    message["From"] = "Leda <leda@example.invalid>"
    message["To"] = "Rektor Åsa Öberg <asa@example.invalid>"
    message["Subject"] = "Ny uppgift: nulägesanalys för Hallsberg"
    message.set_content("Hej Åsa! Du har fått en ny uppgift.")

    await asyncio.to_thread(_send, mail, message, ["asa@example.invalid", "samordnare@example.invalid"])
    received = await mail.wait_for(lambda m: "nulägesanalys" in str(m["Subject"]))

    assert [path.suffix for path in mail.message_files()] == [".eml"]
    assert received[0]["To"] == "Rektor Åsa Öberg <asa@example.invalid>"
    assert received[0].get_content().strip() == "Hej Åsa! Du har fått en ny uppgift."
    assert received[0]["X-Envelope-To"] == "asa@example.invalid, samordnare@example.invalid"
