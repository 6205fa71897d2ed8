"""The embedded stack: Temporal dev server, PostgreSQL, an SMTP capture and a Kolada sample server.

Everything runs on this machine from pip-installed binaries, with its state under `settings.data_dir`
(`.leda/` by default), so workflows, events and mail survive a restart. As in production, migrations run as the
schema's owner and the application connects as the runtime role (database/roles.py), each with its password.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from database import migrate
from database.urls import reveal
from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from devstack.ports import listening_process, port_is_listening
from devstack.postgres import EmbeddedPostgres
from devstack.stack_file import PLAIN_TEMPORAL, STACK_FILE, running_stack, write_private
from devstack.temporal import TemporalDevServer
from settings import Settings
from workflows import search_attributes as sa

DEMO_KOLADA_PAGE_SIZE = 20
"""Values per page of the embedded Kolada server."""


@dataclass(frozen=True)
class RunningStack:
    settings: Settings
    """The settings with the addresses the stack actually serves on; hand these to workers and clients."""
    temporal_ui_url: str
    mail_dir: Path
    database_url: SecretStr
    """The runtime role's URL, which the application uses; print it with database.redacted."""


def search_attribute_types() -> dict[str, str]:
    return sa.type_names()


def stack_ports(settings: Settings, *, api_port: int | None = None) -> list[tuple[str, str, int]]:
    """What the stack will listen on, as (name, host, port): PostgreSQL only when it is the embedded one."""
    temporal_host, _, temporal_port = settings.temporal_address.rpartition(":")
    ports = [
        ("Temporal dev server", temporal_host or "127.0.0.1", int(temporal_port)),
        ("Temporal web UI", temporal_host or "127.0.0.1", settings.temporal_ui_port),
        ("SMTP capture", settings.smtp_host, settings.smtp_port),
        ("Kolada sample server", "127.0.0.1", settings.kolada_port),
    ]
    if settings.database_url is None:
        ports.insert(0, ("PostgreSQL", "127.0.0.1", settings.postgres_port))
    if api_port is not None:
        ports.append(("Leda API and web pages", settings.api_host, api_port))
    return ports


def refuse_taken_ports(settings: Settings, *, api_port: int | None = None) -> None:
    """Stop before starting anything when a server the stack did not start already listens on one of its ports.

    After an unclean stop (a killed terminal, a crash) servers of the last run may still be listening; so may any
    other program. Using them silently would mean running against a database or a Temporal of unknown state."""
    taken = []
    holders: set[int] = set()
    for name, host, port in stack_ports(settings, api_port=api_port):
        if not port_is_listening(host, port):
            continue
        holder = listening_process(port)
        if holder is not None:
            holders.add(holder[0])
        taken.append(f"{name} on {host}:{port}" + (f" (process {holder[0]}, {holder[1]})" if holder else ""))
    if taken:
        stop = f"stop them (kill {' '.join(map(str, sorted(holders)))})" if holders else "stop them"
        raise PortsInUse(
            "the embedded stack did not start these, yet something already listens on their ports: "
            + "; ".join(taken)
            + f". They may be left from a run that did not stop cleanly, or be other programs: {stop}, or move "
            "the stack with LEDA_POSTGRES_PORT, LEDA_TEMPORAL_ADDRESS, LEDA_TEMPORAL_UI_PORT, LEDA_SMTP_PORT, "
            "LEDA_KOLADA_PORT, LEDA_API_PORT."
        )


@asynccontextmanager
async def embedded_stack(settings: Settings, *, api_port: int | None = None) -> AsyncIterator[RunningStack]:
    """The stack, started for the block and stopped after it; `api_port`, when the caller will serve the API there,
    is checked to be free with the stack's own ports (PortsInUse names any taken) before anything starts."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    running = running_stack(data_dir / STACK_FILE)
    if running is not None:
        raise StackAlreadyRunning(
            f"the embedded stack in {data_dir} is already running (process {running['pid']}); stop it with "
            "Ctrl-C, or use it: leda commands in another terminal find it"
        )
    await asyncio.to_thread(refuse_taken_ports, settings, api_port=api_port)
    async with AsyncExitStack() as stack:
        database_url = settings.database_url
        migration_url = settings.migration_database_url or database_url
        if database_url is None or migration_url is None:
            postgres = EmbeddedPostgres(data_dir / "postgres", settings.postgres_port)
            await asyncio.to_thread(postgres.start)
            stack.callback(postgres.stop)
            database_url = SecretStr(postgres.runtime_dsn)
            migration_url = SecretStr(postgres.owner_dsn)
        await migrate(migration_url)

        mail = MailCapture(data_dir / "mail", settings.smtp_host, settings.smtp_port)
        mail.start()
        stack.callback(mail.stop)

        # Small pages, so the data pack comes over several (a large request to Kolada does too) and `make demo`
        # shows the client following next_url.
        kolada = KoladaSampleServer(port=settings.kolada_port, page_size=DEMO_KOLADA_PAGE_SIZE)
        kolada.start()
        stack.callback(kolada.stop)

        host, _, port = settings.temporal_address.rpartition(":")
        temporal = TemporalDevServer(
            db_file=data_dir / "temporal.db",
            port=int(port),
            ui_port=settings.temporal_ui_port,
            namespace=settings.temporal_namespace,
            search_attributes=search_attribute_types(),
            log_file=data_dir / "temporal.log",
        )
        await temporal.start()
        stack.push_async_callback(temporal.stop)

        effective = settings.model_copy(
            update={
                "database_url": database_url,
                "kolada_base_url": kolada.base_url,
                "temporal_address": temporal.address,
                **PLAIN_TEMPORAL,
            }
        )
        stack_file = data_dir / STACK_FILE
        write_private(
            stack_file,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "database_url": reveal(database_url),
                    "temporal_address": temporal.address,
                    "temporal_ui_url": temporal.ui_url,
                    "kolada_base_url": kolada.base_url,
                    "smtp": f"{settings.smtp_host}:{settings.smtp_port}",
                    "mail_dir": str(mail.directory),
                },
                indent=2,
            ),
        )
        stack.callback(stack_file.unlink, missing_ok=True)
        yield RunningStack(
            settings=effective, temporal_ui_url=temporal.ui_url, mail_dir=mail.directory, database_url=database_url
        )


class StackAlreadyRunning(RuntimeError):
    pass


class PortsInUse(StackAlreadyRunning):
    """Servers the stack did not start listen on its ports; the message names each, with its port."""
