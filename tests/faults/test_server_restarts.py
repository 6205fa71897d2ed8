"""PostgreSQL and the Temporal server restarted while pilots run: activities wait them out, nothing is lost.

Each test runs three pilots on the demo template (with a plan of two years, so one continue-as-new each) on a
`leda worker` process, with servers of its own that it stops and starts again, twice, at random moments: the
same data directory or SQLite file and the same port, as an operator's restart would. The worker process is
never restarted: it has to ride out the restarts itself.

The participants read the pilots' statuses from the record, as the API does (`pilots.PilotRecords`), retrying
while PostgreSQL is down; nothing here queries a workflow (README: Known limitations). Once the record shows a
pilot ended, its workflow's result, what it returned when it closed, is what the record is audited against.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from fault_stack import WorkerProcess, prepare_database, worker_env
from persistent_participants import UNANSWERED, PersistentParticipants, start_demo_pilots
from record_audit import audit_pilot, audit_store
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from database import create_pool
from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.stack import search_attribute_types
from devstack.temporal import TemporalDevServer
from domain.status import PilotStatus
from pilots import PilotRecords
from projections import InboxProjection

pytestmark = pytest.mark.devserver

RESTARTS = 2
PILOTS = 3
PLAN_YEARS = 2


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server of this test's own, to restart without disturbing the session's."""
    # Not under pytest's tmp_path, for the reason tests/conftest.py gives.
    parent = Path(tempfile.mkdtemp(prefix="leda-fault-postgres-"))
    server = EmbeddedPostgres(parent / "data", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(parent, ignore_errors=True)


@pytest_asyncio.fixture
async def own_temporal(tmp_path: Path) -> AsyncIterator[TemporalDevServer]:
    """A Temporal dev server of this test's own, with its state in a SQLite file, to restart."""
    server = TemporalDevServer(
        db_file=tmp_path / "temporal.db",
        port=free_port(),
        ui_port=free_port(),
        search_attributes=search_attribute_types(),
    )
    await server.start()
    yield server
    await server.stop()


async def play_through_restarts(
    client: Client,
    database_url: str,
    worker: WorkerProcess,
    *,
    name: str,
    task_queue: str,
    restart: Callable[[], Awaitable[None]],
    rng: random.Random,
) -> None:
    """Run the pilots while `restart` is called RESTARTS times at random moments; then check the record."""
    # The participants' pool: its connections are cut when PostgreSQL stops, and asyncpg opens new ones.
    pool = await create_pool(database_url)
    try:
        workflow_ids = await start_demo_pilots(client, pool, task_queue=task_queue, count=PILOTS, name=name)
        records = PilotRecords(pool)
        participants = [PersistentParticipants(client, w, records, plan_years=PLAN_YEARS) for w in workflow_ids]
        started = time.monotonic()
        playing = [asyncio.create_task(p.play()) for p in participants]

        restarted_at: list[float] = []

        async def restarts() -> None:
            for _ in range(RESTARTS):
                await asyncio.sleep(rng.uniform(2.0, 8.0))
                restarted_at.append(round(time.monotonic() - started, 1))
                await restart()

        restarting = asyncio.create_task(restarts())
        try:
            recorded = await asyncio.wait_for(asyncio.gather(*playing), timeout=600)
            await restarting
        except BaseException:
            restarting.cancel()
            for player in playing:  # each holds a pool connection while it reads: the pool closes once they stop
                player.cancel()
            await asyncio.gather(*playing, return_exceptions=True)
            print(f"worker log:\n{worker.log_tail()}")
            raise
        elapsed = time.monotonic() - started
    finally:
        await pool.close()  # the audit opens a new pool, on a server that no longer restarts
    for status in recorded:
        assert status.completed_at is not None, f"{status.workflow_id} ended without completing: {status.withdrawn}"
    finals = [await workflow_result(client, w) for w in workflow_ids]
    assert (worker.starts, worker.running) == (1, True), (
        f"the worker did not ride out the restarts:\n{worker.log_tail()}"
    )
    assert len(restarted_at) == RESTARTS and restarted_at[-1] < elapsed, "a restart came after the pilots completed"

    pool = await create_pool(database_url)
    try:
        events, holes = await audit_store(pool, allow_position_holes=True)
        for final, player in zip(finals, participants, strict=True):
            await audit_pilot(pool, final, completed_by_participants=player.completed, registered=player.registered)
        # The inbox the worker kept current through the restarts is the one a rebuild from the log gives.
        inbox = InboxProjection(pool)
        await inbox.catch_up()
        rows = "SELECT * FROM inbox_tasks ORDER BY stream_id, task_key, participant_id"
        kept = [dict(r) for r in await pool.fetch(rows)]
        await inbox.rebuild()
        assert kept == [dict(r) for r in await pool.fetch(rows)]
    finally:
        await pool.close()
    print(
        f"{PILOTS} pilots completed in {elapsed:.0f} s through {name} restarts at {restarted_at} s; "
        f"{events} events, {holes} global positions unused; {sum(p.retries for p in participants)} retried requests, "
        f"{sum(p.refused_as_done for p in participants)} refused as already done"
    )


async def workflow_result(client: Client, workflow_id: str) -> PilotStatus:
    """The status the pilot's workflow returned when it closed (its last run's result, not a query); asked again
    while the Temporal server does not answer."""
    handle = client.get_workflow_handle(workflow_id, result_type=PilotStatus)
    give_up_at = time.monotonic() + 120
    while True:
        try:
            return await asyncio.wait_for(handle.result(), 30)
        except UNANSWERED:
            if time.monotonic() > give_up_at:
                raise
            await asyncio.sleep(0.5)


async def test_pilots_complete_and_lose_nothing_when_postgresql_restarts_mid_run(
    own_postgres: EmbeddedPostgres,
    dev_server: TemporalDevServer,
    dev_client: Client,
    mail_capture: MailCapture,
    kolada_server: KoladaSampleServer,
    start_worker: Callable[[dict[str, str]], Awaitable[WorkerProcess]],
    fault_seed: int,
    tmp_path: Path,
) -> None:
    await prepare_database(own_postgres.runtime_dsn, migration_url=own_postgres.owner_dsn)
    task_queue = f"faults-{uuid.uuid4().hex[:8]}"
    env = worker_env(
        database_url=own_postgres.runtime_dsn,
        temporal_address=dev_server.address,
        task_queue=task_queue,
        mail_capture=mail_capture,
        kolada_server=kolada_server,
        data_dir=tmp_path,
    )
    worker = await start_worker(env)
    rng = random.Random(fault_seed)

    async def restart_postgres() -> None:
        await asyncio.to_thread(own_postgres.stop)
        await asyncio.sleep(rng.uniform(0.5, 3.0))
        await asyncio.to_thread(own_postgres.start)

    await play_through_restarts(
        dev_client,
        own_postgres.runtime_dsn,
        worker,
        name="postgres",
        task_queue=task_queue,
        restart=restart_postgres,
        rng=rng,
    )


async def test_pilots_continue_and_complete_when_the_temporal_server_restarts_mid_run(
    own_temporal: TemporalDevServer,
    own_database_url: str,
    mail_capture: MailCapture,
    kolada_server: KoladaSampleServer,
    start_worker: Callable[[dict[str, str]], Awaitable[WorkerProcess]],
    fault_seed: int,
    tmp_path: Path,
) -> None:
    task_queue = f"faults-{uuid.uuid4().hex[:8]}"
    env = worker_env(
        database_url=own_database_url,
        temporal_address=own_temporal.address,
        task_queue=task_queue,
        mail_capture=mail_capture,
        kolada_server=kolada_server,
        data_dir=tmp_path,
    )
    worker = await start_worker(env)
    client = await Client.connect(own_temporal.address, data_converter=pydantic_data_converter)
    rng = random.Random(fault_seed)

    async def restart_temporal() -> None:
        await own_temporal.stop()
        await asyncio.sleep(rng.uniform(0.5, 2.0))
        await own_temporal.start()

    await play_through_restarts(
        client, own_database_url, worker, name="temporal", task_queue=task_queue, restart=restart_temporal, rng=rng
    )
