"""Servers for the whole test session, started once: PostgreSQL, SMTP, a Kolada-format server, Temporal.

Every test gets its own task queue and workflow ids, so tests never depend on each other.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from database import create_pool
from database.roles import ROLES, create_roles_sql, generate_password
from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.stack import search_attribute_types
from devstack.temporal import TemporalDevServer, start_time_skipping_server
from directory import read_participants_csv, upsert_participants
from settings import Settings
from tests.databases import DatabaseUrls, database_of_its_own
from worker import running_worker

SAMPLE_DATA = Path(__file__).parent.parent / "devstack" / "sample_data"
PARTICIPANTS_CSV = SAMPLE_DATA / "synthetic_participants_1861.csv"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, dict[str, str]]]:
    """A server on which tests may create databases, as (its superuser's URL, the passwords of Leda's roles on it):
    DATABASE_URL when set (the roles are created there, with passwords of this session's), else the embedded
    wheel's."""
    configured = os.environ.get("LEDA_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if configured:
        passwords = {role: generate_password() for role in ROLES}

        async def create_roles() -> None:
            admin = await asyncpg.connect(configured)
            try:
                async with admin.transaction():
                    await admin.execute(create_roles_sql(passwords))
            finally:
                await admin.close()

        asyncio.run(create_roles())
        yield configured, passwords
        return
    # Not under pytest's tmp_path: pytest makes its base directory private again at every session start,
    # which would lock the server's unprivileged account out of its data directory.
    parent = Path(tempfile.mkdtemp(prefix="leda-test-postgres-"))
    server = EmbeddedPostgres(parent / "data", free_port(), database="postgres")
    server.start()
    try:
        yield server.admin_dsn, json.loads(server.passwords_file.read_text())
    finally:
        server.stop()
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server_url(postgres_server: tuple[str, dict[str, str]]) -> str:
    """The test server's superuser URL: for tests that create databases of their own."""
    return postgres_server[0]


@pytest_asyncio.fixture(scope="session")
async def database_urls(postgres_server: tuple[str, dict[str, str]]) -> AsyncIterator[DatabaseUrls]:
    """A database of this session's own, owned by the owner role and migrated as it, dropped at the end."""
    async with database_of_its_own(postgres_server, "leda_test") as urls:
        yield urls


@pytest.fixture(scope="session")
def database_url(database_urls: DatabaseUrls) -> str:
    """The session's database as the application connects to it: the runtime role, so that every test that goes
    through the application shows it works with no more privileges than database/privileges.sql grants."""
    return database_urls.runtime


@pytest_asyncio.fixture(scope="session")
async def db_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url)
    for csv in sorted(SAMPLE_DATA.glob("synthetic_participants_*.csv")):
        await upsert_participants(pool, read_participants_csv(csv))
    yield pool
    await pool.close()


@pytest_asyncio.fixture(scope="session")
async def owner_pool(database_urls: DatabaseUrls) -> AsyncIterator[asyncpg.Pool]:
    """The session's database as the schema's owner, for a test's own scaffolding that the application may not do
    (back-dating a row, removing a person behind its back, creating a scratch table); never for what it does."""
    pool = await create_pool(database_urls.owner)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def mail_capture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailCapture]:
    capture = MailCapture(tmp_path_factory.mktemp("mail"), port=free_port())
    capture.start()
    yield capture
    capture.stop()


@pytest.fixture(scope="session")
def kolada_server() -> Iterator[KoladaSampleServer]:
    server = KoladaSampleServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_settings(database_url: str, mail_capture: MailCapture, kolada_server: KoladaSampleServer) -> Settings:
    return Settings(
        database_url=database_url,
        smtp_host=mail_capture.host,
        smtp_port=mail_capture.port,
        kolada_base_url=kolada_server.base_url,
    )


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    """The session's settings with a task queue of this test's own."""
    return base_settings.model_copy(update={"task_queue": f"test-{uuid.uuid4().hex[:10]}"})


@pytest_asyncio.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Java test server, one per test: durable timers of weeks and months pass in milliseconds.

    One server per test because its clock is shared: an activity still in flight for another test's
    workflow holds time skipping for every workflow on that server.
    """
    env = await start_time_skipping_server(search_attribute_types())
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TemporalDevServer]:
    """The real Temporal dev server (SQLite file, visibility, search attributes) for integration and e2e tests."""
    directory = tmp_path_factory.mktemp("temporal")
    server = TemporalDevServer(
        db_file=directory / "temporal.db",
        port=free_port(),
        ui_port=free_port(),
        search_attributes=search_attribute_types(),
    )
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture(scope="session")
async def dev_client(dev_server: TemporalDevServer) -> Client:
    return await Client.connect(dev_server.address, data_converter=pydantic_data_converter)


@asynccontextmanager
async def api_over(client: Client, settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API in-process over `client`'s Temporal, with a worker on the settings' task queue."""
    app = create_app(pool=pool, client=client, task_queue=settings.task_queue)
    async with (
        running_worker(client, settings, pool),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://leda.test") as http,
    ):
        yield http


@pytest_asyncio.fixture
async def dev_api(dev_client: Client, settings: Settings, db_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API in-process over the dev server, with a worker on this test's task queue."""
    async with api_over(dev_client, settings, db_pool) as http:
        yield http


@pytest_asyncio.fixture
async def skipping_api(
    time_skipping_env: WorkflowEnvironment, settings: Settings, db_pool: asyncpg.Pool
) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API in-process over this test's time-skipping server, with a worker on this test's task queue."""
    async with api_over(time_skipping_env.client, settings, db_pool) as http:
        yield http


_exit_status: int | None = None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave with pytest's own exit status once it has reported everything.

    The Temporal SDK's native runtime can abort the interpreter during teardown (sdk-python#300, exit 134),
    which would turn a green run red; nothing is left to do at this point, so skip that teardown.
    """
    if _exit_status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status)
