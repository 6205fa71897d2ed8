"""kill -9 the worker at random moments while several pilots run their whole programme.

Four pilots on the demo template (three implementation years each, so two continue-as-new per pilot) run on
one `leda worker` process that is killed with SIGKILL at random moments, at least 20 times, and started again.
Meanwhile the simulated participants complete tasks and register inspection decisions through the same client
calls the CLI and the API use, retrying whatever goes unanswered while the worker is down. Every pilot must
complete, and the event store must hold exactly the expected events (see `record_audit`).

A kill mid-activity costs that pilot up to the activity's start-to-close timeout (30 s) before Temporal
retries it elsewhere, so this test takes minutes: it runs with `make faults`, not `make test`.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from fault_stack import WorkerProcess, worker_env
from persistent_participants import PersistentParticipants, start_demo_pilots
from record_audit import audit_pilot, audit_store
from temporalio.client import Client, WorkflowExecutionStatus

from database import create_pool
from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from devstack.temporal import TemporalDevServer
from domain.status import PilotStatus
from pilots import PilotRecords

pytestmark = [pytest.mark.faults, pytest.mark.devserver]

KILLS = 20


async def kill_repeatedly(worker: WorkerProcess, rng: random.Random, *, times: int, over: Callable[[], bool]) -> None:
    """Kill the worker at a random moment of each life (starting up, polling, mid-activity), then restart it."""
    while worker.kills < times and not over():
        await asyncio.sleep(rng.uniform(1.0, 6.0))
        await worker.kill()
        await asyncio.sleep(rng.uniform(0.0, 1.5))  # down a moment: Updates and queries go unanswered
        await worker.start()


async def until_played(
    playing: asyncio.Future[list[PilotStatus]], worker: WorkerProcess, client: Client, workflow_ids: list[str]
) -> list[PilotStatus]:
    """The pilots' final statuses; fails at once when a worker meets a nondeterminism error, which would hold its
    pilot for good (the participants would give up only minutes later), or when a pilot's workflow fails (its
    participants would wait for it for ever)."""
    while True:
        done, _ = await asyncio.wait({playing}, timeout=2)
        if done:
            return playing.result()
        if "Nondeterminism" in worker.log_text():
            playing.cancel()
            raise AssertionError("a worker failed a workflow task on nondeterminism:\n" + worker.log_tail())
        for workflow_id in workflow_ids:
            described = await client.get_workflow_handle(workflow_id).describe()
            if described.status in (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TERMINATED):
                playing.cancel()
                history = await client.get_workflow_handle(workflow_id).fetch_history()
                ended = history.events[-1].workflow_execution_failed_event_attributes.failure
                raise AssertionError(f"{workflow_id} ended {described.status.name}: {ended.cause.message or ended}")


async def keep_histories(client: Client, workflow_ids: list[str], directory: Path) -> Path:
    """Every run of every pilot as JSON, to replay what went wrong (`WorkflowHistory.from_json`, `Replayer`)."""
    for workflow_id in workflow_ids:
        run_id: str | None = None
        while True:
            history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
            started = history.events[0].workflow_execution_started_event_attributes
            (directory / f"{workflow_id}-{history.run_id}.json").write_text(history.to_json())
            run_id = started.continued_execution_run_id or None
            if run_id is None:
                break
    return directory


async def test_pilots_complete_with_an_exact_record_while_their_worker_is_killed_again_and_again(
    own_database_url: str,
    dev_server: TemporalDevServer,
    dev_client: Client,
    mail_capture: MailCapture,
    kolada_server: KoladaSampleServer,
    start_worker: Callable[[dict[str, str]], Awaitable[WorkerProcess]],
    fault_seed: int,
    tmp_path: Path,
) -> None:
    rng = random.Random(fault_seed)
    task_queue = f"faults-{uuid.uuid4().hex[:8]}"
    worker = await start_worker(
        worker_env(
            database_url=own_database_url,
            temporal_address=dev_server.address,
            task_queue=task_queue,
            mail_capture=mail_capture,
            kolada_server=kolada_server,
            data_dir=tmp_path,
        )
    )
    pool = await create_pool(own_database_url)
    try:
        started = time.monotonic()
        workflow_ids = await start_demo_pilots(dev_client, pool, task_queue=task_queue, count=4, name="kill")
        # The participants read statuses from the record, as the API does: asked of the workflows, a status read
        # answered by a worker that has just replaced a killed one can leave it on a stale clock (pilots/records.py).
        records = PilotRecords(pool)
        participants = [PersistentParticipants(dev_client, w, records=records) for w in workflow_ids]
        playing = [asyncio.create_task(p.play()) for p in participants]
        killing = asyncio.create_task(
            kill_repeatedly(worker, rng, times=KILLS, over=lambda: all(p.done() for p in playing))
        )
        try:
            played = until_played(asyncio.gather(*playing), worker, dev_client, workflow_ids)
            finals = await asyncio.wait_for(played, timeout=900)
        except BaseException:
            killing.cancel()
            print(f"worker log:\n{worker.log_tail()}")
            print(f"histories of the pilots: {await keep_histories(dev_client, workflow_ids, tmp_path)}")
            raise
        await killing
        await worker.start()
        elapsed = time.monotonic() - started

        assert worker.kills >= KILLS, f"the pilots completed after only {worker.kills} kills"
        events, _ = await audit_store(pool)
        for final, player in zip(finals, participants, strict=True):
            assert final.completed_at is not None
            await audit_pilot(pool, final, completed_by_participants=player.completed, registered=player.registered)
        print(
            f"{len(finals)} pilots completed in {elapsed:.0f} s through {worker.kills} kills; {events} events; "
            f"{sum(p.retries for p in participants)} retried requests, "
            f"{sum(p.refused_as_done for p in participants)} refused as already done"
        )
    finally:
        await pool.close()
