"""The dev stack's servers: embedded PostgreSQL, the Temporal dev server and the SMTP capture."""

from __future__ import annotations

import asyncio
import os
import shutil
import smtplib
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from database.roles import OWNER, ROLES, RUNTIME
from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from devstack.ports import free_port
from devstack.postgres import SUPERUSER, EmbeddedPostgres
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
    connection = await asyncpg.connect(postgres.runtime_dsn)
    try:
        database = await connection.fetchval("SELECT current_database()")
        encoding = await connection.fetchval("SHOW server_encoding")
        user = await connection.fetchval("SELECT current_user")
    finally:
        await connection.close()

    assert database == "leda"
    assert encoding == "UTF8"
    assert user == RUNTIME


async def test_embedded_postgres_asks_every_connection_for_a_password(postgres: EmbeddedPostgres) -> None:
    for role in (SUPERUSER, OWNER, RUNTIME):
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(f"postgresql://{role}@127.0.0.1:{postgres.port}/leda")
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(f"postgresql://{role}:guessed@127.0.0.1:{postgres.port}/leda")
    assert stat.S_IMODE(postgres.passwords_file.stat().st_mode) == 0o600


async def test_the_embedded_database_belongs_to_the_owner_role(postgres: EmbeddedPostgres) -> None:
    connection = await asyncpg.connect(postgres.owner_dsn)
    try:
        owner = await connection.fetchval("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'leda'")
        superuser = await connection.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    finally:
        await connection.close()
    assert (owner, superuser) == (OWNER, False)


def test_starting_again_reuses_the_running_server(postgres: EmbeddedPostgres) -> None:
    postmaster_pid = (postgres.data_dir / "postmaster.pid").read_text().splitlines()[0]

    EmbeddedPostgres(postgres.data_dir, postgres.port).start()

    assert (postgres.data_dir / "postmaster.pid").read_text().splitlines()[0] == postmaster_pid


async def test_embedded_postgres_keeps_data_across_a_restart(postgres: EmbeddedPostgres) -> None:
    connection = await asyncpg.connect(postgres.owner_dsn)
    try:
        await connection.execute("CREATE TABLE kommun (kod text PRIMARY KEY, namn text NOT NULL)")
        await connection.execute("INSERT INTO kommun VALUES ('1864', 'Ljusnarsberg')")
    finally:
        await connection.close()

    await asyncio.to_thread(postgres.stop)
    assert not postgres.is_running()
    await asyncio.to_thread(EmbeddedPostgres(postgres.data_dir, postgres.port).start)

    connection = await asyncpg.connect(postgres.owner_dsn)
    try:
        name = await connection.fetchval("SELECT namn FROM kommun WHERE kod = '1864'")
    finally:
        await connection.close()
    assert name == "Ljusnarsberg"


async def test_a_cluster_that_trusted_everyone_is_upgraded_in_place() -> None:
    """A `.leda/` made before passwords: trust for every connection, no roles, the superuser owning everything."""
    parent = Path(tempfile.mkdtemp(prefix="leda-devstack-trust-"))
    try:
        server = EmbeddedPostgres(parent / "data", free_port())
        await asyncio.to_thread(server.start)
        admin = await asyncpg.connect(server.admin_dsn)
        try:
            await admin.execute("CREATE TABLE kommun (kod text PRIMARY KEY, namn text NOT NULL)")
            await admin.execute("INSERT INTO kommun VALUES ('1861', 'Hallsberg')")
            await admin.execute(f"ALTER DATABASE leda OWNER TO {SUPERUSER}")
            await admin.execute(f"DROP ROLE {', '.join(ROLES)}")
            await admin.execute(f"ALTER ROLE {SUPERUSER} PASSWORD NULL")
            (server.data_dir / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
            await admin.execute("SELECT pg_reload_conf()")
        finally:
            await admin.close()
        server.passwords_file.unlink()
        await asyncio.to_thread(server.stop)
        trusting = f"postgresql://{SUPERUSER}@127.0.0.1:{server.port}/leda"
        await asyncio.to_thread(server.start)  # what `make run` does after the upgrade
        try:
            with pytest.raises(asyncpg.InvalidPasswordError):
                await asyncpg.connect(trusting)
            assert stat.S_IMODE(server.passwords_file.stat().st_mode) == 0o600
            owner = await asyncpg.connect(server.owner_dsn)
            try:
                table_owner = await owner.fetchval(
                    "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'kommun'"
                )
                assert table_owner == OWNER
                await owner.execute(f"GRANT SELECT ON kommun TO {RUNTIME}")  # the table is the owner's to grant
            finally:
                await owner.close()
            runtime = await asyncpg.connect(server.runtime_dsn)
            try:
                assert await runtime.fetchval("SELECT namn FROM kommun WHERE kod = '1861'") == "Hallsberg"
            finally:
                await runtime.close()
        finally:
            await asyncio.to_thread(server.stop)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


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


# The whole stack ------------------------------------------------------------------------------------------


def test_make_run_stops_when_servers_it_did_not_start_hold_its_ports(tmp_path: Path) -> None:
    """After an unclean stop, `make run` used whatever still listened on its ports; now it names them and stops."""
    listeners = []
    for _ in range(2):
        listener = socket.socket()
        listener.bind(("127.0.0.1", free_port()))
        listener.listen()
        listeners.append(listener)
    smtp_port, kolada_port = (listener.getsockname()[1] for listener in listeners)
    env = {
        **os.environ,
        "LEDA_DATA_DIR": str(tmp_path / "data"),
        "LEDA_POSTGRES_PORT": str(free_port()),
        "LEDA_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "LEDA_TEMPORAL_UI_PORT": str(free_port()),
        "LEDA_SMTP_PORT": str(smtp_port),
        "LEDA_KOLADA_PORT": str(kolada_port),
        "LEDA_API_PORT": str(free_port()),
    }
    env.pop("DATABASE_URL", None)
    env.pop("LEDA_DATABASE_URL", None)
    try:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "leda"), "stack", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        for listener in listeners:
            listener.close()
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()[-1:]
    assert f"SMTP capture on 127.0.0.1:{smtp_port} (process {os.getpid()}, " in line
    assert f"Kolada sample server on 127.0.0.1:{kolada_port} (process {os.getpid()}, " in line
    assert f"kill {os.getpid()}" in line  # what holds the ports is named, so it can be stopped
    assert "PostgreSQL" not in line and "Temporal" not in line  # those ports were free
    assert not (tmp_path / "data" / "postgres").exists() and not (tmp_path / "data" / "temporal.db").exists()
