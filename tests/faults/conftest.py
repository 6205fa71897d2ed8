"""Fixtures for the fault tests: a database of each test's own, and `leda worker` processes to kill and restart.

A fault test checks the whole event store afterwards (global positions contiguous from 1, hash chains), so it
writes into a database no other test touches.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from fault_stack import WorkerProcess, prepare_database

from tests.databases import database_of_its_own


@pytest_asyncio.fixture
async def own_database_url(postgres_server: tuple[str, dict[str, str]]) -> AsyncIterator[str]:
    """A database with the synthetic participants, for this test alone, migrated as the owner role; the URL is the
    runtime role's, as the workers connect with it. Dropped afterwards."""
    async with database_of_its_own(postgres_server, "leda_fault", migrated=False) as urls:
        await prepare_database(urls.runtime, migration_url=urls.owner)
        yield urls.runtime


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
