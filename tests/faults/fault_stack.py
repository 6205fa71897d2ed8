"""The parts of the stack that fault tests break: `leda worker` processes to kill -9 and start again, and
databases of a test's own (migrated, with the synthetic participants)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from database import create_pool, migrate
from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from directory import read_participants_csv, upsert_participants

LEDA = str(Path(sys.executable).parent / "leda")
SAMPLE_DATA = Path(__file__).parents[2] / "devstack" / "sample_data"


async def prepare_database(url: str, *, migration_url: str | None = None) -> None:
    """Migrate the database (as `migration_url`, the owner, when given) and import every synthetic participant as
    `url`, the application's role."""
    await migrate(migration_url or url)
    pool = await create_pool(url, max_size=2)
    try:
        for csv in sorted(SAMPLE_DATA.glob("synthetic_participants_*.csv")):
            await upsert_participants(pool, read_participants_csv(csv))
    finally:
        await pool.close()


class WorkerProcess:
    """A `leda worker` process, as production runs it, that a test can kill -9 and start again."""

    def __init__(self, env: dict[str, str], log_file: Path) -> None:
        self._env = env
        self._log_file = log_file
        self._process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def start(self) -> None:
        if self.running:
            return
        with self._log_file.open("ab") as log:
            log.write(f"\n=== start {self.starts + 1}\n".encode())
            self._process = await asyncio.create_subprocess_exec(
                LEDA, "worker", env=self._env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
            )
        self.starts += 1

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to the server; whatever it was doing is cut off."""
        if not self.running:
            return
        assert self._process is not None
        self._process.kill()
        await self._process.wait()
        self.kills += 1

    async def stop(self) -> None:
        if not self.running:
            return
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self._process.wait(), 15)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()

    def exit_code(self) -> int | None:
        """None while it runs (or before it started)."""
        return None if self._process is None else self._process.returncode

    def log_text(self) -> str:
        """Everything every start of this worker logged."""
        try:
            return self._log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self._log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no worker log)"


def worker_env(
    *,
    database_url: str,
    temporal_address: str,
    task_queue: str,
    mail_capture: MailCapture,
    kolada_server: KoladaSampleServer,
    data_dir: Path,
) -> dict[str, str]:
    """The environment of a `leda worker` on this test's database, server and task queue."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "LEDA_TEMPORAL_ADDRESS": temporal_address,
        "LEDA_TASK_QUEUE": task_queue,
        "LEDA_SMTP_HOST": mail_capture.host,
        "LEDA_SMTP_PORT": str(mail_capture.port),
        "LEDA_KOLADA_BASE_URL": kolada_server.base_url,
        "LEDA_DATA_DIR": str(data_dir),
        "LEDA_LOG_LEVEL": "WARNING",
    }
