"""The embedded stack: Temporal dev server, PostgreSQL, an SMTP capture and a Kolada sample server.

Everything runs on this machine from pip-installed binaries, with its state under `settings.data_dir`
(`.leda/` by default), so workflows, events and mail survive a restart.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from database import migrate
from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from devstack.postgres import EmbeddedPostgres
from devstack.temporal import TemporalDevServer
from settings import Settings
from workflows import search_attributes as sa

STACK_FILE = "stack.json"
"""Written while the stack runs, so `leda` commands in another terminal find its database and servers."""


@dataclass(frozen=True)
class RunningStack:
    settings: Settings
    """The settings with the addresses the stack actually serves on; hand these to workers and clients."""
    temporal_ui_url: str
    mail_dir: Path
    database_url: str


def search_attribute_types() -> dict[str, str]:
    return sa.type_names()


@asynccontextmanager
async def embedded_stack(settings: Settings) -> AsyncIterator[RunningStack]:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    running = _running_stack(data_dir / STACK_FILE)
    if running is not None:
        raise StackAlreadyRunning(
            f"the embedded stack in {data_dir} is already running (process {running['pid']}); stop it with "
            "Ctrl-C, or use it: leda commands in another terminal find it"
        )
    async with AsyncExitStack() as stack:
        database_url = settings.database_url
        if database_url is None:
            postgres = EmbeddedPostgres(data_dir / "postgres", settings.postgres_port)
            await asyncio.to_thread(postgres.start)
            stack.callback(postgres.stop)
            database_url = postgres.dsn
        await migrate(database_url)

        mail = MailCapture(data_dir / "mail", settings.smtp_host, settings.smtp_port)
        mail.start()
        stack.callback(mail.stop)

        kolada = KoladaSampleServer(port=settings.kolada_port)
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
            }
        )
        stack_file = data_dir / STACK_FILE
        stack_file.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "database_url": database_url,
                    "temporal_address": temporal.address,
                    "temporal_ui_url": temporal.ui_url,
                    "kolada_base_url": kolada.base_url,
                    "smtp": f"{settings.smtp_host}:{settings.smtp_port}",
                    "mail_dir": str(mail.directory),
                },
                indent=2,
            )
        )
        stack.callback(stack_file.unlink, missing_ok=True)
        yield RunningStack(
            settings=effective, temporal_ui_url=temporal.ui_url, mail_dir=mail.directory, database_url=database_url
        )


def settings_with_running_stack(settings: Settings) -> Settings:
    """Settings for a command run beside `make run`: the stack's addresses, unless set explicitly."""
    stack_file = settings.data_dir / STACK_FILE
    if settings.database_url is not None or not stack_file.exists():
        return settings
    running = _running_stack(stack_file)
    if running is None:
        return settings
    return settings.model_copy(
        update={"database_url": running["database_url"], "temporal_address": running["temporal_address"]}
    )


class StackAlreadyRunning(RuntimeError):
    pass


def _running_stack(stack_file: Path) -> dict[str, object] | None:
    """What a live stack wrote about itself; None if there is none, or it was killed before cleaning up."""
    if not stack_file.exists():
        return None
    running: dict[str, object] = json.loads(stack_file.read_text())
    return running if _process_alive(running.get("pid")) else None


def _process_alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
