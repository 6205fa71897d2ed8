"""Workers in processes of their own: `leda worker` itself, or the bare baseline's worker (`bench.bare`).

Both run the same way, so a ratio compares Leda's work with the baseline's and not two process set-ups; a
process of its own also gives the worker's memory (RSS) and CPU time apart from the benchmark's client side.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from database.urls import reveal
from settings import Settings

_READY_WITHIN = 60.0
_CHECKOUT = Path(__file__).resolve().parent.parent


class WorkerProcess:
    """One worker process polling `task_queue`; `async with` starts it, waits until it polls, and stops it."""

    def __init__(self, command: list[str], env: dict[str, str], task_queue: str, client: Client, log: Path) -> None:
        self._command = command
        # The sandbox loads a workflow's module afresh for every workflow it runs. Without bytecode files that
        # means compiling workflows/municipality.py each time, which is most of starting a pilot. A pip-installed
        # Leda (the image) has them; an editable one under PYTHONDONTWRITEBYTECODE (this machine) would not.
        self._env = {name: value for name, value in env.items() if name != "PYTHONDONTWRITEBYTECODE"}
        self._task_queue = task_queue
        self._client = client
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    @classmethod
    def leda(cls, settings: Settings, client: Client, log: Path) -> WorkerProcess:
        """`leda worker` with the stack's addresses: Leda's own worker, as operations run it."""
        env = {
            **os.environ,
            "LEDA_DATABASE_URL": reveal(settings.database_url or ""),
            "LEDA_TEMPORAL_ADDRESS": settings.temporal_address,
            "LEDA_TASK_QUEUE": settings.task_queue,
            "LEDA_SMTP_HOST": settings.smtp_host,
            "LEDA_SMTP_PORT": str(settings.smtp_port),
            "LEDA_KOLADA_BASE_URL": settings.kolada_base_url,
            "LEDA_LOG_LEVEL": "WARNING",
            "LEDA_DATA_DIR": str(settings.data_dir),
        }
        return cls([str(Path(sys.executable).parent / "leda"), "worker"], env, settings.task_queue, client, log)

    @classmethod
    def bare(cls, settings: Settings, client: Client, log: Path) -> WorkerProcess:
        command = [sys.executable, "-m", "bench.bare", settings.temporal_address, settings.task_queue]
        return cls(command, dict(os.environ), settings.task_queue, client, log)

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def rss(self) -> int:
        """Resident memory of the worker process in bytes."""
        return int(psutil.Process(self.pid).memory_info().rss)

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    async def __aenter__(self) -> WorkerProcess:
        self._log.parent.mkdir(parents=True, exist_ok=True)
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: ASYNC220 (returns at once; the worker starts meanwhile)
                self._command,
                env=self._env,
                # `bench` is not an installed package (the image leaves it out): run from the checkout it is in.
                cwd=_CHECKOUT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            await self._until_polling()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        """SIGINT (the worker drains and exits), then SIGKILL if it is still there after 20 s."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110 (polls the process)
            await asyncio.sleep(0.1)
        if process.poll() is None:
            process.kill()
            await asyncio.to_thread(process.wait)

    async def _until_polling(self) -> None:
        request = DescribeTaskQueueRequest(
            namespace=self._client.namespace,
            task_queue=TaskQueue(name=self._task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        deadline = time.monotonic() + _READY_WITHIN
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"worker {self._command} exited with {self._process.returncode}; see {self._log}")
            response = await self._client.workflow_service.describe_task_queue(request)
            if response.pollers:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"worker {self._command} did not poll {self._task_queue} within {_READY_WITHIN:.0f} s")
