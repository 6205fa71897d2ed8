"""What the benchmarks ran on: the machine and the versions that decide the numbers."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import asyncpg
import psutil

from devstack.temporal import temporal_cli_path


@dataclass(frozen=True)
class Machine:
    date: str
    cpus: int
    cpu_model: str
    ram_gib: float
    os: str
    python: str
    temporalio: str
    temporal_cli: str
    asyncpg: str
    postgresql: str

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("date (UTC)", self.date),
            ("CPUs", f"{self.cpus} × {self.cpu_model}"),
            ("RAM", f"{self.ram_gib:.1f} GiB"),
            ("OS", self.os),
            ("Python", self.python),
            ("temporalio (SDK)", self.temporalio),
            ("Temporal CLI (dev server)", self.temporal_cli),
            ("asyncpg", self.asyncpg),
            ("PostgreSQL", self.postgresql),
        ]


async def describe_machine(database_url: str) -> Machine:
    connection = await asyncpg.connect(database_url)
    try:
        postgresql = str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()
    return Machine(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        cpus=os.cpu_count() or 0,
        cpu_model=_cpu_model(),
        ram_gib=psutil.virtual_memory().total / 2**30,
        os=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        temporalio=version("temporalio"),
        temporal_cli=_temporal_cli_version(),
        asyncpg=version("asyncpg"),
        postgresql=postgresql,
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _temporal_cli_version() -> str:
    try:
        output = subprocess.run(
            [temporal_cli_path(), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return output.strip().removeprefix("temporal version ")
