"""Fixtures for the fault tests: a database of each test's own, and `leda worker` processes to kill and restart.

A fault test checks the whole event store afterwards (global positions contiguous from 1, hash chains), so it
writes into a database no other test touches.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio
from fault_stack import WorkerProcess, prepare_database


@pytest_asyncio.fixture
async def own_database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A migrated database with the synthetic participants, for this test alone; dropped afterwards."""
    name = f"leda_fault_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(postgres_server_url)._replace(path=f"/{name}"))
    await prepare_database(url)
    yield url
    admin = await asyncpg.connect(postgres_server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


WorkerFactory = Callable[[dict[str, str]], Awaitable[WorkerProcess]]


@pytest_asyncio.fixture
async def start_worker(tmp_path: Path) -> AsyncIterator[WorkerFactory]:
    """Start `leda worker` processes with a given environment; every one still running is stopped at the end."""
    started: list[WorkerProcess] = []

    async def start(env: dict[str, str]) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started) + 1}.log")
        await worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        await worker.stop()


@pytest.fixture
def fault_seed(request: pytest.FixtureRequest) -> int:
    """The seed of the test's random fault moments: LEDA_FAULT_SEED to replay a run, else a fresh one, reported."""
    seed = int(os.environ.get("LEDA_FAULT_SEED") or uuid.uuid4().int % 1_000_000)
    request.node.user_properties.append(("fault_seed", seed))
    print(f"fault seed {seed} (replay with LEDA_FAULT_SEED={seed})")
    return seed
