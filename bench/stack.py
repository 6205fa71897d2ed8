"""The servers every benchmark shares, started once per run in a temporary directory and stopped after it.

PostgreSQL from the embedded wheel, the Temporal dev server on free ports, the SMTP capture and the Kolada
sample server: the same pieces as `make demo`, but nothing under `.leda/` and nothing reused from a running
stack, so a benchmark never measures (or disturbs) someone's development data.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter

from database import create_pool, migrate
from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.stack import search_attribute_types
from devstack.temporal import TemporalDevServer
from settings import Settings


@dataclass(frozen=True)
class BenchStack:
    workdir: Path
    server_url: str
    """The PostgreSQL server, for benchmarks that want a database of their own."""
    database_url: str
    """The migrated database the workers and the API use."""
    settings: Settings
    temporal: TemporalDevServer
    mail: MailCapture

    def with_task_queue(self, name: str) -> Settings:
        """The stack's settings with a task queue of the caller's own (`name` plus a random suffix)."""
        return self.settings.model_copy(update={"task_queue": f"{name}-{uuid.uuid4().hex[:8]}"})

    async def client(self, *interceptors: Interceptor) -> Client:
        """A client of the dev server speaking pydantic, as every Leda process does."""
        return await Client.connect(
            self.temporal.address, data_converter=pydantic_data_converter, interceptors=list(interceptors)
        )

    async def pool(self, **sizes: int) -> asyncpg.Pool:
        return await create_pool(self.database_url, **sizes)

    async def new_database(self, name: str) -> str:
        """A migrated database of its own (dropped with the server at the end); returns its URL."""
        admin = await asyncpg.connect(self.server_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = urlunsplit(urlsplit(self.server_url)._replace(path=f"/{name}"))
        await migrate(url)
        return url


@asynccontextmanager
async def bench_stack() -> AsyncIterator[BenchStack]:
    """Start PostgreSQL, the Temporal dev server, SMTP capture and Kolada; stop them and delete their files after."""
    workdir = Path(tempfile.mkdtemp(prefix="leda-bench-"))
    async with AsyncExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        postgres = EmbeddedPostgres(workdir / "postgres", free_port(), database="postgres")
        await asyncio.to_thread(postgres.start)
        stack.callback(postgres.stop)
        # The benchmarks create tables and databases of their own, so they work as the superuser throughout.
        server_url = postgres.admin_dsn
        database_url = urlunsplit(urlsplit(server_url)._replace(path="/leda_bench"))
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute('CREATE DATABASE "leda_bench"')
        finally:
            await admin.close()
        await migrate(database_url)

        mail = MailCapture(workdir / "mail", port=free_port())
        mail.start()
        stack.callback(mail.stop)
        kolada = KoladaSampleServer()
        kolada.start()
        stack.callback(kolada.stop)

        temporal = TemporalDevServer(
            db_file=workdir / "temporal.db",
            port=free_port(),
            ui_port=free_port(),
            search_attributes=search_attribute_types(),
            # Without this the server waits for the disk on every write, and that bounds Leda and the baseline
            # alike at a fraction of what either could do (100 bare workflows of 10 activities: 55 s, 13 s without).
            sqlite_pragmas={"synchronous": "OFF"},
        )
        await temporal.start()
        stack.push_async_callback(temporal.stop)

        settings = Settings(
            data_dir=workdir,
            database_url=database_url,
            temporal_address=temporal.address,
            smtp_host=mail.host,
            smtp_port=mail.port,
            kolada_base_url=kolada.base_url,
            log_level="WARNING",
        )
        yield BenchStack(
            workdir=workdir,
            server_url=server_url,
            database_url=database_url,
            settings=settings,
            temporal=temporal,
            mail=mail,
        )
